"""The notifier's alert sink: alerts.raised -> pattern_alerts on real PostgreSQL and a real broker.
Idempotent by alert id; watch -> escalate upgrades; area alerts carry no household identifiers."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from kafka import KafkaProducer
from psycopg.rows import dict_row

from buurtsignaal.adapters.alerts_repo import alerts_for_subject, area_alerts, household_alerts
from buurtsignaal.adapters.kafka import create_topics
from buurtsignaal.adapters.postgres import make_pool
from buurtsignaal.config import Settings
from buurtsignaal.devstack import EmbeddedPostgres
from buurtsignaal.domain.regions import RegionMap
from services.detector.early_warning.alerts import alert_event
from services.detector.early_warning.engine import Emission
from services.notifier.alerts_consumer import make_alerts_consumer_loop
from tests.support import infra


def emission(alert_id: str, level: str, scope: str = "household", municipality: str = "GM0344",
             notes: tuple[str, ...] = ("n1", "n2")) -> Emission:
    return Emission(
        alert_id=alert_id, scope=scope, key=("a" if scope == "household" else "b") * 32,  # type: ignore[arg-type]
        municipality_code=municipality, level=level, previous_level=None if level == "watch" else "watch",
        rule="reeks" if level == "escalate" else "patroon_in_wording",
        note_ids=notes if scope == "household" else (), raised_at=1_780_000_000.0,
        window_start=1_779_000_000.0, summary=f"{len(notes)} meldingen",
        households=3 if scope == "area" else 0, ground="herkomst" if scope == "area" else "")


def encoded(e: Emission) -> bytes:
    return json.dumps(alert_event(e, ruleset_version="rules-test", detected_at=datetime.now(UTC))).encode()


@pytest.fixture
def sink(pg: EmbeddedPostgres, settings: Settings) -> Iterator[Settings]:
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute("TRUNCATE pattern_alerts")
    prefix = f"sink{uuid.uuid4().hex[:6]}"
    settings = settings.model_copy(update={"topic_alerts": f"{prefix}.alerts",
                                           "topic_deadletter": f"{prefix}.dead"})
    create_topics(settings.kafka_bootstrap, [settings.topic_alerts, settings.topic_deadletter], 2)
    pool = make_pool(settings.database_url, max_size=2, name="alerts-sink-test")
    stop = threading.Event()
    loop = make_alerts_consumer_loop(settings, pool, RegionMap.load(settings.regions_file), stop)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    try:
        yield settings
    finally:
        stop.set()
        thread.join(15)
        pool.close()


def produce(settings: Settings, values: list[bytes]) -> None:
    """One key, so one partition: the messages are consumed in this order."""
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    for value in values:
        producer.send(settings.topic_alerts, key=b"k", value=value)
    producer.flush(10)
    producer.close()


def rows(url: str) -> list[dict[str, Any]]:
    return infra.query(url, "SELECT * FROM pattern_alerts ORDER BY scope, id")


def test_alerts_are_stored_upgraded_and_replays_ignored(sink: Settings) -> None:
    household, area = "1" * 32, "2" * 32
    watch = emission(household, "watch")
    escalate = emission(household, "escalate", notes=("n1", "n2", "n3"))
    produce(sink, [encoded(watch), encoded(emission(area, "watch", "area"))])
    infra.wait_until(lambda: len(rows(sink.database_url)) == 2, what="two alerts stored")
    stored = {r["id"]: r for r in rows(sink.database_url)}
    assert stored[household]["level"] == "watch" and stored[household]["adv_region"] == "midden-nederland"
    assert stored[area]["subject_key"] is None and stored[area]["note_ids"] == []
    assert stored[area]["households"] == 3 and stored[area]["ground"] == "herkomst"

    # Upgrade, then a late replay of the watch event and a duplicate escalate: one row, escalate.
    # The invalid message comes last in the same partition: once it is dead-lettered, the
    # replays before it have been processed.
    produce(sink, [encoded(escalate), encoded(watch), encoded(escalate), b"{not json"])
    infra.wait_until(lambda: {r["id"]: r["level"] for r in rows(sink.database_url)}[household] == "escalate",
                     what="upgrade")
    dead = infra.read_topic(sink.kafka_bootstrap, sink.topic_deadletter, expect=1)
    assert dead[0]["reason"] == "invalid_json" and dead[0]["consumer"] == "notifier-alerts"
    final = {r["id"]: r for r in rows(sink.database_url)}
    assert len(final) == 2
    assert final[household]["level"] == "escalate" and final[household]["rule"] == "reeks"
    assert final[household]["note_ids"] == ["n1", "n2", "n3"]
    assert final[household]["first_raised_at"] == stored[household]["first_raised_at"]

    # What the review UI reads: the region's household alerts (escalate first), a household's
    # alerts for its timeline, and the coordinator's area alerts without household identifiers.
    other = "3" * 32
    produce(sink, [encoded(emission(other, "watch", notes=("n9", "n10")))])
    infra.wait_until(lambda: len(rows(sink.database_url)) == 3, what="third alert")
    with psycopg.connect(sink.database_url, row_factory=dict_row) as conn:
        queue = household_alerts(conn, "midden-nederland")
        assert [(a["id"], a["level"]) for a in queue] == [(household, "escalate"), (other, "watch")]
        assert household_alerts(conn, "drenthe") == []
        assert [a["id"] for a in alerts_for_subject(conn, "a" * 32)] == [household, other]
        areas = area_alerts(conn, ["GM0344"])
        assert [a["id"] for a in areas] == [area] and "subject_key" not in areas[0]
        assert area_alerts(conn, ["GM0014"]) == []


def test_database_refuses_household_identifiers_on_area_alerts(pg: EmbeddedPostgres) -> None:
    with psycopg.connect(pg.url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO pattern_alerts (id, scope, subject_key, area_key, municipality_code,"
            " adv_region, level, rule, summary, window_start, raised_at, first_raised_at,"
            " ruleset_version) VALUES ('x', 'area', %s, %s, 'GM0344', 'r', 'watch', 'r', 's',"
            " now(), now(), now(), 'v')", ("a" * 32, "b" * 32))
