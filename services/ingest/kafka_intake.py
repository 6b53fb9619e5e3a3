"""Notes from corporation systems over Kafka (topic notes.incoming): same validation and storage
as the HTTP API; invalid messages go to the dead-letter topic and the consumer keeps going."""

from __future__ import annotations

import json
import threading
from typing import Any

from psycopg_pool import ConnectionPool

from buurtsignaal import logs, metrics
from buurtsignaal.adapters import ops_gauges
from buurtsignaal.adapters.apikeys import tenant_exists
from buurtsignaal.adapters.consumer_loop import ConsumerLoop, Decoded, InvalidMessage
from buurtsignaal.adapters.notes_repo import store_notes
from buurtsignaal.config import Settings
from buurtsignaal.domain.notes import IncomingNote
from buurtsignaal.privacy.protect import NoteProtector, protector_from_settings
from buurtsignaal.service.intake import Rejected, parse_incoming_message

log = logs.get(__name__)


def decode_incoming(raw: bytes) -> IncomingNote:
    metrics.notes_received.labels("kafka").inc()
    try:
        message: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError, RecursionError) as exc:
        metrics.notes_rejected.labels("kafka", "invalid_json").inc()
        raise InvalidMessage("invalid_json", [f"not valid JSON: {type(exc).__name__}"]) from exc
    parsed = parse_incoming_message(message)
    if isinstance(parsed, Rejected):
        metrics.notes_rejected.labels("kafka", "schema_violation").inc()
        raise InvalidMessage(
            "schema_violation", [f"{e['loc']}: {e['message']}" for e in parsed.errors]
        )
    return parsed


def make_intake(settings: Settings, pool: ConnectionPool, stop: threading.Event,
                protector: NoteProtector | None = None) -> ConsumerLoop:
    protector = protector or protector_from_settings(settings)
    known_tenants: set[str] = set()

    def process(batch: list[Decoded[IncomingNote]]) -> None:
        with pool.connection() as conn, conn.transaction():
            for item in batch:
                tenant = item.value.tenant
                if tenant not in known_tenants and not tenant_exists(conn, tenant):
                    metrics.notes_rejected.labels("kafka", "unknown_tenant").inc()
                    raise InvalidMessage("unknown_tenant", [f"tenant is not registered: {tenant}"])
                known_tenants.add(tenant)
            result = store_notes(
                conn, [i.value for i in batch], key_secret=settings.key_secret,
                topic=settings.topic_accepted, protector=protector,
            )
        for kind, count in result.identifiers.items():
            metrics.identifiers_pseudonymised.labels(kind).inc(count)
        for item in batch:
            if item.value.external_id not in result.duplicates:
                metrics.notes_accepted.labels("kafka", item.value.tenant).inc()
                ops_gauges.mark_accepted(item.value.tenant, 1)
        metrics.notes_duplicate.labels("kafka").inc(len(result.duplicates))
        log.info("kafka_notes_stored", accepted=len(result.accepted),
                 duplicates=len(result.duplicates),
                 correlation_ids=[note_id for _, note_id in result.accepted])

    return ConsumerLoop.for_service(
        settings, name="ingest-intake", topic=settings.topic_incoming, group_id="buurtsignaal-ingest",
        decode=decode_incoming, process=process, stop=stop,
    )
