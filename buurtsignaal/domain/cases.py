"""The review workflow of one case: states, who may move it where, consent, and escalation (pure).

No automated action, ever: every transition is made by a person, and escalation to the
municipality needs a confirmed case plus the resident's consent (or a second reviewer's
confirmation that consent is not needed). Messages are Dutch because they are shown to people.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

STATUSES: tuple[str, ...] = (
    "nieuw", "in_behandeling", "bevestigd", "afgewezen", "meer_informatie_nodig", "geescaleerd",
    "afgehandeld",
)
STATUS_LABELS_NL: dict[str, str] = {
    "nieuw": "nieuw",
    "in_behandeling": "in behandeling",
    "bevestigd": "bevestigd",
    "afgewezen": "afgewezen",
    "meer_informatie_nodig": "meer informatie nodig",
    "geescaleerd": "geëscaleerd naar gemeente",
    "afgehandeld": "afgehandeld",
}
# Cases a reviewer still has work on (the default queue).
OPEN_STATUSES: tuple[str, ...] = ("nieuw", "in_behandeling", "meer_informatie_nodig", "bevestigd")

REVIEWER = "adv_medewerker"
COORDINATOR = "coordinator"

# to-status -> (allowed from-statuses, role that may make the move)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "in_behandeling": (frozenset({"nieuw", "meer_informatie_nodig"}), REVIEWER),
    "bevestigd": (frozenset({"in_behandeling"}), REVIEWER),
    "afgewezen": (frozenset({"in_behandeling"}), REVIEWER),
    "meer_informatie_nodig": (frozenset({"in_behandeling"}), REVIEWER),
    "geescaleerd": (frozenset({"bevestigd"}), REVIEWER),
    "afgehandeld": (frozenset({"geescaleerd"}), COORDINATOR),
}
# Decisions need a reason a colleague can read later; picking a case up does not.
DEFAULT_REASONS: dict[str, str] = {"in_behandeling": "in behandeling genomen"}

CONSENT: tuple[str, ...] = ("onbekend", "gegeven", "geweigerd", "niet_nodig")
CONSENT_LABELS_NL: dict[str, str] = {
    "onbekend": "onbekend",
    "gegeven": "gegeven",
    "geweigerd": "geweigerd",
    "niet_nodig": "niet nodig",
}

COORDINATOR_ACTIONS: dict[str, str] = {
    "gesprek_met_melder": "gesprek met melder",
    "bemiddeling": "bemiddeling",
    "aangifte_ondersteund": "aangifte ondersteund",
    "overig": "overig",
}


class WorkflowError(ValueError):
    """A refused action; the message is Dutch and meant for the person who tried it."""


@dataclass(frozen=True)
class CaseState:
    """What the rules need to know about a case."""

    status: str
    consent: str = "onbekend"
    consent_reason: str = ""
    consent_recorded_by: str | None = None
    consent_confirmed_by: str | None = None
    acknowledged_at: datetime | None = None


def check_transition(case: CaseState, to: str, role: str, reason: str) -> str:
    """The reason to record for moving `case` to `to`, or WorkflowError with a clear message."""
    if to not in TRANSITIONS:
        raise WorkflowError(f"Onbekende status '{to}'.")
    sources, who = TRANSITIONS[to]
    if role != who:
        raise WorkflowError(
            f"Alleen een {'ADV-medewerker' if who == REVIEWER else 'gemeentelijk coördinator'} "
            f"kan een zaak naar '{STATUS_LABELS_NL[to]}' zetten."
        )
    if case.status not in sources:
        allowed = ", ".join(STATUS_LABELS_NL[s] for s in sorted(sources))
        raise WorkflowError(
            f"Een zaak met status '{STATUS_LABELS_NL.get(case.status, case.status)}' kan niet naar "
            f"'{STATUS_LABELS_NL[to]}'; dat kan alleen vanuit: {allowed}."
        )
    reason = reason.strip() or DEFAULT_REASONS.get(to, "")
    if not reason:
        raise WorkflowError(f"Geef een reden op voor '{STATUS_LABELS_NL[to]}'.")
    if to == "geescaleerd":
        refusal = escalation_refusal(case)
        if refusal:
            raise WorkflowError(refusal)
    if to == "afgehandeld" and case.acknowledged_at is None:
        raise WorkflowError("Bevestig eerst de ontvangst van de escalatie.")
    return reason


def escalation_refusal(case: CaseState) -> str | None:
    """Why this case may not go to the municipality (None: it may)."""
    if case.status != "bevestigd":
        return "Alleen een bevestigde zaak kan naar de gemeente worden geëscaleerd."
    if case.consent == "gegeven":
        return None
    if case.consent == "niet_nodig":
        if case.consent_confirmed_by is None:
            return ("Toestemming 'niet nodig' moet eerst door een tweede ADV-medewerker worden "
                    "bevestigd.")
        return None
    return (f"Escaleren kan alleen met toestemming van de bewoner (nu: "
            f"{CONSENT_LABELS_NL.get(case.consent, case.consent)}).")


def record_consent(case: CaseState, consent: str, reason: str, actor: str) -> CaseState:
    """A new consent status; a change always clears an earlier second-reviewer confirmation."""
    if consent not in CONSENT:
        raise WorkflowError(f"Onbekende toestemmingsstatus '{consent}'.")
    if case.status in ("geescaleerd", "afgehandeld"):
        raise WorkflowError("De zaak is al geëscaleerd; toestemming kan niet meer worden gewijzigd.")
    reason = reason.strip()
    if consent == "niet_nodig" and not reason:
        raise WorkflowError("Geef aan waarom toestemming niet nodig is (bijv. een gebiedssignaal "
                            "zonder betrokken persoon).")
    return replace(case, consent=consent, consent_reason=reason, consent_recorded_by=actor,
                   consent_confirmed_by=None)


def confirm_consent_not_needed(case: CaseState, actor: str) -> CaseState:
    """The four-eyes check on 'niet_nodig': a different reviewer confirms it."""
    if case.consent != "niet_nodig":
        raise WorkflowError("Er is niets te bevestigen: toestemming staat niet op 'niet nodig'.")
    if case.consent_confirmed_by is not None:
        raise WorkflowError("'Niet nodig' is al bevestigd.")
    if actor == case.consent_recorded_by:
        raise WorkflowError("Een tweede ADV-medewerker moet 'niet nodig' bevestigen, niet degene "
                            "die het heeft vastgelegd.")
    return replace(case, consent_confirmed_by=actor)


def check_acknowledge(case: CaseState) -> None:
    if case.status != "geescaleerd":
        raise WorkflowError("Alleen een geëscaleerde zaak kan worden ontvangen.")
    if case.acknowledged_at is not None:
        raise WorkflowError("De ontvangst is al bevestigd.")


def check_coordinator_actions(actions: list[str], other_text: str) -> None:
    """What the coordinator did, before closing: known codes, and text with 'overig'."""
    if not actions:
        raise WorkflowError("Kies minstens één ondernomen actie.")
    unknown = [a for a in actions if a not in COORDINATOR_ACTIONS]
    if unknown:
        raise WorkflowError(f"Onbekende actie: {', '.join(unknown)}.")
    if "overig" in actions and not other_text.strip():
        raise WorkflowError("Beschrijf kort wat er bij 'overig' is gedaan.")


def check_correction_allowed(status: str) -> None:
    """Grounds, forms and severity can be corrected until the case leaves the ADV."""
    if status in ("geescaleerd", "afgehandeld"):
        raise WorkflowError("Een geëscaleerde zaak kan niet meer worden gecorrigeerd.")


def check_labels(grounds: list[str], forms: list[str], severity: int) -> None:
    """A reviewer's correction must use the shared taxonomy."""
    from buurtsignaal.domain.taxonomy import FORMS, GROUNDS, SEVERITIES

    if not grounds:
        raise WorkflowError("Kies minstens één grond (of wijs de zaak af).")
    unknown = [g for g in grounds if g not in GROUNDS] + [f for f in forms if f not in FORMS]
    if unknown:
        raise WorkflowError(f"Onbekende code: {', '.join(unknown)}.")
    if severity not in SEVERITIES:
        raise WorkflowError("Ernst moet 0, 1, 2 of 3 zijn.")
