"""Who is told what, and when: the routing tree, working-time SLAs and reminders (pure).

In the spirit of Alertmanager: a tree of routes matches labels of a case event (event, adv_region,
municipality, level, severity, ground) to receivers; `group_wait` / `group_interval` batch new
events into one message per group; reminders follow when a case is not picked up within its SLA
(measured in working time) and repeat every `repeat_interval`, going to `escalate_to` once
`escalate_after` reminders were ignored. The core is `due_actions(now, cases, routing, sent)`:
no clock, no I/O, so it is tested with any `now` (docs/decisions/0011).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from buurtsignaal.domain.taxonomy import GROUNDS

EVENTS = ("nieuw", "escalatie")  # a new case for the ADV; a confirmed case for the municipality
LEVELS = ("signaal", "patroon")
LABELS = ("event", "adv_region", "municipality", "level", "severity", "ground")
GROUPABLE = ("event", "adv_region", "municipality", "level", "severity")
# Message kinds: the first message for an event, a reminder, a reminder to the second receiver.
KINDS = ("nieuw", "escalatie", "herinnering", "herinnering_escalatie")


class RoutingError(ValueError):
    """The routing file is invalid; `errors` lists every problem as 'where: what'."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid routing configuration:\n  - " + "\n  - ".join(errors))
        self.errors = errors


# --- durations and working time -------------------------------------------------------------

@dataclass(frozen=True)
class Duration:
    """A wall-clock span, or a span of working time (`wh` working hours, `wd` working days)."""

    seconds: float
    working: bool = False

    def __str__(self) -> str:
        return f"{self.seconds:g}s{' (werktijd)' if self.working else ''}"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|wh|wd)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "wh": 3600}


def parse_duration(text: Any, working_day_seconds: float) -> Duration:
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"'{text}' is not a duration (use e.g. 30s, 5m, 4h, 1d, 4wh, 2wd)")
    value, unit = float(match.group(1)), match.group(2)
    if unit == "wd":
        return Duration(value * working_day_seconds, working=True)
    return Duration(value * _UNIT_SECONDS[unit], working=unit == "wh")


@dataclass(frozen=True)
class WorkingCalendar:
    """Working hours (default Mon-Fri 08:30-17:00 Europe/Amsterdam) and holidays."""

    timezone: str = "Europe/Amsterdam"
    start: time = time(8, 30)
    end: time = time(17, 0)
    holidays: frozenset[date] = frozenset()

    @property
    def day_seconds(self) -> float:
        return (datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)).seconds

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add(self, start: datetime, duration: Duration) -> datetime:
        """`start` + `duration`; working durations only count time inside working hours."""
        if not duration.working:
            return start + timedelta(seconds=duration.seconds)
        tz = ZoneInfo(self.timezone)
        remaining = timedelta(seconds=duration.seconds)
        cursor = start.astimezone(tz)
        day = cursor.date()
        for _ in range(3660):  # ten years of days: a bound, not a limit anyone reaches
            if self.is_working_day(day):
                opens = datetime.combine(day, self.start, tzinfo=tz)
                closes = datetime.combine(day, self.end, tzinfo=tz)
                begin = max(cursor, opens)
                if begin < closes or (begin == closes and not remaining):
                    # No DST change happens between 08:30 and 17:00, so local arithmetic is exact.
                    if remaining <= closes - begin:
                        return (begin + remaining).astimezone(UTC)
                    remaining -= closes - begin
            day += timedelta(days=1)
            cursor = datetime.combine(day, time(0), tzinfo=tz)
        raise ValueError("no working time found within ten years (all days holidays?)")


# --- the routing tree -------------------------------------------------------------------------

Labels = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Matcher:
    """Every named label must have at least one of the listed values (ground is multi-valued)."""

    equals: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def matches(self, labels: Labels) -> bool:
        return all(set(labels.get(k, ())) & allowed for k, allowed in self.equals.items())


@dataclass(frozen=True)
class SlaRule:
    match: Matcher
    pickup: Duration


@dataclass(frozen=True)
class EmailChannel:
    to: tuple[str, ...]


@dataclass(frozen=True)
class WebhookChannel:
    url: str
    secret_env: str


