"""Topic retention from config/retention.yaml is set at creation, and the broker reports it back
(tansu stores the configs given at creation and answers DescribeConfigs with them)."""

from __future__ import annotations

import uuid

from buurtsignaal.adapters.kafka import create_topics, describe_topic_configs
from buurtsignaal.devstack import EmbeddedBroker, EmbeddedPostgres
from buurtsignaal.privacy.retention import RetentionPolicy
from buurtsignaal.privacy.topics import create_all
from tests.support import infra

NAMES = ("incoming", "accepted", "scored", "deadletter", "alerts", "household_state", "area_state",
         "area_notes", "erasures")


def test_topics_get_retention_and_changelogs_stay_compacted(pg: EmbeddedPostgres,
                                                            broker: EmbeddedBroker) -> None:
    prefix = f"rt{uuid.uuid4().hex[:6]}"
    settings = infra.make_settings(pg, broker, **{f"topic_{n}": f"{prefix}.{n}" for n in NAMES})
    # One topic exists already, created before retention was configured: it is reported, not altered.
    create_topics(settings.kafka_bootstrap, [settings.topic_scored], settings.topic_partitions)
    created, drift = create_all(settings)
    assert set(created) == set(settings.topics) - {settings.topic_scored}
    assert drift == {settings.topic_scored: {"retention.ms": str(168 * 3_600_000)}}

    configs = describe_topic_configs(settings.kafka_bootstrap, list(settings.topics))
    hours = RetentionPolicy.load(settings.retention_file).topic_retention_hours
    assert configs[settings.topic_incoming]["retention.ms"] == str(hours["incoming"] * 3_600_000)
    assert configs[settings.topic_incoming]["retention.ms"] == "259200000"  # 72 h, as documented
    for name in ("accepted", "deadletter", "alerts", "area_notes", "erasures"):
        topic = getattr(settings, f"topic_{name}")
        assert configs[topic]["retention.ms"] == str(hours[name] * 3_600_000), topic
        assert "cleanup.policy" not in configs[topic]
    for topic in settings.compacted_topics:
        assert configs[topic]["cleanup.policy"] == "compact"
        assert "retention.ms" not in configs[topic]  # the latest value per key must never expire
        assert configs[topic]["max.compaction.lag.ms"] == str(24 * 3_600_000)
    # Idempotent: a second run creates nothing and finds nothing to report.
    assert create_all(settings) == ([], {settings.topic_scored: {"retention.ms": str(168 * 3_600_000)}})
