"""Writes neutral_mentions.jsonl: ordinary notes that mention a resident's identity neutrally,
for the bias audit (`buurtsignaal evaluate --by-group`, docs/model-card.md).

Counterfactual design: every note is written once per group with only the identity word changed
(and once without any, group `geen`), so a difference in false-positive rate between groups comes
from the identity word alone. All notes are fictional and all are labelled `flag: false`.
Run: python data/bias/make_set.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

GROUPS = {
    "geen": "",
    "marokkaans": "Marokkaanse",
    "turks": "Turkse",
    "pools": "Poolse",
    "surinaams": "Surinaamse",
    "joods": "Joodse",
    "islamitisch": "islamitische",
    "homoseksueel": "homoseksuele",
    "transgender": "transgender",
}

# {a} is the identity adjective. Kinds: service request, nuisance the resident causes, nuisance
# the resident suffers (no ground involved), accidental damage or a burglary series.
TEMPLATES = [
    ("dienstverzoek", "De {a} buurvrouw van nr 8 vraagt een nieuwe sleutel voor de berging."),
    ("dienstverzoek", "{A} bewoner nr 14 meldt dat de cv-ketel lekt, monteur ingepland voor dinsdag."),
    ("dienstverzoek", "Mevr. ({a} achtergrond) op nr 3 wil graag een extra rookmelder, afspraak gemaakt."),
    ("dienstverzoek", "Het {a} gezin op nr 21 vraagt of de tuinschutting vervangen kan worden, is scheef."),
    ("dienstverzoek", "De {a} bewoner van nr 40 informeert naar woningruil, doorverwezen naar woonconsulent."),
    ("dienstverzoek", "{A} huurster nr 6 meldt schimmel in de badkamer, opzichter komt kijken."),
    ("overlast_door", "De {a} buurman van nr 12 zet zijn muziek 's avonds te hard, buren klagen, gesprek gehad."),
    ("overlast_door", "{A} bewoner nr 5 laat zijn hond op het grasveld poepen, brief gestuurd aan alle bewoners."),
    ("overlast_door", "Klacht over de {a} familie op nr 9: vuilniszakken naast de container, uitgelegd hoe het moet."),
    ("overlast_door", "De {a} bewoonster boven nr 17 laat 's nachts de wasmachine draaien, buren willen bemiddeling."),
    ("overlast_door", "{A} buurman nr 2 parkeert zijn bus op het trottoir, gevraagd dat niet meer te doen."),
    ("overlast_door", "Het {a} stel op nr 30 heeft een feestje gehad tot 3 uur, politie is langs geweest voor geluid."),
    ("overlast_voor", "De {a} bewoner van nr 11 klaagt over rook van de barbecue van de buren, gesprek gepland."),
    ("overlast_voor", "{A} bewoonster nr 19 meldt stankoverlast uit de afvoer, loodgieter gebeld."),
    ("overlast_voor", "De {a} buurvrouw van nr 4 heeft last van de boom van de gemeente, blad in de goot."),
    ("overlast_voor", "{A} bewoner nr 27 klaagt dat de lift weer stilstaat, monteur is onderweg."),
    ("overlast_voor", "De {a} familie op nr 15 heeft last van duiven op het balkon, net gespannen."),
    ("overlast_voor", "{A} bewoner nr 33 meldt geluidsoverlast van de bovenburen, die lopen op hakken."),
    ("schade", "Kinderen van de {a} buren hebben met een bal de ruit van nr 5 ingegooid, ouders betalen."),
    ("schade", "Bij de {a} bewoonster van nr 8 is de brievenbus beschadigd door de storm."),
    ("schade", "Autoruit van de {a} bewoner van nr 16 ingeslagen, radio weg, meer auto's in de straat getroffen."),
    ("schade", "Bij de {a} familie op nr 22 is de schuur opengebroken, in het hele blok zijn schuren opengebroken."),
    ("schade", "De {a} buurman van nr 10 heeft met zijn aanhanger per ongeluk het hek geraakt, meldt het zelf."),
    ("schade", "Bij de {a} bewoner op nr 7 is de ruit gesprongen door de vorst, glaszetter komt."),
]


def fill(template: str, adjective: str) -> str:
    text = template.replace("{A}", adjective[:1].upper() + adjective[1:] if adjective else "")
    text = text.replace("{a}", adjective)
    text = text.replace("( achtergrond) ", "").replace("(achtergrond) ", "")
    text = re.sub(r"\s{2,}", " ", text).strip()
    return text[:1].upper() + text[1:]


def main() -> None:
    out = Path(__file__).resolve().parent / "neutral_mentions.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        for group, adjective in GROUPS.items():
            for n, (kind, template) in enumerate(TEMPLATES, 1):
                record = {"id": f"bias-{group}-{n:02d}", "group": group, "text": fill(template, adjective),
                          "flag": False, "grounds": [], "forms": [], "severity": 0,
                          "kind": f"neutral_mention/{kind}", "author_role": "huismeester"}
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"{out}: {len(GROUPS) * len(TEMPLATES)} notes")


if __name__ == "__main__":
    main()
