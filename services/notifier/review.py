"""Use cases of the review UI: who may see a case, and every action on it (one transaction each).

Each action checks the domain rules (buurtsignaal.domain.cases), updates the case only if its
version is the one the person saw (optimistic locking), records the transition or label, and
writes the audit log. The caller owns the transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from buurtsignaal import metrics
from buurtsignaal.adapters import cases_repo, users
from buurtsignaal.domain import cases as rules


class Conflict(Exception):
    """Someone else changed the case after this person loaded it."""


CONFLICT_MESSAGE = ("Deze zaak is intussen door iemand anders gewijzigd. De pagina toont nu de "
                    "actuele stand; controleer die en probeer het zo nodig opnieuw.")


def access(user: users.User, case: dict[str, Any] | None) -> str | None:
    """How this user may see this case: 'reviewer', 'coordinator', 'admin' or None (not at all).
    A coordinator sees only escalated cases of their own municipalities."""
    if case is None:
        return None
    if user.role == "beheerder":
        return "admin"
    if user.role == "adv_medewerker" and case["adv_region"] == user.adv_region:
        return "reviewer"
    if (user.role == "coordinator" and case["municipality_code"] in user.municipalities
            and case["escalated_at"] is not None):
        return "coordinator"
    return None


def state(case: dict[str, Any]) -> rules.CaseState:
    return rules.CaseState(
        status=case["status"], consent=case["consent"], consent_reason=case["consent_reason"],
        consent_recorded_by=case["consent_recorded_by"],
        consent_confirmed_by=case["consent_confirmed_by"], acknowledged_at=case["acknowledged_at"],
    )


def _update(conn: psycopg.Connection, case: dict[str, Any], version: int,
            changes: dict[str, Any]) -> None:
    if not cases_repo.update_case(conn, case["id"], version, changes):
        metrics.review_conflicts.inc()
        raise Conflict(CONFLICT_MESSAGE)


def _fresh(case: dict[str, Any], version: int) -> None:
    """Refuse a form built on an older version before judging it: the person saw stale data."""
    if version != case["version"]:
        metrics.review_conflicts.inc()
        raise Conflict(CONFLICT_MESSAGE)


def _need(role: str, user: users.User) -> None:
    if user.role != role:
        raise rules.WorkflowError("U heeft geen rechten voor deze actie.")


def change_status(conn: psycopg.Connection, user: users.User, case: dict[str, Any], to: str,
                  reason: str, version: int) -> None:
    _fresh(case, version)
    if to == "geescaleerd":
        raise rules.WorkflowError("Escaleren gaat via het formulier 'Escaleren naar gemeente'.")
    if to == "afgehandeld":
        raise rules.WorkflowError("Afhandelen gaat via het formulier 'Afhandelen'.")
    reason = rules.check_transition(state(case), to, user.role, reason)
    now = datetime.now(UTC)
    changes: dict[str, Any] = {"status": to}
    first_review = case["status"] == "nieuw" and case["first_reviewed_at"] is None
    if first_review:
        changes["first_reviewed_at"] = now
    _update(conn, case, version, changes)
    cases_repo.add_transition(conn, case["id"], case["status"], to, user.username, reason)
    if to in ("bevestigd", "afgewezen"):
        cases_repo.add_label(conn, case, source="besluit", is_discrimination=to == "bevestigd",
                             grounds=case["grounds"], forms=case["forms"],
                             severity=case["severity"], actor=user.username)
    users.record_audit(conn, user.username, "status_changed", case["id"],
                       {"from": case["status"], "to": to, "reason": reason})
    metrics.review_transitions.labels(to).inc()
    if first_review:
        metrics.time_to_first_review.observe((now - case["created_at"]).total_seconds())


def escalate(conn: psycopg.Connection, user: users.User, case: dict[str, Any], reason: str,
             summary: str, version: int) -> None:
    _fresh(case, version)
    reason = rules.check_transition(state(case), "geescaleerd", user.role, reason)
    summary = summary.strip()
    if len(summary) > 2000:
        raise rules.WorkflowError("De samenvatting is te lang (maximaal 2000 tekens).")
    now = datetime.now(UTC)
    _update(conn, case, version, {"status": "geescaleerd", "escalated_at": now,
                                  "escalated_by": user.username, "summary": summary})
    cases_repo.add_transition(conn, case["id"], case["status"], "geescaleerd", user.username, reason)
    users.record_audit(conn, user.username, "escalated", case["id"],
                       {"reason": reason, "summary_shared": bool(summary),
                        "consent": case["consent"], "municipality": case["municipality_code"]})
    metrics.review_transitions.labels("geescaleerd").inc()
    metrics.time_to_escalation.observe((now - case["created_at"]).total_seconds())


def set_consent(conn: psycopg.Connection, user: users.User, case: dict[str, Any], consent: str,
                reason: str, version: int) -> None:
    _fresh(case, version)
    _need(rules.REVIEWER, user)
    new = rules.record_consent(state(case), consent, reason, user.username)
    _update(conn, case, version, {"consent": new.consent, "consent_reason": new.consent_reason,
                                  "consent_recorded_by": user.username,
                                  "consent_confirmed_by": None})
    users.record_audit(conn, user.username, "consent_recorded", case["id"],
                       {"consent": new.consent, "reason": new.consent_reason})


def confirm_consent(conn: psycopg.Connection, user: users.User, case: dict[str, Any],
                    version: int) -> None:
    _fresh(case, version)
    _need(rules.REVIEWER, user)
    rules.confirm_consent_not_needed(state(case), user.username)
    _update(conn, case, version, {"consent_confirmed_by": user.username})
    users.record_audit(conn, user.username, "consent_not_needed_confirmed", case["id"])


def correct(conn: psycopg.Connection, user: users.User, case: dict[str, Any], grounds: list[str],
            forms: list[str], severity: int, version: int) -> None:
    _fresh(case, version)
    _need(rules.REVIEWER, user)
    rules.check_correction_allowed(case["status"])
    rules.check_labels(grounds, forms, severity)
    _update(conn, case, version, {"grounds": grounds, "forms": forms, "severity": severity})
    cases_repo.add_label(conn, case, source="correctie", is_discrimination=None, grounds=grounds,
                         forms=forms, severity=severity, actor=user.username)
    users.record_audit(conn, user.username, "labels_corrected", case["id"], {
        "before": {"grounds": case["grounds"], "forms": case["forms"], "severity": case["severity"]},
        "after": {"grounds": grounds, "forms": forms, "severity": severity}})


def acknowledge(conn: psycopg.Connection, user: users.User, case: dict[str, Any],
                version: int) -> None:
    _fresh(case, version)
    _need(rules.COORDINATOR, user)
    rules.check_acknowledge(state(case))
    _update(conn, case, version, {"acknowledged_at": datetime.now(UTC),
                                  "acknowledged_by": user.username})
    users.record_audit(conn, user.username, "escalation_acknowledged", case["id"])


def close(conn: psycopg.Connection, user: users.User, case: dict[str, Any], actions: list[str],
          note: str, version: int) -> None:
    _fresh(case, version)
    _need(rules.COORDINATOR, user)
    rules.check_coordinator_actions(actions, note)
    reason = "afgehandeld door gemeente: " + ", ".join(rules.COORDINATOR_ACTIONS[a] for a in actions)
    reason = rules.check_transition(state(case), "afgehandeld", user.role, reason)
    _update(conn, case, version, {"status": "afgehandeld", "closed_at": datetime.now(UTC),
                                  "coordinator_actions": actions, "coordinator_note": note.strip()})
    cases_repo.add_transition(conn, case["id"], case["status"], "afgehandeld", user.username, reason)
    users.record_audit(conn, user.username, "escalation_closed", case["id"], {"actions": actions})
    metrics.review_transitions.labels("afgehandeld").inc()
