"""Outbox relay: publishes events written by the ingest transaction, then marks them sent.

A broker outage only delays publishing: rows stay unsent and are retried with backoff. Wakes on
NOTIFY from the ingest transaction, polls as a fallback. Duplicates after a crash between publish
and mark are possible (at-least-once); consumers are idempotent by note id.
"""

from __future__ import annotations

import threading
import time

import psycopg
from psycopg_pool import ConnectionPool

from buurtsignaal import logs, metrics
from buurtsignaal.adapters.consumer_loop import backoff_seconds
from buurtsignaal.adapters.kafka import make_producer
from buurtsignaal.adapters.notes_repo import OUTBOX_CHANNEL

log = logs.get(__name__)

SENT_RETENTION = "1 hour"


class OutboxRelay:
    def __init__(
        self, pool: ConnectionPool, database_url: str, bootstrap: str, *, batch_size: int = 500,
        poll_seconds: float = 0.5, stop: threading.Event | None = None,
    ) -> None:
        self.pool = pool
        self.database_url = database_url
        self.bootstrap = bootstrap
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.stop = stop or threading.Event()
        self._producer = None
        self._listener: psycopg.Connection | None = None
        self._last_cleanup = 0.0

    def run(self) -> None:
        failures = 0
        while not self.stop.is_set():
            try:
                sent = self.publish_batch()
                failures = 0
                self._cleanup_sent()
                if sent < self.batch_size:
                    self._wait_for_work()
            except Exception as exc:  # noqa: BLE001 - never die; rows stay pending
                failures += 1
                metrics.outbox_publish_failures.inc()
                self._reset_producer()
                delay = backoff_seconds(failures)
                log.warning("outbox_publish_failed", error=type(exc).__name__,
                            detail=str(exc)[:200], retry_in_s=delay)
                self.stop.wait(delay)
        self._reset_producer()
        if self._listener is not None:
            self._listener.close()

    def publish_batch(self) -> int:
        """Publish up to batch_size pending events in id order; returns how many were sent."""
        with self.pool.connection() as conn, conn.transaction():
            rows = conn.execute(
                """SELECT id, topic, key, payload::text AS payload FROM outbox
                   WHERE sent_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED""",
                (self.batch_size,),
            ).fetchall()
            self._update_gauges(conn)
            if not rows:
                return 0
            producer = self._get_producer()
            futures = [
                producer.send(r["topic"], key=r["key"], value=r["payload"].encode())
                for r in rows
            ]
            producer.flush(timeout=15)
            for f in futures:
                f.get(timeout=15)  # raises if any send failed: the transaction rolls back
            conn.execute(
                "UPDATE outbox SET sent_at = now() WHERE id = ANY(%s)", ([r["id"] for r in rows],)
            )
        metrics.outbox_published.inc(len(rows))
        return len(rows)

    def _update_gauges(self, conn: psycopg.Connection) -> None:
        row = conn.execute(
            """SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age
               FROM outbox WHERE sent_at IS NULL"""
        ).fetchone()
        metrics.outbox_pending.set(row["n"])
        metrics.outbox_oldest_age.set(float(row["age"]))

    def _cleanup_sent(self) -> None:
        if time.monotonic() - self._last_cleanup < 60:
            return
        self._last_cleanup = time.monotonic()
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(
                f"DELETE FROM outbox WHERE sent_at < now() - interval '{SENT_RETENTION}'"
            )

    def _get_producer(self):  # type: ignore[no-untyped-def]
        if self._producer is None:
            self._producer = make_producer(self.bootstrap, "buurtsignaal-outbox-relay")
        return self._producer

    def _reset_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=2)
            except Exception:  # noqa: BLE001
                pass
            self._producer = None

    def _wait_for_work(self) -> None:
        """Block until NOTIFY or poll_seconds, whichever comes first."""
        try:
            if self._listener is None or self._listener.closed:
                self._listener = psycopg.connect(self.database_url, autocommit=True)
                self._listener.execute(f"LISTEN {OUTBOX_CHANNEL}")
            for _ in self._listener.notifies(timeout=self.poll_seconds, stop_after=1):
                pass
        except psycopg.Error:
            if self._listener is not None:
                self._listener.close()
            self._listener = None
            self.stop.wait(self.poll_seconds)
