"""Report numbers against a hand count; CSV layout; the PDF renders to PNG; the HTML has no
hidden number in it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pypdfium2 as pdfium
import pytest

from buurtsignaal.reporting import render_csv, render_html, render_pdf
from buurtsignaal.reporting.aggregate import CaseFact, Scope, build_report, consent_share
from buurtsignaal.reporting.period import parse_period

T0 = datetime(2026, 7, 1, 9, tzinfo=UTC)
SCOPE = Scope("midden-nederland", "Art.1 Midden Nederland", (("GM0344", "GM0344"), ("GM0307", "GM0307")))


def fact(month: int, municipality: str, grounds: tuple[str, ...], status: str, *, severity: int = 2,
         forms: tuple[str, ...] = ("verbaal",), consent: str = "onbekend", review_h: float | None = 5,
         escalate_h: float | None = None, actions: tuple[str, ...] = ()) -> CaseFact:
    return CaseFact(month=date(2026, month, 1), municipality=municipality, grounds=grounds,
                    forms=forms, severity=severity, status=status, consent=consent, created_at=T0,
                    first_reviewed_at=T0 + timedelta(hours=review_h) if review_h is not None else None,
                    escalated_at=T0 + timedelta(hours=escalate_h) if escalate_h is not None else None,
                    coordinator_actions=actions)


def seeded() -> list[CaseFact]:
    """By hand: 30 cases in Q3 in scope, plus noise outside the period and the scope."""
    facts = []
    facts += [fact(7, "GM0344", ("herkomst",), "afgewezen") for _ in range(6)]
    facts += [fact(7, "GM0344", ("herkomst", "godsdienst"), "bevestigd", consent="gegeven")
              for _ in range(5)]
    facts += [fact(8, "GM0307", ("herkomst",), "geescaleerd", consent="gegeven", escalate_h=30)
              for _ in range(4)]
    facts += [fact(8, "GM0307", ("seksuele_gerichtheid",), "afgehandeld", consent="gegeven",
                   escalate_h=50, actions=("bemiddeling",)) for _ in range(3)]
    facts += [fact(9, "GM0344", ("handicap",), "nieuw", review_h=None) for _ in range(2)]
    facts += [fact(9, "GM0344", ("herkomst",), "in_behandeling") for _ in range(10)]
    # outside the period or the scope: never counted
    facts += [fact(6, "GM0344", ("herkomst",), "afgewezen"), fact(10, "GM0344", ("herkomst",), "nieuw"),
              fact(8, "GM0361", ("herkomst",), "afgewezen")]
    return facts


@pytest.fixture
def report():  # type: ignore[no-untyped-def]
    return build_report(seeded(), parse_period("2026-Q3"), SCOPE, 5, T0)


def cell(table, row_code: str, col_code: str):  # type: ignore[no-untyped-def]
    i = next(n for n, r in enumerate(table.rows) if row_code in r.codes)
    j = next(n for n, c in enumerate(table.cols) if col_code in c.codes)
    return table.cells[i][j]


def test_numbers_match_a_hand_count(report) -> None:  # type: ignore[no-untyped-def]
    months = report.tables["maand"]
    assert months.total == 30
    assert months.row_totals == [11, 7, 12]  # jul, aug, sep
    # outcome totals: open 12, afgewezen 6, bevestigd 5, geescaleerd 7 (4 escalated + 3 closed)
    assert [c.code for c in months.cols] == ["open", "afgewezen", "bevestigd", "geescaleerd"]
    assert months.col_totals == [12, 6, 5, 7]
    assert cell(months, "2026-07", "afgewezen") == 6 and cell(months, "2026-09", "open") == 12
    grounds = report.tables["grond"]
    assert grounds.unit == "registraties"
    totals = dict(zip([r.code for r in grounds.rows], grounds.row_totals, strict=True))
    assert totals["herkomst"] == 25  # 6 + 5 + 4 + 10
    assert totals["godsdienst"] == 5
    # seksuele_gerichtheid (3) and handicap (2) are below 5: merged into one category of 5
    merged = [r for r in grounds.rows if r.merged]
    assert len(merged) == 1 and set(merged[0].codes) == {"seksuele_gerichtheid", "handicap"}
    assert grounds.row_totals[grounds.rows.index(merged[0])] == 5
    assert totals["leeftijd"] == 0
    municipalities = report.tables["gemeente"]
    assert municipalities.row_totals == [23, 7]  # GM0344, GM0307 (the order of the scope)


def test_consent_actions_and_times(report) -> None:  # type: ignore[no-untyped-def]
    consent = report.tables["toestemming"]
    assert consent.total == 12  # confirmed: 5 bevestigd + 7 escalated
    assert cell(consent, "gegeven", "aantal") == 12
    assert consent_share(report) == (1.0, 12)
    assert report.tables["actie_gemeente"].withheld  # 3 closed cases: fewer than 5
    ind = {i.key: i.value for i in report.indicators}
    assert ind["uren_tot_eerste_beoordeling_mediaan"] == 5.0  # 28 reviewed cases, all after 5 h
    assert ind["uren_tot_escalatie_mediaan"] == 30.0  # 4 x 30 h, 3 x 50 h
    assert ind["uren_tot_escalatie_p90"] == 50.0


def test_every_published_number_is_zero_or_at_least_the_threshold(report) -> None:  # type: ignore[no-untyped-def]
    for line in list(csv.DictReader(io.StringIO(render_csv.render(report)))):
        if line["status"] in ("gepubliceerd", "samengevoegd") and line["tabel"] != "indicator":
            assert int(line["waarde"]) == 0 or int(line["waarde"]) >= 5, line
        if line["status"] == "onderdrukt":
            assert line["waarde"] == ""


def test_csv_layout(report) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.reader(io.StringIO(render_csv.render(report))))
    assert tuple(rows[0]) == render_csv.COLUMNS
    by = {(r[5], r[8], r[11]): r for r in rows[1:]}
    assert by[("maand", "2026-07", "afgewezen")][13:] == ["6", "gepubliceerd"]
    assert by[("maand", "totaal", "totaal")][13] == "30"
    assert by[("grond", "seksuele_gerichtheid+handicap", "totaal")][13:] == ["5", "samengevoegd"]
    assert next(r for r in rows[1:] if r[5] == "actie_gemeente")[14] == "niet_gepubliceerd"
    assert all(r[0] == "2026-Q3" and r[1] == "2026-07" and r[2] == "2026-09" and r[4] == "5"
               for r in rows[1:])


def test_pdf_opens_and_renders_to_png(report, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = render_pdf.render(report)
    assert data.startswith(b"%PDF")
    pdf = pdfium.PdfDocument(data)
    assert len(pdf) == 1 + 3 + len(report.tables)  # cover, charts, tables
    image = pdf[0].render(scale=1).to_pil()
    assert image.size[0] > 500
    # the cover page is not blank: it has dark text pixels
    assert sum(image.convert("L").histogram()[:100]) > 1000
    text = pdf[0].get_textpage().get_text_range()
    assert "Signalen (zaken): 30" in text and "jul 2026 t/m sep 2026" in text


def test_html_is_self_contained_and_shows_no_hidden_value(report) -> None:  # type: ignore[no-untyped-def]
    html = render_html.page(report)
    assert html.count("data:image/png;base64,") == 3 and "<script" not in html
    assert "samengevoegd: seksuele gerichtheid, handicap of chronische ziekte" in html
    assert "Niet gepubliceerd: minder dan 5 registraties in totaal." in html


def test_period_parsing() -> None:
    assert [m.month for m in parse_period("2026-Q3").months] == [7, 8, 9]
    assert len(parse_period("2026").months) == 12 and len(parse_period("2026-H2").months) == 6
    p = parse_period("2026-11..2027-02")
    assert [(m.year, m.month) for m in p.months] == [(2026, 11), (2026, 12), (2027, 1), (2027, 2)]
    for bad in ("2026-Q5", "26", "2026-13", "2027-01..2026-01", "2020..2026"):
        with pytest.raises(ValueError):
            parse_period(bad)
