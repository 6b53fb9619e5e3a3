"""Scenario evaluation for `buurtsignaal backtest --evaluate`.

A scenario file is ordinary backtest input whose lines also carry `scenario` (its name) and, on
at least one line of each scenario, `expect` ("escalate" or "none") and for should-escalate
scenarios `escalate_by`: the number of the incident by which it must have escalated. A line with
`"incident": false` (a mediation talk, a neutral visit) is a note but not an incident.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from .backtest import BacktestResult, InvalidNote
from .observation import parse_time

DAY = 86400.0


@dataclass(frozen=True)
class Expectation:
    scenario: str
    subject_key: str
    expect: str
    escalate_by: int | None
    title: str = ""


@dataclass(frozen=True)
class ScenarioOutcome:
    expectation: Expectation
    escalated: bool
    notes_before: int | None  # notes up to and including the one that escalated
    incidents_before: int | None
    days_before: float | None  # from the first note to the escalation
    watch: bool

    @property
    def correct(self) -> bool:
        if self.expectation.expect == "none":
            return not self.escalated
        return self.escalated and self.on_time

    @property
    def on_time(self) -> bool:
        by = self.expectation.escalate_by
        return self.incidents_before is not None and (by is None or self.incidents_before <= by)


@dataclass(frozen=True)
class Evaluation:
    outcomes: list[ScenarioOutcome]

    def _count(self, expect: str, escalated: bool) -> int:
        return sum(o.expectation.expect == expect and o.escalated == escalated for o in self.outcomes)

    @property
    def precision(self) -> float:
        tp, fp = self._count("escalate", True), self._count("none", True)
        return tp / (tp + fp) if tp + fp else 1.0

    @property
    def recall(self) -> float:
        tp, fn = self._count("escalate", True), self._count("escalate", False)
        return tp / (tp + fn) if tp + fn else 1.0

    @property
    def false_escalation_rate(self) -> float:
        negatives = sum(o.expectation.expect == "none" for o in self.outcomes)
        return self._count("none", True) / negatives if negatives else 0.0

    def median(self, attr: str) -> float | None:
        values = [getattr(o, attr) for o in self.outcomes
                  if o.expectation.expect == "escalate" and o.escalated]
        return float(statistics.median(values)) if values else None

    @property
    def late(self) -> list[ScenarioOutcome]:
        return [o for o in self.outcomes
                if o.expectation.expect == "escalate" and o.escalated and not o.on_time]

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenarios": len(self.outcomes),
            "should_escalate": sum(o.expectation.expect == "escalate" for o in self.outcomes),
            "should_not": sum(o.expectation.expect == "none" for o in self.outcomes),
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "false_escalation_rate": round(self.false_escalation_rate, 3),
            "median_notes_to_escalation": self.median("notes_before"),
            "median_incidents_to_escalation": self.median("incidents_before"),
            "median_days_to_escalation": self.median("days_before"),
            "late": [o.expectation.scenario for o in self.late],
            "missed": [o.expectation.scenario for o in self.outcomes
                       if o.expectation.expect == "escalate" and not o.escalated],
            "false_escalations": [o.expectation.scenario for o in self.outcomes
                                  if o.expectation.expect == "none" and o.escalated],
        }


def expectations(records: list[dict[str, Any]]) -> list[Expectation]:
    """One Expectation per scenario, checked for consistency."""
    found: dict[str, dict[str, Any]] = {}
    for i, rec in enumerate(records, 1):
        name = rec.get("scenario")
        if not isinstance(name, str) or not name:
            raise InvalidNote(f"notitie {rec.get('id')!r}: 'scenario' ontbreekt (nodig voor --evaluate)")
        entry = found.setdefault(name, {"subject_key": rec["subject_key"]})
        if entry["subject_key"] != rec["subject_key"]:
            raise InvalidNote(f"scenario {name}: alle notities moeten hetzelfde subject_key hebben")
        for key in ("expect", "escalate_by", "title"):
            if key in rec:
                if key in entry and entry[key] != rec[key]:
                    raise InvalidNote(f"scenario {name}: '{key}' verschilt tussen notities (regel {i})")
                entry[key] = rec[key]
    out = []
    for name, entry in found.items():
        expect = entry.get("expect")
        if expect not in ("escalate", "none"):
            raise InvalidNote(f"scenario {name}: 'expect' moet 'escalate' of 'none' zijn")
        by = entry.get("escalate_by")
        if by is not None and (not isinstance(by, int) or by < 1):
            raise InvalidNote(f"scenario {name}: 'escalate_by' moet een positief geheel getal zijn")
        out.append(Expectation(name, entry["subject_key"], expect, by, entry.get("title", "")))
    return out


def evaluate(result: BacktestResult) -> Evaluation:
    outcomes = []
    for exp in expectations(result.notes):
        notes = [n for n in result.notes if n["scenario"] == exp.scenario]  # event-time order
        mine = [e for e in result.emissions if e.scope == "household" and e.key == exp.subject_key]
        escalation = next((e for e in mine if e.level == "escalate"), None)
        if escalation is None:
            outcomes.append(ScenarioOutcome(exp, False, None, None, None, bool(mine)))
            continue
        upto = [n for n in notes if parse_time(n["occurred_at"]) <= escalation.raised_at]
        first = parse_time(notes[0]["occurred_at"])
        outcomes.append(ScenarioOutcome(
            exp, True, len(upto), sum(bool(n.get("incident", True)) for n in upto),
            round((escalation.raised_at - first) / DAY, 1), True,
        ))
    return Evaluation(outcomes)
