"""Faults survived with nothing lost: notes stream in over HTTP while a fault is injected; when the
stack is quiet again every accepted note is stored, scored exactly once, every flagged note has
exactly one case, and the early warning never counted a note twice.

Own PostgreSQL and broker (the broker is restarted here). Faults, in order: SIGKILL the detector,
SIGKILL the notifier, restart PostgreSQL, a burst at 10x the normal rate, restart the broker
(memory storage: topics and offsets are lost; the operator recreates the topics and restarts
the faust detector; the resender re-publishes what the broker lost). The cost of each fault
(time to recover, notes delayed) is written to test-artifacts/fault_costs.json and logged.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from kafka import KafkaConsumer

from buurtsignaal.adapters.apikeys import create_key, ensure_tenant
from buurtsignaal.config import Settings
from buurtsignaal.devstack import EmbeddedBroker, EmbeddedPostgres
from tests.support import infra
from tests.support.notes import FLAGGED_TEXT, NEUTRAL_TEXT, note
from tests.support.services import ServiceProcs, metric_value, service_procs

ROOT = Path(__file__).resolve().parents[3]
TENANT = "corp-faults"
RESEND_AFTER_S = 8  # grace before an unscored note is re-sent (production default: 600 s)
NORMAL_BATCH = 4  # notes per request; 5 requests/s -> 20 notes/s
QUIET_TIMEOUT_S = 120
COSTS: list[dict[str, Any]] = []


@dataclass
class Streamer:
    """Posts batches of notes continuously from a thread, as a corporation's system would:
    a failed request is retried with the same external ids (idempotent)."""

    url: str
    key: str
    batch: int = NORMAL_BATCH
    interval: float = 0.2
    acknowledged: set[str] = field(default_factory=set)  # external ids answered with 202
    failures: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _seq: int = 0

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="streamer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)

    def _batch(self) -> list[dict[str, Any]]:
        notes = []
        for _ in range(self.batch):
            self._seq += 1
            house = self._seq % 12  # a dozen households: repeated flags make early-warning alerts
            text = FLAGGED_TEXT if self._seq % 3 == 0 else NEUTRAL_TEXT
            notes.append(note(text, external_id=f"f-{self._seq:07d}",
                              address={"postcode": "3531 AB", "house_number": 100 + house}))
        return notes

    def _run(self) -> None:
        deadline = time.monotonic() + 300  # bounded: never outlives a test
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set() and time.monotonic() < deadline:
                started = time.monotonic()
                notes = self._batch()
                for _attempt in range(100):
                    try:
                        r = client.post(self.url + "/v1/notes", json={"notes": notes},
                                        headers={"Authorization": f"Bearer {self.key}"})
                        if r.status_code == 202:
                            self.acknowledged.update(n["external_id"] for n in notes)
                            break
                        if r.status_code == 429:
                            time.sleep(float(r.headers.get("retry-after", "1")))
                            continue
                    except httpx.HTTPError:
                        pass
                    self.failures += 1
                    if self._stop.wait(0.3):
                        break
                self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))


@dataclass
class FaultStack:
    pg: EmbeddedPostgres
    broker: EmbeddedBroker
    procs: ServiceProcs
    streamer: Streamer

    @property
    def url(self) -> str:
        return self.pg.url

    def restart_broker(self) -> None:
        """The broker goes down under load and comes back empty (memory storage). The operator's
        runbook (docs/operations.md): stop the faust detector, bring the broker back, recreate
        the topics, start the detector. A detector left running would write its table changelogs
        into the recreated topics before its restart, and faust's table recovery of the fresh
        worker can then wait for changelog events forever (seen on the embedded broker)."""
        self.broker.stop()
        time.sleep(1)
        self.procs.stop("detector")
        self.broker.start()
        subprocess.run([sys.executable, "-m", "buurtsignaal.cli", "topics", "create"],
                       env=self.procs.env, check=True, capture_output=True, timeout=60)
        self.procs.start("detector")


@pytest.fixture(scope="module")
def stack() -> Iterator[FaultStack]:
    pg, tmp = infra.start_postgres()
    settings = Settings()
    broker = EmbeddedBroker(infra.free_port())
    broker.start()
    infra.create_topics(broker.bootstrap, list(settings.topics), settings.topic_partitions,
                        compacted=settings.compacted_topics)
    procs = service_procs(infra.make_settings(pg, broker))
    procs.env.update({
        "BUURTSIGNAAL_RESEND_UNSCORED_AFTER_SECONDS": str(RESEND_AFTER_S),
        "BUURTSIGNAAL_RESEND_SWEEP_SECONDS": "2",
        "BUURTSIGNAAL_API_RATE_LIMIT_PER_MINUTE": "100000",
        "BUURTSIGNAAL_DATA_DIR": str(tmp / "data"),
    })
    with psycopg.connect(pg.url) as conn:
        ensure_tenant(conn, TENANT)
        key = create_key(conn, TENANT)
    stack = FaultStack(pg, broker, procs, Streamer(procs.url("ingest"), key))
    try:
        procs.start_all()
        yield stack
    finally:
        stack.streamer.stop()
        procs.stop_all()
        broker.stop()
        pg.stop("immediate")
        shutil.rmtree(tmp, ignore_errors=True)
        _write_costs()


def _count(url: str, sql: str) -> int:
    return int(infra.query(url, sql)[0]["n"])


def _unscored(url: str) -> int:
    return _count(url, """SELECT count(*) AS n FROM notes n
                          WHERE NOT EXISTS (SELECT 1 FROM note_scores s WHERE s.note_id = n.id)""")


def _run_fault(stack: FaultStack, name: str, inject: Callable[[], None], *,
               before_s: float = 4, after_s: float = 8, alerts_survive: bool = True) -> None:
    """Stream, inject the fault, keep streaming, stop, wait until quiet, check, record costs."""
    with psycopg.connect(stack.url) as conn:
        since = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
    stack.streamer.start()
    time.sleep(before_s)
    with psycopg.connect(stack.url) as conn:
        injected_at = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
    injected = time.monotonic()
    inject()
    injected_for = time.monotonic() - injected
    time.sleep(after_s)
    stack.streamer.stop()
    stopped = time.monotonic()
    try:
        infra.wait_until(lambda: _unscored(stack.url) == 0, timeout=QUIET_TIMEOUT_S + RESEND_AFTER_S,
                         what=f"every note scored after {name}")
    except AssertionError:
        raise AssertionError(f"{name}: {_unscored(stack.url)} notes unscored; logs:\n"
                             + "\n".join(f"--- {s}\n{stack.procs.log(s)[-3000:]}"
                                         for s in ("ingest", "detector", "notifier"))) from None
    quiet_after = time.monotonic() - stopped
    _check_invariants(stack, alerts_survive)
    _record_cost(stack, name, since, injected_at, injected_for, quiet_after)


def _check_invariants(stack: FaultStack, alerts_survive: bool) -> None:
    url = stack.url
    acknowledged = stack.streamer.acknowledged
    stored = {r["external_id"] for r in infra.query(
        url, "SELECT external_id FROM notes WHERE tenant_id = %s", (TENANT,))}
    # (c) nothing that was acknowledged with 202 is missing (a retried batch may have been stored
    # before its response was lost: stored may hold more than acknowledged, never less)
    assert acknowledged, "the streamer got no note accepted"
    missing = acknowledged - stored
    assert not missing, f"{len(missing)} acknowledged notes are not stored: {sorted(missing)[:5]}"
    # (a) every stored note has exactly one score
    assert _unscored(url) == 0
    assert not infra.query(url, "SELECT note_id FROM note_scores GROUP BY note_id HAVING count(*) > 1")
    notes = _count(url, "SELECT count(*) AS n FROM notes")
    scores = _count(url, "SELECT count(*) AS n FROM note_scores")
    assert notes == scores, (notes, scores)
    # (b) every flagged score has exactly one case, and no case without a flag (signal level)
    assert not infra.query(url, """SELECT s.note_id FROM note_scores s
                                   LEFT JOIN cases c ON c.note_id = s.note_id
                                   WHERE s.flag AND c.id IS NULL""")
    assert not infra.query(url, "SELECT note_id FROM cases GROUP BY note_id HAVING count(*) > 1")
    flagged = _count(url, "SELECT count(*) AS n FROM note_scores WHERE flag")
    cases = _count(url, """SELECT count(*) AS n FROM cases c JOIN note_scores s ON s.note_id = c.note_id
                           WHERE s.flag""")
    assert flagged == cases and flagged > 0, (flagged, cases)
    _check_early_warning(stack, alerts_survive)


def _check_early_warning(stack: FaultStack, alerts_survive: bool) -> None:
    """The alerts on alerts.raised never count a note twice, name only scored notes of their own
    household, and a re-sent alert (same event id) says the same as the first. After a restart of
    the memory broker the topic (and the faust tables' changelogs) start empty."""
    settings = stack.procs.settings
    consumer = KafkaConsumer(settings.topic_alerts, bootstrap_servers=stack.broker.bootstrap,
                             auto_offset_reset="earliest", enable_auto_commit=False, group_id=None,
                             consumer_timeout_ms=2000)
    try:
        alerts = [json.loads(record.value) for record in consumer]
    finally:
        consumer.close()
    households = [a for a in alerts if a["scope"] == "household"]
    if alerts_survive:
        assert households, "no household alert raised: the stream should make patterns"
    by_event: dict[str, list[str]] = {}
    rows = infra.query(stack.url, """SELECT n.id::text AS id, n.subject_key, s.flag FROM notes n
                                     JOIN note_scores s ON s.note_id = n.id""")
    subject_of = {r["id"]: r["subject_key"] for r in rows}
    for alert in households:
        ids = alert["note_ids"]
        assert len(ids) == len(set(ids)), f"alert {alert['alert_id']} counts a note twice: {ids}"
        for note_id in ids:
            assert subject_of.get(note_id) == alert["subject_key"], (alert["alert_id"], note_id)
        first = by_event.setdefault(alert["event_id"], ids)
        assert sorted(first) == sorted(ids), f"re-sent alert {alert['event_id']} differs"


def _record_cost(stack: FaultStack, name: str, since: Any, injected_at: Any, injected_for: float,
                 quiet_after: float) -> None:
    """Notes delayed (score stored more than 2 s after receipt), the worst delay, and how long
    after the injection notes were still arriving that got delayed (the disruption window)."""
    row = infra.query(stack.url, """
        SELECT count(*) AS notes,
               count(*) FILTER (WHERE s.stored_at - n.received_at > interval '2 seconds') AS delayed,
               coalesce(extract(epoch FROM max(n.received_at) FILTER (
                   WHERE s.stored_at - n.received_at > interval '2 seconds') - %s), 0) AS window,
               coalesce(extract(epoch FROM max(s.stored_at - n.received_at)), 0) AS max_latency,
               coalesce(extract(epoch FROM percentile_cont(0.5) WITHIN GROUP
                        (ORDER BY s.stored_at - n.received_at)), 0) AS p50
        FROM notes n JOIN note_scores s ON s.note_id = n.id WHERE n.received_at >= %s""",
        (injected_at, since))[0]
    resent = metric_value(httpx.get(stack.procs.url("ingest") + "/metrics", timeout=5).text,
                          "buurtsignaal_ingest_outbox_resent_total")
    cost = {"fault": name, "notes": row["notes"], "delayed_over_2s": row["delayed"],
            "max_latency_s": round(float(row["max_latency"]), 1),
            "disruption_window_s": round(max(0.0, float(row["window"])), 1),
            "p50_latency_s": round(float(row["p50"]), 2),
            "inject_s": round(injected_for, 1), "quiet_after_stream_stop_s": round(quiet_after, 1),
            "client_retries": stack.streamer.failures, "resent_total": resent}
    stack.streamer.failures = 0
    COSTS.append(cost)
    print(f"fault_cost {json.dumps(cost)}")


def _write_costs() -> None:
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "fault_costs.json").write_text(json.dumps(COSTS, indent=2) + "\n")


