"""The report as CSV in the documented layout of docs/reports.md (one row per published number)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from .aggregate import Report
from .period import month_code
from .suppression import Category, ProtectedTable

COLUMNS = ("periode", "periode_van", "periode_tot", "bereik", "drempel", "tabel", "eenheid",
           "rij_dimensie", "rij", "rij_label", "kolom_dimensie", "kolom", "kolom_label", "waarde",
           "status")
TOTAL = Category(("totaal",), "totaal")


def _status(value: int | float | None, *categories: Category) -> str:
    if value is None:
        return "onderdrukt"
    return "samengevoegd" if any(c.merged for c in categories) else "gepubliceerd"


def _table_rows(t: ProtectedTable) -> Iterator[tuple[Category, Category, int | None]]:
    for i, row in enumerate(t.rows):
        for j, col in enumerate(t.cols):
            yield row, col, t.cells[i][j]
        if len(t.cols) > 1:
            yield row, TOTAL, t.row_totals[i]
    for j, col in enumerate(t.cols):
        yield TOTAL, col, t.col_totals[j]
    if len(t.cols) > 1:
        yield TOTAL, TOTAL, t.total


def rows(report: Report) -> Iterator[list[str]]:
    head = [report.period.code, month_code(report.period.first), month_code(report.period.last),
            report.scope.code, str(report.threshold)]
    for t in report.tables.values():
        if t.withheld:
            yield [*head, t.key, t.unit, t.row_dim, "", "", t.col_dim, "", "", "", "niet_gepubliceerd"]
            continue
        for row, col, value in _table_rows(t):
            yield [*head, t.key, t.unit, t.row_dim, row.code, row.label, t.col_dim, col.code, col.label,
                   "" if value is None else str(value), _status(value, row, col)]
    for ind in report.indicators:
        yield [*head, "indicator", ind.unit, "indicator", ind.key, ind.label, "", "", "",
               "" if ind.value is None else f"{ind.value:.1f}", _status(ind.value)]


def render(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows(report))
    return buffer.getvalue()
