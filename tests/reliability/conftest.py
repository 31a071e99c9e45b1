"""The reliability suite: every test here carries the `reliability` marker, and the figures the
tests gather are printed at the end of the run (`figures.py`, which also holds the `figures`
fixture).

Run just this suite with `pytest -m reliability` (or `pytest tests/reliability`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.reliability)
