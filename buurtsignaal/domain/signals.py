"""What the detector says about one note. Shared by the CLI, the streaming detector and the notifier."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Evidence:
    """A span of the note text that made a recognizer fire, with a plain-Dutch explanation."""

    start: int
    end: int
    text: str
    recognizer: str
    explanation: str


@dataclass(frozen=True, slots=True)
class Detection:
    """The detector's verdict on one note: a signal for human review, never a decision."""

    id: str
    flag: bool
    score: float
    grounds: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()
    severity: int = 0
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    model_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the `buurtsignaal detect` contract."""
        # Spelled out instead of dataclasses.asdict (recursive deep copy): this runs for every
        # scored note, and asdict was a tenth of the streaming detector's CPU (decision 0038).
        return {
            "id": self.id,
            "flag": self.flag,
            "score": round(float(self.score), 4),
            "grounds": list(self.grounds),
            "forms": list(self.forms),
            "severity": self.severity,
            "evidence": [{"start": e.start, "end": e.end, "text": e.text, "recognizer": e.recognizer,
                          "explanation": e.explanation} for e in self.evidence],
            "model_version": self.model_version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Detection:
        return cls(
            id=str(data["id"]),
            flag=bool(data["flag"]),
            score=float(data["score"]),
            grounds=tuple(data.get("grounds", ())),
            forms=tuple(data.get("forms", ())),
            severity=int(data.get("severity", 0)),
            evidence=tuple(Evidence(**e) for e in data.get("evidence", ())),
            model_version=str(data.get("model_version", "")),
        )


class NoteDetector(Protocol):
    """Anything that scores notes. The default is the offline recognizer + classifier detector;
    a transformer-based scorer can implement the same protocol where weights are available."""

    model_version: str

    def detect_many(self, items: Iterable[tuple[str, str]]) -> Iterator[Detection]:
        """Score (id, text) pairs, yielding one Detection per item in input order."""
        ...
