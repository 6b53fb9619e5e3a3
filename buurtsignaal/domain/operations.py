"""Operational indicators computed from domain state (pure: no I/O).

"Past SLA" uses the same pick-up deadlines as the reminders (config/routing.yaml, working
hours), so the alert and the reminders never disagree about which case is late.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from buurtsignaal.domain.routing import CaseSnapshot, Routing, case_labels, open_events


def past_sla_by_region(now: datetime, cases: Sequence[CaseSnapshot], routing: Routing) -> dict[str, int]:
    """Cases with an open event (new and not picked up, or escalated and not acknowledged) whose
    pick-up deadline on any matching route has passed; counted once per case, by ADV region."""
    late: Counter[str] = Counter()
    for case in cases:
        if _is_late(now, case, routing):
            late[case.adv_region] += 1
    return dict(late)


def _is_late(now: datetime, case: CaseSnapshot, routing: Routing) -> bool:
    for event, started in open_events(case):
        labels = case_labels(case, event)
        for route in routing.match(labels):
            sla = route.pickup_sla(labels)
            if sla is not None and now >= routing.calendar.add(started, sla):
                return True
    return False


def oldest_new_by_region(now: datetime, cases: Sequence[CaseSnapshot]) -> dict[str, float]:
    """Seconds since the oldest case nobody picked up was created, by ADV region."""
    oldest: dict[str, float] = {}
    for case in cases:
        if case.status == "nieuw":
            age = max(0.0, (now - case.created_at).total_seconds())
            oldest[case.adv_region] = max(age, oldest.get(case.adv_region, 0.0))
    return oldest
