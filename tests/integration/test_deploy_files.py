"""Validate the deployment description without a Docker engine.

- docker-compose.yml: `docker-compose config -q` (docker-compose 1.29 validates the file against
  the compose spec schema and interpolates variables; no daemon needed), plus structural checks.
- deploy/prometheus: `promtool check config` (also checks the rule files it references) and
  `promtool test rules` (alert unit tests).
- Dockerfile / .dockerignore: static checks (non-root USER, HEALTHCHECK, no baked-in secrets).

`docker-compose` and `promtool` come from the Debian packages `docker-compose` and `prometheus`,
installed by the project's setup. When they are missing these tests fail; they never skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
METRICS_MODULE = ROOT / "buurtsignaal" / "metrics.py"

REQUIRED_ENV = (
    "POSTGRES_PASSWORD",
    "BUURTSIGNAAL_KEY_SECRET",
    "BUURTSIGNAAL_SESSION_SECRET",
    "BUURTSIGNAAL_ENCRYPTION_KEYS",
)
SECRET_ENV = (
    "BUURTSIGNAAL_KEY_SECRET",
    "BUURTSIGNAAL_SESSION_SECRET",
    "BUURTSIGNAAL_ENCRYPTION_KEYS",
)
APP_SERVICES = {"ingest": 8001, "detector": 8002, "notifier": 8003}

SETUP_HINT = (
    "is not installed. Run the project's setup (`bash .ci/run`, or the setup step in the "
    "README), which installs the Debian packages `docker-compose` and `prometheus`; by hand: "
    "`apt-get install -y --no-install-recommends docker-compose prometheus`."
)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` {SETUP_HINT}", pytrace=False)
    return path


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def _clean_env(**extra: str) -> dict[str, str]:
    """The current environment without any of the required variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED_ENV}
    env.update(extra)
    return env


def _dummy_env() -> dict[str, str]:
    return {name: f"dummy-{name.lower().replace('_', '-')}" for name in REQUIRED_ENV}


def _compose_config(env: dict[str, str], tmp_path: Path, *, quiet: bool = True):
    # An empty --env-file keeps a developer's local `.env` from masking a missing variable.
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    args = [
        _tool("docker-compose"),
        "--env-file",
        str(empty_env_file),
        "-f",
        str(COMPOSE_FILE),
        "config",
    ]
    if quiet:
        args.append("-q")
    return _run(args, env=env)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


# --- (a) docker-compose validates -----------------------------------------------------------


def test_compose_config_is_valid_with_required_env(tmp_path: Path) -> None:
    result = _compose_config(_clean_env(**_dummy_env()), tmp_path)
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"


def test_compose_config_interpolates_env(tmp_path: Path) -> None:
    dummies = _dummy_env()
    result = _compose_config(_clean_env(**dummies), tmp_path, quiet=False)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    for name in ("init", *APP_SERVICES):
        env = _environment(services[name])
        assert env["BUURTSIGNAAL_DATABASE_URL"] == (
            f"postgresql://buurtsignaal:{dummies['POSTGRES_PASSWORD']}@postgres:5432/buurtsignaal"
        )
        for secret in SECRET_ENV:
            assert env[secret] == dummies[secret], (name, secret)
    assert _environment(services["postgres"])["POSTGRES_PASSWORD"] == dummies["POSTGRES_PASSWORD"]


@pytest.mark.parametrize("missing", REQUIRED_ENV)
def test_compose_config_fails_without_required_variable(missing: str, tmp_path: Path) -> None:
    env = _dummy_env()
    del env[missing]
    result = _compose_config(_clean_env(**env), tmp_path)
    assert result.returncode != 0, f"compose accepted a config without {missing}"
    assert missing in result.stderr, result.stderr


def test_compose_config_fails_with_empty_password(tmp_path: Path) -> None:
    env = _dummy_env()
    env["POSTGRES_PASSWORD"] = ""
    result = _compose_config(_clean_env(**env), tmp_path)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr, result.stderr


# --- (b) compose structure ------------------------------------------------------------------


@pytest.mark.parametrize(("name", "port"), sorted(APP_SERVICES.items()))
def test_app_service_port_and_command(compose: dict[str, Any], name: str, port: int) -> None:
    service = compose["services"][name]
    assert service["command"] == ["buurtsignaal", "serve", name]
    container_ports = {int(str(p).split(":")[-1].split("/")[0]) for p in service["ports"]}
    assert container_ports == {port}
    assert _environment(service)["BUURTSIGNAAL_HEALTHCHECK_PORT"] == str(port)
    assert service["depends_on"] == {"init": {"condition": "service_completed_successfully"}}
    assert service["build"]["context"] == "."


