"""The early warning inside the streaming detector (faust): two agents and two changelog tables.

    notes.scored (key subject_key) -> households agent -> table households (changelog, compacted)
        |-> alerts.raised (household alerts, key subject_key)
        '-> detector.early-warning.area-notes (key area_key: the repartition by area)
                -> areas agent -> table areas (changelog, compacted)
                   '-> alerts.raised (area alerts, key area_key)

Tables are partitioned like their source topic (faust writes a key's changelog to the partition
of the event being processed), so scaling out over workers moves state with its partitions.

Order of effects per note, for at-least-once without losses: alerts and the forwarded area note
are sent and acknowledged first, the table state is written after. A crash in between replays
the note; the state does not have it yet, so the same alerts (same deterministic ids) are sent
again and the notifier's upsert absorbs them. A note already in the state changes nothing.

Forgetting (erasure and retention, decision 0026): privacy.erasures (erasure.v1, key subject_key,
so co-partitioned with notes.scored and the households changelog) -> forget agent: first a forget
command per listed area on the area-notes topic (acknowledged), then the household's entry is
deleted or trimmed; deleting writes a tombstone to the changelog, so recovery does not bring it
back. The areas agent applies the forget command on the area's own partition.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import faust
from prometheus_client import Counter

from buurtsignaal import logs, metrics
from buurtsignaal.adapters.consumer_loop import backoff_seconds
from buurtsignaal.config import Settings
from buurtsignaal.schemas import validate

from .alerts import alert_event
from .backtest import StepResult, Steps
from .config import RulesError, RuleSet, load_rules
from .engine import Emission
from .forget import Forgotten, forget_household, forget_notes
from .observation import Observation, from_scored_event

log = logs.get(__name__)
# Defined here, not in buurtsignaal/metrics.py, so it moves with attach() if the early warning
# gets its own process.
forgotten_total = Counter(
    "buurtsignaal_detector_early_warning_forgotten_total",
    "Notes removed from early-warning state by erasure or retention (what: notes), and keys deleted",
    ["table", "reason", "what"],
)
RETRIES = 6  # waits 0.2 + 0.4 + ... + 3.2 s: rides out a broker hiccup, then gives up on the note


async def with_retries(table: str, handle: Callable[[bytes], Awaitable[None]], event: Any) -> None:
    """Run `handle` on one event; retry with backoff, then log and skip. Never raise: a crashed
    faust agent acknowledges and skips events, which would lose notes silently."""
    for attempt in range(1, RETRIES + 1):
        try:
            await handle(event.value)
            return
        except Exception as exc:  # noqa: BLE001 - any failure: retry, then skip with a log
            if attempt == RETRIES:
                metrics.early_warning_skipped.labels(table, "error").inc()
                log.error("early_warning_failed", table=table, error=type(exc).__name__,
                          partition=event.message.partition, offset=event.message.offset)
                return
            await asyncio.sleep(backoff_seconds(attempt, cap=6.4))


class JsonTable:
    """A faust table of raw bytes seen as str -> dict (the state is plain JSON), which also knows
    how many notes it holds (for the table-size metric) without parsing every value each time."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.notes_per_key: dict[bytes, int] | None = None  # filled on the first size() call

    def get(self, key: str) -> dict[str, Any] | None:
        raw = self.table.get(key.encode())
        return json.loads(raw) if raw else None

    def set(self, key: str, value: dict[str, Any]) -> None:
        self.table[key.encode()] = json.dumps(value, separators=(",", ":")).encode()
        if self.notes_per_key is not None:
            self.notes_per_key[key.encode()] = len(value["notes"])

    def delete(self, key: str) -> None:
        """Delete the key: faust writes a tombstone (value None) to the changelog."""
        if key.encode() in self.table:
            del self.table[key.encode()]
        if self.notes_per_key is not None:
            self.notes_per_key.pop(key.encode(), None)

    def apply(self, key: str, result: Forgotten) -> None:
        if not result.changed:
            return
        if result.state is None:
            self.delete(key)
        else:
            self.set(key, result.state)

    def size(self) -> tuple[int, int]:
        """(keys, notes) held on this worker. The first call scans what recovery restored."""
        if self.notes_per_key is None:
            self.notes_per_key = {k: len(json.loads(v)["notes"]) for k, v in self.table.items() if v}
        return len(self.table), sum(self.notes_per_key.values())


def ruleset_version(ruleset: RuleSet) -> str:
    try:
        text = open(ruleset.source, "rb").read()  # noqa: SIM115 - tiny file, read once at start
    except OSError:
        text = ruleset.source.encode()
    return "rules-" + hashlib.sha256(text).hexdigest()[:12]


def load_or_exit(settings: Settings) -> RuleSet:
    """Validate the rules at start: a broken file stops the service with every problem listed."""
    try:
        return load_rules(settings.early_warning_rules)
    except RulesError as exc:
        log.error("early_warning_rules_invalid", detail=str(exc))
        raise SystemExit(f"early warning: {exc}") from None


def _table(app: faust.App, name: str, topic: str, partitions: int) -> Any:
    changelog = app.topic(topic, key_type=bytes, value_type=bytes, partitions=partitions,
                          compacting=True, acks=False, internal=True, maxsize=131_072,
                          allow_empty=True)
    return app.Table(name, default=None, partitions=partitions, key_type=bytes, value_type=bytes,
                     changelog_topic=changelog)


