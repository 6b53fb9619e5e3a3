"""Plain-Dutch explanations for reviewers: every evidence span says what fired and why."""

from __future__ import annotations

from buurtsignaal.domain.signals import Detection, Evidence
from buurtsignaal.domain.taxonomy import FORM_LABELS_NL, GROUND_LABELS_NL, SEVERITY_LABELS_NL

from .recognizers import Hit, Recognizer

_EFFECT_NOTE = {
    "negate": "verlaagt de score",
    "counter": "verlaagt de score",
    "benign": "verlaagt de score",
    "nuisance": "verlaagt de score als er geen vijandige handeling is",
    "unfounded": "verlaagt de score",
    "service": "verlaagt de score",
    "quote": "letterlijk geciteerd",
}


def hit_explanation(hit: Hit) -> str:
    rec = hit.recognizer
    prefix = "Context: " if rec.kind == "context" else ""
    text = f"{prefix}{rec.explanation}: '{hit.text}'"
    extras: list[str] = []
    if hit.negated_by:
        extras.append(f"niet meegeteld: ontkend door '{hit.negated_by}'")
    if hit.context_word:
        extras.append(f"versterkt door '{hit.context_word}' in de buurt")
    if rec.kind == "context" and rec.effect in _EFFECT_NOTE:
        extras.append(_EFFECT_NOTE[rec.effect])
    if rec.kind == "identity":
        extras.append("op zich geen signaal")
    if extras:
        text += " (" + "; ".join(extras) + ")"
    return text


# (recognizer, pattern, text, negator, context word) -> (recognizer label, explanation): the same
# few hundred slurs, acts and context words recur in note after note. Bounded for the service.
_LABELS: dict[tuple[Recognizer, str, str, str | None, str | None], tuple[str, str]] = {}


def to_evidence(hit: Hit) -> Evidence:
    key = (hit.recognizer, hit.pattern, hit.text, hit.negated_by, hit.context_word)
    labels = _LABELS.get(key)
    if labels is None:
        if len(_LABELS) > 200_000:
            _LABELS.clear()
        labels = _LABELS[key] = (f"{hit.recognizer.name}/{hit.pattern}", hit_explanation(hit))
    return Evidence(start=hit.start, end=hit.end, text=hit.text, recognizer=labels[0],
                    explanation=labels[1])


def is_reason(evidence: Evidence) -> bool:
    """Evidence that supports the flag (not context, not a neutral mention, not negated)."""
    ex = evidence.explanation
    return not (ex.startswith("Context: ") or "niet meegeteld" in ex
                or "op zich geen signaal" in ex)


def summary(detection: Detection) -> str:
    """One line for a review queue: verdict, grounds, forms, severity and the strongest reasons."""
    if not detection.flag:
        return f"Geen signaal (score {detection.score:.2f})."
    grounds = ", ".join(GROUND_LABELS_NL.get(g, g) for g in detection.grounds) or "onbekend"
    forms = ", ".join(FORM_LABELS_NL.get(f, f) for f in detection.forms) or "onbekend"
    reasons = "; ".join(dict.fromkeys(
        e.explanation for e in detection.evidence if is_reason(e)
    ))
    sev = SEVERITY_LABELS_NL.get(detection.severity, str(detection.severity))
    return (f"Mogelijk discriminatie (score {detection.score:.2f}, ernst {sev}). "
            f"Grond: {grounds}. Vorm: {forms}. Waarom: {reasons}.")
