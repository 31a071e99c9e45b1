"""The Escalation Summary Log of a large database, built by two processes at once.

At 100,000 cases the log is about seven seconds of Python work: reading and decrypting the
cases, replaying each one's stages, wording its row, writing it. A helper process builds the
rows of two cases in three (by id) and this process the third, since it also merges and
writes every row; both read in the same order and the rows are merged back into it, so the
file is the same as one built alone. The helper sends rows in chunks and waits when AHEAD
chunks are not yet merged, so memory stays flat whatever the size.
"""

from __future__ import annotations

import heapq
import queue
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime
from multiprocessing.connection import Connection
from typing import Any

from dsl_console.core.records import Case
from dsl_console.errors import StoreError
from dsl_console.services import helpers
from dsl_console.services.exports.summary_log import row_maker
from dsl_console.services.session import Session
from dsl_console.store.cases import CaseKey, iter_cases, iter_keyed_cases

# Below this many cases a helper's start-up costs more than it saves.
SPLIT_FROM = 4_000
CHUNK = 500  # rows per message from the helper
# Which cases each side builds: ids by their remainder when divided by 3. This process also
# merges and writes every row, which costs about as much as building a third of them.
OURS: tuple[tuple[int, ...], int] = ((0,), 3)
THEIRS: tuple[tuple[int, ...], int] = ((1, 2), 3)
AHEAD = 8  # chunks received and not yet merged, at most
STOPPED = "the export's helper process stopped; nothing was written, try again"


def split_log_rows(
    session: Session,
    *,
    opened_from: date | None,
    opened_to_date: date | None,
    as_of: datetime,
    initials: bool,
    cases: int,
) -> Iterator[list[str]]:
    """The log's rows in opening order; shared with a helper when the range holds SPLIT_FROM
    cases or more (`cases`: how many it holds) and a helper can start."""
    spec = {
        "opened_from": opened_from,
        "opened_to_date": opened_to_date,
        "school": session.config.school,
        "as_of": as_of,
        "initials": initials,
        "chunk": CHUNK,
    }
    if cases >= SPLIT_FROM:
        try:
            process, conn = helpers.start(serve, "dsl-console export")
        except helpers.HelperUnavailable:
            pass
        else:
            return _merged(session, spec, process, conn)
    cases_in_range = iter_cases(opened_from=opened_from, opened_to_date=opened_to_date)
    return map(_maker(session, spec), cases_in_range)


def _keyed_rows(
    session: Session, spec: dict[str, Any], part: tuple[tuple[int, ...], int]
) -> Iterator[tuple[CaseKey, list[str]]]:
    make = _maker(session, spec)
    keyed = iter_keyed_cases(
        opened_from=spec["opened_from"], opened_to_date=spec["opened_to_date"], part=part
    )
    return ((key, make(case)) for key, case in keyed)


def _maker(session: Session, spec: dict[str, Any]) -> Callable[[Case], list[str]]:
    return row_maker(
        session.registry,
        session.calendar,
        school=spec["school"],
        as_of=spec["as_of"],
        initials=spec["initials"],
    )


def _merged(
    session: Session, spec: dict[str, Any], process: Any, conn: Connection
) -> Iterator[list[str]]:
    helper = _HelperRows(process, conn)
    try:
        conn.send((helpers.opening(session), spec))
        helper.start()
        ours = _keyed_rows(session, spec, OURS)
        for _, row in heapq.merge(ours, helper.rows(), key=lambda keyed: keyed[0]):
            yield row
    except OSError:
        raise StoreError(STOPPED) from None
    finally:
        helper.close()


class _HelperRows:
    """The helper's rows, taken off the pipe by a thread as they come, up to AHEAD chunks.

    Taking each chunk only when the merge reached it kept the two processes in lockstep, each
    waiting on the other for a third of the time.
    """

    def __init__(self, process: Any, conn: Connection) -> None:
        self.process, self.conn = process, conn
        self.chunks: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=AHEAD)
        self.thread = threading.Thread(target=self._receive, name="export rows", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _receive(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                message = ("error", STOPPED)
            self.chunks.put(message)
            if message[0] != "rows":
                return

    def rows(self) -> Iterator[tuple[CaseKey, list[str]]]:
        while True:
            kind, payload = self.chunks.get()
            if kind == "done":
                return
            if kind == "error":
                raise StoreError(payload)
            yield from payload

    def close(self) -> None:
        """End the helper, finished or not (the writing may have stopped on a full disk)."""
        helpers.end(self.process, 0.5)
        # The helper's end of the pipe is closed now, so the thread meets its end; what it
        # still holds is let go so that it can.
        while self.thread.is_alive():
            try:
                self.chunks.get(timeout=0.05)
            except queue.Empty:
                pass
        self.conn.close()


def serve(conn: Connection) -> None:
    """The helper: build the rows of every other case and send them in chunks."""
    helpers.quiet()
    try:
        opened, spec = conn.recv()
    except EOFError:
        return
    session = helpers.reader(opened)
    try:
        chunk: list[tuple[CaseKey, list[str]]] = []
        with session.db.connection_context():
            for keyed in _keyed_rows(session, spec, THEIRS):
                chunk.append(keyed)
                if len(chunk) == spec["chunk"]:
                    conn.send(("rows", chunk))
                    chunk = []
        conn.send(("rows", chunk))
        conn.send(("done", None))
    except (BrokenPipeError, EOFError):
        return  # the export stopped on the other side
    except StoreError as exc:
        conn.send(("error", str(exc)))
    except Exception as exc:
        # The kind of failure only: an exception's text could quote what a query read.
        conn.send(("error", f"the export failed ({type(exc).__name__}); nothing was written"))
    finally:
        session.close()
