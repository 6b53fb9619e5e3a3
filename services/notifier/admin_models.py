"""Model versions for admins (`/modellen`): what each version scored and how reviewers judged it,
the evaluation of candidates, and activation and rollback (audited; docs/decisions/0055).

The detector picks the active version up at its next poll (BUURTSIGNAAL_MODEL_POLL_SECONDS)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from buurtsignaal.adapters import users
from services.detector.learning import registry
from services.detector.learning.reviews import decisions_by_model
from services.notifier.ui import Ui

OK = {"activated": "Het model is geactiveerd. De detector neemt het bij de volgende controle over.",
      "rolled_back": "De laatste activering is teruggedraaid."}


def router(ui: Ui) -> APIRouter:
    r = APIRouter()
    reg = ui.settings.model_registry_dir

    def page(request: Request, session: users.Session, *, ok: str = "", error: str = "",
             status_code: int = 200) -> Response:
        with ui.pool().connection() as conn:
            history = registry.history(conn)
            decisions = decisions_by_model(conn)
        per_version: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in decisions:
            total = row["bevestigd"] + row["afgewezen"]
            per_version[row["model_version"]].append(
                {**row, "share": row["bevestigd"] / total if total else None})
        default = registry.default_version(reg)
        context = {
            "session": session, "models": registry.list_models(reg),
            "active": registry.active_version(history, default),
            "can_roll_back": len(registry.stack(history, default)) > 1,
            "history": list(reversed(history)), "decisions": dict(per_version),
            "ok": OK.get(ok, ""), "error": error,
        }
        return ui.templates.TemplateResponse(request, "models.html", context, status_code=status_code)

    def admin(request: Request) -> tuple[users.Session | None, Response | None]:
        session = ui.current_session(request)
        if session is None:
            return None, ui.to_login(request)
        if session.user.role != "beheerder":
            return session, ui.not_found(request, session)
        return session, None

    @r.get("/modellen", response_class=HTMLResponse)
    def models_page(request: Request, ok: str = "") -> Response:
        session, early = admin(request)
        if early is not None:
            return early
        assert session is not None
        return page(request, session, ok=ok)

    def act(request: Request, csrf: str, action: str, do: Any) -> Response:
        session, early = admin(request)
        if early is not None:
            return early
        assert session is not None
        if not ui.csrf_ok(session, csrf):
            with ui.pool().connection() as conn, conn.transaction():
                users.record_audit(conn, session.user.username, "csrf_rejected", detail={"action": action})
            return ui.forbidden(request, session)
        with ui.pool().connection() as conn:
            try:
                with conn.transaction():
                    detail = do(conn, session.user.username)
                    users.record_audit(conn, session.user.username, action, detail=detail)
            except registry.RegistryError as exc:
                with conn.transaction():
                    users.record_audit(conn, session.user.username, "model_action_refused",
                                       detail={"action": action, "message": str(exc)})
                return page(request, session, error=str(exc), status_code=422)
        done = "activated" if action == "model_activated" else "rolled_back"
        return RedirectResponse(f"/modellen?ok={done}", status_code=303)

    @r.post("/modellen/activeren")
    def activate(request: Request, versie: str = Form(...), reden: str = Form(""),
                 csrf: str = Form("")) -> Response:
        def do(conn: Any, actor: str) -> dict[str, str]:
            previous = registry.activate(conn, reg, actor, versie, reden)
            return {"version": versie, "previous": previous, "reason": reden.strip()}

        return act(request, csrf, "model_activated", do)

    @r.post("/modellen/terugdraaien")
    def roll_back(request: Request, reden: str = Form(""), csrf: str = Form("")) -> Response:
        def do(conn: Any, actor: str) -> dict[str, str]:
            undone, now_active = registry.rollback(conn, reg, actor, reden)
            return {"version": now_active, "rolled_back": undone, "reason": reden.strip()}

        return act(request, csrf, "model_rolled_back", do)

    return r
