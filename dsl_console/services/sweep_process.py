"""The console's background sweep: run where it cannot hold up typing, and told as news.

At 100,000 cases a sweep and the comparison of its results with what was already announced
are about a second of Python work. Run in a thread of the console, that work held the
interpreter lock against the thread that draws the screen: a filter keystroke typed meanwhile
took more than twice as long. `SweepProcess` runs both in a process of its own, on another
core, and sends back only the news (the notices and a digest of what the list shows), so the
console's thread just waits on a pipe. `LocalSweeper` is the same work in the calling thread,
for a machine where no process can be started.

Either way it is `services.sweep.sweep`, the function `dsl-console check` runs.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

from peewee import DatabaseError
from sqlcipher3 import dbapi2 as sqlcipher

from dsl_console.core.clock import local_date
from dsl_console.errors import StoreError
from dsl_console.services import helpers
from dsl_console.services.announcing import FlagMemory, SweepNews
from dsl_console.services.session import Session
from dsl_console.services.sweep import sweep
from dsl_console.store import audit
from dsl_console.store.cases import suspect_states
from dsl_console.store.database import explain_database_error

# How long closing waits for the process to stop before ending it forcibly.
STOP_WAIT_SECONDS = 2.0
# A sweep takes under a second at 100,000 cases. One that has not answered in this long is
# stuck: its process is ended and the next sweep starts a new one, so flags keep coming.
ANSWER_WAIT_SECONDS = 120.0

STOPPED = (
    "the background sweep stopped unexpectedly; it starts again with the next sweep "
    "(`dsl-console check` gives the flags meanwhile)"
)


# How often a sweep also looks, in SQL, for cached states that contradict the events (about
# 0.8 s at 100,000 cases): the sweeps in between, which another console's every write brings,
# reuse what it found.
SUSPECT_EVERY = timedelta(seconds=60)  # of the sweep's moment (the console's clock)


class LocalSweeper:
    """The sweep and its news, worked out in the calling thread."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.memory = FlagMemory()
        self._count = 0
        self._suspect: frozenset[str] = frozenset()
        self._suspect_at: datetime | None = None

    def news(self, as_of: datetime) -> SweepNews:
        """Sweep at `as_of` and say what is new since the last accepted news."""
        session = self.session
        # A connection for this sweep, given back after with no read transaction left open,
        # so that each sweep reads what was committed meanwhile (here, in a second console
        # or by an import).
        with session.db.connection_context():
            # As `check` does: a case whose cached state a write outside the console made
            # contradict its events (a risk cleared, a case marked closed) is judged from its
            # events, so the console announces what `check` would.
            last, found = self._suspect_at, frozenset[str]()
            if last is None or not last <= as_of < last + SUSPECT_EVERY:
                self._suspect, self._suspect_at = frozenset(suspect_states()), as_of
                found = self._suspect
            results = sweep(session, as_of, distrusted=self._suspect)
            changes = audit.head()[0]  # every change is audited: a new entry, a new list
        news = self.memory.compare(results, as_of, session.calendar)
        self._count += 1
        # The list also shows each child's age and, for cases that are not open, nothing that
        # a sweep sees: today's date and the audit trail's head cover those.
        listed = hashlib.blake2b(
            f"{news.digest}|{changes}|{local_date(as_of)}".encode(), digest_size=16
        ).hexdigest()
        # Sent only when just found, so that the console puts them right once per look, not
        # at every sweep until the next.
        return replace(news, digest=listed, number=self._count, suspect=found)

    def accept(self, news: SweepNews) -> None:
        """The news was shown: its flags count as announced from now on."""
        if news.number == self._count:
            self.memory.accept(news)

    def close(self) -> None:
        """Nothing to end: the session is closed by its owner."""


