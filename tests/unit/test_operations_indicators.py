"""Operational indicators (buurtsignaal/domain/operations.py): cases past their pick-up SLA use the
routing file's deadlines and working-hours calendar, so the alert agrees with the reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from buurtsignaal.domain.operations import oldest_new_by_region, past_sla_by_region
from buurtsignaal.domain.routing import CaseSnapshot, Routing

ROUTING = Routing.from_dict({
    "working_hours": {"timezone": "Europe/Amsterdam", "start": "08:30", "end": "17:00"},
    "receivers": [{"name": "beheer", "email": {"to": ["beheer@buurtsignaal.example"]}}],
    "route": {"receiver": "beheer",
              "sla": [{"match": {"severity": 3}, "pickup": "4wh"}, {"pickup": "2wd"}]},
})
# Monday 2 November 2026, 09:00 in Amsterdam (08:00 UTC)
MONDAY_9 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def case(case_id: int, *, severity: int = 1, status: str = "nieuw", region: str = "midden-nederland",
         created: datetime = MONDAY_9, escalated: datetime | None = None,
         acknowledged: datetime | None = None) -> CaseSnapshot:
    return CaseSnapshot(case_id, status, "signaal", severity, ("herkomst",), "GM0344", region,
                        created, escalated, acknowledged)


def test_severe_case_is_late_after_four_working_hours() -> None:
    severe = case(1, severity=3)
    assert past_sla_by_region(MONDAY_9 + timedelta(hours=3, minutes=59), [severe], ROUTING) == {}
    assert past_sla_by_region(MONDAY_9 + timedelta(hours=4), [severe], ROUTING) == {"midden-nederland": 1}


def test_working_hours_stop_the_clock_at_night_and_weekends() -> None:
    friday_16 = datetime(2026, 11, 6, 15, 0, tzinfo=UTC)  # 16:00 Amsterdam
    severe = case(1, severity=3, created=friday_16)
    # 1 working hour on Friday, then the clock stands still until Monday 08:30.
    monday_10 = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
    assert past_sla_by_region(monday_10, [severe], ROUTING) == {}
    monday_12 = datetime(2026, 11, 9, 11, 0, tzinfo=UTC)
    assert past_sla_by_region(monday_12, [severe], ROUTING) == {"midden-nederland": 1}


def test_other_cases_get_two_working_days_and_count_per_region() -> None:
    cases = [case(1), case(2, region="drenthe"), case(3, region="drenthe"),
             case(4, status="in_behandeling")]  # picked up: not waiting
    wednesday_10 = datetime(2026, 11, 4, 9, 0, tzinfo=UTC)
    assert past_sla_by_region(wednesday_10 - timedelta(hours=2), cases, ROUTING) == {}
    assert past_sla_by_region(wednesday_10, cases, ROUTING) == {"midden-nederland": 1, "drenthe": 2}


def test_unacknowledged_escalation_is_late_too() -> None:
    escalated = case(1, status="geescaleerd", escalated=MONDAY_9)
    acknowledged = case(2, status="geescaleerd", escalated=MONDAY_9, acknowledged=MONDAY_9)
    later = MONDAY_9 + timedelta(days=7)
    assert past_sla_by_region(later, [escalated, acknowledged], ROUTING) == {"midden-nederland": 1}


def test_oldest_new_case_per_region() -> None:
    cases = [case(1, created=MONDAY_9), case(2, created=MONDAY_9 + timedelta(hours=1)),
             case(3, region="drenthe", created=MONDAY_9 + timedelta(hours=2)),
             case(4, status="afgewezen", created=MONDAY_9 - timedelta(days=30))]
    now = MONDAY_9 + timedelta(hours=3)
    assert oldest_new_by_region(now, cases) == {"midden-nederland": 3 * 3600.0, "drenthe": 3600.0}
