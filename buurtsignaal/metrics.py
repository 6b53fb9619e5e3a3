"""Prometheus metrics, one module so the catalogue in docs/operations.md has one source.

Labels stay low-cardinality: never a household, note or person.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

# ingest
notes_received = Counter(
    "buurtsignaal_ingest_notes_received_total", "Notes received, valid or not", ["source"]
)
notes_accepted = Counter(
    "buurtsignaal_ingest_notes_accepted_total", "Notes stored and queued for publishing",
    ["source", "tenant"],
)
notes_duplicate = Counter(
    "buurtsignaal_ingest_notes_duplicate_total", "Notes already known (same tenant + external_id)",
    ["source"],
)
notes_rejected = Counter(
    "buurtsignaal_ingest_notes_rejected_total", "Notes or requests rejected", ["source", "reason"]
)
dead_letters = Counter(
    "buurtsignaal_dead_letters_total", "Messages sent to the dead-letter topic",
    ["consumer", "reason"],
)
outbox_published = Counter(
    "buurtsignaal_ingest_outbox_published_total", "Outbox events published to the broker"
)
outbox_publish_failures = Counter(
    "buurtsignaal_ingest_outbox_publish_failures_total", "Failed attempts to publish an outbox batch"
)
outbox_pending = Gauge("buurtsignaal_ingest_outbox_pending", "Outbox events not yet published")
outbox_oldest_age = Gauge(
    "buurtsignaal_ingest_outbox_oldest_pending_age_seconds", "Age of the oldest unpublished event"
)
request_latency = Histogram(
    "buurtsignaal_ingest_request_duration_seconds", "POST /v1/notes handling time",
    buckets=LATENCY_BUCKETS,
)
consumer_lag = Gauge(
    "buurtsignaal_consumer_lag_messages", "Messages behind the end of the assigned partitions",
    ["consumer"],
)

# detector
notes_scored = Counter("buurtsignaal_detector_notes_scored_total", "Notes scored")
notes_flagged = Counter(
    "buurtsignaal_detector_notes_flagged_total", "Flagged notes by ground", ["ground"]
)
detector_errors = Counter("buurtsignaal_detector_errors_total", "Batches that failed to score")
detect_latency = Histogram(
    "buurtsignaal_detector_batch_duration_seconds", "Time to score one batch", buckets=LATENCY_BUCKETS
)
event_age_at_scoring = Histogram(
    "buurtsignaal_detector_note_age_seconds", "From ingest (received_at) to scored",
    buckets=LATENCY_BUCKETS,
)

# notifier
scores_stored = Counter("buurtsignaal_notifier_scores_stored_total", "Scored events stored")
cases_created = Counter(
    "buurtsignaal_notifier_cases_created_total", "Review cases created", ["adv_region"]
)
end_to_end_latency = Histogram(
    "buurtsignaal_notifier_end_to_end_seconds", "From ingest (received_at) to case stored",
    buckets=LATENCY_BUCKETS,
)
