"""The report as PDF with matplotlib's PdfPages (docs/decisions/0050): no HTML engine, no system
libraries; text pages, tables and the same charts as the HTML."""

from __future__ import annotations

import io
import textwrap
from zoneinfo import ZoneInfo

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from .aggregate import Report, consent_share
from .charts import report_figures
from .suppression import ProtectedTable

A4 = (8.27, 11.69)


def _cover(report: Report) -> Figure:
    fig = Figure(figsize=A4)
    y = 0.94
    generated = report.generated_at.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%d-%m-%Y %H:%M")

    def line(text: str, size: float = 10, weight: str = "normal", gap: float = 0.022) -> None:
        nonlocal y
        for part in textwrap.wrap(text, 95) or [""]:
            fig.text(0.07, y, part, fontsize=size, weight=weight, va="top")
            y -= gap

    line("Buurtsignaal: discriminatie in de woonomgeving", 16, "bold", 0.035)
    line(f"Periode: {report.period.label_nl}   Bereik: {report.scope.label}", 11)
    line(f"Drempel kleine aantallen: {report.threshold}   Gemaakt: {generated}", 9, gap=0.04)
    overview = report.tables["maand"]
    line("Kerncijfers", 12, "bold", 0.03)
    if overview.withheld:
        line(" ".join(overview.notes))
    else:
        line(f"Signalen (zaken): {overview.total}")
        for col, total in zip(overview.cols, overview.col_totals, strict=True):
            line(f"{col.label}: {total}")
        share = consent_share(report)
        if share:
            line(f"Bevestigd met toestemming: {share[0] * 100:.0f}%")
        for ind in report.indicators:
            line(f"{ind.label}: {'x' if ind.value is None else ind.value}")
    y -= 0.02
    line("Toelichting", 12, "bold", 0.03)
    for note in report.notes:
        line("- " + note, 9, gap=0.018)
    return fig


def _table_figure(table: ProtectedTable) -> Figure:
    fig = Figure(figsize=A4)
    fig.text(0.07, 0.95, f"{table.title} ({table.unit})", fontsize=13, weight="bold", va="top")
    if table.withheld:
        fig.text(0.07, 0.91, " ".join(table.notes), fontsize=10, va="top")
        return fig
    wide = len(table.cols) > 1
    header = [table.row_dim, *[textwrap.fill(c.label, 14) for c in table.cols]] + (["totaal"] if wide else [])
    body = [[textwrap.fill(row.label, 34), *["x" if v is None else str(v) for v in table.cells[i]]]
            + ([str(table.row_totals[i])] if wide else []) for i, row in enumerate(table.rows)]
    body.append(["totaal", *[str(v) for v in table.col_totals]] + ([str(table.total)] if wide else []))
    height = min(0.8, 0.03 * (len(body) + 2))
    ax = fig.add_axes((0.07, 0.9 - height, 0.86, height))
    ax.axis("off")
    tab = ax.table(cellText=body, colLabels=header, loc="upper left", cellLoc="right")
    tab.auto_set_font_size(False)
    tab.set_fontsize(8)
    tab.scale(1, 1.4)
    for (row, _), cell in tab.get_celld().items():
        if row == 0:  # wrapped column labels need two lines
            cell.set_height(cell.get_height() * 2)
    y = 0.88 - height
    for note in table.notes:
        for part in textwrap.wrap(note, 100):
            fig.text(0.07, y, part, fontsize=8, va="top", color="#5b6475")
            y -= 0.016
    return fig


def render(report: Report) -> bytes:
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": f"Buurtsignaal rapportage {report.scope.label} "
                                             f"{report.period.label_nl}", "Creator": "Buurtsignaal"}) as pdf:
        pdf.savefig(_cover(report))
        for _, fig in report_figures(report.tables):
            pdf.savefig(fig)
        for table in report.tables.values():
            pdf.savefig(_table_figure(table))
    return buffer.getvalue()
