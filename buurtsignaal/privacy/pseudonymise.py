"""Pseudonymising note text at ingest: names, phone numbers, e-mail addresses, street addresses
and license plates become typed placeholders (`[PERSOON-1]`, `[ADRES-1]`, ...), the same value
getting the same placeholder within one note. Identity terms ("Marokkaanse", "moslima") stay:
they are what the detector needs.

Pure code (no I/O). The pseudonymiser is pluggable (`Pseudonymiser` protocol); the default is the
built-in regex + lexicon one below, see docs/decisions/0020 for why deduce is optional.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from buurtsignaal.privacy import lexicon

KINDS = ("PERSOON", "ADRES", "TELEFOON", "EMAIL", "KENTEKEN")
# When two findings overlap and are equally long, the earlier kind in this order wins.
_PRIORITY = {"EMAIL": 0, "TELEFOON": 1, "KENTEKEN": 2, "ADRES": 3, "PERSOON": 4}
PLACEHOLDER = re.compile(r"\[(PERSOON|ADRES|TELEFOON|EMAIL|KENTEKEN)-\d+\]")


@dataclass(frozen=True, slots=True)
class Finding:
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Pseudonymised:
    text: str
    findings: tuple[Finding, ...] = field(default=())  # spans in the ORIGINAL text

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.kind] = out.get(f.kind, 0) + 1
        return out


class Pseudonymiser(Protocol):
    name: str

    def find(self, text: str) -> list[Finding]: ...

    def pseudonymise(self, text: str) -> Pseudonymised: ...


# --- recognizers -------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")

# A run of digits with the separators people type; the digit count decides (10 national, +31 9).
_PHONE = re.compile(
    r"(?<![\w+])(?:\+31|0031|\(?0)[\s\-./()]*(?:\d[\s\-./()]{0,3}){8,11}(?!\w)"
)

_L, _D = "[A-Za-z]", r"\d"
_SIDECODES = [  # Dutch license plates, sidecodes 1-14, with dashes
    f"{_L}{{2}}-{_D}{{2}}-{_D}{{2}}", f"{_D}{{2}}-{_D}{{2}}-{_L}{{2}}", f"{_D}{{2}}-{_L}{{2}}-{_D}{{2}}",
    f"{_L}{{2}}-{_D}{{2}}-{_L}{{2}}", f"{_L}{{2}}-{_L}{{2}}-{_D}{{2}}", f"{_D}{{2}}-{_L}{{2}}-{_L}{{2}}",
    f"{_D}{{2}}-{_L}{{3}}-{_D}", f"{_D}-{_L}{{3}}-{_D}{{2}}", f"{_L}{{2}}-{_D}{{3}}-{_L}",
    f"{_L}-{_D}{{3}}-{_L}{{2}}", f"{_L}{{3}}-{_D}{{2}}-{_L}", f"{_L}-{_D}{{2}}-{_L}{{3}}",
    f"{_D}-{_L}{{2}}-{_D}{{3}}", f"{_D}{{3}}-{_L}{{2}}-{_D}",
]
_PLATE = re.compile(r"(?<![\w-])(?:" + "|".join(_SIDECODES) + r")(?![\w-])")
# Without dashes only right after the word "kenteken": "kenteken 12ABC3".
_PLATE_BARE = re.compile(r"(?i:kenteken(?:nummer)?|nummerbord)[:\s]+([A-Z0-9]{6})\b")

_POSTCODE = re.compile(
    r"(?<!\w)[1-9]\d{3}(?:\s?[A-Z]{2}|[a-z]{2})(?!\w)(?:,?\s*(?:nr\.?\s*)?\d{1,5}[a-zA-Z]?(?!\w))?"
)

_HOUSE_NUMBER = (
    r"(?:\s*,?\s*(?:nr\.?|nummer|no\.?)?\s*\d{1,5}"
    r"(?:-?[a-zA-Z](?![\w])|-\d{1,3}(?!\d)| [A-Z](?![\w])|\s?(?:hs|bis|bg|huis|boven|I{1,3})(?![\w]))?)?"
)


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_UPPER = "A-ZÀ-ÖØ-ÞĀ-ſ"
_LOWER = "a-zß-öø-ÿā-ſ"
_CAP = f"[{_UPPER}][{_LOWER}{_UPPER}'’-]*"  # a capitalised word
_STREET_WORD = f"[{_UPPER}][{_LOWER}'’.-]*"
_STREET = re.compile(
    # up to three leading words that belong to the street name, then a word ending in a suffix
    rf"(?<![\w-])(?:(?:{_alternation(lexicon.STREET_PREFIXES)}|{_CAP})\s+){{0,3}}?"
    rf"(?:{_STREET_WORD}|[{_UPPER}])(?:{_alternation(lexicon.STREET_SUFFIXES)})(?![\w])"
    rf"{_HOUSE_NUMBER}",
)
# "Oude Gracht 12", "Grote Markt": a known prefix word before a capitalised street word
_STREET_PLAIN = re.compile(
    rf"(?<![\w-])(?:{_alternation(w.capitalize() for w in lexicon.STREET_PREFIXES)})\s+"
    rf"(?:{_alternation(s.capitalize() for s in lexicon.STREET_SUFFIXES)})(?![\w]){_HOUSE_NUMBER}"
)
# "Laan van Meerdervoort 12", "Plein 1944 3"
_STREET_FIRST = re.compile(
    rf"(?<![\w-])(?:Laan|Weg|Plein|Kade|Dreef|Singel|Straat)\s+(?:van|der|de|den|naar|op)\s+"
    rf"(?:(?:van|der|de|den)\s+)?{_CAP}{_HOUSE_NUMBER}"
)
# "aan de Brink 12", "op Damrak 70": a capitalised word followed by a house number after a
# preposition of place. The preposition is context, not part of the finding.
_STREET_NUMBERED = re.compile(
    rf"(?<!\w)(?:aan|op|in|naar|via|bij|vanaf|richting|adres)\s+(?:de\s+|het\s+|'t\s+)?"
    rf"((?:{_CAP}\s+){{0,2}}{_CAP}\s+\d{{1,5}}[a-zA-Z]?)(?!\w)"
)

_TOKEN = re.compile(rf"[{_UPPER}{_LOWER}][{_LOWER}{_UPPER}'’-]*|[{_UPPER}]\.")
_TITLE = re.compile(
    rf"(?<!\w)(?i:{lexicon.TITLES})(?=[\s.])\.?\s+"
    rf"((?:[{_UPPER}]\.\s?)*(?:(?:{_alternation(lexicon.PARTICLES)})\s+)*[{_UPPER}{_LOWER}][{_LOWER}{_UPPER}'’-]*"
    rf"(?:\s+(?:(?:{_alternation(lexicon.PARTICLES)})\s+)*{_CAP})?)"
)
_RELATION = re.compile(
    rf"(?<!\w)(?i:{lexicon.RELATIONS})\s+((?:(?:{_alternation(lexicon.PARTICLES)})\s+)*{_CAP}"
    rf"(?:\s+(?:(?:{_alternation(lexicon.PARTICLES)})\s+)*{_CAP})?)"
)
# Initials before a surname: "J. de Vries", "A.B. Yilmaz", "M Amrani" is too weak to use.
_INITIALS = re.compile(
    rf"(?<![\w.])((?:[{_UPPER}]\.\s?){{1,4}}(?:(?:{_alternation(lexicon.PARTICLES)})\s+)*{_CAP})"
)
_CAP_RUN = re.compile(
    rf"(?<![\w'’-])({_CAP}(?:\s+(?:(?:{_alternation(lexicon.PARTICLES)})\s+)*{_CAP}){{0,3}})"
)


def _strip_trailing(text: str, start: int, end: int) -> int:
    """Drop a possessive 's and trailing punctuation from a name span."""
    while end > start and text[end - 1] in ".,;:!?-'’":
        end -= 1
    if text[end - 2:end] in ("'s", "’s"):
        end -= 2
    return end


