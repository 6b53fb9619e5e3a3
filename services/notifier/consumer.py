"""Scored notes -> note_scores + a review case per flagged note (idempotent by note id)."""

from __future__ import annotations

import threading
from typing import Any

from psycopg_pool import ConnectionPool

from buurtsignaal import logs, metrics
from buurtsignaal.adapters.cases_repo import store_scored
from buurtsignaal.adapters.consumer_loop import ConsumerLoop, Decoded, schema_decoder
from buurtsignaal.config import Settings
from buurtsignaal.domain.regions import RegionMap

log = logs.get(__name__)


decode_scored = schema_decoder("note-scored.v1")


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

    return ConsumerLoop.for_service(
        settings, name="notifier", topic=settings.topic_scored, group_id="buurtsignaal-notifier",
        decode=decode_scored, process=process, stop=stop,
    )
