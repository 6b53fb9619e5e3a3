"""Secrets are required outside demo mode; the rate limiter; the retention policy file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from buurtsignaal.adapters.apikeys import RateLimiter
from buurtsignaal.config import REPO_ROOT, Settings
from buurtsignaal.privacy.crypto import Keyring
from buurtsignaal.privacy.retention import RetentionPolicy

SECRET = "s" * 40


def test_outside_demo_mode_the_encryption_keys_are_required() -> None:
    with pytest.raises(ValidationError, match="BUURTSIGNAAL_ENCRYPTION_KEYS"):
        Settings(demo_mode=False, key_secret=SECRET, session_secret=SECRET, encryption_keys="")


def test_the_published_demo_key_is_refused_in_production() -> None:
    demo = Settings(demo_mode=True).encryption_keys
    with pytest.raises(ValidationError, match="demo key"):
        Settings(demo_mode=False, key_secret=SECRET, session_secret=SECRET, encryption_keys=demo)


def test_errors_do_not_print_the_secrets() -> None:
    with pytest.raises(ValidationError) as err:
        Settings(demo_mode=False, key_secret="geheim-maar-te-kort", session_secret=SECRET,
                 encryption_keys="k1:c2hvcnQ")
    assert "geheim-maar-te-kort" not in str(err.value) and SECRET not in str(err.value)


def test_production_settings_with_all_secrets_start() -> None:
    s = Settings(demo_mode=False, key_secret=SECRET, session_secret=SECRET,
                 encryption_keys=Keyring.generate("k1"))
    assert Keyring.parse(s.encryption_keys).primary_id == "k1"


def test_token_bucket_per_key() -> None:
    now = [0.0]
    limiter = RateLimiter(default_per_minute=60, clock=lambda: now[0])
    assert all(limiter.acquire("a") == 0.0 for _ in range(60))  # a full bucket
    assert limiter.acquire("a") == pytest.approx(1.0)  # empty: one token per second
    assert limiter.acquire("b") == 0.0  # other keys are not affected
    now[0] = 1.0
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("c", per_minute=1) == 0.0
    assert limiter.acquire("c", per_minute=1) == pytest.approx(60.0)


def test_the_shipped_retention_policy_loads() -> None:
    policy = RetentionPolicy.load(REPO_ROOT / "config" / "retention.yaml")
    assert policy.unflagged_notes_days == 90 and policy.dismissed_cases_days == 365
    assert "afgewezen" in policy.dismissed_statuses and "geescaleerd" in policy.escalated_statuses


def test_a_wrong_retention_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "r.yaml"
    bad.write_text("unflagged_notes_dayz: 3\n")
    with pytest.raises(ValueError, match="unknown setting"):
        RetentionPolicy.load(bad)
    bad.write_text("statuses: {dismissed: [afgewezen], escalated: [afgewezen]}\n")
    with pytest.raises(ValueError, match="both dismissed and escalated"):
        RetentionPolicy.load(bad)
