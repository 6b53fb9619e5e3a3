"""Guard for speed work on the detector: the output must not change by a single byte.

    # once, on the code before an optimisation:
    .venv/bin/python bench/check_identical.py record
    # after every change:
    .venv/bin/python bench/check_identical.py check

`record` runs the detector over data/corpus/train-a.jsonl, train-b.jsonl, dev.jsonl (never
test.jsonl: it is the held-out split) and the notes bench_detect.py generates, and stores in
bench/results/identical/ (git-ignored):

* `<set>.detect.jsonl`: the `buurtsignaal detect` output (the CLI code path, `run_detect`);
* `<set>.analysis.jsonl`: per note every recognizer hit (recognizer, pattern, token and character
  span, score, negator, context word), the unrounded flag score, and every head probability
  of the classifier path that training and tuning use (`Detector.head_probs`, `raw_score`).

`check` recomputes all of it and compares: detect output byte for byte (with 1 worker and with
`--workers 2` for the bench notes), hits exactly, floats to 1e-9. Exit code 1 on any difference,
with the first differences printed (note ids and field names only).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_detect import make_notes  # noqa: E402
from services.detector.cli import run_detect  # noqa: E402
from services.detector.detection import load_detector  # noqa: E402
from services.detector.detection.corpus import CORPUS_DIR  # noqa: E402

DEFAULT_DIR = REPO / "bench" / "results" / "identical"
CORPUS_SETS = ("train-a", "train-b", "dev")
TOLERANCE = 1e-9


def note_sets(bench_notes: int, seed: int) -> dict[str, list[tuple[str, str]]]:
    """(id, text) per set. The held-out test split is never read."""
    sets: dict[str, list[tuple[str, str]]] = {}
    for name in CORPUS_SETS:
        path = CORPUS_DIR / f"{name}.jsonl"
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        sets[name] = [(str(r["id"]), r["text"]) for r in rows]
    sets["bench"] = [(f"b{i}", t) for i, t in enumerate(make_notes(bench_notes, 40, seed))]
    return sets


def detect_output(notes: list[tuple[str, str]], workers: int) -> str:
    lines = io.StringIO("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n"
                                for i, t in notes))
    out = io.StringIO()
    run_detect(lines, out, workers=workers, batch_size=1000)
    return out.getvalue()


def analysis_rows(detector, notes: list[tuple[str, str]]) -> Iterator[dict]:
    """Hits, unrounded score and all head probabilities per note, in chunks of 1,000."""
    for k in range(0, len(notes), 1000):
        chunk = notes[k:k + 1000]
        analyses = detector.analyse([t for _, t in chunk])
        names, probs = detector.head_probs(analyses)
        for row, ((note_id, _), a) in enumerate(zip(chunk, analyses, strict=True)):
            p = {n: float(probs[row][j]) for j, n in enumerate(names)}
            score, signal = detector.raw_score(a, p)
            yield {
                "id": note_id,
                "hits": [[h.recognizer.name, h.pattern, h.tok_start, h.tok_end, h.start, h.end,
                          h.score, h.negated_by, h.context_word] for h in a.hits],
                "names": sorted(a.names),
                "has_quote": a.has_quote,
                "raw_score": score,
                "signal": signal,
                "probs": p,
            }


def _close(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0.0, abs_tol=TOLERANCE)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def compare_detect(name: str, expected: str, got: str, problems: list[str]) -> None:
    if expected == got:
        return
    exp, new = expected.splitlines(), got.splitlines()
    if len(exp) != len(new):
        problems.append(f"{name}: {len(new)} lines instead of {len(exp)}")
    for e, g in zip(exp, new, strict=False):
        if e != g:
            de, dg = json.loads(e), json.loads(g)
            fields = [k for k in de if de.get(k) != dg.get(k)]
            problems.append(f"{name}: note {de['id']} differs in {fields}")
            if len(problems) > 20:
                return


def compare_analysis(name: str, expected: list[dict], got: list[dict], problems: list[str]) -> None:
    if len(expected) != len(got):
        problems.append(f"{name}: {len(got)} analyses instead of {len(expected)}")
    for e, g in zip(expected, got, strict=False):
        bad = [k for k in e if not _close(e[k], g.get(k))]
        if bad:
            problems.append(f"{name}: analysis of {e['id']} differs in {bad}")
            if len(problems) > 20:
                return


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["record", "check"])
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--bench-notes", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-workers", action="store_true", help="no --workers 2 comparison")
    args = ap.parse_args()

    t0 = time.perf_counter()
    sets = note_sets(args.bench_notes, args.seed)
    detector = load_detector()
    problems: list[str] = []
    args.dir.mkdir(parents=True, exist_ok=True)
    for name, notes in sets.items():
        det_path = args.dir / f"{name}.detect.jsonl"
        an_path = args.dir / f"{name}.analysis.jsonl"
        out = detect_output(notes, workers=1)
        rows = list(analysis_rows(detector, notes))
        if args.mode == "record":
            det_path.write_text(out, encoding="utf-8")
            an_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                               encoding="utf-8")
            print(f"{name}: {len(notes)} notes recorded")
            continue
        compare_detect(name, det_path.read_text(encoding="utf-8"), out, problems)
        expected = [json.loads(x) for x in an_path.read_text(encoding="utf-8").splitlines()]
        compare_analysis(name, expected, json.loads(json.dumps(rows)), problems)
        if name == "bench" and not args.skip_workers:
            compare_detect(f"{name} (--workers 2)", det_path.read_text(encoding="utf-8"),
                           detect_output(notes, workers=2), problems)
        print(f"{name}: {len(notes)} notes checked")
    print(f"{time.perf_counter() - t0:.1f} s")
    if args.mode == "check":
        if problems:
            print("DIFFERENT:")
            for p in problems[:20]:
                print("  " + p)
            return 1
        print("identical")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
