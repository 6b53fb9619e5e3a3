"""Instructions per note of the `detect` path: a deterministic measure on a shared machine.

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.%p \\
        .venv/bin/python bench/count_instructions.py all 500
    # valgrind prints "Collected : N"; N / 500 = instructions per note

Warms the caches with 5,000 bench notes (steady state of a large file), then counts only the
measured stage for the next N notes (`all`: detect_many + JSON; `analyse`; `decide`), with
the garbage collector off. Wall and CPU-time rates on the shared 2-core machine move by +-30%
with other people's load; instruction counts do not (docs/model-card.md#throughput).
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_detect import make_notes  # noqa: E402
from services.detector.cli import _batch_gc  # noqa: E402
from services.detector.detection import load_detector  # noqa: E402
from services.detector.detection.jsonl import detection_json  # noqa: E402

WARM = 5000


def _instrument(on: bool) -> None:
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
                   stdout=subprocess.DEVNULL, check=False)


def main() -> None:
    stage, n = sys.argv[1], int(sys.argv[2])
    notes = make_notes(WARM + n, 40, 7)
    warm, notes = notes[:WARM], notes[WARM:]
    det = load_detector()
    _batch_gc()
    for k in range(0, len(warm), 500):
        det.decide(det.analyse(warm[k:k + 500]))
    gc.collect()
    gc.disable()
    if stage == "analyse":
        _instrument(True)
        det.analyse(notes)
        _instrument(False)
    elif stage == "decide":
        analyses = det.analyse(notes)
        _instrument(True)
        det.decide(analyses)
        _instrument(False)
    else:
        items = [(f"b{i}", t) for i, t in enumerate(notes)]
        _instrument(True)
        "".join(detection_json(d) + "\n" for d in det.detect_many(items, 1000))
        _instrument(False)


if __name__ == "__main__":
    main()
