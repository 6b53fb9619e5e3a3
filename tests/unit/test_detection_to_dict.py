"""Detection.to_dict is spelled out for speed (decision 0038): it must say exactly what
dataclasses.asdict says, for every field, so a field added later cannot go missing silently."""

from __future__ import annotations

import json
from dataclasses import asdict, fields

from buurtsignaal.domain.signals import Detection, Evidence


def _reference(d: Detection) -> dict:
    data = asdict(d)
    data["grounds"] = list(d.grounds)
    data["forms"] = list(d.forms)
    data["evidence"] = [asdict(e) for e in d.evidence]
    data["score"] = round(float(d.score), 4)
    return data


def test_to_dict_equals_asdict_with_the_contract_adjustments() -> None:
    d = Detection(id="n1", flag=True, score=0.876543, grounds=("herkomst", "godsdienst"),
                  forms=("verbaal",), severity=2, model_version="1.1.0",
                  evidence=(Evidence(3, 9, "makaak", "slur", "scheldwoord"),
                            Evidence(12, 30, "terug naar je land", "uitsluiting", "uitsluiting")))
    out = d.to_dict()
    assert out == _reference(d)
    assert list(out) == [f.name for f in fields(Detection)]  # same keys, same order
    assert json.dumps(out) == json.dumps(_reference(d))


def test_to_dict_of_an_empty_detection_round_trips() -> None:
    d = Detection(id="n2", flag=False, score=0.1)
    assert d.to_dict() == _reference(d)
    assert Detection.from_dict(d.to_dict()) == Detection(id="n2", flag=False, score=0.1)
