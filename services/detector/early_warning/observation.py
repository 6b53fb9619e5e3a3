"""What the early warning remembers of one note: event time, verdict and the hostile acts seen.

Built from a Detection (backtest) or a note-scored.v1 event (streaming) by the same function, so
both paths feed the rules identical input. Never holds note text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from buurtsignaal.domain.signals import Detection, Evidence
from services.detector.detection.explain import is_reason

from .config import WeakSignals


@dataclass(frozen=True, slots=True)
class Observation:
    note_id: str
    at: float  # occurred_at as UTC epoch seconds: event time, not arrival time
    flag: bool
    severity: int = 0
    grounds: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()  # forms suggested by the evidence of an unflagged note
    child: bool = False  # a child is named as the target
    subject_key: str = ""  # kept in area state only, to count households; never emitted there

    @property
    def sort_key(self) -> tuple[float, str]:
        return (self.at, self.note_id)

    def signal_forms(self) -> tuple[str, ...]:
        """The forms this note stands for: the detector's when flagged, else the weak ones."""
        return self.forms if self.flag else self.weak

    def to_row(self) -> list[Any]:
        return [self.at, self.note_id, int(self.flag), self.severity, list(self.grounds),
                list(self.forms), list(self.weak), int(self.child), self.subject_key]

    @classmethod
    def from_row(cls, row: list[Any]) -> Observation:
        at, note_id, flag, severity, grounds, forms, weak, child, subject_key = row
        return cls(note_id, float(at), bool(flag), int(severity), tuple(grounds), tuple(forms),
                   tuple(weak), bool(child), subject_key)


def parse_time(value: str) -> float:
    """ISO 8601 with a UTC offset -> epoch seconds. A missing offset is an error, not a guess."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"occurred_at zonder UTC-offset: {value!r}")
    return parsed.timestamp()


def format_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


def _recognizer(evidence: Evidence) -> str:
    return evidence.recognizer.split("/", 1)[0]


def weak_signals(evidence: tuple[Evidence, ...], cfg: WeakSignals) -> tuple[tuple[str, ...], bool]:
    """(forms of hostile acts in the evidence, whether a child is the target).

    Only evidence that counts (not negated, not a neutral mention); a context that says the note
    is not an incident (denial, counter-speech, unfounded) cancels the weak forms.
    """
    counted = [e for e in evidence if is_reason(e)]
    names = {_recognizer(e) for e in evidence if "niet meegeteld" not in e.explanation}
    child = any(_recognizer(e) in cfg.child_recognizers for e in counted)
    if names & set(cfg.cancelled_by):
        return (), False
    forms = {cfg.recognizers[_recognizer(e)] for e in counted if _recognizer(e) in cfg.recognizers}
    return tuple(sorted(forms)), child


def from_detection(detection: Detection, occurred_at: str, cfg: WeakSignals,
                   subject_key: str = "") -> Observation:
    forms, child = weak_signals(detection.evidence, cfg)
    return Observation(
        note_id=detection.id,
        at=parse_time(occurred_at),
        flag=detection.flag,
        severity=detection.severity if detection.flag else 0,
        grounds=tuple(detection.grounds) if detection.flag else (),
        forms=tuple(detection.forms) if detection.flag else (),
        weak=() if detection.flag else forms,
        child=child,
        subject_key=subject_key,
    )


def from_scored_event(event: dict[str, Any], cfg: WeakSignals) -> Observation:
    """The streaming path: a note-scored.v1 event (already schema-validated)."""
    detection = Detection.from_dict({**event, "id": event["note_id"]})
    return from_detection(detection, event["occurred_at"], cfg, event["subject_key"])
