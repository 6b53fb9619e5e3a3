"""Right to erasure (AVG art. 17): remove everything about one household (address key).

Notes (with their scores and cases), outbox events, and every per-household table (a
`subject_key` column, see retention.household_tables) are deleted in one transaction. The
erasure_log records who did it, under which request reference, and the counts; not the key.
Copies on Kafka topics expire with the topic retention (config/retention.yaml); the report says so.
The audit trail is kept: it holds case numbers and actions, no note text or address.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from buurtsignaal import logs, metrics
from buurtsignaal.domain.notes import Address, subject_key
from buurtsignaal.privacy.retention import drop_orphan_notifications, household_tables

log = logs.get(__name__)


def address_key(key_secret: str, postcode: str, house_number: int, suffix: str = "") -> str:
    """The household key for an address, exactly as ingest computes it."""
    return subject_key(key_secret, Address(postcode, house_number, suffix))


def erase_household(conn: psycopg.Connection, key: str, *, actor: str, reference: str,
                    dry_run: bool = False) -> dict[str, Any]:
    """Delete everything about household `key`; returns counts per kind. Runs in its own
    transaction (rolled back on a dry run, which is not logged as an erasure)."""
    if not reference.strip():
        raise ValueError("an erasure needs a request reference (e.g. the AVG request number)")
    counts: dict[str, Any] = {}
    try:
        with conn.transaction():
            notes = conn.execute(
                "SELECT id FROM notes WHERE subject_key = %s FOR UPDATE", (key,)
            ).fetchall()
            note_ids = [r["id"] for r in notes]
            counts["cases"] = max(0, conn.execute(
                "SELECT 1 FROM cases WHERE subject_key = %s OR note_id = ANY(%s::uuid[])",
                (key, note_ids),
            ).rowcount)
            counts["note_scores"] = max(0, conn.execute(
                "SELECT 1 FROM note_scores WHERE note_id = ANY(%s::uuid[])", (note_ids,)
            ).rowcount)
            counts["outbox_events"] = max(0, conn.execute(
                """DELETE FROM outbox WHERE key = %s
                   OR (payload->>'note_id')::uuid = ANY(%s::uuid[])""",
                (key, note_ids),
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
            if dry_run:
                raise _Rollback
            conn.execute(
                "INSERT INTO erasure_log (actor, reference, counts) VALUES (%s, %s, %s)",
                (actor, reference, Jsonb(counts)),
            )
    except _Rollback:
        return {**counts, "dry_run": True}
    metrics.retention_removed.labels("erasure").inc(sum(counts.values()))
    log.info("household_erased", actor=actor, **counts)  # the reference stays in erasure_log
    return counts


class _Rollback(Exception):
    pass
