"""Storing scored notes and review cases; reading the review queue. Idempotent by note id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from buurtsignaal.domain import paging
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
PAGE_SIZE = 50
COUNT_CAP = 1000  # the queue shows "meer dan 1.000" beyond this: counting further costs, tells nothing

# Queue order: pattern alerts first, then most severe, then oldest, then id (unique). Written
# ascending on expressions so that one row comparison seeks in it and the index
# cases_open_queue_idx (migration 0006) holds exactly this order. queue_key must mirror it.
_QUEUE_KEY = ("(c.level <> 'patroon')", "(-c.severity)", "c.created_at", "c.id")
QUEUE_KEY_SHAPE = (bool, int, datetime, int)


def queue_key(row: dict[str, Any]) -> paging.Key:
    return (row["level"] != "patroon", -row["severity"], row["created_at"], row["id"])


@dataclass(frozen=True)
class QueueFilter:
    region: str | None  # None: all regions (admin)
    statuses: tuple[str, ...] = QUEUE_STATUSES
    ground: str | None = None
    municipality: str | None = None


def queue_query(f: QueueFilter, cursor: paging.Cursor | None, limit: int
                ) -> tuple[sql.Composed, dict[str, Any]]:
    """The review queue's seek query (exposed so the benchmark can EXPLAIN exactly this)."""
    where, params = _queue_where(f)
    backwards = cursor is not None and cursor.direction == "before"
    if cursor is not None:
        where.append(_seek(_QUEUE_KEY, cursor, params))
    return sql.SQL(
        """
        SELECT c.id, c.status, c.level, c.severity, c.score, c.grounds, c.forms, c.consent,
               c.municipality_code, c.adv_region, c.created_at, n.occurred_at, n.text,
               n.author_role, s.evidence, c.model_version, c.version
        FROM cases c
        JOIN notes n ON n.id = c.note_id
        JOIN note_scores s ON s.note_id = c.note_id
        WHERE {where}
        ORDER BY {order}
        LIMIT {limit}
        """
    ).format(where=sql.SQL(" AND ").join(where), order=_order(_QUEUE_KEY, backwards),
             limit=sql.Literal(limit + 1)), params


def review_queue(conn: psycopg.Connection, f: QueueFilter, cursor: paging.Cursor | None = None,
                 *, limit: int = PAGE_SIZE) -> paging.Page:
    """One page of cases for review, found by seeking from the cursor (no OFFSET)."""
    fetched = conn.execute(*queue_query(f, cursor, limit)).fetchall()
    if cursor is not None and cursor.direction == "before" and len(fetched) <= limit:
        # Back at the start of the list: show the full first page rather than a short one.
        cursor = None
        fetched = conn.execute(*queue_query(f, None, limit)).fetchall()
    return paging.paginate(fetched, limit=limit, cursor=cursor, key=queue_key)


def queue_count(conn: psycopg.Connection, f: QueueFilter, cap: int = COUNT_CAP) -> int:
    """How many cases match, counted up to cap + 1 (an index-only walk of at most that many)."""
    where, params = _queue_where(f)
    row = conn.execute(sql.SQL("SELECT count(*) AS n FROM (SELECT 1 FROM cases c WHERE {} LIMIT {}) x")
                       .format(sql.SQL(" AND ").join(where), sql.Literal(cap + 1)), params).fetchone()
    assert row is not None
    return int(row["n"])


def _queue_where(f: QueueFilter) -> tuple[list[sql.Composable], dict[str, Any]]:
    # Statuses as literals, not a parameter: the planner can only use the partial index
    # cases_open_queue_idx when it sees that the statuses are a subset of the index's.
    where: list[sql.Composable] = [sql.SQL("c.status IN ({})").format(
        sql.SQL(", ").join(sql.Literal(s) for s in f.statuses))]
    params: dict[str, Any] = {}
    # Conditions only when filtering (no "param IS NULL OR ..."): a prepared statement's
    # generic plan could not use the index for those.
    if f.region is not None:
        where.append(sql.SQL("c.adv_region = %(region)s"))
        params["region"] = f.region
    if f.ground is not None:
        where.append(sql.SQL("%(ground)s = ANY(c.grounds)"))
        params["ground"] = f.ground
    if f.municipality is not None:
        where.append(sql.SQL("c.municipality_code = %(municipality)s"))
        params["municipality"] = f.municipality
    return where, params


