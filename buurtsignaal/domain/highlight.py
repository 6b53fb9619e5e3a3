"""Split a note into plain and highlighted segments for the review UI (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Segment:
    text: str
    explanation: str | None = None  # set when this segment is evidence
    recognizer: str | None = None


def segments(text: str, evidence: list[dict[str, Any]]) -> list[Segment]:
    """Evidence spans become highlighted segments; overlaps merge into the earliest span."""
    spans = sorted(
        (e for e in evidence if 0 <= e["start"] < e["end"] <= len(text)),
        key=lambda e: (e["start"], -e["end"]),
    )
    out: list[Segment] = []
    pos = 0
    for span in spans:
        start, end = span["start"], span["end"]
        if end <= pos:
            continue
        start = max(start, pos)
        if start > pos:
            out.append(Segment(text[pos:start]))
        out.append(Segment(text[start:end], span["explanation"], span["recognizer"]))
        pos = end
    if pos < len(text):
        out.append(Segment(text[pos:]))
    return out
