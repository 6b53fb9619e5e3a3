"""Pattern alerts (early warning) in PostgreSQL: idempotent upsert by alert id, and the reads the
review UI needs. Area alerts never carry household identifiers (enforced by a CHECK as well)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from buurtsignaal.domain.regions import RegionMap


@dataclass
class StoredAlerts:
    created: list[tuple[str, str]]  # (scope, level) of new alerts
    upgraded: list[tuple[str, str]]  # (scope, level) of alerts raised to a higher level


def _row(event: dict[str, Any], regions: RegionMap) -> dict[str, Any]:
    area = event["scope"] == "area"
    return {
        "id": event["alert_id"],
        "scope": event["scope"],
        "subject_key": None if area else event["subject_key"],
        "area_key": event["area_key"] if area else None,
        "municipality_code": event["municipality_code"],
        "adv_region": regions.region_of(event["municipality_code"]),
        "level": event["level"],
        "rule": event["rule"],
        "note_ids": [] if area else list(event["note_ids"]),
        "households": event.get("households"),
        "ground": event.get("ground"),
        "summary": event["summary"],
        "window_start": event["window_start"],
        "raised_at": event["raised_at"],
        "ruleset_version": event["ruleset_version"],
    }


def store_alerts(conn: psycopg.Connection, alerts: list[dict[str, Any]], regions: RegionMap
                 ) -> StoredAlerts:
    """Insert new alerts; upgrade watch -> escalate; ignore replays and lower levels.
    The caller owns the transaction."""
    result = StoredAlerts([], [])
    # Within one batch the strongest event per alert wins (a replay may deliver both levels).
    best: dict[str, dict[str, Any]] = {}
    for event in alerts:
        current = best.get(event["alert_id"])
        if current is None or (current["level"], event["level"]) == ("watch", "escalate"):
            best[event["alert_id"]] = event
    if not best:
        return result
    rows = conn.execute(
        """
        INSERT INTO pattern_alerts AS p (id, scope, subject_key, area_key, municipality_code,
            adv_region, level, rule, note_ids, households, ground, summary, window_start, raised_at,
            first_raised_at, ruleset_version)
        SELECT r.id, r.scope, r.subject_key, r.area_key, r.municipality_code, r.adv_region,
               r.level, r.rule, r.note_ids, r.households, r.ground, r.summary, r.window_start,
               r.raised_at, r.raised_at, r.ruleset_version
        FROM jsonb_to_recordset(%s::jsonb) AS r(
            id text, scope text, subject_key text, area_key text, municipality_code text,
            adv_region text, level text, rule text, note_ids text[], households integer,
            ground text, summary text, window_start timestamptz, raised_at timestamptz,
            ruleset_version text)
        ON CONFLICT (id) DO UPDATE SET
            level = EXCLUDED.level, rule = EXCLUDED.rule, note_ids = EXCLUDED.note_ids,
            households = EXCLUDED.households, summary = EXCLUDED.summary,
            window_start = LEAST(p.window_start, EXCLUDED.window_start),
            raised_at = EXCLUDED.raised_at, ruleset_version = EXCLUDED.ruleset_version,
            updated_at = now()
        WHERE p.level = 'watch' AND EXCLUDED.level = 'escalate'
        RETURNING scope, level, (xmax = 0) AS inserted
        """,
        (Jsonb([_row(e, regions) for e in best.values()]),),
    ).fetchall()
    for row in rows:
        target = result.created if row["inserted"] else result.upgraded
        target.append((row["scope"], row["level"]))
    subjects = sorted({e["subject_key"] for e in best.values() if e["scope"] == "household"})
    if subjects:
        # A household with a pattern alert: its cases move to the top of the ADV queue. The
        # version is left alone: this is not a decision, and must not void a reviewer's form.
        conn.execute(
            "UPDATE cases SET level = 'patroon' WHERE subject_key = ANY(%s) AND level <> 'patroon'",
            (subjects,),
        )
    return result


def household_alerts(conn: psycopg.Connection, adv_region: str | None, limit: int = 100
                     ) -> list[dict[str, Any]]:
    """The ADV queue's pattern alerts (region None: all, for admins): escalate before watch,
    newest first, each with the household's most recent open case to open from the queue.
    Read in order from pattern_alerts_household_queue_idx (migration 0006)."""
    # The region condition only when there is one: "param IS NULL OR ..." would keep a
    # prepared statement's generic plan off the index.
    region = sql.SQL("AND p.adv_region = %(region)s") if adv_region is not None else sql.SQL("")
    return conn.execute(sql.SQL(
        """
        SELECT p.id, p.subject_key, p.municipality_code, p.level, p.rule, p.note_ids, p.summary,
               p.window_start, p.raised_at, p.first_raised_at, p.status, p.updated_at,
               (SELECT max(c.id) FROM cases c
                WHERE c.subject_key = p.subject_key
                  AND c.status IN ('nieuw', 'in_behandeling', 'meer_informatie_nodig', 'bevestigd')
               ) AS case_id
        FROM pattern_alerts p
        WHERE p.scope = 'household' {region}
        ORDER BY (p.level = 'escalate') DESC, p.raised_at DESC, p.id
        LIMIT %(limit)s
        """).format(region=region),
        {"region": adv_region, "limit": limit},
    ).fetchall()


def area_alerts(conn: psycopg.Connection, municipalities: list[str], limit: int = 100
                ) -> list[dict[str, Any]]:
    """Area alerts for a coordinator's municipalities: counts and grounds, no households."""
    return conn.execute(
        """
        SELECT id, area_key, municipality_code, level, rule, households, ground, summary,
               window_start, raised_at, status
        FROM pattern_alerts
        WHERE scope = 'area' AND municipality_code = ANY(%s)
        ORDER BY (level = 'escalate') DESC, raised_at DESC, id
        LIMIT %s
        """,
        (municipalities, limit),
    ).fetchall()


def alerts_for_subject(conn: psycopg.Connection, subject_key: str) -> list[dict[str, Any]]:
    """Pattern alerts of one household (for its timeline)."""
    return conn.execute(
        "SELECT id, level, rule, note_ids, summary, window_start, raised_at, status "
        "FROM pattern_alerts WHERE scope = 'household' AND subject_key = %s ORDER BY raised_at, id",
        (subject_key,),
    ).fetchall()

