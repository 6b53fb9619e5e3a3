"""Small-cell protection for published count tables (pure; docs/decisions/0051).

A table is a two-way table of counts with its row totals, column totals and grand total. Every
published value must be 0 or at least `k`, also when it is worked out by subtraction from the
totals. Steps:

1. A table whose grand total is below k is withheld entirely.
2. Row and column categories whose total is below k are merged into one category ("samengevoegd:
   ...", with the smallest other category added until the merged total reaches k). Totals are
   therefore always publishable and are never suppressed.
3. Primary suppression: interior cells with 0 < n < k.
4. Complementary suppression: every row and column that holds a suppressed cell must hold at
   least two, and their sum must be at least k (otherwise the total minus the published cells
   gives the hidden cell, or a pooled count below k). The smallest published non-zero cell of
   the line is added until that holds.
5. Audit: a linear program finds, for every suppressed cell, the smallest and largest value that
   fits the published numbers. A cell whose value is pinned down exactly gets another complement
   in one of its lines; if nothing is left to add, all interior cells are withheld.

Zeros are published (no person is behind a zero) and are never used as complements, so a reader
knows every hidden cell is at least 1; the audit assumes that knowledge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog

MIN_THRESHOLD = 3


@dataclass(frozen=True)
class Category:
    """A published category: one code, or several merged codes."""

    codes: tuple[str, ...]
    label: str

    @property
    def merged(self) -> bool:
        return len(self.codes) > 1

    @property
    def code(self) -> str:
        return "+".join(self.codes)


@dataclass(frozen=True)
class RawTable:
    """Exact counts before protection. cells[i][j] counts row category i in column category j."""

    key: str
    title: str
    row_dim: str
    col_dim: str
    rows: Sequence[tuple[str, str]]  # (code, label)
    cols: Sequence[tuple[str, str]]
    cells: Sequence[Sequence[int]]
    unit: str = "zaken"


@dataclass
class ProtectedTable:
    key: str
    title: str
    row_dim: str
    col_dim: str
    unit: str
    rows: list[Category]
    cols: list[Category]
    cells: list[list[int | None]]  # None: suppressed
    row_totals: list[int | None]
    col_totals: list[int | None]
    total: int | None
    threshold: int
    notes: list[str] = field(default_factory=list)

    @property
    def withheld(self) -> bool:
        return self.total is None

    @property
    def suppressed_cells(self) -> int:
        return sum(v is None for row in self.cells for v in row)


def _merge(totals: list[int], k: int) -> list[list[int]]:
    """Groups of indices: small categories (0 < total < k) merged, the rest alone."""
    small = [i for i, t in enumerate(totals) if 0 < t < k]
    if not small:
        return [[i] for i in range(len(totals))]
    group = set(small)
    rest = sorted((totals[i], i) for i in range(len(totals)) if i not in group and totals[i] > 0)
    while sum(totals[i] for i in group) < k and rest:
        group.add(rest.pop(0)[1])
    merged = sorted(group)
    out: list[list[int]] = []
    for i in range(len(totals)):
        if i in group:
            if i == merged[-1]:
                out.append(merged)
        else:
            out.append([i])
    return out


def _category(groups: list[int], labels: Sequence[tuple[str, str]]) -> Category:
    if len(groups) == 1:
        code, label = labels[groups[0]]
        return Category((code,), label)
    return Category(tuple(labels[i][0] for i in groups),
                    "samengevoegd: " + ", ".join(labels[i][1] for i in groups))


def interval(values: np.ndarray, hidden: np.ndarray, cell: tuple[int, int]) -> tuple[float, float]:
    """The range of values the hidden `cell` can take given every published cell and all row,
    column and grand totals (each hidden cell at least 1, because zeros are always published)."""
    idx = {c: n for n, c in enumerate(zip(*np.nonzero(hidden), strict=True))}
    n_rows, n_cols = values.shape
    rows = [[(i, j) for j in range(n_cols) if hidden[i, j]] for i in range(n_rows)]
    cols = [[(i, j) for i in range(n_rows) if hidden[i, j]] for j in range(n_cols)]
    a_eq, b_eq = [], []
    for line in rows + cols:  # each published total fixes the sum of its hidden cells
        if line:
            a = np.zeros(len(idx))
            for c in line:
                a[idx[c]] = 1
            a_eq.append(a)
            b_eq.append(sum(values[c] for c in line))
    bounds = [(1, None)] * len(idx)
    target = np.zeros(len(idx))
    target[idx[cell]] = 1
    low = linprog(target, A_eq=np.array(a_eq), b_eq=b_eq, bounds=bounds, method="highs")
    high = linprog(-target, A_eq=np.array(a_eq), b_eq=b_eq, bounds=bounds, method="highs")
    return float(low.fun), float(-high.fun)


def line_problems(values: np.ndarray, hidden: np.ndarray, k: int) -> list[tuple[str, int]]:
    """Rows ('r', i) and columns ('c', j) with one hidden cell, or hidden cells summing below k."""
    problems = []
    for axis, name in ((0, "r"), (1, "c")):
        for i in range(values.shape[axis]):
            h = hidden[i, :] if axis == 0 else hidden[:, i]
            v = values[i, :] if axis == 0 else values[:, i]
            if h.any() and (h.sum() < 2 or v[h].sum() < k):
                problems.append((name, i))
    return problems


def _complement(values: np.ndarray, hidden: np.ndarray, line: tuple[str, int]) -> bool:
    """Hide the smallest published non-zero cell of a line; prefer cells whose other line
    already hides something (fewer extra cells lost). False when there is none."""
    name, i = line
    cells = [(i, j) for j in range(values.shape[1])] if name == "r" else \
        [(r, i) for r in range(values.shape[0])]
    options = [c for c in cells if not hidden[c] and values[c] > 0]
    if not options:
        return False

    def cost(c: tuple[int, int]) -> tuple[int, int]:
        other = hidden[:, c[1]] if name == "r" else hidden[c[0], :]
        return (int(values[c]), 0 if other.any() else 1)

    hidden[min(options, key=cost)] = True
    return True


def _secondary(values: np.ndarray, hidden: np.ndarray, k: int) -> bool:
    while True:
        problems = line_problems(values, hidden, k)
        if not problems:
            return True
        if not _complement(values, hidden, problems[0]):
            return False


def exposed_cells(values: np.ndarray, hidden: np.ndarray) -> list[tuple[int, int]]:
    """Hidden cells whose value the published numbers pin down exactly."""
    out = []
    for cell in zip(*np.nonzero(hidden), strict=True):
        low, high = interval(values, hidden, cell)
        if high - low < 0.5:
            out.append(cell)
    return out


def protect(raw: RawTable, k: int = 5) -> ProtectedTable:
    if k < MIN_THRESHOLD:
        raise ValueError(f"drempel moet minstens {MIN_THRESHOLD} zijn")
    full = np.array(raw.cells, dtype=np.int64).reshape(len(raw.rows), len(raw.cols))
    total = int(full.sum())
    table = ProtectedTable(raw.key, raw.title, raw.row_dim, raw.col_dim, raw.unit, [], [], [], [],
                           [], total, k)
    if 0 < total < k:
        table.total = None
        table.notes.append(f"Niet gepubliceerd: minder dan {k} {raw.unit} in totaal.")
        return table
    row_groups = _merge(full.sum(axis=1).tolist(), k)
    col_groups = _merge(full.sum(axis=0).tolist(), k)
    values = np.array([[int(full[np.ix_(rg, cg)].sum()) for cg in col_groups] for rg in row_groups],
                      dtype=np.int64)
    table.rows = [_category(g, raw.rows) for g in row_groups]
    table.cols = [_category(g, raw.cols) for g in col_groups]
    if any(c.merged for c in table.rows + table.cols):
        table.notes.append(f"Categorieën met minder dan {k} {raw.unit} zijn samengevoegd.")
    hidden = (values > 0) & (values < k)
    ok = _secondary(values, hidden, k)
    while ok:
        exposed = exposed_cells(values, hidden)
        if not exposed:
            break
        i, j = exposed[0]
        ok = _complement(values, hidden, ("r", i)) or _complement(values, hidden, ("c", j))
        ok = ok and _secondary(values, hidden, k)
    if not ok:
        hidden[:, :] = True  # nothing left to hide: publish the totals only
    table.cells = [[None if hidden[i, j] else int(values[i, j]) for j in range(values.shape[1])]
                   for i in range(values.shape[0])]
    table.row_totals = [int(v) for v in values.sum(axis=1)]
    table.col_totals = [int(v) for v in values.sum(axis=0)]
    if hidden.all() and values.size > 1:
        table.notes.append("Alleen totalen gepubliceerd: de cellen zijn niet te beschermen.")
    elif hidden.any():
        table.notes.append(f"x = niet gepubliceerd (minder dan {k}, of nodig om terugrekenen uit de "
                           "totalen te voorkomen).")
    return table


def hidden_mask(table: ProtectedTable) -> np.ndarray:
    return np.array([[v is None for v in row] for row in table.cells], dtype=bool).reshape(
        len(table.rows), len(table.cols))
