"""`buurtsignaal backtest`: the command-line contract, with the real detector and rules file."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from buurtsignaal.cli import app
from services.detector.early_warning.observation import parse_time

runner = CliRunner()
HOUSE = "e" * 32
NOTES = [
    {"id": "n1", "subject_key": HOUSE, "occurred_at": "2026-02-01T09:00:00+01:00",
     "text": "Buurman schold mevr. op nr. 4 uit voor vuile makaak."},
    {"id": "n2", "subject_key": HOUSE, "occurred_at": "2026-02-10T20:00:00+01:00",
     "text": "Banden van de auto van mevr. op nr. 4 lekgestoken."},
    {"id": "n3", "subject_key": HOUSE, "occurred_at": "2026-02-24T07:30:00+01:00",
     "text": "Ruit van nr. 4 ingegooid."},
    {"id": "n4", "subject_key": "f" * 32, "occurred_at": "2026-02-02T10:00:00+01:00",
     "text": "Lekkage in de badkamer van nr. 6, loodgieter komt dinsdag."},
]


def _write(path: Path, notes: list[dict]) -> Path:
    path.write_text("".join(json.dumps(n) + "\n" for n in notes), encoding="utf-8")
    return path


def _backtest(*args: str) -> tuple[int, list[dict], str]:
    result = runner.invoke(app, ["backtest", *args])
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.strip()]
    return result.exit_code, lines, result.stderr


def test_contract_and_any_input_order(tmp_path: Path) -> None:
    code, lines, err = _backtest(str(_write(tmp_path / "in.jsonl", NOTES)))
    assert code == 0, err
    assert lines, "a slur followed by vandalism must raise a pattern alert"
    for line in lines:
        assert {"subject_key", "level", "rule", "note_ids", "raised_at"} <= set(line)
        assert line["subject_key"] == HOUSE and line["level"] in ("watch", "escalate")
        firing = parse_time(line["raised_at"])
        assert firing in {parse_time(n["occurred_at"]) for n in NOTES if n["id"] in line["note_ids"]}
    # The slur, then vandalism: a new kind of incident escalates at the second note (shipped rules).
    assert (lines[-1]["level"], lines[-1]["rule"], lines[-1]["note_ids"]) == (
        "escalate", "verschillende_vormen", ["n1", "n2"])
    assert "notities: 4" in err and "regel" in err

    shuffled = list(NOTES)
    random.Random(7).shuffle(shuffled)
    out = tmp_path / "out.jsonl"
    code, stdout_lines, _ = _backtest(str(_write(tmp_path / "shuffled.jsonl", shuffled)), "-o", str(out))
    assert code == 0 and stdout_lines == []
    assert [json.loads(x) for x in out.read_text().splitlines()] == lines


def test_rules_file_errors_stop_with_a_clear_message(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nhousehold_rules:\n  - {name: reeks, kind: count, level: escalate,"
                     " min_notes: 3, within: 3 maanden, spam: 1}\n", encoding="utf-8")
    code, _, err = _backtest(str(_write(tmp_path / "in.jsonl", NOTES)), "--rules", str(rules))
    assert code == 2
    assert "household_rules[0] (reeks).within: ongeldige duur '3 maanden'" in err
    assert "household_rules[0] (reeks).spam: onbekend veld" in err


def test_invalid_input_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(NOTES[0]) + "\n" + json.dumps({"id": "x", "text": "y"}) + "\n")
    code, _, err = _backtest(str(bad))
    assert code == 1 and "regel 2: veld ontbreekt: subject_key, occurred_at" in err
    naive = tmp_path / "naive.jsonl"
    naive.write_text(json.dumps({**NOTES[0], "occurred_at": "2026-02-01T09:00:00"}) + "\n")
    code, _, err = _backtest(str(naive))
    assert code == 1 and "UTC-offset" in err


def test_evaluate_reports_the_numbers(tmp_path: Path) -> None:
    notes = [{**n, "scenario": "reeks"} for n in NOTES[:3]] + [{**NOTES[3], "scenario": "lekkage"}]
    notes[0].update(expect="escalate", escalate_by=3)
    notes[3].update(expect="none")
    metrics = tmp_path / "metrics.json"
    code, _, err = _backtest(str(_write(tmp_path / "s.jsonl", notes)), "--evaluate",
                             "--metrics-json", str(metrics))
    assert code == 0, err
    numbers = json.loads(metrics.read_text())
    assert numbers["precision"] == 1.0 and numbers["recall"] == 1.0
    assert numbers["median_incidents_to_escalation"] <= 3
    assert "precisie escalatie: 1.000" in err
