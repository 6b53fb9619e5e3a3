"""Event payloads on the bus (see schemas/). Pure functions: dicts in, dicts out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from buurtsignaal.domain.signals import Detection


def note_accepted(
    *,
    note_id: uuid.UUID,
    tenant: str,
    occurred_at: datetime,
    received_at: datetime,
    text: str,
    author_role: str,
    subject_key: str,
    area_key: str,
    municipality_code: str,
    correlation_id: str,
) -> dict[str, Any]:
    return {
        "schema": "note-accepted.v1",
        "event_id": str(uuid.uuid5(note_id, "accepted")),
        "note_id": str(note_id),
        "tenant": tenant,
        "occurred_at": occurred_at.isoformat(),
        "received_at": received_at.isoformat(),
        "text": text,
        "author_role": author_role,
        "subject_key": subject_key,
        "area_key": area_key,
        "municipality_code": municipality_code,
        "correlation_id": correlation_id,
    }


def note_scored(accepted: dict[str, Any], detection: Detection, scored_at: datetime) -> dict[str, Any]:
    result = detection.to_dict()
    return {
        "schema": "note-scored.v1",
        "event_id": str(uuid.uuid5(uuid.UUID(accepted["note_id"]), "scored:" + detection.model_version)),
        "note_id": accepted["note_id"],
        "subject_key": accepted["subject_key"],
        "area_key": accepted["area_key"],
        "municipality_code": accepted["municipality_code"],
        "occurred_at": accepted["occurred_at"],
        "flag": result["flag"],
        "score": result["score"],
        "grounds": result["grounds"],
        "forms": result["forms"],
        "severity": result["severity"],
        "evidence": result["evidence"],
        "model_version": result["model_version"],
        "scored_at": scored_at.isoformat(),
        "correlation_id": accepted["correlation_id"],
    }


def dead_letter(
    *,
    source_topic: str,
    partition: int,
    offset: int,
    payload_sha256: str,
    reason: str,
    errors: list[str],
    consumer: str,
    at: datetime,
) -> dict[str, Any]:
    return {
        "schema": "dead-letter.v1",
        "source_topic": source_topic,
        "partition": partition,
        "offset": offset,
        "payload_sha256": payload_sha256,
        "reason": reason,
        "errors": errors,
        "consumer": consumer,
        "dead_lettered_at": at.isoformat(),
    }
