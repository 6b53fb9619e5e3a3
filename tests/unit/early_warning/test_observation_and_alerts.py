"""From a detector verdict to an observation, and from an emission to an alert.v1 event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from buurtsignaal.domain import events
from buurtsignaal.domain.signals import Detection, Evidence
from buurtsignaal.schemas import validate
from services.detector.early_warning.alerts import alert_event, backtest_line, event_id, line_from_event
from services.detector.early_warning.config import load_rules
from services.detector.early_warning.engine import Emission
from services.detector.early_warning.observation import (
    Observation,
    from_detection,
    from_scored_event,
    parse_time,
)
from services.detector.early_warning.summary import household_summary

WEAK = load_rules().settings.weak_signals
AT = "2026-03-01T10:00:00+01:00"


def ev(recognizer: str, explanation: str = "Vernieling: 'lekgestoken'") -> Evidence:
    return Evidence(0, 5, "tekst", f"{recognizer}/patroon", explanation)


def unflagged(*evidence: Evidence) -> Detection:
    return Detection(id="n1", flag=False, score=0.02, evidence=tuple(evidence))


def test_unflagged_vandalism_is_a_weak_signal() -> None:
    obs = from_detection(unflagged(ev("vernieling"), ev("herhaling", "Herhaling: 'weer'")), AT, WEAK)
    assert obs.weak == ("pesterij", "vernieling") and not obs.flag and obs.severity == 0
    assert obs.at == parse_time(AT)


def test_negated_and_neutral_evidence_do_not_count() -> None:
    negated = ev("vernieling", "Vernieling: 'vernield' (niet meegeteld: ontkend door 'niet')")
    identity = ev("identiteit_herkomst", "Vermelding van herkomst: 'turkse' (op zich geen signaal)")
    assert from_detection(unflagged(negated, identity), AT, WEAK).weak == ()


@pytest.mark.parametrize("context", ["ontkenning", "ongegrond", "tegenspraak", "diversiteitsactiviteit"])
def test_a_context_saying_it_is_no_incident_cancels_weak_signals(context: str) -> None:
    obs = from_detection(unflagged(ev("vernieling"), ev(context, "Context: ... (verlaagt de score)")),
                         AT, WEAK)
    assert obs.weak == () and not obs.child


def test_child_target_is_recognised() -> None:
    obs = from_detection(unflagged(ev("pesterij"), ev("kind_doelwit", "Kinderen: 'zoontje'")), AT, WEAK)
    assert obs.child and obs.weak == ("pesterij",)


def test_flagged_note_keeps_the_detector_verdict() -> None:
    det = Detection(id="n2", flag=True, score=0.9, grounds=("godsdienst",), forms=("verbaal",),
                    severity=2, evidence=(ev("vernieling"),))
    obs = from_detection(det, AT, WEAK)
    assert (obs.flag, obs.grounds, obs.forms, obs.severity, obs.weak) == (
        True, ("godsdienst",), ("verbaal",), 2, ())


def test_scored_event_and_detection_give_the_same_observation() -> None:
    note_id = uuid.uuid4()
    accepted = events.note_accepted(
        note_id=note_id, tenant="t", occurred_at=datetime.fromisoformat(AT),
        received_at=datetime.now(UTC), text="x", author_role="huismeester", subject_key="a" * 32,
        area_key="b" * 32, municipality_code="GM0344", correlation_id="c")
    det = Detection(id=str(note_id), flag=False, score=0.1, evidence=(ev("bekladding"),), model_version="m")
    scored = events.note_scored(accepted, det, datetime.now(UTC))
    assert from_scored_event(scored, WEAK) == from_detection(det, accepted["occurred_at"], WEAK, "a" * 32)


def test_occurred_at_needs_an_offset() -> None:
    with pytest.raises(ValueError, match="UTC-offset"):
        parse_time("2026-03-01T10:00:00")


def test_summary_in_plain_dutch() -> None:
    day = 86400.0
    notes = [Observation("a", 0, True, 1, ("godsdienst",), ("verbaal",)),
             Observation("b", 9 * day, False, weak=("vernieling",)),
             Observation("c", 20 * day, True, 2, ("godsdienst",), ("verbaal", "vernieling")),
             Observation("d", 38 * day, True, 1, ("godsdienst",), ("verbaal",))]
    assert household_summary(notes) == ("4 meldingen in 38 dagen: verbaal (3), vernieling (2); "
                                        "grond: godsdienst; waarvan 1 zonder eigen signaal")
    assert household_summary(notes[:1]) == "1 melding: verbaal (1); grond: godsdienst"


def _emission(scope: str = "household", level: str = "watch") -> Emission:
    return Emission(alert_id="0" * 32, scope=scope, key="c" * 32,  # type: ignore[arg-type]
                    municipality_code="GM0344", level=level,
                    previous_level=None if level == "watch" else "watch", rule="reeks",
                    note_ids=("n1", "n2") if scope == "household" else (), raised_at=1_780_000_000.0,
                    window_start=1_779_000_000.0, summary="2 meldingen in 12 dagen",
                    households=3 if scope == "area" else 0, ground="herkomst" if scope == "area" else "")


def test_household_alert_event_validates() -> None:
    event = alert_event(_emission(), ruleset_version="rules-x", detected_at=datetime.now(UTC))
    assert validate("alert.v1", event) == []
    assert event["subject_key"] == "c" * 32 and "area_key" not in event
    assert line_from_event(event) == backtest_line(_emission())


def test_area_alert_event_has_no_household_identifiers() -> None:
    event = alert_event(_emission("area"), ruleset_version="rules-x", detected_at=datetime.now(UTC))
    assert validate("alert.v1", event) == []
    assert "subject_key" not in event and event["note_ids"] == [] and event["households"] == 3
    leaked = {**event, "subject_key": "d" * 32}
    assert validate("alert.v1", leaked) != []
    assert validate("alert.v1", {**event, "note_ids": ["n1"]}) != []


def test_one_event_id_per_alert_and_level() -> None:
    assert event_id(_emission()) == event_id(_emission())
    assert event_id(_emission()) != event_id(_emission(level="escalate"))


def test_backtest_line_contract() -> None:
    line = backtest_line(_emission())
    assert {"subject_key", "level", "rule", "note_ids", "raised_at"} <= set(line)
    assert line["raised_at"] == "2026-05-28T20:26:40+00:00"
    assert set(backtest_line(_emission("area"))) >= {"area_key", "level", "rule", "note_ids", "raised_at"}
