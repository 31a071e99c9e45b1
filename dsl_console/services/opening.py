"""How the console opens its database: the opener its unlock screen calls, and an unlock begun
before the console is built.

`dsl-console` started with an account and passphrase in its environment (a service account's
script, the benchmark) knows what it will unlock before Textual is even imported. Deriving the
key (Argon2id, which releases the interpreter lock) and opening the database take about a
third of a second, as long as importing the console's screens: begun in a thread at once, the
two overlap, and the unlock screen takes the session that is waiting for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from dsl_console.config import Config
from dsl_console.core.clock import Clock, system_clock
from dsl_console.services.session import Credentials, Session, open_session
from dsl_console.store.keyslots import DEFAULT_COST, KdfCost

# How often a `take` waiting for the open looks whether the console has closed meanwhile.
TAKE_SLICE_SECONDS = 0.1


class EarlyOpen:
    """A session being opened in a thread for given credentials, taken once."""

    def __init__(self, credentials: Credentials, opening: Callable[[], Session]) -> None:
        self._credentials: Credentials | None = credentials
        self._future: Future[Session] = Future()
        self._lock = threading.Lock()
        self._abandoned = threading.Event()
        # A daemon: quitting while the open is stuck (a file that blocks, a slow disk) must
        # not leave the process waiting for it. Cut off mid-write, the write was never
        # committed: SQLite's journal undoes it at the next open.
        threading.Thread(
            target=self._run, args=(opening,), name="dsl-console unlock", daemon=True
        ).start()

    def _run(self, opening: Callable[[], Session]) -> None:
        try:
            self._future.set_result(opening())
        except BaseException as exc:  # handed to whoever takes it, to report as the screen does
            self._future.set_exception(exc)

    def take_if_open(self, credentials: Credentials, wait: float) -> Session | None:
        """The session if, within `wait` seconds, it opened for these very credentials; else
        None, and a refusal or a slow open stays for `take` (the unlock screen shows it)."""
        with self._lock:
            if self._credentials is not credentials:
                return None
        try:
            session = self._future.result(timeout=wait)
        except Exception:  # still opening, or refused: left for `take`, whose caller reports it
            return None
        with self._lock:
            if self._credentials is not credentials:
                return None
            self._credentials = None
        return session

    def take(self, credentials: Credentials) -> Session | None:
        """The session, once open, if it was begun for these very credentials (re-raising what
        refused them); None if it was not, or was taken before. Waits for it if need be."""
        with self._lock:
            begun_for, self._credentials = self._credentials, None
        if begun_for is None:
            return None
        if begun_for is not credentials:
            # Someone else is unlocking: the early session, if it opens, is closed unused.
            self._future.add_done_callback(_close_unused)
            return None
        while True:
            try:
                return self._future.result(timeout=TAKE_SLICE_SECONDS)
            except TimeoutError:
                if self._abandoned.is_set():
                    self._future.add_done_callback(_close_unused)
                    return None

    def abandon(self) -> None:
        """The console is closing: a `take` still waiting gives up, and the session, if it
        opens after all, is closed unused."""
        self._abandoned.set()
        with self._lock:
            untaken, self._credentials = self._credentials is not None, None
        if untaken:  # a session taken is its taker's to close
            self._future.add_done_callback(_close_unused)


def _close_unused(future: Future[Session]) -> None:
    if future.exception() is None:
        future.result().close()


@dataclass(frozen=True)
class Opener:
    """Everything needed to open a session, bundled so the unlock screen never touches the
    app's."""

    db_path: Path
    config: Config
    clock: Clock = system_clock
    kdf_cost: KdfCost = DEFAULT_COST
    # The whole-file integrity check takes about a second at 100,000 cases: the console runs
    # it after drawing the list (DslConsoleApp), and at open only once a check has failed.
    verify_integrity: bool = False
    # An unlock begun before the console was built (`begin`), which the first `open` with the
    # same credentials takes.
    early: EarlyOpen | None = field(default=None, compare=False, repr=False)

    def begin(self, credentials: Credentials) -> EarlyOpen:
        """Begin unlocking the existing database for `credentials` in a thread, now."""
        return EarlyOpen(credentials, lambda: self.open(credentials, create=False))

    def open(self, credentials: Credentials, *, create: bool) -> Session:
        """Open (or create) the database: slow, so only ever called from a thread."""
        if not create and self.early is not None:
            session = self.early.take(credentials)
            if session is not None:
                return session
        session = open_session(
            self.db_path,
            self.config,
            credentials,
            create=create,
            clock=self.clock,
            kdf_cost=self.kdf_cost,
            verify_integrity=self.verify_integrity,
        )
        # This thread is about to end: close its connection now. Every later read opens a
        # connection of its own in its own worker.
        session.db.close()
        return session
