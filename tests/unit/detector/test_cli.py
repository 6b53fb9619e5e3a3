"""The JSONL contract of `buurtsignaal detect`, its errors, and the train/evaluate commands."""

from __future__ import annotations

import io
import json

import pytest
import typer
from typer.testing import CliRunner

from services.detector.cli import register, run_detect
from services.detector.detection.jsonl import InvalidLine, parse_line

KEYS = {"id", "flag", "score", "grounds", "forms", "severity", "evidence", "model_version"}


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")  # a second command keeps Typer in multi-command mode, as in the real CLI
    def noop() -> None: ...

    return app


def _lines(*records) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def test_detect_stdin_to_stdout_in_order(app):
    data = _lines({"id": "1", "text": "vuile turk, ga terug naar je eigen land"},
                  {"id": 2, "text": "lekkage in de badkamer", "extra": "ignored"},
                  "",
                  {"id": "3", "text": "hakenkruis op de deur"})
    result = CliRunner().invoke(app, ["detect", "-"], input=data)
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    for r in rows:
        assert set(r) == KEYS
        for e in r["evidence"]:
            assert set(e) == {"start", "end", "text", "recognizer", "explanation"}
    assert rows[0]["flag"] and not rows[1]["flag"]


def test_detect_file_to_file(app, tmp_path):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(_lines(*({"id": str(i), "text": "vuile makak"} for i in range(25))))
    result = CliRunner().invoke(app, ["detect", str(src), "-o", str(dst), "--batch-size", "4"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in dst.read_text().splitlines()]
    assert [r["id"] for r in rows] == [str(i) for i in range(25)]


def test_bad_line_fails_with_line_number(app):
    data = _lines({"id": "1", "text": "ok"}, "{not json", {"id": "3", "text": "ok"})
    result = CliRunner().invoke(app, ["detect"], input=data)
    assert result.exit_code == 1
    assert "regel 2" in result.stderr and "--skip-invalid" in result.stderr


def test_skip_invalid_reports_and_continues(app):
    data = _lines({"id": "1", "text": "ok"}, "{not json", {"text": "no id"}, [1, 2],
                  {"id": "5", "text": 7}, {"id": "6", "text": "ok"})
    result = CliRunner().invoke(app, ["detect", "--skip-invalid"], input=data)
    assert result.exit_code == 0
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == ["1", "6"]
    for n in (2, 3, 4, 5):
        assert f"regel {n}" in result.stderr
    assert "4 ongeldige regel(s) overgeslagen" in result.stderr


def test_missing_input_file(app, tmp_path):
    result = CliRunner().invoke(app, ["detect", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2


@pytest.mark.parametrize(("line", "reason"), [
    ("{", "geen geldige JSON"),
    ('"text"', "JSON-object"),
    ('{"text": "x"}', "veld ontbreekt: id"),
    ('{"id": "1"}', "veld ontbreekt: text"),
    ('{"id": null, "text": "x"}', "'id'"),
    ('{"id": "", "text": "x"}', "'id'"),
    ('{"id": true, "text": "x"}', "'id'"),
    ('{"id": "1", "text": ["x"]}', "'text'"),
])
def test_parse_line_errors(line, reason):
    with pytest.raises(InvalidLine) as exc:
        parse_line(line, 9)
    assert exc.value.lineno == 9 and reason in str(exc.value)


def test_run_detect_is_the_streaming_code_path():
    out, err = io.StringIO(), io.StringIO()
    skipped = run_detect(io.StringIO(_lines({"id": "x", "text": "kankerhomo"})), out, err=err)
    assert skipped == 0
    row = json.loads(out.getvalue())
    assert row["flag"] and row["grounds"] == ["seksuele_gerichtheid"]


def test_train_refuses_the_test_split(app):
    result = CliRunner().invoke(app, ["train", "--dev", "test"])
    assert result.exit_code == 2 and "test-split" in result.stderr


def test_evaluate_on_a_small_file(app, tmp_path):
    path = tmp_path / "mini.jsonl"
    recs = [
        {"id": "m1", "text": "vuile makak riep hij weer", "flag": True, "grounds": ["herkomst"],
         "forms": ["verbaal"], "severity": 2, "kind": "slur", "author_role": "huismeester"},
        {"id": "m2", "text": "lekkage badkamer", "flag": False, "grounds": [], "forms": [],
         "severity": 0, "kind": "ordinary_nuisance", "author_role": "huismeester"},
    ]
    path.write_text(_lines(*recs))
    out = tmp_path / "m.json"
    result = CliRunner().invoke(app, ["evaluate", str(path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Signaal (flag)" in result.stdout and "Gronden" in result.stdout
    metrics = json.loads(out.read_text())
    assert metrics["flag"]["recall"] == 1.0 and metrics["n"] == 2


def test_fast_serialiser_matches_the_domain_contract(detector):
    from services.detector.detection.jsonl import detection_json

    for det in detector.detect_many([("a", "vuile makak, ga terug naar je land"),
                                     ("b", "lekkage"), ("c", "hakenkruis op de deur")]):
        assert json.loads(detection_json(det)) == det.to_dict()


def test_two_workers_keep_order(tmp_path):
    out = io.StringIO()
    lines = _lines(*({"id": str(i), "text": "vuile makak" if i % 2 else "lekkage"}
                     for i in range(30)))
    run_detect(io.StringIO(lines), out, workers=2, batch_size=7)
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [r["id"] for r in rows] == [str(i) for i in range(30)]
    assert [r["flag"] for r in rows] == [bool(i % 2) for i in range(30)]
