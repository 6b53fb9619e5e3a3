"""PostgreSQL adapter: connection pool and schema migrations (yoyo, versioned SQL files)."""

from __future__ import annotations

from pathlib import Path

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_pool(database_url: str, *, max_size: int = 8, name: str = "buurtsignaal") -> ConnectionPool:
    pool = ConnectionPool(
        database_url,
        min_size=1,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "autocommit": False},
        name=name,
        open=False,
    )
    pool.open(wait=True, timeout=30)
    return pool


def migrate(database_url: str) -> list[str]:
    """Apply pending migrations; returns the ids applied. Safe to run concurrently (yoyo locks)."""
    from yoyo import get_backend, read_migrations

    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    backend = get_backend(url)
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]


def ping(pool: ConnectionPool) -> bool:
    try:
        with pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - readiness: any failure means "not ready"
        return False
