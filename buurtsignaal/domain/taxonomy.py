"""The shared taxonomy (see docs: domain primer). Codes are Dutch and used everywhere."""

from __future__ import annotations

GROUNDS: tuple[str, ...] = (
    "herkomst",
    "huidskleur",
    "godsdienst",
    "levensovertuiging",
    "politieke_gezindheid",
    "geslacht",
    "seksuele_gerichtheid",
    "genderidentiteit",
    "handicap",
    "leeftijd",
    "nationaliteit",
    "burgerlijke_staat",
    "overig",
)

FORMS: tuple[str, ...] = (
    "verbaal",
    "bedreiging",
    "geweld",
    "vernieling",
    "bekladding",
    "uitsluiting",
    "pesterij",
    "overig",
)

AUTHOR_ROLES: tuple[str, ...] = ("huismeester", "wijkbeheerder", "woonconsulent", "overig")

# 0 none, 1 low, 2 medium, 3 high (threats of violence, violence, arson, weapons, children targeted)
SEVERITIES: tuple[int, ...] = (0, 1, 2, 3)

GROUND_LABELS_NL: dict[str, str] = {
    "herkomst": "herkomst",
    "huidskleur": "huidskleur",
    "godsdienst": "godsdienst",
    "levensovertuiging": "levensovertuiging",
    "politieke_gezindheid": "politieke gezindheid",
    "geslacht": "geslacht",
    "seksuele_gerichtheid": "seksuele gerichtheid",
    "genderidentiteit": "genderidentiteit",
    "handicap": "handicap of chronische ziekte",
    "leeftijd": "leeftijd",
    "nationaliteit": "nationaliteit",
    "burgerlijke_staat": "burgerlijke staat",
    "overig": "overig",
}

FORM_LABELS_NL: dict[str, str] = {
    "verbaal": "verbaal (schelden, beledigen)",
    "bedreiging": "bedreiging",
    "geweld": "geweld",
    "vernieling": "vernieling",
    "bekladding": "bekladding of symbolen",
    "uitsluiting": "uitsluiting",
    "pesterij": "pesterij of intimidatie",
    "overig": "overig",
}

SEVERITY_LABELS_NL: dict[int, str] = {0: "geen", 1: "laag", 2: "middel", 3: "hoog"}
