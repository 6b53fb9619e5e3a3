"""Topic configs derived from the retention policy (pure)."""

from __future__ import annotations

import pytest

from buurtsignaal.config import Settings
from buurtsignaal.privacy.retention import RetentionPolicy
from buurtsignaal.privacy.topics import EVENT_TOPICS, topic_configs

HOURS = dict.fromkeys(EVENT_TOPICS, 24)


def test_every_topic_gets_a_config_and_changelogs_stay_compacted() -> None:
    settings = Settings(topic_accepted="x.accepted")
    configs = topic_configs(settings, RetentionPolicy(topic_retention_hours={**HOURS, "accepted": 2},
                                                      changelog_compaction_lag_hours=6))
    assert set(configs) == set(settings.topics)
    assert configs["x.accepted"] == {"retention.ms": str(2 * 3_600_000)}
    for topic in settings.compacted_topics:
        assert configs[topic]["cleanup.policy"] == "compact" and "retention.ms" not in configs[topic]
        assert configs[topic]["max.compaction.lag.ms"] == str(6 * 3_600_000)


def test_the_shipped_policy_covers_every_topic() -> None:
    settings = Settings()
    configs = topic_configs(settings, RetentionPolicy.load(settings.retention_file))
    assert configs[settings.topic_incoming] == {"retention.ms": str(72 * 3_600_000)}


def test_a_topic_without_retention_or_an_unknown_name_is_refused() -> None:
    with pytest.raises(ValueError, match="no retention for erasures"):
        topic_configs(Settings(), RetentionPolicy(topic_retention_hours={
            k: v for k, v in HOURS.items() if k != "erasures"}))
    with pytest.raises(ValueError, match="unknown topic"):
        topic_configs(Settings(), RetentionPolicy(topic_retention_hours={**HOURS, "notes.scored": 1}))
    with pytest.raises(ValueError, match="whole number of hours"):
        RetentionPolicy(topic_retention_hours={**HOURS, "accepted": 0})
