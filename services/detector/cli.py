"""`buurtsignaal detect | train | evaluate`, registered on the main Typer app.

    from services.detector.cli import register
    register(app)

`detect` is the stable contract: JSON lines in (`id`, `text`), one JSON line out per input, in
order. It uses the same `Detector.detect_many` code path as the streaming detector service.
"""

from __future__ import annotations

import gc
import json
import multiprocessing as mp
import os
import sys
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import IO

import typer

from services.detector.detection import Detector, load_detector
from services.detector.detection.jsonl import InvalidLine, Note, detection_json, parse_line

_WORKER: Detector | None = None

# A chunk of raw input lines with their line numbers; the result of processing one chunk:
# output text, skipped (line, reason) pairs, and the first fatal (line, reason) if any.
Chunk = list[tuple[int, str]]
ChunkResult = tuple[str, list[tuple[int, str]], tuple[int, str] | None]


def _open_in(path: str) -> IO[str]:
    if path == "-":
        return sys.stdin
    return open(path, encoding="utf-8")


def _chunks(lines: Iterable[str], size: int) -> Iterator[Chunk]:
    numbered = enumerate(lines, 1)
    while True:
        chunk = list(islice(numbered, size))
        if not chunk:
            return
        yield chunk


def process_chunk(detector: Detector, chunk: Chunk, skip_invalid: bool) -> ChunkResult:
    """Parse, score and serialise one chunk. Stops at the first bad line unless skip_invalid;
    the notes before it are still scored, so the output stays a faithful stream."""
    notes: list[Note] = []
    skipped: list[tuple[int, str]] = []
    fatal: tuple[int, str] | None = None
    for lineno, line in chunk:
        if not line.strip():
            continue
        try:
            notes.append(parse_line(line, lineno))
        except InvalidLine as exc:
            if not skip_invalid:
                fatal = (exc.lineno, exc.reason)
                break
            skipped.append((exc.lineno, exc.reason))
    dets = detector.detect_many((n.id, n.text) for n in notes)
    text = "".join(detection_json(d) + "\n" for d in dets)
    return text, skipped, fatal


