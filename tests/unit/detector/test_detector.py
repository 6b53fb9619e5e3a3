"""The NoteDetector contract: order, shape, evidence for every flag, thread safety."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from buurtsignaal.domain.signals import Detection, NoteDetector
from buurtsignaal.domain.taxonomy import FORMS, GROUNDS
from services.detector.detection import default_model_dir, load_detector, summary

NOTES = [
    ("a", "vuile makak, rot op naar je eigen land, riep de bovenbuurman weer"),
    ("b", "De Turkse buurvrouw klaagt over geluid van de bovenburen."),
    ("c", "Hakenkruis op de voordeur van fam. Levi gekalkt, politie ingelicht."),
    ("d", "lekkage badkamer, loodgieter komt donderdag"),
    ("e", ""),
    ("f", "buurman dreigt het huis van het homostel in de fik te steken"),
    ("g", "ruzie om de parkeerplek, 'klootzak' en 'idioot' over en weer"),
    ("h", "dochtertje (7) op het schoolplein 'aapje' genoemd en met zand bekogeld"),
]


def test_implements_protocol(detector):
    assert isinstance(detector.model_version, str) and detector.model_version
    _: NoteDetector = detector  # structural check for type checkers


def test_detect_many_keeps_input_order_and_ids(detector):
    out = list(detector.detect_many(NOTES, batch_size=3))
    assert [d.id for d in out] == [i for i, _ in NOTES]


def test_output_shape(detector):
    for d in detector.detect_many(NOTES):
        assert isinstance(d, Detection)
        assert 0.0 <= d.score <= 1.0
        assert set(d.grounds) <= set(GROUNDS) and set(d.forms) <= set(FORMS)
        assert d.severity in (0, 1, 2, 3)
        if not d.flag:
            assert d.grounds == () and d.forms == () and d.severity == 0
        else:
            assert d.grounds and d.forms and d.severity >= 1
        assert Detection.from_dict(d.to_dict()) == Detection.from_dict(d.to_dict())


def test_every_flag_has_supporting_evidence(detector):
    texts = [t for _, t in NOTES] + [
        "weer uitgescholden", "racisme", "zwarte piet", "banden lek", "hij is homo",
        "kk turk", "ga dood", "petitie", "jullie horen hier niet", "mes",
    ]
    for d in detector.detect_many((str(i), t) for i, t in enumerate(texts)):
        if d.flag:
            assert d.evidence, d
            assert any("niet meegeteld" not in e.explanation
                       and not e.explanation.startswith("Context")
                       and "op zich geen signaal" not in e.explanation for e in d.evidence), d


def test_evidence_spans_point_into_the_text(detector):
    texts = dict(NOTES)
    for d in detector.detect_many(NOTES):
        for e in d.evidence:
            assert texts[d.id][e.start:e.end] == e.text
            assert e.recognizer and "/" in e.recognizer and e.explanation


def test_clear_cases(detector):
    by_id = {d.id: d for d in detector.detect_many(NOTES)}
    assert by_id["a"].flag and "herkomst" in by_id["a"].grounds
    assert "uitsluiting" in by_id["a"].forms
    assert by_id["c"].flag and "bekladding" in by_id["c"].forms
    assert by_id["f"].flag and by_id["f"].severity == 3
    assert by_id["h"].flag and by_id["h"].severity == 3 and "huidskleur" in by_id["h"].grounds
    for quiet in "bdeg":
        assert not by_id[quiet].flag, by_id[quiet]


def test_explanations_are_dutch(detector):
    d = detector.detect("x", "vuile makak riep hij, en hij dreigde met een mes")
    text = summary(d)
    assert text.startswith("Mogelijk discriminatie")
    assert "Scheldwoord gericht op herkomst: 'makak'" in text
    assert "Bedreiging" in text


def test_thread_safe_reads(detector):
    texts = [(str(i), t) for i, (_, t) in enumerate(NOTES * 20)]
    expected = [d.to_dict() for d in detector.detect_many(texts)]

    def run(_: int):
        return [d.to_dict() for d in detector.detect_many(texts, batch_size=7)]

    with ThreadPoolExecutor(4) as pool:
        for result in pool.map(run, range(8)):
            assert result == expected


def test_threshold_override_changes_flags(detector):
    strict = load_detector(threshold=0.99)
    d = strict.detect("b", "hij werd uitgescholden, racistisch volgens mevr.")
    assert d.flag is False or d.score >= 0.99


def test_default_model_dir_is_independent_of_cwd(monkeypatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    assert default_model_dir().is_absolute()
    assert default_model_dir().parts[-3:] == ("models", "detector", "current")


def test_per_form_threshold_overrides_the_common_one(detector):
    note = "bewoner riep 'vuile makak' en trapte de deur in, dreigde met een mes"
    base = detector.detect("x", note)
    assert base.flag
    saved = dict(detector.form_thresholds)
    try:
        # A threshold above 1 switches the form heads off: only forms with a span remain.
        detector.form_thresholds = {f: 1.01 for f in ("verbaal", "bedreiging", "geweld",
                                                      "vernieling", "bekladding", "uitsluiting",
                                                      "pesterij", "overig")}
        off = detector.detect("x", note)
    finally:
        detector.form_thresholds = saved
    assert off.flag == base.flag
    assert set(off.forms) <= set(base.forms)


def test_notes_without_a_hostile_span_skip_the_classifier_but_keep_their_score_low(detector):
    notes = [("a", "lekkage badkamer, loodgieter ingepland voor dinsdag"),
             ("b", "buurman riep 'vuile makak' tegen bewoner en dreigde met een mes")]
    quiet, loud = detector.detect_many(notes)
    assert not quiet.flag and quiet.score < detector.threshold
    assert loud.flag
