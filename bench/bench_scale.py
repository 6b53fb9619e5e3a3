"""How cost grows with stored data: ingest and the review pages with 10k, 100k and 1M notes stored.

The store is filled server-side (INSERT ... SELECT generate_series, one pass per table and chunk:
notes with scores; 10% flagged with a case; 4% of the cases still open, 1% escalated to the
municipality; a household pattern alert per 1,000 notes; two audit rows per case), then the
ingest and notifier services run as processes and the script times, over HTTP as a client sees it:
- POST /v1/notes with 1 note and with 100 notes;
- the review queue (first page, the last page reached by following "Volgende", and the first
  page filtered by municipality) and a case page, logged in as an ADV reviewer;
- the coordinator's escalations and the audit log (unfiltered and filtered by case);
and, with EXPLAIN ANALYZE, the queue queries themselves (which index, how long) and the
background queries that touch the notes table (the resender's unscored-notes sweep and the case
gauges).

    .venv/bin/python bench/bench_scale.py                    # 10k, 100k, 1M
    .venv/bin/python bench/bench_scale.py --sizes 10000 100000

Results: printed as Markdown and written to bench/results/scale-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import psycopg.sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import results_file  # noqa: E402
from buurtsignaal.adapters import cases_repo  # noqa: E402
from buurtsignaal.adapters.apikeys import create_key, ensure_tenant  # noqa: E402
from buurtsignaal.adapters.kafka import create_topics  # noqa: E402
from buurtsignaal.adapters.users import add_user  # noqa: E402
from buurtsignaal.config import Settings  # noqa: E402
from buurtsignaal.devstack import EmbeddedBroker, free_port  # noqa: E402
from buurtsignaal.domain import paging  # noqa: E402
from tests.support import infra  # noqa: E402
from tests.support.services import login, service_procs  # noqa: E402

TENANT = "bench-corp"
REVIEWER = ("adv.bench", "bench-password-123")
COORDINATOR = ("coord.bench", "bench-password-123")
ADMIN = ("beheer.bench", "bench-password-123")
MUNICIPALITIES = ("GM0344", "GM0307", "GM0356", "GM0353")


def corpus_texts() -> list[str]:
    return [json.loads(line)["text"]
            for line in (ROOT / "data" / "corpus" / "test.jsonl").read_text().splitlines() if line.strip()]


# Every row derives from its note number g, so each table is filled straight from
# generate_series without reading back what was inserted (ids are md5-derived UUIDs).
_NOTE_ID = "md5('bench-note-' || g)::uuid"
# Received 20 s apart, older notes first, the newest over 5 months ago at 1M notes: outside the
# resender's 24-hour window, so the sweep measures the table, not work to do.
_RECEIVED = "(now() - interval '400 days' + g * interval '20 seconds')"
_SUBJECT = "md5('h' || (g %% 50000))"
_FILL = [
    f"""
    INSERT INTO notes (id, tenant_id, external_id, occurred_at, received_at, author_role, text,
                       postcode, house_number, postcode_area, municipality_code, subject_key,
                       area_key, source, correlation_id, pseudonymiser)
    SELECT {_NOTE_ID}, %(tenant)s, 'bulk-' || g, now() - (g %% 2000) * interval '1 hour',
           {_RECEIVED}, 'huismeester', (%(texts)s::text[])[1 + g %% %(ntexts)s], '3531AB',
           1 + g %% 200, '3531', (%(munis)s::text[])[1 + (g / 10) %% 4], {_SUBJECT},
           md5('a' || (g %% 500)), 'http', 'bulk-' || g, 'builtin'
    FROM generate_series(%(lo)s, %(hi)s - 1) g
    """,
    f"""
    INSERT INTO note_scores (note_id, flag, score, grounds, forms, severity, evidence,
                             model_version, scored_at, stored_at)
    SELECT {_NOTE_ID}, g %% 10 = 0, CASE WHEN g %% 10 = 0 THEN 0.9 ELSE 0.05 END,
           CASE WHEN g %% 10 = 0 THEN ARRAY['herkomst'] ELSE ARRAY[]::text[] END,
           CASE WHEN g %% 10 = 0 THEN ARRAY['verbaal'] ELSE ARRAY[]::text[] END,
           CASE WHEN g %% 10 = 0 THEN 1 + g %% 3 ELSE 0 END, '[]'::jsonb, 'bench',
           {_RECEIVED} + interval '1 second', {_RECEIVED} + interval '1 second'
    FROM generate_series(%(lo)s, %(hi)s - 1) g
    """,
    # Case ids follow note numbers (id = g / 10 + 1), so audit rows can name them.
    f"""
    INSERT INTO cases (id, note_id, subject_key, municipality_code, adv_region, status, level,
                       severity, score, grounds, forms, model_version, created_at, updated_at,
                       escalated_at, acknowledged_at)
    SELECT g / 10 + 1, {_NOTE_ID}, {_SUBJECT}, (%(munis)s::text[])[1 + (g / 10) %% 4],
           'midden-nederland',
           CASE WHEN g %% 500 = 0 THEN 'nieuw' WHEN g %% 500 = 10 THEN 'in_behandeling'
                WHEN g %% 1000 = 20 THEN 'geescaleerd' WHEN g %% 3 = 0 THEN 'afgewezen'
                ELSE 'afgehandeld' END,
           CASE WHEN (g %% 50000) %% 1000 = 7 THEN 'patroon' ELSE 'signaal' END,
           1 + g %% 3, 0.9, ARRAY['herkomst'], ARRAY['verbaal'], 'bench',
           {_RECEIVED} + interval '1 second', {_RECEIVED} + interval '1 second',
           CASE WHEN g %% 500 = 20 THEN {_RECEIVED} + interval '1 day' END,
           CASE WHEN g %% 500 = 20 AND g %% 1000 <> 20 THEN {_RECEIVED} + interval '2 days' END
    FROM generate_series(%(lo)s, %(hi)s - 1) g
    WHERE g %% 10 = 0
    """,
    f"""
    INSERT INTO pattern_alerts (id, scope, subject_key, municipality_code, adv_region, level,
                                rule, note_ids, summary, window_start, raised_at,
                                first_raised_at, ruleset_version)
    SELECT 'bench-' || g, 'household', {_SUBJECT}, (%(munis)s::text[])[1 + (g / 10) %% 4],
           'midden-nederland', CASE WHEN g %% 3000 = 7 THEN 'escalate' ELSE 'watch' END,
           'herhaling', ARRAY[({_NOTE_ID})::text], 'Herhaalde meldingen (benchmark)',
           {_RECEIVED} - interval '30 days', {_RECEIVED}, {_RECEIVED}, 'bench'
    FROM generate_series(%(lo)s, %(hi)s - 1) g
    WHERE g %% 1000 = 7
    """,
    f"""
    INSERT INTO audit_log (at, actor, action, case_id, detail)
    SELECT {_RECEIVED} + k * interval '1 hour', 'adv.bulk-' || (g %% 20),
           CASE k WHEN 1 THEN 'case_viewed' ELSE 'status_changed' END, g / 10 + 1, '{{}}'::jsonb
    FROM generate_series(%(lo)s, %(hi)s - 1) g, generate_series(1, 2) k
    WHERE g %% 10 = 0
    """,
]


def fill(url: str, start: int, stop: int, texts: list[str]) -> float:
    """Add notes start..stop-1 with scores, cases, alerts and audit rows; returns seconds."""
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        for lo in range(start, stop, 100_000):
            params = {"tenant": TENANT, "texts": texts, "ntexts": len(texts),
                      "munis": list(MUNICIPALITIES), "lo": lo, "hi": min(stop, lo + 100_000)}
            with conn.transaction():
                for statement in _FILL:
                    conn.execute(statement, params)
        # Cases get explicit ids above; move the sequence past them for cases made by the app.
        conn.execute("SELECT setval('case_number_seq', (SELECT max(id) FROM cases))")
        for table in ("notes", "note_scores", "cases", "pattern_alerts", "audit_log"):
            conn.execute(f"VACUUM ANALYZE {table}")
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


def explain(url: str, sql: Any, params: Any = None) -> dict[str, Any]:
    """Execution time and the scans of one query's plan (EXPLAIN ANALYZE)."""
    with psycopg.connect(url) as conn:
        query = psycopg.sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + (
            psycopg.sql.SQL(sql) if isinstance(sql, str) else sql)  # type: ignore[arg-type]
        plan = conn.execute(query, params).fetchone()[0]  # type: ignore[index]
    return {"ms": round(float(plan[0]["Execution Time"]), 2), "scans": _scans(plan[0]["Plan"])}


