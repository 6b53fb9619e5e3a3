"""Optional pseudonymiser backed by `deduce` (LGPL-3.0-or-later, not a hard dependency; see
docs/decisions/0020). Enable with `pip install deduce` and BUURTSIGNAAL_PSEUDONYMISER=deduce.

Deduce finds names, locations, phone numbers and e-mail addresses; the built-in recognizers are
run as well (license plates, Dutch street forms deduce misses) and the findings are merged.
Deduce's dates, ages and institutions are left in the text: they are not in our identifier list
and the detector uses them (age is a discrimination ground).
"""

from __future__ import annotations

import os
from pathlib import Path

from buurtsignaal.privacy.pseudonymise import (
    BuiltinPseudonymiser,
    Finding,
    Pseudonymised,
    _resolve,
    _trim_name,
    replace,
)

_TAGS = {"persoon": "PERSOON", "patient": "PERSOON", "locatie": "ADRES",
         "telefoonnummer": "TELEFOON", "emailadres": "EMAIL"}


def cache_dir() -> Path:
    """Deduce builds lookup tables on first use (~2 min); they are cached here."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "buurtsignaal" / "deduce"


class DeducePseudonymiser:
    name = "deduce"

    def __init__(self, cache_path: Path | None = None) -> None:
        import deduce  # optional dependency

        path = cache_path or cache_dir()
        path.mkdir(parents=True, exist_ok=True)
        self._deduce = deduce.Deduce(cache_path=path)
        self._builtin = BuiltinPseudonymiser()

    def find(self, text: str) -> list[Finding]:
        doc = self._deduce.deidentify(text)
        found = list(self._builtin.find(text))
        for ann in doc.annotations:
            kind = _TAGS.get(ann.tag)
            if kind is None:
                continue
            start, end = ann.start_char, ann.end_char
            if kind == "PERSOON":
                trimmed = _trim_name(text, start, end)  # never swallow an identity term
                if trimmed is None:
                    continue
                start, end = trimmed
            found.append(Finding(start, end, kind))
        return _resolve(found)

    def pseudonymise(self, text: str) -> Pseudonymised:
        return replace(text, self.find(text))
