"""The three services as processes with their own model registry (a copy of the shipped model),
polling the active model every second."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from buurtsignaal.config import REPO_ROOT
from buurtsignaal.devstack import EmbeddedBroker, EmbeddedPostgres
from tests.support import infra
from tests.support.services import ServiceProcs, service_procs


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("registry")
    shutil.copytree(REPO_ROOT / "models" / "detector" / "current", path / "current")
    return path


@pytest.fixture(scope="module")
def learning_stack(e2e_infra: tuple[EmbeddedPostgres, EmbeddedBroker], registry: Path
                   ) -> Iterator[ServiceProcs]:
    pg, broker = e2e_infra
    infra.truncate_all(pg.url)
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute("TRUNCATE model_activations, pattern_alerts, anonymous_statistics")
    procs = service_procs(infra.make_settings(pg, broker, model_registry_dir=registry,
                                              model_poll_seconds=1.0, gauge_sample_seconds=1.0))
    procs.env.update({"BUURTSIGNAAL_MODEL_REGISTRY_DIR": str(registry),
                      "BUURTSIGNAAL_MODEL_POLL_SECONDS": "1",
                      "BUURTSIGNAAL_GAUGE_SAMPLE_SECONDS": "1"})
    procs.start_all()
    try:
        yield procs
    finally:
        procs.stop_all()