@dataclass(frozen=True)
class Receiver:
    name: str
    email: EmailChannel | None = None
    webhook: WebhookChannel | None = None
    max_attempts: int = 6
    backoff: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class Route:
    path: str  # where it is in the file, e.g. "route.routes[1]": identifies groups and errors
    match: Matcher
    receiver: str
    continue_: bool
    group_by: tuple[str, ...]
    group_wait: Duration
    group_interval: Duration
    repeat_interval: Duration
    sla: tuple[SlaRule, ...]
    escalate_to: str | None
    escalate_after: int
    routes: tuple[Route, ...] = ()

    def pickup_sla(self, labels: Labels) -> Duration | None:
        return next((r.pickup for r in self.sla if r.match.matches(labels)), None)


@dataclass(frozen=True)
class Routing:
    route: Route
    receivers: Mapping[str, Receiver]
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    def match(self, labels: Labels) -> list[Route]:
        """The routes that take this event: depth first, the first matching child wins unless it
        says `continue: true`; a node whose children do not match takes the event itself."""
        return _match(self.route, labels) or [self.route]

    @classmethod
    def from_dict(cls, data: Any, *, regions: Mapping[str, Iterable[str]] | None = None,
                  env: Mapping[str, str] | None = None) -> Routing:
        """Validate everything and report all problems at once. `regions` (code ->
        municipalities) checks region and municipality codes; `env` checks webhook secrets."""
        return _Parser(regions, env).parse(data)


def _match(route: Route, labels: Labels) -> list[Route]:
    if not route.match.matches(labels):
        return []
    found: list[Route] = []
    for child in route.routes:
        matched = _match(child, labels)
        if matched:
            found.extend(matched)
            if not child.continue_:
                break
    return found or [route]


# --- what is due now --------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseSnapshot:
    id: int
    status: str
    level: str
    severity: int
    grounds: tuple[str, ...]
    municipality_code: str
    adv_region: str
    created_at: datetime
    escalated_at: datetime | None = None
    acknowledged_at: datetime | None = None


@dataclass(frozen=True)
class Sent:
    """A message already scheduled for a case (delivered or not: we never re-send on failure)."""

    case_id: int
    receiver: str
    kind: str
    group_key: str
    at: datetime


@dataclass(frozen=True)
class Action:
    kind: str
    event: str
    receiver: str
    group_key: str
    case_ids: tuple[int, ...]


def open_events(case: CaseSnapshot) -> list[tuple[str, datetime]]:
    """Events still waiting for a person: a new case nobody picked up; an escalation the
    coordinator has not acknowledged. Each with the moment its clock started."""
    events: list[tuple[str, datetime]] = []
    if case.status == "nieuw":
        events.append(("nieuw", case.created_at))
    if case.status == "geescaleerd" and case.acknowledged_at is None and case.escalated_at:
        events.append(("escalatie", case.escalated_at))
    return events


def case_labels(case: CaseSnapshot, event: str) -> dict[str, tuple[str, ...]]:
    return {
        "event": (event,),
        "adv_region": (case.adv_region,),
        "municipality": (case.municipality_code,),
        "level": (case.level,),
        "severity": (str(case.severity),),
        "ground": tuple(case.grounds),
    }


def group_key(route: Route, labels: Labels) -> str:
    parts = [f"{k}={','.join(labels.get(k, ()))}" for k in route.group_by]
    return f"{route.path}|{route.receiver}|{'|'.join(parts)}"


def due_actions(now: datetime, cases: Sequence[CaseSnapshot], routing: Routing,
                sent: Sequence[Sent]) -> list[Action]:
    """Messages due at `now`: first messages per group (after group_wait, then at most every
    group_interval) and reminders per receiver (at the SLA deadline, then every repeat_interval,
    to `escalate_to` after `escalate_after` reminders)."""
    sent_at: dict[tuple[int, str, str], list[datetime]] = defaultdict(list)
    group_last: dict[str, datetime] = {}
    for s in sent:
        sent_at[(s.case_id, s.receiver, s.kind)].append(s.at)
        if s.kind in EVENTS:
            group_last[s.group_key] = max(s.at, group_last.get(s.group_key, s.at))

    pending: dict[tuple[str, str, str], list[tuple[int, datetime, Route]]] = defaultdict(list)
    reminders: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for case in cases:
        for event, started in open_events(case):
            labels = case_labels(case, event)
            for route in routing.match(labels):
                if not sent_at.get((case.id, route.receiver, event)):
                    pending[(group_key(route, labels), route.receiver, event)].append(
                        (case.id, started, route))
                due = _reminder_due(now, case.id, started, route, labels, routing, sent_at)
                if due:
                    reminders[(due[0], due[1], event)].append(case.id)

    actions: list[Action] = []
    for (key, receiver, event), items in sorted(pending.items()):
        route = items[0][2]
        first = min(started for _, started, _ in items)
        due_at = routing.calendar.add(first, route.group_wait)
        if key in group_last:
            due_at = max(due_at, routing.calendar.add(group_last[key], route.group_interval))
        if now >= due_at:
            actions.append(Action(event, event, receiver, key,
                                  tuple(sorted({cid for cid, _, _ in items}))))
    for (receiver, kind, event), ids in sorted(reminders.items()):
        actions.append(Action(kind, event, receiver, f"{kind}|{receiver}|{event}",
                              tuple(sorted(set(ids)))))
    return actions


