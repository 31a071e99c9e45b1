"""Fixtures for the console's pilot tests (helpers live in console_kit.py).

Every app is built by `create_app`, the factory the command line uses, on a tmp_path database
of fictional cases, with a clock the test moves by hand:

    from console_kit import unlocked

    async def test_something(make_app, clock):
        app = make_app()                      # seeded with CASES, unlocked at once
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await unlocked(pilot)    # the case list is up and filled
            clock.advance(hours=6)
            ...

`async def` tests run on pytest-asyncio (asyncio_mode = "auto" in pyproject.toml), each in a
fresh event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from console_kit import CASES, FAST_KDF, NOW, PASSPHRASE, SCHOOL, USER, FakeClock, seed

from dsl_console.config import Config
from dsl_console.core.records import Case
from dsl_console.services.opening import Opener
from dsl_console.services.session import Credentials
from dsl_console.ui.app import DslConsoleApp, create_app


@pytest.fixture
def clock() -> FakeClock:
    """The injected clock, at Monday 23 November 2026 11:00 until a test moves it."""
    return FakeClock(NOW)


@pytest.fixture
def config() -> Config:
    """The school's settings for tests (defaults: England, 17:00, 60 s sweep, 5 min lock)."""
    return Config(school=SCHOOL)


@pytest.fixture
def make_app(tmp_path: Path, clock: FakeClock, config: Config) -> Callable[..., DslConsoleApp]:
    """Build the console through create_app on a seeded tmp_path database.

    make_app(cases=CASES | [...] | "demo" | (), unlocked=True, seed_db=True, config=..., demo=False,
             early=False)
    `unlocked` passes the test account's credentials (as the env variables would), so the
    console opens straight onto the case list; `seed_db=False` leaves no database (first run).
    """

    def make(
        cases: Sequence[Case] | str = CASES,
        *,
        unlocked: bool = True,
        seed_db: bool = True,
        config: Config = config,
        demo: bool = False,
        path: Path | None = None,
        early: bool = False,
    ) -> DslConsoleApp:
        path = path or tmp_path / "cases.db"
        if seed_db and not path.exists():
            seed(path, config, clock(), cases)
        credentials = Credentials(USER, PASSPHRASE) if unlocked else None
        return create_app(
            path,
            config,
            clock=clock,
            credentials=credentials,
            demo=demo,
            kdf_cost=FAST_KDF,
            # As `dsl-console` does with credentials in its environment: the unlock begun
            # before the console is built.
            early=Opener(path, config, clock, FAST_KDF).begin(credentials)
            if early and credentials is not None
            else None,
        )

    return make
