"""Notifier: stores scored notes, opens review cases, and serves the ADV review UI (Dutch).

Entry point: `buurtsignaal serve notifier`.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from buurtsignaal import logs
from buurtsignaal.adapters import cases_repo, users
from buurtsignaal.adapters.kafka import list_topics
from buurtsignaal.adapters.postgres import ping
from buurtsignaal.bootstrap import Runtime, runtime
from buurtsignaal.config import Settings
from buurtsignaal.domain.highlight import segments
from buurtsignaal.domain.regions import RegionMap
from buurtsignaal.domain.taxonomy import FORM_LABELS_NL, GROUND_LABELS_NL, SEVERITY_LABELS_NL
from services.notifier.consumer import make_consumer_loop

log = logs.get(__name__)
HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "bs_session"
LOGIN_CSRF_COOKIE = "bs_login_csrf"

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
    templates.env.globals.update(
        grounds_nl=GROUND_LABELS_NL, forms_nl=FORM_LABELS_NL, severity_nl=SEVERITY_LABELS_NL,
        regions=regions.regions,
    )
    secure_cookies = settings.notifier_url.startswith("https://")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        rt = runtime(settings, "notifier")
        state["rt"] = rt
        if background:
            rt.start_worker("scored-consumer", make_consumer_loop(settings, rt.pool, regions,
                                                                   rt.stop).run)
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

    def to_login() -> RedirectResponse:
        return RedirectResponse("/login", status_code=303)

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

    @app.get("/", response_class=HTMLResponse)
    def queue(request: Request, pagina: int = 1) -> Response:
        session = current_session(request)
        if session is None:
            return to_login()
        if session.user.role == "coordinator":
            cases: list[dict[str, Any]] = []  # coordinators see escalations only (none yet)
        else:
            with pool().connection() as conn:
                cases = cases_repo.review_queue(
                    conn, visible_region(session.user), limit=50, offset=(max(pagina, 1) - 1) * 50
                )
        return templates.TemplateResponse(
            request, "queue.html", {"session": session, "cases": cases, "page": max(pagina, 1)}
        )

    @app.get("/zaken/{case_id}", response_class=HTMLResponse)
    def case_detail(request: Request, case_id: int) -> Response:
        session = current_session(request)
        if session is None:
            return to_login()
        with pool().connection() as conn, conn.transaction():
            case = cases_repo.get_case(conn, case_id)
            region = visible_region(session.user)
            allowed = (
                case is not None
                and session.user.role != "coordinator"
                and (region is None or case["adv_region"] == region)
            )
            users.record_audit(conn, session.user.username,
                               "case_viewed" if allowed else "case_view_denied", case_id)
        if not allowed:
            # Same answer for "does not exist" and "not yours": ids reveal nothing.
            return templates.TemplateResponse(
                request, "not_found.html", {"session": session}, status_code=404
            )
        return templates.TemplateResponse(
            request, "case.html",
            {"session": session, "case": case, "segments": segments(case["text"], case["evidence"])},
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        db = ping(pool())
        try:
            broker = settings.topic_scored in list_topics(settings.kafka_bootstrap)
        except Exception:  # noqa: BLE001
            broker = False
        ok = db and broker
        return JSONResponse({"database": db, "broker": broker}, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
