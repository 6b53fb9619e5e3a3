"""Right to erasure (AVG art. 17): remove everything about one household (address key).

Notes (with their scores and cases), outbox events, and every per-household table (a
`subject_key` column, see retention.household_tables) are deleted in one transaction. In the same
transaction an erasure.v1 event is queued in the outbox for the detector's early-warning state
(household entry and its observations in area state; decision 0026): the command publishes it
after the commit, or says that it could not. The erasure_log records who did it, under which
request reference, and the counts (also of what was queued); not the key. Copies on Kafka topics
expire with the topic retention (config/retention.yaml); the report says so. The audit trail is
kept: it holds case numbers and actions, no note text or address.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from buurtsignaal import logs, metrics
from buurtsignaal.domain.notes import Address, subject_key
from buurtsignaal.privacy.forget_events import RemovedNote, forget_events, summary
from buurtsignaal.privacy.propagate import enqueue
from buurtsignaal.privacy.retention import drop_orphan_notifications, household_tables

log = logs.get(__name__)


def address_key(key_secret: str, postcode: str, house_number: int, suffix: str = "") -> str:
    """The household key for an address, exactly as ingest computes it."""
    return subject_key(key_secret, Address(postcode, house_number, suffix))


def erase_household(conn: psycopg.Connection, key: str, *, actor: str, reference: str,
                    erasure_topic: str, dry_run: bool = False) -> dict[str, Any]:
    """Delete everything about household `key`; returns counts per kind, and under `sent` what
    was queued on `erasure_topic` for derived state. Runs in its own transaction (rolled back on
    a dry run, which is not logged as an erasure)."""
    if not reference.strip():
        raise ValueError("an erasure needs a request reference (e.g. the AVG request number)")
    counts: dict[str, Any] = {}
    try:
        with conn.transaction():
            notes = conn.execute(
                "SELECT id, area_key FROM notes WHERE subject_key = %s FOR UPDATE", (key,)
            ).fetchall()
            note_ids = [r["id"] for r in notes]
            counts["cases"] = max(0, conn.execute(
                "SELECT 1 FROM cases WHERE subject_key = %s OR note_id = ANY(%s::uuid[])",
                (key, note_ids),
            ).rowcount)
            counts["note_scores"] = max(0, conn.execute(
                "SELECT 1 FROM note_scores WHERE note_id = ANY(%s::uuid[])", (note_ids,)
            ).rowcount)
            # Pending forget events stay: they still have to reach the detector.
            counts["outbox_events"] = max(0, conn.execute(
                """DELETE FROM outbox WHERE topic <> %s AND (key = %s
                   OR (payload->>'note_id')::uuid = ANY(%s::uuid[]))""",
                (erasure_topic, key, note_ids),
            ).rowcount)
            conn.execute("DELETE FROM cases WHERE subject_key = %s", (key,))
            counts["notes"] = max(0, conn.execute(
                "DELETE FROM notes WHERE subject_key = %s", (key,)
            ).rowcount)
            counts["notifications"] = drop_orphan_notifications(conn)
            for table in household_tables(conn):
                counts[f"derived:{table}"] = max(0, conn.execute(
                    sql.SQL("DELETE FROM {} WHERE subject_key = %s").format(sql.Identifier(table)),
                    (key,),
                ).rowcount)
            removed = [RemovedNote(str(r["id"]), key, r["area_key"]) for r in notes]
            events = forget_events("erasure", removed, datetime.now(UTC), households=[key])
            if dry_run:
                raise _Rollback(summary(events))
            enqueue(conn, erasure_topic, events)
            sent = summary(events)
            conn.execute(
                "INSERT INTO erasure_log (actor, reference, counts) VALUES (%s, %s, %s)",
                (actor, reference, Jsonb({**counts, "sent": sent})),
            )
    except _Rollback as rollback:
        return {**counts, "sent": rollback.sent, "dry_run": True}
    metrics.retention_removed.labels("erasure").inc(sum(counts.values()))
    log.info("household_erased", actor=actor, events=sent["events"], **counts)  # reference: erasure_log
    return {**counts, "sent": sent}


class _Rollback(Exception):
    def __init__(self, sent: dict[str, int]) -> None:
        super().__init__("dry run")
        self.sent = sent
