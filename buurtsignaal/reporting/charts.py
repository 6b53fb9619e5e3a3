"""Charts for reports (matplotlib, Agg backend: no display, no global pyplot state).

Charts are drawn from the protected tables only: a hidden cell is never drawn. The part of a bar
that hidden cells make up (the published total minus the published cells, which is 0 or at least
the threshold) is drawn grey as "niet uitgesplitst".
"""

from __future__ import annotations

import io
import textwrap

from matplotlib.figure import Figure

from .suppression import ProtectedTable

OUTCOME_COLOURS = {"open": "#9bb3d6", "afgewezen": "#c9c9c9", "bevestigd": "#c76a00",
                   "geescaleerd": "#b3261e"}
HIDDEN_COLOUR = "#eeeeee"


def _colour(codes: tuple[str, ...]) -> str:
    return OUTCOME_COLOURS.get(codes[0], "#7a5aa6") if len(codes) == 1 else "#7a5aa6"


def stacked_figure(table: ProtectedTable, *, horizontal: bool, title: str) -> Figure | None:
    """Bars per row category, stacked by outcome; None when the table is withheld or empty."""
    if table.withheld or not table.total:
        return None
    rows = [i for i, t in enumerate(table.row_totals) if t or not horizontal]
    # Merged categories have long labels: wrap them, or they squeeze the bars off the figure.
    labels = [textwrap.shorten(table.rows[i].label, 60, placeholder=" …") for i in rows]
    labels = ["\n".join(textwrap.wrap(label, 26)) for label in labels]
    lines = sum(label.count("\n") + 1 for label in labels)
    height = max(2.6, 0.3 * lines + 0.15 * len(rows) + 1.4) if horizontal else 3.4
    fig = Figure(figsize=(7.5, height), dpi=110)
    ax = fig.add_subplot()
    base = [0.0] * len(rows)
    positions = list(range(len(rows)))
    for j, col in enumerate(table.cols):
        values = [float(table.cells[i][j] or 0) for i in rows]
        draw = ax.barh if horizontal else ax.bar
        draw(positions, values, 0.7, base, label=col.label, color=_colour(col.codes))
        base = [b + v for b, v in zip(base, values, strict=True)]
    rest = [float(table.row_totals[i] or 0) - b for i, b in zip(rows, base, strict=True)]
    if any(r > 0 for r in rest):
        draw = ax.barh if horizontal else ax.bar
        draw(positions, rest, 0.7, base, label="niet uitgesplitst (kleine aantallen)",
             color=HIDDEN_COLOUR, edgecolor="#999999", hatch="//")
    if horizontal:
        ax.set_yticks(positions, labels)
        ax.invert_yaxis()
        ax.set_xlabel(table.unit)
    else:
        ax.set_xticks(positions, labels, rotation=30 if len(rows) > 6 else 0, ha="right"
                      if len(rows) > 6 else "center")
        ax.set_ylabel(table.unit)
    ax.set_title(title, fontsize=11, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    if horizontal:  # beside the bars, never over them
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(fontsize=7, frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


CHARTS = (("maand", False, "Signalen per maand"), ("grond", True, "Gronden (registraties)"),
          ("gemeente", True, "Signalen per gemeente"))


def report_figures(tables: dict[str, ProtectedTable]) -> list[tuple[str, Figure]]:
    out = []
    for key, horizontal, title in CHARTS:
        fig = stacked_figure(tables[key], horizontal=horizontal, title=title)
        if fig is not None:
            out.append((key, fig))
    return out
