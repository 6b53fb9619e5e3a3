"""Keyset pagination of the Werkvoorraad and the coordinator's Escalaties, through the real app and
PostgreSQL: queue order across pages, no duplicates or gaps while cases arrive and leave,
tampered cursors refused with 400, the region (and municipality) restriction on every page, and
the page queries planned on their indexes (migration 0006)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from psycopg.rows import dict_row

from buurtsignaal.adapters import alerts_repo, cases_repo
from buurtsignaal.adapters.apikeys import ensure_tenant
from buurtsignaal.config import REPO_ROOT, Settings
from buurtsignaal.domain import paging
from buurtsignaal.domain.regions import RegionMap
from tests.integration.review.conftest import EVIDENCE, PASSWORD, TEXT, new_client
from tests.support.services import login

PAGE = cases_repo.PAGE_SIZE
REGIONS = RegionMap.load(REPO_ROOT / "config" / "regions.yaml")


def seed(url: str, specs: list[tuple[str, int]]) -> list[int]:
    """Cases as the pipeline stores them, one per (municipality, severity); returns their ids."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        ensure_tenant(conn, "corp-test")
        events = []
        for municipality, severity in specs:
            note_id = str(uuid.uuid4())
            conn.execute(
                """INSERT INTO notes (id, tenant_id, external_id, occurred_at, author_role, text,
                       postcode, house_number, postcode_area, municipality_code, subject_key,
                       area_key, source, correlation_id)
                   VALUES (%s, 'corp-test', %s, now(), 'huismeester', %s, '3531AB', 14, '3531', %s,
                       %s, 'area-1', 'http', %s)""",
                (note_id, f"ext-{note_id}", TEXT, municipality, f"hh-{note_id[:8]}", note_id))
            events.append({"note_id": note_id, "flag": True, "score": 0.9, "grounds": ["herkomst"],
                           "forms": ["verbaal"], "severity": severity, "evidence": EVIDENCE,
                           "model_version": "test-model-1",
                           "scored_at": datetime.now(UTC).isoformat(),
                           "subject_key": f"hh-{note_id[:8]}", "municipality_code": municipality})
        stored = cases_repo.store_scored(conn, events, REGIONS)
        return [case_id for case_id, _ in stored.cases_created]


def execute(url: str, statement: str, params: Any = None) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(statement, params)


