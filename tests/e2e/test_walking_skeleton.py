"""A note travels from a corporation system to the ADV review queue: HTTP and Kafka in, real
PostgreSQL, a real Kafka-protocol broker and the three services as separate processes."""

from __future__ import annotations

import json

import httpx
import psycopg
from psycopg.rows import dict_row

from buurtsignaal.adapters.apikeys import create_key, ensure_tenant
from buurtsignaal.adapters.users import add_user
from tests.support import infra
from tests.support.notes import FLAGGED_TEXT, NEUTRAL_TEXT, note
from tests.support.services import ServiceProcs, login, metric_value

KAFKA_FLAGGED = ("Op de deur van fam. op nr. 3 is een hakenkruis gekalkt met 'rot op naar je eigen "
                 "land', kinderen worden op straat nageroepen als vuile bruine apen.")
KAFKA_NEUTRAL = "Bewoner van nr. 5 meldt dat de lift weer defect is, monteur gebeld."


def test_notes_reach_the_review_queue(running: ServiceProcs) -> None:
    settings = running.settings
    with psycopg.connect(settings.database_url, row_factory=dict_row) as conn:
        ensure_tenant(conn, "corp-e2e")
        key = create_key(conn, "corp-e2e")
        add_user(conn, "adv.test", "correct-horse-battery", "adv_medewerker",
                 adv_region="midden-nederland")
        add_user(conn, "adv.elders", "correct-horse-battery", "adv_medewerker", adv_region="drenthe")

    metrics_before = {s: httpx.get(running.url(s) + "/metrics").text for s in running.procs}

    http_flagged = note(FLAGGED_TEXT)
    http_neutral = note(NEUTRAL_TEXT, address={"postcode": "3531 AB", "house_number": 9})
    r = httpx.post(running.url("ingest") + "/v1/notes", json={"notes": [http_flagged, http_neutral]},
                   headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 202, r.text

    kafka_flagged = note(KAFKA_FLAGGED, address={"postcode": "3813 KL", "house_number": 3},
                         municipality_code="GM0307")
    kafka_neutral = note(KAFKA_NEUTRAL, address={"postcode": "3813 KL", "house_number": 5},
                         municipality_code="GM0307")
    infra.produce(settings.kafka_bootstrap, settings.topic_incoming, [
        json.dumps({"tenant": "corp-e2e", "note": kafka_flagged}).encode(),
        json.dumps({"tenant": "corp-e2e", "note": kafka_neutral}).encode(),
    ])

    def scored() -> int:
        return infra.query(settings.database_url, "SELECT count(*) AS n FROM note_scores")[0]["n"]

    infra.wait_until(lambda: scored() == 4, timeout=90, what="4 notes scored end to end")
    cases = infra.query(settings.database_url,
                        "SELECT n.external_id, c.adv_region FROM cases c JOIN notes n ON n.id = c.note_id")
    assert {c["external_id"] for c in cases} == {http_flagged["external_id"],
                                                  kafka_flagged["external_id"]}
    assert {c["adv_region"] for c in cases} == {"midden-nederland"}

    with httpx.Client(base_url=running.url("notifier")) as ui:
        page = login(ui, "adv.test", "correct-horse-battery")
        assert page.status_code == 200
        assert "Werkvoorraad" in page.text
        assert "vuile makaak" in page.text  # the HTTP note, flagged
        assert "hakenkruis" in page.text  # the Kafka note, flagged
        assert "loodgieter" not in page.text and "lift weer defect" not in page.text
        case_id = infra.query(settings.database_url, "SELECT min(id) AS id FROM cases")[0]["id"]
        detail = ui.get(f"/zaken/{case_id}")
        assert detail.status_code == 200 and "<mark" in detail.text

    with httpx.Client(base_url=running.url("notifier")) as other:
        login(other, "adv.elders", "correct-horse-battery")
        assert "vuile makaak" not in other.get("/").text
        assert other.get(f"/zaken/{case_id}").status_code == 404

    after = {s: httpx.get(running.url(s) + "/metrics").text for s in running.procs}

    def moved(service: str, series: str) -> float:
        return metric_value(after[service], series) - metric_value(metrics_before[service], series)

    # Stored effects are exactly once (idempotent sinks, checked in the database above too) ...
    for service, series, moved_by in [
        ("ingest", 'buurtsignaal_ingest_notes_accepted_total{source="http"', 2),
        ("ingest", 'buurtsignaal_ingest_notes_accepted_total{source="kafka"', 2),
        ("notifier", "buurtsignaal_notifier_scores_stored_total", 4),
        ("notifier", "buurtsignaal_notifier_cases_created_total", 2),
    ]:
        assert moved(service, series) == moved_by, f"{service} {series}: moved by {moved(service, series)}"
    # ... while delivery is at-least-once: a publish or a scoring may happen more than once.
    for service, series in [("ingest", "buurtsignaal_ingest_outbox_published_total"),
                            ("detector", "buurtsignaal_detector_notes_scored_total")]:
        assert moved(service, series) >= 4, f"{service} {series}: moved by {moved(service, series)}"
    audit = infra.query(settings.database_url, "SELECT actor, action, case_id FROM audit_log ORDER BY id")
    assert {"actor": "adv.test", "action": "case_viewed", "case_id": case_id} in audit
    assert {"actor": "adv.elders", "action": "case_view_denied", "case_id": case_id} in audit
