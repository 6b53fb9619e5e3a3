"""Validate the deployment description without a Docker engine.

- docker-compose.yml: `docker-compose config -q` (docker-compose 1.29 validates the file against
  the compose spec schema and interpolates variables; no daemon needed), plus structural checks.
- deploy/prometheus: `promtool check config` (also checks the rule files it references) and
  `promtool test rules` (alert unit tests).
- deploy/alertmanager: `amtool check-config` and `amtool config routes test` (who gets paged).
- deploy/grafana: provisioning wired to the dashboard; every dashboard query is valid PromQL
  (checked by promtool as recording rules) over metrics the code exports.
- docs/operations.md: every exported metric and every alert is in the catalogue / runbook.
- Dockerfile / .dockerignore: static checks (non-root USER, HEALTHCHECK, no baked-in secrets).

`docker-compose`, `promtool` and `amtool` come from the Debian packages `docker-compose`,
`prometheus` and `prometheus-alertmanager`, installed by the project's setup. When they are
missing these tests fail; they never skip.
"""

from __future__ import annotations

import json
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
ALERTMANAGER_CONFIG = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
GRAFANA_DIR = ROOT / "deploy" / "grafana"
METRICS_MODULE = ROOT / "buurtsignaal" / "metrics.py"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"

REQUIRED_ENV = (
    "POSTGRES_PASSWORD",
    "BUURTSIGNAAL_KEY_SECRET",
    "BUURTSIGNAAL_SESSION_SECRET",
    "BUURTSIGNAAL_ENCRYPTION_KEYS",
    "GRAFANA_ADMIN_PASSWORD",
)
SECRET_ENV = (
    "BUURTSIGNAAL_KEY_SECRET",
    "BUURTSIGNAAL_SESSION_SECRET",
    "BUURTSIGNAAL_ENCRYPTION_KEYS",
)
APP_SERVICES = {"ingest": 8001, "detector": 8002, "notifier": 8003}

SETUP_HINT = (
    "is not installed. Run the project's setup (`bash .ci/run`, or the setup step in the "
    "README), which installs the Debian packages `docker-compose`, `prometheus` and "
    "`prometheus-alertmanager`; by hand: `apt-get install -y --no-install-recommends "
    "docker-compose prometheus prometheus-alertmanager`."
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
    rules = yaml.safe_load((PROMETHEUS_DIR / "rules" / "buurtsignaal.yml").read_text())
    count = sum(len(group["rules"]) for group in rules["groups"])
    assert count >= 13, count
    assert f"{count} rules found" in output, output


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


def _exported_metrics() -> set[str]:
    """Sample names the code exports: counters get _total, histograms _bucket/_count/_sum."""
    source = METRICS_MODULE.read_text()
    names: set[str] = set()
    for kind, name in re.findall(r"(Counter|Gauge|Histogram)\(\s*\"(buurtsignaal_[a-z0-9_]+)\"", source):
        if kind == "Counter":
            names.add(name if name.endswith("_total") else f"{name}_total")
        elif kind == "Histogram":
            names |= {name, f"{name}_bucket", f"{name}_count", f"{name}_sum"}
        else:
            names.add(name)
    return names


def _alert_rules() -> list[dict[str, Any]]:
    rules = yaml.safe_load((PROMETHEUS_DIR / "rules" / "buurtsignaal.yml").read_text())
    return [rule for group in rules["groups"] for rule in group["rules"]]


def test_alert_rules_use_metrics_the_code_exports() -> None:
    """Every buurtsignaal_* metric used in an alert is defined in buurtsignaal/metrics.py."""
    exprs = [rule["expr"] for rule in _alert_rules()]
    used = {m for expr in exprs for m in re.findall(r"\bbuurtsignaal_[a-z0-9_]+", expr)}
    assert used, exprs
    exported = _exported_metrics()
    assert used <= exported, f"alert rules use metrics not defined in metrics.py: {used - exported}"


def test_every_alert_has_severity_and_runbook() -> None:
    doc = OPERATIONS_DOC.read_text()
    for rule in _alert_rules():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]
        assert f"`{rule['alert']}`" in doc, f"{rule['alert']} has no runbook entry in docs/operations.md"


def test_metric_catalogue_lists_every_metric() -> None:
    """docs/operations.md names every metric of buurtsignaal/metrics.py, with its type."""
    doc = OPERATIONS_DOC.read_text()
    source = METRICS_MODULE.read_text()
    for kind, name in re.findall(r"(Counter|Gauge|Histogram)\(\s*\"(buurtsignaal_[a-z0-9_]+)\"", source):
        shown = name if kind != "Counter" or name.endswith("_total") else f"{name}_total"
        row = re.search(rf"^\| `{re.escape(shown)}` \| ([a-z]+) \|", doc, re.M)
        assert row, f"{shown} is missing from the metric catalogue in docs/operations.md"
        assert row.group(1) == kind.lower(), (shown, row.group(1))


