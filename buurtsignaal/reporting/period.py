"""Report periods: a year, a half year, a quarter, a month, or a range of months (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MONTHS_NL = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


@dataclass(frozen=True)
class Period:
    """Whole months from `first` to `last` (both the first day of their month), inclusive."""

    code: str
    first: date
    last: date

    @property
    def months(self) -> list[date]:
        out, d = [], self.first
        while d <= self.last:
            out.append(d)
            d = date(d.year + d.month // 12, d.month % 12 + 1, 1)
        return out

    @property
    def end_exclusive(self) -> date:
        return date(self.last.year + self.last.month // 12, self.last.month % 12 + 1, 1)

    @property
    def label_nl(self) -> str:
        if self.first == self.last:
            return month_label(self.first)
        return f"{month_label(self.first)} t/m {month_label(self.last)}"


def month_label(d: date) -> str:
    return f"{MONTHS_NL[d.month - 1]} {d.year}"


def month_code(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


_FORMS = (
    (re.compile(r"^(\d{4})$"), lambda y: (date(int(y), 1, 1), date(int(y), 12, 1))),
    (re.compile(r"^(\d{4})-H([12])$"),
     lambda y, h: (date(int(y), 6 * int(h) - 5, 1), date(int(y), 6 * int(h), 1))),
    (re.compile(r"^(\d{4})-Q([1-4])$"),
     lambda y, q: (date(int(y), 3 * int(q) - 2, 1), date(int(y), 3 * int(q), 1))),
    (re.compile(r"^(\d{4})-(\d{2})$"), lambda y, m: (date(int(y), int(m), 1),) * 2),
)


def parse_period(text: str) -> Period:
    """`2026`, `2026-H2`, `2026-Q3`, `2026-07` or `2026-07..2026-09`; ValueError in Dutch otherwise."""
    code = text.strip().upper()
    try:
        if ".." in code:
            start, end = code.split("..", 1)
            first, last = parse_period(start).first, parse_period(end).last
        else:
            for pattern, build in _FORMS:
                match = pattern.match(code)
                if match:
                    first, last = build(*match.groups())
                    break
            else:
                raise ValueError
    except ValueError:
        raise ValueError(f"Onbekende periode '{text}': gebruik bijv. 2026, 2026-H2, 2026-Q3, "
                         "2026-07 of 2026-07..2026-09.") from None
    if last < first:
        raise ValueError(f"Periode '{text}' eindigt voor hij begint.")
    if (last.year - first.year) * 12 + last.month - first.month >= 36:
        raise ValueError("Een rapportage beslaat hooguit 36 maanden.")
    return Period(code=code.replace("..", "_"), first=first, last=last)
