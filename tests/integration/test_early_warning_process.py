"""The early warning as its own process (decision 0037): the detector with
BUURTSIGNAAL_DETECTOR_EARLY_WARNING=false only scores, `buurtsignaal serve early-warning` raises
the same alerts as `backtest` from the detector's notes.scored, and every scored event of a
large batch reaches notes.scored exactly once (the detector's batch sender)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from kafka import KafkaProducer

from buurtsignaal.adapters.kafka import create_topics
from buurtsignaal.config import Settings
from buurtsignaal.devstack import EmbeddedBroker, EmbeddedPostgres
from buurtsignaal.schemas import validate
from services.detector.detection import load_detector
from services.detector.early_warning.alerts import backtest_line, line_from_event
from services.detector.early_warning.backtest import run_backtest
from services.detector.early_warning.config import load_rules
from tests.integration.early_warning.scenario import accepted_event, records
from tests.support import infra
from tests.support.services import ServiceProcs, service_procs

TOPICS = ("incoming", "accepted", "scored", "deadletter", "alerts", "household_state", "area_state",
          "area_notes", "erasures")


@pytest.fixture
def split(stack: tuple[EmbeddedPostgres, EmbeddedBroker]) -> Iterator[ServiceProcs]:
    pg, broker = stack
    prefix = f"split{uuid.uuid4().hex[:6]}"
    names = {f"topic_{n}": f"{prefix}.{n}" for n in TOPICS if hasattr(Settings(), f"topic_{n}")}
    settings = infra.make_settings(pg, broker, **names)
    create_topics(broker.bootstrap, list(settings.topics), settings.topic_partitions,
                  compacted=settings.compacted_topics)
    procs = service_procs(settings, split_early_warning=True)
    procs.env.update({f"BUURTSIGNAAL_{k.upper()}": v for k, v in names.items()})
    procs.start("early-warning")
    procs.start("detector")
    try:
        yield procs
    finally:
        procs.stop("detector")
        procs.stop("early-warning")


def _produce(settings: Settings, events: list[dict[str, Any]]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    for event in events:
        producer.send(settings.topic_accepted, key=event["subject_key"].encode(),
                      value=json.dumps(event).encode())
    producer.flush(10)
    producer.close()


def _canon(lines: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(line, sort_keys=True) for line in lines)


def test_split_processes_raise_the_backtest_alerts(split: ServiceProcs) -> None:
    settings = split.settings
    recs = records()
    expected = [backtest_line(e) for e in run_backtest(recs, load_rules(), load_detector()).emissions]
    assert expected, "the scenario raises no alert: the test proves nothing"
    _produce(settings, [accepted_event(r) for r in recs])
    got = infra.read_topic(settings.kafka_bootstrap, settings.topic_alerts, expect=len(expected),
                           timeout=90)
    for event in got:
        assert validate("alert.v1", event) == [], event
    assert _canon([line_from_event(e) for e in got]) == _canon(expected)
    # The scoring process holds no early-warning state; the early-warning process does.
    detector = httpx.get(split.url("detector") + "/metrics", timeout=5).text
    early = httpx.get(split.url("early-warning") + "/metrics", timeout=5).text
    assert "buurtsignaal_detector_early_warning_table_keys{" not in detector
    infra.wait_until(lambda: "buurtsignaal_detector_early_warning_table_keys{" in httpx.get(
        split.url("early-warning") + "/metrics", timeout=5).text, timeout=30, what="table gauges")
    assert "buurtsignaal_detector_notes_scored_total 0.0" in early


def test_every_event_of_large_batches_is_scored_once(split: ServiceProcs) -> None:
    settings = split.settings
    base = records()
    events = []
    for i in range(1500):  # several take_events batches of up to 256, over four partitions
        rec = {**base[i % len(base)], "id": str(uuid.uuid4()), "subject_key": f"{i % 97:032x}"}
        events.append(accepted_event(rec))
    _produce(settings, events)
    scored = infra.read_topic(settings.kafka_bootstrap, settings.topic_scored, expect=len(events),
                              timeout=120)
    ids = [e["note_id"] for e in scored]
    assert sorted(ids) == sorted(e["note_id"] for e in events)  # all there, none twice
    assert all(validate("note-scored.v1", e) == [] for e in scored)
