"""A real Prometheus scrapes the three running services: the series an operator relies on exist,
move when notes flow, and the project's alert rules evaluate against them without errors.
Also: readiness endpoints, and the correlation id (note id) followed through the JSON logs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from buurtsignaal.adapters.apikeys import create_key, ensure_tenant
from buurtsignaal.devstack import EmbeddedBroker, EmbeddedPostgres
from tests.e2e.ops.prometheus_server import PrometheusServer
from tests.support import infra
from tests.support.notes import FLAGGED_TEXT, NEUTRAL_TEXT, note
from tests.support.services import ServiceProcs, service_procs

TENANT = "corp-ops"


@pytest.fixture(scope="module")
def stack(e2e_infra: tuple[EmbeddedPostgres, EmbeddedBroker]) -> Iterator[ServiceProcs]:
    pg, broker = e2e_infra
    infra.truncate_all(pg.url)
    procs = service_procs(infra.make_settings(pg, broker))
    procs.env["BUURTSIGNAAL_GAUGE_SAMPLE_SECONDS"] = "1"
    procs.start_all()
    try:
        yield procs
    finally:
        # Let faust commit what it read (every ~3 s) so that the next module's detector, on the
        # same broker, does not score this module's last notes again.
        time.sleep(3.5)
        procs.stop_all()


@pytest.fixture(scope="module")
def prometheus(stack: ServiceProcs) -> Iterator[PrometheusServer]:
    server = PrometheusServer({
        f"buurtsignaal-{name}": stack.url(name).removeprefix("http://")
        for name in ("ingest", "detector", "notifier")
    })
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api_key(stack: ServiceProcs) -> str:
    with psycopg.connect(stack.settings.database_url, row_factory=dict_row) as conn:
        ensure_tenant(conn, TENANT)
        return create_key(conn, TENANT)


def _post(stack: ServiceProcs, key: str, notes: list[dict[str, object]], **headers: str) -> httpx.Response:
    response = httpx.post(stack.url("ingest") + "/v1/notes", json={"notes": notes},
                          headers={"Authorization": f"Bearer {key}", **headers}, timeout=30)
    assert response.status_code == 202, response.text
    return response


def _scored(stack: ServiceProcs) -> int:
    return infra.query(stack.settings.database_url, "SELECT count(*) AS n FROM note_scores")[0]["n"]


def test_services_are_ready(stack: ServiceProcs) -> None:
    for service in ("ingest", "detector", "notifier"):
        infra.wait_until(
            lambda s=service: httpx.get(stack.url(s) + "/readyz", timeout=5).status_code == 200,
            timeout=60, what=f"{service} ready")
        body = httpx.get(stack.url(service) + "/readyz", timeout=5).json()
        assert all(body.values()), (service, body)


def test_prometheus_sees_the_series_move(stack: ServiceProcs, prometheus: PrometheusServer,
                                         api_key: str) -> None:
    prometheus.wait_value('count(up{job=~"buurtsignaal-.+"} == 1)', lambda v: v == 3)
    before = _scored(stack)
    notes = [note(FLAGGED_TEXT, address={"postcode": "3531 AB", "house_number": 10 + i})
             for i in range(5)]
    notes += [note(NEUTRAL_TEXT, address={"postcode": "3531 AB", "house_number": 40 + i})
              for i in range(15)]
    _post(stack, api_key, notes)
    infra.wait_until(lambda: _scored(stack) == before + 20, timeout=90, what="20 notes scored")

    def total(metric: str) -> float:
        return prometheus.wait_value(f"sum({metric})", lambda v: v >= 1)

    # Counters moved by what we sent (Prometheus scrapes every second).
    assert prometheus.wait_value(
        f'sum(buurtsignaal_ingest_notes_accepted_total{{source="http", tenant="{TENANT}"}})',
        lambda v: v >= 20) >= 20
    assert prometheus.wait_value("sum(buurtsignaal_detector_notes_scored_total)", lambda v: v >= 20) >= 20
    assert prometheus.wait_value("sum(buurtsignaal_notifier_scores_stored_total)", lambda v: v >= 20) >= 20
    assert prometheus.wait_value("sum(buurtsignaal_ingest_outbox_published_total)", lambda v: v >= 20) >= 20
    flagged = total("buurtsignaal_detector_notes_flagged_total")
    cases = total("buurtsignaal_notifier_cases_created_total")
    assert cases >= 5 and flagged >= 5, (cases, flagged)
    # A flagged note names its grounds: the label values are taxonomy codes.
    grounds = {r["metric"]["ground"] for r in prometheus.query("buurtsignaal_detector_notes_flagged_total")}
    assert "herkomst" in grounds, grounds

    # Histograms: latency from ingest to case, and their percentiles are computable.
    assert prometheus.wait_value("sum(buurtsignaal_notifier_end_to_end_seconds_count)",
                                 lambda v: v >= 20) >= 20
    p99 = prometheus.wait_value(
        "histogram_quantile(0.99, sum by (le) (rate(buurtsignaal_notifier_end_to_end_seconds_bucket[1m])))",
        lambda v: v == v)  # not NaN
    assert 0 < p99 <= 30, p99
    assert prometheus.wait_value("sum(buurtsignaal_detector_note_age_seconds_count)", lambda v: v >= 20) >= 20
    assert prometheus.wait_value("sum(buurtsignaal_ingest_request_duration_seconds_count)",
                                 lambda v: v >= 1) >= 1

    # Gauges an operator alerts on exist, with the values the state implies.
    for consumer in ("detector", "notifier", "ingest-intake"):
        lag = prometheus.wait_value(f'max(buurtsignaal_consumer_lag_messages{{consumer="{consumer}"}})',
                                    lambda v: v >= 0, timeout=30)
        assert lag == 0, (consumer, lag)
    assert prometheus.wait_value("max(buurtsignaal_ingest_outbox_pending)", lambda v: v == 0) == 0
    last = prometheus.wait_value(
        f'max(buurtsignaal_ingest_last_accepted_timestamp_seconds{{tenant="{TENANT}"}})', lambda v: v > 0)
    now = prometheus.value("vector(time())")
    assert now is not None and 0 <= now - last < 300, (now, last)
    # Fresh cases are not past their SLA; the oldest new case is seconds old.
    assert prometheus.wait_value('max(buurtsignaal_notifier_cases_past_sla{adv_region="midden-nederland"})',
                                 lambda v: v >= 0) == 0
    age = prometheus.wait_value(
        'max(buurtsignaal_notifier_oldest_new_case_age_seconds{adv_region="midden-nederland"})',
        lambda v: v > 0)
    assert age < 600, age
    assert prometheus.wait_value("max(buurtsignaal_ingest_unscored_notes)", lambda v: v >= 0, timeout=90) == 0


def test_alert_rules_evaluate_on_real_series(prometheus: PrometheusServer) -> None:
    def evaluated() -> bool:
        rules = prometheus.rules()
        return bool(rules) and all(r.get("lastEvaluation", "").startswith("2") for r in rules)

    infra.wait_until(evaluated, timeout=30, what="all rules evaluated")
    rules = prometheus.rules()
    assert len(rules) >= 14
    bad = {r["name"]: r.get("lastError") for r in rules if r["health"] != "ok"}
    assert not bad, bad
    # A healthy stack raises no alert (pending or firing) except the informational ones.
    firing = [r["name"] for r in rules if r.get("state") not in (None, "inactive")
              and r["labels"].get("severity") != "info"]
    assert not firing, firing


def test_correlation_id_follows_a_note_through_the_logs(stack: ServiceProcs, api_key: str) -> None:
    response = _post(stack, api_key, [note(FLAGGED_TEXT, address={"postcode": "3531 AB",
                                                                  "house_number": 99})],
                     **{"X-Request-ID": "req-ops-test-0001"})
    assert response.headers["x-request-id"] == "req-ops-test-0001"
    note_id = response.json()["accepted"][0]["note_id"]

    def logged(service: str, event: str) -> list[dict[str, object]]:
        lines = []
        for line in stack.log(service).splitlines():
            if note_id not in line or not line.startswith("{"):
                continue
            entry = json.loads(line)
            if entry.get("event") == event:
                lines.append(entry)
        return lines

    infra.wait_until(lambda: bool(logged("notifier", "scores_stored")), timeout=60,
                     what="the notifier logged the note")
    ingest = logged("ingest", "notes_stored")
    assert len(ingest) == 1 and ingest[0]["request_id"] == "req-ops-test-0001", ingest
    assert ingest[0]["service"] == "ingest" and "timestamp" in ingest[0]
    assert logged("detector", "batch_scored"), "detector did not log the correlation id"
    stored = logged("notifier", "scores_stored")
    assert stored[0]["cases_created"] >= 1, stored
    case = infra.query(stack.settings.database_url, "SELECT id FROM cases WHERE note_id = %s", (note_id,))
    assert len(case) == 1
    # Every line every service wrote is one JSON object naming its service, level and event.
    for service in ("ingest", "detector", "notifier"):
        for line in filter(None, stack.log(service).splitlines()):
            entry = json.loads(line)
            assert entry["service"] == service and entry["level"] and entry["event"], line
    # Nothing personal in the logs: not the note text, not the address.
    all_logs = "".join(stack.log(s) for s in ("ingest", "detector", "notifier"))
    assert "vuile makaak" not in all_logs and "3531 AB" not in all_logs
