"""Paging the Werkvoorraad in a real browser: "Volgende"/"Vorige" with the keyboard shortcuts still
working on every page, and a tampered page link answered with a clear Dutch 400 page."""

from __future__ import annotations

import re

import psycopg
from playwright.sync_api import Browser, expect
from psycopg.rows import dict_row

from buurtsignaal.adapters.users import add_user
from tests.e2e.review.test_review_in_browser import PASSWORD, login
from tests.integration.review.test_queue_pagination import seed
from tests.support.services import ServiceProcs


def test_paging_with_keyboard_and_tampered_link(review_stack: ServiceProcs, browser: Browser) -> None:
    url = review_stack.settings.database_url
    with psycopg.connect(url, row_factory=dict_row) as conn:
        add_user(conn, "adv.pager", PASSWORD, "adv_medewerker", adv_region="midden-nederland")
    seed(url, [("GM0344", 1 + i % 3) for i in range(62)])
    seed(url, [("GM0106", 3) for _ in range(5)])  # Drenthe: never on this reviewer's pages
    base = review_stack.url("notifier")
    page = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
    login(page, base, "adv.pager")

    expect(page.locator(".count")).to_contain_text("62 zaken")
    rows = page.locator("[data-row]")
    expect(rows).to_have_count(50)
    first_of_page_1 = rows.first.locator("a").inner_text()
    expect(page.locator("a[rel=prev]")).to_have_count(0)

    page.click("a[rel=next]")
    page.wait_for_selector("html[data-keys=ready]", state="attached")
    expect(rows).to_have_count(12)
    expect(page.locator("a[rel=next]")).to_have_count(0)
    assert re.search(r"[?&]na=", page.url)
    # j selects the first row of this page, o opens it.
    page.keyboard.press("j")
    expect(rows.first).to_have_class(re.compile("selected"))
    opened = rows.first.locator("a").inner_text()
    page.keyboard.press("o")
    expect(page.locator("h1")).to_contain_text(opened)
    page.go_back()
    page.wait_for_selector("html[data-keys=ready]", state="attached")

    page.click("a[rel=prev]")
    page.wait_for_selector("html[data-keys=ready]", state="attached")
    expect(rows).to_have_count(50)
    assert rows.first.locator("a").inner_text() == first_of_page_1
    expect(page.locator("a[rel=prev]")).to_have_count(0)  # back at the start

    next_href = page.locator("a[rel=next]").get_attribute("href")
    assert next_href is not None
    response = page.goto(base + next_href[:-5])  # a truncated cursor
    assert response is not None and response.status == 400
    expect(page.locator("h1")).to_have_text("Ongeldige paginalink")
    expect(page.locator("a", has_text="Terug naar het overzicht")).to_be_visible()
