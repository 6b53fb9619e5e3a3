"""Presidio-style recognizers declared in YAML, compiled once, matched on normalised tokens.

A recognizer has a kind (what it says about a note), an optional ground and form, a base score
and patterns of three sorts:

* ``tokens``: exact token forms, compared with the normalised token, its lemma, its
  spelling-variant key (double letters squeezed) and the parts of hyphenated tokens;
* ``token_regex``: a regular expression that must match a whole token (compounds such as
  'kankermarokkaan', inflections such as 'bedreig\\w*');
* ``regex``: a regular expression over the note as one normalised string of tokens separated by
  single spaces (phrases such as 'ga terug naar je eigen land').

``{name}`` inside a regex is replaced by the alternation ``lexicon[name]`` so that word lists
(curses, identity nouns) are written once. Token-level results are cached per token form, which
makes the per-note cost close to a dictionary look-up per token.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from .normalize import (
    is_censored,
    normalise_token,
    squeeze,
    token_parts,
    uncensor_candidates,
)
from .phrases import Candidates, PhraseIndex

KINDS = (
    "identity",  # a neutral mention of who someone is: a signal only together with hostility
    "slur",  # a derogatory term tied to a ground
    "insult",  # an insult tied to no ground
    "act",  # a hostile act: threat, violence, vandalism, graffiti, symbol, harassment
    "exclusion",  # 'you don't belong here', petitions to get a family out
    "attribution",  # explicit 'because of her origin', 'racist', 'discrimination'
    "repetition",  # 'weer', 'opnieuw', 'wekelijks'
    "target",  # who is targeted: children
    "context",  # lowers or raises the score of the whole note (negation, counter-speech, ...)
)


# eq=False: compared and hashed by identity. Hits and explanation caches hash recognizers
# per hit; a value hash over all fields (a frozenset among them) cost more than the look-up.
@dataclass(frozen=True, slots=True, eq=False)
class Recognizer:
    name: str
    kind: str
    score: float
    explanation: str
    ground: str | None = None
    form: str | None = None
    severity: int = 0  # minimum severity this recognizer implies when the note is flagged
    effect: str | None = None  # for kind 'context': negate | counter | benign | nuisance | ...
    negatable: bool = True  # may a preceding 'geen'/'niet' cancel it?
    # Presidio-style context: words within `window` tokens that raise the score.
    context: frozenset[str] = frozenset()
    window: int = 5


class Hit(NamedTuple):
    """One recognizer match on one span of the note (a tuple: created by the thousand)."""

    recognizer: Recognizer
    pattern: str
    tok_start: int
    tok_end: int  # exclusive
    start: int  # character offsets in the original text
    end: int
    text: str
    score: float
    negated_by: str | None = None  # the word that cancelled it ('geen', 'niet', ...)
    context_word: str | None = None  # the word that raised the score


@dataclass(slots=True)
class _TokenPattern:
    recognizer_idx: int
    name: str
    regex: re.Pattern[str]
    exclude: re.Pattern[str] | None


@dataclass(slots=True)
class _PhrasePattern:
    recognizer_idx: int
    name: str
    regex: re.Pattern[str]


# (recognizer index, pattern name) pairs of one token form.
TokenHits = tuple[tuple[int, str], ...]


@dataclass(slots=True)
class RecognizerSet:
    recognizers: list[Recognizer]
    negators: frozenset[str]
    negation_window: int
    # token form -> [(recognizer index, pattern name)]
    _terms: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    _squeezed_terms: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    _token_patterns: list[_TokenPattern] = field(default_factory=list)
    _phrase_patterns: list[_PhrasePattern] = field(default_factory=list)
    _excluded_phrases: dict[int, re.Pattern[str]] = field(default_factory=dict)
    _cache: dict[tuple[str, str], TokenHits] = field(default_factory=dict)
    _phrases: PhraseIndex = field(default_factory=lambda: PhraseIndex([]))
    source_digest: str = ""

    def compile_prefilter(self) -> None:
        """Index the phrase patterns for matching at few positions (phrases.py)."""
        self._phrases = PhraseIndex.build([pp.regex for pp in self._phrase_patterns])

    def token_candidates(self, norm: str) -> Candidates | None:
        """Phrase patterns that may start in a token form, and where (cached per form); None
        when that depends on the next token (phrases.PhraseIndex.pair_candidates)."""
        return self._phrases.candidates(norm)

    # ---------------------------------------------------------------- matching
    def token_matches(self, norm: str, lemma: str) -> TokenHits:
        """(recognizer index, pattern name) pairs for one token; cached per (form, lemma)."""
        key = (norm, lemma)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        found = self._match_token(norm, lemma)
        if not found and is_censored(norm):
            for candidate in uncensor_candidates(norm):
                found = [m for m in self._match_token(candidate, candidate)
                         if self.recognizers[m[0]].kind in ("slur", "insult")]
                if found:
                    found = [(i, f"{p}, gecensureerd") for i, p in found]
                    break
        result = tuple(dict.fromkeys(found))
        if len(self._cache) > 500_000:  # bounded memory in a long-running service
            self._cache.clear()
        self._cache[key] = result
        return result

    def _match_token(self, norm: str, lemma: str) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        forms = {norm, lemma}
        forms.update(token_parts(norm))
        for form in forms:
            found.extend(self._terms.get(form, ()))
            found.extend(self._squeezed_terms.get(squeeze(form), ()))
        parts = token_parts(norm)
        for tp in self._token_patterns:
            for form in (norm, lemma, *parts):
                if tp.regex.fullmatch(form) and not (tp.exclude and tp.exclude.fullmatch(form)):
                    found.append((tp.recognizer_idx, tp.name))
                    break
        return found

    def analyse(
        self, words: Sequence[str], lemmas: Sequence[str], idx: Sequence[int], text: str,
        norms: Sequence[str] | None = None, skip: frozenset[int] | set[int] = frozenset(),
        scan: bool = False,
    ) -> list[Hit]:
        """All hits in one note. `words` are token texts, `idx` their character offsets.

        Tokens in `skip` (personal names such as 'dhr. Polak', 'mevr. de Wit') never start a
        token-level hit and phrase hits made only of them are dropped. `scan=True` runs every
        phrase pattern over the whole note without the prefilter (the reference the prefilter
        must equal; for tests).
        """
        if norms is None:
            norms = [normalise_token(w) for w in words]
        token_hits = [self.token_matches(n, lem) for n, lem in zip(norms, lemmas, strict=True)]
        candidates = None if scan else [self.token_candidates(n) for n in norms]
        return self.analyse_tokens(words, norms, idx, text, skip, token_hits, candidates)

    def analyse_tokens(
        self, words: Sequence[str], norms: Sequence[str], idx: Sequence[int], text: str,
        skip: frozenset[int] | set[int], token_hits: Sequence[TokenHits],
        candidates: Sequence[Candidates | None] | None,
    ) -> list[Hit]:
        """`analyse` with the per-token look-ups done by the caller (the detector keeps them per
        token form); `candidates=None` scans every phrase pattern over the whole note."""
        raw: list[tuple[int, str, int, int]] = []  # (rec idx, pattern, tok_start, tok_end)
        for i, found in enumerate(token_hits):
            if found and i not in skip:
                raw.extend([(rec_idx, pattern, i, i + 1) for rec_idx, pattern in found])
        excluded: dict[int, list[tuple[int, int]]] = {}
        if self._phrase_patterns:
            view, starts = _view(norms)
            patterns = self._phrase_patterns
            for j, a, b in self._phrases.spans(view, norms, starts, candidates):
                if b <= a:
                    continue
                t0 = _tok_at(starts, a)
                t1 = _tok_at(starts, b - 1) + 1
                raw.append((patterns[j].recognizer_idx, patterns[j].name, t0, t1))
            wanted = {r for r, _, _, _ in raw if r in self._excluded_phrases}
            if wanted:
                excluded = self._excluded_spans(view, starts, wanted)
        return self._hits(raw, excluded, skip, words, norms, idx, text)

    def _hits(self, raw: list[tuple[int, str, int, int]],
              excluded: dict[int, list[tuple[int, int]]], skip: frozenset[int] | set[int],
              words: Sequence[str], norms: Sequence[str], idx: Sequence[int],
              text: str) -> list[Hit]:
        hits: list[Hit] = []
        seen: set[tuple[int, int, int]] = set()
        recognizers = self.recognizers
        for rec_idx, pattern, t0, t1 in raw:
            key = (rec_idx, t0, t1)
            if key in seen:
                continue
            seen.add(key)
            if excluded and any(a < t1 and t0 < b for a, b in excluded.get(rec_idx, ())):
                continue
            if t0 in skip and all(t in skip for t in range(t0, t1)):
                continue
            rec = recognizers[rec_idx]
            start = idx[t0]
            end = idx[t1 - 1] + len(words[t1 - 1])
            negated_by = self._negator(norms, t0) if rec.negatable else None
            context_word = _context_word(rec, norms, t0, t1) if rec.context else None
            score = rec.score
            if context_word:
                score = min(1.0, score + 0.1)
            hits.append(_new_hit(Hit, (rec, pattern, t0, t1, start, end, text[start:end], score,
                                       negated_by, context_word)))
        if len(hits) > 1:
            hits.sort(key=_HIT_ORDER)
        return hits

    def _excluded_spans(self, view: str, starts: list[int],
                        wanted: set[int]) -> dict[int, list[tuple[int, int]]]:
        """Spans where a recognizer must not fire ('flikker op'); only for recognizers that hit."""
        out: dict[int, list[tuple[int, int]]] = {}
        for rec_idx in wanted:
            for m in self._excluded_phrases[rec_idx].finditer(view):
                if m.end() > m.start():
                    t0 = _tok_at(starts, m.start())
                    out.setdefault(rec_idx, []).append((t0, _tok_at(starts, m.end() - 1) + 1))
        return out

    def _negator(self, norms: Sequence[str], t0: int) -> str | None:
        """A 'geen'/'niet'/'nooit' shortly before the match cancels it ('geen bedreiging geuit')."""
        negators = self.negators
        for j in range(max(0, t0 - self.negation_window), t0):
            if norms[j] in negators:
                # A clause break between negator and match ends its scope.
                if any(norms[k] in _CLAUSE_BREAKS for k in range(j + 1, t0)):
                    continue
                return norms[j]
        return None


_CLAUSE_BREAKS = frozenset({".", ";", ":", "!", "?", ",", "maar", "wel"})
_new_hit = tuple.__new__  # Hit(...) goes through a Python-level __new__; hits are many


_HIT_ORDER = attrgetter("start", "end", "recognizer.name")  # C-level sort key


def _view(norms: Sequence[str]) -> tuple[str, list[int]]:
    """The note as ' tok tok tok ' and the start offset of every token in that string."""
    starts = list(accumulate([len(n) + 1 for n in norms], initial=1))
    starts.pop()
    return " " + " ".join(norms) + " ", starts


def _tok_at(starts: list[int], offset: int) -> int:
    return max(0, bisect_right(starts, offset) - 1)


def _context_word(rec: Recognizer, norms: Sequence[str], t0: int, t1: int) -> str | None:
    if not rec.context:
        return None
    lo, hi = max(0, t0 - rec.window), min(len(norms), t1 + rec.window)
    for j in range(lo, hi):
        if (j < t0 or j >= t1) and norms[j] in rec.context:
            return norms[j]
    return None


# -------------------------------------------------------------------- loading
def _expand(pattern: str, lexicon: dict[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in lexicon:
            raise ValueError(f"onbekende lexicon-naam {{{name}}} in patroon {pattern!r}")
        return f"(?:{lexicon[name]})"

    # {name} with a lower-case identifier; regex quantifiers like {1,3} are left alone.
    return re.sub(r"\{([a-z_][a-z0-9_]*)\}", repl, pattern)


def _alternation(words: Iterable[str]) -> str:
    return "|".join(sorted({w.strip() for w in words if w.strip()}, key=lambda w: (-len(w), w)))


def load_recognizers(directory: Path) -> RecognizerSet:
    """Read every *.yaml in `directory` (sorted, so feature order is stable) and compile it."""
    import hashlib

    docs: list[dict[str, Any]] = []
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw)
        data = yaml.safe_load(raw) or {}
        data["_file"] = path.name
        docs.append(data)

    lexicon: dict[str, str] = {}
    for data in docs:
        for name, words in (data.get("lexicon") or {}).items():
            lexicon[name] = words if isinstance(words, str) else _alternation(words)
    # Lexicon entries may refer to each other ({curse} inside {slur_prefix}).
    for _ in range(3):
        lexicon = {k: _expand(v, lexicon) for k, v in lexicon.items()}

    negators: set[str] = set()
    window = 3
    recs: list[Recognizer] = []
    rs = RecognizerSet(recognizers=recs, negators=frozenset(), negation_window=window)
    for data in docs:
        neg = data.get("negation")
        if neg:
            negators.update(neg.get("words", []))
            window = int(neg.get("window", window))
        for spec in data.get("recognizers") or []:
            _add_recognizer(rs, spec, lexicon, data["_file"])
    rs.negators = frozenset(negators)
    rs.negation_window = window
    rs.source_digest = digest.hexdigest()[:12]
    rs.compile_prefilter()
    return rs


def _add_recognizer(rs: RecognizerSet, spec: dict[str, Any], lexicon: dict[str, str],
                    source: str) -> None:
    kind = spec["kind"]
    if kind not in KINDS:
        raise ValueError(f"{source}: recognizer {spec.get('name')}: onbekende kind {kind!r}")
    if any(r.name == spec["name"] for r in rs.recognizers):
        raise ValueError(f"{source}: recognizer {spec['name']} bestaat al")
    rec = Recognizer(
        name=spec["name"],
        kind=kind,
        score=float(spec.get("score", 0.5)),
        explanation=spec["explanation"],
        ground=spec.get("ground"),
        form=spec.get("form"),
        severity=int(spec.get("severity", 0)),
        effect=spec.get("effect"),
        negatable=bool(spec.get("negatable", kind in ("slur", "act", "exclusion", "attribution"))),
        context=frozenset(spec.get("context", ())),
        window=int(spec.get("window", 5)),
    )
    rec_idx = len(rs.recognizers)
    rs.recognizers.append(rec)
    for pat in spec.get("patterns", []):
        pname = pat.get("name", "patroon")
        for word in pat.get("tokens", []):
            w = normalise_token(str(word))
            rs._terms.setdefault(w, []).append((rec_idx, pname))
            if pat.get("variants", kind in ("slur", "identity", "insult")) and len(w) >= 5:
                # Spelling variants with a doubled or single letter ('marrokaan').
                rs._squeezed_terms.setdefault(squeeze(w), []).append((rec_idx, pname))
        if "token_regex" in pat:
            exclude = pat.get("exclude")
            rs._token_patterns.append(_TokenPattern(
                rec_idx, pname, re.compile(_expand(pat["token_regex"], lexicon)),
                re.compile(_alternation(exclude)) if exclude else None))
        if "regex" in pat:
            rs._phrase_patterns.append(_PhrasePattern(
                rec_idx, pname, re.compile(_expand(pat["regex"], lexicon))))
    if spec.get("exclude_phrases"):
        rs._excluded_phrases[rec_idx] = re.compile(
            "|".join(_expand(p, lexicon) for p in spec["exclude_phrases"]))
