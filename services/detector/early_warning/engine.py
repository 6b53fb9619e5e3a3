"""The early-warning engine: state per household or area, event-time rules, dedup and upgrade.

Pure: no I/O. The streaming detector keeps one `KeyState` per key in a faust table (as JSON) and
`backtest` keeps them in a dict; both call `observe` with the same arguments.

- Idempotent per note id: a note already in the state changes nothing (replays are safe).
- Event time: notes are kept sorted by `occurred_at`; a late note is inserted in order and the
  rules are re-evaluated at it and at every later note, seeing only notes up to that point.
- Notes older than `retention` before the newest note are pruned; a note that old arriving late
  is ignored (`Outcome.too_late`).
- Dedup: a rule firing within `dedup_window` of an open alert of the same key joins it; it is
  emitted again only when it raises the level (watch -> escalate). Alert ids are deterministic
  (scope, key, first note time), so re-processing never creates a second alert downstream.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from . import rules as conditions
from .config import AreaGroundRule, RuleSet, level_rank
from .observation import Observation, format_time
from .summary import area_summary, household_summary

Scope = Literal["household", "area"]


@dataclass
class OpenAlert:
    id: str
    level: str
    rule: str
    start: float
    last: float
    note_ids: list[str]
    ground: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "level": self.level, "rule": self.rule, "start": self.start,
                "last": self.last, "note_ids": self.note_ids, "ground": self.ground}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OpenAlert:
        return cls(d["id"], d["level"], d["rule"], float(d["start"]), float(d["last"]),
                   list(d["note_ids"]), d.get("ground", ""))


@dataclass
class KeyState:
    notes: list[Observation] = field(default_factory=list)
    alerts: list[OpenAlert] = field(default_factory=list)
    municipality_code: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"v": 1, "notes": [o.to_row() for o in self.notes],
                "alerts": [a.to_dict() for a in self.alerts], "municipality_code": self.municipality_code}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> KeyState:
        if not d:
            return cls()
        return cls([Observation.from_row(r) for r in d["notes"]],
                   [OpenAlert.from_dict(a) for a in d["alerts"]], d.get("municipality_code", ""))

    def has(self, note_id: str) -> bool:
        return any(o.note_id == note_id for o in self.notes)


@dataclass(frozen=True)
class Emission:
    """An alert raised or upgraded: the content of one alert.v1 event."""

    alert_id: str
    scope: Scope
    key: str
    municipality_code: str
    level: str
    previous_level: str | None
    rule: str
    note_ids: tuple[str, ...]
    raised_at: float
    window_start: float
    summary: str
    households: int = 0
    ground: str = ""


@dataclass
class Outcome:
    emissions: list[Emission] = field(default_factory=list)
    duplicate: bool = False
    too_late: bool = False
    changed: bool = False


def alert_id(scope: Scope, key: str, start: float) -> str:
    return hashlib.sha256(f"{scope}|{key}|{format_time(start)}".encode()).hexdigest()[:32]


def _firings(ruleset: RuleSet, scope: Scope, notes: Sequence[Observation], i: int
             ) -> list[tuple[str, str, list[Observation], str]]:
    """(rule name, level, contributing notes, ground) for every rule that holds at note i."""
    out: list[tuple[str, str, list[Observation], str]] = []
    if scope == "household":
        for rule in ruleset.household:
            hits = getattr(conditions, rule.kind)(rule, notes, i)
            if hits:
                out.append((rule.name, rule.level, hits, ""))
    else:
        for area_rule in ruleset.area:
            assert isinstance(area_rule, AreaGroundRule)
            found = conditions.area_ground(area_rule, notes, i)
            if found:
                out.append((area_rule.name, area_rule.level, found[1], found[0]))
    # Strongest first, so one firing point yields at most one emission per alert.
    out.sort(key=lambda f: -level_rank(f[1]))
    return out


def _prune(state: KeyState, ruleset: RuleSet) -> None:
    if not state.notes:
        return
    horizon = state.notes[-1].at - ruleset.settings.retention
    state.notes = [o for o in state.notes if o.at >= horizon]
    gap = ruleset.settings.dedup_window
    state.alerts = [a for a in state.alerts if a.last + gap >= horizon]


def observe(state: KeyState, obs: Observation, ruleset: RuleSet, *, scope: Scope, key: str,
            municipality_code: str = "") -> Outcome:
    """Add one note to the state of `key` and return the alerts it raises or upgrades."""
    outcome = Outcome()
    if state.has(obs.note_id):
        outcome.duplicate = True
        return outcome
    if state.notes and obs.at < state.notes[-1].at - ruleset.settings.retention:
        outcome.too_late = True
        return outcome
    if municipality_code:
        state.municipality_code = municipality_code
    pos = bisect.bisect_left([o.sort_key for o in state.notes], obs.sort_key)
    state.notes.insert(pos, obs)
    outcome.changed = True
    for i in range(pos, len(state.notes)):
        for rule_name, level, hits, ground in _firings(ruleset, scope, state.notes, i):
            emission = _merge(state, ruleset, scope, key, rule_name, level, hits, ground,
                              state.notes[i].at)
            if emission is not None:
                outcome.emissions.append(emission)
    _prune(state, ruleset)
    return outcome


def _merge(state: KeyState, ruleset: RuleSet, scope: Scope, key: str, rule_name: str, level: str,
           hits: list[Observation], ground: str, at: float) -> Emission | None:
    gap = ruleset.settings.dedup_window
    start = min(o.at for o in hits)
    alert = next((a for a in state.alerts if a.start - gap <= at <= a.last + gap), None)
    previous: str | None = None
    if alert is None:
        alert = OpenAlert(alert_id(scope, key, start), level, rule_name, start, at,
                          [o.note_id for o in hits], ground)
        state.alerts.append(alert)
    else:
        previous = alert.level
        alert.last = max(alert.last, at)
        alert.start = min(alert.start, start)
        known = set(alert.note_ids)
        alert.note_ids += [o.note_id for o in hits if o.note_id not in known]
        if level_rank(level) <= level_rank(alert.level):
            return None
        alert.level, alert.rule, alert.ground = level, rule_name, ground or alert.ground
    by_id = {o.note_id: o for o in state.notes}
    members = sorted((by_id[n] for n in alert.note_ids if n in by_id), key=lambda o: o.sort_key)
    if scope == "household":
        summary = household_summary(members)
        households = 0
    else:
        households = len({o.subject_key for o in members})
        summary = area_summary(members, alert.ground)
    return Emission(
        alert_id=alert.id, scope=scope, key=key, municipality_code=state.municipality_code,
        level=alert.level, previous_level=previous, rule=alert.rule,
        note_ids=tuple(o.note_id for o in members) if scope == "household" else (),
        raised_at=at, window_start=alert.start, summary=summary, households=households,
        ground=alert.ground,
    )
