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

# --- operations (docs/operations.md) ---------------------------------------------------------
# Sampled from PostgreSQL (buurtsignaal/adapters/ops_gauges.py) or set where the event happens.
last_accepted = Gauge(
    "buurtsignaal_ingest_last_accepted_timestamp_seconds",
    "Unix time of the newest note accepted for a tenant (restored from the database at start)",
    ["tenant"],
)
outbox_resent = Counter(
    "buurtsignaal_ingest_outbox_resent_total",
    "Accepted notes re-enqueued in the outbox because no score arrived within the grace period",
)
unscored_notes = Gauge(
    "buurtsignaal_ingest_unscored_notes",
    "Accepted notes older than the grace period that have no score yet",
)
cases_past_sla = Gauge(
    "buurtsignaal_notifier_cases_past_sla",
    "Cases waiting past their pick-up SLA (config/routing.yaml): new, or escalated and not "
    "acknowledged", ["adv_region"],
)
oldest_new_case_age = Gauge(
    "buurtsignaal_notifier_oldest_new_case_age_seconds", "Age of the oldest case nobody picked up",
    ["adv_region"],
)

# review workflow and notifications (notifier)
REVIEW_BUCKETS = (60, 300, 900, 3600, 4 * 3600, 8 * 3600, 86400, 2 * 86400, 4 * 86400, 7 * 86400,
                  14 * 86400, 30 * 86400)
review_cases = Gauge(
    "buurtsignaal_review_cases", "Cases by workflow state (refreshed by the notifier's scheduler)",
    ["adv_region", "status"],
)
review_transitions = Counter(
    "buurtsignaal_review_transitions_total", "Status changes made by people", ["to_status"]
)
review_conflicts = Counter(
    "buurtsignaal_review_conflicts_total", "Actions refused because someone else changed the case first"
)
time_to_first_review = Histogram(
    "buurtsignaal_review_time_to_first_review_seconds", "From case created to first picked up",
    buckets=REVIEW_BUCKETS,
)
time_to_escalation = Histogram(
    "buurtsignaal_review_time_to_escalation_seconds", "From case created to escalated to the municipality",
    buckets=REVIEW_BUCKETS,
)
notifications_sent = Counter(
    "buurtsignaal_notifier_notifications_sent_total", "Messages delivered to receivers",
    ["channel", "kind"],
)
reminders_sent = Counter(
    "buurtsignaal_notifier_reminders_sent_total",
    "Reminders scheduled because a case was not picked up within its SLA", ["kind"],
)
notification_failures = Counter(
    "buurtsignaal_notifier_notification_failures_total",
    "Failed delivery attempts; outcome=retry (will retry) or dead (dead-letter record)",
    ["channel", "outcome"],
)
notifications_dead = Gauge(
    "buurtsignaal_notifier_notifications_dead", "Dead-letter records (messages never delivered)"
)

# privacy (buurtsignaal/privacy/): counts by kind only, never values
identifiers_pseudonymised = Counter(
    "buurtsignaal_ingest_identifiers_pseudonymised_total",
    "Identifiers replaced by placeholders at ingest", ["kind"],
)
rate_limited = Counter(
    "buurtsignaal_ingest_rate_limited_total", "Requests refused by the per-key rate limit"
)
retention_removed = Counter(
    "buurtsignaal_retention_removed_total", "Rows removed or anonymised by retention and erasure",
    ["kind"],
)
retention_last_run = Gauge(
    "buurtsignaal_retention_last_run_timestamp_seconds", "When the last retention purge finished"
)

# detector: early warning (pattern alerts per household and area)
alerts_raised = Counter(
    "buurtsignaal_detector_alerts_raised_total", "Pattern alerts raised or upgraded, by rule and level",
    ["scope", "rule", "level"],
)
early_warning_table_keys = Gauge(
    "buurtsignaal_detector_early_warning_table_keys",
    "Keys (households or areas) held in an early-warning table on this worker", ["table"],
)
early_warning_table_notes = Gauge(
    "buurtsignaal_detector_early_warning_table_notes",
    "Notes held in an early-warning table on this worker (all keys together)", ["table"],
)
early_warning_skipped = Counter(
    "buurtsignaal_detector_early_warning_skipped_total",
    "Notes not added to early-warning state (duplicate, too_late, invalid, error)", ["table", "reason"],
)

# notifier: pattern alerts
alerts_stored = Counter(
    "buurtsignaal_notifier_alerts_stored_total", "Pattern alerts stored or upgraded", ["scope", "level"]
)

# learning loop (services/detector/learning, docs/model-card.md)
detector_model_info = Gauge(
    "buurtsignaal_detector_model_info", "The model version this detector scores with (value 1)",
    ["model_version"],
)
detector_model_switches = Counter(
    "buurtsignaal_detector_model_switches_total",
    "Times the detector loaded another model after an admin activated or rolled back one",
)
review_decisions_by_model = Gauge(
    "buurtsignaal_review_decisions_by_model",
    "Reviewer decisions per model version that scored the note and per ground it named: "
    "decision=bevestigd|afgewezen (sampled from case_labels by the notifier)",
    ["model_version", "ground", "decision"],
)
