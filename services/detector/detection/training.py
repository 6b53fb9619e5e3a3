"""`buurtsignaal train`: fit the linear heads, tune blend and thresholds on other writers' notes.

The classifier re-weighs what the recognizers found (named features) together with character
and word n-grams. Decisions that matter for generalisation:
* strong L2 regularisation and class balancing (few hundred notes from a handful of writers);
* the final score blends the classifier with the transparent rule score, so that notes written
  in other words still get the recognizers' judgement;
* blend, rule margin and thresholds are chosen on *out-of-writer* predictions (1.3): every
  training file is by another writer, so each file is scored by heads fitted on the other files
  and the settings are chosen on those pooled scores. Dev is then a clean held-out writer. Up to
  1.1 they were chosen on dev, which made dev optimistic (dev 0.97 against test 0.87);
* the threshold favours recall (a missed case costs more than a dismissal).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from buurtsignaal.domain.signals import Detection
from buurtsignaal.domain.taxonomy import FORMS, GROUNDS

from .analysis import NoteAnalysis
from .corpus import CORPUS_DIR, Example, data_digest, load_examples
from .detector import Detector
from .evaluation import evaluate, flag_prf, threshold_table
from .features import N_HASH, build_matrix
from .model import DetectorModel, LinearHead, save_model

# 1.1: per-form thresholds; classifier only for notes with a hostile span.
# 1.3: out-of-writer tuning, best-F1 selection; train-c held out (decisions 0066-0067).
VERSION = "1.3.0"
MIN_LABEL_SUPPORT = 6  # a ground/form head needs at least this many positive train notes
TARGET_RECALL = 0.92
PRUNE_BELOW = 1e-3
C_FLAGS = (0.3, 1.0, 3.0)
BLENDS = (0.35, 0.5, 0.65, 0.8, 1.0)
MARGINS = (0.2, 0.3, 0.4, 0.5, 1.0)
Log = Callable[[str], None]
# Knobs tried on the cross-writer bench and left at their 1.1 values (model card, "Tried and not
# kept"); bench/cross_writer.py can still vary them.
# Which notes the flag head learns from: "all" or "signal", only notes with a hostile span (the
# only notes it ever scores: Detector.decide skips the others).
FLAG_TRAIN_ON = "all"
# Named (recognizer) features are multiplied by this while fitting, and the learned weights by
# the same factor when stored, so scoring is unchanged: with L2 regularisation a larger factor
# lets the recognizers' features carry more of the decision than writer-specific n-grams.
DENSE_WEIGHT = 1.0


@dataclass
class TrainConfig:
    c_flag: float = 1.0
    c_label: float = 1.0
    seed: int = 13


@dataclass
class Group:
    """The notes of one training file (one writer): the unit of out-of-writer tuning."""

    name: str
    examples: list[Example]
    analyses: list[NoteAnalysis]


@dataclass
class Tuned:
    """Settings chosen on held-out scores, and the flag metrics they reached there."""

    c_flag: float
    blend: float
    margin: float
    threshold: float
    ground_threshold: float = 0.5
    form_threshold: float = 0.5
    form_thresholds: dict[str, float] = field(default_factory=dict)
    severity_mode: str = "rule"
    flag: dict[str, float] = field(default_factory=dict)


# How the (blend, margin) pair is chosen among settings that meet the recall target:
# "rules" (1.1): within 0.01 F1 of the best, the strongest rule floor and least classifier weight;
# "f1" (1.3): the best F1 on out-of-writer scores (ties: the stronger rule floor).
SELECTIONS = ("rules", "f1")
DEFAULT_SELECTION = "f1"


def _fit_lr(X: sp.csr_matrix, y: np.ndarray, c: float, seed: int) -> LogisticRegression:
    # liblinear's dual solver: the same L2 logistic regression, ~9x faster with ~500k hashed
    # features and ~1k notes (decision 0054); out-of-writer tuning fits every head 3-4 times.
    lr = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=2000,
                            random_state=seed, dual=True)
    lr.fit(X, y)
    return lr


def _platt(X: sp.csr_matrix, y: np.ndarray, c: float, seed: int) -> tuple[float, float]:
    """Platt scaling fitted on out-of-fold decision values (no leakage into calibration)."""
    n_pos = int(y.sum())
    folds = min(5, n_pos, len(y) - n_pos)
    if folds < 2:
        return 1.0, 0.0
    z = np.zeros(len(y))
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        z[te] = _fit_lr(X[tr], y[tr], c, seed).decision_function(X[te])
    cal = LogisticRegression(C=1e4, solver="lbfgs")
    cal.fit(z.reshape(-1, 1), y)
    return float(cal.coef_[0, 0]), float(cal.intercept_[0])


def _head(name: str, lr: LogisticRegression, dense_names: Sequence[str],
          calib: tuple[float, float]) -> LinearHead:
    w = lr.coef_[0]
    hashed = w[: 2 * N_HASH]
    # Tiny n-gram weights change no decision but double the artefact size: drop them.
    idx = np.flatnonzero(np.abs(hashed) > PRUNE_BELOW).astype(np.int32)
    # Fitted on named features times DENSE_WEIGHT: store weights for the unscaled features.
    dense = {n: round(float(w[2 * N_HASH + j]) * DENSE_WEIGHT, 6)
             for j, n in enumerate(dense_names) if abs(w[2 * N_HASH + j]) > 1e-9}
    return LinearHead(name=name, hashed_idx=idx, hashed_val=hashed[idx].astype(np.float32),
                      dense=dense, intercept=float(lr.intercept_[0]),
                      calib_a=calib[0], calib_b=calib[1])


def fit_flag_head(X: sp.csr_matrix, examples: Sequence[Example],
                  dense_names: Sequence[str], cfg: TrainConfig) -> LinearHead:
    y = np.array([e.flag for e in examples], dtype=int)
    return _head("flag", _fit_lr(X, y, cfg.c_flag, cfg.seed), dense_names,
                 _platt(X, y, cfg.c_flag, cfg.seed))


def fit_label_heads(X: sp.csr_matrix, examples: Sequence[Example],
                    dense_names: Sequence[str], cfg: TrainConfig) -> dict[str, LinearHead]:
    """One head per ground and per form, trained on the positive notes only."""
    heads: dict[str, LinearHead] = {}
    y = np.array([e.flag for e in examples], dtype=int)
    pos = np.flatnonzero(y == 1)
    Xp = X[pos]
    for prefix, labels, attr in (("ground", GROUNDS, "grounds"), ("form", FORMS, "forms")):
        for label in labels:
            yl = np.array([label in getattr(examples[i], attr) for i in pos], dtype=int)
            if yl.sum() < MIN_LABEL_SUPPORT or yl.sum() == len(yl):
                continue
            name = f"{prefix}:{label}"
            lr = _fit_lr(Xp, yl, cfg.c_label, cfg.seed)
            heads[name] = _head(name, lr, dense_names, _platt(Xp, yl, cfg.c_label, cfg.seed))
    # Severity 1/2/3 as one-vs-rest heads; the detector combines them with the rule severity.
    for level in (1, 2, 3):
        yl = np.array([examples[i].severity == level for i in pos], dtype=int)
        if MIN_LABEL_SUPPORT <= yl.sum() < len(yl):
            name = f"sev:{level}"
            lr = _fit_lr(Xp, yl, cfg.c_label, cfg.seed)
            heads[name] = _head(name, lr, dense_names, _platt(Xp, yl, cfg.c_label, cfg.seed))
    return heads


def _choose_threshold(gold: list[bool], scored: list[tuple[float, bool]]) -> tuple[float, dict]:
    """The threshold on held-out scores, favouring recall.

    Among thresholds with recall >= TARGET_RECALL, find the best F1; then take the LOWEST
    threshold whose F1 is within 0.01 of it. A lower threshold costs a reviewer a few seconds
    per false alarm; a higher one misses cases, and notes by other writers tend to score lower
    than the notes the threshold was tuned on. Without any threshold reaching the recall
    target, the one with the best recall wins.
    """
    rows = []
    for t in np.arange(0.05, 0.86, 0.01):
        pred = [s >= t and ev for s, ev in scored]
        rows.append((float(round(t, 2)), flag_prf(gold, pred)))
    ok = [(t, m) for t, m in rows if m.recall >= TARGET_RECALL]
    if not ok:
        t, m = max(rows, key=lambda r: (r[1].recall, r[1].f1))
        return t, m.as_dict()
    best = max(m.f1 for _, m in ok)
    t, m = min(((t, m) for t, m in ok if m.f1 >= best - 0.01), key=lambda r: r[0])
    return t, m.as_dict()


# ------------------------------------------------------------------ fitting and scoring
def fit_heads(groups: Sequence[Group], names: Sequence[str], c_flags: Sequence[float],
              ) -> tuple[dict[float, LinearHead], dict[str, LinearHead]]:
    """Flag heads (one per C) and label heads on all notes of these groups."""
    examples = [e for g in groups for e in g.examples]
    analyses = [a for g in groups for a in g.analyses]
    X = _weighted(build_matrix(analyses, names))
    label_heads = fit_label_heads(X, examples, names, TrainConfig())
    rows = np.arange(len(examples))
    if FLAG_TRAIN_ON == "signal":
        rows = np.flatnonzero([Detector.has_signal(a) for a in analyses])
    flag_ex = [examples[i] for i in rows]
    Xf = X[rows]
    flag_heads = {c: fit_flag_head(Xf, flag_ex, names, TrainConfig(c_flag=c)) for c in c_flags}
    return flag_heads, label_heads


def _weighted(X: sp.csr_matrix) -> sp.csr_matrix:
    """X with the named-feature columns times DENSE_WEIGHT (see _head for the inverse)."""
    if DENSE_WEIGHT == 1.0:
        return X
    scale = np.ones(X.shape[1])
    scale[2 * N_HASH:] = DENSE_WEIGHT
    return (X @ sp.diags(scale)).tocsr()


def head_probabilities(base: Detector, flag_heads: dict[float, LinearHead],
                       label_heads: dict[str, LinearHead],
                       analyses: Sequence[NoteAnalysis]) -> dict[float, list[dict[str, float]]]:
    """Per C: every note's head probabilities (flag head of that C plus all label heads)."""
    out: dict[float, list[dict[str, float]]] = {}
    for c, fh in flag_heads.items():
        model = DetectorModel(manifest={"model_version": "tuning"},
                              heads={"flag": fh, **label_heads})
        det = Detector(base.recognizers, model, nlp=base.nlp)
        names, p = det.head_probs(analyses)
        out[c] = [dict(zip(names, row, strict=True)) for row in p.tolist()]
    return out


