from __future__ import annotations

from collections.abc import Iterator

import pytest

from buurtsignaal.devstack import EmbeddedBroker, EmbeddedPostgres
from tests.support import infra
from tests.support.services import ServiceProcs, service_procs


@pytest.fixture(scope="session")
def e2e_infra() -> Iterator[tuple[EmbeddedPostgres, EmbeddedBroker]]:
    yield from infra.session_infra()


@pytest.fixture(scope="module")
def running(e2e_infra: tuple[EmbeddedPostgres, EmbeddedBroker]) -> Iterator[ServiceProcs]:
    pg, broker = e2e_infra
    infra.truncate_all(pg.url)
    procs = service_procs(infra.make_settings(pg, broker))
    procs.start_all()
    try:
        yield procs
    finally:
        procs.stop_all()
