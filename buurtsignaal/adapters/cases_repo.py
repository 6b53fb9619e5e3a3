"""Storing scored notes and review cases; reading the review queue. Idempotent by note id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from buurtsignaal.domain.cases import OPEN_STATUSES
from buurtsignaal.domain.regions import RegionMap


@dataclass
class StoredScores:
    scores_stored: int
    cases_created: list[tuple[int, str]]  # (case id, adv region)
    latencies: list[float]  # seconds from note received to stored, for new scores


def store_scored(
    conn: psycopg.Connection, scored: list[dict[str, Any]], regions: RegionMap
) -> StoredScores:
    """Store each scored event once (first score wins) and open a case per flagged note.
    The caller owns the transaction."""
    if not scored:
        return StoredScores(0, [], [])
    new_scores = conn.execute(
        """
        INSERT INTO note_scores (note_id, flag, score, grounds, forms, severity, evidence,
                                 model_version, scored_at)
        SELECT s.note_id, s.flag, s.score, s.grounds, s.forms, s.severity, s.evidence,
               s.model_version, s.scored_at
        FROM jsonb_to_recordset(%s::jsonb) AS s(
            note_id uuid, flag boolean, score double precision, grounds text[], forms text[],
            severity smallint, evidence jsonb, model_version text, scored_at timestamptz)
        JOIN notes n ON n.id = s.note_id
        ON CONFLICT (note_id) DO NOTHING
        RETURNING note_id
        """,
        (Jsonb([_score_row(e) for e in scored]),),
    ).fetchall()
    flagged = [
        {
            "note_id": e["note_id"],
            "subject_key": e["subject_key"],
            "municipality_code": e["municipality_code"],
            "adv_region": regions.region_of(e["municipality_code"]),
            "severity": e["severity"],
            "score": e["score"],
            "grounds": e["grounds"],
            "forms": e["forms"],
            "model_version": e["model_version"],
        }
        for e in scored
        if e["flag"]
    ]
    created: list[tuple[int, str]] = []
    if flagged:
        rows = conn.execute(
            """
            INSERT INTO cases (note_id, subject_key, municipality_code, adv_region, severity,
                               score, grounds, forms, model_version, level)
            SELECT c.note_id, c.subject_key, c.municipality_code, c.adv_region, c.severity,
                   c.score, c.grounds, c.forms, c.model_version,
                   -- a household already under a pattern alert: the new case joins the pattern
                   CASE WHEN EXISTS (SELECT 1 FROM pattern_alerts p WHERE p.scope = 'household'
                                     AND p.subject_key = c.subject_key)
                        THEN 'patroon' ELSE 'signaal' END
            FROM jsonb_to_recordset(%s::jsonb) AS c(
                note_id uuid, subject_key text, municipality_code text, adv_region text,
                severity smallint, score double precision, grounds text[], forms text[],
                model_version text)
            JOIN notes n ON n.id = c.note_id
            ON CONFLICT (note_id) DO NOTHING
            RETURNING id, adv_region
            """,
            (Jsonb(flagged),),
        ).fetchall()
        created = [(r["id"], r["adv_region"]) for r in rows]
    latencies: list[float] = []
    if new_scores:
        now = datetime.now(UTC)
        rows = conn.execute(
            "SELECT received_at FROM notes WHERE id = ANY(%s)", ([r["note_id"] for r in new_scores],)
        ).fetchall()
        latencies = [max(0.0, (now - r["received_at"]).total_seconds()) for r in rows]
    return StoredScores(len(new_scores), created, latencies)


def _score_row(e: dict[str, Any]) -> dict[str, Any]:
    return {k: e[k] for k in ("note_id", "flag", "score", "grounds", "forms", "severity",
                              "evidence", "model_version", "scored_at")}


QUEUE_STATUSES = OPEN_STATUSES


def review_queue(
    conn: psycopg.Connection, region: str | None, *, statuses: Sequence[str] = QUEUE_STATUSES,
    ground: str | None = None, municipality: str | None = None, limit: int = 50, offset: int = 0,
) -> list[dict[str, Any]]:
    """Cases for review: pattern alerts first, then most severe, then oldest. Region None means
    all regions (admin). The early-warning work adds level 'patroon' cases; the order is ready."""
    return conn.execute(
        """
        SELECT c.id, c.status, c.level, c.severity, c.score, c.grounds, c.forms, c.consent,
               c.municipality_code, c.adv_region, c.created_at, n.occurred_at, n.text,
               n.author_role, s.evidence, c.model_version, c.version
        FROM cases c
        JOIN notes n ON n.id = c.note_id
        JOIN note_scores s ON s.note_id = c.note_id
        WHERE c.status = ANY(%(statuses)s) AND (%(region)s::text IS NULL OR c.adv_region = %(region)s)
          AND (%(ground)s::text IS NULL OR %(ground)s = ANY(c.grounds))
          AND (%(municipality)s::text IS NULL OR c.municipality_code = %(municipality)s)
        ORDER BY (c.level = 'patroon') DESC, c.severity DESC, c.created_at ASC, c.id ASC
        LIMIT %(limit)s OFFSET %(offset)s
        """,
        {"statuses": list(statuses), "region": region, "ground": ground,
         "municipality": municipality, "limit": limit, "offset": offset},
    ).fetchall()


def queue_municipalities(conn: psycopg.Connection, region: str | None) -> list[str]:
    """Municipalities that have cases in this region, for the queue filter."""
    rows = conn.execute(
        "SELECT DISTINCT municipality_code FROM cases WHERE %s::text IS NULL OR adv_region = %s "
        "ORDER BY 1", (region, region)).fetchall()
    return [r["municipality_code"] for r in rows]


def coordinator_queue(conn: psycopg.Connection, municipalities: Sequence[str]
                      ) -> list[dict[str, Any]]:
    """Escalations for these municipalities: open ones first. No note text: not needed here."""
    return conn.execute(
        """
        SELECT id, status, level, severity, grounds, forms, municipality_code, escalated_at,
               acknowledged_at, closed_at
        FROM cases
        WHERE municipality_code = ANY(%s) AND escalated_at IS NOT NULL
        ORDER BY (status = 'geescaleerd') DESC, (acknowledged_at IS NULL) DESC, severity DESC,
                 escalated_at ASC
        LIMIT 200
        """,
        (list(municipalities),),
    ).fetchall()


def get_case(conn: psycopg.Connection, case_id: int) -> dict[str, Any] | None:
    return conn.execute(
        """
        SELECT c.*, n.occurred_at, n.text, n.author_role, n.received_at, s.evidence
        FROM cases c
        JOIN notes n ON n.id = c.note_id
        JOIN note_scores s ON s.note_id = c.note_id
        WHERE c.id = %s
        """,
        (case_id,),
    ).fetchone()


def household_timeline(conn: psycopg.Connection, subject_key: str, *, limit: int = 200
                       ) -> list[dict[str, Any]]:
    """Every note about one household in time order, with its score, evidence and case (if any).
    The early-warning work reads the same history to find repeated targeting."""
    return conn.execute(
        """
        SELECT n.id AS note_id, n.occurred_at, n.author_role, n.text, s.flag, s.score, s.grounds,
               s.forms, s.severity, s.evidence, c.id AS case_id, c.status AS case_status
        FROM notes n
        LEFT JOIN note_scores s ON s.note_id = n.id
        LEFT JOIN cases c ON c.note_id = n.id
        WHERE n.subject_key = %s
        ORDER BY n.occurred_at, n.received_at
        LIMIT %s
        """,
        (subject_key, limit),
    ).fetchall()


def update_case(conn: psycopg.Connection, case_id: int, expected_version: int,
                changes: dict[str, Any]) -> bool:
    """Apply `changes` only if nobody changed the case since `expected_version` was read
    (optimistic locking): False means someone else was first."""
    for column in changes:
        if column not in _UPDATABLE:
            raise ValueError(f"column {column} cannot be updated")
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in changes)
    row = conn.execute(
        sql.SQL("UPDATE cases SET {}, version = version + 1, updated_at = now() "
                "WHERE id = %(id)s AND version = %(version)s RETURNING id").format(assignments),
        {**changes, "id": case_id, "version": expected_version},
    ).fetchone()
    return row is not None


_UPDATABLE = frozenset({
    "status", "consent", "consent_reason", "consent_recorded_by", "consent_confirmed_by",
    "summary", "first_reviewed_at", "escalated_at", "escalated_by", "acknowledged_at",
    "acknowledged_by", "closed_at", "coordinator_actions", "coordinator_note", "grounds", "forms",
    "severity",
})


def add_transition(conn: psycopg.Connection, case_id: int, from_status: str, to_status: str,
                   actor: str, reason: str) -> None:
    conn.execute(
        "INSERT INTO case_transitions (case_id, from_status, to_status, actor, reason) "
        "VALUES (%s, %s, %s, %s, %s)", (case_id, from_status, to_status, actor, reason))


def transitions(conn: psycopg.Connection, case_id: int) -> list[dict[str, Any]]:
    return conn.execute("SELECT * FROM case_transitions WHERE case_id = %s ORDER BY id",
                        (case_id,)).fetchall()


def add_label(conn: psycopg.Connection, case: dict[str, Any], *, source: str,
              is_discrimination: bool | None, grounds: Sequence[str], forms: Sequence[str],
              severity: int, actor: str) -> None:
    """A reviewer's judgement next to what the model said, for training the detector later."""
    predicted = conn.execute("SELECT grounds, forms, severity FROM note_scores WHERE note_id = %s",
                             (case["note_id"],)).fetchone()
    assert predicted is not None  # a case exists only for a scored note
    conn.execute(
        """INSERT INTO case_labels (case_id, note_id, source, is_discrimination, grounds, forms,
               severity, predicted_grounds, predicted_forms, predicted_severity, model_version,
               labelled_by)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (case["id"], case["note_id"], source, is_discrimination, list(grounds), list(forms),
         severity, predicted["grounds"], predicted["forms"], predicted["severity"],
         case["model_version"], actor),
    )


def labels(conn: psycopg.Connection, case_id: int) -> list[dict[str, Any]]:
    return conn.execute("SELECT * FROM case_labels WHERE case_id = %s ORDER BY id",
                        (case_id,)).fetchall()


def count_by_state(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return conn.execute("SELECT adv_region, status, count(*) AS n FROM cases "
                        "GROUP BY adv_region, status").fetchall()