def _scans(node: dict[str, Any]) -> list[str]:
    found = []
    if "Scan" in node["Node Type"]:
        found.append(node["Node Type"] + (f" using {node['Index Name']}" if "Index Name" in node else "")
                     + f" on {node.get('Relation Name', '?')} ({node.get('Actual Rows', '?')} rows)")
    for child in node.get("Plans", []):
        found.extend(_scans(child))
    return found


def next_link(html: str, rel: str = "next") -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return unescape(found.group(1)) if found else None


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

    result: dict[str, Any] = {"stored_notes": size, "load_average": list(os.getloadavg())}
    result["post_1_note"] = timed(lambda: post(1), 40)
    result["post_100_notes"] = timed(lambda: post(100), 15)
    result["open_cases"] = int(infra.query(
        url, "SELECT count(*) AS n FROM cases WHERE status IN "
             "('nieuw', 'in_behandeling', 'meer_informatie_nodig', 'bevestigd')")[0]["n"])
    result["cases"] = int(infra.query(url, "SELECT count(*) AS n FROM cases")[0]["n"])
    result["audit_rows"] = int(infra.query(url, "SELECT count(*) AS n FROM audit_log")[0]["n"])

    def get(client: httpx.Client, path: str, expect: str) -> str:
        r = client.get(path)
        assert r.status_code == 200 and expect in r.text, (path, r.status_code)
        return r.text

    with httpx.Client(base_url=procs.url("notifier"), timeout=60) as ui:
        assert login(ui, *REVIEWER).status_code == 200
        case_id = infra.query(url, "SELECT min(id) AS id FROM cases WHERE status = 'nieuw'")[0]["id"]
        # The deep page: follow "Volgende" to the end, as a reviewer would (no page numbers).
        pages, link, deep = 1, next_link(get(ui, "/", "Werkvoorraad")), "/"
        while link:
            deep, pages = link, pages + 1
            link = next_link(get(ui, link, "Werkvoorraad"))
        result["queue_pages"] = pages
        result["queue_page_1"] = timed(lambda: get(ui, "/", "Werkvoorraad"), 20)
        result["queue_last_page"] = timed(lambda: get(ui, deep, "Werkvoorraad"), 20)
        result["queue_page_1_one_municipality"] = timed(
            lambda: get(ui, "/?gemeente=GM0307", "Werkvoorraad"), 20)
        result["case_page"] = timed(lambda: get(ui, f"/zaken/{case_id}", "BS-"), 20)
    with httpx.Client(base_url=procs.url("notifier"), timeout=60) as ui:
        assert login(ui, *COORDINATOR).status_code == 200
        result["escalations_page_1"] = timed(lambda: get(ui, "/", "Escalaties"), 20)
    with httpx.Client(base_url=procs.url("notifier"), timeout=60) as ui:
        assert login(ui, *ADMIN).status_code == 200
        result["audit_page_1"] = timed(lambda: get(ui, "/audit", "Auditlog"), 20)
        result["audit_one_case"] = timed(lambda: get(ui, f"/audit?zaak={case_id}", "Auditlog"), 20)
    # The queue's own SQL, exactly as the notifier builds it, on the first and the last page.
    # The deep page's cursor is the one the UI put in the last "Volgende" link.
    queue = cases_repo.QueueFilter(region="midden-nederland")
    token = parse_qs(urlsplit(deep).query).get("na", [""])[0]
    deep_cursor = paging.decode(token, scope="werkvoorraad", shape=cases_repo.QUEUE_KEY_SHAPE,
                                secret=Settings().session_secret) if token else None
    result["sql_queue_page_1"] = explain(url, *cases_repo.queue_query(queue, None, 50))
    result["sql_queue_last_page"] = explain(url, *cases_repo.queue_query(queue, deep_cursor, 50))
    result["sql_resender_sweep"] = explain(url, _RESENDER_SQL) if _RESENDER_SQL else None
    result["sql_case_gauges"] = explain(url, _CASE_GAUGE_SQL)
    result["sql_last_accepted_at_start"] = explain(
        url, "SELECT tenant_id, max(received_at) FROM notes GROUP BY tenant_id")
    return result


