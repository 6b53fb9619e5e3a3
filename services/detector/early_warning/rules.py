"""Rule conditions, evaluated at one point in event time over the notes up to that point.

Each function gets the notes of one key sorted by event time, the index of the note being
evaluated, and returns the contributing notes when the rule holds there (else None). Only notes
at or before that note count, so the result does not depend on the order notes arrived in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .config import AreaGroundRule, CountRule, DecayedScoreRule, FormsRule, SingleRule
from .observation import Observation


def _has_flag_upto(notes: Sequence[Observation], i: int) -> bool:
    return any(o.flag for o in notes[: i + 1])


def _counts(o: Observation, has_flag: bool, count_weak: bool) -> bool:
    """Flagged notes count; a weak note counts only for a household that has a flagged note."""
    return o.flag or (count_weak and has_flag and bool(o.weak))


def _window(notes: Sequence[Observation], i: int, within: float) -> Sequence[Observation]:
    start = notes[i].at - within
    j = i
    while j > 0 and notes[j - 1].at > start:
        j -= 1
    return notes[j: i + 1]


def single(rule: SingleRule, notes: Sequence[Observation], i: int) -> list[Observation] | None:
    o = notes[i]
    if o.flag and (rule.min_severity is not None or rule.forms):
        severe = rule.min_severity is None or o.severity >= rule.min_severity
        shows_form = not rule.forms or bool(set(o.forms) & set(rule.forms))
        if severe and shows_form:
            return [o]
    if rule.child_target and o.child and _counts(o, _has_flag_upto(notes, i), True):
        return [o]
    return None


def count(rule: CountRule, notes: Sequence[Observation], i: int) -> list[Observation] | None:
    has_flag = _has_flag_upto(notes, i)
    if not _counts(notes[i], has_flag, rule.count_weak):
        return None
    hits = [o for o in _window(notes, i, rule.within) if _counts(o, has_flag, rule.count_weak)]
    if len(hits) < rule.min_notes or sum(o.flag for o in hits) < rule.min_flagged:
        return None
    if len({f for o in hits for f in o.signal_forms()}) < rule.min_distinct_forms:
        return None
    if rule.new_form and not _adds_form(hits):
        return None
    return hits


def _adds_form(hits: Sequence[Observation]) -> bool:
    """The last note shows a form that none of the notes before it (in `hits`) showed."""
    *earlier, latest = hits
    seen = {f for o in earlier for f in o.signal_forms()}
    return bool(earlier) and bool(set(latest.signal_forms()) - seen)


def weight(rule: DecayedScoreRule, o: Observation) -> float:
    if o.flag:
        return rule.weights.flagged + rule.weights.per_severity * o.severity
    return rule.weights.weak


def decayed_score(rule: DecayedScoreRule, notes: Sequence[Observation], i: int
                  ) -> list[Observation] | None:
    has_flag = _has_flag_upto(notes, i)
    if not _counts(notes[i], has_flag, True):
        return None
    now = notes[i].at
    total = 0.0
    parts: list[Observation] = []
    for o in notes[: i + 1]:
        if not _counts(o, has_flag, True):
            continue
        contribution = weight(rule, o) * math.pow(0.5, (now - o.at) / rule.half_life)
        total += contribution
        if contribution >= rule.min_contribution:
            parts.append(o)
    # A tiny epsilon so a threshold reached exactly (e.g. 2 x 1.5 = 3.0) is not lost to rounding.
    return parts if total + 1e-9 >= rule.threshold else None


def forms(rule: FormsRule, notes: Sequence[Observation], i: int) -> list[Observation] | None:
    has_flag = _has_flag_upto(notes, i)
    if not _counts(notes[i], has_flag, rule.count_weak):
        return None
    window = [o for o in _window(notes, i, rule.within) if _counts(o, has_flag, rule.count_weak)]
    if sum(o.flag for o in window) < rule.min_flagged:
        return None
    for form, needed in rule.forms.items():
        if sum(form in o.signal_forms() for o in window) < needed:
            return None
    return [o for o in window if set(o.signal_forms()) & set(rule.forms)]


def area_ground(rule: AreaGroundRule, notes: Sequence[Observation], i: int
                ) -> tuple[str, list[Observation]] | None:
    """(ground, contributing notes) when one ground is seen at enough households of the area."""
    o = notes[i]
    if not o.flag:
        return None
    window = _window(notes, i, rule.within)
    for ground in rule.grounds:
        if ground not in o.grounds:
            continue
        hits = [n for n in window if n.flag and ground in n.grounds]
        if len({n.subject_key for n in hits}) >= rule.min_households:
            return ground, hits
    return None
