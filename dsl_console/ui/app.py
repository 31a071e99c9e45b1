"""The console application and its factory, shared by the command line and the tests."""

from __future__ import annotations

import os
from pathlib import Path

from textual.app import App

from dsl_console.config import Config
from dsl_console.core.clock import Clock, system_clock
from dsl_console.services.session import ENV_PASSPHRASE, ENV_USER, Credentials, Session
from dsl_console.store.keyslots import DEFAULT_COST, KdfCost


class DslConsoleApp(App[int]):
    """The DSL Console: unlock, the case list, the background sweep and the idle lock."""

    TITLE = "DSL Console"

    def __init__(
        self,
        db_path: Path,
        config: Config,
        *,
        clock: Clock = system_clock,
        credentials: Credentials | None = None,
        demo: bool = False,
        kdf_cost: KdfCost = DEFAULT_COST,
    ) -> None:
        super().__init__()
        self.db_path = db_path
        self.config = config
        self.clock = clock
        self.credentials = credentials
        self.demo = demo
        self.kdf_cost = kdf_cost
        self.session: Session | None = None

    def now(self):  # type: ignore[no-untyped-def]
        """The current moment from the injected clock."""
        return self.clock()

    def case_changed(self, ref: str = "") -> None:
        """Call after any write: refresh the list and run a sweep."""

    def open_case(self, ref: str) -> None:
        """Show one case's stage timeline."""
        try:
            from dsl_console.ui.screens.case_screen import CaseScreen
        except ImportError:
            self.notify("The case screen is not available yet.", severity="warning")
            return
        self.push_screen(CaseScreen(ref))


def create_app(
    db_path: Path,
    config: Config,
    *,
    clock: Clock = system_clock,
    credentials: Credentials | None = None,
    demo: bool = False,
    kdf_cost: KdfCost = DEFAULT_COST,
) -> DslConsoleApp:
    """The console, as the command line and the tests build it."""
    return DslConsoleApp(
        db_path, config, clock=clock, credentials=credentials, demo=demo, kdf_cost=kdf_cost
    )


def run_console(
    db_path: Path,
    config: Config,
    *,
    credentials: Credentials | None = None,
    demo: bool = False,
) -> int:
    """Run the console in this terminal; the exit status (0 on a normal quit)."""
    if credentials is None:
        user, passphrase = os.environ.get(ENV_USER), os.environ.get(ENV_PASSPHRASE)
        if user and passphrase:
            credentials = Credentials(user, passphrase)
    app = create_app(db_path, config, credentials=credentials, demo=demo)
    app.run()
    return app.return_code or 0
