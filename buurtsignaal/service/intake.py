"""Turning raw submissions (HTTP body or Kafka message) into validated notes, or clear errors.

Pure: no I/O. The HTTP endpoint and the Kafka consumer share this code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from buurtsignaal.domain.notes import Address, IncomingNote
from buurtsignaal.schemas import parse_occurred_at, validate


@dataclass(frozen=True)
class Rejected:
    errors: list[dict[str, str]]


def _to_note(data: dict[str, Any], tenant: str, source: str, occurred_at: datetime) -> IncomingNote:
    return IncomingNote(
        tenant=tenant,
        external_id=data["external_id"],
        occurred_at=occurred_at,
        text=data["text"],
        author_role=data["author_role"],
        address=Address.from_dict(data["address"]),
        municipality_code=data["municipality_code"],
        category=data.get("category"),
        source=source,
    )


def _check_times(notes: Any, prefix: str) -> tuple[list[datetime], list[dict[str, str]]]:
    """Parse every occurred_at that is a string (the schema reports the other cases)."""
    times: list[datetime] = []
    errors: list[dict[str, str]] = []
    for i, note in enumerate(notes if isinstance(notes, list) else []):
        value = note.get("occurred_at") if isinstance(note, dict) else None
        if not isinstance(value, str):
            continue
        try:
            times.append(parse_occurred_at(value))
        except ValueError as exc:
            errors.append({"loc": f"{prefix}[{i}].occurred_at", "message": str(exc)})
    return times, errors


def _merge(*lists: list[dict[str, str]]) -> list[dict[str, str]]:
    """One message per field: the schema's wins over the date parser's."""
    merged: dict[str, dict[str, str]] = {}
    for errors in lists:
        for e in errors:
            merged.setdefault(e["loc"], e)
    return sorted(merged.values(), key=lambda e: e["loc"])


def parse_batch(body: Any, tenant: str, source: str = "http") -> list[IncomingNote] | Rejected:
    """Validate a whole `{"notes": [...]}` body: every wrong field is reported, nothing half-accepted."""
    schema_errors = validate("note-batch.v1", body)
    times, time_errors = _check_times(body.get("notes") if isinstance(body, dict) else None, "notes")
    if schema_errors or time_errors:
        return Rejected(_merge(schema_errors, time_errors))
    return [_to_note(n, tenant, source, t) for n, t in zip(body["notes"], times, strict=True)]


def parse_incoming_message(message: Any) -> IncomingNote | Rejected:
    """Validate one message from the notes.incoming topic (envelope with tenant + note)."""
    schema_errors = validate("incoming-note.v1", message)
    note = message.get("note") if isinstance(message, dict) else None
    times, time_errors = _check_times([note], "note")
    time_errors = [{**e, "loc": "note.occurred_at"} for e in time_errors]
    if schema_errors or time_errors:
        return Rejected(_merge(schema_errors, time_errors))
    return _to_note(message["note"], message["tenant"], "kafka", times[0])
