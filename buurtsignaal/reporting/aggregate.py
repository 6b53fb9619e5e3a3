"""From case facts to a protected report (pure; no I/O).

One fact per review case (a flagged note), plus the anonymous counts that retention keeps of
removed cases. A case counts in the month its incident happened (the note's `occurred_at`, Dutch
time), the same month retention keeps in `anonymous_statistics`.

Counting units: cases (one per flagged note) for month, severity, municipality and outcome;
registrations (one per case and ground, or case and form) for grounds and forms, because a case
can name several grounds; the ADV monitor counts grounds the same way.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from buurtsignaal.domain.cases import CONSENT_LABELS_NL, COORDINATOR_ACTIONS
from buurtsignaal.domain.taxonomy import FORMS, GROUND_LABELS_NL, GROUNDS, SEVERITY_LABELS_NL

from .period import Period, month_code, month_label
from .suppression import ProtectedTable, RawTable, protect

OUTCOMES: tuple[tuple[str, str], ...] = (
    ("open", "nog in beoordeling"),
    ("afgewezen", "afgewezen"),
    ("bevestigd", "bevestigd, niet geëscaleerd"),
    ("geescaleerd", "geëscaleerd naar gemeente"),
)
_OUTCOME_OF = {"nieuw": "open", "in_behandeling": "open", "meer_informatie_nodig": "open",
               "afgewezen": "afgewezen", "bevestigd": "bevestigd", "geescaleerd": "geescaleerd",
               "afgehandeld": "geescaleerd"}
FORM_LABELS_SHORT = {"verbaal": "verbaal", "bedreiging": "bedreiging", "geweld": "geweld",
                     "vernieling": "vernieling", "bekladding": "bekladding", "uitsluiting": "uitsluiting",
                     "pesterij": "pesterij", "overig": "overig"}


@dataclass(frozen=True)
class CaseFact:
    """What a report may know about one case: no note, household, address or free text."""

    month: date
    municipality: str
    grounds: tuple[str, ...]
    forms: tuple[str, ...]
    severity: int
    status: str
    consent: str | None = None  # None: an anonymised case (retention kept only the counts)
    created_at: datetime | None = None
    first_reviewed_at: datetime | None = None
    escalated_at: datetime | None = None
    coordinator_actions: tuple[str, ...] = ()
    anonymised: bool = False

    @property
    def outcome(self) -> str:
        return _OUTCOME_OF.get(self.status, "open")


@dataclass(frozen=True)
class Scope:
    """Who the report is about: one ADV region, or a set of municipalities."""

    code: str
    label: str
    municipalities: tuple[tuple[str, str], ...]  # (CBS code, name or code)


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    value: float | None  # None: based on fewer than k cases (the count itself is not published)
    unit: str


@dataclass
class Report:
    period: Period
    scope: Scope
    threshold: int
    generated_at: datetime
    tables: dict[str, ProtectedTable]
    indicators: list[Indicator]
    notes: list[str] = field(default_factory=list)


def _cross(key: str, title: str, row_dim: str, rows: Sequence[tuple[str, str]],
           facts: Iterable[CaseFact], row_of: Callable[[CaseFact], Iterable[str]],
           unit: str = "zaken") -> RawTable:
    index = {code: i for i, (code, _) in enumerate(rows)}
    cols = {code: j for j, (code, _) in enumerate(OUTCOMES)}
    cells = [[0] * len(OUTCOMES) for _ in rows]
    for fact in facts:
        for code in row_of(fact):
            if code in index:
                cells[index[code]][cols[fact.outcome]] += 1
    return RawTable(key, title, row_dim, "uitkomst", rows, OUTCOMES, cells, unit)


def _single(key: str, title: str, row_dim: str, rows: Sequence[tuple[str, str]],
            values: Iterable[str], unit: str) -> RawTable:
    index = {code: i for i, (code, _) in enumerate(rows)}
    cells = [[0] for _ in rows]
    for value in values:
        if value in index:
            cells[index[value]][0] += 1
    return RawTable(key, title, row_dim, "aantal", rows, (("aantal", "aantal"),), cells, unit)


def _hours(facts: Iterable[CaseFact], end: Callable[[CaseFact], datetime | None]) -> list[float]:
    out = []
    for f in facts:
        stop = end(f)
        if f.created_at is not None and stop is not None:
            out.append(max(0.0, (stop - f.created_at).total_seconds() / 3600))
    return out


def _indicators(facts: Sequence[CaseFact], k: int) -> list[Indicator]:
    out = []
    for key, label, end in (
        ("uren_tot_eerste_beoordeling", "tijd tot eerste beoordeling", lambda f: f.first_reviewed_at),
        ("uren_tot_escalatie", "tijd tot escalatie naar de gemeente", lambda f: f.escalated_at),
    ):
        hours = _hours(facts, end)
        enough = len(hours) >= k
        for stat, name in (("mediaan", statistics.median), ("p90", _p90)):
            out.append(Indicator(f"{key}_{stat}", f"{label} ({stat}, uren)",
                                 round(name(hours), 1) if enough else None, "uren"))
    return out


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def build_report(facts: Sequence[CaseFact], period: Period, scope: Scope, threshold: int,
                 generated_at: datetime) -> Report:
    """All tables and indicators of one report, every table protected (suppression.protect)."""
    in_scope = {code for code, _ in scope.municipalities}
    facts = [f for f in facts if period.first <= f.month <= period.last and f.municipality in in_scope]
    months = [(month_code(m), month_label(m)) for m in period.months]
    live = [f for f in facts if not f.anonymised]
    confirmed = [f for f in live if f.outcome in ("bevestigd", "geescaleerd")]
    raws = [
        _cross("maand", "Signalen per maand en uitkomst", "maand", months, facts,
               lambda f: [month_code(f.month)]),
        _cross("grond", "Discriminatiegronden en uitkomst", "grond",
               [(g, GROUND_LABELS_NL[g]) for g in GROUNDS], facts, lambda f: f.grounds, "registraties"),
        _cross("vorm", "Vormen en uitkomst", "vorm", [(v, FORM_LABELS_SHORT[v]) for v in FORMS], facts,
               lambda f: f.forms, "registraties"),
        _cross("ernst", "Ernst en uitkomst", "ernst",
               [(str(s), SEVERITY_LABELS_NL[s]) for s in (1, 2, 3, 0)], facts,
               lambda f: [str(f.severity)]),
        _cross("gemeente", "Gemeenten en uitkomst", "gemeente", list(scope.municipalities), facts,
               lambda f: [f.municipality]),
        _single("toestemming", "Toestemming van de bewoner bij bevestigde zaken", "toestemming",
                list(CONSENT_LABELS_NL.items()), (f.consent or "onbekend" for f in confirmed),
                "zaken"),
        _single("actie_gemeente", "Wat de gemeente deed bij afgehandelde escalaties", "actie",
                list(COORDINATOR_ACTIONS.items()),
                (a for f in live if f.status == "afgehandeld" for a in f.coordinator_actions),
                "registraties"),
    ]
    tables = {raw.key: protect(raw, threshold) for raw in raws}
    notes = [
        f"Aantallen kleiner dan {threshold} worden niet gepubliceerd: ze zijn samengevoegd of "
        "onderdrukt, ook waar ze uit totalen terug te rekenen zouden zijn.",
        "Een zaak telt in de maand van het voorval. Een zaak kan meer gronden en vormen hebben: "
        "die tabellen tellen registraties (zaak × grond), hun totaal is dus groter dan het aantal zaken.",
    ]
    anonymised = sum(f.anonymised for f in facts)
    if anonymised:
        notes.append("Zaken die na de bewaartermijn zijn verwijderd, tellen mee in de aantallen, "
                     "maar niet in toestemming, doorlooptijden en acties van de gemeente.")
    return Report(period, scope, threshold, generated_at, tables, _indicators(live, threshold), notes)


def consent_share(report: Report) -> tuple[float, int] | None:
    """Share of confirmed cases with consent 'gegeven', from published numbers only."""
    table = report.tables["toestemming"]
    if table.withheld or not table.total:
        return None
    for category, row in zip(table.rows, table.cells, strict=True):
        if category.codes == ("gegeven",) and row[0] is not None:
            return row[0] / table.total, table.total
    return None
