"""/healthz, /readyz and /metrics for the HTTP services (ingest, notifier).

Ready means: the database answers and the broker lists the topic the service depends on, so a
load balancer or orchestrator only sends traffic to an instance that can do its work.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import ConnectionPool

from buurtsignaal.adapters.kafka import list_topics
from buurtsignaal.adapters.postgres import ping


def ops_router(pool: Callable[[], ConnectionPool], bootstrap: str, topic: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    def readyz() -> JSONResponse:
        db = ping(pool())
        try:
            broker = topic in list_topics(bootstrap)
        except Exception:  # noqa: BLE001 - any broker failure means "not ready", never a 500
            broker = False
        ok = db and broker
        return JSONResponse({"database": db, "broker": broker}, status_code=200 if ok else 503)

    @router.get("/metrics")
    def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
