"""Plain-Dutch one-line summaries of an alert: counts, forms and grounds, never note text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from buurtsignaal.domain.taxonomy import FORMS, GROUND_LABELS_NL, GROUNDS

from .observation import Observation

DAY = 86400.0


def _days(notes: Sequence[Observation]) -> int:
    return max(1, round((notes[-1].at - notes[0].at) / DAY)) if len(notes) > 1 else 1


def _counted(counter: Counter[str], order: Sequence[str]) -> str:
    return ", ".join(f"{name} ({counter[name]})" for name in order if counter[name])


def household_summary(notes: Sequence[Observation]) -> str:
    """'4 meldingen in 38 dagen: vernieling (2), verbaal (2); grond: godsdienst'."""
    if not notes:
        return "geen meldingen"
    forms: Counter[str] = Counter(f for o in notes for f in o.signal_forms())
    grounds: Counter[str] = Counter(g for o in notes for g in o.grounds)
    n = len(notes)
    head = "1 melding" if n == 1 else f"{n} meldingen in {_days(notes)} dagen"
    text = head + (f": {_counted(forms, FORMS)}" if forms else "")
    ground_text = ", ".join(GROUND_LABELS_NL[g] for g in GROUNDS if grounds[g])
    text += f"; grond: {ground_text}" if ground_text else "; grond: onbekend"
    weak = sum(not o.flag for o in notes)
    if weak:
        text += f"; waarvan {weak} zonder eigen signaal"
    top = max(o.severity for o in notes)
    if top >= 3:
        text += "; ernst hoog"
    if any(o.child for o in notes):
        text += "; kind als doelwit"
    return text


def area_summary(notes: Sequence[Observation], ground: str) -> str:
    """'3 huishoudens in 21 dagen met grond herkomst (5 meldingen)': no household identifiers."""
    households = len({o.subject_key for o in notes})
    label = GROUND_LABELS_NL.get(ground, ground)
    n = len(notes)
    span = _days(notes) if notes else 1
    return (f"{households} huishoudens in {span} dagen met grond {label} "
            f"({n} {'melding' if n == 1 else 'meldingen'})")
