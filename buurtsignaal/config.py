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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BUURTSIGNAAL_", extra="ignore")

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
    topic_partitions: int = 4

    key_secret: str = ""
    session_secret: str = ""
    demo_api_key: str = ""

    max_notes_per_batch: int = 1000
    max_body_bytes: int = 5 * 1024 * 1024
    outbox_batch_size: int = 500
    outbox_poll_seconds: float = 0.5

    model_dir: Path | None = None
    detector_batch_size: int = 256
    regions_file: Path = REPO_ROOT / "config" / "regions.yaml"
    data_dir: Path = REPO_ROOT / "data" / "dev"
    log_level: str = "INFO"
    log_json: bool = True

    consumer_session_timeout_ms: int = Field(default=10_000)
    consumer_heartbeat_interval_ms: int = Field(default=3_000)

    @model_validator(mode="after")
    def _secrets_present(self) -> Settings:
        if self.demo_mode:
            self.key_secret = self.key_secret or _DEMO_KEY_SECRET
            self.session_secret = self.session_secret or _DEMO_SESSION_SECRET
            return self
        missing = [
            f"BUURTSIGNAAL_{name.upper()}"
            for name in ("key_secret", "session_secret")
            if len(getattr(self, name)) < 32
        ]
        if missing:
            raise ValueError(
                "outside demo mode these secrets must be set (at least 32 characters): "
                + ", ".join(missing)
            )
        return self

    @property
    def notifier_url(self) -> str:
        return self.public_notifier_url or f"http://{self.host}:{self.notifier_port}"

    @property
    def topics(self) -> tuple[str, ...]:
        return (self.topic_incoming, self.topic_accepted, self.topic_scored, self.topic_deadletter)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
