"""The streaming detector (a real `buurtsignaal serve detector` process on a real broker) raises the
same alerts as `backtest`; a SIGTERM restart keeps its tables; a replay raises no duplicates."""

from __future__ import annotations

import json
import signal
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
from services.detector.early_warning.observation import parse_time
from tests.integration.early_warning.scenario import accepted_event, records
from tests.support import infra
from tests.support.services import ServiceProcs, service_procs

CUT = parse_time("2026-01-25T00:00:00+01:00")  # notes before: first run; after: second run


def _topic_env(settings: Settings) -> dict[str, str]:
    names = ("incoming", "accepted", "scored", "deadletter", "alerts", "household_state",
             "area_state", "area_notes")
    return {f"BUURTSIGNAAL_TOPIC_{n.upper()}": getattr(settings, f"topic_{n}") for n in names}


@pytest.fixture
def detector(stack: tuple[EmbeddedPostgres, EmbeddedBroker]) -> Iterator[ServiceProcs]:
    pg, broker = stack
    prefix = f"ew{uuid.uuid4().hex[:6]}"
    topics = {f"topic_{n}": f"{prefix}.{n}" for n in
              ("incoming", "accepted", "scored", "deadletter", "alerts", "household_state",
               "area_state", "area_notes")}
    # The engine's mechanics (state across restarts, upgrades, replays) on a frozen rules file, so
    # that tuning config/early-warning.yaml cannot take away the upgrade this test needs.
    settings = infra.make_settings(pg, broker, early_warning_rules=str(infra.FROZEN_RULES), **topics)
    create_topics(broker.bootstrap, list(settings.topics), settings.topic_partitions,
                  compacted=settings.compacted_topics)
    procs = service_procs(settings)
    procs.env.update(_topic_env(settings))
    procs.env["BUURTSIGNAAL_EARLY_WARNING_RULES"] = str(infra.FROZEN_RULES)
    procs.start("detector")
    try:
        yield procs
    finally:
        procs.stop_all()


def _produce(settings: Settings, recs: list[dict[str, Any]]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    for rec in recs:  # keyed by household, as the ingest relay publishes them
        producer.send(settings.topic_accepted, key=rec["subject_key"].encode(),
                      value=json.dumps(accepted_event(rec)).encode())
    producer.flush(10)
    producer.close()


def _expected(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = run_backtest(recs, load_rules(infra.FROZEN_RULES), load_detector())
    return [backtest_line(e) for e in result.emissions]


def _alerts(settings: Settings, expect: int) -> list[dict[str, Any]]:
    events = infra.read_topic(settings.kafka_bootstrap, settings.topic_alerts, expect=expect,
                              timeout=90)
    for event in events:
        assert validate("alert.v1", event) == [], event
    return events


def _canon(lines: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(line, sort_keys=True) for line in lines)


def _metrics(procs: ServiceProcs) -> str:
    return httpx.get(procs.url("detector") + "/metrics", timeout=5).text


def _sample(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[-1])
    return total


SKIPPED = "buurtsignaal_detector_early_warning_skipped_total"


def test_streaming_equals_backtest_across_restart_and_replay(detector: ServiceProcs) -> None:
    settings = detector.settings
    recs = records()
    first = [r for r in recs if parse_time(r["occurred_at"]) < CUT]
    second = [r for r in recs if parse_time(r["occurred_at"]) >= CUT]
    expected_first = _expected(first)
    expected_all = _expected(recs)
    # The scenario must exercise what we claim: household alerts that span the restart, both
    # levels, and an area alert without household identifiers.
    spanning = {e["alert_id"] for e in expected_first} & {
        e["alert_id"] for e in expected_all[len(expected_first):]}
    assert spanning, "no alert is upgraded after the restart: the scenario proves nothing"
    assert {e["level"] for e in expected_all} == {"watch", "escalate"}
    assert any("area_key" in e for e in expected_all)

    _produce(settings, first)
    got = _alerts(settings, len(expected_first))
    assert _canon([line_from_event(e) for e in got]) == _canon(expected_first)

    # SIGTERM: faust commits offsets and flushes the changelogs; the new process recovers them.
    detector.stop("detector")
    detector.start("detector")
    _produce(settings, second)
    got = _alerts(settings, len(expected_all))
    assert _canon([line_from_event(e) for e in got]) == _canon(expected_all)
    area = [e for e in got if e["scope"] == "area"]
    assert area and all("subject_key" not in e and e["note_ids"] == [] for e in area)

    # Replay every note (at-least-once redelivery): each is recognised (as a duplicate, or as too
    # old to matter when it was pruned beyond the retention), and no alert is raised again.
    def recognised() -> float:
        text = _metrics(detector)
        return sum(_sample(text, SKIPPED, table="households", reason=r) for r in ("duplicate", "too_late"))

    before = recognised()
    _produce(settings, recs)
    try:
        infra.wait_until(lambda: recognised() - before >= len(recs), timeout=120,
                         what="every replayed note recognised")
    except AssertionError:
        lines = [x for x in _metrics(detector).splitlines() if "early_warning" in x or "scored" in x]
        pytest.fail(f"recognised {recognised() - before} of {len(recs)} replayed notes\n"
                    + "\n".join(lines) + "\n" + detector.log("detector")[-4000:])
    got = _alerts(settings, len(expected_all))
    assert len(got) == len(expected_all)
    assert _canon([line_from_event(e) for e in got]) == _canon(expected_all)
    # Metrics of the second process: alerts by rule and level, table sizes.
    text = _metrics(detector)
    raised_after_restart = len(expected_all) - len(expected_first)
    assert _sample(text, "buurtsignaal_detector_alerts_raised_total") == raised_after_restart
    # Table sizes, recovered after the restart: every household and area of the scenario, and
    # every note that is still within the retention.
    households = len({r["subject_key"] for r in recs})
    infra.wait_until(lambda: _sample(_metrics(detector), "buurtsignaal_detector_early_warning_table_keys",
                                     table="households") == households, timeout=30, what="table size")
    assert _sample(_metrics(detector), "buurtsignaal_detector_early_warning_table_notes",
                   table="households") > len(recs) / 2


def test_sigkill_may_resend_but_never_invents_or_loses_alerts(detector: ServiceProcs) -> None:
    """After SIGKILL faust re-processes what it had not committed. The state is idempotent per note
    and alert events are deterministic, so the distinct events are exactly backtest's."""
    settings = detector.settings
    recs = records()
    first = [r for r in recs if parse_time(r["occurred_at"]) < CUT]
    second = [r for r in recs if parse_time(r["occurred_at"]) >= CUT]
    expected_all = _expected(recs)
    _produce(settings, first)
    _alerts(settings, len(_expected(first)))
    detector.stop("detector", signal.SIGKILL)
    detector.start("detector")
    _produce(settings, second)
    infra.wait_until(lambda: len({e["event_id"] for e in _alerts(settings, len(expected_all))})
                     >= len(expected_all), timeout=60, what="all alerts after SIGKILL")
    got = _alerts(settings, len(expected_all))
    distinct = {e["event_id"]: line_from_event(e) for e in got}
    assert _canon(list(distinct.values())) == _canon(expected_all)
