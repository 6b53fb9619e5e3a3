"""Scenario evaluation: precision, recall and time to escalation, from backtest results."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from services.detector.early_warning.backtest import BacktestResult, InvalidNote
from services.detector.early_warning.engine import Emission
from services.detector.early_warning.evaluation import evaluate, expectations
from services.detector.early_warning.observation import parse_time


def note(scenario: str, n: int, day: int, **extra: Any) -> dict[str, Any]:
    return {"id": f"{scenario}-{n}", "subject_key": scenario, "scenario": scenario,
            "occurred_at": f"2026-01-{day:02d}T10:00:00+00:00", "text": "x", **extra}


def escalation(scenario: str, day: int) -> Emission:
    return Emission("0" * 32, "household", scenario, "", "escalate", None, "reeks", (),
                    parse_time(f"2026-01-{day:02d}T10:00:00+00:00"), 0.0, "")


def test_precision_recall_and_time_to_escalation() -> None:
    notes = [
        note("s1", 1, 1, expect="escalate", escalate_by=3), note("s1", 2, 5), note("s1", 3, 11),
        note("s2", 1, 1, expect="escalate", escalate_by=2), note("s2", 2, 2, incident=False),
        note("s2", 3, 4), note("s2", 4, 9),
        note("s3", 1, 1, expect="escalate"), note("s3", 2, 2),
        note("n1", 1, 1, expect="none"), note("n1", 2, 3),
        note("n2", 1, 1, expect="none"),
    ]
    emissions = [escalation("s1", 11), escalation("s2", 9), escalation("n1", 3)]
    ev = evaluate(BacktestResult(emissions, notes, {}, Counter()))
    d = ev.as_dict()
    assert (d["scenarios"], d["should_escalate"], d["should_not"]) == (5, 3, 2)
    assert d["precision"] == pytest.approx(2 / 3, abs=1e-3) and d["recall"] == pytest.approx(2 / 3, abs=1e-3)
    assert d["false_escalation_rate"] == 0.5
    assert d["missed"] == ["s3"] and d["false_escalations"] == ["n1"]
    # s2 escalated at its 4th note but 3rd incident (the 2nd note was a mediation talk): late.
    assert d["late"] == ["s2"]
    assert d["median_notes_to_escalation"] == 3.5 and d["median_incidents_to_escalation"] == 3.0
    assert d["median_days_to_escalation"] == 9.0


def test_expectations_must_be_consistent() -> None:
    with pytest.raises(InvalidNote, match="'expect' verschilt"):
        expectations([note("s", 1, 1, expect="none"), note("s", 2, 2, expect="escalate")])
    with pytest.raises(InvalidNote, match="'expect' moet"):
        expectations([note("s", 1, 1)])
    with pytest.raises(InvalidNote, match="'scenario' ontbreekt"):
        expectations([{"id": "x", "subject_key": "k"}])
    with pytest.raises(InvalidNote, match="escalate_by"):
        expectations([note("s", 1, 1, expect="escalate", escalate_by=0)])
