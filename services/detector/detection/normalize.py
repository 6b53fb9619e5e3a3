"""Token normalisation: what a caretaker types and what our lexicons expect are not the same.

Everything here works on single tokens and is cached by the recognizer engine, so it may be a
little slow per call; it runs once per distinct token form, not once per token.
"""

from __future__ import annotations

import re
import unicodedata

# Leetspeak and look-alike characters seen in quoted slurs ("h0m0", "n1kk3r", "k@nker").
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "€": "e", "!": "i", "|": "l"})
_LEET_CHARS = frozenset("0134579@$€!|")
_LETTERS = re.compile(r"[a-z]")
_WORDLIKE = re.compile(r"^[a-z*'\-/]+$")
_TRIPLES = re.compile(r"(.)\1{2,}")
_RUNS = re.compile(r"(.)\1+")
_CENSOR_RUN = re.compile(r"[*#]+")
# Characters that join parts of a compound or a censored word inside one token.
_PART_SPLIT = re.compile(r"[-/'_.+]+")
_EDGE_PUNCT = "\"'‘’“”`´.,;:!?()[]{}<>«»"


def strip_accents(text: str) -> str:
    """'geëmigreerd' -> 'geemigreerd', 'Öztürk' -> 'ozturk'; Dutch lexicons are written without."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise_token(text: str) -> str:
    """Lower case, no accents, leetspeak undone, shouted letters ('homoooo') shortened to two."""
    low = strip_accents(text.lower())
    stripped = low.strip(_EDGE_PUNCT)
    if stripped and any(c not in _EDGE_PUNCT for c in stripped):
        low = stripped
    if any(c in _LEET_CHARS for c in low) and len(_LETTERS.findall(low)) >= 2:
        # Only undo leetspeak when the result is a word: "14/3", "nr.12", "2e" stay as they are.
        candidate = low.translate(_LEET)
        if _WORDLIKE.match(candidate):
            low = candidate
    if len(low) > 3:
        low = _TRIPLES.sub(r"\1\1", low)
    return low


def squeeze(text: str) -> str:
    """Collapse every run of a letter to one ('marrokkaan' == 'marokaan'): spelling-variant key."""
    return _RUNS.sub(r"\1", text)


def token_parts(norm: str) -> list[str]:
    """Parts of a hyphenated or slashed token: 'kut-turk' -> ['kut', 'turk']."""
    if not _PART_SPLIT.search(norm):
        return []
    return [p for p in _PART_SPLIT.split(norm) if p]


def is_censored(norm: str) -> bool:
    return ("*" in norm or "#" in norm) and len(_LETTERS.findall(norm)) >= 2


_CENSOR_FILLS = ("a", "e", "i", "o", "u", "ij", "oe", "aa", "ee", "oo", "ie", "ig", "ik")


def uncensor_candidates(norm: str) -> list[str]:
    """'n*gger' -> ['nagger', 'negger', 'nigger', ...]: the star usually hides a vowel.

    At most two starred runs are expanded (13 x 13 candidates); more is noise, not a word.
    """
    runs = _CENSOR_RUN.findall(norm)
    if not runs or len(runs) > 2:
        return []
    pieces = _CENSOR_RUN.split(norm)
    out = [pieces[0]]
    for i, _run in enumerate(runs):
        out = [prefix + fill + pieces[i + 1] for prefix in out for fill in _CENSOR_FILLS]
    return out


# ------------------------------------------------------------ whole-text pass
_RUN = re.compile(r"[A-Za-z0-9!@$€|*]+")
# Leet characters between two letters ('n!kker'): a search for
# '[A-Za-z*][0-9!@$€|]+[A-Za-z*]', done as runs of leet characters followed by a letter whose
# preceding character is a letter (letters and leet characters are disjoint, so it is the same
# run). Starting at the rare leet characters lets the regex engine skip ordinary text quickly.
_LEET_RUN = re.compile(r"[0-9!@$€|]+(?=[A-Za-z*])")
_LETTER_OR_STAR = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz*")
_LEET_TEXT_CHARS = frozenset("0123456789!@$€|")


def _has_inner_leet(text: str) -> bool:
    for m in _LEET_RUN.finditer(text):
        start = m.start()
        if start > 0 and text[start - 1] in _LETTER_OR_STAR:
            return True
    return False
_TEXT_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                            "@": "a", "$": "s", "€": "e", "!": "i", "|": "l"})


def deleet_text(text: str) -> str:
    """Undo leetspeak inside words before tokenising, keeping every character offset.

    spaCy would split 'n!kker' at the '!' and 'k@nker' at the '@'; mapping them one-to-one to
    letters first keeps the word whole, and evidence offsets still point into the original.
    """
    if _LEET_TEXT_CHARS.isdisjoint(text) or not _has_inner_leet(text):
        return text

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        core = word.rstrip("!")
        if not _has_inner_leet(core):
            return word
        candidate = core.translate(_TEXT_LEET)
        if not candidate.replace("*", "").isalpha():
            return word
        return candidate + word[len(core):]

    return _RUN.sub(fix, text)


# Titles after which caretakers write a resident's name ('fam. El Amrani', 'mevr. de Vries').
HONORIFICS = frozenset({"fam", "familie", "dhr", "mevr", "mw", "mr", "meneer", "mevrouw",
                        "mijnheer", "gezin", "bew", "bewoner", "bewoonster", "buurman",
                        "buurvrouw", "mvr", "hr", "heer", "dame", "zoon", "dochter"})
_PARTICLES = frozenset({"de", "van", "der", "den", "ter", "ten", "el", "al", "ben", "ait",
                        "bin", "da", "di", "dos", "du", "le", "la", "op", "'t", "in", "het"})


def name_positions(words: list[str], norms: list[str]) -> set[int]:
    """Indices of tokens that are (part of) a person's name after a title.

    The classifier must not learn that a surname predicts a flag: that would be ethnic
    profiling and would not generalise to other notes. Recognizers still see every token.
    """
    out: set[int] = set()
    if HONORIFICS.isdisjoint(norms):
        return out
    i = 0
    n = len(words)
    while i < n:
        if norms[i] in HONORIFICS:
            j = i + 1
            if j < n and words[j] == ".":
                j += 1
            while j < n and (norms[j] in _PARTICLES or (words[j][:1].isupper()
                                                        and norms[j] not in HONORIFICS)):
                if words[j][:1].isupper():
                    out.add(j)
                j += 1
            i = j
        else:
            i += 1
    return out