def _reminder_due(now: datetime, case_id: int, started: datetime, route: Route, labels: Labels,
                  routing: Routing, sent_at: Mapping[tuple[int, str, str], list[datetime]]
                  ) -> tuple[str, str] | None:
    """(receiver, kind) of the reminder due for this case on this route, if any."""
    sla = route.pickup_sla(labels)
    if sla is None:
        return None
    first = sent_at.get((case_id, route.receiver, "herinnering"), [])
    second = (sent_at.get((case_id, route.escalate_to, "herinnering_escalatie"), [])
              if route.escalate_to else [])
    previous = [*first, *second]
    if previous:
        due_at = routing.calendar.add(max(previous), route.repeat_interval)
    else:
        due_at = routing.calendar.add(started, sla)
    if now < due_at:
        return None
    if route.escalate_to and len(first) >= route.escalate_after:
        return route.escalate_to, "herinnering_escalatie"
    return route.receiver, "herinnering"


# --- parsing and validation -------------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MUNICIPALITY = re.compile(r"^GM\d{4}$")
_ROUTE_KEYS = {"match", "receiver", "continue", "group_by", "group_wait", "group_interval",
               "repeat_interval", "sla", "escalate_to", "escalate_after", "routes"}
_INHERITED = ("group_by", "group_wait", "group_interval", "repeat_interval", "sla", "escalate_to",
              "escalate_after")


