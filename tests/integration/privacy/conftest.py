from __future__ import annotations

import psycopg
import pytest

from buurtsignaal.devstack import EmbeddedPostgres

PRIVACY_TABLES = "retention_runs, erasure_log, anonymous_statistics"


@pytest.fixture(autouse=True)
def _clean_privacy_tables(pg: EmbeddedPostgres) -> None:
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {PRIVACY_TABLES} RESTART IDENTITY")
