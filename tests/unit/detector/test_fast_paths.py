"""The fast paths of `detect` give what the straightforward code gives (decisions 0060-0061).

bench/check_identical.py compares whole outputs on the corpus and 20,000 bench notes; these
tests pin each fast path against its reference on the train and dev notes."""

from __future__ import annotations

import json
import random
import re

import numpy as np
import pytest

from services.detector.cli import auto_workers
from services.detector.detection.corpus import CORPUS_DIR
from services.detector.detection.features import build_matrix
from services.detector.detection.jsonl import detection_json
from services.detector.detection.model import HeadMatrix
from services.detector.detection.normalize import _has_inner_leet
from services.detector.detection.prefilter import candidate_keys, literal_prefixes, token_starts
from services.detector.detection.recognizers import _view
from services.detector.detection.scoring import BatchScorer


@pytest.fixture(scope="module")
def corpus_texts() -> list[str]:
    texts = []
    for name in ("train-a.jsonl", "dev.jsonl"):  # never the held-out test split
        texts += [json.loads(x)["text"] for x in (CORPUS_DIR / name).read_text().splitlines()
                  if x.strip()]
    return texts


@pytest.fixture(scope="module")
def analyses(detector, corpus_texts):
    return detector.analyse(corpus_texts)


def test_batch_scorer_equals_the_feature_matrix(detector, analyses):
    """Cached per-token sums and sparse norms == hashed matrix times head weights."""
    scorer = BatchScorer(detector.model.heads, detector.dense_names)
    got = np.vstack([scorer.probabilities(analyses[k:k + 97])  # batches share the caches
                     for k in range(0, len(analyses), 97)])
    ref = HeadMatrix(detector.model.heads, detector.dense_names)
    x = build_matrix(analyses, detector.dense_names)
    want = np.column_stack([ref.flag_proba(x), ref.label_proba(x)])
    assert scorer.names[0] == "flag" and scorer.names[1:] == ref.names
    assert np.abs(got - want).max() < 1e-12


def _old_prefix_table(rs) -> tuple[dict[str, list[int]], list[int]]:
    table: dict[str, list[int]] = {}
    scanned = []
    for j, pp in enumerate(rs._phrase_patterns):
        prefixes = literal_prefixes(pp.regex.pattern)
        if prefixes is None:
            scanned.append(j)
            continue
        for pre in prefixes:
            table.setdefault(pre, []).append(j)
    return table, scanned


def _old_phrase_spans(rs, old, norms: list[str]) -> list[tuple[int, int, int]]:
    """The phrase matching of detector 1.1.0 (prefix table per token and next token, patterns
    without a derivable start scanned first): the order of its matches is the contract."""
    table, scanned = old
    view, starts = _view(norms)
    spans = [(j, m.start(), m.end()) for j in scanned
             for m in rs._phrase_patterns[j].regex.finditer(view)]
    reached: dict[int, int] = {}
    following = [*norms[1:], ""]
    for i, norm in enumerate(norms):
        found: dict[tuple[int, int], None] = {}
        for offset, rest in token_starts(norm):
            for k in candidate_keys(rest, following[i]):
                for j in table.get(k, ()):
                    found[(offset, j)] = None
        for offset, j in found:
            pos = starts[i] + offset
            if pos < reached.get(j, -1):
                continue
            m = rs._phrase_patterns[j].regex.match(view, pos)
            if m is not None:
                spans.append((j, pos, m.end()))
                reached[j] = m.end()
    return spans


def test_phrase_matches_and_their_order_are_unchanged(detector, analyses):
    rs = detector.recognizers
    old = _old_prefix_table(rs)
    checked = 0
    for a in analyses:
        view, starts = _view(a.norms)
        fast = rs._phrases.spans(view, a.norms, starts,
                                 [rs.token_candidates(n) for n in a.norms])
        assert fast == _old_phrase_spans(rs, old, a.norms), a.text[:60]
        # and every pattern finds what a scan over the whole note finds
        scan = rs._phrases.spans(view, a.norms, starts, None)
        assert sorted(fast) == sorted(scan)
        checked += len(fast)
    assert checked > 500  # the corpus has many phrase matches


def test_optional_parts_give_longer_prefixes():
    assert literal_prefixes(r"\b(?:zijn|haar) (?:huid)?kleur\b", optional=True) == {
        "zijn huidkleur", "zijn kleur", "haar huidkleur", "haar kleur"}
    assert literal_prefixes(r"\b(?:zijn|haar) (?:huid)?kleur\b") == {"zijn ", "haar "}


def test_inner_leet_check_equals_the_regex():
    reference = re.compile(r"[A-Za-z*][0-9!@$€|]+[A-Za-z*]")
    rng = random.Random(4)
    alphabet = "aZ*0 9!@$€|.-é"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
        assert _has_inner_leet(text) == bool(reference.search(text)), text


def test_fast_serialiser_equals_json_dumps(detector, corpus_texts):
    texts = [*corpus_texts, 'quote "x" \\ back\nslash \u2028 tab\t', ""]
    for det in detector.detect_many((f"n{i}", t) for i, t in enumerate(texts)):
        assert detection_json(det) == json.dumps(det.to_dict(), ensure_ascii=False,
                                                 separators=(",", ":"))


def test_workers_default_to_the_cores_for_large_files_only(tmp_path):
    small = tmp_path / "small.jsonl"
    small.write_text('{"id": "1", "text": "lekkage"}\n')
    large = tmp_path / "large.jsonl"
    large.write_text('{"id": "1", "text": "lekkage"}\n' * 40_000)
    assert auto_workers(str(small)) == 1
    assert auto_workers("-") == 1
    assert auto_workers(str(large)) >= 1
