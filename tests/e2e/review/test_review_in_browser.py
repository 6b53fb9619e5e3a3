"""People at work, in a real browser: a reviewer opens the top case with the keyboard, sees the
evidence, confirms, records consent and escalates; the coordinator gets the e-mail, follows its
link, acknowledges and closes; others cannot see the case; the audit log shows every step.
Screenshots of the main pages: `make screenshots` writes them to docs/screenshots/."""

from __future__ import annotations

import re

import httpx
import psycopg
from playwright.sync_api import Browser, Page, expect
from psycopg.rows import dict_row

from buurtsignaal.adapters.apikeys import create_key, ensure_tenant
from buurtsignaal.adapters.users import add_user
from tests.e2e.review.conftest import COORDINATOR_MAIL
from tests.integration.review.conftest import Mailbox
from tests.support import infra
from tests.support.notes import FLAGGED_TEXT, note
from tests.support.screenshots import screenshot_dir
from tests.support.services import ServiceProcs

SHOTS = screenshot_dir()
PASSWORD = "correct-horse-battery"
OLDER = ("Bewoonster van nr. 14 meldt dat er een briefje in de bus lag: 'ga terug naar je eigen "
         "land'. Ze is bang.")
MILD = "Buurman van nr. 20 klaagt over blaffende hond, bewoner van nr. 22 scheldt hem uit voor sukkel."