def _name_words(span: str) -> list[str]:
    return [w for w in re.split(r"[\s]+", span) if w]


def _is_blocked(word: str, *, stems: bool = True) -> bool:
    """Identity terms and common words are never (part of) a name. With stems, words that merely
    contain an identity stem are blocked too; after a title ("dhr. Bruinsma") they are not."""
    key = word.strip(".,'’").casefold()
    if key.endswith(("'s", "’s")):
        key = key[:-2]
    return (key in lexicon.IDENTITY_TERMS or key in lexicon.NOT_NAMES
            or (stems and any(stem in key for stem in lexicon.IDENTITY_STEMS)))


def _trim_name(text: str, start: int, end: int, *, stems: bool = True) -> tuple[int, int] | None:
    """Cut a candidate name at the first blocked word (identity term, common word); None if
    nothing name-like is left. After a particle a blocked word is a surname: "mevr. de Wit"."""
    keep_end = start
    after_particle = False
    for match in re.finditer(r"\S+", text[start:end]):
        word = match.group()
        if word.casefold() in lexicon.PARTICLES:
            after_particle = True
            continue
        if _is_blocked(word, stems=stems) and not after_particle:
            break
        after_particle = False
        keep_end = start + match.end()
    if keep_end == start:
        return None
    end = _strip_trailing(text, start, keep_end)
    return (start, end) if end > start else None


