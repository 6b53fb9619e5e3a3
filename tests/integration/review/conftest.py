"""Review tests: the notifier app in-process (real PostgreSQL), cases seeded through the same
store_scored path the consumer uses, and a real SMTP server (aiosmtpd) and webhook receiver."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.rows import dict_row

from buurtsignaal.adapters.apikeys import ensure_tenant
from buurtsignaal.adapters.cases_repo import store_scored
from buurtsignaal.adapters.users import add_user
from buurtsignaal.config import REPO_ROOT, Settings
from buurtsignaal.domain.regions import RegionMap
from services.notifier.app import create_app
from tests.support.infra import free_port
from tests.support.mail import Mailbox, running_mailbox

PASSWORD = "correct-horse-battery"
TEXT = ("Mevr. op nr. 14 is weer uitgescholden voor vuile makaak, buurman riep dat ze terug moet "
        "naar haar eigen land.")
_AT = TEXT.index("vuile makaak")
EVIDENCE = [{"start": _AT, "end": _AT + 12, "text": "vuile makaak", "recognizer": "scheldwoord",
             "explanation": "Scheldwoord dat herkomst raakt"}]


def seed_case(url: str, *, municipality: str = "GM0344", severity: int = 2,
              grounds: tuple[str, ...] = ("herkomst",), text: str = TEXT, subject: str = "hh-1",
              occurred_at: str = "2026-11-01T10:00:00+01:00") -> int:
    """A note, its score and its case, as the pipeline stores them; returns the case id."""
    note_id = str(uuid.uuid4())
    with psycopg.connect(url, row_factory=dict_row) as conn:
        ensure_tenant(conn, "corp-test")
        conn.execute(
            """INSERT INTO notes (id, tenant_id, external_id, occurred_at, author_role, text,
                   postcode, house_number, postcode_area, municipality_code, subject_key, area_key,
                   source, correlation_id)
               VALUES (%s, 'corp-test', %s, %s, 'huismeester', %s, '3531AB', 14, '3531', %s, %s,
                   'area-1', 'http', %s)""",
            (note_id, f"ext-{note_id[:8]}", occurred_at, text, municipality, subject, note_id))
        regions = RegionMap.load(REPO_ROOT / "config" / "regions.yaml")
        store_scored(conn, [{
            "note_id": note_id, "flag": True, "score": 0.91, "grounds": list(grounds),
            "forms": ["verbaal"], "severity": severity, "evidence": EVIDENCE,
            "model_version": "test-model-1", "scored_at": datetime.now(UTC).isoformat(),
            "subject_key": subject, "municipality_code": municipality,
        }], regions)
        row = conn.execute("SELECT id FROM cases WHERE note_id = %s", (note_id,)).fetchone()
        assert row is not None
        return int(row["id"])


def add_users(url: str) -> None:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        add_user(conn, "adv.a", PASSWORD, "adv_medewerker", adv_region="midden-nederland")
        add_user(conn, "adv.b", PASSWORD, "adv_medewerker", adv_region="midden-nederland")
        add_user(conn, "adv.drenthe", PASSWORD, "adv_medewerker", adv_region="drenthe")
        add_user(conn, "coord.utrecht", PASSWORD, "coordinator", municipalities=["GM0344"])
        add_user(conn, "coord.amersfoort", PASSWORD, "coordinator", municipalities=["GM0307"])
        add_user(conn, "beheerder", PASSWORD, "beheerder")


@pytest.fixture
def app_settings(settings: Settings, tmp_path: Any) -> Settings:
    return settings.model_copy(update={"data_dir": tmp_path})


@pytest.fixture
def client(app_settings: Settings) -> Iterator[TestClient]:
    add_users(app_settings.database_url)
    with TestClient(create_app(app_settings, background=False)) as c:
        yield c


def new_client(app_settings: Settings) -> TestClient:
    return TestClient(create_app(app_settings, background=False))


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with running_mailbox() as box:
        yield box


@dataclass
class WebhookReceiver:
    """A real HTTP endpoint that answers `fail_first` requests with 503, then 204."""

    port: int
    fail_first: int = 0
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append(({k: v for k, v in self.headers.items()}, body))
            failing = len(receiver.requests) <= receiver.fail_first
            self.send_response(503 if failing else 204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
