"""Whole-pipeline benchmark: HTTP ingest -> outbox -> broker -> detector -> broker -> notifier ->
score and case in PostgreSQL, with the three services as separate processes (as in production).

Measured in one run, on the same machine state:
1. raw broker rate: kafka-python produce and consume of 1 KB messages (the clients the relay and
   the notifier use), the ceiling for anything that goes through the broker;
2. latency at a steady 100 notes/s for S seconds (batches of 10 every 100 ms): from the moment
   the client sent the note to the moment its score (and, for flagged notes, its case) was stored;
3. sustained end-to-end throughput: N notes posted as fast as ingest accepts them (batches of
   500, 2 clients); notes/s from the first POST until the last note has its score in PostgreSQL.
CPU seconds per process (and CPU ms per note) are reported for each phase, to show where the time
goes. The early warning runs as its own process, as in docker-compose.yml (decision 0037);
`--early-warning in-detector` measures it inside the detector process instead.

    .venv/bin/python bench/bench_pipeline.py                     # defaults: 20k notes, 30 s steady
    .venv/bin/python bench/bench_pipeline.py --notes 50000 --detector-workers 2

Results: printed as Markdown and written to bench/results/pipeline-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from kafka import KafkaConsumer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import results_file  # noqa: E402
from buurtsignaal.adapters.apikeys import create_key, ensure_tenant  # noqa: E402
from buurtsignaal.adapters.kafka import create_topics, make_producer  # noqa: E402
from buurtsignaal.config import Settings  # noqa: E402
from buurtsignaal.devstack import EmbeddedBroker, free_port, wait_for  # noqa: E402
from tests.support import infra  # noqa: E402
from tests.support.services import ServiceProcs, service_procs  # noqa: E402

TENANT = "bench-corp"
MUNICIPALITIES = ("GM0344", "GM0307", "GM0356", "GM0353")  # Utrecht region (config/regions.yaml)


def corpus_texts() -> list[str]:
    texts = []
    for name in ("test.jsonl", "dev.jsonl"):
        for line in (ROOT / "data" / "corpus" / name).read_text().splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


def make_notes(n: int, prefix: str, texts: list[str]) -> list[dict[str, Any]]:
    notes = []
    for i in range(n):
        house = i % 5000
        notes.append({
            "external_id": f"{prefix}-{i:08d}",
            "occurred_at": "2026-11-01T10:00:00+01:00",
            "text": texts[i % len(texts)],
            "author_role": "huismeester",
            "address": {"postcode": f"35{house // 100 % 100:02d} AB", "house_number": 1 + house % 100},
            "municipality_code": MUNICIPALITIES[i % len(MUNICIPALITIES)],
        })
    return notes


# --- CPU accounting -----------------------------------------------------------------------------

CLK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0


def postgres_pids(pgdata: Path) -> list[int]:
    """The postmaster (first line of postmaster.pid) and its children (backends, workers)."""
    try:
        master = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    pids = [master]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == master:
                pids.append(int(entry.name))
    return pids


class CpuMeter:
    """CPU seconds used by each named group of processes between start() and stop()."""

    def __init__(self, groups: dict[str, list[int] | Callable[[], list[int]]]) -> None:
        self.groups = groups

    def _sample(self) -> dict[str, float]:
        out = {}
        for name, spec in self.groups.items():
            pids = spec() if callable(spec) else spec
            out[name] = sum(_cpu_of(p) for p in pids)
        return out

    def start(self) -> None:
        self._start = self._sample()
        self._t = time.monotonic()

    def stop(self) -> dict[str, float]:
        end = self._sample()
        wall = time.monotonic() - self._t
        result = {k: round(end[k] - self._start.get(k, 0.0), 1) for k in end}
        result["wall"] = round(wall, 1)
        return result


# --- the stack ----------------------------------------------------------------------------------

class Stack:
    def __init__(self, detector_workers: int, partitions: int, split_early_warning: bool = True) -> None:
        self.pg, self.tmp = infra.start_postgres()
        settings = Settings(topic_partitions=partitions)
        self.broker = EmbeddedBroker(free_port())
        self.broker.start()
        create_topics(self.broker.bootstrap, list(settings.topics), partitions,
                      compacted=settings.compacted_topics)
        self.procs: ServiceProcs = service_procs(
            infra.make_settings(self.pg, self.broker, topic_partitions=partitions),
            split_early_warning=split_early_warning)
        self.procs.env.update({
            "BUURTSIGNAAL_API_RATE_LIMIT_PER_MINUTE": "1000000",
            "BUURTSIGNAAL_TOPIC_PARTITIONS": str(partitions),
            "BUURTSIGNAAL_LOG_LEVEL": "WARNING",  # measure the pipeline, not the log volume
            "BUURTSIGNAAL_DATA_DIR": str(self.tmp / "data"),
        })
        with psycopg.connect(self.pg.url) as conn:
            ensure_tenant(conn, TENANT)
            self.key = create_key(conn, TENANT)
        self.procs.start_all()
        self.extra: list[subprocess.Popen[bytes]] = []
        for _ in range(detector_workers - 1):
            self._start_extra_detector()
        wait_for(self._detectors_ready, 120, "detector workers assigned", interval=0.5)

    def _start_extra_detector(self) -> None:
        port = free_port()
        env = {**self.procs.env, "BUURTSIGNAAL_DETECTOR_PORT": str(port)}
        log = open(self.procs.log_dir / f"detector-{port}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "buurtsignaal.cli", "serve", "detector"],
                                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.extra.append(proc)
        self.extra_urls = [*getattr(self, "extra_urls", []), f"http://127.0.0.1:{port}"]

    def _detectors_ready(self) -> bool:
        urls = [self.procs.url("detector"), *getattr(self, "extra_urls", [])]
        if "early-warning" in self.procs.procs:
            urls.append(self.procs.url("early-warning"))
        try:
            return all(httpx.get(u + "/readyz", timeout=2).status_code == 200 for u in urls)
        except httpx.HTTPError:
            return False

    def cpu_groups(self) -> dict[str, list[int] | Callable[[], list[int]]]:
        detectors = [self.procs.procs["detector"].pid, *(p.pid for p in self.extra)]
        early_warning = self.procs.procs.get("early-warning")
        return {
            "ingest": [self.procs.procs["ingest"].pid],
            "detector": detectors,
            "early_warning": [early_warning.pid] if early_warning else [],
            "notifier": [self.procs.procs["notifier"].pid],
            "postgres": lambda: postgres_pids(self.pg.pgdata),
            "broker": [self.broker.process.pid] if self.broker.process else [],
        }

    def faust_pids(self) -> list[int]:
        groups = self.cpu_groups()
        return [*groups["detector"], *groups["early_warning"]]  # type: ignore[misc]

    def count(self, sql: str, params: Any = None) -> int:
        return int(infra.query(self.pg.url, sql, params)[0]["n"])

    def close(self) -> None:
        for proc in self.extra:
            proc.terminate()
            proc.wait(30)
        self.procs.stop_all()
        self.broker.stop()
        self.pg.stop("immediate")
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- phases -------------------------------------------------------------------------------------

def broker_raw_rate(bootstrap: str, n: int) -> dict[str, float]:
    topic = "bench.raw"
    create_topics(bootstrap, [topic], 4)
    payload = b"x" * 1024
    producer = make_producer(bootstrap, "bench-raw")
    started = time.perf_counter()
    for i in range(n):
        producer.send(topic, key=str(i % 997).encode(), value=payload)
    producer.flush(60)
    produce_s = time.perf_counter() - started
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id="bench-raw",
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             max_poll_records=500)
    got = 0
    started = time.perf_counter()
    deadline = started + 120
    while got < n and time.perf_counter() < deadline:
        got += sum(len(v) for v in consumer.poll(timeout_ms=500).values())
    consume_s = time.perf_counter() - started
    consumer.close()
    return {"messages": n, "produce_per_s": round(n / produce_s), "consume_per_s": round(got / consume_s)}


def post_all(url: str, key: str, notes: list[dict[str, Any]], batch: int, clients: int) -> float:
    batches = [notes[i:i + batch] for i in range(0, len(notes), batch)]

    def send(chunk: list[dict[str, Any]]) -> None:
        with httpx.Client(timeout=60) as client:
            for _ in range(20):
                r = client.post(url + "/v1/notes", json={"notes": chunk},
                                headers={"Authorization": f"Bearer {key}"})
                if r.status_code == 202:
                    return
                time.sleep(0.5)
            raise RuntimeError(f"ingest refused a batch: {r.status_code} {r.text[:200]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, batches))
    return time.perf_counter() - started


def sustained(stack: Stack, notes: list[dict[str, Any]], idle: dict[str, float]) -> dict[str, Any]:
    before = stack.count("SELECT count(*) AS n FROM note_scores")
    target = before + len(notes)
    load_at_start = round(os.getloadavg()[0], 2)
    meter = CpuMeter(stack.cpu_groups())
    meter.start()
    started = time.perf_counter()
    post_s = post_all(stack.procs.url("ingest"), stack.key, notes, batch=500, clients=2)
    wait_for(lambda: stack.count("SELECT count(*) AS n FROM note_scores") >= target, 1800,
             "all notes scored", interval=0.5)
    total_s = time.perf_counter() - started
    cpu = meter.stop()
    # The early warning (in its own process, or in the detector's) may still be busy with
    # notes.scored after the last score landed; the next phase must not start on a busy stack.
    quiet_s = wait_quiet(stack.faust_pids())
    # Everything the notes cost, including the early warning's catching up after the last score
    # (in-detector mode does that work after the window above; split mode mostly within it).
    until_quiet = meter.stop()
    cases = stack.count("""SELECT count(*) AS n FROM cases c JOIN notes n ON n.id = c.note_id
                           WHERE n.external_id LIKE 'sus-%%'""")
    return {"notes": len(notes), "ingest_accept_per_s": round(len(notes) / post_s),
            "end_to_end_per_s": round(len(notes) / total_s), "seconds": round(total_s, 1),
            "cases": cases, "cpu_seconds": cpu, "cpu_ms_per_note": per_note(cpu, len(notes)),
            "cpu_ms_per_note_above_idle": per_note(cpu, len(notes), idle),
            "cpu_seconds_until_quiet": until_quiet,
            "cpu_ms_per_note_until_quiet_above_idle": per_note(until_quiet, len(notes), idle),
            "load_avg_1m_at_start": load_at_start, "early_warning_busy_after_s": round(quiet_s, 1)}


def per_note(cpu: dict[str, float], notes: int, idle: dict[str, float] | None = None
             ) -> dict[str, float]:
    """CPU milliseconds per note for each process group (and all together). With `idle` (cores
    each group uses with no traffic) the idle share of the phase's wall time is taken off first:
    the faust processes poll and tick while they wait, and on a shared machine a slow phase would
    otherwise look like expensive notes."""
    wall = cpu.get("wall", 0.0)
    out = {k: round(1000 * max(0.0, v - (idle or {}).get(k, 0.0) * wall) / notes, 2)
           for k, v in cpu.items() if k != "wall"}
    out["total"] = round(sum(out.values()), 2)
    return out


def idle_cores(stack: Stack, seconds: float = 10.0) -> dict[str, float]:
    """Cores each process group uses with no notes flowing (fetch polls, timers, heartbeats)."""
    meter = CpuMeter(stack.cpu_groups())
    meter.start()
    time.sleep(seconds)
    cpu = meter.stop()
    return {k: round(v / cpu["wall"], 3) for k, v in cpu.items() if k != "wall"}


def wait_quiet(pids: list[int], limit: float = 600) -> float:
    """Seconds until the processes use less than 20% of a core over 2 s."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        before = sum(_cpu_of(p) for p in pids)
        time.sleep(2)
        if sum(_cpu_of(p) for p in pids) - before < 0.4:
            break
    return time.perf_counter() - started