class BuiltinPseudonymiser:
    """Regex + lexicon recognizers for Dutch notes. Fast (no start-up cost), explainable, and
    extended by adding words to lexicon.py. Recall is measured in docs/privacy.md."""

    name = "builtin"

    def find(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        found += [Finding(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text)]
        found += list(self._phones(text))
        found += [Finding(m.start(), m.end(), "KENTEKEN") for m in _PLATE.finditer(text)]
        found += [Finding(m.start(1), m.end(1), "KENTEKEN") for m in _PLATE_BARE.finditer(text)
                  if re.search(r"\d", m.group(1)) and re.search(r"[A-Z]", m.group(1))]
        found += list(self._addresses(text))
        found += list(self._persons(text))
        return _resolve(found)

    def pseudonymise(self, text: str) -> Pseudonymised:
        return replace(text, self.find(text))

    @staticmethod
    def _phones(text: str) -> Iterator[Finding]:
        for m in _PHONE.finditer(text):
            raw = m.group().rstrip(" -./(")
            digits = re.sub(r"\D", "", raw)
            international = raw.startswith(("+31", "0031"))
            national = digits[4:] if digits.startswith("0031") else digits[2:] if international else digits
            if international and national.startswith("0"):
                national = national[1:]  # +31 (0)6 ...
            ok = len(national) == 9 if international else len(digits) == 10 and digits[0] == "0"
            if ok:
                yield Finding(m.start(), m.start() + len(raw), "TELEFOON")

    @staticmethod
    def _addresses(text: str) -> Iterator[Finding]:
        for m in _POSTCODE.finditer(text):
            yield Finding(m.start(), m.end(), "ADRES")
        for pattern in (_STREET, _STREET_FIRST, _STREET_PLAIN):
            for m in pattern.finditer(text):
                if pattern is _STREET and any(
                        _in_lexicon(w) and _ends_with_suffix(w.casefold()) for w in m.group().split()):
                    continue  # "Adam", "Bosch": a name that happens to end like a street
                start = m.start()
                # leading generic capitalised words are only part of a street when they are known
                # prefixes or names: "Burgemeester de Withstraat" yes, "Gisteren Kerkstraat" no
                words = list(re.finditer(r"\S+", m.group()))
                for w in words[:-1]:
                    token = w.group().casefold()
                    if (token in lexicon.STREET_PREFIXES or token in lexicon.FIRST_NAMES
                            or token in lexicon.PARTICLES or re.fullmatch(r"[a-z]\.", token)):
                        break
                    if _ends_with_suffix(token):
                        break
                    start = m.start() + w.end()
                    while start < m.end() and text[start].isspace():
                        start += 1
                end = _strip_trailing(text, start, m.end())
                if end > start:
                    yield Finding(start, end, "ADRES")
        for m in _STREET_NUMBERED.finditer(text):
            first = m.group(1).split()[0]
            if not _is_blocked(first):
                yield Finding(m.start(1), m.end(1), "ADRES")

    @staticmethod
    def _persons(text: str) -> Iterator[Finding]:
        for pattern in (_TITLE, _RELATION, _INITIALS):
            for m in pattern.finditer(text):
                trimmed = _trim_name(text, m.start(1), m.end(1), stems=pattern is _RELATION)
                if trimmed is None:
                    continue
                start, end = trimmed
                words = [w for w in _name_words(text[start:end]) if w.casefold() not in lexicon.PARTICLES]
                if pattern is _TITLE and words and words[0][0].islower() and not any(
                        _in_lexicon(w) for w in words):
                    continue  # "mevr. belt": a lowercase word after a title must be a known name
                if pattern is _RELATION and not any(
                        _in_lexicon(w) or (w[0].isupper() and w.casefold() not in lexicon.PARTICLES)
                        for w in words):
                    continue
                yield Finding(start, end, "PERSOON")
        yield from _unknown_proper_nouns(text)
        for m in _CAP_RUN.finditer(text):
            words = list(re.finditer(r"\S+", m.group(1)))
            known = [i for i, w in enumerate(words) if _in_lexicon(w.group())]
            if not known:
                continue
            # the run from the first known name word to its end, cut at blocked words
            first = words[known[0]]
            trimmed = _trim_name(text, m.start(1) + first.start(), m.end(1))
            if trimmed is not None:
                yield Finding(trimmed[0], trimmed[1], "PERSOON")


# Endings of adjectives and demonyms ("Pakistaanse", "Irakezen", "Somaliër"): never a name guess.
_DEMONYM_ENDINGS = ("se", "sche", "isch", "aan", "aans", "anen", "ees", "ezen", "ër", "ërs", "ier",
                    "iers", "ers", "isten", "ist", "ijnen", "iet", "ieten")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n\"“”'‘(\[•*-])\s*$")


