"""Scenario notes as note-accepted.v1 events (for the broker) and as backtest records."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from buurtsignaal.config import REPO_ROOT
from services.detector.early_warning.observation import parse_time

TUNE = REPO_ROOT / "data" / "scenarios" / "tune.jsonl"
_NS = uuid.UUID("5b0e6c1e-2f39-4c55-9f0e-7f3f1c0a9e11")

# Three households of one area, same ground within 30 days: an area signal (watch).
AREA_KEY = "a" * 32
AREA_NOTES = [
    ("area-1", "b" * 32, "2026-03-02T10:00:00+01:00",
     "Buurman schold mevr. op nr. 3 uit voor vuile makaak en riep dat ze terug moet naar haar land."),
    ("area-2", "c" * 32, "2026-03-09T10:00:00+01:00",
     "Dhr. op nr. 11 wordt door jongeren nageroepen met kutmarokkaan en terug naar je land."),
    ("area-3", "d" * 32, "2026-03-20T10:00:00+01:00",
     "Fam. op nr. 20 uitgescholden voor vuile turken, buurman riep dat zij hier niet horen."),
]


def note_uuid(scenario_id: str) -> str:
    return str(uuid.uuid5(_NS, scenario_id))


def records(path: Path = TUNE) -> list[dict[str, Any]]:
    """Backtest records with UUID note ids (as the broker path has), sorted by event time."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        out.append({"id": note_uuid(rec["id"]), "subject_key": rec["subject_key"],
                    "area_key": rec["area_key"], "municipality_code": rec["municipality_code"],
                    "occurred_at": rec["occurred_at"], "text": rec["text"]})
    for note_id, subject, at, text in AREA_NOTES:
        out.append({"id": note_uuid(note_id), "subject_key": subject, "area_key": AREA_KEY,
                    "municipality_code": "GM0344", "occurred_at": at, "text": text})
    return sorted(out, key=lambda r: (parse_time(r["occurred_at"]), r["id"]))


def accepted_event(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": "note-accepted.v1",
        "event_id": str(uuid.uuid5(uuid.UUID(rec["id"]), "accepted")),
        "note_id": rec["id"],
        "tenant": "corp-ew",
        "occurred_at": rec["occurred_at"],
        "received_at": datetime.now(UTC).isoformat(),
        "text": rec["text"],
        "author_role": "huismeester",
        "subject_key": rec["subject_key"],
        "area_key": rec["area_key"],
        "municipality_code": rec["municipality_code"],
        "correlation_id": f"ew-{rec['id'][:8]}",
    }
