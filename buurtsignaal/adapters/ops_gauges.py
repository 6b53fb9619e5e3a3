"""Operational gauges sampled from PostgreSQL, for the alerts in deploy/prometheus/rules.

Counters only see what one process did since it started; these gauges come from the system of
record, so they survive restarts and agree between replicas (alerts take max() over replicas).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from psycopg_pool import ConnectionPool

from buurtsignaal import logs, metrics
from buurtsignaal.domain import operations
from buurtsignaal.domain.routing import CaseSnapshot, Routing

log = logs.get(__name__)


def restore_last_accepted(conn: psycopg.Connection) -> None:
    """Set the per-tenant 'last note accepted' gauge from the database (once, at start), so that
    a tenant that went quiet before a restart still raises the alert after it."""
    rows = conn.execute(
        "SELECT tenant_id, extract(epoch FROM max(received_at)) AS ts FROM notes GROUP BY tenant_id"
    ).fetchall()
    for row in rows:
        metrics.last_accepted.labels(row["tenant_id"]).set(float(row["ts"]))


def mark_accepted(tenant: str, count: int) -> None:
    if count:
        metrics.last_accepted.labels(tenant).set(time.time())


def case_sampler(routing: Routing) -> Callable[[psycopg.Connection], None]:
    """Cases past their pick-up SLA and the oldest unpicked case, per ADV region."""

    def sample(conn: psycopg.Connection) -> None:
        rows = conn.execute(
            """SELECT id, status, level, severity, grounds, municipality_code, adv_region,
                      created_at, escalated_at, acknowledged_at
               FROM cases
               WHERE status = 'nieuw' OR (status = 'geescaleerd' AND acknowledged_at IS NULL)"""
        ).fetchall()
        cases = [CaseSnapshot(r["id"], r["status"], r["level"], r["severity"], tuple(r["grounds"]),
                              r["municipality_code"], r["adv_region"], r["created_at"],
                              r["escalated_at"], r["acknowledged_at"]) for r in rows]
        now = datetime.now(UTC)
        late = operations.past_sla_by_region(now, cases, routing)
        oldest = operations.oldest_new_by_region(now, cases)
        metrics.cases_past_sla.clear()
        metrics.oldest_new_case_age.clear()
        for region in {c.adv_region for c in cases}:
            metrics.cases_past_sla.labels(region).set(late.get(region, 0))
            metrics.oldest_new_case_age.labels(region).set(oldest.get(region, 0.0))

    return sample


def run_every(
    pool: ConnectionPool, seconds: float, sample: Callable[[psycopg.Connection], None],
    stop: threading.Event, name: str,
) -> Callable[[], None]:
    """A worker loop that samples every `seconds` and survives database outages."""

    def loop() -> None:
        while not stop.is_set():
            try:
                with pool.connection(timeout=5) as conn, conn.transaction():
                    sample(conn)
            except Exception as exc:  # noqa: BLE001 - a gauge must never take the service down
                log.warning("gauge_sampling_failed", sampler=name, error=type(exc).__name__)
            stop.wait(seconds)

    return loop
