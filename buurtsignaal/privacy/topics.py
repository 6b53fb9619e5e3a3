"""Topic configuration from config/retention.yaml: how long the bus keeps copies (decision 0028).

Event topics get `retention.ms` (`topic_retention_hours`, by logical topic name); the compacted
changelogs of the detector's state keep `cleanup.policy=compact` and get a bounded compaction
lag, so an overwritten or erased (tombstoned) value is gone from the log within that time.
`topic_configs` is pure; `create_all` applies it through the Kafka adapter.
"""

from __future__ import annotations

from buurtsignaal.config import Settings
from buurtsignaal.privacy.retention import RetentionPolicy

HOUR_MS = 3_600_000
# Logical names in config/retention.yaml -> the Settings field holding the topic's real name.
EVENT_TOPICS = ("incoming", "accepted", "scored", "deadletter", "alerts", "area_notes", "erasures")


def topic_configs(settings: Settings, policy: RetentionPolicy) -> dict[str, dict[str, str]]:
    """Config per real topic name for every topic the services use. Every event topic must have a
    retention in the policy: a topic without one would keep personal data forever."""
    unknown = set(policy.topic_retention_hours) - set(EVENT_TOPICS)
    if unknown:
        raise ValueError(f"retention: topic_retention_hours: unknown topic(s) {sorted(unknown)}; "
                         f"known: {', '.join(EVENT_TOPICS)}")
    missing = [t for t in EVENT_TOPICS if t not in policy.topic_retention_hours]
    if missing:
        raise ValueError(f"retention: topic_retention_hours: no retention for {', '.join(missing)}")
    configs = {
        getattr(settings, f"topic_{name}"): {"retention.ms": str(hours * HOUR_MS)}
        for name, hours in policy.topic_retention_hours.items()
    }
    lag = str(policy.changelog_compaction_lag_hours * HOUR_MS)
    for name in settings.compacted_topics:
        configs[name] = {"cleanup.policy": "compact", "max.compaction.lag.ms": lag,
                         "segment.ms": lag, "delete.retention.ms": lag}
    return configs


def retention_by_topic(settings: Settings, policy: RetentionPolicy) -> dict[str, int]:
    """Hours per real topic name (for the erasure report)."""
    return {getattr(settings, f"topic_{name}"): hours
            for name, hours in policy.topic_retention_hours.items() if name in EVENT_TOPICS}


def create_all(settings: Settings) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Create every missing topic with its configs; returns (created, drift of existing topics)."""
    from buurtsignaal.adapters.kafka import config_drift, create_topics

    configs = topic_configs(settings, RetentionPolicy.load(settings.retention_file))
    created = create_topics(settings.kafka_bootstrap, list(settings.topics), settings.topic_partitions,
                            compacted=settings.compacted_topics, configs=configs)
    existing = {t: c for t, c in configs.items() if t not in created}
    return created, config_drift(settings.kafka_bootstrap, existing) if existing else {}
