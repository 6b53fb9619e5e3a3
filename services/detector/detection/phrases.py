"""Phrase patterns ('regex' in the YAML) matched at few positions, with the reference's result.

The reference semantics is a scan: every phrase pattern's leftmost, non-overlapping matches
(`finditer`) over the note as ' tok tok tok '. Scanning ~110 alternation-heavy regexes per note
costs milliseconds, so (see prefilter.py):

1. From each regex, the literal prefixes every match starts with ('op de ', 'hoort ', 'bande').
   A token form's candidate patterns are those whose prefix, cut after its first word, fits the
   token; cached per form. For prefixes that go on into the next word, one `startswith` on the
   note decides. A pattern is only tried (`match`) where a prefix fits.
2. Patterns whose start cannot be derived are scanned over the whole note, but only when the
   note contains the literals every match contains somewhere (gates: 'keuken', 'aanrecht').
   (For the other patterns such a check costs more than the few attempts it would save.)

Both only skip attempts that cannot match, so every pattern finds the same matches as the
scan. Their order matters too: when two patterns of one recognizer match the same words, the
first one names the hit. The order is the one the detector has always used (scanned patterns
first, by pattern; then by position, then by the length of the shortest matching prefix up to
the first optional part, then by pattern), kept by a sort, so that reports stay identical.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from .prefilter import (
    PREFIX_LEN,
    gate,
    literal_prefixes,
    passes,
    starts_at_word,
    token_starts,
)

# Per token: (offset in the token, pattern, rank) where a match may start, in offset order;
# rank orders matches that start at one position (see PhraseIndex._rank).
Candidates = tuple[tuple[int, int, int], ...]
_MISSING = object()


@dataclass(slots=True)
class PhraseIndex:
    regexes: list[re.Pattern[str]]
    # first-word key -> {pattern: None (a whole prefix fits) or full prefixes to check}
    _by_first_word: dict[str, dict[int, tuple[str, ...] | None]] = field(default_factory=dict)
    _scanned: tuple[int, ...] = ()  # start not derivable: finditer over the note
    _first: frozenset[int] = frozenset()  # reported with the scanned ones (see build)
    # Prefixes up to the first optional part: they decide the order of matches at one
    # position (the shortest that fits first; see _rank).
    _order_prefixes: list[frozenset[str]] = field(default_factory=list)
    _gates: list[tuple[tuple[str, ...], ...]] = field(default_factory=list)
    _by_norm: dict[str, Candidates | None] = field(default_factory=dict)
    _by_pair: dict[tuple[str, str], Candidates] = field(default_factory=dict)
    _first_words: dict[str, list[tuple[int, int, tuple[str, ...] | None]]] = field(
        default_factory=dict)

    @classmethod
    def build(cls, regexes: list[re.Pattern[str]]) -> PhraseIndex:
        """Patterns whose start only the longer derivation finds, at a word boundary, are tried
        at their candidate positions but reported where they were when they were scanned."""
        index = cls(regexes)
        scanned, first = [], []
        table: dict[str, dict[int, set[str] | None]] = {}
        for j, rx in enumerate(regexes):
            ordered = literal_prefixes(rx.pattern)
            refined = literal_prefixes(rx.pattern, optional=True)
            index._order_prefixes.append(frozenset(ordered or ()))
            if ordered is None:
                if refined is None or not starts_at_word(rx.pattern):
                    scanned.append(j)
                    continue
                first.append(j)
            for pre in refined if refined is not None else ordered:  # type: ignore[union-attr]
                cut = pre.find(" ")
                if cut == -1 or cut == len(pre) - 1:  # within one word: fits on its own
                    table.setdefault(pre, {})[j] = None
                    continue
                entry = table.setdefault(pre[:cut + 1], {})
                if j not in entry or entry[j] is not None:
                    checks = entry.get(j, set())
                    checks.add(pre)  # type: ignore[union-attr]
                    entry[j] = checks
        index._by_first_word = {
            k: {j: (None if v is None else tuple(sorted(v))) for j, v in entry.items()}
            for k, entry in table.items()}
        index._scanned = tuple(scanned)
        index._first = frozenset(first)
        index._gates = [gate(rx) for rx in regexes]
        return index

    def candidates(self, norm: str) -> Candidates | None:
        """(offset, pattern) pairs that may start in this token form, in offset order; None
        when that depends on the next token (then `pair_candidates`). Cached per form."""
        hit = self._by_norm.get(norm, _MISSING)
        if hit is not _MISSING:
            return hit  # type: ignore[return-value]
        found = self._first_word(norm)
        result = (None if any(checks is not None for _, _, checks in found)
                  else tuple((offset, j, self._rank(j, norm[offset:] + " "))
                             for offset, j, _ in found))
        if len(self._by_norm) > 500_000:  # bounded in a long-running service
            self._by_norm.clear()
        self._by_norm[norm] = result
        return result

    def pair_candidates(self, norm: str, following: str, view: str = "",
                        pos: int = 0) -> Candidates:
        """`candidates` of a token form whose prefixes go on into the next word: cached per pair
        of forms, and cheap to compute from the per-form look-up (also cached). `view` and
        `pos` (the token's place in the note) are needed when a form contains a space."""
        key = (norm, following)
        hit = self._by_pair.get(key)
        if hit is not None:
            return hit
        found = self._first_words.get(norm)
        if found is None:
            found = self._first_words[norm] = self._first_word(norm)
        if " " in norm or " " in following:
            # Whitespace tokens: a prefix could reach into a third token, which `local` does
            # not hold. Check against the note itself; not cached.
            return tuple((offset, j, self._rank(j, view[pos + offset:pos + offset + PREFIX_LEN]))
                         for offset, j, checks in found
                         if checks is None or view.startswith(checks, pos + offset))
        local = f"{norm} {following} "
        result = tuple((offset, j, self._rank(j, local[offset:]))
                       for offset, j, checks in found
                       if checks is None or local.startswith(checks, offset))
        if len(self._by_pair) > 1_000_000:
            self._by_pair.clear()
            self._first_words.clear()
        self._by_pair[key] = result
        return result

    def _rank(self, j: int, text: str) -> int:
        """Length of the shortest ordering prefix of pattern j that `text` starts with."""
        prefixes = self._order_prefixes[j]
        for n in range(1, min(len(text), PREFIX_LEN) + 1):
            if text[:n] in prefixes:
                return n
        return 0  # no match can start here (or a pattern without ordering prefixes)

    def _first_word(self, norm: str) -> list[tuple[int, int, tuple[str, ...] | None]]:
        """(offset, pattern, full prefixes to check or None) by the first word of the prefixes,
        in offset order (a pattern must be tried left to right)."""
        found: dict[tuple[int, int], tuple[str, ...] | None] = {}
        table = self._by_first_word
        for offset, rest in token_starts(norm):
            keys = [rest[:n] for n in range(1, min(len(rest), PREFIX_LEN) + 1)]
            keys.append(rest + " ")
            for k in keys:
                for j, checks in table.get(k, {}).items():
                    key = (offset, j)
                    if key in found and found[key] is None:
                        continue
                    if checks is None:
                        found[key] = None
                    else:
                        found[key] = tuple(sorted({*(found.get(key) or ()), *checks}))
        return [(offset, j, checks) for (offset, j), checks in found.items()]

    def spans(self, view: str, norms: Sequence[str], starts: Sequence[int],
              candidates: Sequence[Candidates | None] | None) -> list[tuple[int, int, int]]:
        """(pattern, start, end) of all matches in the view; `candidates` per token, or None to
        scan every pattern (the reference, for tests)."""
        regexes = self.regexes
        out: list[tuple[int, int, int]] = []
        if candidates is None:
            for j, rx in enumerate(regexes):
                out.extend((j, m.start(), m.end()) for m in rx.finditer(view))
            return out
        gates = self._gates
        for j in self._scanned:
            if passes(gates[j], view):
                out.extend((j, m.start(), m.end()) for m in regexes[j].finditer(view))
        first = self._first
        later: list[tuple[int, int, int]] = []
        reached: dict[int, int] = {}  # pattern -> end of its last match (no overlaps)
        pair_get = self._by_pair.get
        last = len(norms) - 1
        for i, pairs in enumerate(candidates):
            if pairs is None:
                key = (norms[i], norms[i + 1] if i < last else "")
                pairs = pair_get(key)
                if pairs is None:
                    pairs = self.pair_candidates(*key, view, starts[i])
            tok_start = starts[i]
            for offset, j, rank in pairs:
                pos = tok_start + offset
                if pos < reached.get(j, -1):
                    continue
                m = regexes[j].match(view, pos)
                if m is not None:
                    end = reached[j] = m.end()
                    if j in first:
                        out.append((j, pos, end))
                    else:
                        later.append((pos, rank, j, end))
        if first:
            out.sort(key=_PATTERN_THEN_START)
        if later:
            later.sort()
            out.extend([(j, pos, end) for pos, _, j, end in later])
        return out


_PATTERN_THEN_START = itemgetter(0, 1)
