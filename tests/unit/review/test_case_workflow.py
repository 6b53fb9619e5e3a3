"""The case state machine and consent rules (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from buurtsignaal.domain.cases import (
    STATUSES,
    TRANSITIONS,
    CaseState,
    WorkflowError,
    check_acknowledge,
    check_coordinator_actions,
    check_correction_allowed,
    check_transition,
    confirm_consent_not_needed,
    escalation_refusal,
    record_consent,
)

R, C = "adv_medewerker", "coordinator"
HAPPY_PATH = [("in_behandeling", R), ("bevestigd", R), ("geescaleerd", R), ("afgehandeld", C)]


def test_the_happy_path_is_allowed_step_by_step() -> None:
    case = CaseState("nieuw", consent="gegeven", acknowledged_at=datetime(2026, 1, 1, tzinfo=UTC))
    for to, role in HAPPY_PATH:
        assert check_transition(case, to, role, "omdat")
        case = CaseState(to, consent="gegeven", acknowledged_at=case.acknowledged_at)
    assert case.status == "afgehandeld"


@pytest.mark.parametrize("start", STATUSES)
@pytest.mark.parametrize("to", STATUSES)
def test_every_transition_outside_the_table_is_refused(start: str, to: str) -> None:
    sources, role = TRANSITIONS.get(to, (frozenset(), R))
    case = CaseState(start, consent="gegeven", acknowledged_at=datetime(2026, 1, 1, tzinfo=UTC))
    if start in sources:
        assert check_transition(case, to, role, "reden")
    else:
        with pytest.raises(WorkflowError):
            check_transition(case, to, role, "reden")


def test_refusal_names_the_current_and_allowed_states() -> None:
    with pytest.raises(WorkflowError, match=r"'nieuw' kan niet naar 'bevestigd'.*in behandeling"):
        check_transition(CaseState("nieuw"), "bevestigd", R, "zeker")


def test_only_reviewers_decide_and_only_coordinators_close() -> None:
    with pytest.raises(WorkflowError, match="ADV-medewerker"):
        check_transition(CaseState("in_behandeling"), "bevestigd", C, "x")
    with pytest.raises(WorkflowError, match="coördinator"):
        check_transition(CaseState("geescaleerd", acknowledged_at=datetime.now(UTC)),
                         "afgehandeld", R, "x")
    with pytest.raises(WorkflowError):
        check_transition(CaseState("in_behandeling"), "bevestigd", "beheerder", "x")


def test_decisions_need_a_reason_picking_up_does_not() -> None:
    assert check_transition(CaseState("nieuw"), "in_behandeling", R, "") == "in behandeling genomen"
    with pytest.raises(WorkflowError, match="reden"):
        check_transition(CaseState("in_behandeling"), "afgewezen", R, "   ")


@pytest.mark.parametrize("consent", ["onbekend", "geweigerd"])
def test_escalation_needs_consent(consent: str) -> None:
    case = CaseState("bevestigd", consent=consent)
    with pytest.raises(WorkflowError, match="toestemming"):
        check_transition(case, "geescaleerd", R, "naar gemeente")


def test_escalation_with_consent_given() -> None:
    assert escalation_refusal(CaseState("bevestigd", consent="gegeven")) is None
    assert "bevestigde" in (escalation_refusal(CaseState("in_behandeling", consent="gegeven")) or "")


def test_not_needed_requires_a_reason_and_a_second_reviewer() -> None:
    case = CaseState("bevestigd")
    with pytest.raises(WorkflowError, match="waarom"):
        record_consent(case, "niet_nodig", " ", "anna")
    case = record_consent(case, "niet_nodig", "gebiedssignaal, geen persoon", "anna")
    assert "tweede" in (escalation_refusal(case) or "")
    with pytest.raises(WorkflowError, match="tweede"):
        confirm_consent_not_needed(case, "anna")
    confirmed = confirm_consent_not_needed(case, "bram")
    assert confirmed.consent_confirmed_by == "bram"
    assert escalation_refusal(confirmed) is None
    with pytest.raises(WorkflowError, match="al bevestigd"):
        confirm_consent_not_needed(confirmed, "carla")


def test_changing_consent_clears_the_confirmation() -> None:
    case = confirm_consent_not_needed(record_consent(CaseState("bevestigd"), "niet_nodig", "r", "a"), "b")
    again = record_consent(case, "niet_nodig", "andere reden", "a")
    assert again.consent_confirmed_by is None


def test_confirming_needs_not_needed() -> None:
    with pytest.raises(WorkflowError):
        confirm_consent_not_needed(CaseState("bevestigd", consent="gegeven"), "b")


def test_unknown_consent_and_consent_after_escalation_are_refused() -> None:
    with pytest.raises(WorkflowError, match="Onbekende"):
        record_consent(CaseState("nieuw"), "misschien", "", "a")
    with pytest.raises(WorkflowError, match="geëscaleerd"):
        record_consent(CaseState("geescaleerd"), "geweigerd", "", "a")


def test_closing_needs_acknowledgement_and_valid_actions() -> None:
    with pytest.raises(WorkflowError, match="ontvangst"):
        check_transition(CaseState("geescaleerd"), "afgehandeld", C, "klaar")
    check_acknowledge(CaseState("geescaleerd"))
    with pytest.raises(WorkflowError, match="al bevestigd"):
        check_acknowledge(CaseState("geescaleerd", acknowledged_at=datetime.now(UTC)))
    with pytest.raises(WorkflowError, match="geëscaleerde"):
        check_acknowledge(CaseState("bevestigd"))
    check_coordinator_actions(["gesprek_met_melder", "bemiddeling"], "")
    with pytest.raises(WorkflowError, match="minstens"):
        check_coordinator_actions([], "")
    with pytest.raises(WorkflowError, match="overig"):
        check_coordinator_actions(["overig"], " ")
    with pytest.raises(WorkflowError, match="Onbekende"):
        check_coordinator_actions(["politie_gebeld"], "")


def test_corrections_stop_at_escalation() -> None:
    check_correction_allowed("in_behandeling")
    with pytest.raises(WorkflowError):
        check_correction_allowed("geescaleerd")
