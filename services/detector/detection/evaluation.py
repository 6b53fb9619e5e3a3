"""Metrics for `buurtsignaal evaluate`: flag, grounds, forms, severity and the hardest errors."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from buurtsignaal.domain.signals import Detection
from buurtsignaal.domain.taxonomy import FORMS, GROUNDS

from .corpus import Example


@dataclass(frozen=True, slots=True)
class PRF:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    def as_dict(self) -> dict[str, float]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4), "support": self.support, "tp": self.tp,
                "fp": self.fp, "fn": self.fn}


def flag_prf(gold: Sequence[bool], pred: Sequence[bool]) -> PRF:
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    return PRF(tp, fp, fn)


def label_prf(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]],
              label: str) -> PRF:
    return flag_prf([label in g for g in gold], [label in p for p in pred])


def evaluate(examples: Sequence[Example], detections: Sequence[Detection]) -> dict[str, Any]:
    """All metrics as one JSON-able dict (also stored beside the model)."""
    gold_flag = [e.flag for e in examples]
    pred_flag = [d.flag for d in detections]
    flag = flag_prf(gold_flag, pred_flag)

    grounds = {g: label_prf([e.grounds for e in examples], [d.grounds for d in detections], g)
               for g in GROUNDS}
    forms = {f: label_prf([e.forms for e in examples], [d.forms for d in detections], f)
             for f in FORMS}
    present_g = [g for g, m in grounds.items() if m.support]
    present_f = [f for f, m in forms.items() if m.support]
    macro_g = sum(grounds[g].f1 for g in present_g) / max(len(present_g), 1)
    macro_f = sum(forms[f].f1 for f in present_f) / max(len(present_f), 1)

    both = [(e, d) for e, d in zip(examples, detections, strict=True) if e.flag and d.flag]
    sev_exact = sum(e.severity == d.severity for e, d in both) / max(len(both), 1)
    sev_within1 = sum(abs(e.severity - d.severity) <= 1 for e, d in both) / max(len(both), 1)
    sev_all = sum(e.severity == d.severity
                  for e, d in zip(examples, detections, strict=True)) / max(len(examples), 1)
    sev_confusion = Counter(f"{e.severity}->{d.severity}" for e, d in both)

    by_kind: dict[str, dict[str, int]] = {}
    for e, d in zip(examples, detections, strict=True):
        k = by_kind.setdefault(e.kind or "?", {"n": 0, "errors": 0, "gold_pos": 0})
        k["n"] += 1
        k["gold_pos"] += int(e.flag)
        k["errors"] += int(e.flag != d.flag)

    return {
        "n": len(examples),
        "positives": sum(gold_flag),
        "flag": flag.as_dict(),
        "grounds": {g: grounds[g].as_dict() for g in present_g},
        "grounds_macro_f1": round(macro_g, 4),
        "forms": {f: forms[f].as_dict() for f in present_f},
        "forms_macro_f1": round(macro_f, 4),
        "severity": {
            "exact_on_true_positives": round(sev_exact, 4),
            "within_one_on_true_positives": round(sev_within1, 4),
            "exact_on_all_notes": round(sev_all, 4),
            "confusion_gold_to_pred": dict(sorted(sev_confusion.items())),
        },
        "errors_by_kind": dict(sorted(by_kind.items(), key=lambda kv: -kv[1]["errors"])),
    }


def hardest_errors(examples: Sequence[Example], detections: Sequence[Detection],
                   n: int = 8) -> dict[str, list[tuple[Example, Detection]]]:
    """False positives with the highest score, false negatives with the lowest."""
    pairs = list(zip(examples, detections, strict=True))
    fps = sorted([p for p in pairs if p[1].flag and not p[0].flag], key=lambda p: -p[1].score)
    fns = sorted([p for p in pairs if p[0].flag and not p[1].flag], key=lambda p: p[1].score)
    wrong_ground = [p for p in pairs if p[0].flag and p[1].flag
                    and set(p[0].grounds) != set(p[1].grounds)]
    return {"fp": fps[:n], "fn": fns[:n], "ground": wrong_ground[:n]}


def threshold_table(gold: Sequence[bool], scores: Sequence[float], has_evidence: Sequence[bool],
                    thresholds: Sequence[float]) -> list[dict[str, float]]:
    """Precision/recall at each threshold: the documented trade-off."""
    rows = []
    for t in thresholds:
        pred = [s >= t and ev for s, ev in zip(scores, has_evidence, strict=True)]
        m = flag_prf(gold, pred)
        rows.append({"threshold": round(t, 3), "precision": round(m.precision, 4),
                     "recall": round(m.recall, 4), "f1": round(m.f1, 4)})
    return rows
