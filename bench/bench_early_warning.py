"""Throughput of the early-warning rule engine (no detector, no broker): `observe` per note,
with the state round-tripped through JSON as the faust table does.

    .venv/bin/python bench/bench_early_warning.py [--households 2000] [--notes 40000]

Prints notes/s for in-order and late (out-of-order) arrival. Numbers in docs/early-warning.md.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from services.detector.early_warning.config import load_rules
from services.detector.early_warning.engine import KeyState, observe
from services.detector.early_warning.observation import Observation

DAY = 86400.0


def synthetic(households: int, notes: int, seed: int = 1) -> list[tuple[str, Observation]]:
    rnd = random.Random(seed)
    out = []
    for i in range(notes):
        key = f"{rnd.randrange(households):032x}"
        day = rnd.uniform(0, 365)
        kind = rnd.random()
        if kind < 0.1:
            obs = Observation(f"n{i}", day * DAY, True, rnd.choice((1, 2, 3)), ("herkomst",), ("verbaal",))
        elif kind < 0.35:
            obs = Observation(f"n{i}", day * DAY, False, weak=("vernieling",))
        else:
            obs = Observation(f"n{i}", day * DAY, False)
        out.append((key, obs))
    return out


def run(items: list[tuple[str, Observation]]) -> tuple[float, int]:
    rules = load_rules()
    states: dict[str, str] = {}
    alerts = 0
    started = time.perf_counter()
    for key, obs in items:
        state = KeyState.from_dict(json.loads(states[key]) if key in states else None)
        outcome = observe(state, obs, rules, scope="household", key=key)
        alerts += len(outcome.emissions)
        if outcome.changed:
            states[key] = json.dumps(state.to_dict())
    return len(items) / (time.perf_counter() - started), alerts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--notes", type=int, default=40000)
    args = parser.parse_args()
    items = synthetic(args.households, args.notes)
    in_order = sorted(items, key=lambda kv: kv[1].at)
    rate, alerts = run(in_order)
    print(f"in event-time order: {rate:,.0f} notes/s ({alerts} alerts)")
    late = list(in_order)
    rnd = random.Random(2)
    for i in range(0, len(late) - 50, 10):  # every 10th note arrives up to 50 places late
        j = i + rnd.randrange(1, 50)
        late[i], late[j] = late[j], late[i]
    rate, alerts = run(late)
    print(f"10% late by up to 50 notes: {rate:,.0f} notes/s ({alerts} alerts)")


if __name__ == "__main__":
    main()
