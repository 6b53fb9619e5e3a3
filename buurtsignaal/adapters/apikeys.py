"""Tenants and their API keys. Keys are random tokens; only their SHA-256 is stored
(a 256-bit random token needs no slow hash: there is nothing to brute-force).

Each key has scopes (notes:write to submit, notes:read to read back its tenant's notes), an
optional expiry, can be revoked, and has a rate limit (requests per minute). The rate limiter is
an in-process token bucket: with N ingest instances a key gets up to N x its limit (decision 0023).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

KEY_PREFIX = "bsk_"
SCOPES = ("notes:write", "notes:read")


@dataclass(frozen=True)
class ApiKeyOwner:
    key_id: str
    tenant_id: str
    scopes: tuple[str, ...] = SCOPES
    rate_limit_per_minute: int | None = None  # None: the configured default

    def may(self, scope: str) -> bool:
        return scope in self.scopes


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def ensure_tenant(conn: psycopg.Connection, tenant_id: str, name: str | None = None) -> None:
    conn.execute(
        "INSERT INTO tenants (id, name) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING",
        (tenant_id, name or tenant_id),
    )


def tenant_exists(conn: psycopg.Connection, tenant_id: str) -> bool:
    return conn.execute("SELECT 1 FROM tenants WHERE id = %s", (tenant_id,)).fetchone() is not None


def create_key(
    conn: psycopg.Connection,
    tenant_id: str,
    *,
    key: str | None = None,
    label: str = "",
    expires_at: datetime | None = None,
    scopes: tuple[str, ...] = SCOPES,
    rate_limit_per_minute: int | None = None,
) -> str:
    """Create (or, for a given demo key, register idempotently) an API key; returns the key."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"unknown or no scope(s) {', '.join(unknown)}; choose from {', '.join(SCOPES)}")
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        """INSERT INTO api_keys (id, tenant_id, prefix, key_hash, label, expires_at, scopes,
                                 rate_limit_per_minute)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key_hash) DO NOTHING""",
        (uuid.uuid4(), tenant_id, key[:8], hash_key(key), label, expires_at, list(scopes),
         rate_limit_per_minute),
    )
    return key


def revoke_key(conn: psycopg.Connection, prefix_or_id: str) -> int:
    """Revoke by key id or by the 8-character prefix shown at creation; returns keys revoked."""
    rows = conn.execute(
        """UPDATE api_keys SET revoked_at = now()
           WHERE revoked_at IS NULL AND (prefix = %s OR id::text = %s) RETURNING id""",
        (prefix_or_id, prefix_or_id),
    ).fetchall()
    return len(rows)


def list_keys(conn: psycopg.Connection, tenant_id: str | None = None) -> list[dict]:  # type: ignore[type-arg]
    return conn.execute(
        """SELECT id, tenant_id, prefix, label, scopes, rate_limit_per_minute, created_at,
                  expires_at, revoked_at FROM api_keys
           WHERE %s::text IS NULL OR tenant_id = %s ORDER BY created_at""",
        (tenant_id, tenant_id),
    ).fetchall()


def authenticate(conn: psycopg.Connection, key: str) -> ApiKeyOwner | None:
    row = conn.execute(
        """SELECT id, tenant_id, scopes, rate_limit_per_minute FROM api_keys
           WHERE key_hash = %s AND revoked_at IS NULL
             AND (expires_at IS NULL OR expires_at > now())""",
        (hash_key(key),),
    ).fetchone()
    if row is None:
        return None
    return ApiKeyOwner(str(row["id"]), row["tenant_id"], tuple(row["scopes"]),
                       row["rate_limit_per_minute"])


@dataclass
class RateLimiter:
    """Token bucket per API key: `per_minute` requests, bursts up to the same number.
    In-process and per instance; thread-safe. Returns seconds to wait (0.0 = allowed)."""

    default_per_minute: int
    clock: object = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, key_id: str, per_minute: int | None = None) -> float:
        rate = max(1, per_minute or self.default_per_minute)
        now = self.clock()  # type: ignore[operator]
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(rate), now))
            tokens = min(float(rate), tokens + (now - last) * rate / 60.0)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) * 60.0 / rate
