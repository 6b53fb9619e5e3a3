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


# ---------------------------------------------------------------- 1.3: out-of-writer tuning
def _example(i: int, text: str, flag: bool = False):
    from services.detector.detection.corpus import Example

    return Example(id=f"x-{i}", text=text, flag=flag, grounds=(), forms=(), severity=0, kind="")


def test_ground_threshold_ties_go_to_the_highest():
    from services.detector.detection.training import ground_threshold_choice

    f1 = {0.5: 0.870, 0.7: 0.874, 0.9: 0.874, 1.01: 0.80}
    assert ground_threshold_choice(f1, tie=0.0) == 0.9
    assert ground_threshold_choice(f1, tie=0.01) == 0.9
    assert ground_threshold_choice({0.5: 0.9, 0.9: 0.85}, tie=0.0) == 0.5


def test_only_corpus_files_are_writer_groups(tmp_path):
    from services.detector.detection.corpus import CORPUS_DIR
    from services.detector.detection.training import is_writer_file

    assert is_writer_file(CORPUS_DIR / "train-a.jsonl")
    assert not is_writer_file(tmp_path / "reviews-train.jsonl")


def test_reviewed_notes_are_spread_over_the_writer_groups():
    # Reviewed cases are by many caretakers: as one 'writer' they would only be scored by heads
    # that never saw their kind, and tuning could not learn from reviewers' dismissals.
    from services.detector.detection.training import Group, spread

    writers = [Group("a", [_example(0, "a")], ["an-a"]), Group("b", [_example(1, "b")], ["an-b"])]
    texts = [f"schade aan auto nummer {i}" for i in range(40)]
    mixed = Group("reviews", [_example(i, t) for i, t in enumerate(texts)],
                  [f"an-{t}" for t in texts])
    out = spread(writers, [mixed])
    assert [g.examples[0].text for g in out] == ["a", "b"]  # writer notes stay where they were
    assert sum(len(g.examples) for g in out) == 42
    assert all(len(g.examples) > 5 for g in out)  # both groups get reviewed notes
    for g in out:  # examples and analyses stay aligned
        assert all(a == f"an-{e.text}"
                   for e, a in zip(g.examples[1:], g.analyses[1:], strict=True))
    assert len(writers[0].examples) == 1  # the input groups are not modified


def test_decide_with_precomputed_probabilities_matches_the_detector(detector):
    # Tuning scores with precomputed head probabilities; the result must be what the detector
    # itself decides with the same settings.
    from services.detector.detection.training import _tuning_detector, decide_with

    texts = ["buurman riep 'vuile makak' en dreigde met een mes",
             "Lekkage badkamer, loodgieter ingepland",
             "Bewoners spraken buurman aan op zijn grap over 'die buitenlanders'."]
    analyses = detector.analyse(texts)
    names, p = detector.head_probs(analyses)
    probs = [dict(zip(names, row, strict=True)) for row in p.tolist()]
    det = _tuning_detector(detector)
    for attr in ("blend", "rule_margin", "threshold", "ground_threshold", "form_threshold",
                 "form_thresholds", "severity_mode"):
        setattr(det, attr, getattr(detector, attr))
    ours = decide_with(det, [_example(i, t) for i, t in enumerate(texts)], analyses, probs)
    theirs = list(detector.detect_many(enumerate(texts)))
    assert [(d.flag, d.score, d.grounds, d.forms, d.severity) for d in ours] == [
        (d.flag, d.score, d.grounds, d.forms, d.severity) for d in theirs]