def login(page: Page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    expect(page.locator(".who")).to_contain_text(username)
    page.wait_for_selector("html[data-keys=ready]", state="attached")


def test_review_escalation_and_coordinator_close(review_stack: ServiceProcs, browser: Browser,
                                                 mailbox: Mailbox) -> None:
    settings = review_stack.settings
    base = review_stack.url("notifier")
    with psycopg.connect(settings.database_url, row_factory=dict_row) as conn:
        ensure_tenant(conn, "corp-e2e")
        key = create_key(conn, "corp-e2e")
        for username, role, region, municipalities in [
            ("adv.utrecht", "adv_medewerker", "midden-nederland", []),
            ("adv.drenthe", "adv_medewerker", "drenthe", []),
            ("coord.utrecht", "coordinator", None, ["GM0344"]),
            ("coord.amersfoort", "coordinator", None, ["GM0307"]),
            ("beheerder", "beheerder", None, []),
        ]:
            add_user(conn, username, PASSWORD, role, adv_region=region, municipalities=municipalities)
    notes = [note(OLDER, occurred_at="2026-10-12T18:00:00+02:00"), note(FLAGGED_TEXT),
             note(MILD, address={"postcode": "3531 AB", "house_number": 22})]
    r = httpx.post(review_stack.url("ingest") + "/v1/notes", json={"notes": notes},
                   headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 202, r.text
    infra.wait_until(lambda: infra.query(settings.database_url,
                                         "SELECT count(*) AS n FROM note_scores")[0]["n"] == 3,
                     timeout=90, what="3 notes scored")
    top = infra.query(settings.database_url,
                      "SELECT c.id FROM cases c JOIN notes n ON n.id = c.note_id "
                      "WHERE n.external_id = %s", (notes[1]["external_id"],))[0]["id"]
    number = f"BS-{top:06d}"
    SHOTS.mkdir(parents=True, exist_ok=True)

    # --- the reviewer -----------------------------------------------------------------------
    reviewer = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
    login(reviewer, base, "adv.utrecht")
    first_row = reviewer.locator("[data-row]").first
    expect(first_row).to_contain_text(number)  # the most severe case is on top
    reviewer.keyboard.press("j")
    expect(first_row).to_have_class(re.compile("selected"))
    reviewer.screenshot(path=str(SHOTS / "werkvoorraad.png"), full_page=True)
    reviewer.keyboard.press("o")
    expect(reviewer.locator("h1")).to_contain_text(number)
    reviewer.wait_for_selector("html[data-keys=ready]", state="attached")
    marks = reviewer.locator(".note-text mark")
    expect(marks.first).to_be_visible()
    assert "makaak" in " ".join(marks.all_inner_texts())
    timeline = reviewer.locator("ol.timeline li")
    expect(timeline).to_have_count(2)  # the earlier note about the same household
    expect(timeline.first).to_contain_text("briefje in de bus")
    reviewer.screenshot(path=str(SHOTS / "zaak.png"), full_page=True)

    reviewer.click("#knop-status")  # first choice: in behandeling nemen
    expect(reviewer.locator(".notice")).to_contain_text("in behandeling")
    reviewer.check("input[name=naar][value=bevestigd]")
    reviewer.fill("#reden-status", "Scheldwoord en 'terug naar eigen land': herkomst, herhaald.")
    reviewer.press("#reden-status", "Tab")
    reviewer.keyboard.press("Enter")  # the submit button has focus after the reason
    expect(reviewer.locator("h1 .status")).to_have_text("bevestigd")
    reviewer.select_option("#toestemming-keuze", "gegeven")
    reviewer.fill("#toestemming-reden", "Telefonisch akkoord, 3 november")
    reviewer.click("#knop-toestemming")
    expect(reviewer.locator("dd.consent")).to_contain_text("gegeven")
    reviewer.fill("#reden-escalatie", "Structureel, bewoner wil dat de gemeente optreedt.")
    reviewer.fill("#samenvatting", "Bewoonster wordt herhaaldelijk racistisch uitgescholden door "
                                   "een buurman en is bang; zij wil bemiddeling.")
    reviewer.click("#knop-escaleren")
    expect(reviewer.locator("h1 .status")).to_contain_text("geëscaleerd")

    # --- the coordinator gets the e-mail and follows its link -----------------------------
    infra.wait_until(lambda: any(COORDINATOR_MAIL in r for r in mailbox.recipients), timeout=30,
                     what="escalation e-mail to the coordinator")
    mail = mailbox.messages[[COORDINATOR_MAIL in r for r in mailbox.recipients].index(True)]
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert number in str(mail["Subject"]) and "Escalatie" in str(mail["Subject"])
    assert "makaak" not in body and "3531" not in body and "nr. 14" not in body
    link = re.search(r"Openen:\s+(\S+)", body)
    assert link and link.group(1) == f"{settings.notifier_url}/zaken/{top}"

    coordinator = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
    login(coordinator, base, "coord.utrecht")
    expect(coordinator.locator("[data-row]").first).to_contain_text(number)
    coordinator.goto(base + f"/zaken/{top}")
    expect(coordinator.locator("h1")).to_contain_text(f"Escalatie {number}")
    expect(coordinator.locator(".summary")).to_contain_text("wil bemiddeling")
    assert "makaak" not in coordinator.content()  # never the note itself
    coordinator.click("#knop-ontvangst")
    expect(coordinator.locator(".notice")).to_contain_text("Ontvangst bevestigd")
    coordinator.check("input[name=acties][value=gesprek_met_melder]")
    coordinator.check("input[name=acties][value=bemiddeling]")
    coordinator.fill("#toelichting", "Buurtbemiddeling ingeschakeld.")
    coordinator.screenshot(path=str(SHOTS / "coordinator.png"), full_page=True)
    coordinator.click("#knop-afhandelen")
    expect(coordinator.locator("h1 .status")).to_have_text("afgehandeld")

    reviewer.reload()
    expect(reviewer.locator("#gemeente")).to_contain_text("Buurtbemiddeling ingeschakeld.")

    # --- nobody else sees it, not even by guessing the URL -----------------------------------
    for outsider in ("adv.drenthe", "coord.amersfoort"):
        page = browser.new_context().new_page()
        login(page, base, outsider)
        assert number not in page.content()
        response = page.goto(base + f"/zaken/{top}")
        assert response is not None and response.status == 404
        expect(page.locator("h1")).to_have_text("Niet gevonden")
        page.context.close()

    # --- the audit log shows every step ------------------------------------------------------
    admin = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
    login(admin, base, "beheerder")
    admin.click("text=Auditlog")
    admin.fill("input[name=zaak]", str(top))
    admin.press("input[name=zaak]", "Enter")
    rows = admin.locator("table.audit tbody tr")
    text = " ".join(rows.all_inner_texts())
    for actor, action in [("adv.utrecht", "case_viewed"), ("adv.utrecht", "status_changed"),
                          ("adv.utrecht", "consent_recorded"), ("adv.utrecht", "escalated"),
                          ("coord.utrecht", "escalation_acknowledged"),
                          ("coord.utrecht", "escalation_closed"),
                          ("adv.drenthe", "case_view_denied"),
                          ("coord.amersfoort", "case_view_denied")]:
        assert re.search(rf"{re.escape(actor)}\s+{action}", text), f"{actor} {action} not in audit"
    admin.screenshot(path=str(SHOTS / "auditlog.png"), full_page=True)
    for context in browser.contexts:
        context.close()
