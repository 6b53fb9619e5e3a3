"""Every event on the bus has a schema in schemas/, and what we build validates against it."""

import uuid
from datetime import UTC, datetime

from buurtsignaal.domain import events
from buurtsignaal.domain.signals import Detection, Evidence
from buurtsignaal.schemas import schema_names, validate


def _accepted() -> dict:
    return events.note_accepted(
        note_id=uuid.uuid4(), tenant="demo", occurred_at=datetime(2026, 11, 1, tzinfo=UTC),
        received_at=datetime.now(UTC), text="x", author_role="huismeester",
        subject_key="a" * 32, area_key="b" * 32, municipality_code="GM0344", correlation_id="c",
    )


def test_all_bus_schemas_exist() -> None:
    assert {"note.v1", "note-batch.v1", "incoming-note.v1", "note-accepted.v1",
            "note-scored.v1", "dead-letter.v1"} <= set(schema_names())


def test_accepted_event_validates() -> None:
    assert validate("note-accepted.v1", _accepted()) == []


def test_scored_event_validates_and_is_deterministic() -> None:
    accepted = _accepted()
    detection = Detection(id=accepted["note_id"], flag=True, score=0.91, grounds=("herkomst",),
                          forms=("verbaal",), severity=2,
                          evidence=(Evidence(0, 1, "x", "slur.herkomst", "Scheldwoord"),),
                          model_version="m1")
    first = events.note_scored(accepted, detection, datetime.now(UTC))
    second = events.note_scored(accepted, detection, datetime.now(UTC))
    assert validate("note-scored.v1", first) == []
    assert first["event_id"] == second["event_id"]


def test_scored_event_rejects_unknown_ground() -> None:
    accepted = _accepted()
    bad = events.note_scored(accepted, Detection(id="x", flag=True, score=0.5, grounds=("ras",),
                                                 model_version="m"), datetime.now(UTC))
    assert validate("note-scored.v1", bad)[0]["loc"] == "grounds[0]"


def test_dead_letter_validates() -> None:
    record = events.dead_letter(source_topic="notes.incoming", partition=0, offset=5,
                                payload_sha256="0" * 64, reason="invalid_json", errors=["x"],
                                consumer="ingest-intake", at=datetime.now(UTC))
    assert validate("dead-letter.v1", record) == []
