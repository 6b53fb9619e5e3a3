"""Scheduler against real PostgreSQL, a real SMTP server and a real webhook endpoint, driven by a
controllable clock: tick(now) with the time we choose, never sleeps."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from buurtsignaal.adapters import notify_webhook
from buurtsignaal.adapters.postgres import make_pool
from buurtsignaal.config import REPO_ROOT, Settings
from buurtsignaal.domain.regions import RegionMap
from buurtsignaal.domain.routing import RoutingError
from services.notifier.app import create_app
from services.notifier.scheduler import Scheduler, load_routing
from tests.integration.review.conftest import TEXT, Mailbox, WebhookReceiver, seed_case
from tests.support import infra

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=AMS)
SECRET = "test-webhook-secret-of-at-least-32-chars!"


def routing_yaml(tmp: Path, webhook_url: str | None = None, max_attempts: int = 3) -> Path:
    receivers: list[dict[str, Any]] = [
        {"name": "intake", "email": {"to": ["intake@adv.example"]}},
        {"name": "teamleider", "email": {"to": ["lead@adv.example"]}},
        {"name": "gemeente", "email": {"to": ["coord@gemeente.example"]}},
    ]
    if webhook_url:
        receivers[2]["webhook"] = {"url": webhook_url, "secret_env": "TEST_HOOK_SECRET"}
        receivers[2]["max_attempts"] = max_attempts
        receivers[2]["backoff"] = "10s"
    data = {
        "receivers": receivers,
        "route": {"receiver": "intake", "group_wait": "30s", "group_interval": "5m",
                  "repeat_interval": "4wh", "escalate_after": 1, "escalate_to": "teamleider",
                  "sla": [{"match": {"severity": 3}, "pickup": "4wh"}, {"pickup": "2wd"}],
                  "routes": [{"match": {"event": "escalatie", "municipality": "GM0344"},
                              "receiver": "gemeente", "group_wait": "0s"}]},
    }
    path = tmp / "routing.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def scheduler(settings: Settings, path: Path, env: dict[str, str] | None = None) -> Scheduler:
    regions = RegionMap.load(REPO_ROOT / "config" / "regions.yaml")
    env = {"TEST_HOOK_SECRET": SECRET, **(env or {})}
    routing = load_routing(path, regions, env=env)
    pool = make_pool(settings.database_url, max_size=2, name="test-scheduler")
    return Scheduler(settings, pool, routing, env=env)


def set_created(url: str, case_id: int, at: datetime) -> None:
    infra.query(url, "UPDATE cases SET created_at = %s WHERE id = %s RETURNING 1", (at, case_id))


def escalate(url: str, case_id: int, at: datetime) -> None:
    infra.query(url, "UPDATE cases SET status = 'geescaleerd', consent = 'gegeven', "
                     "escalated_at = %s WHERE id = %s RETURNING 1", (at, case_id))


@pytest.fixture
def smtp_settings(settings: Settings, mailbox: Mailbox, tmp_path: Path) -> Settings:
    return settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": mailbox.port, "smtp_starttls": False,
        "smtp_from": "buurtsignaal@adv.example", "data_dir": tmp_path,
        "public_notifier_url": "https://buurtsignaal.example"})


def test_new_cases_are_grouped_mailed_and_reminded_then_escalated(
        smtp_settings: Settings, mailbox: Mailbox, tmp_path: Path) -> None:
    url = smtp_settings.database_url
    sched = scheduler(smtp_settings, routing_yaml(tmp_path))
    first, second = seed_case(url, severity=3), seed_case(url, severity=3, subject="hh-2")
    set_created(url, first, MONDAY)
    set_created(url, second, MONDAY + timedelta(seconds=20))
    try:
        assert sched.tick(MONDAY + timedelta(seconds=29)).scheduled == []
        result = sched.tick(MONDAY + timedelta(seconds=30))
        assert [(a.kind, a.receiver, a.case_ids) for a in result.scheduled] == [
            ("nieuw", "intake", (first, second))]
        assert result.delivered == 1 and len(mailbox.messages) == 1
        mail = mailbox.messages[0]
        assert mailbox.recipients[0] == ["intake@adv.example"]
        body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
        assert f"BS-{first:06d}" in body and f"BS-{second:06d}" in body
        assert f"https://buurtsignaal.example/zaken/{first}" in body and "GM0344" in body
        assert "herkomst" in body
        # No personal data and no note text in the message, ever.
        for fragment in ("makaak", "Mevr.", "3531", "nr. 14", TEXT[:30]):
            assert fragment not in mail.as_string()
        # Severity 3: reminder after 4 working hours (13:00, 13:00:20), then the team lead
        # (escalate_after 1) 4 working hours after that reminder.
        assert sched.tick(datetime(2026, 11, 2, 12, 59, tzinfo=AMS)).scheduled == []
        reminder = sched.tick(datetime(2026, 11, 2, 13, 1, tzinfo=AMS))
        assert [(a.kind, a.receiver, a.case_ids) for a in reminder.scheduled] == [
            ("herinnering", "intake", (first, second))]
        assert sched.tick(datetime(2026, 11, 2, 16, 59, tzinfo=AMS)).scheduled == []
        assert sched.tick(datetime(2026, 11, 3, 8, 30, tzinfo=AMS)).scheduled == []
        lead = sched.tick(datetime(2026, 11, 3, 8, 31, tzinfo=AMS))
        assert [(a.kind, a.receiver) for a in lead.scheduled] == [
            ("herinnering_escalatie", "teamleider")]
        assert mailbox.recipients[-1] == ["lead@adv.example"]
        assert "Herinnering (escalatie)" in str(mailbox.messages[-1]["Subject"])
        # Picked up: no more reminders.
        infra.query(url, "UPDATE cases SET status = 'in_behandeling' RETURNING 1")
        assert sched.tick(datetime(2026, 11, 10, 9, 0, tzinfo=AMS)).scheduled == []
        assert len(mailbox.messages) == 3
    finally:
        sched.pool.close()


def test_escalation_goes_to_the_coordinator_by_mail_and_signed_webhook(
        smtp_settings: Settings, mailbox: Mailbox, webhook: WebhookReceiver, tmp_path: Path) -> None:
    url = smtp_settings.database_url
    sched = scheduler(smtp_settings, routing_yaml(tmp_path, webhook.url))
    case_id = seed_case(url, severity=2)
    infra.query(url, "UPDATE cases SET status = 'in_behandeling' RETURNING 1")  # not 'nieuw'
    escalate(url, case_id, MONDAY)
    try:
        result = sched.tick(MONDAY)
        assert [(a.kind, a.receiver) for a in result.scheduled] == [("escalatie", "gemeente")]
        assert mailbox.recipients == [["coord@gemeente.example"]]
        assert len(webhook.requests) == 1
        headers, body = webhook.requests[0]
        now = MONDAY.timestamp()
        assert notify_webhook.verify(SECRET, body, headers["X-Buurtsignaal-Timestamp"],
                                     headers["X-Buurtsignaal-Signature"], now)
        assert not notify_webhook.verify("another-secret-of-enough-length-000000", body,
                                         headers["X-Buurtsignaal-Timestamp"],
                                         headers["X-Buurtsignaal-Signature"], now)
        assert not notify_webhook.verify(SECRET, body + b" ", headers["X-Buurtsignaal-Timestamp"],
                                         headers["X-Buurtsignaal-Signature"], now)
        assert not notify_webhook.verify(SECRET, body, headers["X-Buurtsignaal-Timestamp"],
                                         headers["X-Buurtsignaal-Signature"], now + 301)
        payload = json.loads(body)
        assert payload["kind"] == "escalatie"
        assert payload["cases"] == [{"case_number": f"BS-{case_id:06d}", "case_id": case_id,
                                     "level": "signaal", "municipality": "GM0344",
                                     "grounds": ["herkomst"], "severity": 2,
                                     "url": f"https://buurtsignaal.example/zaken/{case_id}"}]
    finally:
        sched.pool.close()


def test_webhook_retries_with_backoff_then_dead_letter(
        smtp_settings: Settings, webhook: WebhookReceiver, tmp_path: Path) -> None:
    url = smtp_settings.database_url
    webhook.fail_first = 100
    sched = scheduler(smtp_settings, routing_yaml(tmp_path, webhook.url, max_attempts=3))
    case_id = seed_case(url)
    infra.query(url, "UPDATE cases SET status = 'in_behandeling' RETURNING 1")
    escalate(url, case_id, MONDAY)

    def hook_row() -> dict[str, Any]:
        return infra.query(url, "SELECT * FROM notifications WHERE channel = 'webhook'")[0]

    try:
        sched.tick(MONDAY)
        row = hook_row()
        assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1, "webhook: HTTP 503")
        assert row["next_attempt_at"] == MONDAY + timedelta(seconds=10)
        sched.tick(MONDAY + timedelta(seconds=9))
        assert hook_row()["attempts"] == 1 and len(webhook.requests) == 1
        sched.tick(MONDAY + timedelta(seconds=10))
        row = hook_row()
        assert row["attempts"] == 2 and row["next_attempt_at"] == MONDAY + timedelta(seconds=30)
        sched.tick(MONDAY + timedelta(seconds=30))
        row = hook_row()
        assert (row["status"], row["attempts"]) == ("dead", 3)
        assert len(webhook.requests) == 3
        sched.tick(MONDAY + timedelta(hours=1))
        assert len(webhook.requests) == 3  # dead letters are not retried
        # The dead-letter record holds no note text or personal data.
        assert "makaak" not in json.dumps(row["payload"]) and "3531" not in json.dumps(row["payload"])
        # A receiver that recovers gets the next message on the first retry.
        webhook.fail_first = len(webhook.requests) + 1
        other = seed_case(url, subject="hh-3")
        infra.query(url, "UPDATE cases SET status = 'in_behandeling' WHERE id = %s RETURNING 1",
                    (other,))
        escalate(url, other, MONDAY + timedelta(hours=2))
        sched.tick(MONDAY + timedelta(hours=2))
        sched.tick(MONDAY + timedelta(hours=2, seconds=10))
        statuses = infra.query(url, "SELECT status FROM notifications WHERE channel = 'webhook' "
                                    "ORDER BY id")
        assert [s["status"] for s in statuses] == ["dead", "sent"]
    finally:
        sched.pool.close()


def test_smtp_outage_is_retried_and_counted(settings: Settings, tmp_path: Path) -> None:
    from tests.support.infra import free_port

    down = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port(),
                                       "smtp_starttls": False, "data_dir": tmp_path})
    sched = scheduler(down, routing_yaml(tmp_path))
    case_id = seed_case(settings.database_url)
    set_created(settings.database_url, case_id, MONDAY)
    try:
        result = sched.tick(MONDAY + timedelta(minutes=1))
        assert result.failed == 1 and result.delivered == 0
        row = infra.query(settings.database_url, "SELECT * FROM notifications")[0]
        assert row["status"] == "pending" and row["last_error"].startswith("SMTP:")
    finally:
        sched.pool.close()


def test_demo_mode_without_smtp_writes_eml_files(settings: Settings, tmp_path: Path) -> None:
    demo = settings.model_copy(update={"smtp_host": "", "data_dir": tmp_path, "demo_mode": True})
    sched = scheduler(demo, routing_yaml(tmp_path))
    case_id = seed_case(settings.database_url)
    set_created(settings.database_url, case_id, MONDAY)
    try:
        assert sched.tick(MONDAY + timedelta(minutes=1)).delivered == 1
        files = list((tmp_path / "mail").glob("*.eml"))
        assert len(files) == 1 and f"BS-{case_id:06d}" in files[0].read_text()
    finally:
        sched.pool.close()


def test_metrics_count_states_reminders_and_failures(
        smtp_settings: Settings, mailbox: Mailbox, tmp_path: Path) -> None:
    from prometheus_client import REGISTRY

    def value(name: str, labels: dict[str, str]) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = value("buurtsignaal_notifier_reminders_sent_total", {"kind": "herinnering"})
    sched = scheduler(smtp_settings, routing_yaml(tmp_path))
    case_id = seed_case(smtp_settings.database_url, severity=3)
    set_created(smtp_settings.database_url, case_id, MONDAY)
    try:
        sched.tick(datetime(2026, 11, 2, 13, 0, tzinfo=AMS))
        assert value("buurtsignaal_notifier_reminders_sent_total", {"kind": "herinnering"}) == before + 1
        assert value("buurtsignaal_review_cases", {"adv_region": "midden-nederland",
                                                   "status": "nieuw"}) == 1
    finally:
        sched.pool.close()


def test_invalid_routing_file_stops_the_notifier_with_clear_errors(
        settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "routing.yaml"
    bad.write_text("receivers: [{name: a, email: {to: [a@b.example]}}]\n"
                   "route: {receiver: b, routes: [{match: {municipality: GM9999}}]}\n")
    with pytest.raises(RoutingError) as info:
        create_app(settings.model_copy(update={"routing_file": bad}), background=False)
    assert "route.receiver: unknown receiver 'b'" in str(info.value)
    assert "GM9999 is in no ADV region" in str(info.value)
    # A webhook whose secret is missing from the environment is refused at start.
    with pytest.raises(RoutingError, match="TEST_HOOK_SECRET must hold a secret"):
        load_routing(routing_yaml(tmp_path, "http://127.0.0.1:9/hook"),
                     RegionMap.load(REPO_ROOT / "config" / "regions.yaml"), env={})
