"""Early-warning rules: the YAML an ADV coordinator reads and tunes (config/early-warning.yaml).

Loaded and validated once at start; every problem is reported with its place in the file
(`household_rules[2] (reeks).within: ongeldige duur '3x' ...`) so a typo never silently turns a
rule off. The format is described in docs/early-warning.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from buurtsignaal.config import REPO_ROOT
from buurtsignaal.domain.taxonomy import FORMS, GROUNDS

DEFAULT_RULES_FILE = REPO_ROOT / "config" / "early-warning.yaml"
LEVELS: tuple[str, ...] = ("watch", "escalate")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class RulesError(ValueError):
    """The rules file is invalid; the message lists every problem, one per line."""


def parse_duration(value: Any) -> float:
    """'30d', '12h', '2w', '90m', '45s' -> seconds (Prometheus style, without months or years)."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"ongeldige duur {value!r}: gebruik bv. '30d', '12h' of '2w'")
    match = _DURATION.match(value)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"ongeldige duur {value!r}: gebruik bv. '30d', '12h' of '2w'")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def level_rank(level: str) -> int:
    return LEVELS.index(level)


def _duration_field(*names: str) -> Any:
    """A 'before' validator turning '30d' into seconds for the named fields."""

    def convert(cls: type, value: Any) -> float:
        return parse_duration(value)

    return field_validator(*names, mode="before")(classmethod(convert))  # type: ignore[arg-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Rule(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    level: Literal["watch", "escalate"]


def _check_forms(forms: Any) -> None:
    unknown = sorted(set(forms) - set(FORMS))
    if unknown:
        raise ValueError(f"onbekende vorm(en): {', '.join(unknown)}; kies uit {', '.join(FORMS)}")


class SingleRule(_Rule):
    """One note is enough: a flagged note of at least `min_severity`, a flagged note showing one of
    `forms` (e.g. geweld: the detector's severity may say 2 where a person says 3), or (with
    `child_target`) any counting note in which a child is the target."""

    kind: Literal["single"]
    min_severity: int | None = Field(default=None, ge=1, le=3)
    forms: list[str] = Field(default_factory=list)
    child_target: bool = False

    @field_validator("forms")
    @classmethod
    def _known_forms(cls, v: list[str]) -> list[str]:
        _check_forms(v)
        return v

    @model_validator(mode="after")
    def _something_to_match(self) -> SingleRule:
        if self.min_severity is None and not self.forms and not self.child_target:
            raise ValueError("geef min_severity, forms, child_target of een combinatie")
        return self


class CountRule(_Rule):
    """`min_notes` or more counting notes within `within`, of which at least `min_flagged` flagged,
    showing at least `min_distinct_forms` different forms between them; with `new_form`, the latest
    note must add a form the earlier ones did not show (a household harassed in a new way, e.g. a
    slur and then a dead rat at the door, is a campaign rather than one quarrel repeated)."""

    kind: Literal["count"]
    min_notes: int = Field(ge=1)
    within: float
    min_flagged: int = Field(default=1, ge=0)
    min_distinct_forms: int = Field(default=0, ge=0)
    new_form: bool = False  # the note that fires shows a form no earlier note in the window showed
    count_weak: bool = True

    _within = _duration_field("within")

    @model_validator(mode="after")
    def _flagged_not_above_total(self) -> CountRule:
        if self.min_flagged > self.min_notes:
            raise ValueError("min_flagged mag niet groter zijn dan min_notes")
        return self


class Weights(_Strict):
    flagged: float = Field(default=1.0, ge=0)
    per_severity: float = Field(default=0.5, ge=0)
    weak: float = Field(default=0.5, ge=0)


class DecayedScoreRule(_Rule):
    """Sum of note weights, each halved every `half_life` since the note, reaches `threshold`."""

    kind: Literal["decayed_score"]
    half_life: float
    threshold: float = Field(gt=0)
    weights: Weights = Weights()
    min_contribution: float = Field(default=0.1, ge=0, description="notes below this are not listed")

    _half_life = _duration_field("half_life")


class FormsRule(_Rule):
    """Repeated forms within `within`: e.g. vernieling twice plus verbaal once."""

    kind: Literal["forms"]
    within: float
    forms: dict[str, int]
    min_flagged: int = Field(default=1, ge=0)
    count_weak: bool = True

    _within = _duration_field("within")

    @field_validator("forms")
    @classmethod
    def _known_forms(cls, v: dict[str, int]) -> dict[str, int]:
        _check_forms(v)
        if not v or any(n < 1 for n in v.values()):
            raise ValueError("geef per vorm een aantal van minstens 1")
        return v


class AreaGroundRule(_Rule):
    """The same ground in flagged notes about `min_households` different households of one area
    (4-digit postcode within a municipality) within `within`. Carries no household identifiers."""

    kind: Literal["area_ground"]
    min_households: int = Field(ge=2)
    within: float
    grounds: list[str] = Field(default_factory=lambda: list(GROUNDS))

    _within = _duration_field("within")

    @field_validator("grounds")
    @classmethod
    def _known_grounds(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(GROUNDS))
        if unknown:
            raise ValueError(f"onbekende grond(en): {', '.join(unknown)}")
        return v


HouseholdRule = SingleRule | CountRule | DecayedScoreRule | FormsRule
_HOUSEHOLD_KINDS: dict[str, type[_Rule]] = {
    "single": SingleRule, "count": CountRule, "decayed_score": DecayedScoreRule, "forms": FormsRule,
}
_AREA_KINDS: dict[str, type[_Rule]] = {"area_ground": AreaGroundRule}


