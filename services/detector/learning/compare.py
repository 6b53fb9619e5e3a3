"""`buurtsignaal evaluate --candidate V` and `--by-group`.

Candidate versus active model on (1) the fixed test split of the corpus and (2) the held-out
part of the reviewed cases (reviews.split_of == "holdout": never used to train or tune any model
built by retrain.py). The bias audit scores notes that mention an identity group neutrally
(data/bias/neutral_mentions.jsonl, all labelled `flag: false`) and reports the false-positive
rate per group: an ordinary nuisance note must not be flagged more often because of who it
mentions.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.detector.detection.corpus import load_examples, split_paths
from services.detector.detection.detector import Detector
from services.detector.detection.evaluation import evaluate
from services.detector.detection.paths import REPO_ROOT

from .reviews import ReviewedExample

BIAS_FILE = REPO_ROOT / "data" / "bias" / "neutral_mentions.jsonl"


def review_metrics(detector: Detector, reviews: Sequence[ReviewedExample]) -> dict[str, Any]:
    """On held-out reviewed cases: how many confirmed cases it still flags (recall) and how many
    dismissed cases it flags again (false positives)."""
    held = [r for r in reviews if r.part == "holdout"]
    flags = [d.flag for d in detector.detect_many((r.note_id, r.text) for r in held)]
    confirmed = [f for r, f in zip(held, flags, strict=True) if r.flag]
    dismissed = [f for r, f in zip(held, flags, strict=True) if not r.flag]
    return {
        "n": len(held),
        "confirmed": len(confirmed), "confirmed_flagged": sum(confirmed),
        "recall": round(sum(confirmed) / len(confirmed), 4) if confirmed else None,
        "dismissed": len(dismissed), "dismissed_flagged": sum(dismissed),
        "false_positive_rate": round(sum(dismissed) / len(dismissed), 4) if dismissed else None,
    }


def corpus_test_metrics(detector: Detector) -> dict[str, Any]:
    examples = load_examples(split_paths(["test"]))
    m = evaluate(examples, list(detector.detect_many((e.id, e.text) for e in examples)))
    return {"n": m["n"], "flag": m["flag"], "grounds_macro_f1": m["grounds_macro_f1"],
            "forms_macro_f1": m["forms_macro_f1"],
            "severity_exact": m["severity"]["exact_on_true_positives"]}


def bias_audit(detector: Detector, path: Path = BIAS_FILE) -> dict[str, dict[str, Any]]:
    """False-positive rate per identity group on neutral mentions."""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    flags = [d.flag for d in detector.detect_many((r["id"], r["text"]) for r in records)]
    per: dict[str, list[bool]] = defaultdict(list)
    for r, f in zip(records, flags, strict=True):
        per[r["group"]].append(f)
    return {g: {"n": len(v), "flagged": sum(v), "fp_rate": round(sum(v) / len(v), 4)}
            for g, v in sorted(per.items())}


def compare(active: Detector, candidate: Detector, reviews: Sequence[ReviewedExample] | None
            ) -> dict[str, Any]:
    out: dict[str, Any] = {"active": {"version": active.model_version},
                           "candidate": {"version": candidate.model_version}}
    for key, det in (("active", active), ("candidate", candidate)):
        out[key]["test"] = corpus_test_metrics(det)
        out[key]["reviews_holdout"] = review_metrics(det, reviews) if reviews is not None else None
        out[key]["bias"] = bias_audit(det)
    return out


def format_comparison(result: dict[str, Any]) -> list[str]:
    a, c = result["active"], result["candidate"]
    lines = [f"{'':34} {'actief':>12} {'kandidaat':>12}",
             f"{'versie':34} {a['version'][-12:]:>12} {c['version'][-12:]:>12}"]
    for label, key in (("test: precisie", "precision"), ("test: recall", "recall"), ("test: F1", "f1")):
        lines.append(f"{label:34} {a['test']['flag'][key]:>12.3f} {c['test']['flag'][key]:>12.3f}")
    lines.append(f"{'test: gronden macro-F1':34} {a['test']['grounds_macro_f1']:>12.3f} "
                 f"{c['test']['grounds_macro_f1']:>12.3f}")
    if a["reviews_holdout"] is not None:
        for label, key in (("apart gehouden: bevestigd gevonden", "recall"),
                           ("apart gehouden: afgewezen gemeld", "false_positive_rate")):
            va, vc = a["reviews_holdout"][key], c["reviews_holdout"][key]
            lines.append(f"{label:34} {_fmt(va):>12} {_fmt(vc):>12}")
        lines.append(f"{'apart gehouden zaken':34} {a['reviews_holdout']['n']:>12} "
                     f"{c['reviews_holdout']['n']:>12}")
    lines.append("fout-positief op neutrale vermeldingen per groep:")
    for group in a["bias"]:
        lines.append(f"  {group:32} {a['bias'][group]['fp_rate']:>12.3f} "
                     f"{c['bias'].get(group, {}).get('fp_rate', 0.0):>12.3f}")
    return lines


def format_bias(version: str, audit: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"bias-audit {version}: fout-positieven op neutrale vermeldingen",
             f"{'groep':24} {'n':>5} {'gemeld':>7} {'FP-ratio':>9}"]
    for group, m in audit.items():
        lines.append(f"{group:24} {m['n']:>5} {m['flagged']:>7} {m['fp_rate']:>9.3f}")
    rates = [m["fp_rate"] for g, m in audit.items() if g != "geen"]
    if rates:
        lines.append(f"grootste verschil tussen groepen: {max(rates) - min(rates):.3f}")
    return lines


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"
