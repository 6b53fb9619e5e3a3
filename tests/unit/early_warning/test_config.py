"""The rules file is validated at start, with errors that say where and what."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from services.detector.early_warning.config import (
    DEFAULT_RULES_FILE,
    CountRule,
    RulesError,
    load_rules,
    parse_duration,
    parse_rules,
)

MINIMAL: dict[str, Any] = {
    "version": 1,
    "household_rules": [
        {"name": "reeks", "kind": "count", "level": "escalate", "min_notes": 3, "within": "90d"},
    ],
}


def _with(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    data["household_rules"][0].update(changes)
    return data


def _error(data: Any) -> str:
    with pytest.raises(RulesError) as info:
        parse_rules(data, "regels.yaml")
    return str(info.value)


def test_shipped_rules_file_is_valid_and_covers_every_kind() -> None:
    ruleset = load_rules(DEFAULT_RULES_FILE)
    kinds = {r.kind for r in (*ruleset.household, *ruleset.area)}
    assert kinds == {"single", "count", "decayed_score", "forms", "area_ground"}
    assert {r.level for r in ruleset.household} == {"watch", "escalate"}
    assert ruleset.settings.retention >= ruleset.longest_window


@pytest.mark.parametrize(("text", "seconds"), [
    ("30d", 30 * 86400), ("12h", 12 * 3600), ("2w", 14 * 86400), ("90m", 5400), ("1.5d", 129600),
])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["30", "3x", "d", "-1d", "0d", 30, True, None, "30 days"])
def test_bad_durations_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="ongeldige duur"):
        parse_duration(bad)


def test_minimal_rules_parse_with_durations_in_seconds() -> None:
    ruleset = parse_rules(MINIMAL)
    rule = ruleset.household[0]
    assert isinstance(rule, CountRule)
    assert rule.within == 90 * 86400 and rule.min_flagged == 1 and rule.count_weak


def test_unknown_field_names_its_place() -> None:
    message = _error(_with(withn="30d"))
    assert "household_rules[0] (reeks).withn: onbekend veld" in message
    assert "household_rules[0] (reeks).within: verplicht veld ontbreekt" not in message


def test_bad_duration_names_its_place() -> None:
    assert "household_rules[0] (reeks).within: ongeldige duur '90 dagen'" in _error(_with(within="90 dagen"))


def test_every_problem_is_listed_at_once() -> None:
    data = _with(level="hoog", extra=1)
    data["settings"] = {"retention": "1d", "nonsense": True}
    data["area_rules"] = [{"name": "buurt", "kind": "area_ground", "level": "watch",
                           "min_households": 1, "within": "30d", "grounds": ["afkomst"]}]
    message = _error(data)
    for expected in ("(reeks).level: moet een van 'watch' of 'escalate' zijn", "(reeks).extra: onbekend veld",
                     "settings.nonsense: onbekend veld", "(buurt).min_households: moet minstens 2 zijn",
                     "(buurt).grounds: onbekende grond(en): afkomst"):
        assert expected in message


def test_unknown_kind_lists_the_kinds() -> None:
    message = _error(_with(kind="teller"))
    assert "kind: onbekend soort regel 'teller'; kies uit single, count, decayed_score, forms" in message


def test_unknown_form_and_weak_signal_form() -> None:
    data = copy.deepcopy(MINIMAL)
    data["household_rules"].append({"name": "vormen", "kind": "forms", "level": "escalate",
                                    "within": "90d", "forms": {"vernielingen": 2}})
    data["settings"] = {"weak_signals": {"recognizers": {"vernieling": "kapot"}}}
    message = _error(data)
    assert "(vormen).forms: onbekende vorm(en): vernielingen" in message
    assert "settings.weak_signals.recognizers: onbekende vorm(en): kapot" in message


def test_retention_must_cover_the_longest_window() -> None:
    data = _with(within="200d")
    assert "settings.retention: moet minstens zo lang zijn als het langste venster" in _error(data)


def test_duplicate_names_version_and_empty() -> None:
    data = copy.deepcopy(MINIMAL)
    data["household_rules"].append(dict(data["household_rules"][0]))
    data["version"] = 2
    message = _error(data)
    assert "dubbel: reeks" in message and "version: moet 1 zijn" in message
    assert "geen enkele regel" in _error({"version": 1})
    assert "verwacht een mapping" in _error(["niet", "goed"])


def test_single_rule_needs_something_to_match() -> None:
    data = _with(kind="single", min_notes=None)
    del data["household_rules"][0]["min_notes"], data["household_rules"][0]["within"]
    assert "geef min_severity, forms, child_target of een combinatie" in _error(data)


def test_single_rule_forms_must_be_known() -> None:
    data = _with(kind="single", min_notes=None)
    del data["household_rules"][0]["min_notes"], data["household_rules"][0]["within"]
    data["household_rules"][0]["forms"] = ["geweld", "slaan"]
    assert "onbekende vorm(en): slaan" in _error(data)


def test_count_rule_cannot_need_more_flagged_than_notes() -> None:
    assert "min_flagged mag niet groter zijn dan min_notes" in _error(_with(min_flagged=4))


def test_load_rules_reports_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="kan regelbestand niet lezen"):
        load_rules(tmp_path / "nope.yaml")
    broken = tmp_path / "kapot.yaml"
    broken.write_text("version: 1\nhousehold_rules: [\n", encoding="utf-8")
    with pytest.raises(RulesError, match="geen geldige YAML"):
        load_rules(broken)
