"""The reliability suite's figures (kills, writes checked, losses...), summed across its tests
and printed at the end of the run, with or without `-s`, so the README's numbers can be read
off a CI log.

Loaded as a plugin by `tests/conftest.py`: the run's main process prints the summary, and under
pytest-xdist it collects no tests, so it never loads `tests/reliability/conftest.py`. Each
worker hands its figures to the main process as it finishes (xdist's `workeroutput`).
"""

from __future__ import annotations

from collections import defaultdict

import pytest


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

    def as_data(self) -> dict[str, dict]:
        """What a worker sends: plain dicts, as xdist carries them."""
        return {
            "families": {family: dict(counts) for family, counts in self.families.items()},
            "notes": dict(self.notes),
        }

    def merge(self, data: dict[str, dict]) -> None:
        """Add a worker's figures to these."""
        for family, counts in data["families"].items():
            self.add(family, **counts)
        for family, texts in data["notes"].items():
            self.notes[family].extend(texts)


FIGURES = Figures()
WORKER_OUTPUT_KEY = "reliability_figures"


@pytest.fixture(scope="session")
def figures() -> Figures:
    """The suite's shared figures."""
    return FIGURES


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None:  # an xdist worker: hand the figures to the main process
        output[WORKER_OUTPUT_KEY] = FIGURES.as_data()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # type: ignore[no-untyped-def]
    data = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    if data:
        FIGURES.merge(data)


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
