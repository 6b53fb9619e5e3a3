"""All classifier heads for a batch of notes, without building the hashed feature matrix.

`features.build_matrix` times `model.HeadMatrix` is the reference (training fits on that
matrix): per note an L2-normalised block of character 3-5-gram counts, an L2-normalised block of
word uni/bigram counts and the named features, times each head's weights. Building a sparse
matrix with 524k columns per batch and multiplying it with 25 sparse weight columns cost more
than the rest of `detect` together, so the same numbers are computed from caches here:

* the weights of all heads are one small dense matrix over the hashed columns any head uses
  (a few 10k of the 524k), plus one for the named features;
* per distinct token form: its character n-grams and their weights summed per head, so that a
  note's character-block dot product is a sum over its tokens;
* the L2 norms need each note's n-gram counts (an n-gram in two tokens counts twice): one numpy
  sort over the whole batch gives them.

Same formula, other summation order: probabilities agree with the reference to about 1e-15
(tests/unit/detector/test_scoring.py; bench/check_identical.py for whole outputs).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import scipy.sparse as sp

from .analysis import NoteAnalysis
from .features import (
    _PUNCT,
    DENSE_SCALE,
    N_HASH,
    _bigram,
    _char_grams,
    _word,
    dense_layout,
    dense_values,
)
from .model import LinearHead

# Per-token caches are cleared when they reach this size (long-running service).
MAX_CACHED_FORMS = 300_000
_HASH_BITS = 18
assert 1 << _HASH_BITS == N_HASH


class _Computed(dict):  # type: ignore[type-arg]
    """A dict that computes missing values, so look-ups can run inside `map` (C speed)."""

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self._compute(key)
        return value


def _lemma_column(lemma: str) -> int:
    """Hashed word column of a lemma, or -1 for a punctuation-only lemma (not a word feature)."""
    return -1 if _PUNCT.match(lemma) else _word(lemma)


def _incidence(columns: Sequence[int] | np.ndarray, lengths: np.ndarray,
               width: int) -> sp.csr_matrix:
    """Rows of ones at `columns` (row i has lengths[i] of them); duplicates add up when
    multiplied, which is what a count needs."""
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    cols = np.asarray(columns, dtype=np.int64)
    return sp.csr_matrix((np.ones(len(cols)), cols, indptr), shape=(len(lengths), width))


def _squared_norms(ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Per note, the sum of squared counts of its hashed ids (the squared L2 norm of its
    count vector): one sort over the batch instead of a sparse matrix per note."""
    n = len(lengths)
    if not len(ids):
        return np.zeros(n)
    # 32-bit keys sort about twice as fast; a batch of up to 16k notes fits.
    dtype = np.uint32 if n <= 1 << (32 - _HASH_BITS) else np.uint64
    note = np.repeat(np.arange(n, dtype=dtype), lengths)
    keys = np.sort((note << dtype(_HASH_BITS)) | ids.astype(dtype))
    first = np.empty(len(keys), dtype=bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(keys))).astype(np.float64)
    return np.bincount((keys[starts] >> dtype(_HASH_BITS)).astype(np.int64),
                       weights=counts * counts, minlength=n)


def _ints(values: list[int]) -> np.ndarray:
    return np.fromiter(values, dtype=np.int64, count=len(values))  # faster than np.array


def _row_sums_of_squares(m: sp.csr_matrix) -> np.ndarray:
    data = m.data
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    return np.bincount(rows, weights=data * data, minlength=m.shape[0])


def _bigram_column(pair: tuple[str, str]) -> int:
    return _bigram(*pair)


def _normalised(numerators: np.ndarray, squared_norms: np.ndarray) -> np.ndarray:
    """numerators / L2 norm per row; rows without features stay 0 (as sklearn's normalize)."""
    norms = np.sqrt(squared_norms)
    norms[norms == 0.0] = 1.0
    return numerators / norms[:, None]


