"""The whole stack as processes, with a real SMTP server and a routing file for the test, and a
real Chromium (Debian package) driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from buurtsignaal.devstack import EmbeddedBroker, EmbeddedPostgres
from tests.support import infra
from tests.support.mail import Mailbox
from tests.support.services import ServiceProcs, service_procs

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
COORDINATOR_MAIL = "regie@utrecht.example"


@pytest.fixture(scope="module")
def review_stack(e2e_infra: tuple[EmbeddedPostgres, EmbeddedBroker], mailbox: Mailbox,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcs]:
    pg, broker = e2e_infra
    infra.truncate_all(pg.url)
    routing = {
        "receivers": [{"name": "intake", "email": {"to": ["intake@adv.example"]}},
                      {"name": "gemeente-utrecht", "email": {"to": [COORDINATOR_MAIL]}}],
        "route": {"receiver": "intake", "group_wait": "0s", "routes": [
            {"match": {"event": "escalatie", "municipality": "GM0344"},
             "receiver": "gemeente-utrecht"}]},
    }
    procs = service_procs(infra.make_settings(pg, broker)).with_mail_routing(
        routing, tmp_path_factory.mktemp("routing"), mailbox.port)
    with procs:
        yield procs


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run scripts/setup.sh test (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