def _sigkill_and_restart(stack: FaultStack, service: str) -> Callable[[], None]:
    def inject() -> None:
        stack.procs.stop(service, signal.SIGKILL)
        stack.procs.start(service)
    return inject


def test_baseline_no_fault(stack: FaultStack) -> None:
    _run_fault(stack, "none (baseline)", lambda: None, before_s=3, after_s=3)


def test_sigkill_detector(stack: FaultStack) -> None:
    _run_fault(stack, "SIGKILL detector + restart", _sigkill_and_restart(stack, "detector"))


def test_sigkill_notifier(stack: FaultStack) -> None:
    _run_fault(stack, "SIGKILL notifier + restart", _sigkill_and_restart(stack, "notifier"))


def test_restart_postgres(stack: FaultStack) -> None:
    def inject() -> None:
        stack.pg.stop("fast")
        time.sleep(2)
        stack.pg.start()

    _run_fault(stack, "PostgreSQL restart", inject)


def test_burst_ten_times_normal_rate(stack: FaultStack) -> None:
    def inject() -> None:
        stack.streamer.batch = NORMAL_BATCH * 10
        time.sleep(10)
        stack.streamer.batch = NORMAL_BATCH

    _run_fault(stack, "burst 10x for 10 s", inject, after_s=3)


def test_restart_broker(stack: FaultStack) -> None:
    _run_fault(stack, "broker restart (topics lost) + detector restart", stack.restart_broker,
               alerts_survive=False)