class BatchScorer:
    """Calibrated probabilities of every head (`names`, in the model's order) for a batch."""

    def __init__(self, heads: dict[str, LinearHead], dense_names: Sequence[str]) -> None:
        self.names = list(heads)
        hs = list(heads.values())
        dense_index = {n: j for j, n in enumerate(dense_names)}
        used = np.unique(np.concatenate([np.zeros(0, np.int64)]
                                        + [h.hashed_idx.astype(np.int64) for h in hs]))
        # Hashed column -> row of the compact weight matrix. Columns no head uses point to an
        # extra zero row, so a gather needs no branch.
        self._colmap = np.full(2 * N_HASH, len(used), dtype=np.int64)
        self._colmap[used] = np.arange(len(used))
        self._w = np.zeros((len(used) + 1, len(hs)))
        self._w_dense = np.zeros((len(dense_names), len(hs)))
        for c, h in enumerate(hs):
            self._w[self._colmap[h.hashed_idx.astype(np.int64)], c] = h.hashed_val
            for k, v in h.dense.items():
                if k in dense_index:
                    self._w_dense[dense_index[k], c] = v
        self._w_dense *= DENSE_SCALE
        self._b = np.array([h.intercept for h in hs])
        self._a = np.array([h.calib_a for h in hs])
        self._c = np.array([h.calib_b for h in hs])
        self._layout = dense_layout(dense_names)
        self._n_dense = len(dense_names)
        self._lock = threading.Lock()
        self._reset_caches()

    def _reset_caches(self) -> None:
        # Token forms seen by the classifier, in order of first sight: row r of these arrays.
        self._tok_row = _Computed(self._add_token)  # token form -> r
        self._tok_w = np.zeros((4096, len(self.names)))  # its n-gram weights summed per head
        # Its n-gram counts, as the rows of a CSR matrix (filled in place, grown by doubling).
        self._t_indptr = np.zeros(4097, dtype=np.int64)
        self._t_indices = np.zeros(4096 * 16, dtype=np.int32)
        self._t_data = np.zeros(4096 * 16)
        self._n_forms = 0
        self._lemma_col = _Computed(_lemma_column)
        self._bigram_col = _Computed(_bigram_column)

    def _add_token(self, token: str) -> int:
        row = self._n_forms
        grams = np.array(_char_grams(token), dtype=np.int64)
        ids, counts = np.unique(grams, return_counts=True)
        if row == len(self._tok_w):
            self._tok_w = np.concatenate([self._tok_w, np.zeros_like(self._tok_w)])
            self._t_indptr = np.concatenate([self._t_indptr, np.zeros(row, dtype=np.int64)])
        start = self._t_indptr[row]
        end = start + len(ids)
        if end > len(self._t_indices):
            self._t_indices = np.concatenate([self._t_indices, np.zeros_like(self._t_indices)])
            self._t_data = np.concatenate([self._t_data, np.zeros_like(self._t_data)])
        self._t_indices[start:end] = ids
        self._t_data[start:end] = counts
        self._t_indptr[row + 1] = end
        if len(grams):
            self._tok_w[row] = self._w[self._colmap[grams]].sum(axis=0)
        self._n_forms = row + 1
        return row

    def probabilities(self, analyses: Sequence[NoteAnalysis]) -> np.ndarray:
        """(n_notes, len(names)) calibrated probabilities, the same as
        HeadMatrix over build_matrix (see the module docstring)."""
        n = len(analyses)
        if n == 0 or not self.names:
            return np.zeros((n, len(self.names)))
        with self._lock:
            if max(self._n_forms, len(self._lemma_col),
                   len(self._bigram_col)) > MAX_CACHED_FORMS:
                self._reset_caches()
            z = self._logits(analyses)
        return 1.0 / (1.0 + np.exp(-(self._a * z + self._c)))

    def _logits(self, analyses: Sequence[NoteAnalysis]) -> np.ndarray:
        n = len(analyses)
        tok_row, lemma_col, bigram_col = self._tok_row, self._lemma_col, self._bigram_col
        rows: list[int] = []
        n_rows = np.zeros(n, dtype=np.int64)
        words: list[int] = []
        n_words = np.zeros(n, dtype=np.int64)
        layout = self._layout
        cells: list[tuple[int, int, float]] = []  # (note, column, value) of named features
        for i, a in enumerate(analyses):
            before = len(rows)
            rows.extend(map(tok_row.__getitem__, a.classifier_norms()))
            n_rows[i] = len(rows) - before
            lemmas = a.classifier_lemmas()
            cols = list(map(lemma_col.__getitem__, lemmas))
            if -1 in cols:  # punctuation-only lemmas are no word features
                lemmas = [t for t, c in zip(lemmas, cols, strict=True) if c >= 0]
                cols = [c for c in cols if c >= 0]
            before = len(words)
            words.extend(cols)
            words.extend(map(bigram_col.__getitem__, pairwise(lemmas)))
            n_words[i] = len(words) - before
            cells.extend([(i, col, value) for col, value in dense_values(a, layout).items()])
        # Named features as a sparse matrix: a dense product would go through BLAS, whose
        # threads spin on a shared 2-core machine for a product this small.
        r, c, v = zip(*cells, strict=True) if cells else ((), (), ())
        dense = sp.csr_matrix((np.array(v, dtype=np.float64), (np.array(r, dtype=np.int64),
                                                                np.array(c, dtype=np.int64))),
                              shape=(n, self._n_dense))
        z = dense @ self._w_dense + self._b
        # Character block. Dot products: the sum of the note's tokens' cached weight sums.
        # Norms: the note's n-gram counts are its tokens' counts added up, which a sparse
        # product does in one linear pass (an n-gram shared by two tokens counts twice).
        m = self._n_forms
        tokens = _incidence(_ints(rows), n_rows, m)
        gram_counts = tokens @ sp.csr_matrix(
            (self._t_data[:self._t_indptr[m]], self._t_indices[:self._t_indptr[m]],
             self._t_indptr[:m + 1]), shape=(m, N_HASH))
        z += _normalised(tokens @ self._tok_w[:m], _row_sums_of_squares(gram_counts))
        # Word block: unigrams and bigrams share one hashed block, as in build_matrix.
        word_ids = _ints(words)
        word_rows = self._colmap[N_HASH + word_ids]
        z += _normalised(_incidence(word_rows, n_words, len(self._w)) @ self._w,
                         _squared_norms(word_ids, n_words))
        return z