def out_of_writer_probs(groups: Sequence[Group], base: Detector, c_flags: Sequence[float],
                        log: Log = print) -> dict[float, list[dict[str, float]]]:
    """Each group scored by heads fitted on the other groups (notes in group order)."""
    pooled: dict[float, list[dict[str, float]]] = {c: [] for c in c_flags}
    for i, g in enumerate(groups):
        rest = [h for j, h in enumerate(groups) if j != i]
        log(f"  buiten-schrijver: {g.name} gescoord door heads op "
            f"{', '.join(h.name for h in rest)}")
        fh, lh = fit_heads(rest, base.dense_names, c_flags)
        for c, rows in head_probabilities(base, fh, lh, g.analyses).items():
            pooled[c].extend(rows)
    return pooled


# ------------------------------------------------------------------ tuning
def _tuning_detector(base: Detector) -> Detector:
    """A model-less detector whose blend and thresholds tuning sets directly; it scores with
    precomputed head probabilities (Detector._score / _decide_one)."""
    det = Detector(base.recognizers, None, nlp=base.nlp)
    det.model_version = "tuning"
    return det


def decide_with(det: Detector, examples: Sequence[Example], analyses: Sequence[NoteAnalysis],
                probs: Sequence[dict[str, float]]) -> list[Detection]:
    """Detections from precomputed head probabilities (the same decision as Detector.decide)."""
    out = []
    for e, a, p in zip(examples, analyses, probs, strict=True):
        sig = det.has_signal(a)
        # Detector.decide gives notes without a hostile span the rule-only score.
        pr = p if sig else {"flag": 0.0}
        d = det._decide_one(a, pr, (det._score(a, pr), sig))
        out.append(Detection(id=e.id, flag=d.flag, score=d.score, grounds=d.grounds,
                             forms=d.forms, severity=d.severity, evidence=d.evidence,
                             model_version=det.model_version))
    return out