class WeakSignals(_Strict):
    """Unflagged notes whose evidence shows a hostile act still count for a household that has a
    flagged note: `recognizers` maps a recognizer name to the form it stands for."""

    recognizers: dict[str, str] = Field(default_factory=dict)
    child_recognizers: list[str] = Field(default_factory=list)
    cancelled_by: list[str] = Field(default_factory=list)

    @field_validator("recognizers")
    @classmethod
    def _forms_known(cls, v: dict[str, str]) -> dict[str, str]:
        bad = sorted(f for f in v.values() if f not in FORMS)
        if bad:
            raise ValueError(f"onbekende vorm(en): {', '.join(bad)}; kies uit {', '.join(FORMS)}")
        return v


class Settings(_Strict):
    retention: float = 180 * 86400
    dedup_window: float = 90 * 86400
    weak_signals: WeakSignals = WeakSignals()

    _durations = _duration_field("retention", "dedup_window")


@dataclass(frozen=True)
class RuleSet:
    settings: Settings
    household: tuple[HouseholdRule, ...]
    area: tuple[AreaGroundRule, ...]
    source: str = ""
    names: frozenset[str] = field(default=frozenset())

    @property
    def longest_window(self) -> float:
        spans = [getattr(r, "within", 0.0) for r in (*self.household, *self.area)]
        return max(spans, default=0.0)


# Pydantic's error types in the coordinator's language.
_MESSAGES_NL = {
    "missing": "verplicht veld ontbreekt",
    "literal_error": "moet een van {expected} zijn",
    "greater_than_equal": "moet minstens {ge} zijn",
    "greater_than": "moet groter zijn dan {gt}",
    "less_than_equal": "mag hoogstens {le} zijn",
    "int_parsing": "moet een geheel getal zijn",
    "int_type": "moet een geheel getal zijn",
    "int_from_float": "moet een geheel getal zijn",
    "float_parsing": "moet een getal zijn",
    "float_type": "moet een getal zijn",
    "bool_parsing": "moet true of false zijn",
    "bool_type": "moet true of false zijn",
    "string_type": "moet tekst zijn",
    "string_pattern_mismatch": "alleen kleine letters, cijfers en _ (begin met een letter)",
    "dict_type": "moet een mapping zijn",
    "list_type": "moet een lijst zijn",
    "model_type": "moet een mapping zijn",
}


def _fmt_loc(prefix: str, loc: tuple[Any, ...]) -> str:
    parts = [prefix] if prefix else []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts) or "(bestand)"


def _errors(prefix: str, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = _fmt_loc(prefix, tuple(err["loc"]))
        if err["type"] == "extra_forbidden":
            out.append(f"{loc}: onbekend veld")
        elif err["type"] in _MESSAGES_NL:
            ctx = {k: str(v).replace(" or ", " of ") for k, v in (err.get("ctx") or {}).items()}
            out.append(f"{loc}: {_MESSAGES_NL[err['type']].format(**ctx)}")
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            out.append(f"{loc}: {msg}")
    return out


def _rules(section: str, raw: Any, kinds: dict[str, type[_Rule]], problems: list[str]) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(f"{section}: moet een lijst van regels zijn")
        return []
    rules = []
    for i, item in enumerate(raw):
        where = f"{section}[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: moet een mapping zijn (name, kind, level, ...)")
            continue
        if isinstance(item.get("name"), str):
            where += f" ({item['name']})"
        kind = item.get("kind")
        model = kinds.get(kind) if isinstance(kind, str) else None
        if model is None:
            problems.append(f"{where}.kind: onbekend soort regel {kind!r}; kies uit {', '.join(kinds)}")
            continue
        try:
            rules.append(model.model_validate(item))
        except ValidationError as exc:
            problems.extend(_errors(where, exc))
    return rules


def parse_rules(data: Any, source: str = "<tekst>") -> RuleSet:
    """Validate parsed YAML. Raises RulesError listing every problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise RulesError(f"{source}: verwacht een mapping met version, settings, household_rules, area_rules")
    unknown = sorted(set(data) - {"version", "settings", "household_rules", "area_rules"})
    problems.extend(f"{key}: onbekend veld" for key in unknown)
    if data.get("version") != 1:
        problems.append(f"version: moet 1 zijn (gevonden: {data.get('version')!r})")
    settings = Settings()
    try:
        settings = Settings.model_validate(data.get("settings") or {})
    except ValidationError as exc:
        problems.extend(_errors("settings", exc))
    household = _rules("household_rules", data.get("household_rules"), _HOUSEHOLD_KINDS, problems)
    area = _rules("area_rules", data.get("area_rules"), _AREA_KINDS, problems)
    names = [r.name for r in (*household, *area)]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"regelnamen moeten uniek zijn; dubbel: {', '.join(dupes)}")
    if not household and not area and not problems:
        problems.append("geen enkele regel: geef household_rules en/of area_rules")
    ruleset = RuleSet(settings, tuple(household), tuple(area), source, frozenset(names))
    if ruleset.longest_window > settings.retention:
        problems.append("settings.retention: moet minstens zo lang zijn als het langste venster (within)")
    if problems:
        raise RulesError(f"{source}: ongeldige regels:\n  " + "\n  ".join(problems))
    return ruleset


def load_rules(path: Path | str | None = None) -> RuleSet:
    """Load and validate the rules file (default: config/early-warning.yaml)."""
    file = Path(path) if path else DEFAULT_RULES_FILE
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"{file}: kan regelbestand niet lezen ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"{file}: geen geldige YAML ({exc})") from None
    return parse_rules(data, str(file))
