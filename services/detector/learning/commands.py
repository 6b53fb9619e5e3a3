"""What `buurtsignaal train --include-reviews` and `evaluate --candidate/--by-group` do; the
options themselves are in services/detector/cli.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from buurtsignaal.config import get_settings
from services.detector.detection import load_detector
from services.detector.detection.detector import Detector

from . import compare, registry
from .reviews import ReviewedExample, load_reviewed

Echo = Callable[[str], None]


def _connect() -> psycopg.Connection:
    return psycopg.connect(get_settings().database_url, row_factory=dict_row, connect_timeout=5)


def train_including_reviews(echo: Echo) -> str:
    from .retrain import train_with_reviews

    settings = get_settings()
    try:
        with _connect() as conn:
            reviews = load_reviewed(conn)
    except psycopg.OperationalError as exc:
        echo(f"fout: database niet bereikbaar ({type(exc).__name__}); beoordeelde zaken staan daar")
        raise SystemExit(2) from None
    version, path, dev = train_with_reviews(reviews, settings.model_registry_dir, log=echo)
    echo(json.dumps(dev["flag"], ensure_ascii=False))
    echo(f"kandidaat {version} in {path}; evalueer met `buurtsignaal evaluate --candidate {version}`, "
         "activeer daarna als beheerder in het beoordelingsscherm (Modellen).")
    return version


def _active_detector(echo: Echo) -> tuple[Detector, list[ReviewedExample] | None]:
    """The active model (from PostgreSQL) and the reviewed cases; without a database: the
    shipped default and no reviews, with a warning."""
    reg = get_settings().model_registry_dir
    try:
        with _connect() as conn:
            info = registry.resolve(conn, reg)
            reviews = load_reviewed(conn)
    except psycopg.OperationalError:
        echo("waarschuwing: database niet bereikbaar; vergelijk met het meegeleverde model, "
             "zonder beoordeelde zaken")
        return load_detector(reg / registry.DEFAULT_DIR), None
    return load_detector(info.path if info else reg / registry.DEFAULT_DIR), reviews


def evaluate_candidate(version: str, echo: Echo, *, json_out: Path | None = None) -> dict:  # type: ignore[type-arg]
    reg = get_settings().model_registry_dir
    info = registry.find(reg, version)
    if info is None:
        raise ValueError(f"onbekende modelversie '{version}' in {reg}")
    active, reviews = _active_detector(echo)
    result = compare.compare(active, load_detector(info.path), reviews)
    (info.path / registry.EVALUATION_FILE).write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for line in compare.format_comparison(result):
        echo(line)
    if json_out:
        json_out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


def evaluate_by_group(model: Path | None, echo: Echo, *, json_out: Path | None = None) -> dict:  # type: ignore[type-arg]
    detector = load_detector(model)
    audit = compare.bias_audit(detector)
    for line in compare.format_bias(detector.model_version, audit):
        echo(line)
    if json_out:
        json_out.write_text(json.dumps({"model_version": detector.model_version, "bias": audit},
                                       indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return audit
