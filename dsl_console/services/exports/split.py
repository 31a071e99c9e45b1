"""The Escalation Summary Log of a large database, built by two processes at once.

At 100,000 cases the log is about six seconds of Python work: reading and decrypting the
cases, replaying each one's stages, wording its row, encoding it for the file. A helper
process builds and encodes the rows of half the cases (by id) and this process the other
half, then merges and writes every row; both read in the same order and the rows are merged
back into it, so the file is the same as one built alone. The helper sends rows in chunks and
waits when AHEAD chunks are not yet merged, so memory stays flat whatever the size.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from datetime import date, datetime
from multiprocessing.connection import Connection
from typing import Any

from dsl_console.core.records import Case
from dsl_console.errors import StoreError
from dsl_console.services import helpers
from dsl_console.services.exports.summary_log import Encoded, LogFormat, encoder, row_maker
from dsl_console.services.session import Session
from dsl_console.store.cases import CaseKey, iter_cases, iter_keyed_cases

# Below this many cases a helper's start-up costs more than it saves.
SPLIT_FROM = 4_000
CHUNK = 500  # rows per message from the helper
# Which cases each side builds: ids by their remainder when divided by 2. This process also
# merges and writes every row, but the helper pickles its rows and this process runs the
# integrity check's thread beside: measured at 100,000 cases, halves keep both sides busy.
OURS: tuple[tuple[int, ...], int] = ((0,), 2)
THEIRS: tuple[tuple[int, ...], int] = ((1,), 2)
AHEAD = 8  # chunks received and not yet merged, at most
# Rows this process builds ahead, at most, while the helper's next chunk has not come.
READY_AHEAD = 10_000
STOPPED = "the export's helper process stopped; nothing was written, try again"


def split_log_rows(
    session: Session,
    *,
    opened_from: date | None,
    opened_to_date: date | None,
    as_of: datetime,
    initials: bool,
    cases: int,
    fmt: LogFormat,
) -> Iterator[Encoded]:
    """The log's rows in opening order, encoded for `fmt`; shared with a helper when the range
    holds SPLIT_FROM cases or more (`cases`: how many it holds) and a helper can start."""
    spec = {
        "fmt": fmt,
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
    cases_in_range = iter_cases(
        opened_from=opened_from, opened_to_date=opened_to_date, with_voided=False
    )
    return map(_maker(session, spec), cases_in_range)


def _keyed_rows(
    session: Session, spec: dict[str, Any], part: tuple[tuple[int, ...], int]
) -> Iterator[tuple[CaseKey, Encoded]]:
    make = _maker(session, spec)
    keyed = iter_keyed_cases(
        opened_from=spec["opened_from"],
        opened_to_date=spec["opened_to_date"],
        part=part,
        with_voided=False,
    )
    return ((key, make(case)) for key, case in keyed)


def _maker(session: Session, spec: dict[str, Any]) -> Callable[[Case], Encoded]:
    row = row_maker(
        session.registry,
        session.calendar,
        school=spec["school"],
        as_of=spec["as_of"],
        initials=spec["initials"],
    )
    encode = encoder(spec["fmt"])
    return lambda case: encode(row(case))


def _merged(
    session: Session, spec: dict[str, Any], process: Any, conn: Connection
) -> Iterator[Encoded]:
    helper = _HelperRows(process, conn)
    try:
        helpers.send_key(conn, session.database_key)
        conn.send((helpers.opening(session), spec))
        helper.start()
        yield from _merge(_keyed_rows(session, spec, OURS), helper)
    except OSError:
        raise StoreError(STOPPED) from None
    finally:
        helper.close()


Keyed = tuple[CaseKey, Encoded]


def _merge(ours: Iterator[Keyed], helper: _HelperRows) -> Iterator[Encoded]:
    """Both sides' rows, in key order (keys are unique).

    While the helper's next chunk has not come, this process builds its own rows ahead (up to
    READY_AHEAD) rather than wait: the helper takes about 0.4 s to start and open the
    database, during which a plain merge sat idle after one row.
    """
    ready: deque[Keyed] = deque()
    ours_left = True

    def build_one() -> None:
        nonlocal ours_left
        item = next(ours, None)
        if item is None:
            ours_left = False
        else:
            ready.append(item)

    def next_chunk() -> list[Keyed] | None:
        while True:
            try:
                return helper.take(block=not (ours_left and len(ready) < READY_AHEAD))
            except queue.Empty:
                build_one()

    chunk = next_chunk()
    while chunk is not None:
        for key, row in chunk:
            while True:
                if not ready and ours_left:
                    build_one()
                if not ready or ready[0][0] > key:
                    break
                yield ready.popleft()[1]
            yield row
        chunk = next_chunk()
    yield from (row for _, row in ready)
    yield from (row for _, row in ours)


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

    def take(self, *, block: bool) -> list[Keyed] | None:
        """The next chunk of rows, None once the helper is done; queue.Empty if not `block`
        and none has come."""
        kind, payload = self.chunks.get(block=block)
        if kind == "done":
            return None
        if kind == "error":
            raise StoreError(payload)
        return payload  # type: ignore[no-any-return]

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
        key = helpers.receive_key(conn)
        opened, spec = conn.recv()
    except EOFError:
        return
    session = helpers.reader(key, opened)
    try:
        chunk: list[Keyed] = []
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
