"""Pattern alerts in the review UI, and the audited view of a note's original text."""

from __future__ import annotations

import re
import uuid

import psycopg
from fastapi.testclient import TestClient
from psycopg.rows import dict_row

from buurtsignaal.adapters.alerts_repo import store_alerts
from buurtsignaal.config import REPO_ROOT, Settings
from buurtsignaal.domain.regions import RegionMap
from buurtsignaal.privacy.crypto import Keyring, note_aad
from tests.integration.review.conftest import PASSWORD, add_users, new_client, seed_case
from tests.support import infra

REGIONS = RegionMap.load(REPO_ROOT / "config" / "regions.yaml")


def _login(client: TestClient, username: str) -> str:
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    page = client.post("/login", data={"username": username, "password": PASSWORD, "csrf": token})
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def _alert(scope: str, level: str, **extra: object) -> dict:
    base = {"alert_id": uuid.uuid4().hex, "scope": scope, "level": level, "rule": "reeks",
            "municipality_code": "GM0344", "summary": "3 meldingen in 20 dagen: verbaal (3); grond: herkomst",
            "window_start": "2026-10-10T10:00:00+00:00", "raised_at": "2026-11-01T10:00:00+00:00",
            "ruleset_version": "test", "note_ids": [], "ground": "herkomst"}
    base.update(extra)
    return base


def test_pattern_alert_lifts_household_to_the_top(app_settings: Settings) -> None:
    url = app_settings.database_url
    add_users(url)
    severe = seed_case(url, severity=3, subject="hh-other", text="Ernstige bedreiging, zie notitie.")
    pattern_case = seed_case(url, severity=1, subject="hh-pattern")
    with psycopg.connect(url, row_factory=dict_row) as conn:
        store_alerts(conn, [_alert("household", "escalate", subject_key="hh-pattern",
                                   note_ids=["n1", "n2", "n3"])], REGIONS)
        store_alerts(conn, [_alert("area", "watch", area_key="area-1", households=3,
                                   summary="herkomst bij 3 huishoudens in 30 dagen")], REGIONS)
    later = seed_case(url, severity=1, subject="hh-pattern", text="Weer een briefje in de bus.")
    levels = {r["id"]: r["level"] for r in infra.query(url, "SELECT id, level FROM cases")}
    assert levels == {severe: "signaal", pattern_case: "patroon", later: "patroon"}

    with new_client(app_settings) as client:
        _login(client, "adv.a")
        page = client.get("/").text
        assert "Patroonsignalen" in page and "3 meldingen in 20 dagen" in page
        rows = re.findall(r'href="/zaken/(\d+)" class="case-link"', page)
        # pattern cases first (then severity, then age), above the more severe single signal
        assert [int(r) for r in rows] == [pattern_case, later, severe]
        detail = client.get(f"/zaken/{pattern_case}").text
        assert "Patroonsignalen voor dit huishouden" in detail
    with new_client(app_settings) as coordinator:
        _login(coordinator, "coord.utrecht")
        page = coordinator.get("/").text
        assert "Signalen per buurt" in page and "herkomst bij 3 huishoudens" in page
    with new_client(app_settings) as elsewhere:
        _login(elsewhere, "adv.drenthe")
        assert "3 meldingen in 20 dagen" not in elsewhere.get("/").text


def test_original_text_only_for_the_cases_reviewer_and_audited(app_settings: Settings) -> None:
    url = app_settings.database_url
    add_users(url)
    case_id = seed_case(url)
    original = "Mevr. Jansen (Dorpsstraat 14, tel. 06-12345678) is weer uitgescholden."
    keyring = Keyring.parse(app_settings.encryption_keys)
    with psycopg.connect(url, row_factory=dict_row) as conn:
        note_id = conn.execute("SELECT note_id FROM cases WHERE id = %s", (case_id,)).fetchone()["note_id"]
        conn.execute("UPDATE notes SET original_ciphertext = %s WHERE id = %s",
                     (keyring.encrypt(original, note_aad(note_id)), note_id))
    with new_client(app_settings) as client:
        csrf = _login(client, "adv.a")
        page = client.get(f"/zaken/{case_id}").text
        assert "Dorpsstraat" not in page and "Toon originele tekst" in page
        assert client.post(f"/zaken/{case_id}/origineel", data={"csrf": "wrong"}).status_code == 403
        shown = client.post(f"/zaken/{case_id}/origineel", data={"csrf": csrf})
        assert shown.status_code == 200 and "Dorpsstraat 14" in shown.text
    with new_client(app_settings) as other:
        csrf = _login(other, "adv.drenthe")
        denied = other.post(f"/zaken/{case_id}/origineel", data={"csrf": csrf})
        assert denied.status_code == 404 and "Dorpsstraat" not in denied.text
    audit = infra.query(
        url, "SELECT actor, action, case_id FROM audit_log WHERE action LIKE 'original_text%'")
    assert {"actor": "adv.a", "action": "original_text_viewed", "case_id": case_id} in audit
    assert {"actor": "adv.drenthe", "action": "original_text_denied", "case_id": case_id} in audit
