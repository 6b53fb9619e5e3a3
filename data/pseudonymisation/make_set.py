"""Writes notes.jsonl: fictional caretaker notes with planted identifiers, each labelled with its
character span and type. Deterministic (seeded), so the set is reproducible and reviewable.

Half of the person names are deliberately NOT in the pseudonymiser's lexicon
(buurtsignaal/privacy/lexicon.py), and several appear without a title or relation word, so the
measured recall is not flattered by the lists the pseudonymiser was built from.

Run: .venv/bin/python data/pseudonymisation/make_set.py
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

OUT = Path(__file__).resolve().parent / "notes.jsonl"
SEED = 20261120
N_GENERATED = 400

# (first name, surname); "known" ones are in the lexicon, "held out" ones are not.
KNOWN_PEOPLE = [
    ("Fatima", "Yilmaz"), ("Mehmet", "Demir"), ("Kees", "Bakker"), ("Samira", "Amrani"),
    ("Kwame", "Mensah"), ("Agnieszka", "Kowalski"), ("Hamid", "Rahimi"), ("Henk", "Visser"),
    ("Aisha", "Haile"), ("Piotr", "Nowak"), ("Rachid", "Bouzid"), ("Anneke", "Dijkstra"),
    ("Yusuf", "Kaya"), ("Grace", "Boateng"), ("Ramon", "Lachman"), ("Ioana", "Popescu"),
]
HELD_OUT_PEOPLE = [
    ("Hanneke", "Schreuder"), ("Driss", "Belhaj"), ("Tülay", "Ersoy"), ("Godfried", "Nijboer"),
    ("Wendelien", "Oosterhuis"), ("Abdelilah", "Ouchan"), ("Jozef", "Krawczyk"),
    ("Marjolein", "Terpstra"), ("Efosa", "Igbinedion"), ("Sanjay", "Ramsaran"),
    ("Ludmila", "Petrova"), ("Berend", "Hofstede"), ("Nazira", "Sadat"), ("Gerjan", "Wolters"),
    ("Latoya", "Doelwijt"), ("Ilir", "Berisha"),
]
TITLES_F = ["mevr.", "Mevr.", "mw.", "mevrouw"]
TITLES_M = ["dhr.", "Dhr.", "de heer", "meneer"]
RELATIONS = ["buurman", "buurvrouw", "zoon", "dochter", "bewoner", "bovenbuurman"]

STREETS = [
    "Kerkstraat", "Turfstekerstraat", "Hunebedpad", "Zwerfsteenlaan", "Oudegracht",
    "Burgemeester de Withstraat", "Van Goghstraat", "Prinses Irenelaan", "Schapendriftstraat",
    "Lijnbaan", "Coolsingel", "Stationsweg", "Marktplein", "Vondelkade", "Wilhelminasingel",
    "Anne Frankstraat", "Laan van Meerdervoort", "Kastanjedreef", "Molenhof", "Dorpsstraat",
]
CITIES = ["Utrecht", "Emmen", "Assen", "Alkmaar", "Hoogeveen", "Den Helder", "Amersfoort", "Zeist"]
IDENTITY = [
    ("de Marokkaanse buurvrouw", ["Marokkaanse"]), ("de moslima van nr. 4", ["moslima"]),
    ("de Turkse familie", ["Turkse"]), ("het homostel", []), ("de Surinaamse mevrouw", ["Surinaamse"]),
    ("de Poolse arbeidsmigranten", ["Poolse"]), ("de Joodse bewoner", ["Joodse"]),
    ("het Eritrese gezin", ["Eritrese"]), ("de zwarte jongen", ["zwarte"]),
    ("de Syrische vluchtelingen", ["Syrische"]), ("de Antilliaanse buurman", ["Antilliaanse"]),
]

# Templates: {P} person, {A} street address, {PC} postcode(+number), {T} phone, {E} e-mail,
# {K} license plate, {I} identity phrase, {C} city (not an identifier), {N} a house number only.
TEMPLATES = [
    "{P} ({A}, {C}) belt ivm lekkage badkamer, water loopt via plafond. terugbellen op {T}.",
    "bew. {A} weer uitgescholden door {I}, 'rot op naar je eigen land'. gesprek met {P} ingepland.",
    "Melding van {P}: auto met kenteken {K} staat al weken op invalidenplek voor {A}.",
    "{I} op {A} meldt dat haar voordeur is beklad met hakenkruis. Contact: {E} / {T}.",
    "Gesprek gevoerd met {P} en {P2} over geluidsoverlast, beide hebben excuses aangeboden.",
    "Huisbezoek {PC}. {P} vertelt dat {I} wordt nageroepen door jongeren uit de buurt.",
    "{P} heeft gebeld ({T}), zegt dat de buren van nr. {N} telkens het afval bij haar deur zetten.",
    "Band lek gestoken van scooter van {P}, kenteken {K}, wederom bij {A}. Politie ingelicht.",
    "Mail ontvangen van {E}: klacht over {I} en honden die blaffen. Doorgezet naar woonconsulent.",
    "Brief in de bus bij {P} ({A}): 'wij willen hier geen {W}'. Foto gemaakt, zie dossier.",
    "{P} (tel. {T}) wil verhuizen vanwege pesterijen sinds {I} er woont; zoekt ander adres dan {A}.",
    "Afspraak met {P} op {PC} i.v.m. schimmel. Zoon tolkt, bereikbaar via {E}.",
    "Volgens {P} heeft {P2} gisteren gespuugd naar {I} bij de galerij van {A}.",
    "Bewoners {A} klagen over busje {K} dat stationair draait. {P} aangesproken.",
    "Nieuwe huurder {P} ingeschreven op {A}, {PC}. Telefoon {T}, mail {E}.",
    "{I} durft niet meer naar buiten. {P} van de overkant bevestigt het schelden.",
    "Terugbelverzoek {P}, {T}. Betreft overlast {A} (bovenwoning).",
    "Opnieuw graffiti 'ga terug naar je land' op gevel {A}. {P} heeft camerabeelden, auto {K}.",
    "Buurtbemiddeling voorgesteld aan {P} en {P2}; {P} wil eerst met {I} praten.",
    "{P} meldt dat {P2} haar dochter uitschold. Contact via {E} of {T}.",
]
SLURS = ["moslims", "buitenlanders", "homo's", "Polen", "zwarten"]


def _phone(rng: random.Random) -> str:
    d = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))  # noqa: E731
    return rng.choice([
        f"06-{rng.randint(1, 9)}{d(7)}", f"06 {rng.randint(1, 9)}{d(7)}", f"06{rng.randint(1, 9)}{d(7)}",
        f"06 {rng.randint(1, 9)}{d(1)} {d(2)} {d(2)} {d(2)}", f"+31 6 {rng.randint(1, 9)}{d(7)}",
        f"+316{rng.randint(1, 9)}{d(7)}", f"010-{rng.randint(1, 9)}{d(6)}",
        f"0592-{rng.randint(1, 9)}{d(5)}", f"030 {rng.randint(1, 9)}{d(2)} {d(2)} {d(2)}",
        f"+31 (0)20 {rng.randint(1, 9)}{d(6)}", f"0031 72 {rng.randint(1, 9)}{d(6)}",
    ])


def _plate(rng: random.Random) -> str:
    L = lambda n: "".join(rng.choice("BDFGHJKLNPRSTVXZ") for _ in range(n))  # noqa: E731
    D = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))  # noqa: E731
    return rng.choice([
        f"{L(2)}-{D(2)}-{D(2)}", f"{D(2)}-{D(2)}-{L(2)}", f"{D(2)}-{L(2)}-{D(2)}", f"{L(2)}-{D(2)}-{L(2)}",
        f"{L(2)}-{L(2)}-{D(2)}", f"{D(2)}-{L(2)}-{L(2)}", f"{D(2)}-{L(3)}-{D(1)}", f"{D(1)}-{L(3)}-{D(2)}",
        f"{L(2)}-{D(3)}-{L(1)}", f"{L(1)}-{D(3)}-{L(2)}", f"{L(3)}-{D(2)}-{L(1)}", f"{L(1)}-{D(2)}-{L(3)}",
        f"{D(1)}-{L(2)}-{D(3)}", f"{D(3)}-{L(2)}-{D(1)}",
    ])


def _postcode(rng: random.Random) -> str:
    pc = f"{rng.randint(1000, 9999)}{rng.choice([' ', ''])}{rng.choice('ABCDEGHJKLNPRT')}" \
         f"{rng.choice('ABCDEGHJKLNPRT')}"
    return pc + rng.choice(["", f" {rng.randint(1, 250)}", f", nr. {rng.randint(1, 250)}"])


def _address(rng: random.Random) -> str:
    street = rng.choice(STREETS)
    number = rng.choice([f" {rng.randint(1, 300)}", f" {rng.randint(1, 300)}a",
                         f" {rng.randint(1, 300)}-B", f" nr. {rng.randint(1, 300)}", ""])
    return street + number


def _email(rng: random.Random, person: tuple[str, str]) -> str:
    first, last = (x.lower().replace("ü", "u") for x in person)
    return rng.choice([f"{first}.{last}@gmail.com", f"{first[0]}.{last}@hotmail.nl",
                       f"{last}{rng.randint(1, 99)}@ziggo.nl", f"info@{last}-klussen.nl"])


def _person(rng: random.Random, people: list[tuple[str, str]]) -> tuple[str, int, int]:
    """A person mention, and the (start, end) of the name inside it (titles are not labelled)."""
    first, last = rng.choice(people)
    form = rng.randrange(7)
    if form == 0:
        prefix = rng.choice(TITLES_F + TITLES_M) + " "
        name = last
    elif form == 1:
        prefix, name = "", f"{first} {last}"
    elif form == 2:
        prefix, name = rng.choice(RELATIONS) + " ", first
    elif form == 3:
        prefix, name = "", f"{first[0]}. {last}"
    elif form == 4:
        prefix, name = rng.choice(TITLES_F + TITLES_M) + " ", f"{first[0]}. {last}"
    elif form == 5:
        prefix, name = "", first  # bare first name: the hard case
    else:
        prefix, name = "fam. ", last
    return prefix + name, len(prefix), len(prefix) + len(name)


def generate(rng: random.Random, n: int) -> list[dict]:
    notes = []
    for i in range(n):
        template = rng.choice(TEMPLATES)
        people = KNOWN_PEOPLE if rng.random() < 0.5 else HELD_OUT_PEOPLE
        parts: list[str] = []
        entities: list[dict] = []
        identity_terms: list[str] = []
        pos = 0
        for piece in re.split(r"(\{[A-Z0-9]+\})", template):
            if not piece:
                continue
            slot = piece[1:-1] if piece.startswith("{") else None
            start = sum(len(p) for p in parts)
            if slot in ("P", "P2"):
                text, s, e = _person(rng, people)
                entities.append({"start": start + s, "end": start + e, "type": "PERSOON",
                                 "value": text[s:e]})
            elif slot == "A":
                text = _address(rng)
                entities.append({"start": start, "end": start + len(text), "type": "ADRES",
                                 "value": text})
            elif slot == "PC":
                text = _postcode(rng)
                entities.append({"start": start, "end": start + len(text), "type": "ADRES",
                                 "value": text})
            elif slot == "T":
                text = _phone(rng)
                entities.append({"start": start, "end": start + len(text), "type": "TELEFOON",
                                 "value": text})
            elif slot == "E":
                text = _email(rng, rng.choice(people))
                entities.append({"start": start, "end": start + len(text), "type": "EMAIL",
                                 "value": text})
            elif slot == "K":
                text = _plate(rng)
                entities.append({"start": start, "end": start + len(text), "type": "KENTEKEN",
                                 "value": text})
            elif slot == "I":
                text, terms = rng.choice(IDENTITY)
                identity_terms += terms
            elif slot == "C":
                text = rng.choice(CITIES)
            elif slot == "N":
                text = str(rng.randint(1, 200))
            elif slot == "W":
                text = rng.choice(SLURS)
                identity_terms.append(text)
            else:
                text = piece
            parts.append(text)
            pos += len(text)
        full = "".join(parts)
        for ent in entities:
            assert full[ent["start"]:ent["end"]] == ent["value"], ent
        notes.append({"id": f"ps-{i + 1:04d}", "text": full, "entities": entities,
                      "identity_terms": identity_terms,
                      "names_in_lexicon": people is KNOWN_PEOPLE})
    return notes


def main() -> None:
    notes = generate(random.Random(SEED), N_GENERATED)
    with OUT.open("w", encoding="utf-8") as f:
        for note in notes:
            f.write(json.dumps(note, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for note in notes:
        for ent in note["entities"]:
            counts[ent["type"]] = counts.get(ent["type"], 0) + 1
    print(f"wrote {len(notes)} notes to {OUT}: {counts}")


if __name__ == "__main__":
    main()
