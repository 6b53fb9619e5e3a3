"""Check a corpus JSONL file against the brief: keys, codes, consistency, duplicates, balance.

Usage: .venv/bin/python data/corpus/validate.py data/corpus/train-a.jsonl [...]
"""

from __future__ import annotations

import json
import sys
from collections import Counter

GROUNDS = {
    "herkomst", "huidskleur", "godsdienst", "levensovertuiging", "politieke_gezindheid",
    "geslacht", "seksuele_gerichtheid", "genderidentiteit", "handicap", "leeftijd",
    "nationaliteit", "burgerlijke_staat", "overig",
}
FORMS = {"verbaal", "bedreiging", "geweld", "vernieling", "bekladding", "uitsluiting", "pesterij", "overig"}
ROLES = {"huismeester", "wijkbeheerder", "woonconsulent", "overig"}
KEYS = {"id", "text", "flag", "grounds", "forms", "severity", "kind", "author_role"}


def check(path: str) -> int:
    problems = 0
    ids: set[str] = set()
    texts: set[str] = set()
    pos = 0
    grounds: Counter[str] = Counter()
    forms: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    n = 0
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            n += 1
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{path}:{lineno}: invalid JSON: {exc}")
                problems += 1
                continue
            errs = []
            if set(rec) != KEYS:
                errs.append(f"keys {sorted(set(rec) ^ KEYS)} wrong")
            if rec.get("id") in ids:
                errs.append("duplicate id")
            ids.add(rec.get("id"))
            norm = " ".join(str(rec.get("text", "")).lower().split())
            if norm in texts:
                errs.append("duplicate text")
            texts.add(norm)
            flag = rec.get("flag")
            if not isinstance(flag, bool):
                errs.append("flag not bool")
            g = rec.get("grounds", [])
            f = rec.get("forms", [])
            if not set(g) <= GROUNDS:
                errs.append(f"unknown grounds {set(g) - GROUNDS}")
            if not set(f) <= FORMS:
                errs.append(f"unknown forms {set(f) - FORMS}")
            sev = rec.get("severity")
            if sev not in (0, 1, 2, 3):
                errs.append("severity not 0-3")
            if flag is True and (not g or not f or sev == 0):
                errs.append("positive needs grounds, forms and severity>=1")
            if flag is False and (g or f or sev != 0):
                errs.append("negative must have no grounds/forms and severity 0")
            if rec.get("author_role") not in ROLES:
                errs.append("bad author_role")
            for e in errs:
                print(f"{path}:{lineno}: {e}")
            problems += len(errs)
            if flag:
                pos += 1
                grounds.update(g)
                forms.update(f)
            kinds[rec.get("kind")] += 1
    print(f"{path}: {n} notes, {pos} positive ({pos / max(n, 1):.0%}), {problems} problems")
    print("  grounds:", dict(sorted(grounds.items(), key=lambda kv: -kv[1])))
    print("  forms:  ", dict(sorted(forms.items(), key=lambda kv: -kv[1])))
    print("  kinds:  ", dict(sorted(kinds.items(), key=lambda kv: -kv[1])))
    return problems


if __name__ == "__main__":
    total = sum(check(p) for p in sys.argv[1:])
    sys.exit(1 if total else 0)
