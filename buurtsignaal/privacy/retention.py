"""Retention: delete or anonymise what is past its period (config/retention.yaml), including the
derived state, and record what was done.

One purge is one transaction under an advisory lock, so two ingest instances never purge at once.
A dry run does the same work and rolls it back: the counts are exact. Derived per-household state
is found by convention: every table with a `subject_key` column (other than notes and cases) is
cleared for households that have no notes left, so a new early-warning table is covered without
changing this module (docs/decisions/0024). The streaming detector's state is not in PostgreSQL:
the purge queues erasure.v1 events naming the removed notes in the same transaction (outbox), and
the detector forgets them (docs/decisions/0026, 0027).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from buurtsignaal import logs, metrics
from buurtsignaal.privacy.forget_events import RemovedNote, forget_events, summary
from buurtsignaal.privacy.propagate import enqueue

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
    # Kafka topics by their logical name (incoming, accepted, ...; privacy/topics.py): retention.ms
    topic_retention_hours: dict[str, int] = field(default_factory=dict)
    # Compacted changelogs (early-warning state): an overwritten or erased value is compacted
    # away within this time (max.compaction.lag.ms, segment.ms); tombstones kept as long.
    changelog_compaction_lag_hours: int = 24

    def __post_init__(self) -> None:
        for name in ("unflagged_notes_days", "dismissed_cases_days", "escalated_cases_days",
                     "original_text_days", "sent_outbox_hours"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"retention: {name} must be 0 or more")
        for name, hours in {**self.topic_retention_hours,
                            "changelog_compaction_lag_hours": self.changelog_compaction_lag_hours}.items():
            if not isinstance(hours, int) or hours < 1:
                raise ValueError(f"retention: {name} must be a whole number of hours, at least 1")
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


def _removed(rows: list[dict[str, Any]]) -> list[RemovedNote]:
    return [RemovedNote(str(r["id"]), r["subject_key"], r["area_key"]) for r in rows]


def _anonymise_and_delete_cases(
    conn: psycopg.Connection, statuses: tuple[str, ...], days: int, kind: str, anonymise: bool
) -> tuple[int, list[RemovedNote]]:
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
    gone = conn.execute(  # cascades: scores, case
        "DELETE FROM notes WHERE id = ANY(%s) RETURNING id, subject_key, area_key", (note_ids,)
    ).fetchall()
    return len(note_ids), _removed(gone)


def _purge(conn: psycopg.Connection, policy: RetentionPolicy, *, erasure_topic: str, dry_run: bool,
           trigger: str) -> dict[str, Any] | None:
    counts: dict[str, Any] = {}
    with conn.transaction():
        got = conn.execute("SELECT pg_try_advisory_xact_lock(%s) AS ok", (LOCK_ID,)).fetchone()
        if not got["ok"]:
            return None
        result = conn.execute(
            """DELETE FROM notes n
               WHERE n.received_at < now() - make_interval(days => %s)
                 AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.note_id = n.id)
               RETURNING n.id, n.subject_key, n.area_key""",
            (policy.unflagged_notes_days,),
        )
        removed_notes = _removed(result.fetchall())
        counts["unflagged_notes"] = len(removed_notes)
        for kind, statuses, days in (
            ("dismissed_cases", policy.dismissed_statuses, policy.dismissed_cases_days),
            ("escalated_cases", policy.escalated_statuses, policy.escalated_cases_days),
        ):
            n, gone = _anonymise_and_delete_cases(conn, statuses, days, kind,
                                                  policy.anonymise_removed_cases)
            counts[kind] = n
            removed_notes += gone
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
            (policy.sent_outbox_hours, [n.note_id for n in removed_notes]),
        ))
        counts["notifications"] = drop_orphan_notifications(conn)
        for table in household_tables(conn):
            counts[f"derived:{table}"] = _count(conn.execute(
                sql.SQL(
                    "DELETE FROM {} d WHERE d.subject_key IS NOT NULL AND NOT EXISTS "
                    "(SELECT 1 FROM notes n WHERE n.subject_key = d.subject_key)"
                ).format(sql.Identifier(table))
            ))
        events = forget_events("retention", removed_notes, datetime.now(UTC))
        counts["sent"] = summary(events)  # what derived state (the detector) is told to forget
        if dry_run:
            raise _DryRun(counts)  # leaving the block with an exception rolls everything back
        enqueue(conn, erasure_topic, events)
    _record(conn, policy, counts, dry_run, trigger)
    return counts


class _DryRun(Exception):
    def __init__(self, counts: dict[str, Any]):
        super().__init__("dry run")
        self.counts = counts


def purge(conn: psycopg.Connection, policy: RetentionPolicy, *, erasure_topic: str,
          dry_run: bool = False, trigger: str = "manual") -> dict[str, Any] | None:
    """Run one purge in its own transaction; returns the counts (under `sent`: the erasure.v1
    events queued on `erasure_topic`), or None when another purge holds the lock. A dry run rolls
    its transaction back and is still recorded."""
    try:
        return _purge(conn, policy, erasure_topic=erasure_topic, dry_run=dry_run, trigger=trigger)
    except _DryRun as done:
        _record(conn, policy, done.counts, True, trigger)
        return done.counts


def _record(conn: psycopg.Connection, policy: RetentionPolicy, counts: dict[str, Any],
            dry_run: bool, trigger: str) -> None:
    with conn.transaction():
        conn.execute(
            """INSERT INTO retention_runs (finished_at, dry_run, trigger, policy, counts)
               VALUES (now(), %s, %s, %s, %s)""",
            (dry_run, trigger, Jsonb(policy.as_json()), Jsonb(counts)),
        )
    if not dry_run:
        for kind, n in counts.items():
            if n and kind != "sent":
                metrics.retention_removed.labels(kind.split(":")[0]).inc(n)
        metrics.retention_last_run.set_to_current_time()
    log.info("retention_purge", dry_run=dry_run, trigger=trigger, **counts)


def scheduled_purger(database_url: str, policy_file: Path, interval_hours: float,
                     stop: threading.Event, first_delay_s: float = 60.0,
                     erasure_topic: str | None = None) -> None:
    """Background loop for the ingest service: purge every interval_hours; never dies. Its
    erasure.v1 events are published by the ingest service's outbox relay."""
    if interval_hours <= 0:
        return
    if erasure_topic is None:
        from buurtsignaal.config import get_settings  # the service's own environment

        erasure_topic = get_settings().topic_erasures
    delay = first_delay_s
    while not stop.wait(delay):
        delay = interval_hours * 3600
        try:
            policy = RetentionPolicy.load(policy_file)
            with psycopg.connect(database_url, autocommit=True,
                                 row_factory=dict_row) as conn:
                purge(conn, policy, erasure_topic=erasure_topic, trigger="schedule")
        except Exception as exc:  # noqa: BLE001 - retried at the next interval
            log.warning("retention_purge_failed", error=type(exc).__name__)
            delay = min(delay, 300.0)
