"""What the extra UI routers (reports_ui.py, admin_models.py) need from app.create_app: the
templates and the session, CSRF and error helpers, so every page checks access the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from buurtsignaal.adapters import users
from buurtsignaal.config import Settings


@dataclass(frozen=True)
class Ui:
    settings: Settings
    templates: Jinja2Templates
    pool: Callable[[], Any]
    current_session: Callable[[Request], users.Session | None]
    to_login: Callable[[Request], Response]
    csrf_ok: Callable[[users.Session, str], bool]
    forbidden: Callable[[Request, users.Session | None], Response]
    not_found: Callable[[Request, users.Session], Response]
