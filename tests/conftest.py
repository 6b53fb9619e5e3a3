"""Markers follow the folder: tests/integration -> integration, tests/e2e -> e2e.
`pytest tests/unit` runs the quick ones in seconds; `make test` runs everything."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.path)
        if f"{os.sep}integration{os.sep}" in path:
            item.add_marker(pytest.mark.integration)
        elif f"{os.sep}e2e{os.sep}" in path:
            item.add_marker(pytest.mark.e2e)
