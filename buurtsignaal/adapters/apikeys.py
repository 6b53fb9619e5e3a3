"""Tenants and their API keys. Keys are random tokens; only their SHA-256 is stored
(a 256-bit random token needs no slow hash: there is nothing to brute-force)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import psycopg

KEY_PREFIX = "bsk_"


@dataclass(frozen=True)
class ApiKeyOwner:
    key_id: str
    tenant_id: str


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
) -> str:
    """Create (or, for a given demo key, register idempotently) an API key; returns the key."""
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        """INSERT INTO api_keys (id, tenant_id, prefix, key_hash, label, expires_at)
           VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (key_hash) DO NOTHING""",
        (uuid.uuid4(), tenant_id, key[:8], hash_key(key), label, expires_at),
    )
    return key


def authenticate(conn: psycopg.Connection, key: str) -> ApiKeyOwner | None:
    row = conn.execute(
        """SELECT id, tenant_id FROM api_keys
           WHERE key_hash = %s AND revoked_at IS NULL
             AND (expires_at IS NULL OR expires_at > now())""",
        (hash_key(key),),
    ).fetchone()
    return ApiKeyOwner(str(row["id"]), row["tenant_id"]) if row else None
