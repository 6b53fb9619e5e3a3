"""Recall of the pseudonymiser per identifier type on the labelled set, identity terms kept, and
throughput in notes per second on one core.

    .venv/bin/python bench/measure_pseudonymisation.py [--backend builtin|deduce] [--json]

An identifier counts as removed when every character of it lies inside a placeholder (of any
type); "typed" also requires the right type. The labelled set is data/pseudonymisation/notes.jsonl
(regenerate with data/pseudonymisation/make_set.py). Numbers go to docs/privacy.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from buurtsignaal.privacy.pseudonymise import KINDS, Finding, get_pseudonymiser  # noqa: E402

SET = ROOT / "data" / "pseudonymisation" / "notes.jsonl"
CORPUS = ROOT / "data" / "corpus" / "dev.jsonl"


def covered(entity: dict, findings: list[Finding]) -> Finding | None:
    """The finding(s) covering the whole entity; returns the first one, or None."""
    chars = set(range(entity["start"], entity["end"]))
    hit = None
    for f in findings:
        overlap = chars & set(range(f.start, f.end))
        if overlap:
            hit = hit or f
            chars -= overlap
    return hit if not chars else None


def measure(backend: str) -> dict:
    notes = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line]
    pseudonymiser = get_pseudonymiser(backend)
    stats = {k: {"total": 0, "removed": 0, "typed": 0} for k in KINDS}
    persons = {"in_lexicon": [0, 0], "held_out": [0, 0]}
    identity_total = identity_kept = 0
    over_chars = plain_chars = 0
    misses: list[str] = []
    for note in notes:
        text = note["text"]
        findings = pseudonymiser.find(text)
        labelled = set()
        for ent in note["entities"]:
            labelled |= set(range(ent["start"], ent["end"]))
            s = stats[ent["type"]]
            s["total"] += 1
            hit = covered(ent, findings)
            if hit:
                s["removed"] += 1
                s["typed"] += hit.kind == ent["type"]
            elif len(misses) < 25:
                misses.append(f"{ent['type']}: {ent['value']!r} in {note['id']}")
            if ent["type"] == "PERSOON":
                bucket = persons["in_lexicon" if note["names_in_lexicon"] else "held_out"]
                bucket[0] += 1
                bucket[1] += bool(hit)
        out = pseudonymiser.pseudonymise(text).text
        for term in note["identity_terms"]:
            identity_total += 1
            identity_kept += term in out
        replaced = set().union(*(set(range(f.start, f.end)) for f in findings)) if findings else set()
        plain = set(range(len(text))) - labelled
        plain_chars += len(plain)
        over_chars += len(plain & replaced)

    texts = [n["text"] for n in notes]
    if CORPUS.exists():
        texts += [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    rounds = 5
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            pseudonymiser.pseudonymise(text)
    elapsed = time.perf_counter() - started
    return {
        "backend": backend,
        "notes": len(notes),
        "recall": {k: {**v, "recall": round(v["removed"] / v["total"], 3) if v["total"] else None,
                       "typed_recall": round(v["typed"] / v["total"], 3) if v["total"] else None}
                   for k, v in stats.items()},
        "person_recall_in_lexicon": round(persons["in_lexicon"][1] / max(1, persons["in_lexicon"][0]), 3),
        "person_recall_held_out": round(persons["held_out"][1] / max(1, persons["held_out"][0]), 3),
        "identity_terms_kept": f"{identity_kept}/{identity_total}",
        "non_identifier_chars_replaced": round(over_chars / max(1, plain_chars), 4),
        "throughput_notes_per_s": round(rounds * len(texts) / elapsed),
        "throughput_texts": len(texts),
        "misses_sample": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="builtin", choices=["builtin", "deduce"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.backend)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    print(f"pseudonymiser: {result['backend']}  labelled notes: {result['notes']}")
    print(f"{'type':<10} {'n':>5} {'recall':>8} {'typed':>8}")
    for kind, r in result["recall"].items():
        print(f"{kind:<10} {r['total']:>5} {r['recall']:>8} {r['typed_recall']:>8}")
    total = sum(r["total"] for r in result["recall"].values())
    removed = sum(r["removed"] for r in result["recall"].values())
    print(f"{'all':<10} {total:>5} {removed / total:>8.3f}")
    print(f"PERSOON recall, names in lexicon: {result['person_recall_in_lexicon']}, "
          f"held-out names: {result['person_recall_held_out']}")
    print(f"identity terms kept: {result['identity_terms_kept']}")
    print(f"non-identifier characters replaced: {result['non_identifier_chars_replaced']:.2%}")
    print(f"throughput: {result['throughput_notes_per_s']} notes/s on one core "
          f"({result['throughput_texts']} texts x 5)")
    if result["misses_sample"]:
        print("sample of misses:")
        for miss in result["misses_sample"]:
            print("  " + miss)


if __name__ == "__main__":
    main()