class SweepProcess:
    """The sweep for one unlocked session, in a process started on the first sweep.

    The process opens the database read-only with the session's key (sent down the pipe, not
    on a command line or in the environment) and keeps what was announced, so only notices
    cross the pipe. It ends when `close` is called (the idle lock, quitting), or by itself
    when the console's end of the pipe goes away.
    """

    def __init__(self, session: Session) -> None:
        # What the process needs to open the database, and the session's own key buffer
        # (wiped when the session locks); dropped by `close`.
        self._opening: helpers.Opening | None = helpers.opening(session)
        self._key: bytearray | None = session.database_key
        self._lock = threading.Lock()  # one sweep at a time through the pipe
        self._process: Any = None
        self._conn: Connection | None = None
        self._accepted = 0  # the number of the latest news shown, told with the next sweep
        self._closed = False
        self.answer_wait = ANSWER_WAIT_SECONDS

    def news(self, as_of: datetime) -> SweepNews:
        """Sweep at `as_of` and say what is new since the last accepted news."""
        with self._lock:
            if self._closed:
                raise StoreError("the database is locked: unlock it first")
            conn = self._conn if self._conn is not None else self._start()
            try:
                conn.send((as_of, self._accepted))
                if not conn.poll(self.answer_wait):
                    raise TimeoutError
                outcome, payload = conn.recv()
            except TimeoutError:
                # Stuck: it would not stop when asked either, so it is ended at once.
                self._stop(force=True)
                raise StoreError(STOPPED) from None
            except (EOFError, OSError):
                self._stop()
                raise StoreError(STOPPED) from None
        if outcome != "ok":
            raise StoreError(payload)
        return payload  # type: ignore[no-any-return]

    def accept(self, news: SweepNews) -> None:
        """The news was shown: its flags count as announced from the next sweep on."""
        self._accepted = news.number

    def close(self) -> None:
        """End the process, which holds the database key.

        Called on the UI thread when the console quits, so it does not wait for a sweep under
        way: that sweep's process is ended, and the sweep's own thread then meets a closed pipe.
        """
        self._closed = True
        self._opening = self._key = None
        if self._lock.acquire(blocking=False):
            try:
                self._stop()
            finally:
                self._lock.release()
        elif self._process is not None:
            self._process.kill()  # read-only: ending it mid-sweep loses nothing

    @property
    def pid(self) -> int | None:
        """The process's id while it runs."""
        return None if self._process is None else int(self._process.pid)

    def _start(self) -> Connection:
        process, ours = helpers.start(serve, "dsl-console sweep")
        # A new process remembers nothing: its first news announces every flag again, as
        # after unlocking.
        self._accepted = 0
        try:
            if self._key is None or self._opening is None:
                raise OSError("closed")
            helpers.send_key(ours, self._key)
            ours.send(self._opening)
        except OSError:
            process.kill()
            raise StoreError(STOPPED) from None
        self._process, self._conn = process, ours
        return ours

    def _stop(self, *, force: bool = False) -> None:
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            try:
                conn.send(None)
            except OSError:
                pass
            conn.close()
        if process is not None:
            helpers.end(process, 0 if force else STOP_WAIT_SECONDS)


def serve(conn: Connection) -> None:
    """The sweep process: open the database read-only, then answer sweeps until told to stop."""
    helpers.quiet()
    try:
        key = helpers.receive_key(conn)
        opened = conn.recv()
    except EOFError:
        return
    sweeper = LocalSweeper(helpers.reader(key, opened))
    pending: SweepNews | None = None
    try:
        while True:
            try:
                request = conn.recv()
            except EOFError:
                return
            if request is None:
                return
            as_of, accepted = request
            if pending is not None and pending.number == accepted:
                sweeper.accept(pending)
            outcome, answer = _answer(sweeper, as_of)
            if isinstance(answer, SweepNews):
                # What was announced stays here: at 100,000 cases it is tens of thousands of
                # entries, which the console would otherwise unpickle while the user types.
                pending, answer = answer, replace(answer, announced={})
            conn.send((outcome, answer))
    finally:
        sweeper.session.close()


def _answer(sweeper: LocalSweeper, as_of: datetime) -> tuple[str, Any]:
    try:
        return "ok", sweeper.news(as_of)
    except StoreError as exc:
        return "error", str(exc)
    except (DatabaseError, sqlcipher.DatabaseError) as exc:
        return "error", str(explain_database_error(exc, sweeper.session.path))
    except Exception as exc:
        # The kind of failure only: an exception's text could quote what a query read.
        return "error", f"the background sweep failed ({type(exc).__name__}); it tries again"
