"""erasure.v1 events: what the erasure command and the retention purge tell derived state to forget.

Pure (no I/O). An event names a household key, the note ids removed from PostgreSQL and the area
keys whose state may hold them; never text or an address. Long id lists are split over several
events (the schema caps both lists at 1,000), each complete on its own.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Reason = Literal["erasure", "retention"]
MAX_IDS = 1000


@dataclass(frozen=True)
class RemovedNote:
    """A note the database work removed: enough to find it in the detector's state."""

    note_id: str
    subject_key: str
    area_key: str


def forget_events(reason: Reason, removed: Iterable[RemovedNote], at: datetime, *,
                  households: Iterable[str] = (), max_ids: int = MAX_IDS) -> list[dict[str, Any]]:
    """One or more events per household: `households` are forgotten entirely (erasure), the other
    households only lose the listed notes (retention). A whole-household event is sent even when
    the database held no notes any more: the detector may still have some. Each event lists the
    areas of its own notes, so a split event is complete on its own."""
    whole = set(households)
    by_household: dict[str, dict[str, str]] = defaultdict(dict)  # subject -> note id -> area
    for note in removed:
        by_household[note.subject_key][str(note.note_id)] = note.area_key
    events: list[dict[str, Any]] = []
    for key in sorted(set(by_household) | whole):
        notes = sorted(by_household[key].items())
        chunks = [notes[i:i + max_ids] for i in range(0, len(notes), max_ids)] or [[]]
        for chunk in chunks:
            events.append({
                "schema": "erasure.v1",
                "event_id": uuid.uuid4().hex,
                "reason": reason,
                "subject_key": key,
                "household": key in whole,
                "note_ids": [note_id for note_id, _ in chunk],
                "area_keys": sorted({area for _, area in chunk}),
                "requested_at": at.isoformat(),
            })
    return events


def summary(events: list[dict[str, Any]]) -> dict[str, int]:
    """What was sent, in counts only (for erasure_log, retention_runs and the command's report)."""
    return {
        "events": len(events),
        "households": len({e["subject_key"] for e in events}),
        "note_ids": sum(len(e["note_ids"]) for e in events),
        "area_keys": len({a for e in events for a in e["area_keys"]}),
    }
