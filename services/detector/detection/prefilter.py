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
MAX_PREFIXES = 5000  # optional parts multiply the prefixes; stop extending beyond this
_ZERO_WIDTH = {C.AT, C.ASSERT, C.ASSERT_NOT}


def literal_prefixes(pattern: str, limit: int = PREFIX_LEN,
                     optional: bool = False, words: int = 2) -> set[str] | None:
    """Literal strings every match starts with; None when the start cannot be derived.

    A string may span two words: 'op de ' means the match starts with the whole words 'op' and
    'de'; 'bande' means it starts with a word beginning with 'bande'. With `optional`, the
    derivation goes on past optional parts ('(?:huid)?kleur': 'huidkleur' and 'kleur'), which
    gives fewer, longer prefixes. `words` is the most whole words a prefix may hold.
    """
    try:
        parsed = P.parse(pattern)
    except re.error:
        return None
    found, _ = _seq(list(parsed), {""}, (limit, words), optional)
    if not found or "" in found or " " in found:
        return None
    return found


def starts_at_word(pattern: str) -> bool:
    """Whether every match starts with '\\b' before a letter or digit, i.e. at the start of a
    token or of a part of one (see token_starts): then trying the prefixes at token starts finds
    every match a scan finds."""
    try:
        parsed = P.parse(pattern)
    except re.error:
        return False
    prefixes = literal_prefixes(pattern, optional=True)
    return (prefixes is not None and _boundary_first(list(parsed))
            and all(p[0] in _WORD_START for p in prefixes))


_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _boundary_first(items: list) -> bool:
    if not items:
        return False
    op, av = items[0]
    if op is C.AT:
        return av is C.AT_BOUNDARY
    if op is C.SUBPATTERN:
        return _boundary_first(list(av[-1]))
    if op is C.BRANCH:
        return all(_boundary_first(list(alt)) for alt in av[1])
    return False


def _closed(r: str, limit: tuple[int, int]) -> bool:
    return len(r) >= limit[0] or r.count(" ") >= limit[1]


def _seq(items: list, acc: set[str], limit: tuple[int, int],
         optional: bool = False) -> tuple[set[str], bool]:
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
            results, finished = _seq(list(av[-1]), results, limit, optional)
            if not finished:
                return results, False
            continue
        if op is C.BRANCH:
            union: set[str] = set()
            all_finished = True
            for alt in av[1]:
                part, finished = _seq(list(alt), results, limit, optional)
                union |= part
                all_finished = all_finished and finished
            results = union
            if not all_finished:
                return results, False
            continue
        if op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[0] >= 1:
            results, _ = _seq(list(av[2]), results, limit, optional)
            return results, False
        if optional and op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[:2] == (0, 1):
            # An optional part ('(?:terug )?naar', '(?:huid)?kleur'): a match either has it or
            # not, so the prefixes of both ways are the prefixes (as a branch of two).
            taken, finished = _seq(list(av[2]), results, limit, optional)
            results = taken | results
            if not finished or len(results) > MAX_PREFIXES:
                return results, False
            continue
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


# ------------------------------------------------------------ required literals
# A second, independent filter: literal strings that must occur *somewhere* in the note for a
# pattern to match at all ('kleur' for '\b(?:zijn|haar|de) (?:huid)?kleur\b'). A note without
# one of them skips every attempt of that pattern, wherever its start matched. Exact for the
# same reason as the prefixes: it only skips attempts that cannot match.
GATE_MIN_LEN = 3  # shorter literals ('de', ' ') occur in nearly every note: no use as a gate
GATE_MAX_ALTERNATIVES = 12  # checking more substrings costs more than the regex attempt
GATE_CLAUSES = 2  # check at most this many independent requirements per pattern


def required_literals(regex: re.Pattern[str]) -> list[frozenset[str]]:
    """Requirements of a compiled pattern: each set holds literals of which every match
    contains at least one. Empty when nothing can be derived (case-insensitive patterns)."""
    if regex.flags & re.IGNORECASE:
        return []
    try:
        parsed = P.parse(regex.pattern, regex.flags)
    except re.error:
        return []
    return _required(list(parsed))


def _required(items: list) -> list[frozenset[str]]:
    reqs: list[frozenset[str]] = []
    run = ""
    for op, av in items:
        if op is C.LITERAL:
            run += chr(av)
            continue
        if op is C.AT:  # zero width: the literals on both sides are adjacent in the text
            continue
        if run:
            reqs.append(frozenset([run]))
            run = ""
        if op is C.SUBPATTERN:
            if not av[1] & re.IGNORECASE:  # (?i:...) matches other spellings
                reqs.extend(_required(list(av[-1])))
        elif op is C.ATOMIC_GROUP:
            reqs.extend(_required(list(av)))
        elif op is C.BRANCH:
            union: set[str] = set()
            for alt in av[1]:
                alt_reqs = _required(list(alt))
                if not alt_reqs:
                    break  # one alternative without a requirement: the branch has none
                union |= max(alt_reqs, key=_selectivity)
            else:
                reqs.append(frozenset(union))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[0] >= 1:
            reqs.extend(_required(list(av[2])))
        elif op is C.ASSERT:  # a positive look-around also reads text of the note
            reqs.extend(_required(list(av[1])))
        # anything else (classes, optional parts, negative look-arounds, group references)
        # requires no particular literal
    if run:
        reqs.append(frozenset([run]))
    return reqs


def _selectivity(req: frozenset[str]) -> tuple[int, int]:
    """Longer literals are rarer; fewer alternatives are cheaper to check."""
    return min(len(x) for x in req), -len(req)


def gate(regex: re.Pattern[str]) -> tuple[tuple[str, ...], ...]:
    """The requirements worth checking for one pattern, most selective first (may be empty)."""
    usable = [r for r in required_literals(regex)
              if len(r) <= GATE_MAX_ALTERNATIVES and min(len(x) for x in r) >= GATE_MIN_LEN]
    usable = sorted(set(usable), key=_selectivity, reverse=True)[:GATE_CLAUSES]
    return tuple(tuple(sorted(r, key=lambda x: (-len(x), x))) for r in usable)


def passes(gate_: tuple[tuple[str, ...], ...], text: str) -> bool:
    """Whether `text` contains at least one literal of every requirement in the gate."""
    for clause in gate_:
        for literal in clause:
            if literal in text:
                break
        else:
            return False
    return True
