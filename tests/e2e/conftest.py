from __future__ import annotations

from collections.abc import Iterator

import pytest

from buurtsignaal.config import Settings
from buurtsignaal.devstack import EmbeddedBroker, EmbeddedPostgres
from tests.support import infra
from tests.support.mail import Mailbox, running_mailbox
from tests.support.services import ServiceProcs, service_procs


@pytest.fixture(scope="session")
def e2e_infra() -> Iterator[tuple[EmbeddedPostgres, EmbeddedBroker]]:
    yield from infra.session_infra()


@pytest.fixture(scope="module")
def running(e2e_infra: tuple[EmbeddedPostgres, EmbeddedBroker]) -> Iterator[ServiceProcs]:
    """The walking skeleton on a broker of its own: the session broker has seen several stacks
    come and go by now, and consumer-group members that left without a LeaveGroup can hold a
    group in rebalance for minutes, so counts taken here would measure the earlier tests."""
    pg, _shared = e2e_infra
    infra.truncate_all(pg.url)
    broker = infra.start_broker(Settings().topics)
    procs = service_procs(infra.make_settings(pg, broker))
    try:
        procs.start_all()
        yield procs
    finally:
        procs.stop_all()
        broker.stop()


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on localhost that keeps what it receives."""
    with running_mailbox() as box:
        yield box
