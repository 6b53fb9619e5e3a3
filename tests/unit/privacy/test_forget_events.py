"""erasure.v1 events: built from what the database work removed, valid, and free of text."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from buurtsignaal.privacy.forget_events import RemovedNote, forget_events, summary
from buurtsignaal.schemas import validate

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOUSE_A, HOUSE_B, AREA_1, AREA_2 = "a" * 32, "b" * 32, "1" * 32, "2" * 32


def removed(subject: str, area: str, n: int = 1) -> list[RemovedNote]:
    return [RemovedNote(str(uuid.uuid4()), subject, area) for _ in range(n)]


def test_retention_groups_notes_per_household_with_their_areas() -> None:
    notes = removed(HOUSE_A, AREA_1, 2) + removed(HOUSE_A, AREA_2) + removed(HOUSE_B, AREA_1)
    events = forget_events("retention", notes, AT)
    assert [validate("erasure.v1", e) for e in events] == [[], []]
    by_key = {e["subject_key"]: e for e in events}
    assert sorted(by_key[HOUSE_A]["note_ids"]) == sorted(n.note_id for n in notes[:3])
    assert by_key[HOUSE_A]["area_keys"] == [AREA_1, AREA_2]
    assert by_key[HOUSE_B]["area_keys"] == [AREA_1]
    assert not any(e["household"] for e in events)
    assert summary(events) == {"events": 2, "households": 2, "note_ids": 4, "area_keys": 2}


def test_an_erasure_is_sent_even_when_the_database_had_nothing_left() -> None:
    events = forget_events("erasure", [], AT, households=[HOUSE_A])
    assert len(events) == 1 and validate("erasure.v1", events[0]) == []
    assert events[0]["household"] is True and events[0]["note_ids"] == []


def test_nothing_removed_sends_nothing() -> None:
    assert forget_events("retention", [], AT) == []


def test_long_lists_are_split_and_each_event_names_the_areas_of_its_own_notes() -> None:
    notes = removed(HOUSE_A, AREA_1, 3) + removed(HOUSE_A, AREA_2, 2)
    events = forget_events("retention", notes, AT, max_ids=2)
    assert len(events) == 3 and all(validate("erasure.v1", e) == [] for e in events)
    area_of = {n.note_id: n.area_key for n in notes}
    for event in events:
        assert event["area_keys"] == sorted({area_of[i] for i in event["note_ids"]})
    assert sorted(i for e in events for i in e["note_ids"]) == sorted(area_of)


def test_the_schema_refuses_text_and_empty_retention_events() -> None:
    event = forget_events("retention", removed(HOUSE_A, AREA_1), AT)[0]
    assert validate("erasure.v1", {**event, "text": "Mevr. Yilmaz"}) != []
    assert validate("erasure.v1", {**event, "note_ids": []}) != []
    assert validate("erasure.v1", {**event, "subject_key": "3531AB-14"}) != []


def test_events_land_on_the_partition_of_the_households_state() -> None:
    """Forgetting relies on co-partitioning: the outbox relay and the erasure command send with
    kafka-python, the detector writes notes.scored (hence the households changelog) with aiokafka.
    Both must map a household key to the same partition, or a tombstone would land on another
    changelog partition than the value it deletes."""
    from aiokafka.partitioner import DefaultPartitioner as AioPartitioner
    from kafka.partitioner.default import DefaultPartitioner as KafkaPythonPartitioner

    partitions = list(range(4))
    for i in range(200):
        key = uuid.uuid5(uuid.NAMESPACE_URL, str(i)).hex.encode()
        assert (KafkaPythonPartitioner()(key, partitions, partitions)
                == AioPartitioner()(key, partitions, partitions))
