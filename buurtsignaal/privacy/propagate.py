"""Getting erasure.v1 events to the detector: queued in the outbox with the database work, then
published (docs/decisions/0026).

`enqueue` runs inside the erasure's or purge's transaction, so the events exist exactly when the
deletion committed. `publish_pending` is called by the commands right after the commit and
reports what it could not send; the ingest service's outbox relay publishes whatever is left as
soon as the broker is back, and re-running the command publishes it too. A broker outage never
loses an event and never goes unreported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from buurtsignaal import logs

log = logs.get(__name__)


def enqueue(conn: psycopg.Connection, topic: str, events: list[dict[str, Any]]) -> None:
    """Add the events to the outbox (caller's transaction), keyed by household so they land on
    the partition of the household's state."""
    if events:
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO outbox (topic, key, payload) VALUES (%s, %s, %s)",
                            [(topic, e["subject_key"], Jsonb(e)) for e in events])


@dataclass(frozen=True)
class Published:
    published: int
    pending: int  # still in the outbox: the relay or a re-run sends them
    error: str = ""  # the exception's type only: messages can carry addresses of hosts

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"published": self.published, "pending": self.pending}
        if self.error:
            out["error"] = self.error
        return out


def _pending(conn: psycopg.Connection, topic: str) -> int:
    row = conn.execute("SELECT count(*) AS n FROM outbox WHERE topic = %s AND sent_at IS NULL",
                       (topic,)).fetchone()
    return int(row["n"] if isinstance(row, dict) else row[0])


def publish_pending(conn: psycopg.Connection, topic: str, make_producer: Callable[[], Any],
                    *, timeout_s: float = 15.0) -> Published:
    """Publish every unsent event of `topic` (not only this run's: a re-run catches up), then
    mark them sent. Rows are locked with SKIP LOCKED, so the relay and a command never send the
    same row at the same time; a duplicate after a crash is harmless (forgetting is idempotent)."""
    producer = None
    published = 0
    try:
        with conn.transaction():
            rows = conn.execute(
                """SELECT id, key, payload::text AS payload FROM outbox
                   WHERE topic = %s AND sent_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED""",
                (topic,),
            ).fetchall()
            if rows:
                producer = make_producer()
                futures = [producer.send(topic, key=r["key"], value=r["payload"].encode())
                           for r in rows]
                producer.flush(timeout=timeout_s)
                for future in futures:
                    future.get(timeout=timeout_s)  # raises: the transaction rolls back, rows stay
                conn.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY(%s)",
                             ([r["id"] for r in rows],))
                published = len(rows)
    except Exception as exc:  # noqa: BLE001 - any broker failure: report it, keep the rows
        log.warning("forget_events_not_published", topic=topic, error=type(exc).__name__)
        return Published(0, _pending(conn, topic), type(exc).__name__)
    finally:
        if producer is not None:
            try:
                producer.close(timeout=2)
            except Exception:  # noqa: BLE001 - closing a broken producer may fail too
                pass
    return Published(published, _pending(conn, topic))
