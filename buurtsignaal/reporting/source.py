"""Reading report facts from PostgreSQL: live cases and the anonymous counts of removed ones.

Only the columns a report may use are selected: never note text, household keys or free text.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from buurtsignaal.domain.regions import RegionMap

from .aggregate import CaseFact, Scope
from .period import Period

LOCAL_TZ = "Europe/Amsterdam"


def region_scope(regions: RegionMap, region: str) -> Scope:
    if region not in regions.regions:
        raise ValueError(f"Onbekende ADV-regio '{region}'.")
    r = regions.regions[region]
    return Scope(region, r.name, tuple((m, m) for m in sorted(r.municipalities)))


def municipality_scope(municipalities: Sequence[str]) -> Scope:
    codes = sorted(set(municipalities))
    if not codes:
        raise ValueError("Kies minstens één gemeente.")
    return Scope("+".join(codes), "gemeente " + ", ".join(codes), tuple((m, m) for m in codes))


def load_facts(conn: psycopg.Connection, period: Period, scope: Scope) -> list[CaseFact]:
    municipalities = [code for code, _ in scope.municipalities]
    rows = conn.execute(
        f"""SELECT date_trunc('month', n.occurred_at AT TIME ZONE '{LOCAL_TZ}')::date AS month,
                  c.municipality_code, c.grounds, c.forms, c.severity, c.status, c.consent,
                  c.created_at, c.first_reviewed_at, c.escalated_at, c.coordinator_actions
           FROM cases c JOIN notes n ON n.id = c.note_id
           WHERE c.municipality_code = ANY(%(m)s)
             AND n.occurred_at >= (%(start)s::timestamp AT TIME ZONE '{LOCAL_TZ}')
             AND n.occurred_at < (%(end)s::timestamp AT TIME ZONE '{LOCAL_TZ}')""",
        {"m": municipalities, "start": period.first, "end": period.end_exclusive},
    ).fetchall()
    facts = [CaseFact(month=r["month"], municipality=r["municipality_code"],
                      grounds=tuple(r["grounds"]), forms=tuple(r["forms"]), severity=r["severity"],
                      status=r["status"], consent=r["consent"], created_at=r["created_at"],
                      first_reviewed_at=r["first_reviewed_at"], escalated_at=r["escalated_at"],
                      coordinator_actions=tuple(r["coordinator_actions"])) for r in rows]
    removed = conn.execute(
        """SELECT month, municipality_code, grounds, forms, severity, status
           FROM anonymous_statistics
           WHERE municipality_code = ANY(%(m)s) AND month >= %(start)s AND month < %(end)s""",
        {"m": municipalities, "start": period.first, "end": period.end_exclusive},
    ).fetchall()
    facts += [CaseFact(month=r["month"], municipality=r["municipality_code"],
                       grounds=tuple(r["grounds"]), forms=tuple(r["forms"]), severity=r["severity"],
                       status=r["status"], anonymised=True) for r in removed]
    return facts
