"""Reports from real PostgreSQL: numbers against a hand count, the CLI in three formats (the PDF
and the HTML rendered to PNG), the UI per role with audit, and small cells protected."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient

from buurtsignaal.config import REPO_ROOT, Settings
from buurtsignaal.reporting.cli import make_report
from tests.integration.review.conftest import PASSWORD, add_users, new_client, seed_case
from tests.support import infra
from tests.support.services import login

# (municipality, grounds, final status, how many) -- all in Q3 2026, by hand:
SEED = [
    ("GM0344", ("herkomst",), "afgewezen", 6),
    ("GM0344", ("herkomst", "godsdienst"), "bevestigd", 5),
    ("GM0307", ("herkomst",), "geescaleerd", 4),
    ("GM0307", ("seksuele_gerichtheid",), "afgehandeld", 3),
    ("GM0344", ("handicap",), "nieuw", 2),
    ("GM0344", ("herkomst",), "in_behandeling", 7),
    ("GM0106", ("herkomst",), "afgewezen", 9),  # Drenthe: never in a Midden-Nederland report
]
MONTH = {"afgewezen": "07", "bevestigd": "07", "geescaleerd": "08", "afgehandeld": "08",
         "nieuw": "09", "in_behandeling": "09"}


def seed(url: str) -> None:
    n = 0
    for municipality, grounds, status, count in SEED:
        for _ in range(count):
            n += 1
            case_id = seed_case(url, municipality=municipality, grounds=grounds, subject=f"hh-{n}",
                                occurred_at=f"2026-{MONTH[status]}-15T10:00:00+02:00")
            with psycopg.connect(url) as conn:
                conn.execute(
                    """UPDATE cases SET status = %s,
                           consent = CASE WHEN %s THEN 'gegeven' ELSE 'onbekend' END,
                           first_reviewed_at = CASE WHEN %s <> 'nieuw'
                                                    THEN created_at + interval '3 hours' END,
                           escalated_at = CASE WHEN %s IN ('geescaleerd', 'afgehandeld')
                                               THEN created_at + interval '30 hours' END,
                           coordinator_actions = CASE WHEN %s = 'afgehandeld' THEN '{bemiddeling}'::text[]
                                                      ELSE '{}'::text[] END
                       WHERE id = %s""",
                    (status, status in ("bevestigd", "geescaleerd", "afgehandeld"), status, status,
                     status, case_id))
    with psycopg.connect(url) as conn:  # a case retention removed in July: counts only
        conn.execute("""INSERT INTO anonymous_statistics (month, municipality_code, adv_region, status,
                            level, severity, grounds, forms, removed_because)
                        VALUES ('2026-07-01', 'GM0344', 'midden-nederland', 'afgewezen', 'signaal', 1,
                                '{herkomst}', '{verbaal}', 'dismissed_cases')""")


@pytest.fixture
def seeded(app_settings: Settings) -> Settings:
    with psycopg.connect(app_settings.database_url) as conn:
        conn.execute("TRUNCATE anonymous_statistics")
    seed(app_settings.database_url)
    add_users(app_settings.database_url)
    return app_settings


def report_csv(rows: str) -> dict[tuple[str, str, str], list[str]]:
    parsed = list(csv.reader(io.StringIO(rows)))
    return {(r[5], r[8], r[11]): r for r in parsed[1:]}


def test_report_numbers_match_the_hand_count(seeded: Settings) -> None:
    from psycopg.rows import dict_row

    with psycopg.connect(seeded.database_url, row_factory=dict_row) as conn:
        report = make_report(conn, "2026-Q3", region="midden-nederland", municipalities=[],
                             threshold=5, regions_file=seeded.regions_file)
    months = report.tables["maand"]
    # 27 Midden-Nederland cases + 1 anonymised: jul 6 + 5 + 1, aug 4 + 3, sep 2 + 7
    assert months.total == 28 and months.row_totals == [12, 7, 9]
    assert [c.code for c in months.cols] == ["open", "afgewezen", "bevestigd", "geescaleerd"]
    assert months.col_totals == [9, 7, 5, 7]
    grounds = dict(zip([r.code for r in report.tables["grond"].rows],
                       report.tables["grond"].row_totals, strict=True))
    assert grounds["herkomst"] == 6 + 5 + 4 + 7 + 1 and grounds["godsdienst"] == 5
    assert grounds["seksuele_gerichtheid+handicap"] == 5  # 3 + 2, merged: both below 5
    municipalities = dict(zip([r.code for r in report.tables["gemeente"].rows],
                              report.tables["gemeente"].row_totals, strict=True))
    assert municipalities["GM0344"] == 21 and municipalities["GM0307"] == 7
    assert "GM0106" not in municipalities  # Drenthe is another region
    consent = report.tables["toestemming"]
    assert consent.total == 12 and consent.cells == [[0], [12], [0], [0]]  # onbekend, gegeven, ...
    ind = {i.key: i.value for i in report.indicators}
    assert ind["uren_tot_eerste_beoordeling_mediaan"] == 3.0 and ind["uren_tot_escalatie_mediaan"] == 30.0


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BUURTSIGNAAL_DATABASE_URL": settings.database_url, "BUURTSIGNAAL_DEMO_MODE": "true"}
    return subprocess.run([sys.executable, "-m", "buurtsignaal.cli", "report", *args], env=env,
                          capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)


def test_cli_writes_csv_and_a_pdf_that_renders(seeded: Settings, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    done = run_cli(seeded, "--period", "2026-Q3", "--region", "midden-nederland", "--format", "csv",
                   "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = report_csv(out.read_text(encoding="utf-8"))
    assert rows[("maand", "totaal", "totaal")][13] == "28"
    assert rows[("gemeente", "GM0307", "totaal")][13] == "7"
    for key, row in rows.items():
        if row[14] in ("gepubliceerd", "samengevoegd") and key[0] != "indicator":
            assert int(row[13]) == 0 or int(row[13]) >= 5, row
    pdf_path = tmp_path / "r.pdf"
    done = run_cli(seeded, "--period", "2026-Q3", "--municipality", "GM0307", "--format", "pdf",
                   "--out", str(pdf_path))
    assert done.returncode == 0, done.stderr
    pdf = pdfium.PdfDocument(pdf_path.read_bytes())
    page = pdf[0].render(scale=1).to_pil()
    page.save(tmp_path / "page1.png")
    assert sum(page.convert("L").histogram()[:100]) > 1000  # text on the page
    assert "Signalen (zaken): 7" in pdf[0].get_textpage().get_text_range()
    bad = run_cli(seeded, "--period", "2026-Q9", "--region", "midden-nederland")
    assert bad.returncode == 2 and "Onbekende periode" in bad.stderr
    low = run_cli(seeded, "--period", "2026-Q3", "--region", "midden-nederland", "--threshold", "1",
                  "--out", str(tmp_path / "x.html"))
    assert low.returncode == 2 and "minstens 3" in low.stderr


def logged_in(settings: Settings, username: str) -> TestClient:
    client = new_client(settings).__enter__()
    assert login(client, username, PASSWORD).status_code == 200  # type: ignore[arg-type]
    return client


def test_ui_per_role_with_audit_and_html_rendered_in_a_browser(seeded: Settings, tmp_path: Path) -> None:
    adv = logged_in(seeded, "adv.a")
    page = adv.get("/rapportage?periode=2026-Q3")
    assert page.status_code == 200 and "Art.1 Midden Nederland" in page.text
    assert page.text.count("data:image/png;base64,") == 3
    assert "samengevoegd: seksuele gerichtheid, handicap of chronische ziekte" in page.text
    export = adv.get("/rapportage/export?periode=2026-Q3&formaat=csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert report_csv(export.text)[("maand", "totaal", "totaal")][13] == "28"
    # Drenthe's reviewer sees Drenthe only: 9 cases there
    drenthe = logged_in(seeded, "adv.drenthe")
    rows = report_csv(drenthe.get("/rapportage/export?periode=2026-Q3&formaat=csv").text)
    assert rows[("maand", "totaal", "totaal")][13] == "9"
    # a coordinator gets their own municipality, whatever region they ask for
    coord = logged_in(seeded, "coord.amersfoort")
    rows = report_csv(coord.get("/rapportage/export?periode=2026-Q3&formaat=csv&regio=drenthe").text)
    total = rows[("maand", "totaal", "totaal")]
    assert total[13] == "7" and total[3] == "GM0307"
    assert coord.get("/rapportage?periode=2026-Q13").status_code == 422
    audit = infra.query(seeded.database_url, "SELECT actor, action, detail FROM audit_log "
                                             "WHERE action LIKE 'report_%' ORDER BY id")
    assert [(a["actor"], a["action"]) for a in audit][:2] == [("adv.a", "report_viewed"),
                                                             ("adv.a", "report_exported")]
    assert audit[1]["detail"] == {"period": "2026-Q3", "scope": "midden-nederland", "format": "csv"}
    # the standalone HTML opens in a real browser and renders
    html = adv.get("/rapportage/export?periode=2026-Q3&formaat=html").text
    (tmp_path / "r.html").write_text(html, encoding="utf-8")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        tab = browser.new_page()
        tab.goto((tmp_path / "r.html").as_uri())
        assert tab.locator("h1").inner_text().startswith("Buurtsignaal")
        assert tab.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 300)")
        tab.screenshot(path=str(tmp_path / "r.png"), full_page=True)
        browser.close()
    from PIL import Image

    assert Image.open(tmp_path / "r.png").size[1] > 1500
