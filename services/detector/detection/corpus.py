"""Reading the labelled corpus (data/corpus/*.jsonl, see data/corpus/LABELLING_BRIEF.md)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .paths import REPO_ROOT

CORPUS_DIR = REPO_ROOT / "data" / "corpus"
SPLITS = {
    "train": ("train-a.jsonl", "train-b.jsonl"),
    "dev": ("dev.jsonl",),
    "test": ("test.jsonl",),
    # Notes by a fifth writer (written for 1.3, docs/labelling.md). Held out like dev: the
    # recognizer lexicons were never changed for them, so they show how the detector carries
    # over to wording it was not built on (bench/cross_writer.py --hold-out).
    "train-c": ("train-c.jsonl",),
}


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    text: str
    flag: bool
    grounds: tuple[str, ...]
    forms: tuple[str, ...]
    severity: int
    kind: str


def split_paths(split_or_paths: list[str]) -> list[Path]:
    """'train' / 'dev' / 'test' or explicit file paths."""
    paths: list[Path] = []
    for item in split_or_paths:
        if item in SPLITS:
            paths.extend(CORPUS_DIR / name for name in SPLITS[item])
        else:
            paths.append(Path(item))
    return paths


def load_examples(paths: list[Path]) -> list[Example]:
    out: list[Example] = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    out.append(Example(
                        id=str(rec["id"]), text=rec["text"], flag=bool(rec["flag"]),
                        grounds=tuple(rec.get("grounds", ())), forms=tuple(rec.get("forms", ())),
                        severity=int(rec.get("severity", 0)), kind=str(rec.get("kind", "")),
                    ))
                except (ValueError, KeyError, TypeError) as exc:
                    raise ValueError(f"{path}:{lineno}: onleesbaar voorbeeld: {exc}") from exc
    return out


def data_digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths, key=lambda p: p.name):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()
