"""Erasure and retention reach the streaming detector's early-warning state (decision 0026).

A real `buurtsignaal serve detector` process on a real broker builds state for three households
of one area; `buurtsignaal erase` (a real CLI process) deletes one household: its table entry is
tombstoned in the changelog, the area state loses its observations, and after a SIGTERM restart
the recovered tables still lack them. A retention purge trims one note from another household.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from kafka import KafkaConsumer, TopicPartition
from psycopg.rows import dict_row

from buurtsignaal.adapters.apikeys import ensure_tenant
from buurtsignaal.adapters.kafka import make_producer
from buurtsignaal.adapters.notes_repo import store_notes
from buurtsignaal.config import Settings
from buurtsignaal.devstack import EmbeddedBroker, EmbeddedPostgres
from buurtsignaal.privacy.propagate import publish_pending
from buurtsignaal.privacy.protect import protector_from_settings
from buurtsignaal.privacy.retention import RetentionPolicy, purge
from buurtsignaal.privacy.topics import create_all
from buurtsignaal.service.intake import parse_batch
from tests.support import infra
from tests.support.notes import NEUTRAL_TEXT, note
from tests.support.services import ServiceProcs, metric_value, service_procs

NAMES = ("incoming", "accepted", "scored", "deadletter", "alerts", "household_state", "area_state",
         "area_notes", "erasures")
# One postcode area (3531, GM0344): the same ground at three households is an area signal.
SLURS = (
    "Buurman schold mevr. op nr. 3 uit voor vuile makaak en riep dat ze terug moet naar haar land.",
    "Dhr. op nr. 11 wordt door jongeren nageroepen met kutmarokkaan en terug naar je land.",
    "Fam. op nr. 20 uitgescholden voor vuile turken, buurman riep dat zij hier niet horen.",
)
ERASED, KEPT, THIRD = 3, 11, 20  # house numbers


def _topic_env(settings: Settings) -> dict[str, str]:
    return {f"BUURTSIGNAAL_TOPIC_{n.upper()}": getattr(settings, f"topic_{n}") for n in NAMES}


@pytest.fixture(params=["detector", "early-warning"])
def detector(request: pytest.FixtureRequest, stack: tuple[EmbeddedPostgres, EmbeddedBroker],
             pg: EmbeddedPostgres) -> Iterator[ServiceProcs]:
    """The detector with the early warning inside, or the early warning as its own process
    (decision 0037): the forget agent lives in `attach()`, so it runs wherever the tables do."""
    _, broker = stack
    prefix = f"er{uuid.uuid4().hex[:6]}"
    settings = infra.make_settings(pg, broker, **{f"topic_{n}": f"{prefix}.{n}" for n in NAMES})
    create_all(settings)  # as `buurtsignaal topics create`: retention.ms, compacted changelogs
    split = request.param == "early-warning"
    procs = service_procs(settings, split_early_warning=split)
    procs.env.update(_topic_env(settings))
    procs.start("detector")
    if split:
        procs.start("early-warning")
    procs.ew = request.param  # type: ignore[attr-defined]
    try:
        yield procs
    finally:
        procs.stop_all()


def _conn(settings: Settings) -> psycopg.Connection[Any]:
    return psycopg.connect(settings.database_url, row_factory=dict_row, autocommit=True)


def _store(settings: Settings, house: int, texts: list[str], day: int) -> list[str]:
    notes = [note(text, address={"postcode": "3531 AB", "house_number": house},
                  occurred_at=f"2026-03-{day + i:02d}T10:00:00+01:00") for i, text in enumerate(texts)]
    with _conn(settings) as conn:
        ensure_tenant(conn, "corp-a")
        parsed = parse_batch({"notes": notes}, "corp-a")
        assert isinstance(parsed, list)
        with conn.transaction():
            result = store_notes(conn, parsed, key_secret=settings.key_secret,
                                 topic=settings.topic_accepted, protector=protector_from_settings(settings))
    return [nid for _, nid in result.accepted]


def _relay(settings: Settings, topic: str) -> None:
    """Publish the outbox rows of `topic`, as the ingest service's relay does."""
    with _conn(settings) as conn:
        sent = publish_pending(conn, topic, lambda: make_producer(settings.kafka_bootstrap, "test-relay"))
    assert sent.pending == 0 and sent.published > 0, sent


