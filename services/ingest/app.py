"""Ingest service: corporation systems POST notes here (and publish them on notes.incoming).

Each note is validated, pseudonymised (the original encrypted), stored with its outbox event in one
transaction, and published by the relay. API keys are scoped per tenant and rate limited; the
scheduled retention purge runs here too. Entry point: `buurtsignaal serve ingest`.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from structlog.contextvars import bound_contextvars

from buurtsignaal import logs, metrics
from buurtsignaal.adapters import apikeys, ops_gauges
from buurtsignaal.adapters.notes_repo import store_notes
from buurtsignaal.bootstrap import Runtime, runtime
from buurtsignaal.config import Settings
from buurtsignaal.privacy.protect import protector_from_settings
from buurtsignaal.privacy.retention import scheduled_purger
from buurtsignaal.schemas import SCHEMA_DIR
from buurtsignaal.service.intake import Rejected, parse_batch
from buurtsignaal.service.ops_routes import ops_router
from services.ingest.kafka_intake import make_intake
from services.ingest.relay import OutboxRelay
from services.ingest.resend import UnscoredResender

log = logs.get(__name__)
# A caller's X-Request-ID is echoed and logged only when it looks like an id, never free text.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")

# An API serves JSON only: nothing may be framed, scripted or loaded from it. The interactive
# docs page (/docs) needs Swagger UI's inline bootstrap script; it holds no data and the API uses
# bearer keys, not cookies, so it gets a CSP that allows only that (docs/security.md).
API_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}
DOCS_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: "
            "https://fastapi.tiangolo.com; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")


def _batch_schema() -> dict[str, Any]:
    """note-batch.v1 with note.v1 inlined: the OpenAPI contract of POST /v1/notes (fuzzed by
    schemathesis in tests/integration/privacy/test_fuzz_ingest_api.py)."""
    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
        for key in ("$schema", "$id"):
            data.pop(key, None)
        return data

    batch = load("note-batch.v1.json")
    batch["properties"]["notes"]["items"] = load("note.v1.json")
    return batch


def _error(status: int, detail: str, errors: list[dict[str, str]] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"detail": detail}
    if errors is not None:
        body["errors"] = errors
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(settings: Settings, *, background: bool = True) -> FastAPI:
    state: dict[str, Runtime] = {}
    protector = protector_from_settings(settings)
    limiter = apikeys.RateLimiter(settings.api_rate_limit_per_minute)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        rt = runtime(settings, "ingest")
        state["rt"] = rt
        if background:
            relay = OutboxRelay(
                rt.pool, settings.database_url, settings.kafka_bootstrap,
                batch_size=settings.outbox_batch_size, poll_seconds=settings.outbox_poll_seconds,
                stop=rt.stop,
            )
            rt.start_worker("outbox-relay", relay.run)
            rt.start_worker("kafka-intake", make_intake(settings, rt.pool, rt.stop, protector).run)
            rt.start_worker("retention", lambda: scheduled_purger(
                settings.database_url, settings.retention_file, settings.retention_interval_hours,
                rt.stop))
            if settings.resend_unscored_after_seconds > 0:
                resender = UnscoredResender(
                    rt.pool, settings.topic_accepted,
                    grace_seconds=settings.resend_unscored_after_seconds,
                    window_hours=settings.resend_window_hours,
                    interval_seconds=settings.resend_sweep_seconds, stop=rt.stop,
                )
                rt.start_worker("unscored-resender", resender.run)
        try:
            with rt.pool.connection() as conn:
                ops_gauges.restore_last_accepted(conn)
        except Exception as exc:  # noqa: BLE001 - a gauge must not keep the service from starting
            log.warning("gauge_restore_failed", error=type(exc).__name__)
        log.info("ingest_started", port=settings.ingest_port)
        yield
        rt.close()

    app = FastAPI(
        title="Buurtsignaal ingest API",
        version="1",
        description="Housing corporation systems submit caretakers' notes here.",
        lifespan=lifespan,
    )

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        try:
            response = await call_next(request)
        except Exception:  # never a stack trace to the client
            incident = uuid.uuid4().hex[:12]
            log.exception("unhandled_error", incident=incident, path=request.url.path)
            response = _error(500, f"internal error (incident {incident}); nothing was stored")
        response.headers.update(API_HEADERS)
        if request.url.path in ("/docs", "/docs/oauth2-redirect"):
            response.headers["Content-Security-Policy"] = DOCS_CSP
        if request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https":
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        return _error(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg"))}
                  for e in exc.errors()]
        return _error(422, "the request is invalid", errors)

    def _authorise(request: Request, scope: str) -> apikeys.ApiKeyOwner | JSONResponse:
        """The key's owner, or the 401/403/429 answer. Runs in a worker thread."""
        auth = request.headers.get("authorization", "")
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not key:
            metrics.notes_rejected.labels("http", "unauthenticated").inc()
            return _error(401, "missing API key: send 'Authorization: Bearer <api key>'")
        with state["rt"].pool.connection() as conn:
            owner = apikeys.authenticate(conn, key)
        if owner is None:
            metrics.notes_rejected.labels("http", "unauthenticated").inc()
            return _error(401, "unknown, revoked or expired API key")
        if not owner.may(scope):
            metrics.notes_rejected.labels("http", "forbidden").inc()
            return _error(403, f"this API key lacks the scope {scope}")
        wait = limiter.acquire(owner.key_id, owner.rate_limit_per_minute)
        if wait > 0:
            metrics.rate_limited.inc()
            return _error(429, "rate limit for this API key exceeded: retry later",
                          headers={"Retry-After": str(max(1, math.ceil(wait)))})
        return owner

    def _store(tenant: str, body: Any) -> JSONResponse:
        parsed = parse_batch(body, tenant)
        if isinstance(parsed, Rejected):
            metrics.notes_rejected.labels("http", "schema_violation").inc()
            return _error(422, "the batch was rejected: fix every listed field and resend it "
                          "(nothing was stored)", parsed.errors)
        rt = state["rt"]
        with rt.pool.connection() as conn, conn.transaction():
            result = store_notes(conn, parsed, key_secret=settings.key_secret,
                                 topic=settings.topic_accepted, protector=protector)
        metrics.notes_accepted.labels("http", tenant).inc(len(result.accepted))
        metrics.notes_duplicate.labels("http").inc(len(result.duplicates))
        ops_gauges.mark_accepted(tenant, len(result.accepted))
        for kind, count in result.identifiers.items():
            metrics.identifiers_pseudonymised.labels(kind).inc(count)
        log.info("notes_stored", tenant=tenant, accepted=len(result.accepted),
                 duplicates=len(result.duplicates),
                 correlation_ids=[note_id for _, note_id in result.accepted])
        return JSONResponse(
            {
                "accepted": [{"external_id": e, "note_id": n} for e, n in result.accepted],
                "duplicates": [{"external_id": e} for e in result.duplicates],
            },
            status_code=202,
        )

    @app.post(
        "/v1/notes", status_code=202, summary="Submit a batch of up to 1,000 notes",
        openapi_extra={
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _batch_schema()}}},
            "security": [{"bearer": []}],
        },
        responses={401: {"description": "missing, unknown, revoked or expired key"},
                   403: {"description": "the key lacks the notes:write scope"},
                   413: {"description": "body or batch too large"},
                   422: {"description": "invalid JSON or fields; nothing stored"},
                   429: {"description": "rate limit of the key exceeded"}},
    )
    async def post_notes(request: Request) -> Response:
        offered = request.headers.get("x-request-id", "")
        request_id = offered if REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        with bound_contextvars(request_id=request_id):
            response = await _post_notes(request)
        response.headers["X-Request-ID"] = request_id
        return response

    async def _post_notes(request: Request) -> Response:
        started = time.perf_counter()
        try:
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
                metrics.notes_rejected.labels("http", "too_large").inc()
                return _error(413, f"request body exceeds {settings.max_body_bytes} bytes")
            owner = await run_in_threadpool(_authorise, request, "notes:write")
            if isinstance(owner, JSONResponse):
                return owner
            raw = bytearray()
            async for chunk in request.stream():
                raw.extend(chunk)
                if len(raw) > settings.max_body_bytes:
                    metrics.notes_rejected.labels("http", "too_large").inc()
                    return _error(413, f"request body exceeds {settings.max_body_bytes} bytes")
            try:
                body = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
                metrics.notes_rejected.labels("http", "invalid_json").inc()
                what = (exc.msg if isinstance(exc, json.JSONDecodeError)
                        else "undecodable or too deeply nested")
                return _error(422, f"body is not valid JSON: {what}",
                              [{"loc": "(body)", "message": "not valid JSON"}])
            notes = body.get("notes") if isinstance(body, dict) else None
            if isinstance(notes, list):
                metrics.notes_received.labels("http").inc(len(notes))
                if len(notes) > settings.max_notes_per_batch:
                    metrics.notes_rejected.labels("http", "too_many_notes").inc()
                    return _error(413, f"a batch holds at most {settings.max_notes_per_batch} "
                                  f"notes; this one has {len(notes)}: split it")
            return await run_in_threadpool(_store, owner.tenant_id, body)
        finally:
            metrics.request_latency.observe(time.perf_counter() - started)

    @app.get(
        "/v1/notes/{external_id}", summary="Processing status of one of your own notes",
        openapi_extra={"security": [{"bearer": []}]},
        responses={401: {"description": "no valid key"}, 403: {"description": "lacks notes:read"},
                   404: {"description": "no such note for this corporation"},
                   429: {"description": "rate limit exceeded"}},
    )
    def get_note(request: Request, external_id: str) -> Response:
        """Only the calling corporation's notes; another corporation's note is a 404, the same
        answer as a note that does not exist. Returns status, never text or address."""
        owner = _authorise(request, "notes:read")
        if isinstance(owner, JSONResponse):
            return owner
        with state["rt"].pool.connection() as conn:
            row = conn.execute(
                """SELECT n.id, n.external_id, n.received_at, n.source,
                          EXISTS (SELECT 1 FROM note_scores s WHERE s.note_id = n.id) AS processed
                   FROM notes n WHERE n.tenant_id = %s AND n.external_id = %s""",
                (owner.tenant_id, external_id),
            ).fetchone()
        if row is None:
            return _error(404, "no note with this external_id for your corporation")
        return JSONResponse({"external_id": row["external_id"], "note_id": str(row["id"]),
                             "received_at": row["received_at"].isoformat(),
                             "source": row["source"], "processed": row["processed"]})

    app.include_router(ops_router(lambda: state["rt"].pool, settings.kafka_bootstrap,
                                  settings.topic_incoming))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
