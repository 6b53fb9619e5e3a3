"""Storing scored notes and review cases; reading the review queue. Idempotent by note id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

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
                               score, grounds, forms, model_version)
            SELECT c.note_id, c.subject_key, c.municipality_code, c.adv_region, c.severity,
                   c.score, c.grounds, c.forms, c.model_version
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


QUEUE_STATUSES = ("nieuw", "in_behandeling", "meer_informatie_nodig")


def review_queue(
    conn: psycopg.Connection, region: str | None, *, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """Open cases, most severe and oldest first; region None means all regions (admin)."""
    return conn.execute(
        """
        SELECT c.id, c.status, c.level, c.severity, c.score, c.grounds, c.forms,
               c.municipality_code, c.adv_region, c.created_at, n.occurred_at, n.text,
               n.author_role, s.evidence, c.model_version
        FROM cases c
        JOIN notes n ON n.id = c.note_id
        JOIN note_scores s ON s.note_id = c.note_id
        WHERE c.status = ANY(%s) AND (%s::text IS NULL OR c.adv_region = %s)
        ORDER BY (c.level = 'patroon') DESC, c.severity DESC, c.created_at ASC
        LIMIT %s OFFSET %s
        """,
        (list(QUEUE_STATUSES), region, region, limit, offset),
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
