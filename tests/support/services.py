"""The three services as separate OS processes, as `make run` starts them; optionally the early
warning as a fourth (`service_procs(settings, split_early_warning=True)`, decision 0037)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from buurtsignaal.config import Settings
from buurtsignaal.devstack import free_port, wait_for

SERVICES = ("notifier", "detector", "ingest")
SPLIT_SERVICES = ("notifier", "early-warning", "detector", "ingest")


@dataclass
class ServiceProcs:
    settings: Settings
    env: dict[str, str]
    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bs-logs-")))
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    services: tuple[str, ...] = SERVICES

    def url(self, service: str) -> str:
        port = {"ingest": self.settings.ingest_port, "detector": self.settings.detector_port,
                "early-warning": self.settings.early_warning_port,
                "notifier": self.settings.notifier_port}[service]
        return f"http://127.0.0.1:{port}"

    def start(self, service: str) -> None:
        log = open(self.log_dir / f"{service}.log", "ab")  # noqa: SIM115 - closed with the child
        self.procs[service] = subprocess.Popen(
            [sys.executable, "-m", "buurtsignaal.cli", "serve", service],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(lambda: self._healthy(service), 120, f"{service} healthy; log: {self.log(service)[-2000:]}",
                 interval=0.3)

    def _healthy(self, service: str) -> bool:
        proc = self.procs[service]
        if proc.poll() is not None:
            raise RuntimeError(f"{service} exited ({proc.returncode}):\n{self.log(service)[-4000:]}")
        try:
            return httpx.get(self.url(service) + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, service: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.get(service)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def start_all(self) -> None:
        for service in self.services:
            self.start(service)

    def stop_all(self) -> None:
        for service in reversed(self.services):
            self.stop(service)

    def log(self, service: str) -> str:
        path = self.log_dir / f"{service}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> ServiceProcs:
        self.start_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def with_mail_routing(self, routing: dict[str, Any], folder: Path, smtp_port: int) -> ServiceProcs:
        """Route the notifier's messages with `routing` (the shape of config/routing.yaml) to a
        plain SMTP server on localhost, checking for work every half second."""
        path = folder / "routing.yaml"
        path.write_text(yaml.safe_dump(routing), encoding="utf-8")
        self.env.update({
            "BUURTSIGNAAL_ROUTING_FILE": str(path),
            "BUURTSIGNAAL_SMTP_HOST": "127.0.0.1",
            "BUURTSIGNAAL_SMTP_PORT": str(smtp_port),
            "BUURTSIGNAAL_SMTP_STARTTLS": "false",
            "BUURTSIGNAAL_SMTP_FROM": "buurtsignaal@adv.example",
            "BUURTSIGNAAL_NOTIFY_INTERVAL_SECONDS": "0.5",
        })
        return self


def service_procs(settings: Settings, *, split_early_warning: bool = False) -> ServiceProcs:
    """The services on free ports. split_early_warning: the early warning runs as its own process
    (started by start_all) and the detector only scores, as in docker-compose.yml."""
    ports = {"ingest_port": free_port(), "detector_port": free_port(), "notifier_port": free_port(),
             "early_warning_port": free_port()}
    settings = settings.model_copy(update={**ports, "detector_early_warning": not split_early_warning})
    env = {
        **os.environ,
        "BUURTSIGNAAL_DATABASE_URL": settings.database_url,
        "BUURTSIGNAAL_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "BUURTSIGNAAL_INGEST_PORT": str(ports["ingest_port"]),
        "BUURTSIGNAAL_DETECTOR_PORT": str(ports["detector_port"]),
        "BUURTSIGNAAL_NOTIFIER_PORT": str(ports["notifier_port"]),
        "BUURTSIGNAAL_EARLY_WARNING_PORT": str(ports["early_warning_port"]),
        "BUURTSIGNAAL_DETECTOR_EARLY_WARNING": "false" if split_early_warning else "true",
        "BUURTSIGNAAL_DEMO_MODE": "true",
        "PYTHONUNBUFFERED": "1",
    }
    return ServiceProcs(settings, env, services=SPLIT_SERVICES if split_early_warning else SERVICES)


def metric_value(text: str, series: str) -> float:
    """Sum of all samples whose name{labels} starts with `series` (exact labels or a prefix)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(series) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[-1])
    return total


def login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    import re

    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, "login form has no CSRF token"
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf": csrf.group(1)}, follow_redirects=True)


__all__ = ["ServiceProcs", "login", "metric_value", "service_procs", "signal"]
