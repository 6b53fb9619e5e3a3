"""Kafka adapter (kafka-python). Nothing here depends on tansu: production runs on Apache Kafka.

Idempotence stays off (see docs/decisions): consumers are idempotent instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)


def create_topics(bootstrap: str, topics: list[str], partitions: int,
                  compacted: tuple[str, ...] | list[str] = (),
                  configs: Mapping[str, Mapping[str, str]] | None = None) -> list[str]:
    """Create missing topics; returns the names that were created. Topics in `compacted` get
    cleanup.policy=compact (state changelogs must never lose their latest value to retention);
    `configs` adds per-topic settings such as retention.ms (buurtsignaal/privacy/topics.py).
    Existing topics are left as they are: see `config_drift`."""
    existing = list_topics(bootstrap)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="buurtsignaal-admin")
    try:
        wanted = [
            NewTopic(name=t, num_partitions=partitions, replication_factor=1,
                     topic_configs={**({"cleanup.policy": "compact"} if t in compacted else {}),
                                    **(configs or {}).get(t, {})})
            for t in topics
            if t not in existing
        ]
        if wanted:
            try:
                admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
        return [t.name for t in wanted]
    finally:
        admin.close()


def describe_topic_configs(bootstrap: str, topics: list[str]) -> dict[str, dict[str, str]]:
    """The configs the broker reports per topic (Kafka reports defaults too; tansu only what was
    set at creation)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="buurtsignaal-admin")
    try:
        responses = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t) for t in topics])
    finally:
        admin.close()
    found: dict[str, dict[str, str]] = {}
    for response in responses:
        for _err, _msg, _type, name, entries in (r[:5] for r in response.resources):
            found[name] = {e[0]: e[1] for e in entries}
    return found


def config_drift(bootstrap: str, configs: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """Per topic, the wanted settings the broker does not report with the wanted value (a topic
    created before the setting existed). Not altered here: AlterConfigs replaces a topic's whole
    config on Kafka, so the operator applies it with the cluster's own tooling."""
    actual = describe_topic_configs(bootstrap, list(configs))
    drift = {}
    for topic, wanted in configs.items():
        have = actual.get(topic, {})
        differ = {k: v for k, v in wanted.items() if have.get(k) != v}
        if differ:
            drift[topic] = differ
    return drift


def list_topics(bootstrap: str) -> set[str]:
    """Topic names from cluster metadata (the admin client's list_topics also asks for ACL
    operations, which not every Kafka-protocol broker reports in a form kafka-python accepts)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="buurtsignaal-admin")
    try:
        return set(consumer.topics())
    finally:
        consumer.close()


def make_producer(bootstrap: str, client_id: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        linger_ms=5,
        # The outbox relay hands the producer up to 500 events at once: with the default 16 KiB
        # a record batch held ~10 of them (one produce request part, CRC and header each);
        # 512 KiB fits a relay batch per partition (decision 0038).
        batch_size=512 * 1024,
        retries=5,
        max_in_flight_requests_per_connection=1,
        request_timeout_ms=10_000,
        max_block_ms=10_000,
        key_serializer=lambda k: k.encode() if isinstance(k, str) else k,
        value_serializer=lambda v: v if isinstance(v, bytes) else json.dumps(v).encode(),
    )


def make_consumer(
    bootstrap: str,
    topic: str,
    group_id: str,
    *,
    session_timeout_ms: int = 10_000,
    heartbeat_interval_ms: int = 3_000,
    max_poll_records: int = 500,
) -> KafkaConsumer:
    """A consumer that commits manually, after the effects of a batch are durable."""
    return KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=heartbeat_interval_ms,
        max_poll_records=max_poll_records,
        # A broker may hold a fetch until this wait expires even when data has arrived (the
        # embedded one does for multi-partition fetches; decision 0031): 100 ms, not 500 ms.
        fetch_max_wait_ms=100,
    )


def consumer_lag(consumer: KafkaConsumer) -> int:
    """Messages behind the end of the assigned partitions (0 when nothing is assigned).

    Uses the high watermark of the last fetch response (no extra request per poll); only a
    partition not fetched yet asks the broker for its end offset."""
    assigned = consumer.assignment()
    if not assigned:
        return 0
    ends = {tp: consumer.highwater(tp) for tp in assigned}
    unknown = [tp for tp, end in ends.items() if end is None]
    if unknown:
        ends.update(consumer.end_offsets(unknown))
    lag = 0
    for tp in assigned:
        try:
            lag += max(0, (ends.get(tp) or 0) - consumer.position(tp))
        except Exception:  # noqa: BLE001 - a partition mid-rebalance has no position yet
            continue
    return lag


def header_dict(headers: list[tuple[str, bytes]] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for key, value in headers or []:
        result[key] = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return result


def to_headers(values: dict[str, Any]) -> list[tuple[str, bytes]]:
    return [(k, str(v).encode()) for k, v in values.items() if v is not None]
