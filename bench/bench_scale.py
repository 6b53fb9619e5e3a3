"""How cost grows with stored data: ingest and the review queue with 10k, 100k and 1M notes stored.

The store is filled server-side (INSERT ... SELECT generate_series: notes with scores, 10% flagged
with a case, 2% of the cases still open), then the ingest and notifier services run as processes
and the script times, over HTTP as a client sees it:
- POST /v1/notes with 1 note and with 100 notes;
- the review queue (page 1 and the last page) and a case page, logged in as an ADV reviewer;
and, with EXPLAIN ANALYZE, the background queries that touch the notes table (the resender's
unscored-notes sweep and the case gauges).

    .venv/bin/python bench/bench_scale.py                    # 10k, 100k, 1M
    .venv/bin/python bench/bench_scale.py --sizes 10000 100000

Results: printed as Markdown and written to bench/results/scale-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from buurtsignaal.adapters.apikeys import create_key, ensure_tenant  # noqa: E402
from buurtsignaal.adapters.kafka import create_topics  # noqa: E402
from buurtsignaal.adapters.users import add_user  # noqa: E402
from buurtsignaal.config import Settings  # noqa: E402
from buurtsignaal.devstack import EmbeddedBroker, free_port  # noqa: E402
from tests.support import infra  # noqa: E402
from tests.support.services import login, service_procs  # noqa: E402

TENANT = "bench-corp"
REVIEWER = ("adv.bench", "bench-password-123")
MUNICIPALITIES = ("GM0344", "GM0307", "GM0356", "GM0353")


def corpus_texts() -> list[str]:
    return [json.loads(line)["text"]
            for line in (ROOT / "data" / "corpus" / "test.jsonl").read_text().splitlines() if line.strip()]


def fill(url: str, start: int, stop: int, texts: list[str]) -> float:
    """Add notes start..stop-1 with scores and cases; returns seconds."""
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        for lo in range(start, stop, 100_000):
            hi = min(stop, lo + 100_000)
            conn.execute(
                """
                INSERT INTO notes (id, tenant_id, external_id, occurred_at, received_at, author_role,
                                   text, postcode, house_number, postcode_area, municipality_code,
                                   subject_key, area_key, source, correlation_id, pseudonymiser)
                SELECT id, %(tenant)s, 'bulk-' || g, now() - (g %% 2000) * interval '1 hour',
                       now() - interval '2 days' - (%(stop)s - g) * interval '5 seconds', 'huismeester',
                       (%(texts)s::text[])[1 + g %% %(ntexts)s], '3531AB', 1 + g %% 200, '3531',
                       (%(munis)s::text[])[1 + g %% 4], md5('h' || (g %% 50000)), md5('a' || (g %% 500)),
                       'http', id::text, 'builtin'
                FROM (SELECT g, gen_random_uuid() AS id FROM generate_series(%(lo)s, %(hi)s - 1) g) s
                """,
                {"tenant": TENANT, "texts": texts, "ntexts": len(texts), "munis": list(MUNICIPALITIES),
                 "lo": lo, "hi": hi, "stop": stop})
            conn.execute(
                """
                INSERT INTO note_scores (note_id, flag, score, grounds, forms, severity, evidence,
                                         model_version, scored_at, stored_at)
                SELECT n.id, g %% 10 = 0, CASE WHEN g %% 10 = 0 THEN 0.9 ELSE 0.05 END,
                       CASE WHEN g %% 10 = 0 THEN ARRAY['herkomst'] ELSE ARRAY[]::text[] END,
                       CASE WHEN g %% 10 = 0 THEN ARRAY['verbaal'] ELSE ARRAY[]::text[] END,
                       CASE WHEN g %% 10 = 0 THEN 1 + g %% 3 ELSE 0 END, '[]'::jsonb, 'bench',
                       n.received_at + interval '1 second', n.received_at + interval '1 second'
                FROM notes n, LATERAL (SELECT substr(n.external_id, 6)::int AS g) x
                WHERE n.external_id LIKE 'bulk-%%' AND x.g >= %(lo)s AND x.g < %(hi)s
                """, {"lo": lo, "hi": hi})
            conn.execute(
                """
                INSERT INTO cases (note_id, subject_key, municipality_code, adv_region, status, severity,
                                   score, grounds, forms, model_version, created_at, updated_at)
                SELECT n.id, n.subject_key, n.municipality_code, 'midden-nederland',
                       CASE WHEN x.g %% 500 = 0 THEN 'nieuw'
                            WHEN x.g %% 500 = 10 THEN 'in_behandeling'
                            WHEN x.g %% 3 = 0 THEN 'afgewezen' ELSE 'afgehandeld' END,
                       s.severity, s.score, s.grounds, s.forms, 'bench', s.stored_at, s.stored_at
                FROM notes n JOIN note_scores s ON s.note_id = n.id,
                     LATERAL (SELECT substr(n.external_id, 6)::int AS g) x
                WHERE n.external_id LIKE 'bulk-%%' AND s.flag AND x.g >= %(lo)s AND x.g < %(hi)s
                """, {"lo": lo, "hi": hi})
        conn.execute("VACUUM ANALYZE notes")
        conn.execute("VACUUM ANALYZE note_scores")
        conn.execute("VACUUM ANALYZE cases")
    return time.perf_counter() - began


def timed(fn: Any, repeat: int) -> dict[str, float]:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[min(len(samples) - 1, int(0.95 * len(samples)))], 1)}


def explain_ms(url: str, sql: str, params: Any = None) -> float:
    with psycopg.connect(url) as conn:
        plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()[0]  # type: ignore[index]
    return round(float(plan[0]["Execution Time"]), 1)


def measure(procs: Any, key: str, url: str, texts: list[str], size: int) -> dict[str, Any]:
    ingest = procs.url("ingest")
    seq = [0]

    def post(n: int) -> None:
        notes = []
        for _ in range(n):
            seq[0] += 1
            notes.append({"external_id": f"scale-{size}-{seq[0]}", "occurred_at": "2026-11-01T10:00:00+01:00",
                          "text": texts[seq[0] % len(texts)], "author_role": "huismeester",
                          "address": {"postcode": "3531 AB", "house_number": 1 + seq[0] % 200},
                          "municipality_code": "GM0344"})
        r = httpx.post(ingest + "/v1/notes", json={"notes": notes},
                       headers={"Authorization": f"Bearer {key}"}, timeout=60)
        assert r.status_code == 202, r.text

    result: dict[str, Any] = {"stored_notes": size}
    result["post_1_note"] = timed(lambda: post(1), 40)
    result["post_100_notes"] = timed(lambda: post(100), 15)
    open_cases = int(infra.query(
        url, "SELECT count(*) AS n FROM cases WHERE status IN "
             "('nieuw', 'in_behandeling', 'meer_informatie_nodig', 'bevestigd')")[0]["n"])
    last_page = max(1, -(-open_cases // 50))
    result["open_cases"] = open_cases
    with httpx.Client(base_url=procs.url("notifier"), timeout=60) as ui:
        assert login(ui, *REVIEWER).status_code == 200
        case_id = infra.query(url, "SELECT min(id) AS id FROM cases WHERE status = 'nieuw'")[0]["id"]

        def page(n: int) -> None:
            r = ui.get(f"/?pagina={n}")
            assert r.status_code == 200 and "Werkvoorraad" in r.text, r.status_code

        def case() -> None:
            r = ui.get(f"/zaken/{case_id}")
            assert r.status_code == 200, r.status_code

        result["queue_page_1"] = timed(lambda: page(1), 20)
        result[f"queue_last_page_{last_page}"] = timed(lambda: page(last_page), 20)
        result["case_page"] = timed(case, 20)
    result["sql_resender_sweep_ms"] = explain_ms(url, _RESENDER_SQL)
    result["sql_case_gauges_ms"] = explain_ms(url, _CASE_GAUGE_SQL)
    result["sql_last_accepted_at_start_ms"] = explain_ms(
        url, "SELECT tenant_id, max(received_at) FROM notes GROUP BY tenant_id")
    return result


def _resender_sql() -> str:
    from services.ingest import resend

    source = Path(resend.__file__).read_text()
    sql = re.search(r'"""\n(\s+WITH frontier AS.*?)"""', source, re.S)
    assert sql, "resender query not found"
    return (sql.group(1).replace("%(window)s", "interval '24 hours'").replace("%(grace)s", "600")
            .replace("%(limit)s", "10000"))


_RESENDER_SQL = ""
_CASE_GAUGE_SQL = """SELECT id, status, level, severity, grounds, municipality_code, adv_region, created_at,
                            escalated_at, acknowledged_at FROM cases
                     WHERE status = 'nieuw' OR (status = 'geescaleerd' AND acknowledged_at IS NULL)"""


def main() -> None:
    global _RESENDER_SQL
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp/buurtsignaal-runtime")
    os.makedirs(os.environ["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
    _RESENDER_SQL = _resender_sql()
    texts = corpus_texts()
    pg, tmp = infra.start_postgres()
    settings = Settings()
    broker = EmbeddedBroker(free_port())
    broker.start()
    create_topics(broker.bootstrap, list(settings.topics), settings.topic_partitions,
                  compacted=settings.compacted_topics)
    with psycopg.connect(pg.url) as conn:
        ensure_tenant(conn, TENANT)
        key = create_key(conn, TENANT)
        add_user(conn, REVIEWER[0], REVIEWER[1], "adv_medewerker", adv_region="midden-nederland")
    procs = service_procs(infra.make_settings(pg, broker))
    procs.env.update({
        "BUURTSIGNAAL_API_RATE_LIMIT_PER_MINUTE": "1000000",
        "BUURTSIGNAAL_LOG_LEVEL": "WARNING",
        "BUURTSIGNAAL_DATA_DIR": str(tmp / "data"),
        # Background jobs that would send mail for every open bulk case or purge old bulk notes
        # are not what is measured here.
        "BUURTSIGNAAL_NOTIFY_INTERVAL_SECONDS": "3600",
        "BUURTSIGNAAL_RETENTION_INTERVAL_HOURS": "0",
    })
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
                               "command": " ".join(["python", *sys.argv]), "cpus": os.cpu_count(),
                               "sizes": []}
    stored = 0
    try:
        for size in sorted(args.sizes):
            fill_s = fill(pg.url, stored, size, texts)
            stored = size
            print(f"filled to {size:,} notes in {fill_s:.0f} s", flush=True)
            for service in ("ingest", "notifier"):
                procs.stop(service)
                procs.start(service)
            entry = measure(procs, key, pg.url, texts, size)
            entry["fill_seconds"] = round(fill_s, 1)
            results["sizes"].append(entry)
            print(json.dumps(entry), flush=True)
    finally:
        procs.stop_all()
        broker.stop()
        pg.stop("immediate")
        shutil.rmtree(tmp, ignore_errors=True)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"scale-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    print(f"\nwritten to {path.relative_to(ROOT)}")


def markdown(results: dict[str, Any]) -> str:
    rows = results["sizes"]
    head = "| p50 / p95 ms | " + " | ".join(f"{r['stored_notes']:,} notes" for r in rows) + " |"
    lines = [head, "|---" * (len(rows) + 1) + "|"]
    keys = ["post_1_note", "post_100_notes", "queue_page_1", "case_page"]
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(f"{r[k]['p50_ms']} / {r[k]['p95_ms']}" for r in rows) + " |")
    lines.append("| queue last page | " + " | ".join(
        next(f"{v['p50_ms']} / {v['p95_ms']} (page {k.rsplit('_', 1)[1]})"
             for k, v in r.items() if k.startswith("queue_last_page")) for r in rows) + " |")
    for k in ("sql_resender_sweep_ms", "sql_case_gauges_ms", "sql_last_accepted_at_start_ms"):
        lines.append(f"| {k} (EXPLAIN ANALYZE) | " + " | ".join(str(r[k]) for r in rows) + " |")
    lines.append("| open cases | " + " | ".join(f"{r['open_cases']:,}" for r in rows) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
