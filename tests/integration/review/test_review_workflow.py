"""The review workflow through the real app and PostgreSQL: access by role and region, CSRF,
sessions, lockout, transitions, consent, corrections as labels, optimistic locking, audit."""

from __future__ import annotations

import csv
import io
import re
import threading

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.rows import dict_row

from buurtsignaal.adapters import cases_repo, users
from buurtsignaal.config import Settings
from services.notifier import review
from tests.integration.review.conftest import PASSWORD, add_users, new_client, seed_case
from tests.support import infra
from tests.support.services import login


def logged_in(app_settings: Settings, username: str) -> TestClient:
    client = new_client(app_settings).__enter__()
    page = login(client, username, PASSWORD)  # type: ignore[arg-type]
    assert page.status_code == 200, page.text
    return client


def form_fields(html: str, action: str) -> dict[str, str]:
    """Hidden fields (csrf, versie) of the form posting to `action`."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', html, re.S)
    assert form, f"no form for {action}"
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(0)))


def post(client: TestClient, case_id: int, path: str, **data: object) -> object:
    action = f"/zaken/{case_id}{path}"
    fields = form_fields(client.get(f"/zaken/{case_id}").text, action)
    return client.post(action, data={**fields, **data}, follow_redirects=True)


def case_row(url: str, case_id: int) -> dict:  # type: ignore[type-arg]
    return infra.query(url, "SELECT * FROM cases WHERE id = %s", (case_id,))[0]


def audit_actions(url: str, case_id: int) -> list[tuple[str, str]]:
    rows = infra.query(url, "SELECT actor, action FROM audit_log WHERE case_id = %s ORDER BY id",
                       (case_id,))
    return [(r["actor"], r["action"]) for r in rows]


@pytest.fixture
def users_added(app_settings: Settings) -> Settings:
    add_users(app_settings.database_url)
    return app_settings


def test_full_flow_with_consent_escalation_and_coordinator_close(users_added: Settings) -> None:
    s = users_added
    url = s.database_url
    case_id = seed_case(url, severity=3)
    adv = logged_in(s, "adv.a")
    queue = adv.get("/").text
    assert f"BS-{case_id:06d}" in queue
    page = adv.get(f"/zaken/{case_id}").text
    assert '<mark title="Scheldwoord dat herkomst raakt"' in page
    r = post(adv, case_id, "/status", naar="in_behandeling", reden="")
    assert "in behandeling genomen" in r.text  # type: ignore[attr-defined]
    post(adv, case_id, "/status", naar="bevestigd", reden="scheldwoord + herkomst, herhaald")
    # Escalation without consent is refused with a clear message, and nothing changes.
    r = post(adv, case_id, "/escaleren", reden="gemeente moet weten")
    assert r.status_code == 422 and "toestemming van de bewoner" in r.text  # type: ignore[attr-defined]
    assert case_row(url, case_id)["status"] == "bevestigd"
    post(adv, case_id, "/toestemming", toestemming="gegeven", reden="telefonisch 3-11")
    r = post(adv, case_id, "/escaleren", reden="structureel", samenvatting="Bewoner wordt herhaald "
             "uitgescholden; wil bemiddeling.")
    assert r.status_code == 200 and "geëscaleerd" in r.text  # type: ignore[attr-defined]
    row = case_row(url, case_id)
    assert row["status"] == "geescaleerd" and row["escalated_by"] == "adv.a"

    coord = logged_in(s, "coord.utrecht")
    assert f"BS-{case_id:06d}" in coord.get("/").text
    view = coord.get(f"/zaken/{case_id}").text
    assert "vuile makaak" not in view and "wil bemiddeling" in view  # summary, never the note
    fields = form_fields(view, f"/zaken/{case_id}/ontvangst")  # closing before acknowledging
    r = coord.post(f"/zaken/{case_id}/afhandelen", data={**fields, "acties": ["bemiddeling"]})
    assert r.status_code == 422 and "Bevestig eerst de ontvangst" in r.text
    post(coord, case_id, "/ontvangst")
    r = post(coord, case_id, "/afhandelen", acties=["overig"], toelichting="")
    assert r.status_code == 422  # type: ignore[attr-defined]
    r = post(coord, case_id, "/afhandelen", acties=["gesprek_met_melder", "bemiddeling"],
             toelichting="buurtbemiddeling gestart")
    assert r.status_code == 200  # type: ignore[attr-defined]
    row = case_row(url, case_id)
    assert row["status"] == "afgehandeld" and row["coordinator_actions"] == ["gesprek_met_melder",
                                                                            "bemiddeling"]
    # The ADV sees the result back on the case.
    back = adv.get(f"/zaken/{case_id}").text
    assert "buurtbemiddeling gestart" in back and "bemiddeling" in back

    steps = infra.query(url, "SELECT from_status, to_status, actor FROM case_transitions "
                             "WHERE case_id = %s ORDER BY id", (case_id,))
    assert [(t["from_status"], t["to_status"], t["actor"]) for t in steps] == [
        ("nieuw", "in_behandeling", "adv.a"), ("in_behandeling", "bevestigd", "adv.a"),
        ("bevestigd", "geescaleerd", "adv.a"), ("geescaleerd", "afgehandeld", "coord.utrecht")]
    actions = audit_actions(url, case_id)
    for expected in [("adv.a", "case_viewed"), ("adv.a", "status_changed"),
                     ("adv.a", "action_refused"), ("adv.a", "consent_recorded"),
                     ("adv.a", "escalated"), ("coord.utrecht", "case_viewed"),
                     ("coord.utrecht", "escalation_acknowledged"),
                     ("coord.utrecht", "escalation_closed")]:
        assert expected in actions
    label = infra.query(url, "SELECT * FROM case_labels WHERE case_id = %s", (case_id,))
    assert [(x["source"], x["is_discrimination"], x["model_version"]) for x in label] == [
        ("besluit", True, "test-model-1")]


def test_region_and_municipality_isolation_also_for_guessed_urls(users_added: Settings) -> None:
    s = users_added
    case_id = seed_case(s.database_url)
    other_region = logged_in(s, "adv.drenthe")
    assert f"BS-{case_id:06d}" not in other_region.get("/").text
    assert other_region.get(f"/zaken/{case_id}").status_code == 404
    assert other_region.get("/zaken/999999").status_code == 404
    # Guessing a POST does not work either (same 404, nothing changes).
    adv = logged_in(s, "adv.a")
    fields = form_fields(other_region.get("/").text.replace("/logout", "/x"), "/x")
    r = other_region.post(f"/zaken/{case_id}/status",
                          data={"csrf": fields["csrf"], "versie": 1, "naar": "in_behandeling"})
    assert r.status_code == 404 and case_row(s.database_url, case_id)["status"] == "nieuw"
    # A coordinator sees nothing before escalation, and never another municipality's case.
    coord = logged_in(s, "coord.utrecht")
    assert coord.get(f"/zaken/{case_id}").status_code == 404
    post(adv, case_id, "/status", naar="in_behandeling")
    post(adv, case_id, "/status", naar="bevestigd", reden="ja")
    post(adv, case_id, "/toestemming", toestemming="gegeven")
    post(adv, case_id, "/escaleren", reden="ja")
    assert coord.get(f"/zaken/{case_id}").status_code == 200
    other_coord = logged_in(s, "coord.amersfoort")
    assert other_coord.get(f"/zaken/{case_id}").status_code == 404
    assert f"BS-{case_id:06d}" not in other_coord.get("/").text
    audit = audit_actions(s.database_url, case_id)
    assert ("adv.drenthe", "case_view_denied") in audit
    assert ("coord.amersfoort", "case_view_denied") in audit


def test_post_without_valid_csrf_is_refused_and_changes_nothing(users_added: Settings) -> None:
    s = users_added
    case_id = seed_case(s.database_url)
    adv = logged_in(s, "adv.a")
    for token in ("", "wrong-token"):
        r = adv.post(f"/zaken/{case_id}/status",
                     data={"csrf": token, "versie": 1, "naar": "in_behandeling"})
        assert r.status_code == 403 and "CSRF" in r.text
    assert case_row(s.database_url, case_id)["version"] == 1
    assert ("adv.a", "csrf_rejected") in audit_actions(s.database_url, case_id)
    # Login is CSRF-protected too (double-submit cookie).
    fresh = new_client(s).__enter__()
    r = fresh.post("/login", data={"username": "adv.a", "password": PASSWORD, "csrf": "x"})
    assert r.status_code == 403


def test_session_expires_absolutely_and_when_idle(users_added: Settings) -> None:
    s = users_added
    adv = logged_in(s, "adv.a")
    assert adv.get("/").status_code == 200
    infra.query(s.database_url, "UPDATE sessions SET last_seen_at = now() - interval '31 minutes' "
                                "RETURNING 1")
    r = adv.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?fout=verlopen"
    assert "sessie is verlopen" in adv.get("/login?fout=verlopen").text
    adv = logged_in(s, "adv.a")
    infra.query(s.database_url, "UPDATE sessions SET expires_at = now() - interval '1 second' "
                                "RETURNING 1")
    assert adv.get("/", follow_redirects=False).status_code == 303
    # Logging out ends the session server-side: the old cookie is worthless.
    adv = logged_in(s, "adv.a")
    cookie = adv.cookies.get("bs_session")
    fields = form_fields(adv.get("/").text, "/logout")
    adv.post("/logout", data=fields)
    replay = new_client(s).__enter__()
    replay.cookies.set("bs_session", cookie or "")
    assert replay.get("/", follow_redirects=False).status_code == 303


def test_lockout_after_repeated_failures(users_added: Settings) -> None:
    s = users_added
    client = new_client(s).__enter__()
    for _ in range(users.MAX_FAILED_LOGINS - 1):
        assert "onjuist" in login(client, "adv.a", "wrong-password-123").text
    assert "geblokkeerd" in login(client, "adv.a", "wrong-password-123").text
    # Even the right password is refused while locked.
    page = login(client, "adv.a", PASSWORD)
    assert "geblokkeerd" in page.text and "Werkvoorraad" not in page.text
    infra.query(s.database_url, "UPDATE users SET locked_until = now() - interval '1 second' "
                                "WHERE username = 'adv.a' RETURNING 1")
    assert "Werkvoorraad" in login(client, "adv.a", PASSWORD).text
    failed = infra.query(s.database_url, "SELECT count(*) AS n FROM audit_log "
                                         "WHERE actor = 'adv.a' AND action = 'login_failed'")
    assert failed[0]["n"] == users.MAX_FAILED_LOGINS + 1


def test_invalid_transitions_are_refused_with_a_message(users_added: Settings) -> None:
    s = users_added
    case_id = seed_case(s.database_url)
    adv = logged_in(s, "adv.a")
    fields = form_fields(adv.get(f"/zaken/{case_id}").text, f"/zaken/{case_id}/status")
    r = adv.post(f"/zaken/{case_id}/status", data={**fields, "naar": "bevestigd", "reden": "x"})
    assert r.status_code == 422
    assert "kan niet naar" in r.text and "bevestigd" in r.text
    r = adv.post(f"/zaken/{case_id}/status", data={**fields, "naar": "afgehandeld", "reden": "x"})
    assert r.status_code == 422
    post(adv, case_id, "/status", naar="in_behandeling")
    r = post(adv, case_id, "/status", naar="afgewezen", reden="")
    assert r.status_code == 422 and "reden" in r.text  # type: ignore[attr-defined]
    assert case_row(s.database_url, case_id)["status"] == "in_behandeling"
    # An admin can read but not decide.
    admin = logged_in(s, "beheerder")
    assert admin.get(f"/zaken/{case_id}").status_code == 200
    fields = form_fields(adv.get(f"/zaken/{case_id}").text, f"/zaken/{case_id}/status")
    admin_fields = {**fields, "csrf": form_fields(admin.get("/").text, "/logout")["csrf"]}
    r = admin.post(f"/zaken/{case_id}/status", data={**admin_fields, "naar": "bevestigd", "reden": "x"})
    assert r.status_code == 422 and case_row(s.database_url, case_id)["status"] == "in_behandeling"


def test_stale_form_loses_to_the_reviewer_who_was_first(users_added: Settings) -> None:
    s = users_added
    case_id = seed_case(s.database_url)
    a, b = logged_in(s, "adv.a"), logged_in(s, "adv.b")
    fields_a = form_fields(a.get(f"/zaken/{case_id}").text, f"/zaken/{case_id}/status")
    fields_b = form_fields(b.get(f"/zaken/{case_id}").text, f"/zaken/{case_id}/status")
    assert a.post(f"/zaken/{case_id}/status", data={**fields_a, "naar": "in_behandeling"},
                  follow_redirects=False).status_code == 303
    r = b.post(f"/zaken/{case_id}/status", data={**fields_b, "naar": "in_behandeling"})
    assert r.status_code == 409 and "intussen door iemand anders gewijzigd" in r.text
    steps = infra.query(s.database_url, "SELECT actor FROM case_transitions WHERE case_id = %s",
                        (case_id,))
    assert [x["actor"] for x in steps] == ["adv.a"]


def _decide(url: str, case_id: int, barrier: threading.Barrier, outcomes: dict[str, str],
            username: str, to: str) -> None:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        user = users.check_login(conn, username, PASSWORD)
        conn.commit()
        case = cases_repo.get_case(conn, case_id)
        barrier.wait()
        try:
            with conn.transaction():
                review.change_status(conn, user, case, to, f"{username} besluit", 2)  # type: ignore[arg-type]
            outcomes[username] = "won"
        except review.Conflict:
            outcomes[username] = "conflict"


def test_concurrent_decisions_exactly_one_wins(users_added: Settings) -> None:
    """Two reviewers decide the same version at the same moment (two DB transactions racing)."""
    s = users_added
    url = s.database_url
    for attempt in range(5):
        case_id = seed_case(url, subject=f"race-{attempt}")
        with psycopg.connect(url, row_factory=dict_row) as conn:
            user_a = users.check_login(conn, "adv.a", PASSWORD)
            review.change_status(conn, user_a, cases_repo.get_case(conn, case_id), "in_behandeling",
                                 "", 1)  # type: ignore[arg-type]
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        threads = [threading.Thread(target=_decide, args=(url, case_id, barrier, outcomes, u, to))
                   for u, to in (("adv.a", "bevestigd"), ("adv.b", "afgewezen"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes.values()) == ["conflict", "won"], outcomes
        winner = next(u for u, o in outcomes.items() if o == "won")
        row = case_row(url, case_id)
        assert row["status"] == ("bevestigd" if winner == "adv.a" else "afgewezen")
        assert row["version"] == 3
        decisions = infra.query(url, "SELECT actor FROM case_transitions WHERE case_id = %s "
                                     "AND from_status = 'in_behandeling'", (case_id,))
        assert [d["actor"] for d in decisions] == [winner]


def test_consent_not_needed_needs_a_second_reviewer(users_added: Settings) -> None:
    s = users_added
    case_id = seed_case(s.database_url)
    a, b = logged_in(s, "adv.a"), logged_in(s, "adv.b")
    post(a, case_id, "/status", naar="in_behandeling")
    post(a, case_id, "/status", naar="bevestigd", reden="gebiedssignaal")
    r = post(a, case_id, "/toestemming", toestemming="niet_nodig", reden="")
    assert r.status_code == 422  # type: ignore[attr-defined]
    post(a, case_id, "/toestemming", toestemming="niet_nodig", reden="hakenkruis op bushokje, geen persoon")
    assert "'Niet nodig' bevestigen" not in a.get(f"/zaken/{case_id}").text
    r = post(a, case_id, "/escaleren", reden="x")
    assert r.status_code == 422 and "tweede ADV-medewerker" in r.text  # type: ignore[attr-defined]
    post(b, case_id, "/toestemming/bevestigen")
    assert case_row(s.database_url, case_id)["consent_confirmed_by"] == "adv.b"
    r = post(a, case_id, "/escaleren", reden="gemeente beheert bushokje")
    assert r.status_code == 200 and case_row(s.database_url, case_id)["status"] == "geescaleerd"  # type: ignore[attr-defined]


def test_corrections_are_stored_as_labels_with_the_model_version(users_added: Settings) -> None:
    s = users_added
    case_id = seed_case(s.database_url, grounds=("herkomst",))
    adv = logged_in(s, "adv.a")
    r = post(adv, case_id, "/correctie", gronden=["herkomst", "godsdienst"],
             vormen=["verbaal", "bedreiging"], ernst=3)
    assert r.status_code == 200  # type: ignore[attr-defined]
    row = case_row(s.database_url, case_id)
    assert (row["grounds"], row["forms"], row["severity"]) == (["herkomst", "godsdienst"],
                                                               ["verbaal", "bedreiging"], 3)
    label = infra.query(s.database_url, "SELECT * FROM case_labels WHERE case_id = %s", (case_id,))[0]
    assert label["source"] == "correctie" and label["model_version"] == "test-model-1"
    assert label["predicted_grounds"] == ["herkomst"] and label["predicted_severity"] == 2
    r = post(adv, case_id, "/correctie", gronden=[], vormen=[], ernst=1)
    assert r.status_code == 422  # type: ignore[attr-defined]
    r = post(adv, case_id, "/correctie", gronden=["kleur"], vormen=[], ernst=1)
    assert r.status_code == 422  # type: ignore[attr-defined]


def test_queue_order_filters_and_household_timeline(users_added: Settings) -> None:
    s = users_added
    url = s.database_url
    low = seed_case(url, severity=1, subject="hh-x", occurred_at="2026-10-01T10:00:00+02:00")
    high = seed_case(url, severity=3, grounds=("godsdienst",), municipality="GM0307", subject="hh-y")
    pattern = seed_case(url, severity=1, subject="hh-x", occurred_at="2026-10-20T10:00:00+02:00")
    infra.query(url, "UPDATE cases SET level = 'patroon' WHERE id = %s RETURNING 1", (pattern,))
    adv = logged_in(s, "adv.a")
    order = re.findall(r'class="case-link">BS-(\d+)<', adv.get("/").text)
    assert [int(x) for x in order] == [pattern, high, low]
    only = re.findall(r'class="case-link">BS-(\d+)<', adv.get("/?grond=godsdienst").text)
    assert [int(x) for x in only] == [high]
    only = re.findall(r'class="case-link">BS-(\d+)<', adv.get("/?gemeente=GM0344").text)
    assert [int(x) for x in only] == [pattern, low]
    assert re.findall(r'class="case-link">', adv.get("/?status=afgehandeld").text) == []
    page = adv.get(f"/zaken/{pattern}").text
    timeline = page[page.index("Geschiedenis van dit huishouden"):page.index("Verloop")]
    assert f"BS-{low:06d}" in timeline and "deze zaak" in timeline
    assert timeline.index("01-10-2026") < timeline.index("20-10-2026")


def test_audit_log_is_visible_and_exportable_for_admins_only(users_added: Settings) -> None:
    s = users_added
    case_id = seed_case(s.database_url)
    adv = logged_in(s, "adv.a")
    adv.get(f"/zaken/{case_id}")
    assert adv.get("/audit").status_code == 404
    assert adv.get("/audit/export.csv").status_code == 404
    admin = logged_in(s, "beheerder")
    page = admin.get(f"/audit?zaak={case_id}").text
    assert "case_viewed" in page and "adv.a" in page
    export = admin.get("/audit/export.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert {"actor": "adv.a", "action": "case_viewed", "case_id": str(case_id)}.items() <= next(
        r for r in rows if r["action"] == "case_viewed").items()
    with psycopg.connect(s.database_url) as conn, pytest.raises(psycopg.errors.RaiseException):
        conn.execute("DELETE FROM audit_log")
