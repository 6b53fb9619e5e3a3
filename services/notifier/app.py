"""Notifier: stores scored notes, opens review cases, and serves the ADV review UI (Dutch).

Entry point: `buurtsignaal serve notifier`.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from buurtsignaal import logs
from buurtsignaal.adapters import alerts_repo, cases_repo, ops_gauges, users
from buurtsignaal.bootstrap import Runtime, runtime
from buurtsignaal.config import Settings
from buurtsignaal.domain import cases as rules
from buurtsignaal.domain import paging
from buurtsignaal.domain.highlight import segments
from buurtsignaal.domain.regions import RegionMap
from buurtsignaal.domain.taxonomy import FORM_LABELS_NL, GROUND_LABELS_NL, SEVERITY_LABELS_NL
from buurtsignaal.privacy.access import AccessDenied, OriginalUnavailable, read_original_text
from buurtsignaal.privacy.crypto import Keyring
from buurtsignaal.service.ops_routes import ops_router
from services.detector.learning.reviews import sample_decision_gauges
from services.notifier import admin_models, reports_ui, review
from services.notifier.alerts_consumer import make_alerts_consumer_loop
from services.notifier.consumer import make_consumer_loop
from services.notifier.scheduler import Scheduler, load_routing
from services.notifier.ui import Ui

log = logs.get(__name__)
HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "bs_session"
LOGIN_CSRF_COOKIE = "bs_login_csrf"

LOCAL_TZ = ZoneInfo("Europe/Amsterdam")
ROLE_LABELS_NL = {"adv_medewerker": "ADV-medewerker", "coordinator": "coördinator gemeente",
                  "beheerder": "beheerder"}
OK_MESSAGES = {
    "status_in_behandeling": "U heeft de zaak in behandeling genomen.",
    "status_bevestigd": "Het signaal is bevestigd.",
    "status_afgewezen": "Het signaal is afgewezen.",
    "status_meer_informatie_nodig": "Gemarkeerd: meer informatie nodig.",
    "escaleren": "De zaak is geëscaleerd naar de gemeente; de coördinator krijgt bericht.",
    "toestemming": "Toestemming vastgelegd.",
    "toestemming_bevestigd": "'Toestemming niet nodig' is bevestigd.",
    "correctie": "Gronden, vormen en ernst zijn gecorrigeerd.",
    "ontvangst": "Ontvangst bevestigd.",
    "afgehandeld": "De escalatie is afgehandeld. De ADV ziet uw terugkoppeling.",
}

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(settings: Settings, *, background: bool = True) -> FastAPI:
    state: dict[str, Any] = {}
    regions = RegionMap.load(settings.regions_file)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    routing = load_routing(settings.routing_file, regions)  # invalid routing: refuse to start
    keyring = Keyring.parse(settings.encryption_keys)
    templates.env.globals.update(
        grounds_nl=GROUND_LABELS_NL, forms_nl=FORM_LABELS_NL, severity_nl=SEVERITY_LABELS_NL,
        regions=regions.regions, status_nl=rules.STATUS_LABELS_NL,
        consent_nl=rules.CONSENT_LABELS_NL, actions_nl=rules.COORDINATOR_ACTIONS,
        open_statuses=rules.OPEN_STATUSES, roles_nl=ROLE_LABELS_NL,
    )
    # Times are stored in UTC and shown as Dutch local time.
    templates.env.filters["nl"] = lambda moment, fmt: moment.astimezone(LOCAL_TZ).strftime(fmt)
    secure_cookies = settings.notifier_url.startswith("https://")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        rt = runtime(settings, "notifier")
        state["rt"] = rt
        if background:
            rt.start_worker("scored-consumer", make_consumer_loop(settings, rt.pool, regions,
                                                                   rt.stop).run)
            rt.start_worker("alerts-consumer", make_alerts_consumer_loop(settings, rt.pool, regions,
                                                                         rt.stop).run)
            rt.start_worker("notification-scheduler",
                            Scheduler(settings, rt.pool, routing, rt.stop).run)
            rt.start_worker("case-gauges", ops_gauges.run_every(
                rt.pool, settings.gauge_sample_seconds, ops_gauges.case_sampler(routing), rt.stop,
                "cases"))
            rt.start_worker("model-gauges", ops_gauges.run_every(
                rt.pool, settings.gauge_sample_seconds, sample_decision_gauges, rt.stop, "models"))
        log.info("notifier_started", port=settings.notifier_port)
        yield
        rt.close()

    app = FastAPI(title="Buurtsignaal", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if secure_cookies:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response

    def pool() -> Any:
        rt: Runtime = state["rt"]
        return rt.pool

    def current_session(request: Request) -> users.Session | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        with pool().connection() as conn:
            return users.get_session(conn, token)

    def to_login(request: Request | None = None) -> RedirectResponse:
        # A cookie without a live session: it expired (or was ended); say so on the login page.
        expired = request is not None and bool(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login?fout=verlopen" if expired else "/login", status_code=303)
        if expired:
            response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, fout: str = "") -> Response:
        token = secrets.token_urlsafe(24)
        response = templates.TemplateResponse(
            request, "login.html", {"csrf": token, "error": fout, "demo": settings.demo_mode}
        )
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=secure_cookies, max_age=1800)
        return response

    @app.post("/login")
    def login(
        request: Request, username: str = Form(...), password: str = Form(...),
        csrf: str = Form(...),
    ) -> Response:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(expected, csrf):
            return HTMLResponse("Ongeldig formulier (CSRF). Laad de pagina opnieuw.", 403)
        with pool().connection() as conn, conn.transaction():
            result = users.check_login(conn, username, password)
            if isinstance(result, str):
                users.record_audit(conn, username, "login_failed", detail={"reason": result})
                message = "geblokkeerd" if result == "locked" else "onjuist"
                return RedirectResponse(f"/login?fout={message}", status_code=303)
            token = users.create_session(conn, result)
            users.record_audit(conn, result.username, "login")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                            secure=secure_cookies, max_age=int(users.SESSION_TTL.total_seconds()))
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form(...)) -> Response:
        session = current_session(request)
        if session and secrets.compare_digest(session.csrf_token, csrf):
            with pool().connection() as conn, conn.transaction():
                users.end_session(conn, request.cookies[SESSION_COOKIE])
                users.record_audit(conn, session.user.username, "logout")
        response = to_login()
        response.delete_cookie(SESSION_COOKIE)
        return response

    def visible_region(user: users.User) -> str | None:
        """The region whose cases this user may see; None = all (admin)."""
        return None if user.role == "beheerder" else (user.adv_region or "-")

    def csrf_ok(session: users.Session, token: str) -> bool:
        return bool(token) and secrets.compare_digest(session.csrf_token, token)

    def forbidden(request: Request, session: users.Session | None) -> Response:
        return templates.TemplateResponse(
            request, "message.html", {"session": session, "title": "Ongeldig formulier",
                                      "message": "Het formulier is verlopen of ongeldig (CSRF). "
                                                 "Laad de pagina opnieuw en probeer het nog eens."},
            status_code=403)

    def not_found(request: Request, session: users.Session) -> Response:
        # Same answer for "does not exist" and "not yours": ids reveal nothing.
        return templates.TemplateResponse(request, "not_found.html", {"session": session},
                                          status_code=404)

    def read_cursor(token: str, scope: str, shape: paging.Shape) -> paging.Cursor | None:
        return paging.decode(token, scope=scope, shape=shape,
                             secret=settings.session_secret) if token else None

    def cursor_links(page: paging.Page, scope: str, base: str, query: str) -> dict[str, str]:
        """'Vorige'/'Volgende' hrefs carrying the filters and an opaque, signed cursor."""
        links: dict[str, str] = {}
        for name, cursor in (("previous", page.previous), ("next", page.next)):
            if cursor is not None:
                param = "voor" if cursor.direction == "before" else "na"
                token = paging.encode(cursor, scope=scope, secret=settings.session_secret)
                links[name] = f"{base}?{urlencode({param: token})}" + (f"&{query}" if query else "")
        return links

    def bad_cursor(request: Request, session: users.Session) -> Response:
        # A tampered, truncated or outdated page link: say so (400), never a server error.
        return templates.TemplateResponse(
            request, "message.html", {"session": session, "title": "Ongeldige paginalink",
                                      "message": "Deze link naar een volgende of vorige pagina is "
                                                 "ongeldig of verouderd. Begin opnieuw bij de "
                                                 "eerste pagina."},
            status_code=400)

    @app.get("/", response_class=HTMLResponse)
    def queue(request: Request, na: str = "", voor: str = "", grond: str = "", status: str = "",
              gemeente: str = "") -> Response:
        session = current_session(request)
        if session is None:
            return to_login(request)
        user = session.user
        shape = (cases_repo.COORDINATOR_KEY_SHAPE if user.role == "coordinator"
                 else cases_repo.QUEUE_KEY_SHAPE)
        scope = "escalaties" if user.role == "coordinator" else "werkvoorraad"
        try:
            if na and voor:
                raise paging.InvalidCursor("two cursors")
            cursor = read_cursor(na, scope, shape) or read_cursor(voor, scope, shape)
        except paging.InvalidCursor:
            return bad_cursor(request, session)
        if cursor is not None and (cursor.direction == "after") != bool(na):
            return bad_cursor(request, session)  # a 'voor' cursor passed as 'na' or vice versa
        if user.role == "coordinator":
            with pool().connection() as conn:
                escalations = cases_repo.coordinator_queue(conn, user.municipalities, cursor)
                area = alerts_repo.area_alerts(conn, list(user.municipalities))
            return templates.TemplateResponse(
                request, "coordinator_queue.html",
                {"session": session, "cases": escalations.rows, "area_alerts": area,
                 "links": cursor_links(escalations, scope, "/", "")})
        queue_filter = cases_repo.QueueFilter(
            region=visible_region(user),
            statuses=(status,) if status in rules.STATUSES else rules.OPEN_STATUSES,
            ground=grond if grond in GROUND_LABELS_NL else None, municipality=gemeente or None)
        with pool().connection() as conn:
            page = cases_repo.review_queue(conn, queue_filter, cursor)
            total = cases_repo.queue_count(conn, queue_filter)
            municipalities = cases_repo.queue_municipalities(conn, visible_region(user))
            patterns = alerts_repo.household_alerts(conn, visible_region(user))
        filters = {"grond": grond, "status": status, "gemeente": gemeente}
        query = urlencode({k: v for k, v in filters.items() if v})
        return templates.TemplateResponse(
            request, "queue.html", {"session": session, "cases": page.rows, "filters": filters,
                                    "municipalities": municipalities, "patterns": patterns,
                                    "total": total, "total_cap": cases_repo.COUNT_CAP,
                                    "first_page": page.previous is None,
                                    "links": cursor_links(page, scope, "/", query),
                                    "query": query})

    def render_case(request: Request, session: users.Session, case_id: int, *, error: str = "",
                    ok: str = "", status_code: int = 200, original: str | None = None) -> Response:
        with pool().connection() as conn, conn.transaction():
            case = cases_repo.get_case(conn, case_id)
            role = review.access(session.user, case)
            users.record_audit(conn, session.user.username,
                               "case_viewed" if role else "case_view_denied", case_id)
            if role is None or case is None:
                return not_found(request, session)
            history = cases_repo.transitions(conn, case_id)
            context: dict[str, Any] = {
                "session": session, "case": case, "role": role, "error": error,
                "ok": OK_MESSAGES.get(ok, ""), "history": history,
            }
            if role != "coordinator":
                context["timeline"] = cases_repo.household_timeline(conn, case["subject_key"])
                context["patterns"] = alerts_repo.alerts_for_subject(conn, case["subject_key"])
                context["labels"] = cases_repo.labels(conn, case_id)
        if role == "coordinator":
            return templates.TemplateResponse(request, "coordinator_case.html", context,
                                              status_code=status_code)
        state = review.state(case)
        context.update(
            segments=segments(case["text"], case["evidence"]),
            next_steps=[to for to, (sources, who) in rules.TRANSITIONS.items()
                        if case["status"] in sources and who == rules.REVIEWER
                        and to != "geescaleerd"],
            escalation_refusal=rules.escalation_refusal(state),
            can_act=role == "reviewer",
            original=original,
            can_confirm_consent=(role == "reviewer" and case["consent"] == "niet_nodig"
                                 and case["consent_confirmed_by"] is None
                                 and case["consent_recorded_by"] != session.user.username),
        )
        return templates.TemplateResponse(request, "case.html", context, status_code=status_code)

    @app.get("/zaken/{case_id}", response_class=HTMLResponse)
    def case_detail(request: Request, case_id: int, ok: str = "") -> Response:
        session = current_session(request)
        if session is None:
            return to_login(request)
        return render_case(request, session, case_id, ok=ok)

    @app.post("/zaken/{case_id}/origineel", response_class=HTMLResponse)
    def show_original(request: Request, case_id: int, csrf: str = Form("")) -> Response:
        """The decrypted original text (names, addresses), for the case's own reviewer only;
        every attempt is audited by read_original_text."""
        session = current_session(request)
        if session is None:
            return to_login(request)
        if not csrf_ok(session, csrf):
            return forbidden(request, session)
        with pool().connection() as conn, conn.transaction():
            case = cases_repo.get_case(conn, case_id)
            if case is None:
                users.record_audit(conn, session.user.username, "original_text_denied", case_id,
                                   {"reason": "no_such_case"})
            try:
                original = read_original_text(conn, case["note_id"], session.user.username,
                                              keyring) if case else None
            except AccessDenied:
                original = None
            except OriginalUnavailable:
                return render_case(request, session, case_id,
                                   error="De originele tekst is niet meer beschikbaar (bewaartermijn).")
        if original is None:
            return not_found(request, session)
        return render_case(request, session, case_id, original=original)

    def act(request: Request, case_id: int, csrf: str, action: str,
            do: Callable[[Any, users.User, dict[str, Any]], None]) -> Response:
        """Run one case action in one transaction; refusals re-render the case with the reason."""
        session = current_session(request)
        if session is None:
            return to_login(request)
        if not csrf_ok(session, csrf):
            with pool().connection() as conn, conn.transaction():
                users.record_audit(conn, session.user.username, "csrf_rejected", case_id,
                                   {"action": action})
            return forbidden(request, session)
        user = session.user
        with pool().connection() as conn:
            try:
                with conn.transaction():
                    case = cases_repo.get_case(conn, case_id)
                    role = review.access(user, case)
                    if role is None or case is None:
                        users.record_audit(conn, user.username, "case_view_denied", case_id,
                                           {"action": action})
                        return not_found(request, session)
                    do(conn, user, case)
            except (rules.WorkflowError, review.Conflict) as exc:
                with conn.transaction():
                    users.record_audit(conn, user.username, "action_refused", case_id,
                                       {"action": action, "message": str(exc)})
                code = 409 if isinstance(exc, review.Conflict) else 422
                return render_case(request, session, case_id, error=str(exc), status_code=code)
        return RedirectResponse(f"/zaken/{case_id}?ok={action}", status_code=303)

    @app.post("/zaken/{case_id}/status")
    def post_status(request: Request, case_id: int, naar: str = Form(...), reden: str = Form(""),
                    versie: int = Form(...), csrf: str = Form("")) -> Response:
        return act(request, case_id, csrf, f"status_{naar}" if naar in rules.STATUSES else "status",
                   lambda conn, user, case: review.change_status(conn, user, case, naar, reden, versie))

    @app.post("/zaken/{case_id}/escaleren")
    def post_escalate(request: Request, case_id: int, reden: str = Form(""),
                      samenvatting: str = Form(""), versie: int = Form(...),
                      csrf: str = Form("")) -> Response:
        return act(request, case_id, csrf, "escaleren",
                   lambda conn, user, case: review.escalate(conn, user, case, reden, samenvatting,
                                                            versie))

    @app.post("/zaken/{case_id}/toestemming")
    def post_consent(request: Request, case_id: int, toestemming: str = Form(...),
                     reden: str = Form(""), versie: int = Form(...), csrf: str = Form("")) -> Response:
        return act(request, case_id, csrf, "toestemming",
                   lambda conn, user, case: review.set_consent(conn, user, case, toestemming, reden,
                                                               versie))

    @app.post("/zaken/{case_id}/toestemming/bevestigen")
    def post_confirm_consent(request: Request, case_id: int, versie: int = Form(...),
                             csrf: str = Form("")) -> Response:
        return act(request, case_id, csrf, "toestemming_bevestigd",
                   lambda conn, user, case: review.confirm_consent(conn, user, case, versie))

    @app.post("/zaken/{case_id}/correctie")
    def post_correction(request: Request, case_id: int, gronden: list[str] = Form(default=[]),
                        vormen: list[str] = Form(default=[]), ernst: int = Form(...),
                        versie: int = Form(...), csrf: str = Form("")) -> Response:
        return act(request, case_id, csrf, "correctie",
                   lambda conn, user, case: review.correct(conn, user, case, gronden, vormen, ernst,
                                                           versie))

    @app.post("/zaken/{case_id}/ontvangst")
    def post_acknowledge(request: Request, case_id: int, versie: int = Form(...),
                         csrf: str = Form("")) -> Response:
        return act(request, case_id, csrf, "ontvangst",
                   lambda conn, user, case: review.acknowledge(conn, user, case, versie))

    @app.post("/zaken/{case_id}/afhandelen")
    def post_close(request: Request, case_id: int, acties: list[str] = Form(default=[]),
                   toelichting: str = Form(""), versie: int = Form(...),
                   csrf: str = Form("")) -> Response:
        return act(request, case_id, csrf, "afgehandeld",
                   lambda conn, user, case: review.close(conn, user, case, acties, toelichting,
                                                         versie))

    @app.get("/audit", response_class=HTMLResponse)
    def audit(request: Request, gebruiker: str = "", zaak: str = "", actie: str = "",
              voor: int | None = None) -> Response:
        session = current_session(request)
        if session is None:
            return to_login(request)
        if session.user.role != "beheerder":
            return not_found(request, session)
        case_filter = int(zaak) if zaak.isdigit() else None
        with pool().connection() as conn, conn.transaction():
            rows = users.read_audit(conn, actor=gebruiker or None, case_id=case_filter,
                                    action=actie or None, before_id=voor, limit=100)
            users.record_audit(conn, session.user.username, "audit_viewed",
                               detail={"actor": gebruiker, "case": zaak, "action": actie})
        filters = {"gebruiker": gebruiker, "zaak": zaak, "actie": actie}
        return templates.TemplateResponse(
            request, "audit.html", {"session": session, "rows": rows, "filters": filters,
                                    "paged": voor is not None,
                                    "query": urlencode({k: v for k, v in filters.items() if v})})

    @app.get("/audit/export.csv")
    def audit_export(request: Request) -> Response:
        session = current_session(request)
        if session is None:
            return to_login(request)
        if session.user.role != "beheerder":
            return not_found(request, session)
        with pool().connection() as conn, conn.transaction():
            users.record_audit(conn, session.user.username, "audit_exported")
        return StreamingResponse(audit_csv(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="buurtsignaal-auditlog.csv"'})

    def audit_csv() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(users.AUDIT_COLUMNS)
        with pool().connection() as conn:
            for row in users.iter_audit(conn):
                writer.writerow([row["id"], row["at"].isoformat(), row["actor"], row["action"],
                                 row["case_id"] or "", json.dumps(row["detail"], ensure_ascii=False)])
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    ui = Ui(settings, templates, pool, current_session, to_login, csrf_ok, forbidden, not_found)
    app.include_router(reports_ui.router(ui))  # /rapportage (buurtsignaal/reporting)
    app.include_router(admin_models.router(ui))  # /modellen (services/detector/learning)

    app.include_router(ops_router(pool, settings.kafka_bootstrap, settings.topic_scored))

    return app
