"""Scored notes -> note_scores + a review case per flagged note (idempotent by note id)."""

from __future__ import annotations

import json
import threading
from typing import Any

from psycopg_pool import ConnectionPool

from buurtsignaal import logs, metrics
from buurtsignaal.adapters.cases_repo import store_scored
from buurtsignaal.adapters.consumer_loop import ConsumerLoop, Decoded, InvalidMessage
from buurtsignaal.config import Settings
from buurtsignaal.domain.regions import RegionMap
from buurtsignaal.schemas import validate

log = logs.get(__name__)


def decode_scored(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
        raise InvalidMessage("invalid_json", [f"not valid JSON: {type(exc).__name__}"]) from exc
    errors = validate("note-scored.v1", value)
    if errors:
        raise InvalidMessage("schema_violation", [f"{e['loc']}: {e['message']}" for e in errors])
    return value  # type: ignore[no-any-return]


def make_consumer_loop(
    settings: Settings, pool: ConnectionPool, regions: RegionMap, stop: threading.Event
) -> ConsumerLoop:
    def process(batch: list[Decoded[dict[str, Any]]]) -> None:
        with pool.connection() as conn, conn.transaction():
            stored = store_scored(conn, [item.value for item in batch], regions)
        metrics.scores_stored.inc(stored.scores_stored)
        for case_id, region in stored.cases_created:
            metrics.cases_created.labels(region).inc()
            log.info("case_created", case_id=case_id, adv_region=region)
        for seconds in stored.latencies:
            metrics.end_to_end_latency.observe(seconds)
        log.info("scores_stored", received=len(batch), stored=stored.scores_stored,
                 cases_created=len(stored.cases_created),
                 correlation_ids=[item.value["correlation_id"] for item in batch])

    return ConsumerLoop(
        name="notifier",
        bootstrap=settings.kafka_bootstrap,
        topic=settings.topic_scored,
        group_id="buurtsignaal-notifier",
        dead_letter_topic=settings.topic_deadletter,
        decode=decode_scored,
        process=process,
        stop=stop,
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=settings.consumer_heartbeat_interval_ms,
    )
