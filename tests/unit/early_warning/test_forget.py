"""Forgetting in early-warning state (erasure and retention): the pure functions of forget.py."""

from __future__ import annotations

from typing import Any

from services.detector.early_warning.config import parse_rules
from services.detector.early_warning.engine import KeyState, observe
from services.detector.early_warning.forget import forget_household, forget_notes
from services.detector.early_warning.observation import Observation

DAY = 86400.0
HOUSE_A, HOUSE_B = "a" * 32, "b" * 32
# A tiny rule set of its own: these tests are about forgetting, not about the tuned rules.
RULES = parse_rules({
    "version": 1,
    "settings": {"retention": "90d", "dedup_window": "30d"},
    "household_rules": [{"name": "twee", "kind": "count", "level": "watch", "min_notes": 2,
                         "within": "30d", "min_flagged": 1}],
    "area_rules": [{"name": "buurt", "kind": "area_ground", "level": "watch",
                    "min_households": 2, "within": "30d"}],
})


def flagged(note_id: str, day: float, subject: str = "") -> Observation:
    return Observation(note_id, day * DAY, True, 2, ("herkomst",), ("verbaal",), (), False, subject)


def state_of(notes: list[Observation], scope: str = "household") -> dict[str, Any]:
    state = KeyState()
    for obs in notes:
        observe(state, obs, RULES, scope=scope, key="k" * 32, municipality_code="GM0344")  # type: ignore[arg-type]
    return state.to_dict()


def note_ids(raw: dict[str, Any] | None) -> list[str]:
    return [row[1] for row in (raw or {}).get("notes", [])]


def alert_note_ids(raw: dict[str, Any] | None) -> list[list[str]]:
    return [a["note_ids"] for a in (raw or {}).get("alerts", [])]


def test_retention_drops_the_listed_notes_and_keeps_the_rest() -> None:
    raw = state_of([flagged("n1", 0), flagged("n2", 5), flagged("n3", 10)])
    assert alert_note_ids(raw) == [["n1", "n2", "n3"]]  # the rule fired: the alert holds note ids
    result = forget_notes(raw, {"n1", "unknown"})
    assert result.changed and result.notes == 1
    assert note_ids(result.state) == ["n2", "n3"]
    assert alert_note_ids(result.state) == [["n2", "n3"]]
    assert result.state is not None and result.state["municipality_code"] == "GM0344"


def test_the_last_note_forgotten_deletes_the_key_and_its_alerts() -> None:
    raw = state_of([flagged("n1", 0), flagged("n2", 5)])
    result = forget_notes(raw, ["n1", "n2"])
    assert result.changed and result.state is None and result.notes == 2


def test_nothing_to_forget_changes_nothing() -> None:
    raw = state_of([flagged("n1", 0)])
    assert not forget_notes(raw, {"other"}).changed
    assert not forget_notes(None, {"n1"}).changed
    assert not forget_notes(raw, set()).changed


def test_an_alert_whose_notes_are_all_gone_is_dropped() -> None:
    raw = state_of([flagged("n1", 0), flagged("n2", 5)])
    # A later note outside the alert's window keeps the state alive.
    raw["notes"].append(flagged("n9", 80).to_row())
    result = forget_notes(raw, {"n1", "n2"})
    assert note_ids(result.state) == ["n9"] and alert_note_ids(result.state) == []


def test_erasure_removes_every_observation_of_the_household_from_an_area() -> None:
    raw = state_of([flagged("a1", 0, HOUSE_A), flagged("b1", 3, HOUSE_B), flagged("a2", 6, HOUSE_A)],
                   scope="area")
    assert alert_note_ids(raw) == [["a1", "b1", "a2"]]
    # The event may not list every note (a note already purged from the database): the household
    # key of each observation finds them all.
    result = forget_notes(raw, {"a1"}, subject_key=HOUSE_A)
    assert result.notes == 2 and note_ids(result.state) == ["b1"]
    assert alert_note_ids(result.state) == [["b1"]]
    assert HOUSE_A not in str(result.state)


def test_forgetting_is_idempotent() -> None:
    raw = state_of([flagged("a1", 0, HOUSE_A), flagged("b1", 3, HOUSE_B)], scope="area")
    once = forget_notes(raw, {"a1"}, subject_key=HOUSE_A)
    twice = forget_notes(once.state, {"a1"}, subject_key=HOUSE_A)
    assert once.changed and not twice.changed


def test_household_erasure_deletes_the_whole_entry() -> None:
    raw = state_of([flagged("n1", 0), flagged("n2", 5)])
    result = forget_household(raw)
    assert result.changed and result.state is None and result.notes == 2
    assert not forget_household(None).changed