@lru_cache(maxsize=1)
def dutch_vocabulary() -> frozenset[str]:
    """Lower-cased Dutch word forms (spaCy's lookup tables, already a dependency); empty when
    the package is missing, which only switches the unknown-word guess off."""
    try:
        import spacy_lookups_data
    except ImportError:
        return frozenset()
    path = Path(spacy_lookups_data.__file__).parent / "data" / "nl_lemma_lookup.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        table: dict[str, str] = json.load(f)
    return frozenset(w.casefold() for pair in table.items() for w in pair)


_PROPER = re.compile(rf"(?<![\w'’@./-])([{_UPPER}][{_LOWER}]{{2,}}(?:-[{_UPPER}][{_LOWER}]+)?)(?![\w@])")


def _unknown_proper_nouns(text: str) -> Iterator[Finding]:
    """A capitalised word inside a sentence that is no Dutch word, no identity term and no
    demonym is most likely a name ("... zegt Latoya Doelwijt dat ..."). Cities are caught too;
    that is over-redaction, not a leak."""
    vocabulary = dutch_vocabulary()
    if not vocabulary:
        return
    for m in _PROPER.finditer(text):
        word = m.group(1)
        key = word.casefold()
        if _SENTENCE_START.search(text[:m.start(1)]):
            continue
        if (key in vocabulary or _is_blocked(word) or key.endswith(_DEMONYM_ENDINGS)
                or key in lexicon.PLACES
                or key in lexicon.PARTICLES or _ends_with_suffix(key)):
            continue
        start = m.start(1)
        before = re.search(rf"([{_UPPER}][{_LOWER}]+)\s+$", text[:start])
        if (before and before.group(1).casefold() not in vocabulary
                and before.group(1).casefold() not in lexicon.PLACES and not _is_blocked(before.group(1))):
            start = before.start(1)  # "Latoya Doelwijt" at the start of a sentence
        yield Finding(start, m.end(1), "PERSOON")


