"""The ingest API against real PostgreSQL, driven over HTTP as a corporation system would."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from buurtsignaal.adapters.apikeys import create_key, ensure_tenant
from buurtsignaal.config import Settings
from services.ingest.app import create_app
from tests.support import infra
from tests.support.notes import note


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[TestClient, str, str]]:
    with psycopg.connect(settings.database_url) as conn:
        ensure_tenant(conn, "corp-a")
        ensure_tenant(conn, "corp-b")
        key_a = create_key(conn, "corp-a")
        key_b = create_key(conn, "corp-b")
    with TestClient(create_app(settings, background=False)) as client:
        yield client, key_a, key_b


def post(client: TestClient, key: str, notes: list, **kw) -> object:  # type: ignore[no-untyped-def]
    return client.post("/v1/notes", json={"notes": notes},
                       headers={"Authorization": f"Bearer {key}"}, **kw)


def test_accepts_and_stores_with_outbox(api, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client, key, _ = api
    notes = [note(), note(address={"postcode": "9401 CD", "house_number": 22},
                          municipality_code="GM0106")]
    r = post(client, key, notes)
    assert r.status_code == 202
    body = r.json()
    assert [a["external_id"] for a in body["accepted"]] == [n["external_id"] for n in notes]
    assert body["duplicates"] == []
    rows = infra.query(settings.database_url,
                       "SELECT tenant_id, postcode_area, municipality_code, subject_key FROM notes "
                       "ORDER BY postcode_area")
    assert [(r["tenant_id"], r["postcode_area"]) for r in rows] == [("corp-a", "3531"),
                                                                     ("corp-a", "9401")]
    outbox = infra.query(settings.database_url, "SELECT topic, key, payload FROM outbox")
    assert len(outbox) == 2
    assert {o["topic"] for o in outbox} == {settings.topic_accepted}
    assert all("address" not in o["payload"] and "3531" not in str(o["payload"]) for o in outbox)


def test_duplicate_submission_stored_once(api, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client, key, key_b = api
    n = note()
    assert post(client, key, [n]).status_code == 202
    again = post(client, key, [n, note()]).json()
    assert again["duplicates"] == [{"external_id": n["external_id"]}]
    assert len(again["accepted"]) == 1
    # the same external_id from another corporation is a different note
    assert len(post(client, key_b, [n]).json()["accepted"]) == 1
    # repeated within one batch
    m = note()
    within = post(client, key, [m, m]).json()
    assert len(within["accepted"]) == 1 and within["duplicates"] == [{"external_id": m["external_id"]}]
    counts = infra.query(settings.database_url,
                         "SELECT (SELECT count(*) FROM notes) AS notes, (SELECT count(*) FROM outbox) AS ob")
    assert counts[0] == {"notes": 4, "ob": 4}


def test_422_names_every_wrong_field_and_stores_nothing(api, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client, key, _ = api
    bad = note(author_role="schoonmaker", occurred_at="2026-11-01T10:00:00")
    del bad["municipality_code"]
    r = post(client, key, [note(), bad])
    assert r.status_code == 422
    locs = {e["loc"] for e in r.json()["errors"]}
    assert locs == {"notes[1].author_role", "notes[1].occurred_at", "notes[1].municipality_code"}
    assert "nothing was stored" in r.json()["detail"]
    assert infra.query(settings.database_url, "SELECT count(*) AS n FROM notes")[0]["n"] == 0


def test_invalid_json_is_422(api) -> None:  # type: ignore[no-untyped-def]
    client, key, _ = api
    r = client.post("/v1/notes", content=b"{notes: [", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 422
    assert "not valid JSON" in r.json()["detail"]


def test_401_for_missing_unknown_and_revoked_keys(api, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client, key, _ = api
    assert client.post("/v1/notes", json={"notes": [note()]}).status_code == 401
    r = post(client, "bsk_not-a-key", [note()])
    assert r.status_code == 401 and "unknown" in r.json()["detail"]
    with psycopg.connect(settings.database_url) as conn:
        conn.execute("UPDATE api_keys SET revoked_at = now()")
    assert post(client, key, [note()]).status_code == 401


def test_413_for_large_bodies_and_batches(api, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client, key, _ = api
    r = post(client, key, [note() for _ in range(settings.max_notes_per_batch + 1)])
    assert r.status_code == 413 and "at most 1000 notes" in r.json()["detail"]
    huge = note(text="x" * 9000)
    r = post(client, key, [huge] * 700)  # ~6.3 MB > 5 MiB
    assert r.status_code == 413 and "exceeds" in r.json()["detail"]
    assert infra.query(settings.database_url, "SELECT count(*) AS n FROM notes")[0]["n"] == 0


def test_metrics_count_outcomes(api) -> None:  # type: ignore[no-untyped-def]
    client, key, _ = api
    before = client.get("/metrics").text
    post(client, key, [note()])
    post(client, "nope", [note()])
    after = client.get("/metrics").text

    def value(text: str, series: str) -> float:
        for line in text.splitlines():
            if line.startswith(series + " "):
                return float(line.split()[-1])
        return 0.0

    accepted = 'buurtsignaal_ingest_notes_accepted_total{source="http",tenant="corp-a"}'
    rejected = 'buurtsignaal_ingest_notes_rejected_total{reason="unauthenticated",source="http"}'
    assert value(after, accepted) == value(before, accepted) + 1
    assert value(after, rejected) == value(before, rejected) + 1
