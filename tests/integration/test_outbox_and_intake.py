"""The outbox relay and the Kafka intake against real PostgreSQL and a real Kafka-protocol broker."""

from __future__ import annotations

import json
import threading

import psycopg
from psycopg.rows import dict_row

from buurtsignaal.adapters.apikeys import ensure_tenant
from buurtsignaal.adapters.notes_repo import store_notes
from buurtsignaal.adapters.postgres import make_pool
from buurtsignaal.config import Settings
from buurtsignaal.devstack import EmbeddedBroker
from buurtsignaal.privacy.protect import protector_from_settings
from buurtsignaal.schemas import validate
from buurtsignaal.service.intake import parse_batch
from services.ingest.kafka_intake import make_intake
from services.ingest.relay import OutboxRelay
from tests.support import infra
from tests.support.notes import note


def _store(settings: Settings, notes: list[dict], tenant: str = "corp-a") -> None:
    parsed = parse_batch({"notes": notes}, tenant)
    assert isinstance(parsed, list)
    with psycopg.connect(settings.database_url, row_factory=dict_row) as conn:
        ensure_tenant(conn, tenant)
        store_notes(conn, parsed, key_secret=settings.key_secret, topic=settings.topic_accepted,
                    protector=protector_from_settings(settings))


def _pending(settings: Settings) -> int:
    return infra.query(settings.database_url,
                       "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL")[0]["n"]


def test_relay_publishes_valid_events_keyed_by_household(settings: Settings, broker) -> None:  # type: ignore[no-untyped-def]
    topic = "it.accepted.relay"
    infra.create_topics(broker.bootstrap, [topic], 2)
    settings = settings.model_copy(update={"topic_accepted": topic})
    _store(settings, [note(), note()])
    pool = make_pool(settings.database_url, max_size=2)
    try:
        relay = OutboxRelay(pool, settings.database_url, settings.kafka_bootstrap)
        assert relay.publish_batch() == 2
        assert relay.publish_batch() == 0
    finally:
        pool.close()
    events = infra.read_topic(broker.bootstrap, topic, expect=2)
    assert len(events) == 2
    for event in events:
        assert validate("note-accepted.v1", event) == []
    assert events[0]["subject_key"] == events[1]["subject_key"]  # same address, same household
    assert _pending(settings) == 0


def test_broker_outage_loses_nothing(settings: Settings, stack) -> None:  # type: ignore[no-untyped-def]
    """Notes accepted while the broker is down are published once it is back."""
    outage_broker = EmbeddedBroker(infra.free_port())
    outage_broker.start()
    topic = "it.accepted.outage"
    infra.create_topics(outage_broker.bootstrap, [topic], 2)
    settings = settings.model_copy(update={"topic_accepted": topic,
                                           "kafka_bootstrap": outage_broker.bootstrap})
    pool = make_pool(settings.database_url, max_size=2)
    stop = threading.Event()
    relay = OutboxRelay(pool, settings.database_url, settings.kafka_bootstrap, poll_seconds=0.2,
                        stop=stop)
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    try:
        _store(settings, [note() for _ in range(5)])
        infra.wait_until(lambda: _pending(settings) == 0, what="first notes published")
        outage_broker.stop()
        _store(settings, [note() for _ in range(7)])  # accepted while the broker is down
        threading.Event().wait(1.5)
        assert _pending(settings) == 7
        # the broker comes back (memory storage: empty, topics recreated by the operator)
        outage_broker.start()
        infra.create_topics(outage_broker.bootstrap, [topic], 2)
        infra.wait_until(lambda: _pending(settings) == 0, timeout=60, what="backlog published")
        events = infra.read_topic(outage_broker.bootstrap, topic, expect=7)
        stored_late = {r["id"] for r in infra.query(
            settings.database_url, "SELECT id::text FROM notes ORDER BY received_at DESC LIMIT 7")}
        assert stored_late <= {e["note_id"] for e in events}
    finally:
        stop.set()
        thread.join(10)
        pool.close()
        outage_broker.stop()


def test_kafka_intake_stores_valid_and_dead_letters_the_rest(settings: Settings, broker) -> None:  # type: ignore[no-untyped-def]
    incoming, dlq = "it.incoming", "it.deadletter"
    infra.create_topics(broker.bootstrap, [incoming, dlq], 1)
    settings = settings.model_copy(update={"topic_incoming": incoming, "topic_deadletter": dlq})
    with psycopg.connect(settings.database_url) as conn:
        ensure_tenant(conn, "corp-a")
    good = [note(), note()]
    infra.produce(broker.bootstrap, incoming, [
        json.dumps({"tenant": "corp-a", "note": good[0]}).encode(),
        b"\xff\xfe not json",
        json.dumps({"tenant": "corp-a", "note": {**good[1], "text": ""}}).encode(),
        json.dumps({"tenant": "corp-unknown", "note": note()}).encode(),
        json.dumps({"tenant": "corp-a", "note": good[1]}).encode(),
        json.dumps({"tenant": "corp-a", "note": good[0]}).encode(),  # duplicate
    ])
    pool = make_pool(settings.database_url, max_size=2)
    stop = threading.Event()
    thread = threading.Thread(target=make_intake(settings, pool, stop).run, daemon=True)
    thread.start()
    try:
        dead = infra.read_topic(broker.bootstrap, dlq, expect=3, timeout=60)
        infra.wait_until(lambda: infra.query(settings.database_url,
                                             "SELECT count(*) AS n FROM notes")[0]["n"] == 2)
    finally:
        stop.set()
        thread.join(15)
        pool.close()
    assert sorted(d["reason"] for d in dead) == ["invalid_json", "schema_violation", "unknown_tenant"]
    for record in dead:
        assert validate("dead-letter.v1", record) == []
        assert record["source_topic"] == incoming
    schema_record = next(d for d in dead if d["reason"] == "schema_violation")
    assert schema_record["errors"] == ["note.text: must be at least 1 characters long"]
    stored = infra.query(settings.database_url, "SELECT external_id, source FROM notes")
    assert {(r["external_id"], r["source"]) for r in stored} == {(n["external_id"], "kafka")
                                                                 for n in good}
