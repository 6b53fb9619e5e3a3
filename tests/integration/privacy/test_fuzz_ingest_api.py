"""Schemathesis against the ingest API's OpenAPI spec, in-process (ASGI) with real PostgreSQL:
generated valid and invalid requests, with a valid key, must never get a 5xx, a stack trace, or a
response that is not JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buurtsignaal.adapters.apikeys import create_key, ensure_tenant
from buurtsignaal.config import Settings
from services.ingest.app import create_app


@pytest.fixture
def client_and_key(settings: Settings) -> Iterator[tuple[TestClient, str]]:
    with psycopg.connect(settings.database_url) as conn:
        ensure_tenant(conn, "corp-fuzz")
        key = create_key(conn, "corp-fuzz", rate_limit_per_minute=1_000_000)
    with TestClient(create_app(settings, background=False)) as client:
        yield client, key


def test_no_server_errors(client_and_key: tuple[TestClient, str]) -> None:
    client, key = client_and_key
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {(op.method.upper(), op.path) for op in operations} >= {
        ("POST", "/v1/notes"), ("GET", "/v1/notes/{external_id}")}
    strategy = st.one_of(*[op.as_strategy() for op in operations])

    @given(case=strategy)
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://testserver",
                                          headers={"Authorization": f"Bearer {key}"})
        response = client.request(kwargs.pop("method"), kwargs.pop("url"),
                                  headers=kwargs.get("headers"), params=kwargs.get("params"),
                                  json=kwargs.get("json"), content=kwargs.get("data"))
        assert response.status_code < 500, response.text
        assert response.headers["content-type"].startswith("application/json")
        assert "Traceback" not in response.text
        assert set(response.json()) <= {"accepted", "duplicates", "detail", "errors", "external_id",
                                        "note_id", "received_at", "source", "processed"}

    run()
