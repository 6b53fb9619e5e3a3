"""The notifier's background worker: who must be told what now, and delivering it.

Each tick (a) asks the pure `due_actions(now, cases, routing, sent)` which messages are due and
stores them in `notifications` (one transaction, under an advisory lock so two notifier
instances never schedule twice), then (b) delivers pending messages, retrying with exponential
backoff until a receiver's `max_attempts`, after which the row stays as a dead-letter record
(status 'dead'). `tick(now)` takes the clock as an argument, so tests drive time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from buurtsignaal import logs, metrics
from buurtsignaal.adapters import cases_repo, notify_email, notify_webhook
from buurtsignaal.config import Settings
from buurtsignaal.domain.regions import RegionMap
from buurtsignaal.domain.routing import Action, CaseSnapshot, Routing, RoutingError, Sent, due_actions

log = logs.get(__name__)
SCHEDULE_LOCK = 0x6273_6E6F  # pg advisory lock id: one scheduler at a time across instances
MAX_BACKOFF = timedelta(hours=1)


def load_routing(path: Path, regions: RegionMap, env: dict[str, str] | None = None) -> Routing:
    """Read and validate the routing file; RoutingError lists every problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RoutingError([f"{path}: {exc}"]) from exc
    municipalities = {code: r.municipalities for code, r in regions.regions.items()}
    return Routing.from_dict(data, regions=municipalities,
                             env=dict(os.environ) if env is None else env)


def smtp_config(settings: Settings) -> notify_email.SmtpConfig:
    return notify_email.SmtpConfig(
        host=settings.smtp_host, port=settings.smtp_port, user=settings.smtp_user,
        password=settings.smtp_password, starttls=settings.smtp_starttls, ssl=settings.smtp_ssl,
        sender=settings.smtp_from,
        file_dir=settings.data_dir / "mail" if settings.demo_mode else None,
    )


def backoff(base: timedelta, attempts: int) -> timedelta:
    """Delay before attempt `attempts + 1`: base, 2x, 4x, ... at most an hour."""
    return min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def case_number(case_id: int) -> str:
    return f"BS-{case_id:06d}"


@dataclass
class TickResult:
    scheduled: list[Action]
    delivered: int
    failed: int