def tune(examples: Sequence[Example], analyses: Sequence[NoteAnalysis],
         probs: dict[float, list[dict[str, float]]], base: Detector,
         selection: str = DEFAULT_SELECTION, log: Log = print) -> Tuned:
    """Choose C, blend, rule margin, thresholds and severity mode on held-out scores."""
    if selection not in SELECTIONS:
        raise ValueError(f"unknown selection {selection!r}")
    det = _tuning_detector(base)
    gold = [e.flag for e in examples]
    sig = [det.has_signal(a) for a in analyses]
    results = []
    for c, rows in probs.items():
        for blend in BLENDS:
            for margin in MARGINS:
                det.blend, det.rule_margin = blend, margin
                scored = [(det._score(a, p if s else {"flag": 0.0}), s)
                          for a, p, s in zip(analyses, rows, sig, strict=True)]
                thr, m = _choose_threshold(gold, scored)
                results.append((m["recall"] >= TARGET_RECALL, m["f1"], c, blend, margin, thr, m))
                log(f"  C={c:<4} blend={blend:<4} marge={margin:<4} drempel={thr:.2f}  "
                    f"P={m['precision']:.3f} R={m['recall']:.3f} F1={m['f1']:.3f}")
    best_ok = max(r[0] for r in results)
    pool = [r for r in results if r[0] == best_ok]
    best_f1 = max(r[1] for r in pool)
    if selection == "rules":
        # 1.1: within 0.01 of the best, the strongest rule floor and least classifier weight.
        near = [r for r in pool if r[1] >= best_f1 - 0.01]
        near.sort(key=lambda r: (r[4], r[3], -r[1]))
    else:
        # Settings are already judged on notes by writers the heads never saw: take the best,
        # and only among exact ties the stronger rule floor.
        near = [r for r in pool if r[1] >= best_f1 - 1e-9]
        near.sort(key=lambda r: (r[4], r[3], r[2]))
    _, _, c_flag, blend, margin, thr, m = near[0]
    log(f"gekozen: C={c_flag} blend={blend} marge={margin} drempel={thr} "
        f"(buiten-schrijver F1={m['f1']:.3f})")
    # Plain floats: the thresholds are numpy scalars, and so are counts compared against them.
    tuned = Tuned(c_flag=c_flag, blend=blend, margin=margin, threshold=thr,
                  flag={k: float(v) for k, v in m.items()})

    det.blend, det.rule_margin, det.threshold = blend, margin, thr
    rows = probs[c_flag]
    # Ground and form thresholds are independent (grounds do not change forms): tune apart.
    best_f = (-1.0, 0.5)
    per_t: dict[float, dict[str, Any]] = {}
    ground_f1: dict[float, float] = {}
    for t in FORM_GRID:
        det.ground_threshold, det.form_threshold = t, t
        met = evaluate(examples, decide_with(det, examples, analyses, rows))
        per_t[t] = met["forms"]
        ground_f1[t] = met["grounds_macro_f1"]
        best_f = max(best_f, (met["forms_macro_f1"], t))
    tuned.ground_threshold = ground_threshold_choice(ground_f1)
    tuned.form_threshold = best_f[1]
    tuned.form_thresholds = per_form_thresholds(per_t, tuned.form_threshold)
    det.ground_threshold, det.form_threshold = tuned.ground_threshold, tuned.form_threshold
    det.form_thresholds = dict(tuned.form_thresholds)
    best_s = (-1.0, "rule")
    for mode in ("rule", "model", "mean", "max"):
        det.severity_mode = mode
        met = evaluate(examples, decide_with(det, examples, analyses, rows))
        best_s = max(best_s, (met["severity"]["exact_on_true_positives"], mode))
    tuned.severity_mode = best_s[1]
    log(f"gekozen: grond-drempel={tuned.ground_threshold} vorm-drempel={tuned.form_threshold} "
        f"per vorm={tuned.form_thresholds} ernst={tuned.severity_mode}")
    return tuned


