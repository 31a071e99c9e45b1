"""Tests marked `alone` run with no other test beside them, while the rest share the cores.

The suite runs in pytest-xdist workers (`-n 3` on CI's two cores: a third keeps them busy while
the others wait on a console or a terminal). Most tests do not mind a busy machine: the
console must work on a loaded school server too, and the end-to-end tests' keys in one burst
must land where they were typed whatever the load. A few hold the console to a promise made in
seconds (another process's change shown within six); under two other workers' load those would
measure the load. Those are marked `alone`: every other test takes a shared hold on one lock
for its setup, run and teardown, and an `alone` one takes it exclusively while it runs, so the
other workers finish the test they are on and wait.

A turnstile before the lock keeps an alone test from waiting for ever behind a stream of
shared ones: it is held while a test queues for the lock, so no shared test can slip in ahead
of an alone one that is already waiting.

Without xdist (`pytest` alone, or `-n 0`) there is one process and nothing to share.

(pytest-xdist exports COLUMNS to its workers; `tests/conftest.py` takes it out of every test's
environment, or the console in a tmux pane 200 wide drew 80.)
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

ALONE_MARKERS = ("alone",)


def _lock_files(config: pytest.Config) -> tuple[Path, Path] | None:
    """The turnstile and the lock every worker of this run opens, or None outside xdist.

    They live in the run's own temporary folder, the parent of each worker's (xdist gives
    each worker `--basetemp` inside it), which pytest clears with its old runs."""
    if not hasattr(config, "workerinput") or not config.option.basetemp:
        return None
    run = Path(config.option.basetemp).parent
    return run / "run-alone.turnstile", run / "run-alone.lock"


@contextmanager
def _held(path: Path, operation: int) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, operation)
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the lock


def _alone(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(name) for name in ALONE_MARKERS)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Every test but an alone one holds the lock shared, from its setup to its teardown."""
    files = _lock_files(item.config)
    if files is None or _alone(item):
        return (yield)
    turnstile, lock = files
    with ExitStack() as stack:
        with _held(turnstile, fcntl.LOCK_EX):
            stack.enter_context(_held(lock, fcntl.LOCK_SH))
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """An alone test holds it exclusively while it runs: its fixtures (an SSH server made in
    fifteen seconds) are made and taken down beside the other workers' tests."""
    files = _lock_files(item.config)
    if files is None or not _alone(item):
        return (yield)
    turnstile, lock = files
    with _held(turnstile, fcntl.LOCK_EX), _held(lock, fcntl.LOCK_EX):
        return (yield)