def _resender_sql() -> str:
    from services.ingest import resend

    source = Path(resend.__file__).read_text()
    sql = re.search(r'"""\n(\s+WITH frontier AS.*?)"""', source, re.S)
    if sql is None:  # the resender changed shape: measure the rest, say so in the results
        print("resender query not found in services/ingest/resend.py; not measured", flush=True)
        return ""
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
        add_user(conn, COORDINATOR[0], COORDINATOR[1], "coordinator", municipalities=["GM0344"])
        add_user(conn, ADMIN[0], ADMIN[1], "beheerder")
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
                               "machine": platform.platform(), "python": platform.python_version(),
                               "load_average_at_start": list(os.getloadavg()),
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
    results_file.save("scale", results, markdown(results))


def markdown(results: dict[str, Any]) -> str:
    rows = results["sizes"]
    lines = ["| p50 / p95 ms | " + " | ".join(f"{r['stored_notes']:,} notes" for r in rows) + " |",
             "|---" * (len(rows) + 1) + "|"]
    for label, k in (("POST /v1/notes, 1 note", "post_1_note"),
                     ("POST /v1/notes, 100 notes", "post_100_notes"),
                     ("review queue, first page", "queue_page_1"),
                     ("review queue, last page", "queue_last_page"),
                     ("review queue, one municipality", "queue_page_1_one_municipality"),
                     ("case page", "case_page"), ("escalations (coordinator)", "escalations_page_1"),
                     ("audit log, newest", "audit_page_1"), ("audit log, one case", "audit_one_case")):
        cells = [f"{r[k]['p50_ms']} / {r[k]['p95_ms']}" for r in rows]
        if k == "queue_last_page":
            cells = [f"{c} (page {r['queue_pages']})" for c, r in zip(cells, rows, strict=True)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for label, k in (("queue SQL, first page (EXPLAIN ANALYZE ms)", "sql_queue_page_1"),
                     ("queue SQL, last page", "sql_queue_last_page"),
                     ("resender sweep", "sql_resender_sweep"), ("case gauges", "sql_case_gauges"),
                     ("'last accepted' restore at start", "sql_last_accepted_at_start")):
        lines.append(f"| {label} | " + " | ".join(
            str(r[k]["ms"]) if r.get(k) else "-" for r in rows) + " |")
    lines.append("| open cases / all cases | " + " | ".join(
        f"{r['open_cases']:,} / {r['cases']:,}" for r in rows) + " |")
    lines.append("| load average (1 min) when measured | " + " | ".join(
        f"{r['load_average'][0]:.2f}" for r in rows) + " |")
    lines.append("| fill time (s) | " + " | ".join(str(r["fill_seconds"]) for r in rows) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
