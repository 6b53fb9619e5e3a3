"""`buurtsignaal train --include-reviews`: the corpus plus reviewed cases, the same training
procedure as `buurtsignaal train` (services/detector/detection/training.py).

Reviewed examples are split by a hash of the note text (reviews.split_of): 40% are added to the
training notes, 40% to the dev notes on which blend, margin and thresholds are chosen, and 20% are
held out for `buurtsignaal evaluate --candidate`. The test split is never read. The result is a
new version directory in the registry; nothing becomes active until an admin activates it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sklearn.linear_model import LogisticRegression

from services.detector.detection import training
from services.detector.detection.corpus import split_paths
from services.detector.detection.detector import Detector
from services.detector.detection.paths import RECOGNIZER_DIR
from services.detector.detection.recognizers import load_recognizers

from .registry import VERSION_RE
from .reviews import ReviewedExample, summary, write_jsonl


def _dual_fit(X: Any, y: Any, c: float, seed: int) -> LogisticRegression:
    lr = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=2000,
                            random_state=seed, dual=True)
    lr.fit(X, y)
    return lr


@contextmanager
def dual_solver() -> Iterator[None]:
    """liblinear's dual solver for the duration of one training run: the same L2 logistic
    regression, ~9x faster with ~500k hashed features and ~1k notes (measured: identical
    hyperparameters and dev metrics; docs/decisions/0054). Remove once training.py uses it."""
    original = training._fit_lr
    training._fit_lr = _dual_fit
    try:
        yield
    finally:
        training._fit_lr = original


def train_with_reviews(reviews: list[ReviewedExample], registry: Path,
                       log: Callable[[str], None] = print) -> tuple[str, Path, dict[str, Any]]:
    """Train a candidate; returns (version, directory, dev metrics)."""
    registry.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bs-reviews-"))  # 0700; the texts are pseudonymised
    out = registry / f".training-{os.getpid()}"
    try:
        train_file, tune_file = work / "reviews-train.jsonl", work / "reviews-tune.jsonl"
        n_train = write_jsonl((r for r in reviews if r.part == "train"), train_file)
        n_tune = write_jsonl((r for r in reviews if r.part == "tune"), tune_file)
        log(f"beoordeelde zaken: {len(reviews)} (training {n_train}, afstemming {n_tune}, "
            f"apart gehouden {len(reviews) - n_train - n_tune})")
        base = Detector(load_recognizers(RECOGNIZER_DIR), None)
        with dual_solver():
            metrics = training.train([*split_paths(["train"]), train_file],
                                     [*split_paths(["dev"]), tune_file], out, base, log=log)
        version = str(metrics["model_version"])
        if not VERSION_RE.match(version):
            raise ValueError(f"unexpected model version {version!r}")
        manifest_path = out / "manifest.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["reviews"] = {**summary(reviews),
                               "scored_by": sorted({r.model_version for r in reviews})}
        manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True)
                                 + "\n", encoding="utf-8")
        target = registry / version
        if target.exists():  # same data, same version: replace the earlier build
            shutil.rmtree(target)
        out.rename(target)
        return version, target, metrics["dev"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