class _Parser:
    def __init__(self, regions: Mapping[str, Iterable[str]] | None,
                 env: Mapping[str, str] | None) -> None:
        self.regions = {k: set(v) for k, v in regions.items()} if regions is not None else None
        self.env = env
        self.errors: list[str] = []
        self.calendar = WorkingCalendar()

    def err(self, where: str, what: str) -> None:
        self.errors.append(f"{where}: {what}")

    def parse(self, data: Any) -> Routing:
        if not isinstance(data, dict):
            raise RoutingError(["(file): expected a mapping with 'receivers' and 'route'"])
        for key in set(data) - {"working_hours", "receivers", "route"}:
            self.err(key, "unknown key (expected working_hours, receivers, route)")
        self.calendar = self._calendar(data.get("working_hours") or {})
        receivers = self._receivers(data.get("receivers"))
        defaults: dict[str, Any] = {
            "group_by": ("event", "adv_region"), "group_wait": Duration(30),
            "group_interval": Duration(300), "repeat_interval": Duration(4 * 3600, working=True),
            "sla": (), "escalate_to": None, "escalate_after": 2,
        }
        root_data = data.get("route")
        if not isinstance(root_data, dict):
            self.err("route", "missing: the root route with a default receiver")
            raise RoutingError(self.errors)
        if root_data.get("match"):
            self.err("route.match", "the root route matches everything; remove 'match'")
        root = self._route(root_data, "route", defaults, receivers)
        if self.errors:
            raise RoutingError(self.errors)
        return Routing(root, receivers, self.calendar)

    def _calendar(self, spec: Any) -> WorkingCalendar:
        if not isinstance(spec, dict):
            self.err("working_hours", "expected a mapping")
            return WorkingCalendar()
        tz = str(spec.get("timezone", "Europe/Amsterdam"))
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            self.err("working_hours.timezone", f"unknown time zone '{tz}'")
            tz = "Europe/Amsterdam"
        times = []
        for key, default in (("start", "08:30"), ("end", "17:00")):
            try:
                times.append(time.fromisoformat(str(spec.get(key, default))))
            except ValueError:
                self.err(f"working_hours.{key}", "expected HH:MM")
                times.append(time.fromisoformat(default))
        if times[0] >= times[1]:
            self.err("working_hours", "start must be before end")
            times = [time(8, 30), time(17, 0)]
        holidays = set()
        for i, day in enumerate(spec.get("holidays") or []):
            try:
                holidays.add(day if isinstance(day, date) else date.fromisoformat(str(day)))
            except ValueError:
                self.err(f"working_hours.holidays[{i}]", f"'{day}' is not a date (YYYY-MM-DD)")
        return WorkingCalendar(tz, times[0], times[1], frozenset(holidays))

    def _duration(self, where: str, value: Any) -> Duration:
        try:
            return parse_duration(value, self.calendar.day_seconds)
        except ValueError as exc:
            self.err(where, str(exc))
            return Duration(0)

    def _receivers(self, spec: Any) -> dict[str, Receiver]:
        if not isinstance(spec, list) or not spec:
            self.err("receivers", "expected a non-empty list")
            return {}
        out: dict[str, Receiver] = {}
        for i, item in enumerate(spec):
            where = f"receivers[{i}]"
            if not isinstance(item, dict) or not item.get("name"):
                self.err(where, "every receiver needs a name")
                continue
            name = str(item["name"])
            where = f"receivers[{i}] ({name})"
            if name in out:
                self.err(where, "duplicate receiver name")
            unknown = set(item) - {"name", "email", "webhook", "max_attempts", "backoff"}
            if unknown:
                self.err(where, f"unknown key(s): {', '.join(sorted(unknown))}")
            email = self._email(where, item.get("email"))
            webhook = self._webhook(where, item.get("webhook"))
            if email is None and webhook is None:
                self.err(where, "needs an 'email' or a 'webhook' channel")
            attempts = item.get("max_attempts", 6)
            if not isinstance(attempts, int) or not 1 <= attempts <= 20:
                self.err(f"{where}.max_attempts", "expected a whole number from 1 to 20")
                attempts = 6
            backoff = self._duration(f"{where}.backoff", item.get("backoff", "30s"))
            if backoff.working:
                self.err(f"{where}.backoff", "use wall-clock units (s, m, h)")
            out[name] = Receiver(name, email, webhook, attempts, timedelta(seconds=backoff.seconds))
        return out

    def _email(self, where: str, spec: Any) -> EmailChannel | None:
        if spec is None:
            return None
        to = spec.get("to") if isinstance(spec, dict) else None
        to = [to] if isinstance(to, str) else to
        if not to or not all(isinstance(a, str) and _EMAIL.match(a) for a in to):
            self.err(f"{where}.email.to", "expected one or more e-mail addresses")
            return None
        return EmailChannel(tuple(to))

    def _webhook(self, where: str, spec: Any) -> WebhookChannel | None:
        if spec is None:
            return None
        if not isinstance(spec, dict):
            self.err(f"{where}.webhook", "expected a mapping with url and secret_env")
            return None
        url, secret_env = str(spec.get("url", "")), str(spec.get("secret_env", ""))
        if not url.startswith(("https://", "http://")):
            self.err(f"{where}.webhook.url", "expected an http(s) URL")
        if not secret_env:
            self.err(f"{where}.webhook.secret_env",
                     "name the environment variable that holds the signing secret")
        elif self.env is not None and len(self.env.get(secret_env, "")) < 32:
            self.err(f"{where}.webhook.secret_env",
                     f"environment variable {secret_env} must hold a secret of at least 32 characters")
        return WebhookChannel(url, secret_env)

    def _matcher(self, where: str, spec: Any) -> Matcher:
        if spec is None:
            return Matcher()
        if not isinstance(spec, dict):
            self.err(where, "expected a mapping of label: value or [values]")
            return Matcher()
        equals: dict[str, frozenset[str]] = {}
        for key, value in spec.items():
            values = [str(v) for v in (value if isinstance(value, list) else [value])]
            if key not in LABELS:
                self.err(f"{where}.{key}", f"unknown label (use one of {', '.join(LABELS)})")
                continue
            for v in values:
                problem = self._label_problem(key, v)
                if problem:
                    self.err(f"{where}.{key}", problem)
            equals[key] = frozenset(values)
        return Matcher(equals)

    def _label_problem(self, key: str, value: str) -> str | None:
        if key == "event" and value not in EVENTS:
            return f"'{value}' is not an event ({', '.join(EVENTS)})"
        if key == "level" and value not in LEVELS:
            return f"'{value}' is not a level ({', '.join(LEVELS)})"
        if key == "severity" and value not in ("0", "1", "2", "3"):
            return f"'{value}' is not a severity (0-3)"
        if key == "ground" and value not in GROUNDS:
            return f"'{value}' is not a ground code"
        if key == "adv_region" and self.regions is not None and value not in self.regions:
            return f"unknown ADV region '{value}' (see regions.yaml)"
        if key == "municipality":
            if not _MUNICIPALITY.match(value):
                return f"'{value}' is not a CBS municipality code (GM + 4 digits)"
            if self.regions is not None and not any(value in m for m in self.regions.values()):
                return f"municipality {value} is in no ADV region (see regions.yaml)"
        return None

    def _route(self, spec: dict[str, Any], where: str, inherited: dict[str, Any],
               receivers: Mapping[str, Receiver]) -> Route:
        for key in set(spec) - _ROUTE_KEYS:
            self.err(f"{where}.{key}", "unknown key")
        settings = dict(inherited)
        for key in ("group_wait", "group_interval", "repeat_interval"):
            if key in spec:
                settings[key] = self._duration(f"{where}.{key}", spec[key])
        if "group_by" in spec:
            group_by = spec["group_by"] if isinstance(spec["group_by"], list) else []
            bad = [g for g in group_by if g not in GROUPABLE]
            if bad or not isinstance(spec["group_by"], list):
                self.err(f"{where}.group_by", f"expected a list of {', '.join(GROUPABLE)}")
            settings["group_by"] = tuple(g for g in group_by if g in GROUPABLE)
        if "sla" in spec:
            settings["sla"] = self._sla(f"{where}.sla", spec["sla"])
        if "escalate_to" in spec:
            settings["escalate_to"] = spec["escalate_to"] or None
        if "escalate_after" in spec:
            after = spec["escalate_after"]
            if not isinstance(after, int) or after < 0:
                self.err(f"{where}.escalate_after", "expected a whole number of reminders (0 or more)")
                after = 2
            settings["escalate_after"] = after
        receiver = spec.get("receiver") or inherited.get("receiver")
        if not receiver:
            self.err(f"{where}.receiver", "missing")
        elif receiver not in receivers and receivers:
            self.err(f"{where}.receiver", f"unknown receiver '{receiver}'")
        if settings["escalate_to"] and settings["escalate_to"] not in receivers and receivers:
            self.err(f"{where}.escalate_to", f"unknown receiver '{settings['escalate_to']}'")
        settings["receiver"] = receiver
        children = spec.get("routes") or []
        if not isinstance(children, list):
            self.err(f"{where}.routes", "expected a list of routes")
            children = []
        return Route(
            path=where,
            match=self._matcher(f"{where}.match", spec.get("match")),
            receiver=str(receiver or ""),
            continue_=bool(spec.get("continue", False)),
            group_by=settings["group_by"],
            group_wait=settings["group_wait"],
            group_interval=settings["group_interval"],
            repeat_interval=settings["repeat_interval"],
            sla=settings["sla"],
            escalate_to=settings["escalate_to"],
            escalate_after=settings["escalate_after"],
            routes=tuple(
                self._route(child, f"{where}.routes[{i}]", settings, receivers)
                if isinstance(child, dict) else self._bad_route(f"{where}.routes[{i}]", settings)
                for i, child in enumerate(children)
            ),
        )

    def _bad_route(self, where: str, settings: dict[str, Any]) -> Route:
        self.err(where, "expected a mapping")
        return Route(where, Matcher({"event": frozenset()}), "", False, (), Duration(0), Duration(0),
                     Duration(0), (), None, 0)

    def _sla(self, where: str, spec: Any) -> tuple[SlaRule, ...]:
        if not isinstance(spec, list):
            self.err(where, "expected a list of {match, pickup} rules")
            return ()
        rules = []
        for i, rule in enumerate(spec):
            if not isinstance(rule, dict) or "pickup" not in rule:
                self.err(f"{where}[{i}]", "every rule needs 'pickup' (e.g. 4wh, 2wd)")
                continue
            for key in set(rule) - {"match", "pickup"}:
                self.err(f"{where}[{i}].{key}", "unknown key")
            rules.append(SlaRule(self._matcher(f"{where}[{i}].match", rule.get("match")),
                                 self._duration(f"{where}[{i}].pickup", rule["pickup"])))
        return tuple(rules)
