"""Hypothesis against the event decoders: whatever bytes arrive, a decoder returns a value or a
dead-letter reason, never an unexpected exception (which would be a crash or a crash loop); and
the reason never echoes the payload (it may hold personal data)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buurtsignaal.adapters.consumer_loop import ConsumerLoop, InvalidMessage
from services.detector.app import decode_accepted
from services.ingest.kafka_intake import decode_incoming
from services.notifier.consumer import decode_scored

REASONS = {"invalid_json", "schema_violation", "unknown_tenant", "processing_error"}
PLANTED = "Fatima Yilmaz"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children,
                                                                       max_size=4),
    max_leaves=20,
)
note_like = st.fixed_dictionaries(
    {"external_id": st.text(max_size=20), "occurred_at": st.text(max_size=30),
     "text": st.just(f"Mevr. {PLANTED} 06-12345678"), "author_role": st.sampled_from(
         ["huismeester", "x", ""]),
     "address": st.fixed_dictionaries({"postcode": st.text(max_size=8),
                                       "house_number": st.integers(-5, 100_000)}),
     "municipality_code": st.sampled_from(["GM0344", "GM12", PLANTED])},
    optional={"category": json_values, "extra": json_values},
)
payloads = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"tenant": st.sampled_from(["corp-a", "", PLANTED]), "note": note_like})
    .map(lambda v: json.dumps(v).encode()),
    note_like.map(lambda v: json.dumps(v).encode()),
)
DEEP = [b"[" * 50_000, b'{"a":' * 5_000 + b"1" + b"}" * 5_000]


def _check_incoming(raw: bytes) -> None:
    try:
        decode_incoming(raw)
    except InvalidMessage as exc:
        assert exc.reason in REASONS
        assert PLANTED not in json.dumps(exc.errors)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(payloads)
def test_incoming_decoder(raw: bytes) -> None:
    _check_incoming(raw)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(payloads)
def test_scored_decoder(raw: bytes) -> None:
    try:
        value = decode_scored(raw)
        assert value["schema"] == "note-scored.v1"
    except InvalidMessage as exc:
        assert exc.reason in REASONS
        assert PLANTED not in json.dumps(exc.errors)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(payloads)
def test_accepted_decoder(raw: bytes) -> None:
    result = decode_accepted(raw)
    if isinstance(result, tuple):
        reason, errors = result
        assert reason in REASONS
        assert PLANTED not in json.dumps(errors)
    else:
        assert result["schema"] == "note-accepted.v1"


def test_deeply_nested_json_is_dead_lettered_not_raised() -> None:
    for raw in DEEP:
        _check_incoming(raw)
        assert decode_accepted(raw)[0] == "invalid_json"  # type: ignore[index]


class _Record:
    def __init__(self, value: bytes, offset: int):
        self.value, self.offset, self.topic, self.partition = value, offset, "notes.scored", 0


def test_deeply_nested_scored_event_is_invalid_json() -> None:
    for raw in DEEP:
        try:
            decode_scored(raw)
        except InvalidMessage as exc:
            assert exc.reason == "invalid_json"
        else:
            raise AssertionError("deeply nested JSON was accepted")


def _decoder_that_raises(raw: bytes) -> Any:
    if raw == DEEP[0]:
        raise RecursionError("a decoder bug, not a bad message")
    return decode_scored(raw)


def test_a_decoder_that_raises_is_dead_lettered_by_the_consumer_loop() -> None:
    """A decoder that raises something other than InvalidMessage (a bug) must not stop the loop:
    the message is dead-lettered and the rest is processed, instead of restarting forever on it."""
    processed: list[Any] = []
    dead: list[Any] = []
    loop: ConsumerLoop[Any] = ConsumerLoop(
        name="t", bootstrap="unused", topic="notes.scored", group_id="g", dead_letter_topic="dl",
        decode=_decoder_that_raises, process=lambda batch: processed.extend(batch), stop=None,  # type: ignore[arg-type]
    )
    loop._dead_letter = lambda items: dead.extend(items)  # type: ignore[method-assign]
    loop._handle([_Record(DEEP[0], 1), _Record(b"not json", 2)])  # type: ignore[list-item]
    assert [(r.offset, reason) for r, reason, _ in dead] == [(1, "processing_error"), (2, "invalid_json")]
    assert processed == []
