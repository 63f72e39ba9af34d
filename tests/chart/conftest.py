"""Every test here renders the chart with real Helm, built by ``make tools``: marked ``helm``.

``make unit`` runs without Go (``-m "not helm"``); ``make chart`` builds Helm and runs these.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.helm)
