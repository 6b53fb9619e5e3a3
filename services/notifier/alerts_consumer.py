"""alerts.raised -> pattern_alerts (idempotent upsert by alert id; upgrades watch -> escalate).

Started by the notifier's lifespan next to the scored-notes consumer:

    rt.start_worker("alerts-consumer", make_alerts_consumer_loop(settings, rt.pool, regions, rt.stop).run)
"""

from __future__ import annotations

import threading
from typing import Any

from psycopg_pool import ConnectionPool

from buurtsignaal import logs, metrics
from buurtsignaal.adapters.alerts_repo import store_alerts
from buurtsignaal.adapters.consumer_loop import ConsumerLoop, Decoded, schema_decoder
from buurtsignaal.config import Settings
from buurtsignaal.domain.regions import RegionMap

log = logs.get(__name__)


decode_alert = schema_decoder("alert.v1")


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

    return ConsumerLoop.for_service(
        settings, name="notifier-alerts", topic=settings.topic_alerts,
        group_id="buurtsignaal-notifier-alerts", decode=decode_alert, process=process, stop=stop,
    )
