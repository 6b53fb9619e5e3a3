from buurtsignaal.domain.notes import IncomingNote
from buurtsignaal.service.intake import Rejected, parse_batch, parse_incoming_message
from tests.support.notes import note


def test_valid_batch_becomes_notes() -> None:
    parsed = parse_batch({"notes": [note(), note(address={"postcode": "9401CD", "house_number": 3,
                                                          "suffix": "a"})]}, "demo")
    assert isinstance(parsed, list)
    assert all(isinstance(n, IncomingNote) for n in parsed)
    assert parsed[1].address.postcode_area == "9401"
    assert parsed[0].tenant == "demo" and parsed[0].source == "http"


def test_every_wrong_field_is_named() -> None:
    bad = note(author_role="conciërge", municipality_code="0344",
               address={"postcode": "ABCD 12", "house_number": 0})
    del bad["text"]
    parsed = parse_batch({"notes": [note(), bad]}, "demo")
    assert isinstance(parsed, Rejected)
    locs = {e["loc"]: e["message"] for e in parsed.errors}
    assert "notes[1].text" in locs and locs["notes[1].text"] == "is required"
    assert "notes[1].author_role" in locs and "huismeester" in locs["notes[1].author_role"]
    assert "notes[1].municipality_code" in locs
    assert "notes[1].address.postcode" in locs
    assert "notes[1].address.house_number" in locs
    assert not any(loc.startswith("notes[0]") for loc in locs)


def test_error_messages_do_not_echo_values() -> None:
    parsed = parse_batch({"notes": [note(address={"postcode": "Jansenstraat 5", "house_number": 5})]},
                         "demo")
    assert isinstance(parsed, Rejected)
    assert "Jansenstraat" not in str(parsed.errors)


def test_unknown_fields_are_rejected_by_name() -> None:
    parsed = parse_batch({"notes": [note(bewoner_naam="x")]}, "demo")
    assert isinstance(parsed, Rejected)
    assert parsed.errors == [{"loc": "notes[0]", "message": "unknown field(s): bewoner_naam"}]


def test_occurred_at_needs_offset_and_not_future() -> None:
    parsed = parse_batch({"notes": [note(occurred_at="2026-11-01T10:00:00"),
                                    note(occurred_at="2999-01-01T00:00:00+00:00"),
                                    note(occurred_at="gisteren om tien uur")]}, "demo")
    assert isinstance(parsed, Rejected)
    messages = {e["loc"]: e["message"] for e in parsed.errors}
    assert "UTC offset" in messages["notes[0].occurred_at"]
    assert "future" in messages["notes[1].occurred_at"]
    assert "ISO 8601" in messages["notes[2].occurred_at"]


def test_empty_and_missing_batches() -> None:
    assert isinstance(parse_batch({"notes": []}, "demo"), Rejected)
    assert isinstance(parse_batch({}, "demo"), Rejected)
    assert isinstance(parse_batch([], "demo"), Rejected)


def test_kafka_envelope() -> None:
    ok = parse_incoming_message({"tenant": "demo-corporatie", "note": note()})
    assert isinstance(ok, IncomingNote) and ok.source == "kafka"
    bad = parse_incoming_message({"note": note(text="")})
    assert isinstance(bad, Rejected)
    assert {e["loc"] for e in bad.errors} == {"tenant", "note.text"}
