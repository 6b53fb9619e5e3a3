"""Monitoring reports in the review UI (`/rapportage`): ADV staff for their region, coordinators
for their own municipalities, admins for any region. Every view and download is audited.
The numbers are the same as `buurtsignaal report` (buurtsignaal/reporting)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from buurtsignaal.adapters import users
from buurtsignaal.domain.regions import RegionMap
from buurtsignaal.reporting import render_html
from buurtsignaal.reporting.aggregate import Scope, build_report
from buurtsignaal.reporting.cli import render
from buurtsignaal.reporting.period import parse_period
from buurtsignaal.reporting.source import load_facts, municipality_scope, region_scope
from services.notifier.ui import Ui

MEDIA = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf", "html": "text/html; charset=utf-8"}


def current_quarter() -> str:
    now = datetime.now(ZoneInfo("Europe/Amsterdam"))
    return f"{now.year}-Q{(now.month - 1) // 3 + 1}"


def router(ui: Ui) -> APIRouter:
    r = APIRouter()
    regions = RegionMap.load(ui.settings.regions_file)

    def scope_for(user: users.User, region: str) -> Scope | None:
        if user.role == "adv_medewerker" and user.adv_region in regions.regions:
            return region_scope(regions, user.adv_region)
        if user.role == "coordinator" and user.municipalities:
            return municipality_scope(list(user.municipalities))
        if user.role == "beheerder":
            return region_scope(regions, region if region in regions.regions else next(iter(regions.regions)))
        return None

    def build(request: Request, periode: str, regio: str, fmt: str):  # type: ignore[no-untyped-def]
        session = ui.current_session(request)
        if session is None:
            return None, None, ui.to_login(request)
        scope = scope_for(session.user, regio)
        if scope is None:
            return session, None, ui.not_found(request, session)
        try:
            period = parse_period(periode or current_quarter())
        except ValueError as exc:
            return session, None, ui.templates.TemplateResponse(
                request, "reports.html", {"session": session, "error": str(exc), "periode": periode,
                                          "regio": regio, "report_html": None}, status_code=422)
        with ui.pool().connection() as conn, conn.transaction():
            report = build_report(load_facts(conn, period, scope), period, scope,
                                  ui.settings.report_min_cell, datetime.now(UTC))
            users.record_audit(conn, session.user.username,
                               "report_viewed" if fmt == "view" else "report_exported",
                               detail={"period": period.code, "scope": scope.code, "format": fmt})
        return session, report, None

    @r.get("/rapportage", response_class=HTMLResponse)
    def reports_page(request: Request, periode: str = "", regio: str = "") -> Response:
        session, report, early = build(request, periode, regio, "view")
        if early is not None:
            return early
        query = urlencode({"periode": report.period.code.replace("_", ".."), "regio": regio})
        return ui.templates.TemplateResponse(request, "reports.html", {
            "session": session, "report": report, "report_html": render_html.fragment(report),
            "periode": periode or report.period.code, "regio": regio, "query": query,
            "region_choice": session.user.role == "beheerder", "error": ""})

    @r.get("/rapportage/export")
    def reports_export(request: Request, periode: str = "", regio: str = "",
                       formaat: str = "csv") -> Response:
        if formaat not in MEDIA:
            formaat = "csv"
        _, report, early = build(request, periode, regio, formaat)
        if early is not None:
            return early
        name = f"buurtsignaal-rapport-{report.scope.code}-{report.period.code}.{formaat}"
        return Response(render(report, formaat), media_type=MEDIA[formaat],
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @r.get("/rapportage/stijl.css", include_in_schema=False)
    def reports_css() -> Response:
        return Response(render_html.CSS_PATH.read_text(encoding="utf-8"), media_type="text/css")

    return r
