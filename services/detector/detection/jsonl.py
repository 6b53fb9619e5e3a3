"""The JSONL contract of `buurtsignaal detect`: reading notes, writing detections, clear errors."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring
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
    """The `detect` output line for one Detection: byte for byte the JSON of
    `json.dumps(det.to_dict(), ensure_ascii=False, separators=(",", ":"))`, written directly:
    building the dicts was the slowest step of a large batch. Strings go through the json
    module's own encoder (cached: the same explanations and slurs recur), numbers through
    repr as json does."""
    enc = _encoded
    evidence = ",".join([
        f'{{"start":{int(e.start)},"end":{int(e.end)},"text":{enc(e.text)},'
        f'"recognizer":{enc(e.recognizer)},"explanation":{enc(e.explanation)}}}'
        for e in det.evidence])
    return (f'{{"id":{enc(det.id)},"flag":{"true" if det.flag else "false"},'
            f'"score":{float.__repr__(round(float(det.score), 4))},'
            f'"grounds":[{",".join(map(enc, det.grounds))}],'
            f'"forms":[{",".join(map(enc, det.forms))}],'
            f'"severity":{int(det.severity)},"evidence":[{evidence}],'
            f'"model_version":{enc(det.model_version)}}}')


_ENCODED: dict[str, str] = {}


def _encoded(text: str) -> str:
    """A JSON string literal as json.dumps(ensure_ascii=False) writes it; cached, bounded."""
    out = _ENCODED.get(text)
    if out is None:
        if len(_ENCODED) > 100_000:
            _ENCODED.clear()
        out = _ENCODED[text] = encode_basestring(text)
    return out
