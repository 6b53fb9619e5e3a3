"""`buurtsignaal backtest`, registered on the main Typer app:

    from services.detector.early_warning.cli import register
    register(app)

Stable contract: notes `{"id", "subject_key", "occurred_at", "text"}` (optional `area_key`,
`municipality_code`) in any order in; one JSON line per alert raised or upgraded out
(`subject_key` or `area_key`, `level`, `rule`, `note_ids`, `raised_at`, plus `alert_id` and
`summary`); a summary table on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO

import typer

from .alerts import backtest_line
from .backtest import BacktestResult, InvalidNote, check_note, run_backtest, summary_rows
from .config import RulesError, load_rules
from .evaluation import Evaluation, evaluate


def read_records(inp: IO[str]) -> list[dict]:
    records = []
    for lineno, line in enumerate(inp, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidNote(f"regel {lineno}: geen geldige JSON ({exc.msg})") from None
        records.append(check_note(raw, lineno))
    return records


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def write_summary(result: BacktestResult, err: IO[str]) -> None:
    s = result.stats
    err.write(f"notities: {s['notes']}  gemarkeerd: {s['flagged']}  zwak signaal: {s['weak']}  "
              f"signalen: {len(result.emissions)}\n")
    rows = summary_rows(result)
    if rows:
        err.write(f"{'scope':<10} {'regel':<28} {'niveau':<9} {'aantal':>6}\n")
        for scope, rule, level, n in rows:
            err.write(f"{scope:<10} {rule:<28} {level:<9} {n:>6}\n")


def write_evaluation(ev: Evaluation, err: IO[str]) -> None:
    d = ev.as_dict()
    err.write(f"\n{'scenario':<38} verwacht  uitkomst  notities  incidenten  dagen\n")
    for o in ev.outcomes:
        got = "escalate" if o.escalated else ("watch" if o.watch else "-")
        mark = "" if o.correct else "  <-- FOUT" if o.expectation.expect == "none" or not o.escalated \
            else "  <-- TE LAAT"
        err.write(f"{o.expectation.scenario:<38} {o.expectation.expect:<9} {got:<9} "
                  f"{o.notes_before or '-':>8}  {o.incidents_before or '-':>10}  "
                  f"{_fmt(o.days_before):>5}{mark}\n")
    err.write(
        f"\nscenario's: {d['scenarios']} ({d['should_escalate']} escaleren, {d['should_not']} niet)\n"
        f"precisie escalatie: {d['precision']:.3f}   recall: {d['recall']:.3f}   "
        f"onterecht geëscaleerd: {d['false_escalation_rate']:.1%}\n"
        f"mediaan tot escalatie: {_fmt(d['median_notes_to_escalation'])} notities, "
        f"{_fmt(d['median_incidents_to_escalation'])} incidenten, "
        f"{_fmt(d['median_days_to_escalation'])} dagen\n"
        f"te laat (na escalate_by): {', '.join(d['late']) or '-'}\n"
        f"gemist: {', '.join(d['missed']) or '-'}   onterecht: {', '.join(d['false_escalations']) or '-'}\n"
    )


def register(app: typer.Typer) -> None:
    """Add `backtest` to the main CLI."""

    @app.command("backtest")
    def backtest(
        input: Path = typer.Argument(..., help="JSONL met per regel id, subject_key, occurred_at, text "
                                     "(optioneel area_key, municipality_code), in willekeurige volgorde."),
        output: str = typer.Option("-", "-o", "--output", help="Uitvoer-JSONL; '-' is stdout."),
        rules: Path | None = typer.Option(None, "--rules",
                                          help="Regelbestand (standaard config/early-warning.yaml)."),
        model: Path | None = typer.Option(None, "--model", help="Modelmap (standaard: meegeleverd)."),
        do_evaluate: bool = typer.Option(False, "--evaluate",
                                         help="Scenario-bestand: precisie, recall en tijd tot escalatie."),
        metrics_json: Path | None = typer.Option(None, "--metrics-json",
                                                 help="Schrijf de evaluatiecijfers als JSON."),
    ) -> None:
        """Vroegsignalering op een bestand notities: dezelfde detector en regels als de
        streaming-detector, in volgorde van gebeurtenistijd. Eén JSON-regel per signaal."""
        from services.detector.detection import load_detector

        try:
            ruleset = load_rules(rules)
        except RulesError as exc:
            typer.echo(f"fout: {exc}", err=True)
            raise typer.Exit(2) from None
        try:
            with input.open(encoding="utf-8") as inp:
                records = read_records(inp)
        except OSError as exc:
            typer.echo(f"fout: kan invoer niet openen: {exc}", err=True)
            raise typer.Exit(2) from None
        except InvalidNote as exc:
            typer.echo(f"fout: {input}: {exc}", err=True)
            raise typer.Exit(1) from None
        result = run_backtest(records, ruleset, load_detector(model))
        out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
        try:
            for emission in result.emissions:
                out.write(json.dumps(backtest_line(emission), ensure_ascii=False) + "\n")
        finally:
            if out is not sys.stdout:
                out.close()
        write_summary(result, sys.stderr)
        if do_evaluate or metrics_json:
            try:
                ev = evaluate(result)
            except InvalidNote as exc:
                typer.echo(f"fout: {exc}", err=True)
                raise typer.Exit(1) from None
            write_evaluation(ev, sys.stderr)
            if metrics_json:
                metrics_json.write_text(json.dumps(ev.as_dict(), indent=2) + "\n", encoding="utf-8")
