"""Where browser tests put their screenshots.

A test run must not dirty the checkout, so by default they go to a temporary folder;
`make screenshots` sets BUURTSIGNAAL_SCREENSHOT_DIR=docs/screenshots to refresh the docs' images.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def screenshot_dir() -> Path:
    configured = os.environ.get("BUURTSIGNAAL_SCREENSHOT_DIR")
    folder = Path(configured) if configured else Path(tempfile.gettempdir()) / "buurtsignaal-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
