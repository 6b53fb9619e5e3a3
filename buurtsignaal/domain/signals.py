"""What the detector says about one note. Shared by the CLI, the streaming detector and the notifier."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
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
        data = asdict(self)
        data["grounds"] = list(self.grounds)
        data["forms"] = list(self.forms)
        data["evidence"] = [asdict(e) for e in self.evidence]
        data["score"] = round(float(self.score), 4)
        return data

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
