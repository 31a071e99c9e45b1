"""Fixtures for every test: a private home, no inherited credentials, fictional data, fast keys."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dsl_console.config import Config
from dsl_console.services.session import Credentials, Session, open_session
from tests.fictional import FAST_KDF, NOW, PASSPHRASE, USER

# Run-wide plugins: the timed tests run alone under xdist; the reliability figures' summary.
pytest_plugins = ["tests.run_alone", "tests.reliability.figures"]


def process_running(pid: int) -> bool:
    """Whether a process (a child of this one, reaped once it ended) still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(autouse=True, scope="session")
def keys_at_a_brisk_pace() -> Iterator[None]:
    """Pilot waits, after each key it presses, for the process to sit idle through one of
    Textual's 20 ms sleeps, twice: 40 ms a key at the least, about a hundred with the redraw,
    over thousands of keys a run. For key presses only, the sleep is 5 ms: each key is still
    handled before the next is sent, and `Pilot.press` then waits for the screen's messages
    as before. Clicks and pauses keep Textual's own pace (a click at 5 ms once pressed a
    button under a half-drawn screen). Textual is pinned (pyproject.toml), so its module is as
    read."""
    import asyncio
    import time

    import textual.app

    async def brisk(min_sleep: float = 0.005, max_sleep: float = 1) -> None:
        # textual._wait.wait_for_idle, with 5 ms for its 20 ms.
        start = time.monotonic()
        while True:
            cpu = time.process_time()
            await asyncio.sleep(0.005)
            elapsed = time.monotonic() - start
            if elapsed >= max_sleep or (
                elapsed > min_sleep and time.process_time() - cpu < 0.005 / 20
            ):
                return

    before = textual.app.wait_for_idle
    textual.app.wait_for_idle = brisk  # what App._press_keys calls between keys
    yield
    textual.app.wait_for_idle = before


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the developer's own data, config and credentials out of every test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    for name in (
        "DSL_CONSOLE_DB",
        "DSL_CONSOLE_CONFIG",
        "DSL_CONSOLE_USER",
        "DSL_CONSOLE_PASSPHRASE",
        "DSL_CONSOLE_NEW_PASSPHRASE",
        "SUDO_USER",  # under sudo the console is in server mode: only where a test says so
        "SUDO_UID",
        # pytest-xdist exports its own terminal's width to its workers, and a console started
        # with COLUMNS takes it for the terminal's (Python's shutil reads it first): a tmux
        # pane 200 wide drew 80. A DSL's shell does not export them.
        "COLUMNS",
        "LINES",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(USER, PASSPHRASE)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cases.db"


@pytest.fixture
def new_db(db_path: Path, credentials: Credentials) -> Path:
    """An empty encrypted database with one DSL account (cheap key derivation)."""
    open_session(db_path, Config(), credentials, create=True, kdf_cost=FAST_KDF).close()
    return db_path


@pytest.fixture
def session_factory(new_db: Path, credentials: Credentials) -> Iterator[Callable[..., Session]]:
    """Open sessions on the test database with a chosen clock and config."""
    opened: list[Session] = []

    def make(now: datetime = NOW, config: Config | None = None) -> Session:
        session = open_session(new_db, config or Config(), credentials, clock=lambda: now)
        opened.append(session)
        return session

    yield make
    for session in opened:
        session.close()


def seed_many(session: Session, count: int, *, seed: int, start: int) -> Session:
    """The demo's cases and `count` random ones (open and resolved), written as one import."""
    from dsl_console.services.demo import demo_cases, random_cases
    from dsl_console.store.cases import insert_cases

    cases = demo_cases(NOW, session.registry, session.calendar) + list(
        random_cases(NOW, session.registry, session.calendar, count, seed=seed, start=start)
    )
    session.write(
        lambda: insert_cases(cases, session.registry, session.calendar, now=NOW, user=USER)
    )
    return session


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, new_db: Path) -> Path:
    """Environment for running the CLI in-process against the test database."""
    monkeypatch.setenv("DSL_CONSOLE_USER", USER)
    monkeypatch.setenv("DSL_CONSOLE_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("DSL_CONSOLE_DB", str(new_db))
    return new_db


def document(*cases: dict) -> str:
    """A dsl-console/1 document."""
    return json.dumps({"format": "dsl-console/1", "cases": list(cases)})


def case_json(ref: str = "SCH-2026-014", **overrides: object) -> dict:
    """A fictional case in the import format, with overrides."""
    base: dict = {
        "ref": ref,
        "procedure": "liverpool",
        # A Monday before the tests' clocks (NOW, and the real one): no opening may be future.
        "opened_at": "2026-11-16T09:30:00+00:00",
        "child": {"name": "Ada Example", "dob": "2014-05-02"},
        "other_agency": "Children's social care",
        "level_of_need": "s47",
        "cp_plan": False,
        "looked_after": False,
        "immediate_risk": False,
        "reason": "threshold",
        "summary": "Referral declined as below threshold; school disagrees.",
        "events": [],
    }
    base.update(overrides)
    return base


@pytest.fixture(scope="session")
def login() -> Iterator[Any]:
    """A fictional OS login with a group of its own, as a DSL's login on the school server
    is (server mode: README, the DSL team). Made for the test run and removed after it; it
    needs root (CI runs as root), so tests that need it are skipped otherwise."""
    import pwd
    import shutil
    import subprocess

    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("making an OS login for the test needs root and useradd")
    name = f"dxdsl{os.getpid() % 100000}"
    made = subprocess.run(
        ["useradd", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"useradd failed: {made.stderr.strip()}")
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], capture_output=True)


# A database written by an earlier release's own code, before duties and before signatures
# (tests/fixtures/schema3/README.md), with the credentials it was made with.
SCHEMA3 = Path(__file__).parent / "fixtures" / "schema3"
SCHEMA3_CREDENTIALS = Credentials("jo.lead", "fictional test passphrase")


@pytest.fixture
def old_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the schema-3 database, its key file beside it, and the CLI's environment
    set to unlock it."""
    for name in ("cases.db", "cases.db.keys"):
        shutil.copy(SCHEMA3 / name, tmp_path / name)
        (tmp_path / name).chmod(0o600)
    monkeypatch.setenv("DSL_CONSOLE_DB", str(tmp_path / "cases.db"))
    monkeypatch.setenv("DSL_CONSOLE_USER", SCHEMA3_CREDENTIALS.user)
    monkeypatch.setenv("DSL_CONSOLE_PASSPHRASE", SCHEMA3_CREDENTIALS.passphrase)
    return tmp_path / "cases.db"
