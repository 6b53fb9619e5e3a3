"""Routing tree, working-time SLAs and reminder timing with a controllable clock (no sleeps)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from buurtsignaal.config import REPO_ROOT
from buurtsignaal.domain.regions import RegionMap
from buurtsignaal.domain.routing import (
    CaseSnapshot,
    Duration,
    Routing,
    RoutingError,
    Sent,
    WorkingCalendar,
    case_labels,
    due_actions,
    parse_duration,
)

AMS = ZoneInfo("Europe/Amsterdam")
CAL = WorkingCalendar()


def ams(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)  # type: ignore[misc]


def regions() -> dict[str, frozenset[str]]:
    rm = RegionMap.load(REPO_ROOT / "config" / "regions.yaml")
    return {code: r.municipalities for code, r in rm.regions.items()}


def load_repo_routing() -> Routing:
    data = yaml.safe_load((REPO_ROOT / "config" / "routing.yaml").read_text(encoding="utf-8"))
    return Routing.from_dict(data, regions=regions(), env={})


# --- working time -----------------------------------------------------------------------------

def test_working_hours_inside_one_day() -> None:
    assert CAL.add(ams(2026, 11, 2, 9, 0), parse_duration("4wh", CAL.day_seconds)) == ams(2026, 11, 2, 13, 0)


def test_working_hours_carry_over_the_night_and_the_weekend() -> None:
    # Friday 15:00 + 4 working hours = 2h on Friday, 2h from Monday 08:30.
    assert CAL.add(ams(2026, 11, 6, 15, 0), Duration(4 * 3600, True)) == ams(2026, 11, 9, 10, 30)
    # Saturday counts from Monday opening.
    assert CAL.add(ams(2026, 11, 7, 11, 0), Duration(3600, True)) == ams(2026, 11, 9, 9, 30)
    # Evening counts from the next morning.
    assert CAL.add(ams(2026, 11, 3, 21, 0), Duration(1800, True)) == ams(2026, 11, 4, 9, 0)


def test_two_working_days_is_two_full_days_of_working_hours() -> None:
    two_days = parse_duration("2wd", CAL.day_seconds)
    assert two_days.seconds == 2 * 8.5 * 3600
    assert CAL.add(ams(2026, 11, 5, 10, 0), two_days) == ams(2026, 11, 9, 10, 0)  # Thu -> Mon


def test_holidays_are_skipped_and_dst_is_respected() -> None:
    cal = WorkingCalendar(holidays=frozenset({date(2026, 12, 25)}))
    # Thursday 24 Dec 16:00 + 2wh: 1h on Thursday, Friday is a holiday, 1h on Monday 28 Dec.
    assert cal.add(ams(2026, 12, 24, 16, 0), Duration(7200, True)) == ams(2026, 12, 28, 9, 30)
    # Across the end of summer time (25 Oct 2026): still 09:30 local time on Monday.
    result = CAL.add(ams(2026, 10, 23, 16, 0), Duration(2 * 3600, True))
    assert result == ams(2026, 10, 26, 9, 30) and result.utcoffset() == timedelta(0)
    assert ams(2026, 10, 23, 16, 0).astimezone(UTC).hour == 14


def test_wall_clock_durations_ignore_working_hours() -> None:
    assert CAL.add(ams(2026, 11, 7, 23, 0), parse_duration("30s", 1)) == ams(2026, 11, 7, 23, 0, 30)


@pytest.mark.parametrize("bad", ["", "5 minutes", "-3h", "1w", None])
def test_bad_durations_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(bad, 3600)


# --- the routing file -------------------------------------------------------------------------

def test_repository_routing_file_is_valid_and_routes_two_regions() -> None:
    routing = load_repo_routing()
    utrecht = case(municipality_code="GM0344")
    assert [r.receiver for r in routing.match(case_labels(utrecht, "nieuw"))] == ["adv-midden-intake"]
    assert [r.receiver for r in routing.match(case_labels(utrecht, "escalatie"))] == ["gemeente-utrecht"]
    alkmaar = case(municipality_code="GM0361", adv_region="noord-holland-noord")
    assert [r.receiver for r in routing.match(case_labels(alkmaar, "nieuw"))] == ["adv-nhn-intake"]
    assert [r.receiver for r in routing.match(case_labels(alkmaar, "escalatie"))] == ["gemeente-alkmaar"]
    # A municipality of the region without its own route falls back to the region's intake.
    zeist = case(municipality_code="GM0355")
    assert [r.receiver for r in routing.match(case_labels(zeist, "escalatie"))] == ["adv-midden-intake"]
    # A region without routes falls back to the root receiver: nothing is lost.
    drenthe = case(municipality_code="GM0106", adv_region="drenthe")
    assert [r.receiver for r in routing.match(case_labels(drenthe, "nieuw"))] == ["beheer"]


def test_validation_reports_every_problem_with_its_place() -> None:
    data = {
        "receivers": [{"name": "a", "email": {"to": ["not-an-address"]}},
                      {"name": "b", "webhook": {"url": "ftp://x", "secret_env": "B_SECRET"}},
                      {"name": "b", "email": {"to": "b@x.example"}}],
        "route": {
            "receiver": "a", "group_wait": "soon",
            "sla": [{"match": {"severity": 5}, "pickup": "4wh"}, {"within": "2d"}],
            "routes": [{"match": {"adv_region": "atlantis", "ground": "kleur"}, "receiver": "zz"},
                       {"match": {"municipality": "0344", "flavour": "x"}, "receiver": "a",
                        "escalate_to": "nobody"}],
        },
        "extra": 1,
    }
    with pytest.raises(RoutingError) as info:
        Routing.from_dict(data, regions=regions(), env={"B_SECRET": "short"})
    text = "\n".join(info.value.errors)
    for expected in [
        "receivers[0] (a).email.to: expected one or more e-mail addresses",
        "receivers[1] (b).webhook.url: expected an http(s) URL",
        "receivers[1] (b).webhook.secret_env: environment variable B_SECRET must hold a secret",
        "receivers[2] (b): duplicate receiver name",
        "route.group_wait: 'soon' is not a duration",
        "route.sla[0].match.severity: '5' is not a severity",
        "route.sla[1]: every rule needs 'pickup'",
        "route.routes[0].match.adv_region: unknown ADV region 'atlantis'",
        "route.routes[0].match.ground: 'kleur' is not a ground code",
        "route.routes[0].receiver: unknown receiver 'zz'",
        "route.routes[1].match.municipality: '0344' is not a CBS municipality code",
        "route.routes[1].match.flavour: unknown label",
        "route.routes[1].escalate_to: unknown receiver 'nobody'",
        "extra: unknown key",
    ]:
        assert expected in text, f"missing error: {expected}\n{text}"


def test_municipality_must_belong_to_a_region_and_root_needs_a_receiver() -> None:
    with pytest.raises(RoutingError, match="GM9999 is in no ADV region"):
        Routing.from_dict({"receivers": [{"name": "a", "email": {"to": "a@b.example"}}],
                           "route": {"receiver": "a", "routes": [
                               {"match": {"municipality": "GM9999"}}]}}, regions=regions())
    with pytest.raises(RoutingError, match="route: missing"):
        Routing.from_dict({"receivers": [{"name": "a", "email": {"to": "a@b.example"}}]})


def test_continue_sends_to_several_receivers_and_ground_matches_any() -> None:
    routing = Routing.from_dict({
        "receivers": [{"name": n, "email": {"to": f"{n}@x.example"}} for n in ("root", "a", "b", "c")],
        "route": {"receiver": "root", "routes": [
            {"match": {"ground": "godsdienst"}, "receiver": "a", "continue": True},
            {"match": {"severity": [2, 3]}, "receiver": "b"},
            {"receiver": "c"},
        ]},
    })
    labels = case_labels(case(grounds=("herkomst", "godsdienst"), severity=3), "nieuw")
    assert [r.receiver for r in routing.match(labels)] == ["a", "b"]
    assert [r.receiver for r in routing.match(case_labels(case(severity=1), "nieuw"))] == ["c"]


# --- due_actions ------------------------------------------------------------------------------

T0 = ams(2026, 11, 2, 9, 0)  # a Monday morning


def case(**kw: object) -> CaseSnapshot:
    base: dict[str, object] = dict(id=1, status="nieuw", level="signaal", severity=2,
                                   grounds=("herkomst",), municipality_code="GM0344",
                                   adv_region="midden-nederland", created_at=T0)
    base.update(kw)
    return CaseSnapshot(**base)  # type: ignore[arg-type]


class Clock:
    """A controllable clock and the notifications 'sent' so far, as the scheduler keeps them."""

    def __init__(self, routing: Routing, now: datetime = T0) -> None:
        self.routing, self.now, self.sent = routing, now, []  # type: list[Sent]

    def tick(self, cases: list[CaseSnapshot]) -> list[tuple[str, str, tuple[int, ...]]]:
        actions = due_actions(self.now, cases, self.routing, self.sent)
        for a in actions:
            self.sent.extend(Sent(cid, a.receiver, a.kind, a.group_key, self.now) for cid in a.case_ids)
        return [(a.kind, a.receiver, a.case_ids) for a in actions]

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def test_new_cases_wait_for_the_group_then_go_in_one_message() -> None:
    clock = Clock(load_repo_routing())
    cases = [case(id=1), case(id=2, created_at=T0 + timedelta(seconds=10))]
    assert clock.tick(cases) == []
    clock.advance(seconds=29)
    assert clock.tick(cases) == []
    clock.advance(seconds=1)
    assert clock.tick(cases) == [("nieuw", "adv-midden-intake", (1, 2))]
    assert clock.tick(cases) == []  # never twice
    # A third case joins the group: it waits for group_interval (5m) after the last message.
    cases.append(case(id=3, created_at=clock.now + timedelta(seconds=5)))
    clock.advance(minutes=1)
    assert clock.tick(cases) == []
    clock.advance(minutes=4)
    assert clock.tick(cases) == [("nieuw", "adv-midden-intake", (3,))]


def test_a_case_picked_up_before_group_wait_sends_nothing() -> None:
    clock = Clock(load_repo_routing())
    clock.advance(minutes=10)
    assert clock.tick([case(status="in_behandeling")]) == []


def test_severity_3_is_reminded_after_4_working_hours_then_escalates() -> None:
    clock = Clock(load_repo_routing())
    cases = [case(severity=3)]
    clock.tick(cases)
    clock.advance(seconds=30)
    assert clock.tick(cases) == [("nieuw", "adv-midden-intake", (1,))]
    clock.now = ams(2026, 11, 2, 12, 59)
    assert clock.tick(cases) == []
    clock.now = ams(2026, 11, 2, 13, 0)  # 4 working hours after 09:00
    assert clock.tick(cases) == [("herinnering", "adv-midden-intake", (1,))]
    clock.now = ams(2026, 11, 2, 16, 59)
    assert clock.tick(cases) == []
    clock.now = ams(2026, 11, 3, 8, 30)  # 13:00 + 4wh = Tue 08:30 (4h on Monday)
    assert clock.tick(cases) == [("herinnering", "adv-midden-intake", (1,))]
    # Two reminders ignored: the team lead is reminded from now on, every 4 working hours.
    clock.now = ams(2026, 11, 3, 12, 30)
    assert clock.tick(cases) == [("herinnering_escalatie", "adv-midden-teamleider", (1,))]
    clock.now = ams(2026, 11, 3, 16, 30)
    assert clock.tick(cases) == [("herinnering_escalatie", "adv-midden-teamleider", (1,))]
    # Picked up: no more reminders.
    clock.now += timedelta(days=3)
    assert clock.tick([case(severity=3, status="in_behandeling")]) == []


def test_other_severities_get_two_working_days() -> None:
    clock = Clock(load_repo_routing(), now=ams(2026, 11, 5, 10, 0))  # Thursday
    cases = [case(severity=1, created_at=clock.now)]
    clock.advance(minutes=1)
    clock.tick(cases)
    clock.now = ams(2026, 11, 9, 9, 59)  # Monday, just before 17 working hours
    assert clock.tick(cases) == []
    clock.now = ams(2026, 11, 9, 10, 0)
    assert clock.tick(cases) == [("herinnering", "adv-midden-intake", (1,))]


def test_no_burst_of_reminders_after_an_outage() -> None:
    clock = Clock(load_repo_routing())
    cases = [case(severity=3)]
    clock.now = T0 + timedelta(days=10)  # the scheduler was down for days
    assert clock.tick(cases) == [("nieuw", "adv-midden-intake", (1,)),
                                 ("herinnering", "adv-midden-intake", (1,))]
    assert clock.tick(cases) == []


def test_escalations_go_to_the_coordinator_and_remind_the_adv_when_ignored() -> None:
    clock = Clock(load_repo_routing(), now=ams(2026, 11, 4, 14, 0))
    escalated = case(status="geescaleerd", severity=2, escalated_at=clock.now)
    assert clock.tick([escalated]) == [("escalatie", "gemeente-utrecht", (1,))]
    clock.now = ams(2026, 11, 6, 13, 59)  # Wed 14:00 + 17 wh = Fri 14:00
    assert clock.tick([escalated]) == []
    clock.now = ams(2026, 11, 6, 14, 0)
    assert clock.tick([escalated]) == [("herinnering", "gemeente-utrecht", (1,))]
    acknowledged = case(status="geescaleerd", escalated_at=escalated.escalated_at,
                        acknowledged_at=clock.now)
    clock.now += timedelta(days=7)
    assert clock.tick([acknowledged]) == []


def test_groups_are_per_municipality_for_escalations() -> None:
    clock = Clock(load_repo_routing())
    cases = [case(id=1, status="geescaleerd", escalated_at=T0),
             case(id=2, status="geescaleerd", escalated_at=T0, municipality_code="GM0307"),
             case(id=3, status="geescaleerd", escalated_at=T0)]
    assert sorted(clock.tick(cases)) == [("escalatie", "gemeente-amersfoort", (2,)),
                                         ("escalatie", "gemeente-utrecht", (1, 3))]


def test_routes_without_sla_never_remind() -> None:
    routing = Routing.from_dict({"receivers": [{"name": "a", "email": {"to": "a@x.example"}}],
                                 "route": {"receiver": "a", "group_wait": "0s"}})
    clock = Clock(routing)
    assert clock.tick([case()]) == [("nieuw", "a", (1,))]
    clock.advance(days=30)
    assert clock.tick([case()]) == []