def fit_tuned(groups: Sequence[Group], base: Detector, tune_on: Sequence[Group] = (),
              selection: str = DEFAULT_SELECTION, log: Log = print,
              tune_extra: Sequence[Group] = ()) -> tuple[dict[str, LinearHead], Tuned]:
    """Heads on all `groups`, settings chosen on held-out scores.

    Without `tune_on` (the default since 1.3) the settings are chosen on out-of-writer scores
    of the groups themselves, plus the scores of the heads on all groups for `tune_extra`
    (reviewed cases set apart for tuning); with `tune_on` (1.1 behaviour) on the heads' scores
    of those notes only.
    """
    names = base.dense_names
    if tune_on or len(groups) < 2:
        if not tune_on:
            raise ValueError("out-of-writer tuning needs at least two training files")
        fh, lh = fit_heads(groups, names, C_FLAGS)
        t_ex = [e for g in tune_on for e in g.examples]
        t_an = [a for g in tune_on for a in g.analyses]
        tuned = tune(t_ex, t_an, head_probabilities(base, fh, lh, t_an), base, selection, log)
        return {"flag": fh[tuned.c_flag], **lh}, tuned
    probs = out_of_writer_probs(groups, base, C_FLAGS, log)
    t_ex = [e for g in groups for e in g.examples]
    t_an = [a for g in groups for a in g.analyses]
    if tune_extra:
        fh, lh = fit_heads(groups, names, C_FLAGS)
        x_an = [a for g in tune_extra for a in g.analyses]
        for c, rows in head_probabilities(base, fh, lh, x_an).items():
            probs[c].extend(rows)
        t_ex += [e for g in tune_extra for e in g.examples]
        t_an += x_an
        tuned = tune(t_ex, t_an, probs, base, selection, log)
        return {"flag": fh[tuned.c_flag], **lh}, tuned
    tuned = tune(t_ex, t_an, probs, base, selection, log)
    fh, lh = fit_heads(groups, names, (tuned.c_flag,))
    return {"flag": fh[tuned.c_flag], **lh}, tuned


