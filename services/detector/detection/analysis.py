"""What the recognizers found in one note, summarised for the rules and the classifier."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .recognizers import Hit

# Kinds whose hits are signals of hostility (as opposed to identity mentions and context).
HOSTILE_KINDS = frozenset({"slur", "act", "exclusion"})
_NONE: list[Hit] = []  # shared empty result of of_kind (never modified)


@dataclass(slots=True)
class NoteAnalysis:
    """Hits of one note plus the normalised token view the classifier reads."""

    text: str
    norms: list[str]
    lemmas: list[str]
    hits: list[Hit]
    has_quote: bool = False
    words: list[str] = field(default_factory=list)  # token texts as written
    starts: list[int] = field(default_factory=list)  # their character offsets
    names: set[int] = field(default_factory=set)  # token indices of personal names
    rule_score: float | None = None  # cached by rules.rule_score
    # Filled lazily by the summary helpers below (the rules ask the same questions many times).
    _active: list[Hit] | None = field(default=None, repr=False)
    _by_kind: dict[str, list[Hit]] | None = field(default=None, repr=False)
    _effects: frozenset[str] | None = field(default=None, repr=False)

    @property
    def active(self) -> list[Hit]:
        """Hits that count: not cancelled by a negator."""
        if self._active is None:
            self._active = [h for h in self.hits if h.negated_by is None]
        return self._active

    def of_kind(self, *kinds: str) -> list[Hit]:
        """Active hits of these kinds, in note order. (Do not modify the list.)"""
        if len(kinds) != 1:
            return [h for h in self.active if h.recognizer.kind in kinds]
        if self._by_kind is None:
            by_kind: dict[str, list[Hit]] = {}
            for h in self.active:
                by_kind.setdefault(h.recognizer.kind, []).append(h)
            self._by_kind = by_kind
        return self._by_kind.get(kinds[0], _NONE)

    def active_kinds(self) -> Iterable[str]:
        """Kinds with at least one active hit."""
        if self._by_kind is None:
            self.of_kind("")
        return self._by_kind.keys()  # type: ignore[union-attr]

    def effects(self) -> frozenset[str]:
        if self._effects is None:
            self._effects = frozenset(h.recognizer.effect for h in self.of_kind("context")
                                      if h.recognizer.effect)
        return self._effects

    def classifier_norms(self) -> list[str]:
        """Normalised tokens for the classifier, personal names replaced by 'naam'.
        (Callers must not modify the list: without names it is `norms` itself.)"""
        return _masked(self.norms, self.names)

    def classifier_lemmas(self) -> list[str]:
        return _masked(self.lemmas, self.names)

    def lemma_text(self) -> str:
        """Lemmas for the classifier, names masked (see normalize.name_positions)."""
        return " ".join("naam" if i in self.names else t for i, t in enumerate(self.lemmas))

    def norm_text(self) -> str:
        return " ".join("naam" if i in self.names else t for i, t in enumerate(self.norms))


def _masked(tokens: list[str], names: set[int]) -> list[str]:
    """Tokens without empty ones, names replaced by 'naam'; no copy when nothing changes."""
    if names:
        tokens = list(tokens)
        for i in names:
            if tokens[i]:
                tokens[i] = "naam"
    if "" in tokens:
        return [t for t in tokens if t]
    return tokens
