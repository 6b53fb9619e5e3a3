"""Re-enqueue accepted notes that never got a score (decision 0030).

The outbox guarantees that every accepted note is *published*; it cannot guarantee that the
broker keeps it until the detector has read it (a broker restart with memory storage, a lost
partition, an expired retention). PostgreSQL knows which notes have no score: a note that has
none after a grace period gets its `note-accepted` event written to the outbox again. Every
consumer is idempotent by note id, so a re-sent note that was merely slow is scored once.

A note waiting in a backlog must not be re-sent (that would feed the backlog it waits in), so a
note is re-sent only when it is older than the grace period and either
- notes received more than `grace` after it have been scored already (the pipeline moved past
  it: its event was lost), or
- it is older than 3x the grace period (the last resort when nothing newer gets scored, e.g. a
  note lost just before a quiet night).
Also bounded: only while the outbox is caught up, at most `limit` notes per sweep, and per note
backing off (grace, 2x, 4x ... up to an hour).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from buurtsignaal import logs, metrics
from buurtsignaal.adapters.notes_repo import OUTBOX_CHANNEL
from buurtsignaal.domain import events

log = logs.get(__name__)

MAX_BACKOFF_SECONDS = 3600.0


class UnscoredResender:
    def __init__(
        self, pool: ConnectionPool, topic: str, *, grace_seconds: float, window_hours: float,
        interval_seconds: float, limit: int = 1000, stop: threading.Event | None = None,
    ) -> None:
        self.pool = pool
        self.topic = topic
        self.grace = grace_seconds
        self.window = timedelta(hours=window_hours)
        self.interval = interval_seconds
        self.limit = limit
        self.stop = stop or threading.Event()
        # note id -> (times re-sent, monotonic time of the next allowed re-send)
        self._backoff: dict[str, tuple[int, float]] = {}

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            try:
                self.sweep()
            except Exception as exc:  # noqa: BLE001 - retried next interval; never die
                log.warning("resend_sweep_failed", error=type(exc).__name__, detail=str(exc)[:200])

    def sweep(self) -> int:
        """One pass; returns how many notes were re-enqueued."""
        with self.pool.connection() as conn, conn.transaction():
            unscored = self._unscored(conn)
            metrics.unscored_notes.set(len(unscored))
            if not unscored or self._outbox_behind(conn):
                return 0
            now = time.monotonic()
            due = [r for r in unscored
                   if r["due"] and self._backoff.get(str(r["id"]), (0, 0.0))[1] <= now]
            due = due[: self.limit]
            if not due:
                return 0
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO outbox (topic, key, payload) VALUES (%s, %s, %s)",
                    [(self.topic, r["subject_key"], Jsonb(_accepted_event(r))) for r in due],
                )
            conn.execute("SELECT pg_notify(%s, '')", (OUTBOX_CHANNEL,))
        for r in due:
            count, _ = self._backoff.get(str(r["id"]), (0, 0.0))
            delay = min(MAX_BACKOFF_SECONDS, self.grace * 2 ** count)
            self._backoff[str(r["id"])] = (count + 1, now + delay)
        still = {str(r["id"]) for r in unscored}  # forget notes that got their score
        self._backoff = {k: v for k, v in self._backoff.items() if k in still}
        metrics.outbox_resent.inc(len(due))
        log.warning("unscored_notes_resent", count=len(due), unscored=len(unscored),
                    correlation_ids=[str(r["correlation_id"]) for r in due])
        return len(due)

    def _unscored(self, conn: psycopg.Connection) -> list[dict[str, Any]]:
        """Unscored notes past the grace period, oldest first, each with `passed`: whether the
        pipeline has scored notes received well after it (so it is lost, not queued)."""
        # Range scans on notes_received_idx; the anti-/semi-joins probe note_scores' primary key.
        # The frontier query walks back from the newest note to the first scored one: cheap
        # unless there is a backlog, and then it is bounded by the backlog.
        return conn.execute(
            """
            WITH frontier AS (
                SELECT max(n.received_at) AS at FROM (
                    SELECT n.received_at FROM notes n
                    WHERE n.received_at > now() - %(window)s
                      AND EXISTS (SELECT 1 FROM note_scores s WHERE s.note_id = n.id)
                    ORDER BY n.received_at DESC LIMIT 1) n)
            SELECT n.id, n.tenant_id, n.occurred_at, n.received_at, n.text, n.author_role,
                   n.subject_key, n.area_key, n.municipality_code, n.correlation_id,
                   (n.received_at < (SELECT at FROM frontier) - make_interval(secs => %(grace)s)
                    OR n.received_at < now() - make_interval(secs => 3 * %(grace)s)) AS due
            FROM notes n
            WHERE n.received_at < now() - make_interval(secs => %(grace)s)
              AND n.received_at > now() - %(window)s
              AND NOT EXISTS (SELECT 1 FROM note_scores s WHERE s.note_id = n.id)
            ORDER BY n.received_at
            LIMIT %(limit)s
            """,
            {"grace": self.grace, "window": self.window, "limit": self.limit * 10},
        ).fetchall()

    def _outbox_behind(self, conn: psycopg.Connection) -> bool:
        """While the relay still has old unsent rows the notes are not lost, only waiting."""
        row = conn.execute(
            """SELECT EXISTS (SELECT 1 FROM outbox WHERE sent_at IS NULL
                              AND created_at < now() - interval '5 seconds') AS behind"""
        ).fetchone()
        return bool(row["behind"])


def _accepted_event(row: dict[str, Any]) -> dict[str, Any]:
    return events.note_accepted(
        note_id=row["id"], tenant=row["tenant_id"], occurred_at=row["occurred_at"],
        received_at=row["received_at"], text=row["text"], author_role=row["author_role"],
        subject_key=row["subject_key"], area_key=row["area_key"],
        municipality_code=row["municipality_code"], correlation_id=row["correlation_id"],
    )