def is_writer_file(path: Path) -> bool:
    """A file of the labelled corpus: one writer per file (docs/labelling.md, section 8)."""
    return path.resolve().parent == CORPUS_DIR.resolve()


def spread(groups: list[Group], mixed: Sequence[Group]) -> list[Group]:
    """Notes not written by one writer (reviewed cases from many caretakers) are divided over
    the writer groups by a hash of their text: as their own 'writer' they would only ever be
    scored by heads that never saw their kind, so tuning could not learn that the classifier
    handles them (the learning loop, decision 0066)."""
    out = [Group(g.name, list(g.examples), list(g.analyses)) for g in groups]
    for m in mixed:
        for e, a in zip(m.examples, m.analyses, strict=True):
            k = int(hashlib.sha256(e.text.encode("utf-8")).hexdigest()[:8], 16) % len(out)
            out[k].examples.append(e)
            out[k].analyses.append(a)
    for g, m in zip(out, groups, strict=True):
        if len(g.examples) > len(m.examples):
            g.name += f" (+{len(g.examples) - len(m.examples)} gemengd)"
    return out


def tuned_manifest(tuned: Tuned) -> dict[str, Any]:
    return {"threshold": tuned.threshold, "blend": tuned.blend, "rule_margin": tuned.margin,
            "ground_threshold": tuned.ground_threshold, "form_threshold": tuned.form_threshold,
            "form_thresholds": tuned.form_thresholds, "severity_mode": tuned.severity_mode,
            "c_flag": tuned.c_flag}


def load_groups(paths: Sequence[Path], base: Detector) -> list[Group]:
    out = []
    for p in paths:
        ex = load_examples([p])
        out.append(Group(p.name, ex, base.analyse([e.text for e in ex])))
    return out