def _latest(settings: Settings, topic: str) -> dict[str, dict[str, Any] | None]:
    """The latest value per key of a changelog topic (None: a tombstone), read from the start."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
                             group_id=None, consumer_timeout_ms=1500)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        latest: dict[str, dict[str, Any] | None] = {}
        for record in consumer:
            latest[record.key.decode()] = json.loads(record.value) if record.value is not None else None
        return latest
    finally:
        consumer.close()


def _notes_in(value: dict[str, Any] | None) -> set[str]:
    return {row[1] for row in (value or {}).get("notes", [])}


def _subjects_in(value: dict[str, Any] | None) -> set[str]:
    return {row[8] for row in (value or {}).get("notes", [])}


def _keys(settings: Settings, house: int) -> tuple[str, str]:
    row = infra.query(settings.database_url, "SELECT subject_key, area_key FROM notes "
                      "WHERE house_number = %s LIMIT 1", (house,))[0]
    return row["subject_key"], row["area_key"]


def _erase(settings: Settings, env: dict[str, str], key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "buurtsignaal.cli", "erase", "--address-key", key,
         "--reference", "AVG-2026-T1", "--yes"],
        env=env, capture_output=True, text=True, timeout=120,
    )


def _metrics(procs: ServiceProcs) -> str:
    return httpx.get(procs.url(procs.ew) + "/metrics", timeout=5).text  # type: ignore[attr-defined]


def test_erasure_and_retention_reach_the_early_warning_state_and_survive_a_restart(
        detector: ServiceProcs) -> None:
    settings = detector.settings
    erased_ids = _store(settings, ERASED, [SLURS[0], SLURS[0].replace("makaak", "aap")], day=2)
    kept_ids = _store(settings, KEPT, [SLURS[1], NEUTRAL_TEXT], day=9)
    third_ids = _store(settings, THIRD, [SLURS[2]], day=20)
    erased_key, area_key = _keys(settings, ERASED)
    kept_key, _ = _keys(settings, KEPT)
    _relay(settings, settings.topic_accepted)

    def state_built() -> bool:
        houses = _latest(settings, settings.topic_household_state)
        area = _latest(settings, settings.topic_area_state).get(area_key)
        return (_notes_in(houses.get(erased_key)) == set(erased_ids)
                and _notes_in(houses.get(kept_key)) == set(kept_ids)
                and set(erased_ids) <= _notes_in(area))

    infra.wait_until(state_built, timeout=90, what="early-warning state of the three households")
    area_before = _latest(settings, settings.topic_area_state)[area_key]
    assert erased_key in _subjects_in(area_before) and third_ids[0] in _notes_in(area_before)

    # The erasure command: database work, then the event, published by the command itself.
    env = {**detector.env}
    result = _erase(settings, env, erased_key)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    state_report = report["early_warning_state"]
    assert state_report["queued"] == {"events": 1, "households": 1, "note_ids": 2, "area_keys": 1}
    assert state_report["published"] == 1 and state_report["pending"] == 0
    assert report["removed"]["notes"] == 2

    def erased_everywhere() -> bool:
        houses = _latest(settings, settings.topic_household_state)
        area = _latest(settings, settings.topic_area_state).get(area_key)
        return (erased_key in houses and houses[erased_key] is None  # the tombstone
                and not set(erased_ids) & _notes_in(area) and erased_key not in _subjects_in(area))

    infra.wait_until(erased_everywhere, timeout=60, what="household tombstoned, area trimmed")
    area_after = _latest(settings, settings.topic_area_state)[area_key]
    assert _notes_in(area_after) == _notes_in(area_before) - set(erased_ids)  # the others stay
    assert all(set(erased_ids).isdisjoint(a["note_ids"]) for a in area_after["alerts"])

    # Retention: the neutral note of the kept household is past its 90 days (no case: the
    # notifier, which opens cases, does not run here; the other notes are young).
    unflagged = [i for i in kept_ids if infra.query(
        settings.database_url, "SELECT 1 FROM notes WHERE id = %s AND text = %s", (i, NEUTRAL_TEXT))]
    assert len(unflagged) == 1
    with _conn(settings) as conn:
        conn.execute("UPDATE notes SET received_at = now() - interval '100 days' WHERE id = %s",
                     (unflagged[0],))
        counts = purge(conn, RetentionPolicy(), erasure_topic=settings.topic_erasures)
    assert counts is not None and counts["unflagged_notes"] == 1
    assert counts["sent"] == {"events": 1, "households": 1, "note_ids": 1, "area_keys": 1}
    _relay(settings, settings.topic_erasures)
    infra.wait_until(lambda: _notes_in(_latest(settings, settings.topic_household_state).get(kept_key))
                     == set(kept_ids) - set(unflagged), timeout=60, what="retention trimmed the household")

    # Restart: the new process recovers its tables from the changelogs, without what was forgotten.
    text = _metrics(detector)
    assert metric_value(text, 'buurtsignaal_detector_early_warning_forgotten_total{reason="erasure",'
                              'table="households",what="keys"}') == 1
    detector.stop(detector.ew)  # type: ignore[attr-defined]
    detector.start(detector.ew)  # type: ignore[attr-defined]

    def recovered(table: str, keys: int, notes: int) -> bool:
        text = _metrics(detector)
        prefix = "buurtsignaal_detector_early_warning_table"
        return (metric_value(text, f'{prefix}_keys{{table="{table}"}}') == keys
                and metric_value(text, f'{prefix}_notes{{table="{table}"}}') == notes)

    # Households: the kept one (1 note left) and the third (1 note); the erased one is gone.
    infra.wait_until(lambda: recovered("households", 2, 2), timeout=60, what="households recovered")
    # The area: the flagged notes of the two remaining households.
    assert recovered("areas", 1, 2), _metrics(detector)
    # Erasing again is harmless (idempotent) and still reported as sent.
    again = _erase(settings, env, erased_key)
    assert again.returncode == 0 and json.loads(again.stdout)["removed"]["notes"] == 0


def test_a_broker_outage_is_reported_and_a_rerun_publishes(stack: tuple[EmbeddedPostgres, EmbeddedBroker],
                                                            pg: EmbeddedPostgres) -> None:
    _, broker = stack
    settings = infra.make_settings(pg, broker, topic_erasures=f"er{uuid.uuid4().hex[:6]}.erasures")
    create_all(settings)
    _store(settings, ERASED, [SLURS[0]], day=2)
    key, _ = _keys(settings, ERASED)
    env = {**os.environ, "BUURTSIGNAAL_DATABASE_URL": settings.database_url,
           "BUURTSIGNAAL_TOPIC_ERASURES": settings.topic_erasures, "BUURTSIGNAAL_DEMO_MODE": "true"}
    down = _erase(settings, {**env, "BUURTSIGNAAL_KAFKA_BOOTSTRAP": f"127.0.0.1:{infra.free_port()}"}, key)
    assert down.returncode == 3, down.stderr[-2000:]
    assert "could not be published" in down.stderr and "re-run" in down.stderr
    report = json.loads(down.stdout)
    assert report["removed"]["notes"] == 1  # the database part is done ...
    assert report["early_warning_state"]["pending"] == 1  # ... and the event waits in the outbox
    pending = infra.query(settings.database_url, "SELECT payload FROM outbox WHERE topic = %s "
                          "AND sent_at IS NULL", (settings.topic_erasures,))
    assert [p["payload"]["subject_key"] for p in pending] == [key]
    assert "text" not in pending[0]["payload"]

    up = _erase(settings, {**env, "BUURTSIGNAAL_KAFKA_BOOTSTRAP": settings.kafka_bootstrap}, key)
    assert up.returncode == 0, up.stderr[-2000:]
    assert json.loads(up.stdout)["early_warning_state"]["published"] == 2  # the first one too
    events = infra.read_topic(settings.kafka_bootstrap, settings.topic_erasures, expect=2, timeout=30)
    assert [e["subject_key"] for e in events] == [key, key]
    assert events[0]["note_ids"] and events[1]["note_ids"] == []  # the re-run: nothing left in PG
