"""Ingest pseudonymises and encrypts; tenants are isolated; keys are scoped and rate limited;
responses carry strict headers and no stack traces. Real PostgreSQL, the app in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.rows import dict_row

from buurtsignaal.adapters.apikeys import create_key, ensure_tenant
from buurtsignaal.config import Settings
from buurtsignaal.privacy.crypto import Keyring, note_aad
from services.ingest.app import create_app
from tests.support import infra
from tests.support.notes import note

PLANTED_TEXT = ("Mevr. Fatima Yilmaz (Kerkstraat 12, Utrecht) belt 06-12345678: de Marokkaanse "
                "moslima wordt uitgescholden; auto 12-ABC-3, mail fatima.yilmaz@example.nl")
PLANTED = ("Fatima", "Yilmaz", "Kerkstraat 12", "06-12345678", "12-ABC-3", "fatima.yilmaz@example.nl")


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = settings.model_copy(update={"api_rate_limit_per_minute": 5})
    with psycopg.connect(settings.database_url) as conn:
        ensure_tenant(conn, "corp-a")
        ensure_tenant(conn, "corp-b")
        keys = {
            "a": create_key(conn, "corp-a", rate_limit_per_minute=1000),
            "b": create_key(conn, "corp-b", rate_limit_per_minute=1000),
            "a_read": create_key(conn, "corp-a", scopes=("notes:read",)),
            "a_slow": create_key(conn, "corp-a"),  # the settings' default: 5 per minute
        }
    with TestClient(create_app(settings, background=False)) as client:
        yield client, keys


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_text_is_pseudonymised_and_the_original_encrypted(api, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client, keys = api
    n = note(PLANTED_TEXT)
    r = client.post("/v1/notes", json={"notes": [n]}, headers=_auth(keys["a"]))
    assert r.status_code == 202, r.text
    row = infra.query(settings.database_url, "SELECT * FROM notes")[0]
    outbox = infra.query(settings.database_url, "SELECT payload::text AS p FROM outbox")[0]["p"]
    for value in PLANTED:
        assert value not in row["text"], value
        assert value not in outbox, value
        assert value.encode() not in bytes(row["original_ciphertext"])
    assert "Marokkaanse moslima" in row["text"] and "[PERSOON-1]" in row["text"]
    assert json.loads(outbox)["text"] == row["text"]  # the event carries the pseudonymised text
    assert row["pseudonymiser"] == "builtin" and row["original_key_id"] == "demo"
    ring = Keyring.parse(settings.encryption_keys)
    assert ring.decrypt(bytes(row["original_ciphertext"]), note_aad(row["id"])) == PLANTED_TEXT


def test_a_corporation_reads_only_its_own_notes(api) -> None:  # type: ignore[no-untyped-def]
    client, keys = api
    n = note()
    assert client.post("/v1/notes", json={"notes": [n]}, headers=_auth(keys["a"])).status_code == 202
    own = client.get(f"/v1/notes/{n['external_id']}", headers=_auth(keys["a_read"]))
    assert own.status_code == 200 and own.json()["processed"] is False
    assert "text" not in own.json() and "address" not in own.json()
    other = client.get(f"/v1/notes/{n['external_id']}", headers=_auth(keys["b"]))
    missing = client.get("/v1/notes/does-not-exist", headers=_auth(keys["b"]))
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()


def test_scopes_are_enforced(api) -> None:  # type: ignore[no-untyped-def]
    client, keys = api
    r = client.post("/v1/notes", json={"notes": [note()]}, headers=_auth(keys["a_read"]))
    assert r.status_code == 403 and "notes:write" in r.json()["detail"]


def test_rate_limit_per_key(api) -> None:  # type: ignore[no-untyped-def]
    client, keys = api
    codes = [client.get("/v1/notes/x", headers=_auth(keys["a_slow"])).status_code for _ in range(7)]
    assert codes[:5] == [404] * 5 and codes[5:] == [429, 429]
    limited = client.get("/v1/notes/x", headers=_auth(keys["a_slow"]))
    assert int(limited.headers["Retry-After"]) >= 1
    # another key of the same corporation has its own bucket
    assert client.get("/v1/notes/x", headers=_auth(keys["a"])).status_code == 404


def test_revoked_and_expired_keys_are_refused(api, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client, keys = api
    with psycopg.connect(settings.database_url, row_factory=dict_row) as conn:
        from buurtsignaal.adapters.apikeys import revoke_key

        assert revoke_key(conn, keys["b"][:8]) >= 1
        conn.execute("UPDATE api_keys SET expires_at = now() - interval '1 second' "
                     "WHERE prefix = %s", (keys["a_read"][:8],))
    assert client.get("/v1/notes/x", headers=_auth(keys["b"])).status_code == 401
    assert client.get("/v1/notes/x", headers=_auth(keys["a_read"])).status_code == 401


def test_security_headers_and_clean_errors(api) -> None:  # type: ignore[no-untyped-def]
    client, keys = api
    for response in (client.get("/healthz"), client.get("/v1/notes/x", headers=_auth(keys["a"])),
                     client.post("/v1/notes", content=b"[" * 100_000, headers=_auth(keys["a"]))):
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Traceback" not in response.text
    deep = client.post("/v1/notes", content=b"[" * 100_000, headers=_auth(keys["a"]))
    assert deep.status_code == 422 and deep.json()["detail"].startswith("body is not valid JSON")
    assert client.get("/nope").json() == {"detail": "Not Found"}
    https = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert https.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