def test_init_runs_migrations_then_topics(compose: dict[str, Any]) -> None:
    init = compose["services"]["init"]
    assert init["command"][-1] == "buurtsignaal migrate && buurtsignaal topics create"
    assert init["restart"] == "no"
    assert init["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }


def test_app_environment(compose: dict[str, Any]) -> None:
    for name in ("init", *APP_SERVICES):
        env = _environment(compose["services"][name])
        assert env["BUURTSIGNAAL_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["BUURTSIGNAAL_HOST"] == "0.0.0.0"
        assert env["BUURTSIGNAAL_DEMO_MODE"] == "false"
        assert env["BUURTSIGNAAL_DATABASE_URL"].startswith("postgresql://buurtsignaal:${POSTGRES_PASSWORD:?")
        # Secrets are required references, never literal values or defaults.
        for secret in SECRET_ENV:
            assert env[secret].startswith("${" + secret + ":?"), (name, secret, env[secret])


def test_kafka_is_single_node_kraft(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"] == "apache/kafka:3.9.0"
    env = _environment(kafka)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_LISTENERS"] == "PLAINTEXT://:9092,CONTROLLER://:9093"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "healthcheck" in kafka


def test_postgres_and_prometheus(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    prometheus = compose["services"]["prometheus"]
    assert prometheus["image"] == "prom/prometheus:v2.53.0"
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert any(str(p).endswith("9090:9090") for p in prometheus["ports"])


# --- (c) Prometheus config and alert rules --------------------------------------------------


def test_promtool_check_config() -> None:
    result = _run([_tool("promtool"), "check", "config", "deploy/prometheus/prometheus.yml"])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "3 rules found" in output, output


def test_promtool_rule_unit_tests() -> None:
    result = _run([_tool("promtool"), "test", "rules", "deploy/prometheus/tests/buurtsignaal_test.yml"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_scrapes_the_three_services() -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for name, port in APP_SERVICES.items():
        job = jobs[f"buurtsignaal-{name}"]
        assert job["metrics_path"] == "/metrics"
        assert job["scrape_interval"] == "15s"
        targets = [t for sc in job["static_configs"] for t in sc["targets"]]
        assert targets == [f"{name}:{port}"]
    assert config["rule_files"] == ["rules/*.yml"]


def test_alert_rules_use_metrics_the_code_exports() -> None:
    """Every buurtsignaal_* metric used in an alert is defined in buurtsignaal/metrics.py."""
    rules = yaml.safe_load((PROMETHEUS_DIR / "rules" / "buurtsignaal.yml").read_text())
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    used = {m for expr in exprs for m in re.findall(r"\bbuurtsignaal_[a-z0-9_]+", expr)}
    assert used, exprs
    source = METRICS_MODULE.read_text()
    defined = set(re.findall(r"\"(buurtsignaal_[a-z0-9_]+)\"", source))
    # prometheus_client appends _total to counters declared without it.
    exported = defined | {f"{name}_total" for name in defined if not name.endswith("_total")}
    assert used <= exported, f"alert rules use metrics not defined in metrics.py: {used - exported}"


# --- (d) Dockerfile -------------------------------------------------------------------------


def test_dockerfile_runs_as_non_root_with_healthcheck() -> None:
    instructions = _dockerfile_instructions()
    froms = [args for kw, args in instructions if kw == "FROM"]
    assert froms, "no FROM"
    assert any(kw == "ARG" and args == "PYTHON_IMAGE=python:3.11-slim" for kw, args in instructions)

    # Only the last stage matters for the running container.
    last_from = max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM")
    final = instructions[last_from:]
    users = [args for kw, args in final if kw == "USER"]
    assert users, "final stage has no USER instruction"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}, f"final USER is {users[-1]!r}"

    healthchecks = [args for kw, args in final if kw == "HEALTHCHECK"]
    assert len(healthchecks) == 1, healthchecks
    assert "/healthz" in healthchecks[0]
    assert "BUURTSIGNAAL_HEALTHCHECK_PORT" in healthchecks[0]

    env = " ".join(args for kw, args in final if kw == "ENV")
    assert "BUURTSIGNAAL_DEMO_MODE=false" in env, "the image must not default to demo mode"

    cmds = [args for kw, args in final if kw == "CMD"]
    assert cmds and cmds[-1] == '["buurtsignaal", "serve", "ingest"]'

    runs = " ".join(args for kw, args in instructions if kw == "RUN")
    assert "pip install ." in runs
    copied = {args.split()[-2] for kw, args in final if kw == "COPY" and "--from" not in args}
    assert {"models/", "schemas/", "config/"} <= copied, copied


def test_no_secrets_baked_into_image() -> None:
    for kw, args in _dockerfile_instructions():
        if kw in {"ENV", "ARG"}:
            assert not re.search(r"SECRET|PASSWORD|ENCRYPTION_KEY|TOKEN", args, re.I), args
    ignored = {
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".git", "data/dev", ".env", "**/__pycache__", ".pytest_cache"} <= ignored
