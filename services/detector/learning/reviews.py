"""Reviewed cases as training examples (docs/model-card.md, "Learning loop").

A case a reviewer confirmed is a positive example with the grounds, forms and severity as the
reviewer left them (after corrections); a dismissed case is a negative. The text is the
pseudonymised note text from PostgreSQL: exactly what the detector saw when it scored the note.
Each example keeps the model version that scored it. Cases still open are not examples.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

# sha256(normalised text) mod 5: 0 = held out for evaluation, 3 and 4 = tuning (blend, margin and
# thresholds are chosen there: the lever for false positives the recognizers cause), 1 and 2 =
# training. By text, not by id: a note sent twice (or copied to two households) lands in one
# part, so a held-out note is never also a training note.
HOLDOUT_RULE = "sha256(tekst) % 5: 0 evaluatie, 3-4 afstemming, 1-2 training"


@dataclass(frozen=True)
class ReviewedExample:
    note_id: str
    text: str
    flag: bool
    grounds: tuple[str, ...]
    forms: tuple[str, ...]
    severity: int
    model_version: str  # the model that scored the note
    decided_at: datetime

    @property
    def part(self) -> str:
        return split_of(self.text)

    def corpus_record(self) -> dict[str, object]:
        """The corpus JSONL format of data/corpus (docs/labelling.md)."""
        return {
            "id": f"review-{self.note_id}", "text": self.text, "flag": self.flag,
            "grounds": list(self.grounds) if self.flag else [],
            "forms": (list(self.forms) or ["overig"]) if self.flag else [],
            "severity": max(1, self.severity) if self.flag else 0,
            "kind": "review_bevestigd" if self.flag else "review_afgewezen",
            "author_role": "overig",
        }


def split_of(text: str) -> str:
    normalised = " ".join(text.lower().split())
    bucket = int(hashlib.sha256(normalised.encode()).hexdigest()[:8], 16) % 5
    return "holdout" if bucket == 0 else "tune" if bucket >= 3 else "train"


def load_reviewed(conn: psycopg.Connection) -> list[ReviewedExample]:
    """Every decided case: the latest decision, with the latest grounds/forms/severity."""
    rows = conn.execute(
        """WITH decided AS (
               SELECT DISTINCT ON (case_id) case_id, note_id, is_discrimination, model_version, at
               FROM case_labels WHERE source = 'besluit' ORDER BY case_id, id DESC),
           latest AS (
               SELECT DISTINCT ON (case_id) case_id, grounds, forms, severity
               FROM case_labels ORDER BY case_id, id DESC)
           SELECT d.note_id, n.text, d.is_discrimination, l.grounds, l.forms, l.severity,
                  d.model_version, d.at
           FROM decided d JOIN latest l USING (case_id) JOIN notes n ON n.id = d.note_id
           ORDER BY d.at, d.case_id"""
    ).fetchall()
    return [ReviewedExample(str(r["note_id"]), r["text"], bool(r["is_discrimination"]),
                            tuple(r["grounds"]), tuple(r["forms"]), int(r["severity"]),
                            r["model_version"], r["at"]) for r in rows]


def write_jsonl(examples: Iterable[ReviewedExample], path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for e in examples:
            fh.write(json.dumps(e.corpus_record(), ensure_ascii=False) + "\n")
            n += 1
    return n


def summary(examples: Iterable[ReviewedExample]) -> dict[str, object]:
    """Counts for the manifest (no text, no ids)."""
    out: dict[str, dict[str, int]] = {}
    for e in examples:
        part = out.setdefault(e.part, {"bevestigd": 0, "afgewezen": 0})
        part["bevestigd" if e.flag else "afgewezen"] += 1
    return {"parts": out, "rule": HOLDOUT_RULE}


def decisions_by_model(conn: psycopg.Connection) -> list[dict[str, object]]:
    """Per model version and per ground it named: decided cases confirmed and dismissed (the
    latest decision per case). Drift and weak grounds show here."""
    return conn.execute(
        """SELECT d.model_version, g AS ground,
                  count(*) FILTER (WHERE d.is_discrimination) AS bevestigd,
                  count(*) FILTER (WHERE NOT d.is_discrimination) AS afgewezen
           FROM (SELECT DISTINCT ON (case_id) case_id, model_version, is_discrimination,
                        predicted_grounds
                 FROM case_labels WHERE source = 'besluit' ORDER BY case_id, id DESC) d,
                unnest(d.predicted_grounds) AS g
           GROUP BY 1, 2 ORDER BY 1, 2"""
    ).fetchall()


def sample_decision_gauges(conn: psycopg.Connection) -> None:
    """buurtsignaal_review_decisions_by_model, from the system of record (every replica agrees)."""
    from buurtsignaal import metrics

    rows = decisions_by_model(conn)
    metrics.review_decisions_by_model.clear()
    for r in rows:
        for decision in ("bevestigd", "afgewezen"):
            metrics.review_decisions_by_model.labels(r["model_version"], r["ground"], decision).set(
                r[decision])
