"""Keyset pagination cursors: round trip, refusal of anything we did not sign, page neighbours."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from buurtsignaal.domain import paging
from buurtsignaal.domain.paging import Cursor, InvalidCursor

SECRET = "unit-test-secret-of-sufficient-length-123"
SHAPE = (bool, int, datetime, int)
MOMENT = datetime(2026, 11, 20, 14, 30, 0, 123456, tzinfo=UTC)


def token(cursor: Cursor, scope: str = "werkvoorraad", secret: str = SECRET) -> str:
    return paging.encode(cursor, scope=scope, secret=secret)


def decode(text: str, scope: str = "werkvoorraad", secret: str = SECRET) -> Cursor:
    return paging.decode(text, scope=scope, shape=SHAPE, secret=secret)


@pytest.mark.parametrize("direction", ["after", "before"])
def test_round_trip_keeps_every_value_exactly(direction: str) -> None:
    cursor = Cursor(direction, (True, -3, MOMENT, 9_000_000_001))  # type: ignore[arg-type]
    assert decode(token(cursor)) == cursor


def test_round_trip_keeps_the_offset_of_a_local_time() -> None:
    local = MOMENT.astimezone(timezone(timedelta(hours=1)))
    back = decode(token(Cursor("after", (False, -1, local, 7))))
    assert back.key[2] == MOMENT  # same instant


def test_token_is_url_safe_and_short() -> None:
    text = token(Cursor("after", (True, -3, MOMENT, 123456)))
    assert len(text) < 150
    assert all(ch.isalnum() or ch in "-_." for ch in text)


def _flip(text: str, index: int) -> str:
    ch = text[index]
    return text[:index] + ("A" if ch != "A" else "B") + text[index + 1:]


@pytest.mark.parametrize("mangle", [
    lambda t: _flip(t, 3),  # payload changed
    lambda t: _flip(t, len(t) - 2),  # signature changed
    lambda t: t[:-4],  # truncated
    lambda t: t.split(".")[0],  # signature dropped
    lambda t: t + ".x",  # extra part
    lambda t: t.replace(".", "!."),  # character outside the alphabet
    lambda t: "",
    lambda t: "niet-een-cursor",
    lambda t: "é" + t,
    lambda t: t + "A" * 600,  # far too long
], ids=["payload", "signature", "truncated", "unsigned", "extra", "alphabet", "empty", "garbage",
        "non-ascii", "too-long"])
def test_tampered_tokens_are_refused(mangle: object) -> None:
    good = token(Cursor("after", (True, -3, MOMENT, 42)))
    with pytest.raises(InvalidCursor):
        decode(mangle(good))  # type: ignore[operator]


def test_forged_payload_without_the_secret_is_refused() -> None:
    good = token(Cursor("after", (True, -3, MOMENT, 42)))
    forged = base64.urlsafe_b64encode(json.dumps(["a", True, -3, MOMENT.isoformat(), 1]).encode())
    with pytest.raises(InvalidCursor):
        decode(forged.decode().rstrip("=") + "." + good.split(".")[1])


def test_cursor_of_another_list_or_secret_is_refused() -> None:
    good = token(Cursor("after", (True, -3, MOMENT, 42)))
    with pytest.raises(InvalidCursor):
        decode(good, scope="escalaties")
    with pytest.raises(InvalidCursor):
        decode(good, secret=SECRET + "-rotated")


@pytest.mark.parametrize("key", [
    (1, -3, MOMENT, 42),  # int where a bool belongs
    (True, True, MOMENT, 42),  # bool where an int belongs
    (True, -3, MOMENT.replace(tzinfo=None), 42),  # time without offset
    (True, -3, MOMENT, 42, 43),  # too many values
    (True, -3, MOMENT),  # too few
    (True, -3.5, MOMENT, 42),  # float
])
def test_signed_cursor_of_the_wrong_shape_is_refused(key: tuple[object, ...]) -> None:
    # Signed by us but not of this list's shape (e.g. after the sort key changed in a release).
    with pytest.raises(InvalidCursor):
        decode(token(Cursor("after", key)))  # type: ignore[arg-type]


def test_signed_cursor_with_a_bad_timestamp_is_refused() -> None:
    payload = json.dumps(["a", True, -3, "gisteren", 42]).encode()
    signature = paging._sign(payload, "werkvoorraad", SECRET)
    text = paging._b64(payload) + "." + paging._b64(signature)
    with pytest.raises(InvalidCursor):
        decode(text)


def rows(*ids: int) -> list[dict[str, int]]:
    return [{"id": i} for i in ids]


def key(row: dict[str, int]) -> tuple[int]:
    return (row["id"],)


def test_first_page_with_more_rows_links_only_forward() -> None:
    page = paging.paginate(rows(1, 2, 3, 4), limit=3, cursor=None, key=key)
    assert [r["id"] for r in page.rows] == [1, 2, 3]
    assert page.next == Cursor("after", (3,)) and page.previous is None


def test_single_page_has_no_links() -> None:
    page = paging.paginate(rows(1, 2), limit=3, cursor=None, key=key)
    assert page.next is None and page.previous is None


def test_forward_page_links_both_ways() -> None:
    page = paging.paginate(rows(4, 5, 6, 7), limit=3, cursor=Cursor("after", (3,)), key=key)
    assert [r["id"] for r in page.rows] == [4, 5, 6]
    assert page.next == Cursor("after", (6,)) and page.previous == Cursor("before", (4,))


def test_last_forward_page_has_no_next() -> None:
    page = paging.paginate(rows(7), limit=3, cursor=Cursor("after", (6,)), key=key)
    assert page.next is None and page.previous == Cursor("before", (7,))


def test_empty_forward_page_still_leads_back() -> None:
    page = paging.paginate([], limit=3, cursor=Cursor("after", (6,)), key=key)
    assert page.rows == [] and page.next is None and page.previous == Cursor("before", (6,))


def test_backward_page_is_returned_in_list_order() -> None:
    # A 'before' query fetches in reverse order: 6, 5, 4 and one more (3) = more before.
    page = paging.paginate(rows(6, 5, 4, 3), limit=3, cursor=Cursor("before", (7,)), key=key)
    assert [r["id"] for r in page.rows] == [4, 5, 6]
    assert page.previous == Cursor("before", (4,)) and page.next == Cursor("after", (6,))


def test_backward_page_at_the_start_has_no_previous() -> None:
    page = paging.paginate(rows(2, 1), limit=3, cursor=Cursor("before", (3,)), key=key)
    assert [r["id"] for r in page.rows] == [1, 2]
    assert page.previous is None and page.next == Cursor("after", (2,))
