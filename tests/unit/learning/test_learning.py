"""Pure parts of the learning loop: reviewed cases as corpus records, the deterministic split,
the activation history replay, and the bias set."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from services.detector.learning import registry
from services.detector.learning.compare import BIAS_FILE, format_bias
from services.detector.learning.reviews import ReviewedExample, split_of, summary

AT = datetime(2026, 11, 1, tzinfo=UTC)


def example(note_id: str, flag: bool, severity: int = 2,
            forms: tuple[str, ...] = ("verbaal",)) -> ReviewedExample:
    return ReviewedExample(note_id, "Buurman riep [PERSOON-1] na.", flag, ("herkomst",), forms, severity,
                           "detector-1.0.0+abc", AT)


def test_a_confirmed_case_keeps_the_reviewers_labels_a_dismissed_one_is_negative() -> None:
    pos = example("n1", True).corpus_record()
    assert pos["flag"] is True and pos["grounds"] == ["herkomst"] and pos["severity"] == 2
    assert pos["kind"] == "review_bevestigd" and pos["id"] == "review-n1"
    neg = example("n2", False).corpus_record()
    assert neg["flag"] is False and neg["grounds"] == [] and neg["forms"] == [] and neg["severity"] == 0
    # a confirmed case needs a form and a severity of at least 1 in the corpus format
    odd = example("n3", True, severity=0, forms=()).corpus_record()
    assert odd["forms"] == ["overig"] and odd["severity"] == 1


def test_the_split_is_by_text_and_roughly_40_40_20() -> None:
    ids = [f"Notitie {i} over de heg van nr {i % 70}." for i in range(2000)]
    parts = Counter(split_of(i) for i in ids)
    assert split_of("Ruit  ingegooid bij NR 5.") == split_of("ruit ingegooid bij nr 5.")
    assert 0.17 < parts["holdout"] / 2000 < 0.23 and 0.36 < parts["tune"] / 2000 < 0.44
    counts = summary([example(i, n % 3 == 0) for n, i in enumerate(ids[:30])])
    assert sum(v["bevestigd"] + v["afgewezen"] for v in counts["parts"].values()) == 30


def act(i: int, action: str, version: str) -> registry.Activation:
    return registry.Activation(i, AT, "beheerder", action, version, "", "reden")


def test_activation_history_replays_to_the_active_version() -> None:
    assert registry.active_version([], "shipped") == "shipped"
    history = [act(1, "activate", "v2"), act(2, "activate", "v3")]
    assert registry.active_version(history, "shipped") == "v3"
    history.append(act(3, "rollback", "v2"))
    assert registry.stack(history, "shipped") == ["shipped", "v2"]
    history.append(act(4, "rollback", "shipped"))
    assert registry.active_version(history, "shipped") == "shipped"
    history.append(act(5, "rollback", "shipped"))  # nothing left to undo: stays on the default
    assert registry.stack(history, "shipped") == ["shipped"]


def test_version_names_cannot_escape_the_registry() -> None:
    for bad in ("../current", "a/b", "", ".hidden", "x" * 200):
        assert not registry.VERSION_RE.match(bad)
    assert registry.VERSION_RE.match("detector-1.1.0+1a2b3c4d")


def test_the_bias_set_has_at_least_20_neutral_notes_per_group() -> None:
    records = [json.loads(line) for line in BIAS_FILE.read_text(encoding="utf-8").splitlines()]
    groups = Counter(r["group"] for r in records)
    assert len(groups) >= 9 and min(groups.values()) >= 20
    assert all(r["flag"] is False and r["grounds"] == [] for r in records)
    # counterfactual: note n of every group differs only in the identity word
    by_n = Counter(r["id"].rsplit("-", 1)[1] for r in records)
    assert set(by_n.values()) == {len(groups)}
    lines = format_bias("v", {"geen": {"n": 24, "flagged": 0, "fp_rate": 0.0},
                              "pools": {"n": 24, "flagged": 6, "fp_rate": 0.25},
                              "turks": {"n": 24, "flagged": 3, "fp_rate": 0.125}})
    assert lines[-1] == "grootste verschil tussen groepen: 0.125"
