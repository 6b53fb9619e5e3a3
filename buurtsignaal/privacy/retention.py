"""Retention: delete or anonymise what is past its period (config/retention.yaml), including the
derived state, and record what was done.

One purge is one transaction under an advisory lock, so two ingest instances never purge at once.
A dry run does the same work and rolls it back: the counts are exact. Derived per-household state
is found by convention: every table with a `subject_key` column (other than notes and cases) is
cleared for households that have no notes left, so a new early-warning table is covered without
changing this module (docs/decisions/0024).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from buurtsignaal import logs, metrics

log = logs.get(__name__)
LOCK_ID = 0x42_53_52_45  # "BSRE": pg advisory lock shared by all purgers
_OWN_TABLES = {"notes", "cases", "retention_runs", "erasure_log", "anonymous_statistics"}


@dataclass(frozen=True)
class RetentionPolicy:
    unflagged_notes_days: int = 90
    dismissed_cases_days: int = 365
    escalated_cases_days: int = 1825
    original_text_days: int = 30
    sent_outbox_hours: int = 1
    anonymise_removed_cases: bool = True
    dismissed_statuses: tuple[str, ...] = ("afgewezen",)
    escalated_statuses: tuple[str, ...] = ("bevestigd", "geescaleerd", "afgehandeld")
    topic_retention_hours: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("unflagged_notes_days", "dismissed_cases_days", "escalated_cases_days",
                     "original_text_days", "sent_outbox_hours"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"retention: {name} must be 0 or more")
        overlap = set(self.dismissed_statuses) & set(self.escalated_statuses)
        if overlap:
            raise ValueError(f"retention: status(es) both dismissed and escalated: {sorted(overlap)}")

    @classmethod
    def load(cls, path: Path) -> RetentionPolicy:
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        statuses = data.pop("statuses", {}) or {}
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"retention: unknown setting(s) in {path.name}: {sorted(unknown)}")
        if "dismissed" in statuses:
            data["dismissed_statuses"] = tuple(statuses["dismissed"])
        if "escalated" in statuses:
            data["escalated_statuses"] = tuple(statuses["escalated"])
        return cls(**data)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["dismissed_statuses"] = list(self.dismissed_statuses)
        out["escalated_statuses"] = list(self.escalated_statuses)
        return out


def household_tables(conn: psycopg.Connection) -> list[str]:
    """Tables holding per-household state (a subject_key column), except notes and cases."""
    rows = conn.execute(
        """SELECT c.table_name FROM information_schema.columns c
           JOIN information_schema.tables t
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name
           WHERE c.table_schema = current_schema() AND c.column_name = 'subject_key'
             AND t.table_type = 'BASE TABLE'
           ORDER BY c.table_name"""
    ).fetchall()
    return [r["table_name"] for r in rows if r["table_name"] not in _OWN_TABLES]


def drop_orphan_notifications(conn: psycopg.Connection) -> int:
    """Notification records (review workflow, migration 0002) whose cases are all gone."""
    if conn.execute("SELECT to_regclass('notifications') AS t").fetchone()["t"] is None:
        return 0
    return _count(conn.execute(
        """DELETE FROM notifications nt WHERE nt.status <> 'pending'
           AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = ANY(nt.case_ids))"""
    ))


def _count(result: psycopg.Cursor[Any]) -> int:
    return max(0, result.rowcount)


def _anonymise_and_delete_cases(
    conn: psycopg.Connection, statuses: tuple[str, ...], days: int, kind: str, anonymise: bool
) -> tuple[int, list[Any]]:
    rows = conn.execute(
        """SELECT c.id, c.note_id FROM cases c
           WHERE c.status = ANY(%s) AND c.updated_at < now() - make_interval(days => %s)
           FOR UPDATE""",
        (list(statuses), days),
    ).fetchall()
    note_ids = [r["note_id"] for r in rows]
    if not note_ids:
        return 0, []
    if anonymise:
        conn.execute(
            """INSERT INTO anonymous_statistics (month, municipality_code, adv_region, status, level,
                                                 severity, grounds, forms, removed_because)
               SELECT date_trunc('month', n.occurred_at)::date, c.municipality_code, c.adv_region,
                      c.status, c.level, c.severity, c.grounds, c.forms, %s
               FROM cases c JOIN notes n ON n.id = c.note_id WHERE c.note_id = ANY(%s)""",
            (kind, note_ids),
        )
    conn.execute("DELETE FROM notes WHERE id = ANY(%s)", (note_ids,))  # cascades: scores, case
    return len(note_ids), note_ids


def _purge(conn: psycopg.Connection, policy: RetentionPolicy, *, dry_run: bool,
           trigger: str) -> dict[str, int] | None:
    counts: dict[str, int] = {}
    with conn.transaction():
        got = conn.execute("SELECT pg_try_advisory_xact_lock(%s) AS ok", (LOCK_ID,)).fetchone()
        if not got["ok"]:
            return None
        removed_notes: list[Any] = []
        result = conn.execute(
            """DELETE FROM notes n
               WHERE n.received_at < now() - make_interval(days => %s)
                 AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.note_id = n.id)
               RETURNING n.id""",
            (policy.unflagged_notes_days,),
        )
        ids = [r["id"] for r in result.fetchall()]
        counts["unflagged_notes"] = len(ids)
        removed_notes += ids
        for kind, statuses, days in (
            ("dismissed_cases", policy.dismissed_statuses, policy.dismissed_cases_days),
            ("escalated_cases", policy.escalated_statuses, policy.escalated_cases_days),
        ):
            n, ids = _anonymise_and_delete_cases(conn, statuses, days, kind,
                                                 policy.anonymise_removed_cases)
            counts[kind] = n
            removed_notes += ids
        counts["anonymous_case_records"] = (
            counts["dismissed_cases"] + counts["escalated_cases"]
            if policy.anonymise_removed_cases else 0
        )
        counts["original_texts"] = _count(conn.execute(
            """UPDATE notes n SET original_ciphertext = NULL, original_key_id = NULL
               WHERE n.original_ciphertext IS NOT NULL
                 AND n.received_at < now() - make_interval(days => %s)
                 AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.note_id = n.id
                                 AND NOT (c.status = ANY(%s)))""",
            (policy.original_text_days, list(policy.dismissed_statuses)),
        ))
        counts["outbox_events"] = _count(conn.execute(
            """DELETE FROM outbox
               WHERE (sent_at IS NOT NULL AND sent_at < now() - make_interval(hours => %s))
                  OR (payload->>'note_id')::uuid = ANY(%s::uuid[])""",
            (policy.sent_outbox_hours, removed_notes),
        ))
        counts["notifications"] = drop_orphan_notifications(conn)
        for table in household_tables(conn):
            counts[f"derived:{table}"] = _count(conn.execute(
                sql.SQL(
                    "DELETE FROM {} d WHERE d.subject_key IS NOT NULL AND NOT EXISTS "
                    "(SELECT 1 FROM notes n WHERE n.subject_key = d.subject_key)"
                ).format(sql.Identifier(table))
            ))
        if dry_run:
            raise _DryRun(counts)  # leaving the block with an exception rolls everything back
    _record(conn, policy, counts, dry_run, trigger)
    return counts


class _DryRun(Exception):
    def __init__(self, counts: dict[str, int]):
        super().__init__("dry run")
        self.counts = counts


def purge(conn: psycopg.Connection, policy: RetentionPolicy, *, dry_run: bool = False,
              trigger: str = "manual") -> dict[str, int] | None:
    """Run one purge in its own transaction; returns the counts, or None when another purge holds
    the lock. A dry run rolls its transaction back and is still recorded."""
    try:
        return _purge(conn, policy, dry_run=dry_run, trigger=trigger)
    except _DryRun as done:
        _record(conn, policy, done.counts, True, trigger)
        return done.counts


def _record(conn: psycopg.Connection, policy: RetentionPolicy, counts: dict[str, int],
            dry_run: bool, trigger: str) -> None:
    with conn.transaction():
        conn.execute(
            """INSERT INTO retention_runs (finished_at, dry_run, trigger, policy, counts)
               VALUES (now(), %s, %s, %s, %s)""",
            (dry_run, trigger, Jsonb(policy.as_json()), Jsonb(counts)),
        )
    if not dry_run:
        for kind, n in counts.items():
            if n:
                metrics.retention_removed.labels(kind.split(":")[0]).inc(n)
        metrics.retention_last_run.set_to_current_time()
    log.info("retention_purge", dry_run=dry_run, trigger=trigger, **counts)


def scheduled_purger(database_url: str, policy_file: Path, interval_hours: float,
                     stop: threading.Event, first_delay_s: float = 60.0) -> None:
    """Background loop for the ingest service: purge every interval_hours; never dies."""
    if interval_hours <= 0:
        return
    delay = first_delay_s
    while not stop.wait(delay):
        delay = interval_hours * 3600
        try:
            policy = RetentionPolicy.load(policy_file)
            with psycopg.connect(database_url, autocommit=True,
                                 row_factory=dict_row) as conn:
                purge(conn, policy, trigger="schedule")
        except Exception as exc:  # noqa: BLE001 - retried at the next interval
            log.warning("retention_purge_failed", error=type(exc).__name__)
            delay = min(delay, 300.0)
