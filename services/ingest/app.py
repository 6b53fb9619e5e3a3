"""Ingest service: corporation systems POST notes here (and publish them on notes.incoming).

Each note is validated, stored with its outbox event in one transaction, and published by the
relay. Entry point: `buurtsignaal serve ingest`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from buurtsignaal import logs, metrics
from buurtsignaal.adapters import apikeys
from buurtsignaal.adapters.kafka import list_topics
from buurtsignaal.adapters.notes_repo import store_notes
from buurtsignaal.adapters.postgres import ping
from buurtsignaal.bootstrap import Runtime, runtime
from buurtsignaal.config import Settings
from buurtsignaal.service.intake import Rejected, parse_batch
from services.ingest.kafka_intake import make_intake
from services.ingest.relay import OutboxRelay

log = logs.get(__name__)


def _error(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"detail": detail}
    if errors is not None:
        body["errors"] = errors
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(settings: Settings, *, background: bool = True) -> FastAPI:
    state: dict[str, Runtime] = {}

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
            rt.start_worker("kafka-intake", make_intake(settings, rt.pool, rt.stop).run)
        log.info("ingest_started", port=settings.ingest_port)
        yield
        rt.close()

    app = FastAPI(
        title="Buurtsignaal ingest API",
        version="1",
        description="Housing corporation systems submit caretakers' notes here.",
        lifespan=lifespan,
    )

    def _store(tenant: str, body: Any) -> JSONResponse:
        parsed = parse_batch(body, tenant)
        if isinstance(parsed, Rejected):
            metrics.notes_rejected.labels("http", "schema_violation").inc()
            return _error(422, "the batch was rejected: fix every listed field and resend it "
                          "(nothing was stored)", parsed.errors)
        rt = state["rt"]
        with rt.pool.connection() as conn, conn.transaction():
            result = store_notes(conn, parsed, key_secret=settings.key_secret,
                                 topic=settings.topic_accepted)
        metrics.notes_accepted.labels("http", tenant).inc(len(result.accepted))
        metrics.notes_duplicate.labels("http").inc(len(result.duplicates))
        log.info("notes_stored", tenant=tenant, accepted=len(result.accepted),
                 duplicates=len(result.duplicates))
        return JSONResponse(
            {
                "accepted": [{"external_id": e, "note_id": n} for e, n in result.accepted],
                "duplicates": [{"external_id": e} for e in result.duplicates],
            },
            status_code=202,
        )

    @app.post("/v1/notes", status_code=202, summary="Submit a batch of up to 1,000 notes")
    async def post_notes(request: Request) -> Response:
        started = time.perf_counter()
        try:
            auth = request.headers.get("authorization", "")
            key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            if not key:
                metrics.notes_rejected.labels("http", "unauthenticated").inc()
                return _error(401, "missing API key: send 'Authorization: Bearer <api key>'")
            owner = await run_in_threadpool(_authenticate, key)
            if owner is None:
                metrics.notes_rejected.labels("http", "unauthenticated").inc()
                return _error(401, "unknown, revoked or expired API key")
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
                metrics.notes_rejected.labels("http", "too_large").inc()
                return _error(413, f"request body exceeds {settings.max_body_bytes} bytes")
            raw = bytearray()
            async for chunk in request.stream():
                raw.extend(chunk)
                if len(raw) > settings.max_body_bytes:
                    metrics.notes_rejected.labels("http", "too_large").inc()
                    return _error(413, f"request body exceeds {settings.max_body_bytes} bytes")
            try:
                body = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                metrics.notes_rejected.labels("http", "invalid_json").inc()
                return _error(422, f"body is not valid JSON: {exc}",
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

    def _authenticate(key: str) -> apikeys.ApiKeyOwner | None:
        with state["rt"].pool.connection() as conn:
            return apikeys.authenticate(conn, key)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        db = ping(state["rt"].pool)
        try:
            broker = settings.topic_incoming in list_topics(settings.kafka_bootstrap)
        except Exception:  # noqa: BLE001
            broker = False
        ok = db and broker
        return JSONResponse({"database": db, "broker": broker}, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