def train(train_paths: list[Path], dev_paths: list[Path], out_dir: Path,
          detector: Detector, log: Any = print, tuning: str = "writers",
          selection: str = DEFAULT_SELECTION) -> dict[str, Any]:
    """Fit on `train_paths` and write the model; `dev_paths` are scored and reported.

    tuning="writers" (default): settings chosen on out-of-writer scores of the corpus training
    files (each file is one writer); corpus dev files stay held out. Files outside the corpus
    (reviewed cases) are spread over the writer groups (training) or tuned on (dev side).
    tuning="dev": the 1.1 procedure (settings chosen on dev); also used with fewer than two
    corpus training files.
    """
    t0 = time.time()
    groups = load_groups(train_paths, detector)
    dev_groups = load_groups(dev_paths, detector)
    dev_ex = [e for g in dev_groups for e in g.examples]
    dev_an = [a for g in dev_groups for a in g.analyses]
    n_train = sum(len(g.examples) for g in groups)
    log(f"train: {n_train} notities ({sum(e.flag for g in groups for e in g.examples)} positief) "
        f"in {len(groups)} bestanden; dev: {len(dev_ex)} notities "
        f"({sum(e.flag for e in dev_ex)} positief)")
    writers = [g for g, p in zip(groups, train_paths, strict=True) if is_writer_file(p)]
    by_writer = tuning == "writers" and len(writers) >= 2
    if by_writer:
        # Reviewed cases (files outside the corpus, from `train --include-reviews`): training
        # notes are spread over the writer groups, tuning notes join the tuning pool.
        mixed = [g for g, p in zip(groups, train_paths, strict=True) if not is_writer_file(p)]
        extra = [g for g, p in zip(dev_groups, dev_paths, strict=True) if not is_writer_file(p)]
        heads, tuned = fit_tuned(spread(writers, mixed), detector, (), selection, log,
                                 tune_extra=extra)
    else:
        heads, tuned = fit_tuned(groups, detector, dev_groups, selection, log)
    names = detector.dense_names

    # The version changes with the data and with the recognizers the features come from.
    digest = hashlib.sha256((data_digest(train_paths + dev_paths)
                             + detector.recognizers.source_digest).encode()).hexdigest()[:8]
    manifest: dict[str, Any] = {
        "model_version": f"detector-{VERSION}+{digest}",
        **tuned_manifest(tuned),
        "tuning": "out-of-writer" if by_writer else "dev",
        "recognizers_digest": detector.recognizers.source_digest,
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "train_files": [p.name for p in train_paths],
        "dev_files": [p.name for p in dev_paths],
        "n_train": n_train,
        "n_dev": len(dev_ex),
        "dense_features": len(names),
    }
    final = DetectorModel(manifest=manifest, heads=heads)
    det = Detector(detector.recognizers, final, nlp=detector.nlp)
    dets = _detect_analysed(det, dev_ex, dev_an)
    dev_metrics = evaluate(dev_ex, dets)
    head_names, probs = det.head_probs(dev_an)
    scored = [det.raw_score(a, dict(zip(head_names, probs[i], strict=True)))
              for i, a in enumerate(dev_an)]
    table = threshold_table([e.flag for e in dev_ex], [s for s, _ in scored],
                            [e for _, e in scored],
                            [round(x, 2) for x in np.arange(0.2, 0.81, 0.05)])
    save_model(final, out_dir)
    metrics = {"model_version": manifest["model_version"], "dev": dev_metrics,
               "tuning_flag": tuned.flag,
               "dev_threshold_table": table, "train_seconds": round(time.time() - t0, 1)}
    (out_dir / "metrics.json").write_text(
        json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"model opgeslagen in {out_dir} ({manifest['model_version']})")
    return metrics


FORM_GRID = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)  # 1.01: the head never adds the form


# Grounds macro-F1 within this of the best counts as a tie. 0.0 (= 1.1: the highest among exact
# ties): 0.01 was tried in 1.3 and did not raise the cross-writer mean (bench/cross_writer.py).
GROUND_TIE = 0.0


def ground_threshold_choice(ground_f1: dict[float, float], tie: float | None = None) -> float:
    """The ground-head threshold: among thresholds within GROUND_TIE of the best grounds
    macro-F1, the HIGHEST. Grounds named by the recognizers are the ones a reviewer can
    check in the evidence; a head adding a ground without a span behind it is learned from the
    training writers' labelling habits, which differ (one writer names origin from a surname, the
    next does not). None = GROUND_TIE (looked up at call time, so the bench can vary it).
    """
    tie = GROUND_TIE if tie is None else tie
    best = max(ground_f1.values())
    return max(t for t, f in ground_f1.items() if f >= best - tie)


def per_form_thresholds(per_t: dict[float, dict[str, Any]], default: float,
                        min_gain: float = 0.02) -> dict[str, float]:
    """A threshold per form head, from dev F1 of that form at each threshold.

    Forms differ: the harassment head is needed to find 'pesterij' (no single span says it),
    while the damage head mostly adds 'vernieling' next to a slur without any damage. A form
    only gets its own threshold when that gains at least `min_gain` F1 on dev over the common
    one (dev forms have few examples: small gains are noise); ties go to the higher threshold,
    i.e. fewer forms without a span behind them.
    """
    out: dict[str, float] = {}
    forms = {f for m in per_t.values() for f in m}
    for f in sorted(forms):
        base = per_t.get(default, {}).get(f, {}).get("f1", 0.0)
        best_f1, best_t = max((m.get(f, {}).get("f1", 0.0), t) for t, m in per_t.items())
        if best_f1 >= base + min_gain:
            out[f] = best_t
    return out


def _detect_analysed(det: Detector, examples: Sequence[Example],
                     analyses: Sequence[NoteAnalysis]) -> list[Detection]:
    out = []
    for e, d in zip(examples, det.decide(analyses), strict=True):
        out.append(Detection(id=e.id, flag=d.flag, score=d.score, grounds=d.grounds,
                             forms=d.forms, severity=d.severity, evidence=d.evidence,
                             model_version=det.model_version))
    return out