def steady(stack: Stack, texts: list[str], rate: int, seconds: int, idle: dict[str, float]
           ) -> dict[str, Any]:
    per_batch = max(1, rate // 10)
    notes = make_notes(rate * seconds, "ste", texts)
    sent_at: dict[str, float] = {}
    url, key = stack.procs.url("ingest"), stack.key
    meter = CpuMeter(stack.cpu_groups())
    meter.start()
    with httpx.Client(timeout=30) as client:
        start = time.time()
        for i in range(0, len(notes), per_batch):
            due = start + (i // per_batch) * 0.1
            time.sleep(max(0.0, due - time.time()))
            chunk = notes[i:i + per_batch]
            t0 = time.time()
            r = client.post(url + "/v1/notes", json={"notes": chunk},
                            headers={"Authorization": f"Bearer {key}"})
            r.raise_for_status()
            for n in chunk:
                sent_at[n["external_id"]] = t0
        lateness = time.time() - (start + seconds)
    wait_for(lambda: stack.count("""SELECT count(*) AS n FROM note_scores s JOIN notes n
                                    ON n.id = s.note_id WHERE n.external_id LIKE 'ste-%%'""")
             >= len(notes), 300, "steady notes scored", interval=0.5)
    cpu = meter.stop()
    rows = infra.query(stack.pg.url, """
        SELECT n.external_id, extract(epoch FROM s.stored_at) AS scored,
               extract(epoch FROM c.created_at) AS cased
        FROM notes n JOIN note_scores s ON s.note_id = n.id LEFT JOIN cases c ON c.note_id = n.id
        WHERE n.external_id LIKE 'ste-%%'""")
    scored = sorted(float(r["scored"]) - sent_at[r["external_id"]] for r in rows)
    cased = sorted(float(r["cased"]) - sent_at[r["external_id"]] for r in rows if r["cased"])

    def pct(values: list[float], q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))] * 1000) if values else -1

    hops = infra.query(stack.pg.url, """
        SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP
                 (ORDER BY extract(epoch FROM o.sent_at - n.received_at)) AS outbox_relay,
               percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP
                 (ORDER BY extract(epoch FROM s.scored_at - o.sent_at)) AS broker_and_detector,
               percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP
                 (ORDER BY extract(epoch FROM s.stored_at - s.scored_at)) AS broker_and_notifier
        FROM notes n JOIN note_scores s ON s.note_id = n.id
        JOIN outbox o ON (o.payload->>'note_id')::uuid = n.id
        WHERE n.external_id LIKE 'ste-%%'""")[0]
    per_hop = {k: "/".join(str(round(v * 1000)) for v in hops[k]) for k in hops}
    return {"rate_per_s": rate, "seconds": seconds, "notes": len(notes),
            "hops_ms_p50_p95_p99": per_hop,
            "sender_behind_s": round(max(0.0, lateness), 2),
            "to_score_ms": {"p50": pct(scored, 0.5), "p95": pct(scored, 0.95), "p99": pct(scored, 0.99),
                            "max": pct(scored, 1.0)},
            "to_case_ms": {"cases": len(cased), "p50": pct(cased, 0.5), "p95": pct(cased, 0.95),
                           "p99": pct(cased, 0.99)},
            "cpu_seconds": cpu, "cpu_ms_per_note": per_note(cpu, len(notes)),
            "cpu_ms_per_note_above_idle": per_note(cpu, len(notes), idle)}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "kernel": platform.release(), "load_avg_1m_at_start": round(load[0], 2),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=20_000, help="notes for the sustained phase")
    parser.add_argument("--steady-seconds", type=int, default=30)
    parser.add_argument("--rate", type=int, default=100, help="notes/s in the steady phase")
    parser.add_argument("--detector-workers", type=int, default=1)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--raw-messages", type=int, default=50_000)
    parser.add_argument("--early-warning", choices=("split", "in-detector"), default="split",
                        help="its own process (default, as in docker-compose.yml) or in the detector")
    args = parser.parse_args()

    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp/buurtsignaal-runtime")
    os.makedirs(os.environ["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
    result: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
                              "command": " ".join([Path(sys.executable).name, *sys.argv]),
                              "machine": machine(), "detector_workers": args.detector_workers,
                              "partitions": args.partitions, "early_warning": args.early_warning}
    texts = corpus_texts()
    stack = Stack(args.detector_workers, args.partitions, args.early_warning == "split")
    try:
        result["broker_raw"] = broker_raw_rate(stack.broker.bootstrap, args.raw_messages)
        print("broker raw:", result["broker_raw"], flush=True)
        # Warm-up: model caches, connection pools, consumer fetch sessions.
        post_all(stack.procs.url("ingest"), stack.key, make_notes(500, "warm", texts), 250, 1)
        wait_for(lambda: stack.count("SELECT count(*) AS n FROM note_scores") >= 500, 300, "warm-up")
        wait_quiet(stack.faust_pids())
        result["idle_cores"] = idle_cores(stack)
        print("idle cores:", result["idle_cores"], flush=True)
        # Latency first, on an idle pipeline; then the backlog of the sustained phase.
        result["steady"] = steady(stack, texts, args.rate, args.steady_seconds, result["idle_cores"])
        print("steady:", result["steady"], flush=True)
        wait_quiet(stack.faust_pids())
        result["sustained"] = sustained(stack, make_notes(args.notes, "sus", texts), result["idle_cores"])
        print("sustained:", result["sustained"], flush=True)
    finally:
        stack.close()
    results_file.save("pipeline", result, markdown(result))


def markdown(r: dict[str, Any]) -> str:
    s, st, raw = r["sustained"], r["steady"], r["broker_raw"]
    return "\n".join([
        f"| measure ({r['detector_workers']} detector worker(s), {r['partitions']} partitions, "
        f"early warning {r['early_warning']}) | value |",
        "| --- | --- |",
        f"| raw broker produce (kafka-python, 1 KB) | {raw['produce_per_s']:,} msg/s |",
        f"| raw broker consume (kafka-python, 1 KB) | {raw['consume_per_s']:,} msg/s |",
        f"| ingest accepts (HTTP, batches of 500) | {s['ingest_accept_per_s']:,} notes/s |",
        f"| sustained end to end ({s['notes']:,} notes to score in PostgreSQL) | "
        f"{s['end_to_end_per_s']:,} notes/s |",
        f"| latency at {st['rate_per_s']} notes/s, to score stored: p50 / p95 / p99 | "
        f"{st['to_score_ms']['p50']} / {st['to_score_ms']['p95']} / {st['to_score_ms']['p99']} ms |",
        f"| latency at {st['rate_per_s']} notes/s, to case stored: p50 / p95 / p99 | "
        f"{st['to_case_ms']['p50']} / {st['to_case_ms']['p95']} / {st['to_case_ms']['p99']} ms |",
        f"| per hop at {st['rate_per_s']} notes/s, p50/p95/p99 ms | {st['hops_ms_p50_p95_p99']} |",
        f"| early warning still busy after the last score | {s['early_warning_busy_after_s']} s |",
        f"| CPU seconds in the sustained phase | {s['cpu_seconds']} |",
        f"| CPU ms per note in the sustained phase | {s['cpu_ms_per_note']} |",
        f"| idem, above the idle load | {s['cpu_ms_per_note_above_idle']} |",
        f"| idem, until the early warning is quiet too, above idle | "
        f"{s['cpu_ms_per_note_until_quiet_above_idle']} |",
        f"| CPU ms per note at {st['rate_per_s']} notes/s | {st['cpu_ms_per_note']} |",
        f"| idem, above the idle load | {st['cpu_ms_per_note_above_idle']} |",
        f"| idle load (cores) | {r['idle_cores']} |",
    ])


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
