"""A small Arroyo-style consumer: poll -> decode -> process batch -> commit, with an explicit
dead-letter policy. At-least-once; the processing step must be idempotent.

Policy:
- a message that cannot be decoded or validated goes to the dead-letter topic (reason + errors,
  never the payload), and the loop moves on;
- a transient failure (database or broker unavailable) re-creates the consumer after a backoff,
  so the batch is consumed again from the last committed offset;
- any other failure of a batch is retried message by message; messages that still fail are
  dead-lettered with reason processing_error. No crash loop, nothing skipped silently.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import psycopg
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

from buurtsignaal import logs, metrics
from buurtsignaal.adapters.kafka import consumer_lag, make_consumer, make_producer
from buurtsignaal.config import Settings
from buurtsignaal.domain import events
from buurtsignaal.schemas import validate

log = logs.get(__name__)
T = TypeVar("T")

TRANSIENT = (psycopg.OperationalError, KafkaError, ConnectionError, TimeoutError)


def backoff_seconds(attempt: int, base: float = 0.2, cap: float = 5.0) -> float:
    """Exponential backoff for restarts: 0.2, 0.4, 0.8 ... capped at 5 s."""
    return float(min(cap, base * 2 ** max(0, attempt - 1)))


class InvalidMessage(Exception):
    def __init__(self, reason: str, errors: list[str]):
        super().__init__(reason)
        self.reason = reason
        self.errors = errors


def schema_decoder(schema: str) -> Callable[[bytes], dict[str, Any]]:
    """A decode step for one of our event schemas: JSON, then validation. The errors name the
    field and the problem, never a value from the payload (they end up in dead-letter records)."""

    def decode(raw: bytes) -> dict[str, Any]:
        try:
            value = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError, TypeError, RecursionError) as exc:
            raise InvalidMessage("invalid_json", [f"not valid JSON: {type(exc).__name__}"]) from exc
        errors = validate(schema, value)
        if errors:
            raise InvalidMessage("schema_violation", [f"{e['loc']}: {e['message']}" for e in errors])
        return value  # type: ignore[no-any-return]

    return decode


@dataclass
class Decoded(Generic[T]):
    record: ConsumerRecord
    value: T


@dataclass
class ConsumerLoop(Generic[T]):
    name: str
    bootstrap: str
    topic: str
    group_id: str
    dead_letter_topic: str
    decode: Callable[[bytes], T]
    process: Callable[[list[Decoded[T]]], None]
    stop: threading.Event
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_poll_records: int = 500

    def __post_init__(self) -> None:
        self._producer: Any = None

    @classmethod
    def for_service(
        cls, settings: Settings, *, name: str, topic: str, group_id: str,
        decode: Callable[[bytes], T], process: Callable[[list[Decoded[T]]], None], stop: threading.Event,
    ) -> ConsumerLoop[T]:
        """A loop with the broker, dead-letter topic and group timeouts from the settings."""
        return cls(
            name=name, bootstrap=settings.kafka_bootstrap, topic=topic, group_id=group_id,
            dead_letter_topic=settings.topic_deadletter, decode=decode, process=process, stop=stop,
            session_timeout_ms=settings.consumer_session_timeout_ms,
            heartbeat_interval_ms=settings.consumer_heartbeat_interval_ms,
        )

    def run(self) -> None:
        attempt = 0
        while not self.stop.is_set():
            consumer = None
            try:
                consumer = make_consumer(
                    self.bootstrap, self.topic, self.group_id,
                    session_timeout_ms=self.session_timeout_ms,
                    heartbeat_interval_ms=self.heartbeat_interval_ms,
                    max_poll_records=self.max_poll_records,
                )
                attempt = 0
                while not self.stop.is_set():
                    polled = consumer.poll(timeout_ms=300)
                    records = [r for batch in polled.values() for r in batch]
                    if records:
                        self._handle(records)
                        consumer.commit()
                    metrics.consumer_lag.labels(self.name).set(consumer_lag(consumer))
            except Exception as exc:  # noqa: BLE001 - the loop must survive anything
                attempt += 1
                delay = backoff_seconds(attempt)
                log.warning("consumer_restart", consumer=self.name, error=type(exc).__name__,
                            detail=str(exc)[:200], retry_in_s=round(delay, 2))
                self.stop.wait(delay)
            finally:
                if consumer is not None:
                    try:
                        consumer.close(autocommit=False)
                    except Exception:  # noqa: BLE001
                        pass
        if self._producer is not None:
            self._producer.close(timeout=5)

    def _handle(self, records: list[ConsumerRecord]) -> None:
        good: list[Decoded[T]] = []
        dead: list[tuple[ConsumerRecord, str, list[str]]] = []
        for record in records:
            try:
                good.append(Decoded(record, self.decode(record.value)))
            except InvalidMessage as exc:
                dead.append((record, exc.reason, exc.errors))
            except Exception as exc:  # noqa: BLE001 - a decoder bug must not become a crash loop
                dead.append((record, "processing_error", [f"decode failed: {type(exc).__name__}"]))
        if good:
            try:
                self.process(good)
            except TRANSIENT:
                raise
            except Exception as exc:  # noqa: BLE001 - isolate the poison message(s)
                log.warning("batch_failed_retrying_one_by_one", consumer=self.name, size=len(good),
                            error=type(exc).__name__)
                for item in good:
                    try:
                        self.process([item])
                    except TRANSIENT:
                        raise
                    except InvalidMessage as exc:
                        dead.append((item.record, exc.reason, exc.errors))
                    except Exception as exc:  # noqa: BLE001
                        dead.append((item.record, "processing_error", [type(exc).__name__]))
        if dead:
            self._dead_letter(dead)

    def _dead_letter(self, dead: list[tuple[ConsumerRecord, str, list[str]]]) -> None:
        if self._producer is None:
            self._producer = make_producer(self.bootstrap, f"{self.group_id}-dlq")
        now = datetime.now(UTC)
        futures = []
        for record, reason, errors in dead:
            payload = events.dead_letter(
                source_topic=record.topic, partition=record.partition, offset=record.offset,
                payload_sha256=hashlib.sha256(record.value or b"").hexdigest(),
                reason=reason, errors=errors, consumer=self.name, at=now,
            )
            futures.append(self._producer.send(self.dead_letter_topic, value=payload))
            metrics.dead_letters.labels(self.name, reason).inc()
            log.warning("dead_lettered", consumer=self.name, topic=record.topic,
                        partition=record.partition, offset=record.offset, reason=reason)
        self._producer.flush(timeout=10)
        for f in futures:
            f.get(timeout=10)
