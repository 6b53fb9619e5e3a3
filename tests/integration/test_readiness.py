"""/readyz answers 200 only when both the database and the broker (with the service's topic)
answer, and names which one is missing otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from buurtsignaal.config import Settings
from buurtsignaal.devstack import free_port
from buurtsignaal.service.ops_routes import ops_router


@pytest.fixture
def pool(settings: Settings) -> Iterator[ConnectionPool]:
    with ConnectionPool(settings.database_url, min_size=1, max_size=1) as p:
        yield p


def client(pool: ConnectionPool, bootstrap: str, topic: str) -> TestClient:
    app = FastAPI()
    app.include_router(ops_router(lambda: pool, bootstrap, topic))
    return TestClient(app)


def test_ready_when_database_and_topic_answer(pool: ConnectionPool, settings: Settings) -> None:
    response = client(pool, settings.kafka_bootstrap, settings.topic_scored).get("/readyz")
    assert (response.status_code, response.json()) == (200, {"database": True, "broker": True})


def test_not_ready_without_the_topic(pool: ConnectionPool, settings: Settings) -> None:
    response = client(pool, settings.kafka_bootstrap, "no.such.topic").get("/readyz")
    assert (response.status_code, response.json()) == (503, {"database": True, "broker": False})


def test_not_ready_without_a_broker(pool: ConnectionPool, settings: Settings) -> None:
    response = client(pool, f"127.0.0.1:{free_port()}", settings.topic_scored).get("/readyz")
    assert (response.status_code, response.json()) == (503, {"database": True, "broker": False})


def test_not_ready_without_the_database(settings: Settings) -> None:
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/buurtsignaal?connect_timeout=1"
    with ConnectionPool(dead, min_size=0, max_size=1, open=True) as dead_pool:
        c = client(dead_pool, settings.kafka_bootstrap, settings.topic_scored)
        response = c.get("/readyz")
        assert (response.status_code, response.json()) == (503, {"database": False, "broker": True})
        assert c.get("/healthz").json() == {"status": "ok"}  # alive, just not ready
        assert b"python_info" in c.get("/metrics").content
