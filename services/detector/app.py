"""Streaming detector (faust-streaming): notes.accepted -> score -> notes.scored.

The early warning (notes.scored -> per-household/per-area tables -> alerts.raised,
early_warning/streaming.py) runs in its own process by default (`buurtsignaal serve
early-warning`, decision 0037); BUURTSIGNAAL_DETECTOR_EARLY_WARNING=true runs it inside this one.

Uses exactly the code path of `buurtsignaal detect` (load_detector + detect_many), in batches.
At-least-once: a replay re-scores a note and the notifier upserts by note id.
Entry point: `buurtsignaal serve detector`.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from buurtsignaal import logs, metrics
from buurtsignaal.config import Settings
from buurtsignaal.domain import events
from buurtsignaal.schemas import validate
from services.detector import transport
from services.detector.transport import ScoredSender

log = logs.get(__name__)
# aiohttp (faust's web server) wants the charset apart from the content type.
METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")


def decode_accepted(raw: bytes) -> dict[str, Any] | tuple[str, list[str]]:
    """The event, or (reason, errors) when it must be dead-lettered."""
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError, RecursionError) as exc:
        return "invalid_json", [f"not valid JSON: {type(exc).__name__}"]
    errors = validate("note-accepted.v1", value)
    if errors:
        return "schema_violation", [f"{e['loc']}: {e['message']}" for e in errors]
    return value


def base_app(settings: Settings, app_id: str, port: int, *, linger: float = 0.005) -> faust.App:
    """A faust app with the settings every Buurtsignaal faust process shares (the detector, and
    the early warning when it runs as its own process), with /metrics and /readyz."""
    transport.install()
    app = faust.App(
        app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        value_serializer="raw",
        key_serializer="raw",
        store="memory://",
        web_enabled=True,
        web_bind=settings.host,
        web_host=settings.host,
        web_port=port,
        broker_session_timeout=settings.consumer_session_timeout_ms / 1000,
        broker_heartbeat_interval=1.0,
        topic_partitions=settings.topic_partitions,
        topic_allow_declare=False,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        # Events sent together share produce requests (decisions 0031, 0038): faust's default
        # record batch of 16 KiB holds ~10 scored events, so a batch of 256 notes cost 25+ of
        # them; 512 KiB holds a partition's share of a batch and stays under Kafka's default
        # 1 MiB message.max.bytes. The linger (5 ms for the detector) is invisible in latency.
        producer_linger=linger,
        producer_max_batch_size=512 * 1024,
    )

    @app.page("/metrics")
    async def prometheus_metrics(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(), content_type=METRICS_CONTENT_TYPE)

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        ready = app.consumer is not None and bool(app.consumer.assignment())
        return web.json({"consumer_assigned": ready}, status=200 if ready else 503)

    return app


def create_app(settings: Settings) -> faust.App:
    from services.detector.learning.active import ActiveModel

    active = ActiveModel(settings)  # the admin-activated model (docs/decisions/0055)
    app = base_app(settings, "buurtsignaal-detector", settings.detector_port)
    accepted = app.topic(settings.topic_accepted, value_type=bytes, key_type=bytes)
    dead = app.topic(settings.topic_deadletter, value_type=bytes, key_type=bytes)
    sender = ScoredSender(app, settings.topic_scored)

    @app.agent(accepted)
    async def score(stream: Any) -> None:
        async for batch in stream.take_events(settings.detector_batch_size, within=0.05):
            await _score_batch(batch)

    async def _score_batch(batch: list[Any]) -> None:
        started = time.perf_counter()
        good: list[dict[str, Any]] = []
        for event in batch:
            raw = event.value
            decoded = decode_accepted(raw)
            if isinstance(decoded, tuple):
                reason, errors = decoded
                record = events.dead_letter(
                    source_topic=settings.topic_accepted,
                    partition=event.message.partition, offset=event.message.offset,
                    payload_sha256=hashlib.sha256(raw or b"").hexdigest(), reason=reason,
                    errors=errors, consumer="detector", at=datetime.now(UTC),
                )
                await dead.send(value=json.dumps(record).encode())
                metrics.dead_letters.labels("detector", reason).inc()
                continue
            good.append(decoded)
        if not good:
            return
        detector = active.detector  # one model per batch, even when a poll swaps it meanwhile
        try:
            detections = list(detector.detect_many((e["note_id"], e["text"]) for e in good))
        except Exception:
            metrics.detector_errors.inc()
            log.exception("detector_batch_failed", size=len(good))
            raise
        now = datetime.now(UTC)
        outgoing = [(e["subject_key"].encode(), json.dumps(events.note_scored(e, d, now)).encode())
                    for e, d in zip(good, detections, strict=True)]
        # No wait per event; the batch's acknowledgements are checked while the next batch is
        # scored (decision 0038).
        await sender.send_all(outgoing)
        metrics.notes_scored.inc(len(good))
        for detection in detections:
            for ground in detection.grounds if detection.flag else ():
                metrics.notes_flagged.labels(ground).inc()
        for event in good:
            received = datetime.fromisoformat(event["received_at"])
            metrics.event_age_at_scoring.observe(max(0.0, (now - received).total_seconds()))
        metrics.detect_latency.observe(time.perf_counter() - started)
        log.info("batch_scored", size=len(good), flagged=sum(d.flag for d in detections),
                 model_version=detector.model_version,
                 correlation_ids=[e["correlation_id"] for e in good])

    if settings.model_poll_seconds > 0:
        app.timer(settings.model_poll_seconds)(active.refresh)

    @app.timer(5.0)
    async def sample_lag() -> None:
        """buurtsignaal_consumer_lag_messages{consumer="detector"}: the high watermark of the
        assigned partitions (from the last fetch) minus what this worker has read."""
        if app.consumer is None:
            return
        assigned = [tp for tp in app.consumer.assignment() if tp.topic == settings.topic_accepted]
        read = app.monitor.tp_read_offsets
        committed = app.monitor.tp_committed_offsets
        lag = 0
        for tp in assigned:
            try:
                end = app.consumer.highwater(tp)
            except Exception:  # noqa: BLE001 - not fetched yet / mid-rebalance
                continue
            position = read[tp] + 1 if tp in read else committed.get(tp)
            if end is not None and position is not None:
                lag += max(0, end - position)
        metrics.consumer_lag.labels("detector").set(lag)

    if settings.detector_early_warning:
        # The early warning in this process (faust tables over notes.scored): one process less,
        # but it shares this process's core with scoring (decision 0037).
        from services.detector.early_warning.streaming import attach as attach_early_warning

        attach_early_warning(app, settings)

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok", "model_version": active.detector.model_version})

    return app
