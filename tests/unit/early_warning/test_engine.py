"""The rule engine: event time, weak signals, dedup and upgrade, idempotency, areas."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.detector.early_warning.config import RuleSet, level_rank, load_rules, parse_rules
from services.detector.early_warning.engine import Emission, KeyState, observe
from services.detector.early_warning.observation import Observation
from tests.support.infra import FROZEN_RULES

DAY = 86400.0
KEY = "f" * 32
# A frozen copy of the first shipped rules: these tests are about the engine (event time, dedup,
# upgrade, weak signals), so they must not move when the coordinator tunes config/early-warning.yaml.
RULES = load_rules(FROZEN_RULES)
SHIPPED = load_rules()


def flagged(note_id: str, day: float, severity: int = 1, forms: tuple[str, ...] = ("verbaal",),
            grounds: tuple[str, ...] = ("herkomst",), subject: str = "", child: bool = False
            ) -> Observation:
    return Observation(note_id, day * DAY, True, severity, grounds, forms, (), child, subject)


def weak(note_id: str, day: float, *forms: str, child: bool = False) -> Observation:
    return Observation(note_id, day * DAY, False, 0, (), (), tuple(forms) or ("vernieling",), child)


def neutral(note_id: str, day: float) -> Observation:
    return Observation(note_id, day * DAY, False)


def run(notes: list[Observation], rules: RuleSet = RULES, state: KeyState | None = None,
        scope: str = "household") -> tuple[list[Emission], KeyState]:
    state = state or KeyState()
    out: list[Emission] = []
    for obs in notes:
        out += observe(state, obs, rules, scope=scope, key=KEY,  # type: ignore[arg-type]
                       municipality_code="GM0344").emissions
    return out, state


def test_a_severe_note_escalates_at_once() -> None:
    out, _ = run([flagged("a", 0, severity=3, forms=("bedreiging",))])
    assert [(e.level, e.rule, e.note_ids) for e in out] == [("escalate", "ernstig_incident", ("a",))]
    assert out[0].raised_at == 0 and out[0].previous_level is None


def test_a_series_of_small_incidents_becomes_visible_and_upgrades_one_alert() -> None:
    out, _ = run([flagged("a", 0), weak("b", 12), weak("c", 30), weak("d", 41)])
    assert [(e.level, e.rule) for e in out] == [("watch", "patroon_in_wording"), ("escalate", "reeks")]
    watch, escalate = out
    assert watch.alert_id == escalate.alert_id and escalate.previous_level == "watch"
    assert escalate.note_ids == ("a", "b", "c") and escalate.raised_at == 30 * DAY
    assert escalate.summary == ("3 meldingen in 30 dagen: verbaal (1), vernieling (2); grond: herkomst; "
                                "waarvan 2 zonder eigen signaal")


def test_weak_notes_alone_never_count() -> None:
    out, _ = run([weak("a", 0), weak("b", 5), weak("c", 9), weak("d", 12, "pesterij")])
    assert out == []


def test_weak_notes_before_the_first_flagged_note_count_once_it_arrives() -> None:
    out, _ = run([weak("a", 0), weak("b", 5), flagged("c", 9)])
    assert [(e.level, e.rule, e.note_ids) for e in out] == [("escalate", "reeks", ("a", "b", "c"))]


def test_neutral_notes_do_not_count() -> None:
    out, _ = run([flagged("a", 0)] + [neutral(f"n{i}", i) for i in range(1, 20)])
    assert out == []


def test_notes_outside_the_window_do_not_count() -> None:
    out, _ = run([flagged("a", 0), weak("b", 70), weak("c", 140)])
    assert out == []


def test_two_serious_flagged_notes_escalate_on_the_decayed_score() -> None:
    out, _ = run([flagged("a", 0, 2, ("bekladding",)), flagged("b", 25, 2, ("bekladding",))])
    assert [(e.level, e.rule) for e in out][-1] == ("escalate", "opgebouwde_score")


def test_decayed_score_fades_with_time() -> None:
    out, _ = run([flagged("a", 0, 2, ("bekladding",)), flagged("b", 85, 2, ("bekladding",))])
    assert "escalate" not in {e.level for e in out}


def test_repeated_forms_rule() -> None:
    rules = parse_rules({"version": 1, "household_rules": [
        {"name": "vormen", "kind": "forms", "level": "escalate", "within": "90d",
         "forms": {"vernieling": 2, "verbaal": 1}}]})
    out, _ = run([flagged("a", 0), weak("b", 10)], rules)
    assert out == []
    out, _ = run([flagged("a", 0), weak("b", 10), weak("c", 20, "pesterij"), weak("d", 30)], rules)
    assert [(e.rule, e.note_ids) for e in out] == [("vormen", ("a", "b", "d"))]


def test_child_target_escalates_in_a_household_with_a_flag() -> None:
    out, _ = run([weak("a", 0, "pesterij", child=True)])
    assert out == []
    out, _ = run([flagged("a", 0), weak("b", 3, "pesterij", child=True)])
    assert [(e.level, e.rule) for e in out] == [("escalate", "kind_als_doelwit")]
    assert out[0].summary.endswith("kind als doelwit")


def test_same_note_twice_changes_nothing() -> None:
    _, state = run([flagged("a", 0), weak("b", 12)])
    snapshot = json.dumps(state.to_dict())
    outcome = observe(state, weak("b", 12), RULES, scope="household", key=KEY)
    assert outcome.duplicate and outcome.emissions == [] and not outcome.changed
    assert json.dumps(state.to_dict()) == snapshot


def test_replaying_everything_raises_nothing_new() -> None:
    notes = [flagged("a", 0), weak("b", 12), weak("c", 30), flagged("d", 31, 3, ("geweld",))]
    out, state = run(notes)
    assert out
    again, _ = run(list(reversed(notes)), state=state)
    assert again == []


def test_a_stronger_level_later_upgrades_and_equal_levels_stay_quiet() -> None:
    out, _ = run([flagged("a", 0), weak("b", 10), weak("c", 20), weak("d", 25),
                  flagged("e", 40, 3, ("bedreiging",))])
    assert [e.level for e in out] == ["watch", "escalate"]


def test_a_new_episode_after_the_dedup_window_is_a_new_alert() -> None:
    out, _ = run([flagged("a", 0, 3), flagged("b", 170, 3)])
    assert [e.level for e in out] == ["escalate", "escalate"]
    assert out[0].alert_id != out[1].alert_id


def test_late_note_is_inserted_in_event_time_order() -> None:
    # The vandalism of day 12 is entered after the one of day 30: it still counts, and the
    # escalation is raised at the event time where the series was complete.
    out, _ = run([flagged("a", 0), weak("c", 30), weak("b", 12)])
    escalate = [e for e in out if e.level == "escalate"]
    assert escalate and escalate[0].raised_at == 30 * DAY
    assert set(escalate[0].note_ids) == {"a", "b", "c"}


def test_a_note_older_than_the_retention_is_ignored() -> None:
    state = KeyState()
    run([flagged("a", 300)], state=state)
    outcome = observe(state, flagged("old", 10), RULES, scope="household", key=KEY)
    assert outcome.too_late and not outcome.changed


def test_state_is_pruned_beyond_the_retention() -> None:
    _, state = run([flagged("a", 0), flagged("b", 100, 3), neutral("c", 400)])
    assert [o.note_id for o in state.notes] == ["c"]
    assert state.alerts == []


def test_state_survives_a_json_round_trip() -> None:
    _, state = run([flagged("a", 0), weak("b", 12)])
    restored = KeyState.from_dict(json.loads(json.dumps(state.to_dict())))
    out = observe(restored, weak("c", 30), RULES, scope="household", key=KEY).emissions
    assert [(e.level, e.previous_level) for e in out] == [("escalate", "watch")]


def test_alert_ids_are_deterministic() -> None:
    first, _ = run([flagged("a", 0), weak("b", 12)])
    second, _ = run([flagged("a", 0), weak("b", 12)])
    assert first[0].alert_id == second[0].alert_id


def area(note_id: str, day: float, subject: str, ground: str = "herkomst") -> Observation:
    return flagged(note_id, day, grounds=(ground,), subject=subject)


def test_area_alert_counts_households_and_names_none() -> None:
    notes = [area("a", 0, "h1"), area("b", 3, "h1"), area("c", 9, "h2"), area("d", 20, "h3")]
    out, _ = run(notes, scope="area")
    assert [(e.scope, e.level, e.rule, e.households, e.ground) for e in out] == [
        ("area", "watch", "grond_in_buurt", 3, "herkomst")]
    assert out[0].note_ids == ()
    assert out[0].summary == "3 huishoudens in 20 dagen met grond herkomst (4 meldingen)"
    assert "h1" not in out[0].summary


def test_area_grounds_do_not_mix_and_windows_apply() -> None:
    out, _ = run([area("a", 0, "h1"), area("b", 3, "h2", "godsdienst"), area("c", 9, "h3")],
                 scope="area")
    assert out == []
    out, _ = run([area("a", 0, "h1"), area("b", 20, "h2"), area("c", 45, "h3")], scope="area")
    assert out == []


def test_five_households_escalate_the_area_alert() -> None:
    out, _ = run([area(f"n{i}", i * 5, f"h{i}") for i in range(5)], scope="area")
    assert [e.level for e in out] == ["watch", "escalate"]


note_strategy = st.lists(
    st.tuples(st.integers(0, 120), st.sampled_from(["flag1", "flag3", "weak", "neutral", "child"])),
    min_size=1, max_size=9,
)


def _build(spec: list[tuple[int, str]]) -> list[Observation]:
    out = []
    for i, (day, kind) in enumerate(spec):
        nid = f"n{i}"
        out.append({"flag1": flagged(nid, day), "flag3": flagged(nid, day, 3, ("geweld",)),
                    "weak": weak(nid, day), "neutral": neutral(nid, day),
                    "child": weak(nid, day, "pesterij", child=True)}[kind])
    return out


def _top(out: list[Emission]) -> int:
    return max((level_rank(e.level) for e in out), default=-1)


@settings(max_examples=150, deadline=None)
@given(note_strategy, st.randoms())
def test_arrival_order_does_not_change_the_highest_level(spec: list[tuple[int, str]], rnd: Any) -> None:
    notes = _build(spec)
    in_order, _ = run(sorted(notes, key=lambda o: o.sort_key))
    shuffled = list(notes)
    rnd.shuffle(shuffled)
    any_order, state = run(shuffled)
    assert _top(any_order) == _top(in_order)
    replay, _ = run(shuffled, state=state)
    assert replay == []


def test_shipped_rules_escalate_violence_or_threat_in_one_flagged_note() -> None:
    out, _ = run([flagged("a", 0, severity=2, forms=("verbaal", "geweld"))], rules=SHIPPED)
    assert [(e.level, e.rule) for e in out] == [("escalate", "geweld_of_dreiging")]
    out, _ = run([weak("a", 0, "bedreiging")], rules=SHIPPED)  # unflagged: no ground named
    assert out == []


def test_shipped_rules_escalate_when_a_second_note_adds_a_new_form() -> None:
    out, _ = run([flagged("a", 0, forms=("uitsluiting",)), weak("b", 14, "bedreiging")], rules=SHIPPED)
    assert [(e.level, e.rule, e.note_ids) for e in out] == [
        ("escalate", "verschillende_vormen", ("a", "b"))]


def test_shipped_rules_only_watch_the_same_form_twice() -> None:
    out, _ = run([flagged("a", 0, forms=("verbaal",)), flagged("b", 20, forms=("verbaal",))], rules=SHIPPED)
    assert [(e.level, e.rule) for e in out] == [("watch", "patroon_in_wording")]


def test_new_form_means_the_latest_note_adds_one() -> None:
    rules = parse_rules({"version": 1, "household_rules": [{
        "name": "nieuw", "kind": "count", "level": "escalate", "min_notes": 2, "within": "60d",
        "min_distinct_forms": 2, "new_form": True}]})
    # Two forms between them, but the latest note repeats one already seen: no.
    out, _ = run([flagged("a", 0, forms=("verbaal", "vernieling")), weak("b", 5, "vernieling")], rules=rules)
    assert out == []
    out, _ = run([flagged("a", 0, forms=("verbaal",)), weak("b", 5, "vernieling")], rules=rules)
    assert [e.note_ids for e in out] == [("a", "b")]


def test_min_distinct_forms_without_new_form_counts_the_whole_window() -> None:
    rules = parse_rules({"version": 1, "household_rules": [{
        "name": "divers", "kind": "count", "level": "watch", "min_notes": 2, "within": "60d",
        "min_distinct_forms": 3}]})
    out, _ = run([flagged("a", 0, forms=("verbaal",)), weak("b", 5, "vernieling")], rules=rules)
    assert out == []
    out, _ = run([flagged("a", 0, forms=("verbaal",)), weak("b", 5, "vernieling", "bekladding")], rules=rules)
    assert [e.rule for e in out] == ["divers"]


def test_single_rule_forms_and_severity_must_both_hold() -> None:
    rules = parse_rules({"version": 1, "household_rules": [{
        "name": "zwaar_geweld", "kind": "single", "level": "escalate", "forms": ["geweld"],
        "min_severity": 2}]})
    assert run([flagged("a", 0, severity=1, forms=("geweld",))], rules=rules)[0] == []
    assert run([flagged("a", 0, severity=2, forms=("verbaal",))], rules=rules)[0] == []
    assert [e.rule for e in run([flagged("a", 0, severity=2, forms=("geweld",))], rules=rules)[0]] == [
        "zwaar_geweld"]
