"""Signed webhooks: POST the JSON payload with an HMAC-SHA256 signature over timestamp + body.

Receivers verify with `verify()` (or the same three lines in their language):
    signed = f"{timestamp}.".encode() + body
    expected = "v1=" + hmac_sha256(secret, signed).hexdigest()
    accept if compare_digest(expected, header) and |now - timestamp| <= 5 minutes
The timestamp stops replays; the delivery id lets a receiver drop duplicates (we retry).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from buurtsignaal.adapters.notify_email import DeliveryError

SIGNATURE_HEADER = "X-Buurtsignaal-Signature"
TIMESTAMP_HEADER = "X-Buurtsignaal-Timestamp"
DELIVERY_HEADER = "X-Buurtsignaal-Delivery"
TOLERANCE_SECONDS = 300


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: str, body: bytes, timestamp: str, signature: str, now: float,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature or "")


def send(url: str, secret: str, payload: dict[str, Any], delivery_id: str, now: float,
         timeout: float = 10.0) -> None:
    body = body_bytes(payload)
    ts = int(now)
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: sign(secret, ts, body),
        DELIVERY_HEADER: delivery_id,
        "User-Agent": "buurtsignaal-notifier",
    }
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook: {type(exc).__name__}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook: HTTP {response.status_code}")
