"""Review-UI accounts and server-side sessions. Passwords: argon2id (argon2-cffi)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("adv_medewerker", "coordinator", "beheerder")
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=8)
# A session unused this long ends, even within SESSION_TTL (a forgotten open screen).
SESSION_IDLE = timedelta(minutes=30)

_hasher = PasswordHasher()
# Verified when the user does not exist, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    adv_region: str | None
    municipalities: tuple[str, ...]


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str


def _user(row: dict) -> User:  # type: ignore[type-arg]
    return User(row["id"], row["username"], row["role"], row["adv_region"],
                tuple(row["municipalities"] or ()))


def add_user(
    conn: psycopg.Connection, username: str, password: str, role: str, *,
    adv_region: str | None = None, municipalities: list[str] | None = None,
) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if role == "adv_medewerker" and not adv_region:
        raise ValueError("an adv_medewerker needs an ADV region (--region)")
    if role == "coordinator" and not municipalities:
        raise ValueError("a coordinator needs at least one municipality (--municipality GM....)")
    if len(password) < 12:
        raise ValueError("password must be at least 12 characters")
    conn.execute(
        """INSERT INTO users (username, password_hash, role, adv_region, municipalities)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,
               role = EXCLUDED.role, adv_region = EXCLUDED.adv_region,
               municipalities = EXCLUDED.municipalities, disabled = false,
               failed_logins = 0, locked_until = NULL""",
        (username, _hasher.hash(password), role, adv_region, municipalities or []),
    )


def disable_user(conn: psycopg.Connection, username: str) -> bool:
    row = conn.execute(
        "UPDATE users SET disabled = true WHERE username = %s RETURNING id", (username,)
    ).fetchone()
    if row:
        conn.execute("DELETE FROM sessions WHERE user_id = %s", (row["id"],))
    return row is not None


def check_login(conn: psycopg.Connection, username: str, password: str) -> User | str:
    """The user, or a reason the login failed (shown generically to the person)."""
    row = conn.execute(
        "SELECT * FROM users WHERE username = %s FOR UPDATE", (username,)
    ).fetchone()
    if row is None or row["disabled"]:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return "unknown"
    if row["locked_until"] and row["locked_until"] > datetime.now(UTC):
        return "locked"
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError):
        failed = row["failed_logins"] + 1
        locked = datetime.now(UTC) + LOCKOUT if failed >= MAX_FAILED_LOGINS else None
        conn.execute(
            "UPDATE users SET failed_logins = %s, locked_until = %s WHERE id = %s",
            (0 if locked else failed, locked, row["id"]),
        )
        return "locked" if locked else "bad_password"
    conn.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = %s",
                 (row["id"],))
    return _user(row)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(conn: psycopg.Connection, user: User) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES (%s, %s, %s, %s)",
        (_token_hash(token), user.id, secrets.token_urlsafe(32), datetime.now(UTC) + SESSION_TTL),
    )
    return token


def get_session(conn: psycopg.Connection, token: str) -> Session | None:
    """The live session for this cookie token; ends on expiry, idle timeout or a disabled user.
    Marks it used (at most once a minute, to keep page views cheap)."""
    row = conn.execute(
        """SELECT u.*, s.csrf_token, s.token_hash,
                  s.last_seen_at < now() - interval '1 minute' AS stale
           FROM sessions s JOIN users u ON u.id = s.user_id
           WHERE s.token_hash = %s AND s.expires_at > now() AND NOT u.disabled
             AND s.last_seen_at > now() - %s""",
        (_token_hash(token), SESSION_IDLE),
    ).fetchone()
    if row is None:
        return None
    if row["stale"]:
        conn.execute("UPDATE sessions SET last_seen_at = now() WHERE token_hash = %s",
                     (row["token_hash"],))
    return Session(_user(row), row["csrf_token"])


def end_session(conn: psycopg.Connection, token: str) -> None:
    conn.execute("DELETE FROM sessions WHERE token_hash = %s", (_token_hash(token),))


def record_audit(
    conn: psycopg.Connection, actor: str, action: str, case_id: int | None = None,
    detail: dict | None = None,  # type: ignore[type-arg]
) -> None:
    from psycopg.types.json import Jsonb

    conn.execute(
        "INSERT INTO audit_log (actor, action, case_id, detail) VALUES (%s, %s, %s, %s)",
        (actor, action, case_id, Jsonb(detail or {})),
    )


AUDIT_COLUMNS = ("id", "at", "actor", "action", "case_id", "detail")


def read_audit(
    conn: psycopg.Connection, *, actor: str | None = None, case_id: int | None = None,
    action: str | None = None, before_id: int | None = None, limit: int = 100,
) -> list[dict]:  # type: ignore[type-arg]
    """Newest first; `before_id` pages backwards through the log."""
    return conn.execute(
        """SELECT id, at, actor, action, case_id, detail FROM audit_log
           WHERE (%(actor)s::text IS NULL OR actor = %(actor)s)
             AND (%(case_id)s::bigint IS NULL OR case_id = %(case_id)s)
             AND (%(action)s::text IS NULL OR action = %(action)s)
             AND (%(before)s::bigint IS NULL OR id < %(before)s)
           ORDER BY id DESC LIMIT %(limit)s""",
        {"actor": actor, "case_id": case_id, "action": action, "before": before_id,
         "limit": limit},
    ).fetchall()


def iter_audit(conn: psycopg.Connection, batch: int = 1000):  # type: ignore[no-untyped-def]
    """The whole log in order, streamed in batches (for export)."""
    last = 0
    while True:
        rows = conn.execute(
            "SELECT id, at, actor, action, case_id, detail FROM audit_log WHERE id > %s "
            "ORDER BY id LIMIT %s", (last, batch)).fetchall()
        if not rows:
            return
        yield from rows
        last = rows[-1]["id"]
