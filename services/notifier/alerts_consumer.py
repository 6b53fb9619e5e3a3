"""alerts.raised -> pattern_alerts (idempotent upsert by alert id; upgrades watch -> escalate).

Started by the notifier's lifespan next to the scored-notes consumer:

    rt.start_worker("alerts-consumer", make_alerts_consumer_loop(settings, rt.pool, regions, rt.stop).run)
"""

from __future__ import annotations

import json
import threading
from typing import Any

from psycopg_pool import ConnectionPool

from buurtsignaal import logs, metrics
from buurtsignaal.adapters.alerts_repo import store_alerts
from buurtsignaal.adapters.consumer_loop import ConsumerLoop, Decoded, InvalidMessage
from buurtsignaal.config import Settings
from buurtsignaal.domain.regions import RegionMap
from buurtsignaal.schemas import validate

log = logs.get(__name__)


def decode_alert(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError, RecursionError) as exc:
        raise InvalidMessage("invalid_json", [f"not valid JSON: {type(exc).__name__}"]) from exc
    errors = validate("alert.v1", value)
    if errors:
        raise InvalidMessage("schema_violation", [f"{e['loc']}: {e['message']}" for e in errors])
    return value  # type: ignore[no-any-return]


def make_alerts_consumer_loop(
    settings: Settings, pool: ConnectionPool, regions: RegionMap, stop: threading.Event
) -> ConsumerLoop:
    def process(batch: list[Decoded[dict[str, Any]]]) -> None:
        with pool.connection() as conn, conn.transaction():
            stored = store_alerts(conn, [item.value for item in batch], regions)
        for scope, level in stored.created + stored.upgraded:
            metrics.alerts_stored.labels(scope, level).inc()
        if stored.created or stored.upgraded:
            log.info("pattern_alerts_stored", created=len(stored.created),
                     upgraded=len(stored.upgraded))

    return ConsumerLoop(
        name="notifier-alerts",
        bootstrap=settings.kafka_bootstrap,
        topic=settings.topic_alerts,
        group_id="buurtsignaal-notifier-alerts",
        dead_letter_topic=settings.topic_deadletter,
        decode=decode_alert,
        process=process,
        stop=stop,
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=settings.consumer_heartbeat_interval_ms,
    )
