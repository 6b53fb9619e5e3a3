"""Training helpers that decide the shipped behaviour (no model fitting here: keep tests fast)."""

from services.detector.detection.training import TARGET_RECALL, _choose_threshold


def test_threshold_favours_recall_among_near_equal_f1():
    gold = [True] * 10 + [False] * 10
    # Positives score 0.3..0.9, one negative scores 0.35: any threshold <= 0.3 keeps full recall.
    scored = [(0.3 + 0.06 * i, True) for i in range(10)] + [(0.35, True)] + [(0.01, True)] * 9
    t, m = _choose_threshold(gold, scored)
    assert m["recall"] >= TARGET_RECALL
    assert t <= 0.3


def test_threshold_without_evidence_never_flags():
    gold = [True, False]
    scored = [(0.9, False), (0.1, True)]
    _, m = _choose_threshold(gold, scored)
    assert m["tp"] == 0


def test_rule_floor_keeps_clear_evidence(detector):
    # A short note unlike the training notes: the classifier may score it low, the recognizers
    # (slur + threat) do not, and the rule floor keeps it flagged.
    det = detector.detect("x", "riep 'vuile makak' en dreigde met een mes")
    assert det.flag and det.severity == 3


def test_per_form_threshold_only_for_a_clear_gain():
    from services.detector.detection.training import per_form_thresholds

    per_t = {
        0.5: {"pesterij": {"f1": 0.70}, "vernieling": {"f1": 0.80}, "verbaal": {"f1": 0.82}},
        0.9: {"pesterij": {"f1": 0.40}, "vernieling": {"f1": 0.86}, "verbaal": {"f1": 0.83}},
        1.01: {"pesterij": {"f1": 0.30}, "vernieling": {"f1": 0.86}, "verbaal": {"f1": 0.81}},
    }
    # vernieling gains 0.06 (tie between 0.9 and 1.01: the higher one); verbaal's 0.01 is noise.
    assert per_form_thresholds(per_t, 0.5) == {"vernieling": 1.01}
