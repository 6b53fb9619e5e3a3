"""Dutch, plain-text report of evaluation metrics for `buurtsignaal evaluate`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from buurtsignaal.domain.taxonomy import FORM_LABELS_NL, GROUND_LABELS_NL


def _row(label: str, m: dict[str, Any]) -> str:
    return (f"  {label:<30} P={m['precision']:.3f}  R={m['recall']:.3f}  F1={m['f1']:.3f}"
            f"  (n={m['support']})")


def print_report(metrics: dict[str, Any], errors: dict[str, list], n_examples: int,
                 echo: Callable[[str], Any]) -> None:
    echo(f"Model {metrics.get('model_version')}  drempel {metrics.get('threshold')}")
    echo(f"{metrics['n']} notities, {metrics['positives']} positief")
    echo("Signaal (flag):")
    echo(_row("flag", metrics["flag"]))
    echo(f"Gronden (macro-F1 {metrics['grounds_macro_f1']:.3f}):")
    for g, m in metrics["grounds"].items():
        warn = "  <-- recall < 0.60" if m["recall"] < 0.6 else ""
        echo(_row(GROUND_LABELS_NL.get(g, g), m) + warn)
    echo(f"Vormen (macro-F1 {metrics['forms_macro_f1']:.3f}):")
    for f, m in metrics["forms"].items():
        echo(_row(FORM_LABELS_NL.get(f, f), m))
    sev = metrics["severity"]
    echo("Ernst (op terecht gesignaleerde notities):")
    echo(f"  exact gelijk {sev['exact_on_true_positives']:.3f}, "
         f"hoogstens 1 verschil {sev['within_one_on_true_positives']:.3f}; "
         f"exact op alle notities {sev['exact_on_all_notes']:.3f}")
    echo(f"  goud->voorspeld: {sev['confusion_gold_to_pred']}")
    echo("Fouten per soort notitie (kind):")
    for kind, k in metrics["errors_by_kind"].items():
        if k["errors"]:
            echo(f"  {kind:<24} {k['errors']:>3} fout van {k['n']}")
    labels = {"fp": "Lastigste vals-positieven (hoogste score)",
              "fn": "Lastigste gemiste signalen (laagste score)",
              "ground": "Gesignaleerd met andere gronden"}
    for key, title in labels.items():
        items = errors.get(key, [])
        if not items:
            continue
        echo(f"{title}:")
        for i, (ex, det) in enumerate(items):
            line = f"  {ex.id} [{ex.kind}] score={det.score:.2f}"
            if key == "ground":
                line += f" goud={list(ex.grounds)} voorspeld={list(det.grounds)}"
            echo(line)
            if i < n_examples:
                echo(f"      {ex.text[:200]}")
