"""The report as HTML: a fragment for the review UI and a self-contained page (charts inline)."""

from __future__ import annotations

import base64
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from .aggregate import Report, consent_share
from .charts import png, report_figures

TEMPLATES = Path(__file__).resolve().parent / "templates"
CSS_PATH = TEMPLATES / "report.css"
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def _generated(report: Report) -> str:
    return report.generated_at.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%d-%m-%Y %H:%M")


def chart_pngs(report: Report) -> list[tuple[str, bytes]]:
    return [(key, png(fig)) for key, fig in report_figures(report.tables)]


def fragment(report: Report) -> Markup:
    charts = [(key, base64.b64encode(data).decode()) for key, data in chart_pngs(report)]
    return Markup(_env.get_template("report_body.html").render(
        report=report, charts=charts, consent=consent_share(report), generated=_generated(report)))


def page(report: Report) -> str:
    return _env.get_template("report_page.html").render(
        report=report, body=fragment(report), css=Markup(CSS_PATH.read_text(encoding="utf-8")))
