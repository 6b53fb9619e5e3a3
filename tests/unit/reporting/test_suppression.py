"""Small-cell protection: nothing below the threshold is published or derivable from totals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from buurtsignaal.reporting.suppression import ProtectedTable, RawTable, protect


def raw(cells: list[list[int]]) -> RawTable:
    rows = [(f"r{i}", f"rij {i}") for i in range(len(cells))]
    cols = [(f"c{j}", f"kolom {j}") for j in range(len(cells[0]))]
    return RawTable("t", "test", "rij", "kolom", rows, cols, cells)


def true_values(r: RawTable, t: ProtectedTable) -> np.ndarray:
    """The exact (merged) values behind every published or hidden cell."""
    full = np.array(r.cells)
    ri = {code: i for i, (code, _) in enumerate(r.rows)}
    ci = {code: j for j, (code, _) in enumerate(r.cols)}
    return np.array([[full[np.ix_([ri[c] for c in row.codes], [ci[c] for c in col.codes])].sum()
                      for col in t.cols] for row in t.rows])


def attacker_range(t: ProtectedTable, values: np.ndarray, cell: tuple[int, int]) -> tuple[float, float]:
    """What a reader can work out about one hidden cell from everything published: its row and
    column totals, the published cells, and that a hidden cell is at least 1 (zeros are shown)."""
    hidden = [(i, j) for i, row in enumerate(t.cells) for j, v in enumerate(row) if v is None]
    var = {c: n for n, c in enumerate(hidden)}
    a, b = [], []
    for i, row in enumerate(t.cells):
        line = [c for c in hidden if c[0] == i]
        if line:
            a.append([1 if c in line else 0 for c in hidden])
            b.append(t.row_totals[i] - sum(v for v in row if v is not None))
    for j in range(len(t.cols)):
        line = [c for c in hidden if c[1] == j]
        if line:
            a.append([1 if c in line else 0 for c in hidden])
            b.append(t.col_totals[j] - sum(t.cells[i][j] or 0 for i in range(len(t.rows))))
    goal = np.zeros(len(hidden))
    goal[var[cell]] = 1
    lo = linprog(goal, A_eq=a, b_eq=b, bounds=[(1, None)] * len(hidden), method="highs")
    hi = linprog(-goal, A_eq=a, b_eq=b, bounds=[(1, None)] * len(hidden), method="highs")
    assert lo.status == 0 and hi.status == 0, "published numbers must be consistent"
    return lo.fun, -hi.fun


def assert_safe(r: RawTable, t: ProtectedTable, k: int) -> None:
    if t.withheld:
        assert sum(map(sum, r.cells)) < k
        return
    values = true_values(r, t)
    published = [v for row in t.cells for v in row if v is not None]
    published += [*t.row_totals, *t.col_totals, t.total]
    assert all(v == 0 or v >= k for v in published), published
    # published numbers are the true ones
    for i, row in enumerate(t.cells):
        for j, v in enumerate(row):
            assert v is None or v == values[i, j]
    assert t.row_totals == values.sum(axis=1).tolist() and t.col_totals == values.sum(axis=0).tolist()
    if all(v is None for row in t.cells for v in row):
        return  # totals only (zeros hidden too); checked above
    hidden = np.array([[v is None for v in row] for row in t.cells])
    for line_h, line_v in [(hidden[i], values[i]) for i in range(len(t.rows))] + \
                          [(hidden[:, j], values[:, j]) for j in range(len(t.cols))]:
        if line_h.any():  # subtraction from a total reveals no cell and no pooled count below k
            assert line_h.sum() >= 2 and line_v[line_h].sum() >= k
    for cell in zip(*np.nonzero(hidden), strict=True):
        lo, hi = attacker_range(t, values, cell)
        assert lo <= values[cell] <= hi
        assert hi - lo >= 1, f"cell {cell} = {values[cell]} is derivable from the totals"


def test_a_lone_small_cell_gets_a_complement_in_its_row_and_column() -> None:
    r = raw([[10, 2, 8], [7, 9, 12], [6, 11, 5]])
    t = protect(r, 5)
    assert t.cells[0][1] is None  # the 2
    hidden = sum(v is None for row in t.cells for v in row)
    assert hidden >= 4  # a 2x2 rectangle at least: one more in its row, column and the corner
    assert t.total == 70 and t.row_totals == [20, 28, 22]
    assert_safe(r, t, 5)
    assert any("x = niet gepubliceerd" in n for n in t.notes)


def test_small_rows_are_merged_with_a_note() -> None:
    r = raw([[1, 1], [2, 0], [20, 30], [0, 0]])
    t = protect(r, 5)
    labels = [c.label for c in t.rows]
    assert "samengevoegd: rij 0, rij 1, rij 2" in labels  # 4 < 5: the smallest other row joins
    assert "rij 3" in labels  # a zero row stays (zeros are published)
    assert any("samengevoegd" in n for n in t.notes)
    assert_safe(r, t, 5)


def test_a_table_below_the_threshold_is_withheld() -> None:
    t = protect(raw([[1, 2], [0, 1]]), 5)
    assert t.withheld and t.cells == [] and "Niet gepubliceerd" in t.notes[0]


def test_threshold_is_configurable_but_not_below_three() -> None:
    r = raw([[3, 4], [9, 9]])
    assert protect(r, 3).cells[0] == [3, 4]
    assert protect(r, 5).cells[0] == [None, None] or protect(r, 5).rows[0].merged
    with pytest.raises(ValueError):
        protect(r, 2)


def test_the_corner_case_of_a_derivable_rectangle_is_caught_by_the_audit() -> None:
    # Rows and columns each hold two hidden cells summing to >= k, yet the bounds can pin a value:
    # the audit must add complements until no hidden cell is exact.
    r = raw([[4, 1, 30, 0], [1, 4, 0, 30], [30, 0, 4, 1], [0, 30, 1, 4]])
    t = protect(r, 5)
    assert_safe(r, t, 5)


cells = st.integers(min_value=0, max_value=12)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 6).flatmap(lambda n: st.lists(st.lists(cells, min_size=n, max_size=n),
                                                     min_size=1, max_size=7)),
       st.sampled_from([3, 5, 10]))
def test_no_published_or_derivable_cell_is_below_the_threshold(grid: list[list[int]], k: int) -> None:
    r = raw(grid)
    assert_safe(r, protect(r, k), k)
