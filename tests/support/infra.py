"""Real infrastructure for integration and e2e tests: embedded PostgreSQL and a tansu broker."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from kafka import KafkaConsumer, KafkaProducer
from psycopg.rows import dict_row

from buurtsignaal.adapters.kafka import create_topics
from buurtsignaal.adapters.postgres import migrate
from buurtsignaal.config import Settings
from buurtsignaal.devstack import EmbeddedBroker, EmbeddedPostgres, free_port

__all__ = ["create_topics", "free_port"]

# A frozen copy of the first shipped early-warning rules, for tests of the engine's mechanics.
FROZEN_RULES = Path(__file__).with_name("early_warning_rules_v1.yaml")
TABLES = ("audit_log, sessions, users, notifications, cases, note_scores, outbox, notes, api_keys, "
          "tenants")


def start_postgres() -> tuple[EmbeddedPostgres, Path]:
    tmp = Path(tempfile.mkdtemp(prefix="bs-pg-"))
    pg = EmbeddedPostgres(tmp, free_port())
    pg.start()
    migrate(pg.url)
    return pg, tmp


def start_broker(settings_topics: tuple[str, ...], partitions: int = 4,
                 port: int | None = None) -> EmbeddedBroker:
    broker = EmbeddedBroker(port or free_port())
    broker.start()
    create_topics(broker.bootstrap, list(settings_topics), partitions)
    return broker


def make_settings(pg: EmbeddedPostgres, broker: EmbeddedBroker, **overrides: Any) -> Settings:
    return Settings(database_url=pg.url, kafka_bootstrap=broker.bootstrap, demo_mode=True,
                    log_json=True, **overrides)


def truncate_all(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
        conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")


def query(url: str, sql: str, params: Any = None) -> list[dict[str, Any]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def read_topic(bootstrap: str, topic: str, *, expect: int, timeout: float = 30) -> list[Any]:
    """All messages from the start of `topic`, waiting until at least `expect` arrived."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, group_id=None, consumer_timeout_ms=500)
    found: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(found) < expect:
            for record in consumer:
                found.append(json.loads(record.value))
    finally:
        consumer.close()
    return found


def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    for value in values:
        producer.send(topic, value=value)
    producer.flush(10)
    producer.close()


def wait_until(predicate: Any, timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def session_infra() -> Iterator[tuple[EmbeddedPostgres, EmbeddedBroker]]:
    pg, tmp = start_postgres()
    broker = start_broker(Settings().topics)
    try:
        yield pg, broker
    finally:
        broker.stop()
        pg.stop("immediate")
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
