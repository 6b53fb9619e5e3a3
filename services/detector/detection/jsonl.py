"""The JSONL contract of `buurtsignaal detect`: reading notes, writing detections, clear errors."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from buurtsignaal.domain.signals import Detection


class InvalidLine(ValueError):
    """A line that is not a JSON object with a string `id` and a string `text`."""

    def __init__(self, lineno: int, reason: str) -> None:
        super().__init__(f"regel {lineno}: {reason}")
        self.lineno = lineno
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Note:
    lineno: int
    id: str
    text: str
    record: dict[str, Any]


def parse_line(line: str, lineno: int) -> Note:
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidLine(lineno, f"geen geldige JSON ({exc.msg}, kolom {exc.colno})") from None
    if not isinstance(rec, dict):
        raise InvalidLine(lineno, "verwacht een JSON-object met 'id' en 'text'")
    missing = [k for k in ("id", "text") if k not in rec]
    if missing:
        raise InvalidLine(lineno, f"veld ontbreekt: {', '.join(missing)}")
    note_id, text = rec["id"], rec["text"]
    if not isinstance(note_id, (str, int)) or isinstance(note_id, bool) or note_id == "":
        raise InvalidLine(lineno, "'id' moet een niet-lege string of een geheel getal zijn")
    if not isinstance(text, str):
        raise InvalidLine(lineno, "'text' moet een string zijn")
    return Note(lineno, str(note_id), text, rec)


def read_notes(lines: Iterable[str], skip_invalid: bool = False,
               on_skip: Any = None) -> Iterator[Note]:
    """Notes from JSON lines; blank lines are ignored. Raises InvalidLine unless skip_invalid."""
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield parse_line(line, lineno)
        except InvalidLine as exc:
            if not skip_invalid:
                raise
            if on_skip is not None:
                on_skip(exc)


def write_detection(out: IO[str], data: dict[str, Any]) -> None:
    out.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")


def detection_json(det: Detection) -> str:
    """The `detect` output line for one Detection: the same JSON as `Detection.to_dict()`,
    built directly because dataclasses.asdict is the slowest step of a large batch."""
    data = {
        "id": det.id,
        "flag": det.flag,
        "score": round(float(det.score), 4),
        "grounds": list(det.grounds),
        "forms": list(det.forms),
        "severity": det.severity,
        "evidence": [{"start": e.start, "end": e.end, "text": e.text,
                      "recognizer": e.recognizer, "explanation": e.explanation}
                     for e in det.evidence],
        "model_version": det.model_version,
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
