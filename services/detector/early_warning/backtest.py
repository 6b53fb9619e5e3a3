"""`buurtsignaal backtest`: notes in any order -> the same detector and rule code as the streaming
service, in event-time order -> one line per alert raised or upgraded. No broker, no database.

The streaming detector runs the same `Steps` on faust tables; here they run on dicts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from buurtsignaal.domain.signals import NoteDetector

from .config import RuleSet
from .engine import Emission, KeyState, Outcome, observe
from .observation import Observation, from_detection, parse_time

REQUIRED = ("id", "subject_key", "occurred_at", "text")


class InvalidNote(ValueError):
    pass


def check_note(record: Any, lineno: int) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise InvalidNote(f"regel {lineno}: verwacht een JSON-object")
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise InvalidNote(f"regel {lineno}: veld ontbreekt: {', '.join(missing)}")
    for name in ("subject_key", "occurred_at", "text"):
        if not isinstance(record[name], str) or not record[name]:
            raise InvalidNote(f"regel {lineno}: '{name}' moet een niet-lege string zijn")
    try:
        parse_time(record["occurred_at"])
    except ValueError as exc:
        raise InvalidNote(f"regel {lineno}: occurred_at: {exc}") from None
    return {**record, "id": str(record["id"])}


def forwards_to_area(obs: Observation) -> bool:
    """Only flagged notes with a ground say something about an area."""
    return obs.flag and bool(obs.grounds)


class StateStore(Protocol):
    """Where the per-key state lives: a dict here, a faust table in the streaming detector."""

    def get(self, key: str) -> dict[str, Any] | None: ...


@dataclass
class StepResult:
    emissions: list[Emission]
    forward: bool  # send the note on to the area step
    state: dict[str, Any] | None  # the new state to store; None when nothing changed
    skipped: str = ""  # "duplicate" or "too_late" when the note was not added


@dataclass
class Steps:
    """The per-note work of the streaming agents. Reads state but never writes it: the streaming
    detector first makes its alerts durable, then stores the state (see streaming.py)."""

    ruleset: RuleSet
    stats: Counter[str] = field(default_factory=Counter)

    def household(self, store: StateStore, obs: Observation, subject_key: str,
                  municipality_code: str) -> StepResult:
        state = KeyState.from_dict(store.get(subject_key))
        outcome = observe(state, obs, self.ruleset, scope="household", key=subject_key,
                          municipality_code=municipality_code)
        return self._result("household", outcome, state, outcome.changed and forwards_to_area(obs))

    def area(self, store: StateStore, obs: Observation, area_key: str, municipality_code: str
             ) -> StepResult:
        state = KeyState.from_dict(store.get(area_key))
        outcome = observe(state, obs, self.ruleset, scope="area", key=area_key,
                          municipality_code=municipality_code)
        return self._result("area", outcome, state, False)

    def _result(self, scope: str, outcome: Outcome, state: KeyState, forward: bool) -> StepResult:
        skipped = "duplicate" if outcome.duplicate else "too_late" if outcome.too_late else ""
        if skipped:
            self.stats[f"{scope}_{skipped}"] += 1
        return StepResult(outcome.emissions, forward, state.to_dict() if outcome.changed else None,
                          skipped)


@dataclass
class BacktestResult:
    emissions: list[Emission]
    notes: list[dict[str, Any]]  # input records sorted by event time
    observations: dict[str, Observation]
    stats: Counter[str]


def run_backtest(records: Iterable[dict[str, Any]], ruleset: RuleSet, detector: NoteDetector,
                 ) -> BacktestResult:
    notes = list(records)
    detections = detector.detect_many((n["id"], n["text"]) for n in notes)
    observations: dict[str, Observation] = {}
    for note, detection in zip(notes, detections, strict=True):
        observations[note["id"]] = from_detection(detection, note["occurred_at"],
                                                  ruleset.settings.weak_signals, note["subject_key"])
    ordered = sorted(notes, key=lambda n: observations[n["id"]].sort_key)
    steps = Steps(ruleset)
    households: dict[str, dict[str, Any]] = {}
    areas: dict[str, dict[str, Any]] = {}
    emissions: list[Emission] = []
    for note in ordered:
        obs = observations[note["id"]]
        steps.stats["notes"] += 1
        steps.stats["flagged"] += obs.flag
        steps.stats["weak"] += bool(obs.weak)
        municipality = note.get("municipality_code", "") or ""
        result = steps.household(households, obs, note["subject_key"], municipality)
        emissions += result.emissions
        if result.state is not None:
            households[note["subject_key"]] = result.state
        if result.forward and note.get("area_key"):
            area = steps.area(areas, obs, note["area_key"], municipality)
            emissions += area.emissions
            if area.state is not None:
                areas[note["area_key"]] = area.state
    return BacktestResult(emissions, ordered, observations, steps.stats)


def summary_rows(result: BacktestResult) -> list[tuple[str, str, str, int]]:
    """(scope, rule, level, count) for the stderr table."""
    counts = Counter((e.scope, e.rule, e.level) for e in result.emissions)
    return [(s, r, lvl, n) for (s, r, lvl), n in sorted(counts.items())]
