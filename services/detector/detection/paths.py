"""Where the shipped artefacts live, resolved from this file so any working directory works."""

from __future__ import annotations

import os
from pathlib import Path

# services/detector/detection/paths.py -> repo root is three levels above this package.
PACKAGE_DIR = Path(__file__).resolve().parent
DETECTOR_DIR = PACKAGE_DIR.parent
REPO_ROOT = DETECTOR_DIR.parent.parent

RECOGNIZER_DIR = DETECTOR_DIR / "recognizers"
MODELS_DIR = REPO_ROOT / "models" / "detector"

# An operator can point the service at another model without code changes.
MODEL_DIR_ENV = "BUURTSIGNAAL_DETECTOR_MODEL"


def default_model_dir() -> Path:
    override = os.environ.get(MODEL_DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return MODELS_DIR / "current"