def test_metric_names_follow_prometheus_conventions() -> None:
    source = METRICS_MODULE.read_text()
    found = re.findall(r"(Counter|Gauge|Histogram)\(\s*\"(buurtsignaal_[a-z0-9_]+)\"", source)
    assert len(found) >= 20, found
    for kind, name in found:
        if kind == "Counter":
            assert name.endswith("_total"), name
        if kind == "Histogram":
            assert name.endswith("_seconds"), f"{name}: histograms here measure time in seconds"
        assert not re.search(r"_(ms|milliseconds|minutes|hours)\b", name), f"{name}: use base units"
    # Labels stay low-cardinality: never a household, note, person or free text.
    labels = set(re.findall(r"\[([^\]]*)\]", source))
    label_names = {lbl.strip().strip('"') for group in labels for lbl in group.split(",") if lbl.strip()}
    forbidden = {"note_id", "subject_key", "area_key", "household", "address", "postcode", "user",
                 "username", "text", "case_id", "correlation_id", "external_id"}
    assert not label_names & forbidden, label_names & forbidden


# --- (c2) Alertmanager ----------------------------------------------------------------------


def test_amtool_check_config() -> None:
    result = _run([_tool("amtool"), "check-config", str(ALERTMANAGER_CONFIG)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout, result.stdout


@pytest.mark.parametrize(("labels", "receiver"), [
    (["severity=critical", "alertname=BuurtsignaalNotesUnscored"], "on-call"),
    (["severity=critical", "alertname=BuurtsignaalServiceDown", "job=buurtsignaal-ingest"], "on-call"),
    (["severity=warning", "alertname=BuurtsignaalCasesPastSla", "adv_region=drenthe"],
     "review-coordination"),
    (["severity=warning", "alertname=BuurtsignaalConsumerLagGrowing", "consumer=detector"],
     "operations-mail"),
    (["severity=info", "alertname=BuurtsignaalNotesResent"], "operations-mail"),
])
def test_alert_routing(labels: list[str], receiver: str) -> None:
    result = _run([_tool("amtool"), "config", "routes", "test",
                   f"--config.file={ALERTMANAGER_CONFIG}", *labels])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == receiver, (labels, result.stdout)


def test_every_severity_is_routed_somewhere_deliberate() -> None:
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    receivers = {r["name"] for r in config["receivers"]}
    assert config["route"]["receiver"] in receivers
    for route in config["route"]["routes"]:
        assert route["receiver"] in receivers
    # Secrets come from files, never inline.
    text = ALERTMANAGER_CONFIG.read_text()
    assert "smtp_auth_password:" not in text and "credentials:" not in text


def test_prometheus_sends_alerts_to_alertmanager(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    targets = [t for am in config["alerting"]["alertmanagers"] for sc in am["static_configs"]
               for t in sc["targets"]]
    assert targets == ["alertmanager:9093"]
    am = compose["services"]["alertmanager"]
    assert "./deploy/alertmanager:/etc/alertmanager:ro" in am["volumes"]
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in am["command"]
    assert all(str(p).startswith("127.0.0.1:") for p in am["ports"])


# --- (c3) Grafana ---------------------------------------------------------------------------


def _dashboard() -> dict[str, Any]:
    return json.loads((GRAFANA_DIR / "dashboards" / "buurtsignaal.json").read_text())


def _panel_exprs(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_grafana_is_provisioned_in_compose(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    assert grafana["depends_on"] == {"prometheus": {"condition": "service_healthy"}}
    assert all(str(p).startswith("127.0.0.1:") for p in grafana["ports"])
    provider = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "buurtsignaal.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    datasource = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"
    used_uids = {p["datasource"]["uid"] for p in _dashboard()["panels"] if "datasource" in p}
    assert used_uids == {datasource["uid"]}


def test_dashboard_covers_what_operators_watch() -> None:
    dashboard = _dashboard()
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    exprs = " ".join(_panel_exprs(dashboard))
    for needed in ("buurtsignaal_ingest_notes_accepted_total", "buurtsignaal_detector_notes_flagged_total",
                   "buurtsignaal_consumer_lag_messages", "buurtsignaal_notifier_end_to_end_seconds_bucket",
                   "buurtsignaal_review_cases", "buurtsignaal_notifier_cases_past_sla"):
        assert needed in exprs, needed
    assert "histogram_quantile(0.99" in exprs
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]


def test_dashboard_queries_are_valid_promql_over_exported_metrics(tmp_path: Path) -> None:
    exprs = _panel_exprs(_dashboard())
    used = {m for e in exprs for m in re.findall(r"\bbuurtsignaal_[a-z0-9_]+", e)}
    assert used <= _exported_metrics(), used - _exported_metrics()
    # promtool parses every query when it is a recording rule.
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query{i}", "expr": e} for i, e in enumerate(exprs)]}]}
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump(rules))
    result = _run([_tool("promtool"), "check", "rules", str(path)])
    assert result.returncode == 0, result.stdout + result.stderr


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
