"""Forgetting in the early-warning state: erasure (AVG art. 17) and retention reach derived state.

Pure: no I/O. The streaming detector applies an erasure.v1 event to its tables with these
functions (streaming.py); it writes the new state, or deletes the key (a tombstone in the
changelog) when nothing is left, so a restarted worker recovers the state without the notes.

- A household erasure drops the household's whole entry.
- Retention drops the listed notes from the household's entry.
- In an area's state, the household's observations (erasure: all of them, matched on the
  household key each observation keeps) or the listed notes (retention) are dropped.
- Open alerts lose the forgotten note ids; an alert left without notes is dropped: a later
  firing then starts a new alert instead of joining one whose evidence is gone.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from .engine import KeyState


@dataclass(frozen=True)
class Forgotten:
    state: dict[str, Any] | None  # the state to store; None: delete the key
    notes: int  # observations removed
    changed: bool  # False: leave the table alone (no changelog write)


UNCHANGED = Forgotten(None, 0, False)


def forget_notes(raw: dict[str, Any] | None, note_ids: Collection[str], *,
                 subject_key: str = "") -> Forgotten:
    """Remove the notes `note_ids`, and every observation of household `subject_key` when given
    (area state keeps the household key per observation), from one key's state."""
    if not raw:
        return UNCHANGED
    ids = set(note_ids)
    state = KeyState.from_dict(raw)

    def gone(note_id: str, subject: str = "") -> bool:
        return note_id in ids or (bool(subject_key) and subject == subject_key)

    kept = [o for o in state.notes if not gone(o.note_id, o.subject_key)]
    removed = {o.note_id for o in state.notes} - {o.note_id for o in kept}
    alerts_before = [list(a.note_ids) for a in state.alerts]
    for alert in state.alerts:
        alert.note_ids = [n for n in alert.note_ids if n not in ids and n not in removed]
    state.alerts = [a for a in state.alerts if a.note_ids]
    alerts_changed = [list(a.note_ids) for a in state.alerts] != alerts_before
    if not removed and not alerts_changed:
        return UNCHANGED
    state.notes = kept
    if not kept:
        return Forgotten(None, len(removed), True)
    return Forgotten(state.to_dict(), len(removed), True)


def forget_household(raw: dict[str, Any] | None) -> Forgotten:
    """Erasure: the household's entry goes entirely (also when it held no notes)."""
    if raw is None:
        return UNCHANGED
    return Forgotten(None, len(raw.get("notes", [])), True)
