"""`buurtsignaal report`: a monitoring report for an ADV region or municipalities, as a file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

FORMATS = ("html", "csv", "pdf")


def make_report(conn, period_code: str, *, region: str | None, municipalities: list[str],  # type: ignore[no-untyped-def]
                threshold: int, regions_file: Path):
    """Load facts and build the protected report (shared by the CLI and the review UI)."""
    from buurtsignaal.domain.regions import RegionMap

    from .aggregate import build_report
    from .period import parse_period
    from .source import load_facts, municipality_scope, region_scope

    period = parse_period(period_code)
    scope = (region_scope(RegionMap.load(regions_file), region) if region
             else municipality_scope(municipalities))
    return build_report(load_facts(conn, period, scope), period, scope, threshold, datetime.now(UTC))


def render(report, fmt: str) -> bytes:  # type: ignore[no-untyped-def]
    from . import render_csv, render_html, render_pdf

    if fmt == "csv":
        return render_csv.render(report).encode("utf-8")
    if fmt == "pdf":
        return render_pdf.render(report)
    return render_html.page(report).encode("utf-8")


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        period: Annotated[str, typer.Option("--period", help="2026, 2026-H2, 2026-Q3, 2026-07 of "
                                                              "2026-07..2026-09")],
        region: Annotated[str, typer.Option("--region", help="ADV-regio (config/regions.yaml)")] = "",
        municipality: Annotated[list[str] | None, typer.Option(
            "--municipality", help="CBS-code; herhaalbaar (in plaats van --region)")] = None,
        fmt: Annotated[str, typer.Option("--format", help="html | csv | pdf")] = "html",
        out: Annotated[Path | None, typer.Option("--out", help="Bestand (standaard: "
                                                 "buurtsignaal-rapport-<bereik>-<periode>.<format>)")] = None,
        threshold: Annotated[int | None, typer.Option(
            "--threshold", help="Kleinste te publiceren aantal (standaard BUURTSIGNAAL_REPORT_MIN_CELL, "
                                "minstens 3)")] = None,
    ) -> None:
        """Monitorrapportage: signalen, bevestigde zaken en escalaties per grond, vorm, ernst,
        gemeente en maand, met kleine aantallen beschermd."""
        import psycopg
        from psycopg.rows import dict_row

        from buurtsignaal.config import get_settings

        if fmt not in FORMATS:
            typer.echo(f"fout: onbekend formaat '{fmt}' (html, csv of pdf)", err=True)
            raise typer.Exit(2)
        if bool(region) == bool(municipality):
            typer.echo("fout: kies --region óf --municipality", err=True)
            raise typer.Exit(2)
        settings = get_settings()
        try:
            with psycopg.connect(settings.database_url, row_factory=dict_row) as conn:
                report = make_report(conn, period, region=region or None,
                                     municipalities=municipality or [],
                                     threshold=threshold or settings.report_min_cell,
                                     regions_file=settings.regions_file)
        except ValueError as exc:
            typer.echo(f"fout: {exc}", err=True)
            raise typer.Exit(2) from None
        path = out or Path(f"buurtsignaal-rapport-{report.scope.code}-{report.period.code}.{fmt}")
        path.write_bytes(render(report, fmt))
        typer.echo(str(path))
