"""Which model the detector service scores with (docs/decisions/0055).

At start: BUURTSIGNAAL_MODEL_DIR or BUURTSIGNAAL_DETECTOR_MODEL pins a model (the registry is then
ignored); otherwise the version active in PostgreSQL (table model_activations) from
BUURTSIGNAAL_MODEL_REGISTRY_DIR; the shipped default when nothing is activated, or when the
database cannot be reached (logged, and corrected by the next poll). Every
BUURTSIGNAAL_MODEL_POLL_SECONDS the detector reads the active version again and, when it changed,
loads the new model off the event loop and swaps it in between two batches. A version that is
not on this machine is logged and the old model stays.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from buurtsignaal import logs, metrics
from buurtsignaal.config import Settings
from services.detector.detection import Detector, load_detector
from services.detector.detection.paths import MODEL_DIR_ENV

from . import registry

log = logs.get(__name__)


class ActiveModel:
    """Holds the detector in use; `detector` is swapped atomically (one reference)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pinned = settings.model_dir is not None or bool(os.environ.get(MODEL_DIR_ENV))
        self.detector: Detector = load_detector(self._initial_dir())
        self._mark()

    def _default_dir(self) -> Path | None:
        default = self.settings.model_registry_dir / registry.DEFAULT_DIR
        return default if default.exists() else None  # None: the detector's own default

    def _lookup(self) -> registry.ModelInfo | None:
        with psycopg.connect(self.settings.database_url, row_factory=dict_row, connect_timeout=5) as conn:
            return registry.resolve(conn, self.settings.model_registry_dir)

    def _initial_dir(self) -> Path | None:
        if self.pinned:
            return self.settings.model_dir  # None: the detector's default honours MODEL_DIR_ENV
        try:
            info = self._lookup()
        except psycopg.Error as exc:
            log.warning("active_model_unknown", error=type(exc).__name__, using="default")
            return self._default_dir()
        if info is None:
            log.error("active_model_missing", using="default")
            return self._default_dir()
        return info.path

    def _mark(self) -> None:
        metrics.detector_model_info.clear()
        metrics.detector_model_info.labels(self.detector.model_version).set(1)
        log.info("model_loaded", model_version=self.detector.model_version, pinned=self.pinned)

    async def refresh(self) -> bool:
        """Poll once; True when another model was swapped in."""
        if self.pinned:
            return False
        try:
            info = await asyncio.to_thread(self._lookup)
        except psycopg.Error as exc:
            log.warning("active_model_poll_failed", error=type(exc).__name__)
            return False
        if info is None:
            log.error("active_model_missing", model_version=self.detector.model_version)
            return False
        if info.version == self.detector.model_version:
            return False
        detector = await asyncio.to_thread(load_detector, info.path)
        previous, self.detector = self.detector.model_version, detector
        metrics.detector_model_switches.inc()
        log.info("model_switched", previous=previous)
        self._mark()
        return True
