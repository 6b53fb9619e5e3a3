"""`make run`: the whole system on embedded defaults, with demo data. Ctrl-C stops everything.

PostgreSQL keeps its data in data/dev (a second run reuses it); the broker is memory-only.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from buurtsignaal.adapters.postgres import migrate
from buurtsignaal.config import REPO_ROOT, Settings
from buurtsignaal.devstack import EmbeddedBroker, EmbeddedPostgres, wait_for
from buurtsignaal.privacy.topics import create_all as create_all_topics

DEMO_TENANT = "demo-corporatie"
DEMO_USERS = (
    # username, password, role, region, municipalities
    ("adv.utrecht", "demo-utrecht-2026", "adv_medewerker", "midden-nederland", []),
    ("adv.utrecht2", "demo-utrecht2-2026", "adv_medewerker", "midden-nederland", []),
    ("adv.nhn", "demo-alkmaar-2026", "adv_medewerker", "noord-holland-noord", []),
    ("adv.drenthe", "demo-drenthe-2026", "adv_medewerker", "drenthe", []),
    ("coord.utrecht", "demo-coordinator-2026", "coordinator", None, ["GM0344"]),
    ("coord.amersfoort", "demo-amersfoort-2026", "coordinator", None, ["GM0307"]),
    ("beheerder", "demo-beheerder-2026", "beheerder", None, []),
)
DEMO_NOTES = REPO_ROOT / "demo" / "notes.jsonl"


def seed_demo(settings: Settings, api_key: str) -> None:
    import psycopg
    from psycopg.rows import dict_row

    from buurtsignaal.adapters.apikeys import create_key, ensure_tenant
    from buurtsignaal.adapters.users import add_user

    with psycopg.connect(settings.database_url, row_factory=dict_row) as conn:
        ensure_tenant(conn, DEMO_TENANT, "Demo Woningcorporatie")
        create_key(conn, DEMO_TENANT, key=api_key, label="demo")
        for username, password, role, region, municipalities in DEMO_USERS:
            add_user(conn, username, password, role, adv_region=region,
                     municipalities=municipalities)


def post_demo_notes(settings: Settings, api_key: str) -> tuple[int, int]:
    notes = [json.loads(line) for line in DEMO_NOTES.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    response = httpx.post(
        f"http://{settings.host}:{settings.ingest_port}/v1/notes",
        json={"notes": notes}, headers={"Authorization": f"Bearer {api_key}"}, timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    return len(body["accepted"]), len(body["duplicates"])


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


# The early warning runs as its own process, as in docker-compose.yml (docs/decisions/0037).
SERVICES = ("notifier", "early-warning", "detector", "ingest")


def start_services(settings: Settings, env: dict[str, str], log_dir: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for service in SERVICES:
        log = open(log_dir / f"{service}.log", "ab")  # noqa: SIM115 - lives as long as the child
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "buurtsignaal.cli", "serve", service],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))
    ports = {"ingest": settings.ingest_port, "detector": settings.detector_port,
             "early-warning": settings.early_warning_port, "notifier": settings.notifier_port}
    for name, port in ports.items():
        wait_for(lambda p=port: _healthy(f"http://{settings.host}:{p}/healthz"), 120,
                 f"{name} service (see {log_dir / (name + '.log')})", interval=0.3)
    return procs


def stop_services(procs: list[subprocess.Popen[bytes]]) -> None:
    # One at a time: two consumers leaving a group at once can wedge some brokers.
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def run_dev_stack(reset: bool = False) -> int:
    runtime_dir = Path("/tmp/buurtsignaal-runtime")
    runtime_dir.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
    base = Settings()
    data_dir = base.data_dir
    if reset:
        from buurtsignaal.devstack import remove_data

        remove_data(data_dir / "pg")
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    pg_port = int(os.environ.get("BUURTSIGNAAL_DEV_PG_PORT", "55432"))
    broker_port = int(os.environ.get("BUURTSIGNAAL_DEV_BROKER_PORT", "19092"))
    pg = EmbeddedPostgres(data_dir / "pg", pg_port)
    broker = EmbeddedBroker(broker_port, log_path=data_dir / "logs" / "broker.log")
    env = {**os.environ, "BUURTSIGNAAL_DATABASE_URL": pg.url,
           "BUURTSIGNAAL_KAFKA_BOOTSTRAP": broker.bootstrap, "BUURTSIGNAAL_DEMO_MODE": "true",
           "BUURTSIGNAAL_DETECTOR_EARLY_WARNING": "false"}
    settings = Settings(database_url=pg.url, kafka_bootstrap=broker.bootstrap, demo_mode=True)
    api_key = settings.demo_api_key or "bsk_demo_" + secrets.token_urlsafe(24)
    procs: list[subprocess.Popen[bytes]] = []
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        print("• PostgreSQL starten ...", flush=True)
        pg.start()
        print("• Kafka-compatibele broker (tansu) starten ...", flush=True)
        broker.start()
        create_all_topics(settings)  # with retention.ms and compaction (config/retention.yaml)
        migrate(pg.url)
        seed_demo(settings, api_key)
        print("• Diensten starten (ingest, detector, vroegsignalering, notifier) ...", flush=True)
        procs = start_services(settings, env, data_dir / "logs")
        accepted, duplicates = post_demo_notes(settings, api_key)
        _print_banner(settings, api_key, accepted, duplicates, data_dir / "logs")
        while not stopping:
            for proc, name in zip(procs, SERVICES, strict=True):
                if proc.poll() is not None:
                    print(f"! {name} stopte onverwacht (code {proc.returncode}); zie "
                          f"{data_dir / 'logs' / (name + '.log')}", flush=True)
                    stopping = True
            time.sleep(0.5)
        return 0
    except Exception as exc:  # noqa: BLE001 - report and clean up
        print(f"! starten mislukt: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("• Stoppen ...", flush=True)
        stop_services(procs)
        broker.stop()
        pg.stop()
        print("• Gestopt.", flush=True)


def _print_banner(settings: Settings, api_key: str, accepted: int, duplicates: int,
                  log_dir: Path) -> None:
    host = settings.host
    lines = [
        "",
        "Buurtsignaal draait (demo-modus, fictieve gegevens).",
        f"  Beoordelingsscherm (ADV):  http://{host}:{settings.notifier_port}/",
        f"  Ingest API:                http://{host}:{settings.ingest_port}/docs",
        f"  Metrics:                   http://{host}:{settings.ingest_port}/metrics, "
        f":{settings.detector_port}/metrics, :{settings.early_warning_port}/metrics, "
        f":{settings.notifier_port}/metrics",
        f"  Demo-notities geladen:     {accepted} nieuw, {duplicates} al aanwezig",
        f"  API-sleutel {DEMO_TENANT}: {api_key}",
        "  Demo-accounts:",
        *[f"    {u:<14} {p:<24} {r}{' (' + g + ')' if g else ''}{' ' + ','.join(m) if m else ''}"
          for u, p, r, g, m in DEMO_USERS],
        f"  E-mails (demo, geen SMTP): {settings.data_dir / 'mail'}",
        f"  Logs: {log_dir}",
        "Stoppen: Ctrl-C",
        "",
    ]
    print("\n".join(lines), flush=True)
