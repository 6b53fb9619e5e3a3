"""The resender (services/ingest/resend.py, decision 0030) against real PostgreSQL: notes whose
event the broker lost are re-enqueued; notes that are merely queued are not; it backs off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from buurtsignaal import metrics
from buurtsignaal.adapters.apikeys import ensure_tenant
from buurtsignaal.adapters.notes_repo import store_notes
from buurtsignaal.adapters.postgres import make_pool
from buurtsignaal.config import Settings
from buurtsignaal.devstack import EmbeddedPostgres
from buurtsignaal.privacy.protect import protector_from_settings
from buurtsignaal.schemas import validate
from buurtsignaal.service.intake import parse_batch
from services.ingest.resend import UnscoredResender
from tests.support.notes import NEUTRAL_TEXT, note

GRACE = 20.0
TOPIC = "notes.accepted"


@pytest.fixture
def pool(pg: EmbeddedPostgres) -> Iterator[ConnectionPool]:
    pool = make_pool(pg.url, max_size=2, name="resend-test")
    try:
        yield pool
    finally:
        pool.close()


def _store(pg: EmbeddedPostgres, settings: Settings, *, age_s: float, scored: bool) -> str:
    """One accepted note received `age_s` ago whose outbox event was published."""
    with psycopg.connect(pg.url, row_factory=dict_row) as conn, conn.transaction():
        ensure_tenant(conn, "corp-resend")
        parsed = parse_batch({"notes": [note(NEUTRAL_TEXT)]}, "corp-resend")
        assert isinstance(parsed, list)
        result = store_notes(conn, parsed, key_secret=settings.key_secret, topic=TOPIC,
                             protector=protector_from_settings(settings))
        note_id = result.accepted[0][1]
        conn.execute("UPDATE notes SET received_at = now() - make_interval(secs => %s) WHERE id = %s",
                     (age_s, note_id))
        conn.execute("UPDATE outbox SET sent_at = now(), created_at = now() - make_interval(secs => %s)",
                     (age_s,))
        if scored:
            conn.execute(
                """INSERT INTO note_scores (note_id, flag, score, grounds, forms, severity, evidence,
                                            model_version, scored_at)
                   VALUES (%s, false, 0.1, '{}', '{}', 0, '[]', 'test', now())""", (note_id,))
    return note_id


def _pending(pg: EmbeddedPostgres) -> list[dict[str, Any]]:
    with psycopg.connect(pg.url, row_factory=dict_row) as conn:
        return conn.execute("SELECT key, payload FROM outbox WHERE sent_at IS NULL ORDER BY id").fetchall()


def _resender(pool: ConnectionPool) -> UnscoredResender:
    return UnscoredResender(pool, TOPIC, grace_seconds=GRACE, window_hours=24, interval_seconds=60)


def test_a_note_the_pipeline_moved_past_is_resent_once_then_backs_off(
        pg: EmbeddedPostgres, settings: Settings, pool: ConnectionPool) -> None:
    lost = _store(pg, settings, age_s=100, scored=False)
    _store(pg, settings, age_s=50, scored=True)  # newer and scored: the pipeline moved past `lost`
    resender = _resender(pool)
    before = metrics.outbox_resent._value.get()

    assert resender.sweep() == 1
    pending = _pending(pg)
    assert [p["payload"]["note_id"] for p in pending] == [lost]
    event = pending[0]["payload"]
    assert validate("note-accepted.v1", event) == []
    assert pending[0]["key"] == event["subject_key"]
    assert metrics.outbox_resent._value.get() == before + 1

    # The outbox row is pending (younger than 5 s): a second sweep would wait anyway; mark it sent
    # and check the per-note backoff keeps it from being re-sent right away.
    with psycopg.connect(pg.url) as conn:
        conn.execute("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")
    assert resender.sweep() == 0
    assert metrics.unscored_notes._value.get() == 1


def test_a_queued_note_is_not_resent(pg: EmbeddedPostgres, settings: Settings,
                                     pool: ConnectionPool) -> None:
    # Older than the grace period, but nothing newer has been scored: it waits in a backlog.
    _store(pg, settings, age_s=GRACE + 10, scored=False)
    _store(pg, settings, age_s=GRACE + 5, scored=False)
    resender = _resender(pool)
    assert resender.sweep() == 0
    assert _pending(pg) == []
    assert metrics.unscored_notes._value.get() == 2


def test_last_resort_after_three_grace_periods(pg: EmbeddedPostgres, settings: Settings,
                                               pool: ConnectionPool) -> None:
    # Lost just before a quiet period: nothing newer will be scored to show the pipeline moved on.
    lost = _store(pg, settings, age_s=3 * GRACE + 5, scored=False)
    assert _resender(pool).sweep() == 1
    assert [p["payload"]["note_id"] for p in _pending(pg)] == [lost]


def test_nothing_is_resent_while_the_outbox_is_behind(pg: EmbeddedPostgres, settings: Settings,
                                                     pool: ConnectionPool) -> None:
    _store(pg, settings, age_s=3 * GRACE + 5, scored=False)
    with psycopg.connect(pg.url) as conn:
        # An event the relay has not published for a minute: the broker is away; re-sending would
        # only add to the backlog.
        conn.execute("""INSERT INTO outbox (topic, key, payload, created_at)
                        VALUES (%s, 'k', '{}'::jsonb, now() - interval '1 minute')""", (TOPIC,))
    assert _resender(pool).sweep() == 0
    assert len(_pending(pg)) == 1


def test_scored_notes_and_fresh_notes_are_left_alone(pg: EmbeddedPostgres, settings: Settings,
                                                    pool: ConnectionPool) -> None:
    _store(pg, settings, age_s=3 * GRACE + 5, scored=True)
    _store(pg, settings, age_s=1, scored=False)
    assert _resender(pool).sweep() == 0
    assert metrics.unscored_notes._value.get() == 0
