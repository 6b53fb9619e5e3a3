"""Keyset (seek) pagination: opaque cursors and how a fetched slice becomes a page (pure).

A page is found by the sort key of a boundary row ("the 50 rows after this key"), not by an
OFFSET, so a deep page costs as much as the first one and rows arriving meanwhile neither repeat
nor skip rows on later pages. The key always ends with a unique column (the id) so the order is
total. See docs/decisions/0034-keyset-pagination-with-signed-cursors.md.

Cursors travel through the browser. They are signed (HMAC) so that a tampered or truncated one
is refused with a clear message instead of reaching the database, and scoped to one list so a
cursor of one page cannot be replayed on another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

KeyValue = bool | int | datetime
Key = tuple[KeyValue, ...]
Shape = tuple[type, ...]
Direction = Literal["after", "before"]

MAX_TOKEN_LENGTH = 512  # real cursors are ~110 characters; refuse anything far larger unparsed
_SIGNATURE_BYTES = 16


class InvalidCursor(ValueError):
    """The cursor was not made by us for this list (tampered, truncated, or from elsewhere)."""


@dataclass(frozen=True)
class Cursor:
    direction: Direction  # rows after the key (next page) or before it (previous page)
    key: Key


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    next: Cursor | None  # None: this is the last page
    previous: Cursor | None  # None: this is the first page


def encode(cursor: Cursor, *, scope: str, secret: str) -> str:
    values = [v.isoformat() if isinstance(v, datetime) else v for v in cursor.key]
    payload = json.dumps([cursor.direction[0], *values], separators=(",", ":")).encode()
    return _b64(payload) + "." + _b64(_sign(payload, scope, secret))


def decode(token: str, *, scope: str, shape: Shape, secret: str) -> Cursor:
    """The cursor in `token`, checked against its signature and the key's shape."""
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise InvalidCursor("malformed")
    body, signature = token.split(".")
    try:
        payload, given = _unb64(body), _unb64(signature)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("not base64") from exc
    if not hmac.compare_digest(given, _sign(payload, scope, secret)):
        raise InvalidCursor("bad signature")
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise InvalidCursor("not json") from exc
    # Signed by us, so this only fails if the key's shape changed between releases.
    if not isinstance(data, list) or len(data) != len(shape) + 1 or data[0] not in ("a", "b"):
        raise InvalidCursor("wrong shape")
    direction: Direction = "after" if data[0] == "a" else "before"
    return Cursor(direction, tuple(_value(v, t) for v, t in zip(data[1:], shape, strict=True)))


def paginate(fetched: Sequence[dict[str, Any]], *, limit: int, cursor: Cursor | None,
             key: Callable[[dict[str, Any]], Key]) -> Page:
    """Turn the rows a seek query returned into a page with its neighbours.

    The query fetches `limit + 1` rows in list order (forwards from the cursor) or in reverse
    order (backwards from a 'before' cursor); the extra row only says whether more exist.
    """
    more = len(fetched) > limit
    rows = list(fetched[:limit])
    if cursor is None or cursor.direction == "after":
        following = Cursor("after", key(rows[-1])) if more and rows else None
        if cursor is None:
            return Page(rows, following, None)
        # Everything after the cursor may have gone meanwhile: still offer the way back.
        previous = Cursor("before", key(rows[0]) if rows else cursor.key)
        return Page(rows, following, previous)
    rows.reverse()
    previous = Cursor("before", key(rows[0])) if more and rows else None
    return Page(rows, Cursor("after", key(rows[-1]) if rows else cursor.key), previous)


def _value(value: Any, kind: type) -> KeyValue:
    if kind is datetime and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidCursor("bad timestamp") from exc
        if moment.tzinfo is not None:
            return moment
    # bool is a subclass of int in Python: an int field must not accept true/false
    if kind in (bool, int) and type(value) is kind:
        return value  # type: ignore[no-any-return]
    raise InvalidCursor("wrong value type")


def _sign(payload: bytes, scope: str, secret: str) -> bytes:
    message = scope.encode() + b"\x00" + payload
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("empty or not ascii")
    # validate=True: characters outside the alphabet are an error, not silently skipped
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