def _ends_with_suffix(token: str) -> bool:
    return token.endswith(lexicon.STREET_SUFFIXES)


def _in_lexicon(word: str) -> bool:
    key = word.strip(".,;:!?'’").casefold()
    if key.endswith(("'s", "’s")):
        key = key[:-2]
    if key in lexicon.IDENTITY_TERMS or key in lexicon.NOT_NAMES:
        return False
    return key in lexicon.FIRST_NAMES or key in lexicon.SURNAMES or any(
        part in lexicon.SURNAMES for part in key.split("-") if len(key.split("-")) > 1)


def _resolve(findings: list[Finding]) -> list[Finding]:
    """Non-overlapping findings: the longest wins, then the kind with the higher priority."""
    ordered = sorted(findings, key=lambda f: (-(f.end - f.start), _PRIORITY[f.kind], f.start))
    taken: list[Finding] = []
    for f in ordered:
        if f.end <= f.start:
            continue
        if all(f.end <= t.start or f.start >= t.end for t in taken):
            taken.append(f)
    return sorted(taken, key=lambda f: f.start)


def _value_key(kind: str, value: str) -> str:
    value = re.sub(r"\s+", " ", value).strip().casefold()
    if kind in ("TELEFOON", "KENTEKEN"):
        value = re.sub(r"[^0-9a-z]", "", value)
        if kind == "TELEFOON":
            value = re.sub(r"^(0031|31)", "0", value)
    return value


def replace(text: str, findings: Iterable[Finding]) -> Pseudonymised:
    """Replace findings (non-overlapping) by numbered placeholders, consistently per value.
    A person mentioned again by one part of the name ("Fatima Yilmaz" ... "Yilmaz") keeps the
    same placeholder."""
    findings = sorted(findings, key=lambda f: f.start)
    numbers: dict[str, dict[str, int]] = {k: {} for k in KINDS}
    name_parts: dict[str, int] = {}
    out: list[str] = []
    pos = 0
    for f in findings:
        value = text[f.start:f.end]
        key = _value_key(f.kind, value)
        table = numbers[f.kind]
        if key not in table and f.kind == "PERSOON":
            parts = [p for p in key.replace(".", " ").split() if p not in lexicon.PARTICLES
                     and len(p) > 1]
            for part in parts:
                if part in name_parts:
                    table[key] = name_parts[part]
                    break
        if key not in table:
            table[key] = len(set(table.values())) + 1
        if f.kind == "PERSOON":
            for part in key.replace(".", " ").split():
                if part not in lexicon.PARTICLES and len(part) > 1:
                    name_parts.setdefault(part, table[key])
        out.append(text[pos:f.start])
        out.append(f"[{f.kind}-{table[key]}]")
        pos = f.end
    out.append(text[pos:])
    return Pseudonymised("".join(out), tuple(findings))


def get_pseudonymiser(name: str = "builtin") -> Pseudonymiser:
    """The configured implementation (BUURTSIGNAAL_PSEUDONYMISER): builtin, or deduce+builtin
    when the optional `deduce` package is installed (see docs/decisions/0020)."""
    if name == "builtin":
        return BuiltinPseudonymiser()
    if name == "deduce":
        from buurtsignaal.privacy.deduce_backend import DeducePseudonymiser

        return DeducePseudonymiser()
    raise ValueError(f"unknown pseudonymiser {name!r}: choose builtin or deduce")
