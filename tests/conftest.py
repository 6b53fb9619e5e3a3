"""Markers follow the folder: tests/integration -> integration, tests/e2e -> e2e.
`pytest tests/unit` runs the quick ones in seconds; `make test` runs everything."""

from __future__ import annotations

import os

import pytest

_runtime = "/tmp/buurtsignaal-runtime"
os.makedirs(_runtime, mode=0o700, exist_ok=True)
os.environ.setdefault("XDG_RUNTIME_DIR", _runtime)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.path)
        if f"{os.sep}integration{os.sep}" in path:
            item.add_marker(pytest.mark.integration)
        elif f"{os.sep}e2e{os.sep}" in path:
            item.add_marker(pytest.mark.e2e)