class Scheduler:
    def __init__(self, settings: Settings, pool: ConnectionPool, routing: Routing,
                 stop: threading.Event | None = None, env: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.env = os.environ if env is None else env  # where webhook secrets come from
        self.pool = pool
        self.routing = routing
        self.stop = stop or threading.Event()
        self.smtp = smtp_config(settings)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.tick(datetime.now(UTC))
            except Exception:  # keep the worker alive; the next tick retries
                log.exception("scheduler_tick_failed")
            self.stop.wait(self.settings.notify_interval_seconds)

    def tick(self, now: datetime) -> TickResult:
        scheduled = self.schedule(now)
        delivered, failed = self.deliver(now)
        self.refresh_gauges()
        return TickResult(scheduled, delivered, failed)

    # -- (a) scheduling ------------------------------------------------------------------------

    def schedule(self, now: datetime) -> list[Action]:
        with self.pool.connection() as conn, conn.transaction():
            locked = conn.execute("SELECT pg_try_advisory_xact_lock(%s) AS ok",
                                  (SCHEDULE_LOCK,)).fetchone()
            if not locked or not locked["ok"]:
                return []
            cases = _open_cases(conn)
            sent = _sent_for(conn, [c.id for c in cases], now)
            actions = due_actions(now, cases, self.routing, sent)
            by_id = {c.id: c for c in cases}
            for action in actions:
                self._store(conn, action, by_id, now)
        for action in actions:
            log.info("notification_scheduled", kind=action.kind, receiver=action.receiver,
                     cases=len(action.case_ids))
            if action.kind.startswith("herinnering"):
                metrics.reminders_sent.labels(action.kind).inc(len(action.case_ids))
        return actions

    def _store(self, conn: psycopg.Connection, action: Action, by_id: dict[int, CaseSnapshot],
               now: datetime) -> None:
        receiver = self.routing.receivers[action.receiver]
        payload = {
            "type": "buurtsignaal.notification.v1",
            "kind": action.kind,
            "event": action.event,
            "receiver": action.receiver,
            "created_at": now.astimezone(UTC).isoformat(),
            "cases": [self._case_payload(by_id[cid]) for cid in action.case_ids],
        }
        channels = [c for c, present in (("email", receiver.email), ("webhook", receiver.webhook))
                    if present]
        for channel in channels:
            conn.execute(
                """INSERT INTO notifications (kind, event, receiver, channel, group_key, case_ids,
                       payload, next_attempt_at, created_at)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (action.kind, action.event, action.receiver, channel, action.group_key,
                 list(action.case_ids), Jsonb(payload), now, now),
            )

    def _case_payload(self, case: CaseSnapshot) -> dict[str, Any]:
        # Deliberately no note text, names or addresses: identifiers and labels only.
        return {
            "case_number": case_number(case.id),
            "case_id": case.id,
            "level": case.level,
            "municipality": case.municipality_code,
            "grounds": list(case.grounds),
            "severity": case.severity,
            "url": f"{self.settings.notifier_url}/zaken/{case.id}",
        }

    # -- (b) delivery ----------------------------------------------------------------------------

    def deliver(self, now: datetime, batch: int = 20) -> tuple[int, int]:
        delivered = failed = 0
        while True:
            with self.pool.connection() as conn, conn.transaction():
                rows = conn.execute(
                    """SELECT * FROM notifications
                       WHERE status = 'pending' AND next_attempt_at <= %s
                       ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED""", (now, batch)).fetchall()
                for row in rows:
                    if self._attempt(conn, row, now):
                        delivered += 1
                    else:
                        failed += 1
            if len(rows) < batch:
                return delivered, failed

    def _attempt(self, conn: psycopg.Connection, row: dict[str, Any], now: datetime) -> bool:
        receiver = self.routing.receivers.get(row["receiver"])
        try:
            if receiver is None:
                raise notify_email.DeliveryError("receiver no longer in the routing file")
            if row["channel"] == "email" and receiver.email:
                notify_email.send(self.smtp, receiver.email.to, row["payload"], f"bs-{row['id']}")
            elif row["channel"] == "webhook" and receiver.webhook:
                secret = self.env.get(receiver.webhook.secret_env, "")
                if len(secret) < 32:
                    raise notify_email.DeliveryError(f"{receiver.webhook.secret_env} not set")
                notify_webhook.send(receiver.webhook.url, secret, row["payload"], f"bs-{row['id']}",
                                    now.timestamp())
            else:
                raise notify_email.DeliveryError(f"receiver has no {row['channel']} channel")
        except notify_email.DeliveryError as exc:
            attempts = row["attempts"] + 1
            max_attempts = receiver.max_attempts if receiver else 1
            dead = attempts >= max_attempts
            delay = backoff(receiver.backoff if receiver else timedelta(0), attempts)
            conn.execute(
                """UPDATE notifications SET attempts = %s, last_error = %s, status = %s,
                       next_attempt_at = %s WHERE id = %s""",
                (attempts, str(exc)[:500], "dead" if dead else "pending", now + delay, row["id"]))
            metrics.notification_failures.labels(row["channel"], "dead" if dead else "retry").inc()
            log.warning("notification_failed", notification_id=row["id"], channel=row["channel"],
                        receiver=row["receiver"], attempts=attempts, dead=dead, error=str(exc)[:200])
            return False
        conn.execute("UPDATE notifications SET status = 'sent', attempts = attempts + 1, "
                     "sent_at = %s, last_error = '' WHERE id = %s", (now, row["id"]))
        metrics.notifications_sent.labels(row["channel"], row["kind"]).inc()
        log.info("notification_sent", notification_id=row["id"], channel=row["channel"],
                 receiver=row["receiver"], kind=row["kind"])
        return True

    def refresh_gauges(self) -> None:
        with self.pool.connection() as conn:
            counts = cases_repo.count_by_state(conn)
            dead = conn.execute("SELECT count(*) AS n FROM notifications WHERE status = 'dead'"
                                ).fetchone()
        metrics.review_cases.clear()
        for row in counts:
            metrics.review_cases.labels(row["adv_region"], row["status"]).set(row["n"])
        metrics.notifications_dead.set(dead["n"] if dead else 0)


def _open_cases(conn: psycopg.Connection) -> list[CaseSnapshot]:
    rows = conn.execute(
        """SELECT id, status, level, severity, grounds, municipality_code, adv_region, created_at,
                  escalated_at, acknowledged_at
           FROM cases
           WHERE status = 'nieuw' OR (status = 'geescaleerd' AND acknowledged_at IS NULL)"""
    ).fetchall()
    return [CaseSnapshot(r["id"], r["status"], r["level"], r["severity"], tuple(r["grounds"]),
                         r["municipality_code"], r["adv_region"], r["created_at"],
                         r["escalated_at"], r["acknowledged_at"]) for r in rows]


def _sent_for(conn: psycopg.Connection, case_ids: list[int], now: datetime) -> list[Sent]:
    # DISTINCT: a receiver with e-mail and webhook gets two rows for one message.
    rows = [] if not case_ids else conn.execute(
        """SELECT DISTINCT c.case_id, n.receiver, n.kind, n.group_key, n.created_at
           FROM notifications n CROSS JOIN LATERAL unnest(n.case_ids) AS c(case_id)
           WHERE n.case_ids && %s::bigint[] AND c.case_id = ANY(%s::bigint[])""",
        (case_ids, case_ids)).fetchall()
    sent = [Sent(r["case_id"], r["receiver"], r["kind"], r["group_key"], r["created_at"])
            for r in rows]
    # The last message per group, even when its cases are closed by now: group_interval counts
    # from it. case_id 0 marks these as group memory only.
    groups = conn.execute(
        """SELECT receiver, kind, group_key, max(created_at) AS at FROM notifications
           WHERE kind IN ('nieuw', 'escalatie') AND created_at > %s
           GROUP BY receiver, kind, group_key""", (now - timedelta(days=1),)).fetchall()
    return sent + [Sent(0, g["receiver"], g["kind"], g["group_key"], g["at"]) for g in groups]
