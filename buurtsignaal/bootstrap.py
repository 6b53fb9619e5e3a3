"""Wires settings to adapters. Entry points call these; tests call them with their own settings."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from psycopg_pool import ConnectionPool

from buurtsignaal import logs
from buurtsignaal.adapters.postgres import make_pool
from buurtsignaal.config import Settings

log = logs.get(__name__)


@dataclass
class Runtime:
    """Long-lived resources of one service process and its background workers."""

    settings: Settings
    pool: ConnectionPool
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start_worker(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)
        self.pool.close()


def runtime(settings: Settings, service: str) -> Runtime:
    logs.configure(settings.log_level, settings.log_json, service)
    pool = make_pool(settings.database_url, max_size=settings.db_pool_size, name=service)
    return Runtime(settings=settings, pool=pool)