def _seek(key: Sequence[str], cursor: paging.Cursor, params: dict[str, Any]) -> sql.Composed:
    """(k1, k2, ...) > (cursor key): a single index range condition on the page's index."""
    names = [f"seek_{i}" for i in range(len(key))]
    params.update(zip(names, cursor.key, strict=True))
    return sql.SQL("({}) {} ({})").format(
        sql.SQL(", ").join(sql.SQL(k) for k in key),
        sql.SQL("<" if cursor.direction == "before" else ">"),
        sql.SQL(", ").join(sql.Placeholder(n) for n in names))


def _order(key: Sequence[str], backwards: bool) -> sql.Composed:
    suffix = " DESC" if backwards else ""
    return sql.SQL(", ").join(sql.SQL(k + suffix) for k in key)


def queue_municipalities(conn: psycopg.Connection, region: str | None) -> list[str]:
    """Municipalities that have cases in this region, for the queue filter. A skip scan: one
    index probe per municipality (cases_region_municipality_idx), not a scan of every case."""
    scope = sql.SQL("adv_region = %(region)s AND ") if region is not None else sql.SQL("")
    rows = conn.execute(sql.SQL(
        """
        WITH RECURSIVE m(code) AS (
            (SELECT municipality_code FROM cases WHERE {scope} true
             ORDER BY municipality_code LIMIT 1)
            UNION ALL
            SELECT (SELECT municipality_code FROM cases
                    WHERE {scope} municipality_code > m.code ORDER BY municipality_code LIMIT 1)
            FROM m WHERE m.code IS NOT NULL
        )
        SELECT code FROM m WHERE code IS NOT NULL
        """).format(scope=scope), {"region": region}).fetchall()
    return [r["code"] for r in rows]


# Coordinator order: open escalations first, not yet acknowledged first, most severe, oldest
# escalation, id. Mirrors cases_escalated_queue_idx (migration 0006) and coordinator_key.
_COORDINATOR_KEY = ("(status <> 'geescaleerd')", "(acknowledged_at IS NOT NULL)", "(-severity)",
                    "escalated_at", "id")
COORDINATOR_KEY_SHAPE = (bool, bool, int, datetime, int)


def coordinator_key(row: dict[str, Any]) -> paging.Key:
    return (row["status"] != "geescaleerd", row["acknowledged_at"] is not None, -row["severity"],
            row["escalated_at"], row["id"])


def coordinator_query(municipalities: Sequence[str], cursor: paging.Cursor | None, limit: int
                      ) -> tuple[sql.Composed, dict[str, Any]]:
    """The Escalaties seek query. No note text: not needed here."""
    params: dict[str, Any] = {"municipalities": list(municipalities),
                              "municipality": municipalities[0] if municipalities else None}
    # One municipality (the usual coordinator) as an equality: the index then yields the page in
    # order. For several, PostgreSQL sorts their escalated cases (bounded by escalations).
    where: list[sql.Composable] = [
        sql.SQL("municipality_code = %(municipality)s") if len(municipalities) == 1
        else sql.SQL("municipality_code = ANY(%(municipalities)s)"),
        sql.SQL("escalated_at IS NOT NULL")]
    if cursor is not None:
        where.append(_seek(_COORDINATOR_KEY, cursor, params))
    return sql.SQL(
        """
        SELECT id, status, level, severity, grounds, forms, municipality_code, escalated_at,
               acknowledged_at, closed_at
        FROM cases
        WHERE {where}
        ORDER BY {order}
        LIMIT {limit}
        """).format(where=sql.SQL(" AND ").join(where),
                    order=_order(_COORDINATOR_KEY, cursor is not None and cursor.direction == "before"),
                    limit=sql.Literal(limit + 1)), params


def coordinator_queue(conn: psycopg.Connection, municipalities: Sequence[str],
                      cursor: paging.Cursor | None = None, *, limit: int = PAGE_SIZE) -> paging.Page:
    """Escalations for these municipalities: open ones first, not yet acknowledged first."""
    fetched = conn.execute(*coordinator_query(municipalities, cursor, limit)).fetchall()
    if cursor is not None and cursor.direction == "before" and len(fetched) <= limit:
        cursor = None  # back at the start: the full first page
        fetched = conn.execute(*coordinator_query(municipalities, None, limit)).fetchall()
    return paging.paginate(fetched, limit=limit, cursor=cursor, key=coordinator_key)


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
