"""Transparent rules: a score from the recognizer hits alone, and grounds, forms and severity.

The rule score is what the detector falls back on without a trained classifier; with one, it is
one of the classifier's inputs and is blended with its probability (see decision.py). Every
number here is a design decision a reviewer can read; the classifier only re-weighs.
"""

from __future__ import annotations

from collections import defaultdict

from buurtsignaal.domain.taxonomy import FORMS, GROUNDS

from .analysis import NoteAnalysis

# Context effects multiply the rule score: the note itself says why it is not an incident.
CONTEXT_FACTORS = {
    "negate": 0.3,
    "counter": 0.35,
    "unfounded": 0.45,
    "benign": 0.55,
    "service": 0.85,
    "suspicion": 0.8,
}

# Effects by which the note itself says it describes no incident (see docs/labelling.md, step 3).
STATED_NOT_INCIDENT = frozenset({"negate", "counter", "unfounded"})

# Acts that are hostile enough to count with an identity mention ('banden lek sinds de familie
# met hoofddoeken er woont'); verbal acts and bullying need a ground signal of their own.
STRONG_ACTS = frozenset({"bedreiging", "geweld", "vernieling", "bekladding", "intimiderend_object"})
SYMBOL_PATTERNS = frozenset({"symbool", "white power"})


def rule_score(a: NoteAnalysis) -> float:
    """0..1: how strongly the hits alone say 'discriminatory harassment' (cached per note)."""
    if a.rule_score is None:
        a.rule_score = _rule_score(a)
    return a.rule_score


def _rule_score(a: NoteAnalysis) -> float:
    slurs = a.of_kind("slur")
    acts = a.of_kind("act")
    exclusions = a.of_kind("exclusion")
    attributions = a.of_kind("attribution")
    identities = a.of_kind("identity")
    repetition = bool(a.of_kind("repetition"))
    effects = a.effects()

    ground_attr = [h for h in attributions if h.recognizer.ground]
    generic_attr = [h for h in attributions if not h.recognizer.ground]
    has_ground = bool(slurs or ground_attr or identities)
    act_names = {h.recognizer.name for h in acts}

    score = 0.0
    if slurs:
        # A slur naming no ground ('jouw soort', 'tuig') needs an identity mention to count.
        grounded = [h.score for h in slurs if h.recognizer.ground]
        ungrounded = [h.score if identities else h.score * 0.6 for h in slurs
                      if not h.recognizer.ground]
        score = max(grounded + ungrounded)
        if acts or exclusions:
            score = min(1.0, score + 0.1)
    if exclusions:
        # 'jullie horen hier niet' is exclusion on its own; 'niet uitgenodigd' needs a ground.
        strongest = max(h.score for h in exclusions)
        score = max(score, 0.8 if has_ground else (0.6 if strongest >= 0.7 else 0.35))
    if any(h.pattern in SYMBOL_PATTERNS for h in acts):
        score = max(score, 0.8)
    if acts and has_ground:
        strong = len(act_names & STRONG_ACTS)
        s = 0.4 + 0.12 * strong + 0.05 * len(act_names - STRONG_ACTS)
        if repetition:
            s += 0.1
        if ground_attr:
            s += 0.25
        if generic_attr:
            s += 0.15
        score = max(score, min(s, 0.85))
    if generic_attr and act_names & STRONG_ACTS and not has_ground:
        # 'only their tyres, nobody else's': targeting without a named ground.
        score = max(score, 0.45)
    if ground_attr and (acts or exclusions or slurs):
        score = max(score, 0.75)
    if generic_attr and not (acts or slurs or exclusions):
        score = max(score, 0.3)
    if identities and quoted_at_someone(a) and not (acts or slurs or exclusions):
        # 'buurvrouw zei tegen mevr. (transvrouw): "..."': a remark quoted with an identity.
        score = max(score, 0.35)
    if generic_attr and (acts or slurs or exclusions):
        score = min(1.0, score + 0.1)

    for effect, factor in CONTEXT_FACTORS.items():
        if effect in effects:
            score *= factor
    if "nuisance" in effects and not (slurs or exclusions or act_names & STRONG_ACTS):
        score *= 0.7
    return round(min(max(score, 0.0), 1.0), 4)


def quoted_at_someone(a: NoteAnalysis) -> bool:
    """A literal quote in the note: what was said or written to the resident."""
    return any(h.recognizer.effect == "quote" and h.pattern == "aanhalingstekens"
               for h in a.active)


def ground_scores(a: NoteAnalysis) -> dict[str, float]:
    """Evidence per ground: slurs and explicit attributions weigh most, mentions least."""
    scores: dict[str, float] = defaultdict(float)
    for h in a.active:
        g = h.recognizer.ground
        if not g:
            continue
        kind = h.recognizer.kind
        if kind == "slur":
            scores[g] += h.score
        elif kind == "attribution":
            scores[g] += 0.6
        elif kind == "identity":
            scores[g] += 0.25
    return dict(scores)


def rule_grounds(a: NoteAnalysis) -> list[str]:
    """Grounds named by slurs or attributions; otherwise by identity mentions; else 'overig'."""
    strong = {h.recognizer.ground for h in a.active
              if h.recognizer.ground and h.recognizer.kind in ("slur", "attribution")}
    if not strong:
        strong = {h.recognizer.ground for h in a.of_kind("identity")}
    return [g for g in GROUNDS if g in strong]


def rule_forms(a: NoteAnalysis) -> list[str]:
    forms = {h.recognizer.form for h in a.active
             if h.recognizer.form and h.recognizer.kind in ("slur", "act", "exclusion")}
    return [f for f in FORMS if f in forms]


def rule_severity(a: NoteAnalysis, forms: list[str]) -> int:
    """1 single remark; 2 repeated, graffiti, vandalism, exclusion; 3 threats, violence, children."""
    sev = 1
    for h in a.active:
        if h.recognizer.kind in ("act", "exclusion") and h.recognizer.severity:
            sev = max(sev, h.recognizer.severity)
    if a.of_kind("repetition"):
        sev = max(sev, 2)
    if len(forms) >= 3:
        sev = max(sev, 2)
    if a.of_kind("target") and set(forms) & {"verbaal", "geweld", "bedreiging", "pesterij"}:
        sev = 3
    return min(sev, 3)
