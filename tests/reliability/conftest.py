"""The reliability suite: every test here carries the `reliability` marker, and the figures the
tests gather (kills, writes checked, losses...) are printed at the end of the run, with or
without `-s`, so the README's numbers can be read off a CI log.

Run just this suite with `pytest -m reliability` (or `pytest tests/reliability`).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

HERE = Path(__file__).parent


class Figures:
    """Counts per family, summed across the tests that report them."""

    def __init__(self) -> None:
        self.families: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.notes: dict[str, list[str]] = defaultdict(list)

    def add(self, family: str, **counts: int) -> None:
        """Add counts to a family's row."""
        for name, value in counts.items():
            self.families[family][name] += int(value)

    def note(self, family: str, text: str) -> None:
        """A remark printed under the family's figures."""
        self.notes[family].append(text)


FIGURES = Figures()


@pytest.fixture(scope="session")
def figures() -> Figures:
    """The suite's shared figures."""
    return FIGURES


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.reliability)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    if not FIGURES.families:
        return
    write = terminalreporter.write_line
    terminalreporter.section("reliability figures")
    for family in sorted(FIGURES.families):
        counts = FIGURES.families[family]
        write(f"{family}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        for text in FIGURES.notes.get(family, []):
            write(f"    {text}")