def _batch_gc() -> None:
    """Batch mode allocates many short-lived objects next to large, long-lived caches: freeze
    what exists after loading and collect less often (about 15% faster on large files)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _init_worker() -> None:
    """Forked workers inherit the detector the parent loaded (copy-on-write): no second load."""
    gc.set_threshold(100_000, 50, 100)


def _worker_chunk(args: tuple[Chunk, bool]) -> ChunkResult:
    assert _WORKER is not None
    return process_chunk(_WORKER, *args)


def run_detect(inp: Iterable[str], out: IO[str], *, skip_invalid: bool = False,
               model_dir: Path | None = None, threshold: float | None = None,
               batch_size: int = 1000, workers: int = 1, err: IO[str] | None = None,
               detector: Detector | None = None) -> int:
    """Core of `detect`, callable without Typer. Returns the number of skipped lines.

    Raises InvalidLine on the first bad line unless skip_invalid; lines before it have been
    written already (the output is a stream). With workers > 1, chunks are scored in parallel
    processes and written in input order.
    """
    err = err or sys.stderr
    skipped = 0
    chunks = _chunks(inp, batch_size)

    def emit(result: ChunkResult) -> None:
        nonlocal skipped
        text, bad, fatal = result
        out.write(text)
        for lineno, reason in bad:
            err.write(f"overgeslagen: regel {lineno}: {reason}\n")
        skipped += len(bad)
        if fatal is not None:
            out.flush()
            raise InvalidLine(*fatal)

    if workers > 1:
        global _WORKER
        _WORKER = detector or load_detector(model_dir, threshold=threshold)
        _batch_gc()  # before the fork: frozen objects stay shared with the workers
        ctx = mp.get_context("fork")
        try:
            with ctx.Pool(workers, initializer=_init_worker) as pool:
                for result in pool.imap(_worker_chunk, ((c, skip_invalid) for c in chunks)):
                    emit(result)
        finally:
            _WORKER = None
    else:
        det = detector or load_detector(model_dir, threshold=threshold)
        if detector is None:
            _batch_gc()
        for chunk in chunks:
            emit(process_chunk(det, chunk, skip_invalid))
    out.flush()
    return skipped


AUTO_WORKERS_MIN_BYTES = 1_000_000  # below this (about 2,500 notes), starting workers costs more


def auto_workers(path: str) -> int:
    """One process per available core for a file of at least 1 MB, else 1. Output order and
    the error contract are the same either way (chunks are written in input order)."""
    if path == "-":
        return 1
    try:
        size = os.path.getsize(path)
    except OSError:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1) if size >= AUTO_WORKERS_MIN_BYTES else 1


def register(app: typer.Typer) -> None:
    """Add `detect`, `train` and `evaluate` to the main CLI."""

    @app.command("detect")
    def detect(
        input: str = typer.Argument("-", help="JSONL met per regel minstens 'id' en 'text'; "
                                    "'-' is stdin."),
        output: str = typer.Option("-", "-o", "--output", help="Uitvoer-JSONL; '-' is stdout."),
        skip_invalid: bool = typer.Option(False, "--skip-invalid",
                                          help="Ongeldige regels melden en overslaan."),
        threshold: float | None = typer.Option(None, "--threshold", min=0.0, max=1.0,
                                               help="Drempel voor 'flag' (standaard: model)."),
        model: Path | None = typer.Option(None, "--model", help="Modelmap (standaard: meegeleverd)."),
        batch_size: int = typer.Option(1000, "--batch-size", min=1),
        workers: int = typer.Option(0, "--workers", min=0,
                                    help="Processen; 0 (standaard): één per core voor bestanden "
                                    "vanaf 1 MB, anders 1."),
    ) -> None:
        """Score notities: per invoerregel één JSON-regel met flag, score, gronden, vormen,
        ernst en bewijs, in dezelfde volgorde."""
        try:
            inp = _open_in(input)
        except OSError as exc:
            typer.echo(f"fout: kan invoer niet openen: {exc}", err=True)
            raise typer.Exit(2) from None
        out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
        if workers == 0:
            workers = auto_workers(input)
        try:
            skipped = run_detect(inp, out, skip_invalid=skip_invalid, model_dir=model,
                                 threshold=threshold, batch_size=batch_size, workers=workers)
        except InvalidLine as exc:
            typer.echo(f"fout: {exc} (gebruik --skip-invalid om over te slaan)", err=True)
            raise typer.Exit(1) from None
        finally:
            if inp is not sys.stdin:
                inp.close()
            if out is not sys.stdout:
                out.close()
        if skipped:
            typer.echo(f"{skipped} ongeldige regel(s) overgeslagen", err=True)

    @app.command("train")
    def train_cmd(
        train: list[str] = typer.Option(["train"], "--train",
                                        help="Split-naam of JSONL-bestand(en) om op te trainen."),
        dev: list[str] = typer.Option(["dev"], "--dev", help="Split of bestand(en) om te tunen."),
        out: Path | None = typer.Option(None, "--out", help="Modelmap (standaard: current)."),
        include_reviews: bool = typer.Option(
            False, "--include-reviews", help="Ook beoordeelde zaken uit de database; schrijft een "
            "nieuwe versie in de modelregistratie (services/detector/learning)."),
    ) -> None:
        """Train de classifier op train, kies drempels op dev, sla het model op."""
        if include_reviews:
            from services.detector.learning.commands import train_including_reviews

            train_including_reviews(lambda m: typer.echo(m, err=True))
            return
        from services.detector.detection.corpus import split_paths
        from services.detector.detection.detector import Detector as _D
        from services.detector.detection.paths import RECOGNIZER_DIR, default_model_dir
        from services.detector.detection.recognizers import load_recognizers
        from services.detector.detection.training import train as do_train

        train_paths, dev_paths = split_paths(train), split_paths(dev)
        if any(p.name == "test.jsonl" for p in train_paths + dev_paths):
            typer.echo("fout: de test-split wordt nooit gebruikt om te trainen of te tunen",
                       err=True)
            raise typer.Exit(2)
        for p in train_paths + dev_paths:
            if not p.exists():
                typer.echo(f"fout: bestand ontbreekt: {p}", err=True)
                raise typer.Exit(2)
        base = _D(load_recognizers(RECOGNIZER_DIR), None)
        metrics = do_train(train_paths, dev_paths, out or default_model_dir(), base,
                           log=lambda m: typer.echo(m, err=True))
        typer.echo(json.dumps(metrics["dev"]["flag"], ensure_ascii=False))

    @app.command("evaluate")
    def evaluate_cmd(
        split: list[str] = typer.Argument(None, help="Split-naam (dev/test) of JSONL-bestand(en); "
                                          "standaard dev."),
        model: Path | None = typer.Option(None, "--model", help="Modelmap."),
        threshold: float | None = typer.Option(None, "--threshold", min=0.0, max=1.0),
        json_out: Path | None = typer.Option(None, "--json", help="Metrieken ook als JSON."),
        examples: int = typer.Option(6, "--examples", min=0,
                                     help="Aantal lastigste fouten met tekst (0 = alleen id's)."),
        candidate: str | None = typer.Option(
            None, "--candidate", help="Modelversie uit de registratie: vergelijk met het actieve "
            "model (test-split, apart gehouden beoordelingen, bias-audit)."),
        by_group: bool = typer.Option(False, "--by-group", help="Bias-audit: fout-positieven op "
                                      "neutrale vermeldingen per groep (data/bias/)."),
    ) -> None:
        """Precisie, recall en F1 voor flag, gronden en vormen; ernst; lastigste fouten."""
        if candidate or by_group:
            from services.detector.learning import commands

            try:
                if candidate:
                    commands.evaluate_candidate(candidate, typer.echo, json_out=json_out)
                else:
                    commands.evaluate_by_group(model, typer.echo, json_out=json_out)
            except ValueError as exc:
                typer.echo(f"fout: {exc}", err=True)
                raise typer.Exit(2) from None
            return
        from services.detector.detection.corpus import load_examples, split_paths
        from services.detector.detection.evaluation import evaluate, hardest_errors
        from services.detector.detection.report import print_report

        paths = split_paths(split or ["dev"])
        for p in paths:
            if not p.exists():
                typer.echo(f"fout: bestand ontbreekt: {p}", err=True)
                raise typer.Exit(2)
        exs = load_examples(paths)
        detector = load_detector(model, threshold=threshold)
        dets = list(detector.detect_many((e.id, e.text) for e in exs))
        metrics = evaluate(exs, dets)
        metrics["model_version"] = detector.model_version
        metrics["threshold"] = detector.threshold
        print_report(metrics, hardest_errors(exs, dets), examples, typer.echo)
        if json_out:
            json_out.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n",
                                encoding="utf-8")
