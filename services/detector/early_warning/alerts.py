"""Alert events (schemas/alert.v1.json) and the backtest's JSON line, from engine Emissions."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from .engine import Emission
from .observation import format_time


def event_id(emission: Emission) -> str:
    """One event per alert and level: a replay re-sends the same id, the sink upserts."""
    return hashlib.sha256(f"{emission.alert_id}|{emission.level}".encode()).hexdigest()[:32]


def alert_event(emission: Emission, *, ruleset_version: str, detected_at: datetime) -> dict[str, Any]:
    event: dict[str, Any] = {
        "schema": "alert.v1",
        "event_id": event_id(emission),
        "alert_id": emission.alert_id,
        "scope": emission.scope,
        "municipality_code": emission.municipality_code,
        "level": emission.level,
        "previous_level": emission.previous_level,
        "rule": emission.rule,
        "note_ids": list(emission.note_ids),
        "raised_at": format_time(emission.raised_at),
        "window_start": format_time(emission.window_start),
        "summary": emission.summary,
        "ruleset_version": ruleset_version,
        "detected_at": detected_at.isoformat(),
    }
    if emission.scope == "household":
        event["subject_key"] = emission.key
    else:
        event["area_key"] = emission.key
        event["households"] = emission.households
        event["ground"] = emission.ground
    return event


def backtest_line(emission: Emission) -> dict[str, Any]:
    """The stable `buurtsignaal backtest` output contract (plus alert_id and summary)."""
    key_field = "subject_key" if emission.scope == "household" else "area_key"
    return {
        key_field: emission.key,
        "level": emission.level,
        "rule": emission.rule,
        "note_ids": list(emission.note_ids),
        "raised_at": format_time(emission.raised_at),
        "alert_id": emission.alert_id,
        "summary": emission.summary,
    }


def line_from_event(event: dict[str, Any]) -> dict[str, Any]:
    """The backtest line an alert.v1 event corresponds to (to compare streaming with backtest)."""
    key_field = "subject_key" if event["scope"] == "household" else "area_key"
    return {key_field: event[key_field], "level": event["level"], "rule": event["rule"],
            "note_ids": event["note_ids"], "raised_at": event["raised_at"],
            "alert_id": event["alert_id"], "summary": event["summary"]}
