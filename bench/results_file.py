"""Where benchmark results go: one JSON file per run in bench/results/ (git-ignored), named by
kind and UTC time, plus the Markdown table that docs/performance.md quotes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def save(kind: str, result: dict[str, Any], table: str) -> Path:
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(table)
    print(f"\nwritten to {path.relative_to(ROOT)}")
    return path
