"""Where phrase regexes can possibly match a note, decided from its tokens.

Scanning a note with ~100 alternation-heavy regexes costs milliseconds in Python's `re`. Nearly
every pattern starts with a literal ('hoor', 'ga ', 'geen '), so we derive, from the regex itself,
the literal prefixes (up to PREFIX_LEN characters; a prefix ending in a space is a whole first
word) any match must start with. A pattern is then only tried with `match` at the token
positions whose text starts with one of its prefixes; which patterns a token form can start is
cached. Patterns whose start cannot be derived are scanned as before. Exact: it only skips
positions where no match can start.
"""

from __future__ import annotations

import re
from re import _constants as C
from re import _parser as P

PREFIX_LEN = 24  # characters of the literal start kept, over at most two words
_ZERO_WIDTH = {C.AT, C.ASSERT, C.ASSERT_NOT}


def literal_prefixes(pattern: str, limit: int = PREFIX_LEN) -> set[str] | None:
    """Literal strings every match starts with; None when the start cannot be derived.

    A string may span two words: 'op de ' means the match starts with the whole words 'op' and
    'de'; 'bande' means it starts with a word beginning with 'bande'.
    """
    try:
        parsed = P.parse(pattern)
    except re.error:
        return None
    found, _ = _seq(list(parsed), {""}, limit)
    if not found or "" in found or " " in found:
        return None
    return found


def _closed(r: str, limit: int) -> bool:
    return len(r) >= limit or r.count(" ") >= 2


def _seq(items: list, acc: set[str], limit: int) -> tuple[set[str], bool]:
    """Extend the prefixes in `acc` by a sequence of regex nodes.

    Returns (prefixes, finished); finished is False when extension stopped early, in which case
    the prefixes are still valid but nothing may be appended after them.
    """
    results = acc
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if all(_closed(r, limit) for r in results):
            return results, True
        if op is C.LITERAL:
            results = {r if _closed(r, limit) else r + chr(av) for r in results}
            continue
        if op is C.IN:
            chars = _class_chars(av)
            if chars is None or len(chars) > 12 or " " in chars:
                return results, False
            results = {r if _closed(r, limit) else r + c for r in results for c in chars}
            continue
        if op is C.SUBPATTERN:
            results, finished = _seq(list(av[-1]), results, limit)
            if not finished:
                return results, False
            continue
        if op is C.BRANCH:
            union: set[str] = set()
            all_finished = True
            for alt in av[1]:
                part, finished = _seq(list(alt), results, limit)
                union |= part
                all_finished = all_finished and finished
            results = union
            if not all_finished:
                return results, False
            continue
        if op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[0] >= 1:
            results, _ = _seq(list(av[2]), results, limit)
            return results, False
        return results, False
    return results, True


def _class_chars(av: list) -> list[str] | None:
    """Characters of a small character class ([7-9], \\d, ['"]); None when too broad."""
    chars: list[str] = []
    for o, v in av:
        if o is C.LITERAL:
            chars.append(chr(v))
        elif o is C.RANGE:
            chars.extend(chr(c) for c in range(v[0], v[1] + 1))
        elif o is C.CATEGORY and v is C.CATEGORY_DIGIT:
            chars.extend("0123456789")
        else:
            return None
    return chars


_SPLIT = re.compile(r"[^a-z0-9]+")


def candidate_keys(first: str, second: str, limit: int = PREFIX_LEN) -> list[str]:
    """Every literal start a phrase beginning at `first` (followed by `second`) could have."""
    keys = [first[:n] for n in range(1, min(len(first), limit) + 1)]
    head = first + " "
    keys.append(head)
    keys.extend(head + second[:n] for n in range(1, min(len(second), limit) + 1))
    keys.append(head + second + " ")
    return keys


def token_starts(norm: str) -> list[tuple[int, str]]:
    """(offset, rest) for the token and every part that starts after a non-alphanumeric char:
    a phrase can begin at 'turk' inside 'kut-turk'."""
    out = [(0, norm)]
    for m in _SPLIT.finditer(norm):
        if 0 < m.end() < len(norm):
            out.append((m.end(), norm[m.end():]))
    return out
