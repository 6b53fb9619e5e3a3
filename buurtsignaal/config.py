"""All settings come from environment variables (prefix BUURTSIGNAAL_), with embedded-stack defaults.

Outside demo mode the secrets have no defaults: the services refuse to start without them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Where schemas/, models/, config/ and demo/ live: the source tree, or BUURTSIGNAAL_HOME when the
# packages are installed elsewhere (the container image sets it to /app).
REPO_ROOT = Path(os.environ.get("BUURTSIGNAAL_HOME") or Path(__file__).resolve().parent.parent)

# Fixed, published demo secrets: only ever used with demo_mode=true on fictional data.
_DEMO_KEY_SECRET = "demo-only-household-key-secret-not-for-production"
_DEMO_SESSION_SECRET = "demo-only-session-secret-not-for-production"
# base64url of sha256("demo-only-encryption-key-not-for-production"): published, demo data only.
_DEMO_ENCRYPTION_KEYS = "demo:b-6V_MIVdwp-WEGhEdgq_aKBd7jrjKFer_ZzSvhVXSI"


class Settings(BaseSettings):
    # hide_input_in_errors: a failed start must not print the secrets it was given
    model_config = SettingsConfigDict(env_prefix="BUURTSIGNAAL_", extra="ignore", hide_input_in_errors=True)

    demo_mode: bool = True
    host: str = "127.0.0.1"
    ingest_port: int = 8001
    detector_port: int = 8002
    notifier_port: int = 8003
    public_notifier_url: str = ""

    database_url: str = "postgresql://postgres@127.0.0.1:55432/buurtsignaal"
    db_pool_size: int = 8
    kafka_bootstrap: str = "127.0.0.1:19092"
    topic_incoming: str = "notes.incoming"
    topic_accepted: str = "notes.accepted"
    topic_scored: str = "notes.scored"
    topic_deadletter: str = "notes.deadletter"
    topic_alerts: str = "alerts.raised"
    # Early-warning state of the detector (faust changelogs, compacted) and its area repartition.
    topic_household_state: str = "detector.early-warning.households-changelog"
    topic_area_state: str = "detector.early-warning.areas-changelog"
    topic_area_notes: str = "detector.early-warning.area-notes"
    # Erasure and retention tell the detector which households/notes to forget (erasure.v1).
    topic_erasures: str = "privacy.erasures"
    early_warning_rules: Path | None = None
    # Run the early warning inside the detector process (true) or as its own process
    # (`buurtsignaal serve early-warning`, port below; decision 0037).
    detector_early_warning: bool = True
    early_warning_port: int = 8004
    topic_partitions: int = 4

    key_secret: str = ""
    session_secret: str = ""
    demo_api_key: str = ""

    # Privacy and security (docs/privacy.md, docs/security.md)
    encryption_keys: str = ""  # "id:base64key,..." first one encrypts; required outside demo mode
    pseudonymiser: str = "builtin"  # builtin | deduce (optional package)
    retention_file: Path = REPO_ROOT / "config" / "retention.yaml"
    retention_interval_hours: float = 24.0  # the ingest service purges on this schedule; 0 = off
    api_rate_limit_per_minute: int = 600  # default per API key, per ingest instance

    max_notes_per_batch: int = 1000
    max_body_bytes: int = 5 * 1024 * 1024
    outbox_batch_size: int = 500
    outbox_poll_seconds: float = 0.5
    # Re-enqueue accepted notes without a score after this long (decision 0030); 0 turns it off.
    resend_unscored_after_seconds: float = 600.0
    resend_sweep_seconds: float = 60.0
    resend_window_hours: float = 24.0
    gauge_sample_seconds: float = 15.0

    model_dir: Path | None = None
    # Learning loop (docs/model-card.md): trained versions live in <registry>/<version>/; the
    # active one is chosen by an admin (table model_activations) and polled by the detector.
    model_registry_dir: Path = REPO_ROOT / "models" / "detector"
    model_poll_seconds: float = 30.0  # 0 = read the active model at start only
    report_min_cell: int = 5  # reports: counts below this are merged or suppressed (>= 3)
    detector_batch_size: int = 256
    regions_file: Path = REPO_ROOT / "config" / "regions.yaml"
    data_dir: Path = REPO_ROOT / "data" / "dev"
    log_level: str = "INFO"
    log_json: bool = True

    # review notifications (docs/review.md): routing tree, SMTP, scheduler tick
    routing_file: Path = REPO_ROOT / "config" / "routing.yaml"
    smtp_host: str = ""  # empty: in demo mode mails are written to data_dir/mail as .eml files
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_from: str = "buurtsignaal@localhost"
    notify_interval_seconds: float = 5.0

    consumer_session_timeout_ms: int = Field(default=10_000)
    consumer_heartbeat_interval_ms: int = Field(default=3_000)

    @model_validator(mode="after")
    def _secrets_present(self) -> Settings:
        if self.demo_mode:
            self.key_secret = self.key_secret or _DEMO_KEY_SECRET
            self.session_secret = self.session_secret or _DEMO_SESSION_SECRET
            self.encryption_keys = self.encryption_keys or _DEMO_ENCRYPTION_KEYS
            return self
        missing = [
            f"BUURTSIGNAAL_{name.upper()}"
            for name in ("key_secret", "session_secret")
            if len(getattr(self, name)) < 32
        ]
        if not self.encryption_keys.strip():
            missing.append("BUURTSIGNAAL_ENCRYPTION_KEYS")
        if missing:
            raise ValueError(
                "outside demo mode these secrets must be set (at least 32 characters): "
                + ", ".join(missing)
            )
        if _DEMO_ENCRYPTION_KEYS.split(":")[1] in self.encryption_keys:
            raise ValueError("BUURTSIGNAAL_ENCRYPTION_KEYS holds the published demo key: generate "
                             "a new one with `buurtsignaal keys generate`")
        from buurtsignaal.privacy.crypto import Keyring  # validates ids and key lengths

        Keyring.parse(self.encryption_keys)
        return self

    @property
    def notifier_url(self) -> str:
        return self.public_notifier_url or f"http://{self.host}:{self.notifier_port}"

    @property
    def topics(self) -> tuple[str, ...]:
        return (self.topic_incoming, self.topic_accepted, self.topic_scored, self.topic_deadletter,
                self.topic_alerts, self.topic_area_notes, self.topic_erasures, *self.compacted_topics)

    @property
    def compacted_topics(self) -> tuple[str, ...]:
        """Changelog topics: only the latest value per key matters (cleanup.policy=compact)."""
        return (self.topic_household_state, self.topic_area_state)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
