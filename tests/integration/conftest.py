from __future__ import annotations

from collections.abc import Iterator

import pytest

from buurtsignaal.config import Settings
from buurtsignaal.devstack import EmbeddedBroker, EmbeddedPostgres
from tests.support import infra


@pytest.fixture(scope="session")
def stack() -> Iterator[tuple[EmbeddedPostgres, EmbeddedBroker]]:
    yield from infra.session_infra()


@pytest.fixture
def pg(stack: tuple[EmbeddedPostgres, EmbeddedBroker]) -> EmbeddedPostgres:
    infra.truncate_all(stack[0].url)
    return stack[0]


@pytest.fixture
def broker(stack: tuple[EmbeddedPostgres, EmbeddedBroker]) -> EmbeddedBroker:
    return stack[1]


@pytest.fixture
def settings(pg: EmbeddedPostgres, broker: EmbeddedBroker) -> Settings:
    return infra.make_settings(pg, broker)