def attach(app: faust.App, settings: Settings) -> None:
    """Add the early-warning tables and agents to the detector app."""
    ruleset = load_or_exit(settings)
    version = ruleset_version(ruleset)
    weak_cfg = ruleset.settings.weak_signals
    steps = Steps(ruleset)
    partitions = settings.topic_partitions
    households = JsonTable(_table(app, "households", settings.topic_household_state, partitions))
    areas = JsonTable(_table(app, "areas", settings.topic_area_state, partitions))
    scored = app.topic(settings.topic_scored, value_type=bytes, key_type=bytes)
    area_notes = app.topic(settings.topic_area_notes, value_type=bytes, key_type=bytes)
    alerts = app.topic(settings.topic_alerts, value_type=bytes, key_type=bytes)
    erasures = app.topic(settings.topic_erasures, value_type=bytes, key_type=bytes)
    log.info("early_warning_rules_loaded", version=version, household_rules=len(ruleset.household),
             area_rules=len(ruleset.area))

    async def publish(emissions: list[Emission]) -> None:
        now = datetime.now(UTC)
        for emission in emissions:
            event = alert_event(emission, ruleset_version=version, detected_at=now)
            pending = await alerts.send(key=emission.key.encode(),
                                        value=json.dumps(event, ensure_ascii=False).encode())
            await pending  # acknowledged before the state that remembers it is written
            metrics.alerts_raised.labels(emission.scope, emission.rule, emission.level).inc()
            log.info("pattern_alert", alert_id=emission.alert_id, scope=emission.scope,
                     rule=emission.rule, alert_level=emission.level, previous_level=emission.previous_level,
                     notes=len(emission.note_ids))

    def account(table: str, result: StepResult) -> None:
        if result.skipped:
            metrics.early_warning_skipped.labels(table, result.skipped).inc()

    async def on_scored(raw: bytes) -> None:
        try:
            event = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError, TypeError):
            metrics.early_warning_skipped.labels("households", "invalid").inc()
            return
        if validate("note-scored.v1", event):
            # The notifier dead-letters invalid scored events; here they are only counted.
            metrics.early_warning_skipped.labels("households", "invalid").inc()
            return
        obs = from_scored_event(event, weak_cfg)
        result = steps.household(households, obs, event["subject_key"], event["municipality_code"])
        await publish(result.emissions)
        if result.forward:
            message = {"area_key": event["area_key"], "municipality_code": event["municipality_code"],
                       "observation": obs.to_row()}
            pending = await area_notes.send(key=event["area_key"].encode(),
                                            value=json.dumps(message).encode())
            await pending
        if result.state is not None:
            households.set(event["subject_key"], result.state)
        account("households", result)

    def count_forgotten(table: str, reason: str, result: Forgotten) -> None:
        if result.notes:
            forgotten_total.labels(table, reason, "notes").inc(result.notes)
        if result.changed and result.state is None:
            forgotten_total.labels(table, reason, "keys").inc()

    async def on_erasure(raw: bytes) -> None:
        try:
            event = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError, TypeError):
            event = None
        if not isinstance(event, dict) or validate("erasure.v1", event):
            metrics.early_warning_skipped.labels("erasures", "invalid").inc()
            log.error("erasure_event_invalid")  # an operator must look: something was not forgotten
            return
        key, reason = event["subject_key"], event["reason"]
        # Areas first, acknowledged: a crash before the household write replays the whole event.
        forget_in_area = {"subject_key": key if event["household"] else "", "note_ids": event["note_ids"],
                          "reason": reason}
        for area_key in event["area_keys"]:
            pending = await area_notes.send(key=area_key.encode(), value=json.dumps(
                {"area_key": area_key, "forget": forget_in_area}).encode())
            await pending
        current = households.get(key)
        result = (forget_household(current) if event["household"]
                  else forget_notes(current, event["note_ids"]))
        households.apply(key, result)
        count_forgotten("households", reason, result)
        log.info("early_warning_forgotten", event_id=event["event_id"], reason=reason,
                 household=event["household"], notes=result.notes, areas=len(event["area_keys"]))

    def on_area_forget(area_key: str, command: dict[str, Any]) -> None:
        result = forget_notes(areas.get(area_key), command["note_ids"], subject_key=command["subject_key"])
        areas.apply(area_key, result)
        count_forgotten("areas", command["reason"], result)

    async def on_area_note(raw: bytes) -> None:
        message = json.loads(raw)
        if "forget" in message:
            on_area_forget(message["area_key"], message["forget"])
            return
        obs = Observation.from_row(message["observation"])
        result = steps.area(areas, obs, message["area_key"], message["municipality_code"])
        await publish(result.emissions)
        if result.state is not None:
            areas.set(message["area_key"], result.state)
        account("areas", result)

    @app.agent(scored, name="early-warning-households")
    async def household_agent(stream: Any) -> None:
        async for event in stream.events():
            await with_retries("households", on_scored, event)

    @app.agent(area_notes, name="early-warning-areas")
    async def area_agent(stream: Any) -> None:
        async for event in stream.events():
            await with_retries("areas", on_area_note, event)

    @app.agent(erasures, name="early-warning-forget")
    async def forget_agent(stream: Any) -> None:
        async for event in stream.events():
            await with_retries("erasures", on_erasure, event)

    @app.timer(interval=10.0)
    async def table_sizes() -> None:
        for name, table in (("households", households), ("areas", areas)):
            keys, notes = table.size()
            metrics.early_warning_table_keys.labels(name).set(keys)
            metrics.early_warning_table_notes.labels(name).set(notes)

