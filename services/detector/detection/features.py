"""Features for the classifier: hashed character and word n-grams plus named recognizer features.

Hashing keeps the model small and the vectoriser stateless (nothing to fit, nothing to ship
but the weights). Recognizer features are named so that a model keeps working when a recognizer
is added: unknown names are ignored at load time, new ones get weight 0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize
from sklearn.utils import murmurhash3_32

from .analysis import NoteAnalysis
from .recognizers import RecognizerSet
from .rules import quoted_at_someone, rule_score

N_HASH = 2**18
# Named features get a larger scale than a single n-gram: one recognizer firing is worth more
# than one character trigram, and L2 regularisation then leaves them their say.
DENSE_SCALE = 1.0

CHAR_NGRAMS = (3, 4, 5)
_PUNCT = re.compile(r"^[^\w]+$")


@lru_cache(maxsize=400_000)
def _char_grams(token: str) -> tuple[int, ...]:
    """Hashed character 3-5-grams of ' token ' (like scikit-learn's char_wb), cached per form."""
    padded = f" {token} "
    return tuple(murmurhash3_32(padded[i:i + n], positive=True) % N_HASH
                 for n in CHAR_NGRAMS for i in range(len(padded) - n + 1))


_GRAMS: dict[str, tuple[int, ...]] = {}


def _cached_grams(token: str) -> tuple[int, ...]:
    if len(_GRAMS) > 400_000:  # bounded in a long-running service
        _GRAMS.clear()
    g = _GRAMS[token] = _char_grams(token)
    return g


@lru_cache(maxsize=400_000)
def _word(token: str) -> int:
    return murmurhash3_32("w " + token, positive=True) % N_HASH


@lru_cache(maxsize=800_000)
def _bigram(a: str, b: str) -> int:
    return murmurhash3_32(f"b {a} {b}", positive=True) % N_HASH


def word_hash_index(token: str) -> int:
    """Column (within the word block) of a single word unigram."""
    return _word(token)


def _block(indices: list[int], lengths: list[int]) -> sp.csr_matrix:
    """Counts per row from one flat list of column indices, L2-normalised per row."""
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    cols = np.array(indices, dtype=np.int64)
    m = sp.csr_matrix((np.ones(len(cols)), cols, indptr), shape=(len(lengths), N_HASH))
    m.sum_duplicates()
    return normalize(m, norm="l2", copy=False)


def dense_feature_names(rs: RecognizerSet) -> list[str]:
    names = ["bias_rule_score", "quote", "ground_x_hostile", "identity_x_strong_act",
             "n_hostile_log", "only_insult", "repetition_x_hostile", "identity_x_quote",
             "n_grounds_mentioned"]
    for r in rs.recognizers:
        names.append(f"r:{r.name}")
        if r.negatable:
            names.append(f"neg:{r.name}")
    kinds = sorted({r.kind for r in rs.recognizers})
    names += [f"kind:{k}" for k in kinds]
    return names


@dataclass(frozen=True, slots=True)
class DenseLayout:
    """Columns of the named features, resolved once per list of names (not per hit)."""

    r: dict[str, int]  # recognizer name -> column of 'r:<name>'
    neg: dict[str, int]  # recognizer name -> column of 'neg:<name>'
    kind: dict[str, int]  # kind -> column of 'kind:<kind>'
    fixed: dict[str, int]  # the interaction features ('quote', 'ground_x_hostile', ...)


@lru_cache(maxsize=16)
def _layout(names: tuple[str, ...]) -> DenseLayout:
    index = {n: i for i, n in enumerate(names)}
    by_prefix: dict[str, dict[str, int]] = {"r": {}, "neg": {}, "kind": {}}
    fixed: dict[str, int] = {}
    for name, col in index.items():
        prefix, sep, rest = name.partition(":")
        if sep and prefix in by_prefix:
            by_prefix[prefix][rest] = col
        else:
            fixed[name] = col
    return DenseLayout(by_prefix["r"], by_prefix["neg"], by_prefix["kind"], fixed)


def dense_layout(dense_names: Sequence[str]) -> DenseLayout:
    return _layout(tuple(dense_names))


# log1p of small counts, computed the same way as before (numpy), looked up instead of called.
_LOG1P = [float(np.log1p(i)) for i in range(64)]


def _log1p(n: int) -> float:
    return _LOG1P[n] if n < 64 else float(np.log1p(n))


def dense_values(a: NoteAnalysis, layout: DenseLayout) -> dict[int, float]:
    """Column -> value of the named features of one note (each column once); names missing
    from the layout are left out (a model trained with other recognizers)."""
    out: dict[int, float] = {}
    r_col, neg_col = layout.r, layout.neg
    kinds: dict[str, int] = {}
    for h in a.hits:
        rec = h.recognizer
        if h.negated_by is None:
            j = r_col.get(rec.name)
            if j is not None:
                out[j] = 1.0
            kinds[rec.kind] = kinds.get(rec.kind, 0) + 1
        else:
            j = neg_col.get(rec.name)
            if j is not None:
                out[j] = 1.0
    for k, n in kinds.items():
        j = layout.kind.get(k)
        if j is not None:
            out[j] = _log1p(n)
    hostile = kinds.get("slur", 0) + kinds.get("act", 0) + kinds.get("exclusion", 0)
    grounded = kinds.get("slur", 0) + kinds.get("identity", 0) + kinds.get("attribution", 0)
    strong_act = any(h.recognizer.kind == "act" and h.recognizer.severity >= 2 for h in a.active)
    fixed = (
        ("bias_rule_score", rule_score(a)),
        ("quote", 1.0 if a.has_quote else 0.0),
        ("ground_x_hostile", 1.0 if hostile and grounded else 0.0),
        ("identity_x_strong_act", 1.0 if strong_act and kinds.get("identity") else 0.0),
        ("n_hostile_log", _log1p(hostile)),
        ("only_insult", 1.0 if kinds.get("insult") and not grounded else 0.0),
        ("repetition_x_hostile", 1.0 if kinds.get("repetition") and hostile else 0.0),
        ("identity_x_quote", 1.0 if kinds.get("identity") and quoted_at_someone(a) else 0.0),
        ("n_grounds_mentioned", float(len({h.recognizer.ground for h in a.active
                                            if h.recognizer.ground}))),
    )
    cols = layout.fixed
    for name, value in fixed:
        j = cols.get(name)
        if j is not None:
            out[j] = value
    return out


def dense_row(a: NoteAnalysis, index: dict[str, int], out: np.ndarray) -> None:
    """Fill one row of named features in place."""
    names = sorted(index, key=index.__getitem__)
    for j, value in dense_values(a, dense_layout(names)).items():
        out[j] = value


def build_matrix(analyses: Sequence[NoteAnalysis], dense_names: Sequence[str]) -> sp.csr_matrix:
    """[char n-grams | word n-grams | named features] as one sparse matrix."""
    layout = dense_layout(dense_names)
    dense = np.zeros((len(analyses), len(dense_names)), dtype=np.float64)
    for i, a in enumerate(analyses):
        for j, value in dense_values(a, layout).items():
            dense[i, j] = value
    char_idx: list[int] = []
    char_len: list[int] = []
    word_idx: list[int] = []
    word_len: list[int] = []
    grams_get = _GRAMS.get  # a plain dict: lru_cache's wrapper costs more than the look-up
    for a in analyses:
        n0 = len(char_idx)
        for t in a.classifier_norms():
            g = grams_get(t)
            char_idx.extend(g if g is not None else _cached_grams(t))
        char_len.append(len(char_idx) - n0)
        lem = [t for t in a.classifier_lemmas() if not _PUNCT.match(t)]
        n0 = len(word_idx)
        word_idx.extend([_word(t) for t in lem])
        word_idx.extend([_bigram(x, y) for x, y in pairwise(lem)])
        word_len.append(len(word_idx) - n0)
    chars = _block(char_idx, char_len)
    words = _block(word_idx, word_len)
    return sp.hstack([chars, words, sp.csr_matrix(dense * DENSE_SCALE)], format="csr")


def n_features(dense_names: Sequence[str]) -> int:
    return 2 * N_HASH + len(dense_names)
