"""What the recognizers found in one note, summarised for the rules and the classifier."""

from __future__ import annotations

from dataclasses import dataclass, field

from .recognizers import Hit

# Kinds whose hits are signals of hostility (as opposed to identity mentions and context).
HOSTILE_KINDS = frozenset({"slur", "act", "exclusion"})


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
    # Filled lazily by the summary helpers below.
    _active: list[Hit] | None = field(default=None, repr=False)

    @property
    def active(self) -> list[Hit]:
        """Hits that count: not cancelled by a negator."""
        if self._active is None:
            self._active = [h for h in self.hits if h.negated_by is None]
        return self._active

    def of_kind(self, *kinds: str) -> list[Hit]:
        return [h for h in self.active if h.recognizer.kind in kinds]

    def effects(self) -> set[str]:
        return {h.recognizer.effect for h in self.active
                if h.recognizer.kind == "context" and h.recognizer.effect}

    def classifier_norms(self) -> list[str]:
        """Normalised tokens for the classifier, personal names replaced by 'naam'."""
        if not self.names:
            return [t for t in self.norms if t]
        return ["naam" if i in self.names else t for i, t in enumerate(self.norms) if t]

    def classifier_lemmas(self) -> list[str]:
        if not self.names:
            return [t for t in self.lemmas if t]
        return ["naam" if i in self.names else t for i, t in enumerate(self.lemmas) if t]

    def lemma_text(self) -> str:
        """Lemmas for the classifier, names masked (see normalize.name_positions)."""
        return " ".join("naam" if i in self.names else t for i, t in enumerate(self.lemmas))

    def norm_text(self) -> str:
        return " ".join("naam" if i in self.names else t for i, t in enumerate(self.norms))