def expected_queue(url: str, region: str | None) -> list[int]:
    """The queue order computed in Python from every open case (not with the page query)."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows = conn.execute("SELECT id, level, severity, created_at, adv_region FROM cases "
                            "WHERE status = ANY(%s)", (list(cases_repo.QUEUE_STATUSES),)).fetchall()
    rows = [r for r in rows if region is None or r["adv_region"] == region]
    return [r["id"] for r in sorted(rows, key=cases_repo.queue_key)]


def logged_in(app_settings: Settings, username: str) -> TestClient:
    client = new_client(app_settings).__enter__()
    assert login(client, username, PASSWORD).status_code == 200  # type: ignore[arg-type]
    return client


def case_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'class="case-link">BS-(\d{6})<', html)]


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return unescape(found.group(1)) if found else None


def walk(client: TestClient, start: str = "/", rel: str = "next") -> list[list[int]]:
    """Follow 'Volgende' (or 'Vorige') links from `start`; the case ids of each page."""
    pages, url = [], start
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        pages.append(case_ids(response.text))
        url = link(response.text, rel)
        assert len(pages) < 100, "the links go round in circles"
    return pages


@pytest.fixture
def mixed_queue(client: TestClient, app_settings: Settings) -> dict[str, list[int]]:
    """130 open cases in Midden-Nederland over three severities (some in a pattern, some sharing
    created_at so only the id breaks ties), closed ones, and 60 open cases in Drenthe."""
    url = app_settings.database_url
    midden = seed(url, [("GM0344" if i % 3 else "GM0307", 1 + i % 3) for i in range(130)])
    drenthe = seed(url, [("GM0106", 1 + i % 3) for i in range(60)])
    execute(url, "UPDATE cases SET level = 'patroon' WHERE id = ANY(%s)", (midden[::9],))
    execute(url, "UPDATE cases SET created_at = now() - interval '3 days' WHERE id = ANY(%s)",
            (midden[10:40],))
    closed = midden[::7]
    execute(url, "UPDATE cases SET status = 'afgewezen' WHERE id = ANY(%s)", (closed,))
    return {"midden": [c for c in midden if c not in closed], "closed": closed, "drenthe": drenthe}


def test_pages_follow_the_queue_order_with_a_unique_tiebreaker(
        mixed_queue: dict[str, list[int]], app_settings: Settings) -> None:
    reviewer = logged_in(app_settings, "adv.a")
    pages = walk(reviewer)
    expected = expected_queue(app_settings.database_url, "midden-nederland")
    assert len(expected) == len(mixed_queue["midden"]) > 2 * PAGE
    assert [len(p) for p in pages] == [PAGE, PAGE, len(expected) - 2 * PAGE]
    assert [c for p in pages for c in p] == expected
    # The count is shown, and the filters travel with the cursor.
    first = reviewer.get("/").text
    assert f'data-count="{len(expected)}"' in first and f"{len(expected)} zaken" in first
    # Backwards from the last page gives the same pages.
    last_url = None
    url: str | None = "/"
    while url is not None:
        last_url, url = url, link(reviewer.get(url).text, "next")
    assert walk(reviewer, last_url, rel="prev") == pages[::-1]


def test_no_duplicates_or_gaps_while_cases_arrive_and_leave(
        mixed_queue: dict[str, list[int]], app_settings: Settings) -> None:
    url = app_settings.database_url
    reviewer = logged_in(app_settings, "adv.a")
    seen: list[int] = []
    arrived_ahead: list[int] = []
    arrived_behind: list[int] = []
    left: list[int] = []
    next_url: str | None = "/"
    while next_url is not None:
        html = reviewer.get(next_url).text
        page = case_ids(html)
        seen += page
        next_url = link(html, "next")
        if next_url is None:
            break
        # Between two page loads: new severe cases (they sort before the cursor: the reviewer
        # finds them on the first page), new mild ones (after it), and a case already seen is
        # closed by a colleague. With OFFSET each of these would shift rows over page borders.
        ahead = seed(url, [("GM0344", 3), ("GM0356", 3)])
        # ... of a household that just got a pattern alert: level 'patroon', first in the queue.
        execute(url, "UPDATE cases SET level = 'patroon' WHERE id = ANY(%s)", (ahead,))
        arrived_ahead += ahead
        arrived_behind += seed(url, [("GM0344", 1)])
        execute(url, "UPDATE cases SET status = 'in_behandeling' WHERE id = %s", (page[0],))
        execute(url, "UPDATE cases SET status = 'afgewezen' WHERE id = %s", (page[1],))
        left.append(page[1])
    assert len(seen) == len(set(seen)), "a case was shown twice"
    assert set(mixed_queue["midden"]) <= set(seen), "a case that was open all along was skipped"
    assert set(arrived_behind) <= set(seen)  # arrived after the cursor: on a later page
    assert not set(arrived_ahead) & set(seen)  # arrived before the cursor: not on a later page
    assert not set(mixed_queue["drenthe"]) & set(seen)
    # Reloading the start shows the new severe cases first, and no closed case.
    again = [c for p in walk(reviewer) for c in p]
    assert again == expected_queue(url, "midden-nederland")
    assert set(arrived_ahead) <= set(again[:PAGE]) and not set(left) & set(again)
    assert len(again[:PAGE]) == PAGE


def test_region_restriction_holds_on_every_page(
        mixed_queue: dict[str, list[int]], app_settings: Settings) -> None:
    midden = logged_in(app_settings, "adv.a")
    drenthe = logged_in(app_settings, "adv.drenthe")
    drenthe_pages = walk(drenthe)
    assert [c for p in drenthe_pages for c in p] == expected_queue(app_settings.database_url, "drenthe")
    # A cursor taken from a Midden-Nederland page, opened by the Drenthe reviewer: still only
    # Drenthe cases (the cursor is a position in the order, never a permission).
    foreign = link(midden.get("/").text, "next")
    assert foreign is not None
    foreign_pages = walk(drenthe, foreign)
    assert {c for p in foreign_pages for c in p} <= set(mixed_queue["drenthe"])
    # The admin pages through both regions.
    admin = logged_in(app_settings, "beheerder")
    everything = [c for p in walk(admin) for c in p]
    assert everything == expected_queue(app_settings.database_url, None)
    assert set(mixed_queue["drenthe"]) | set(mixed_queue["midden"]) == set(everything)


def test_filters_are_kept_on_every_page(mixed_queue: dict[str, list[int]],
                                        app_settings: Settings) -> None:
    reviewer = logged_in(app_settings, "adv.a")
    html = reviewer.get("/?gemeente=GM0344&status=").text
    assert 'value="GM0307"' in html and 'value="GM0106"' not in html  # the filter's choices
    pages = walk(reviewer, "/?gemeente=GM0344")
    with psycopg.connect(app_settings.database_url, row_factory=dict_row) as conn:
        utrecht = {r["id"] for r in conn.execute(
            "SELECT id FROM cases WHERE municipality_code = 'GM0344'").fetchall()}
    expected = [c for c in expected_queue(app_settings.database_url, "midden-nederland")
                if c in utrecht]
    assert len(expected) > PAGE and len(pages) == 2
    assert [c for p in pages for c in p] == expected
    assert "gemeente=GM0344" in (link(reviewer.get("/?gemeente=GM0344").text, "next") or "")


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-3],
    lambda t: t.replace(".", ".A", 1),
    lambda t: ("B" if t[5] != "B" else "C").join([t[:5], t[6:]]),
    lambda t: "x" * 40,
    lambda t: t + "%00",
], ids=["truncated", "signature", "payload", "garbage", "nul"])
def test_tampered_cursor_gives_a_clear_400(mixed_queue: dict[str, list[int]],
                                           app_settings: Settings, mangle: Any) -> None:
    reviewer = logged_in(app_settings, "adv.a")
    good = link(reviewer.get("/").text, "next")
    assert good is not None and "na=" in good
    token = re.search(r"na=([^&]+)", good).group(1)  # type: ignore[union-attr]
    response = reviewer.get(f"/?na={mangle(token)}")
    assert response.status_code == 400
    assert "Ongeldige paginalink" in response.text and "Traceback" not in response.text


def test_cursor_misuse_gives_400(mixed_queue: dict[str, list[int]], app_settings: Settings) -> None:
    reviewer = logged_in(app_settings, "adv.a")
    second = reviewer.get(link(reviewer.get("/").text, "next") or "").text
    forward = re.search(r"na=([^&\"]+)", link(second, "next") or "").group(1)  # type: ignore[union-attr]
    backward = re.search(r"voor=([^&\"]+)", link(second, "prev") or "").group(1)  # type: ignore[union-attr]
    assert reviewer.get(f"/?voor={backward}").status_code == 200
    for bad in (f"/?na={backward}", f"/?voor={forward}", f"/?na={forward}&voor={backward}"):
        assert reviewer.get(bad).status_code == 400, bad
    # A cursor signed for the coordinator's list is not accepted on the Werkvoorraad.
    other = paging.encode(paging.Cursor("after", (True, -1, datetime.now(UTC), 1)),
                          scope="escalaties", secret=app_settings.session_secret)
    assert reviewer.get(f"/?na={other}").status_code == 400


def test_coordinator_pages_only_their_escalations(client: TestClient, app_settings: Settings) -> None:
    url = app_settings.database_url
    utrecht = seed(url, [("GM0344", 1 + i % 3) for i in range(70)])
    amersfoort = seed(url, [("GM0307", 2) for _ in range(5)])
    not_escalated = seed(url, [("GM0344", 3) for _ in range(5)])
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn:
        for i, case_id in enumerate(utrecht + amersfoort):
            conn.execute(
                "UPDATE cases SET status = %s, escalated_at = %s, acknowledged_at = %s WHERE id = %s",
                ("afgehandeld" if i % 5 == 0 else "geescaleerd",
                 now - timedelta(minutes=i % 7),  # shared moments: the id breaks ties
                 now if i % 4 == 0 else None, case_id))
    coordinator = logged_in(app_settings, "coord.utrecht")
    pages = walk(coordinator)
    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows = conn.execute("SELECT id, status, severity, escalated_at, acknowledged_at FROM cases "
                            "WHERE id = ANY(%s)", (utrecht,)).fetchall()
    assert [len(p) for p in pages] == [PAGE, 70 - PAGE]
    assert [c for p in pages for c in p] == [r["id"] for r in sorted(rows, key=cases_repo.coordinator_key)]
    assert not set(amersfoort + not_escalated) & {c for p in pages for c in p}
    last = link(coordinator.get("/").text, "next")
    assert last is not None and walk(coordinator, last, rel="prev")[-1] == pages[0]
    assert coordinator.get("/?na=" + "A" * 30).status_code == 400


def test_count_is_capped(mixed_queue: dict[str, list[int]], app_settings: Settings) -> None:
    with psycopg.connect(app_settings.database_url, row_factory=dict_row) as conn:
        f = cases_repo.QueueFilter(region="midden-nederland")
        assert cases_repo.queue_count(conn, f) == len(mixed_queue["midden"])
        assert cases_repo.queue_count(conn, f, cap=10) == 11  # "more than 10"
        assert cases_repo.queue_municipalities(conn, "midden-nederland") == ["GM0307", "GM0344"]
        assert cases_repo.queue_municipalities(conn, "drenthe") == ["GM0106"]
        assert cases_repo.queue_municipalities(conn, None) == ["GM0106", "GM0307", "GM0344"]


def plan(conn: psycopg.Connection, query: Any, params: Any = None) -> str:
    rows = conn.execute(sql.SQL("EXPLAIN ") + (sql.SQL(query) if isinstance(query, str) else query),
                        params).fetchall()
    return "\n".join(r["QUERY PLAN"] for r in rows)


def test_page_queries_are_planned_on_their_indexes(mixed_queue: dict[str, list[int]],
                                                   app_settings: Settings) -> None:
    """The index must hold the page's order (no Sort) and take the cursor as an index condition.
    A few hundred rows would be read with a sequential scan, or with another index and a sort, so
    those are switched off: what is checked is that the index matches the query, not the planner's
    choice at this size (which flips with the table statistics). A Sort still shows up when no
    index can give the order."""
    with psycopg.connect(app_settings.database_url, row_factory=dict_row) as conn:
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_bitmapscan = off")
        conn.execute("SET enable_sort = off")
        queue = cases_repo.QueueFilter(region="midden-nederland")
        cursor = paging.Cursor("after", (True, -2, datetime.now(UTC), 5))
        for direction in ("after", "before"):
            text = plan(conn, *cases_repo.queue_query(queue, paging.Cursor(direction, cursor.key), 50))
            assert "Index Scan" in text and "using cases_open_queue_idx" in text, text
            assert re.search(r"Index Cond: .*ROW\(", text) and "Sort" not in text, text
        one_status = cases_repo.QueueFilter(region="midden-nederland", statuses=("nieuw",))
        assert "cases_open_queue_idx" in plan(conn, *cases_repo.queue_query(one_status, None, 50))
        escalations = cases_repo.coordinator_query(["GM0344"], paging.Cursor(
            "after", (False, False, -2, datetime.now(UTC), 5)), 50)
        text = plan(conn, *escalations)
        assert "cases_escalated_queue_idx" in text and "Sort" not in text, text
        assert re.search(r"Index Cond: .*ROW\(", text), text
        text = plan(conn, "SELECT id FROM pattern_alerts p WHERE p.scope = 'household' "
                    "AND p.adv_region = 'drenthe' ORDER BY (p.level = 'escalate') DESC, "
                    "p.raised_at DESC, p.id LIMIT 100")
        assert "pattern_alerts_household_queue_idx" in text and "Sort" not in text, text
        assert alerts_repo.household_alerts(conn, "drenthe") == []
