"""Helpers for the console's pilot tests: a fake clock, fictional cases, waiting on the app.

Every app is built by `create_app`, the factory the command line uses, on a tmp_path database
of fictional cases, with a clock the test moves by hand.

    async def test_something(make_app):
        app = make_app()                      # seeded with CASES, unlocked at once
        async with app.run_test(size=(100, 30)) as pilot:
            await unlocked(pilot)             # the case list is up and filled
            ...
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerFailed

from dsl_console.config import Config
from dsl_console.core.clock import parse_moment
from dsl_console.core.records import Case, Child, Event, EventKind
from dsl_console.services.casebook import import_cases
from dsl_console.services.demo import demo_cases
from dsl_console.services.session import Credentials, open_session
from dsl_console.ui.app import DslConsoleApp
from dsl_console.ui.screens.case_list import CaseListScreen
from dsl_console.ui.widgets.case_table import CaseTable
from tests.fictional import FAST_KDF as FAST_KDF  # the kit's users take these from here too
from tests.fictional import NOW as NOW
from tests.fictional import PASSPHRASE as PASSPHRASE
from tests.fictional import SCHOOL as SCHOOL
from tests.fictional import USER as USER


class FakeClock:
    """A clock the test moves: call it for the time, `set` or `advance` to move it."""

    def __init__(self, moment: datetime = NOW) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, moment: datetime | str) -> None:
        """Jump to a moment (an ISO string without offset is London time)."""
        self.moment = parse_moment(moment) if isinstance(moment, str) else moment

    def advance(self, **delta: float) -> None:
        """Move forward by a timedelta's keywords, e.g. advance(minutes=6)."""
        self.moment += timedelta(**delta)


def at(text: str) -> datetime:
    """A London local time such as '2026-11-23 09:00' as an aware UTC moment."""
    return parse_moment(text)


def make_case(
    ref: str,
    name: str,
    opened: str,
    *,
    procedure: str = "liverpool",
    dob: date = date(2014, 5, 2),
    events: Sequence[Event] = (),
    **fields: object,
) -> Case:
    """A fictional case opened at a London local time."""
    return Case(
        ref=ref,
        procedure=procedure,
        opened_at=at(opened),
        child=Child(name, dob),
        other_agency=str(fields.pop("other_agency", "Children's social care")),
        events=tuple(events),
        **fields,  # type: ignore[arg-type]
    )


def event(when: str, kind: str, **fields: object) -> Event:
    """An event at a London local time."""
    return Event(at=at(when), kind=kind, **fields)  # type: ignore[arg-type]


# The seeded cases, as they stand at NOW (Monday 23 November 2026, 11:00), in the order the list
# shows them: immediate risk, then by due (overdue first), then no deadline.
CASES = (
    # Immediate risk raised this morning: escalate by 17:00 today.
    make_case("SCH-2026-001", "Ada Example", "2026-11-23 09:00", immediate_risk=True),
    # Gloucestershire stage 1 within 5 working days of Thu 12 Nov: due Thu 19, overdue.
    make_case(
        "SCH-2026-002",
        "Ben Sample",
        "2026-11-12 10:00",
        procedure="gloucestershire",
        dob=date(2016, 1, 20),
        other_agency="Police",
    ),
    # Liverpool stage 1 by day 2 from Fri 20 Nov: due today (Mon 23) 17:00.
    make_case("SCH-2026-003", "Cara Placeholder", "2026-11-20 09:00", dob=date(2012, 9, 9)),
    # Newham stage 1 within 3 working days of today: Thu 26 Nov.
    make_case(
        "SCH-2026-004",
        "Dev Testcase",
        "2026-11-23 09:30",
        procedure="newham",
        dob=date(2018, 3, 3),
        other_agency="School nursing",
    ),
    # On a CP plan, escalated to line managers: IRO to be notified; stage 2 due Fri 27.
    make_case(
        "SCH-2026-007",
        "Gus Dummy",
        "2026-11-18 09:00",
        procedure="gloucestershire",
        cp_plan=True,
        dob=date(2015, 7, 1),
        events=(event("2026-11-20 10:00", EventKind.ESCALATED, stage=2, by="J. Lead"),),
    ),
    # City and Hackney: no timescales.
    make_case(
        "SCH-2026-005",
        "Eli Fictional",
        "2026-11-16 09:00",
        procedure="city-hackney",
        dob=date(2013, 2, 2),
        other_agency="Early help",
    ),
    # Resolved early this month.
    make_case(
        "SCH-2026-006",
        "Fay Madeup",
        "2026-11-02 09:00",
        dob=date(2017, 4, 4),
        events=(event("2026-11-10 15:00", EventKind.RESOLVED, note="Agreed a plan."),),
    ),
    # An old record whose child turned 25 last year: due for retention review.
    make_case(
        "SCH-2016-001",
        "Hana Specimen",
        "2016-03-01 09:00",
        dob=date(2000, 1, 1),
        events=(event("2016-03-08 12:00", EventKind.RESOLVED, note="Resolved at stage 1."),),
    ),
)
OPEN_ORDER = [
    "SCH-2026-001",
    "SCH-2026-002",
    "SCH-2026-003",
    "SCH-2026-004",
    "SCH-2026-007",
    "SCH-2026-005",
]


def seed(path: Path, config: Config, now: datetime, cases: Sequence[Case] | str) -> None:
    """Create the database with the test account and cases ('demo' for the demo's cases)."""
    session = open_session(
        path,
        config,
        Credentials(USER, PASSPHRASE),
        create=True,
        clock=lambda: now,
        kdf_cost=FAST_KDF,
    )
    try:
        if cases == "demo":
            cases = demo_cases(now, session.registry, session.calendar)
        if cases:
            import_cases(session, list(cases))  # type: ignore[arg-type]
    finally:
        session.close()


# -- waiting on the app (on its workers and messages, never on a fixed sleep) ---------------------
async def settle(pilot: Pilot, rounds: int = 50) -> None:
    """Wait until no worker is running and the messages they posted are handled."""
    app = pilot.app
    for _ in range(rounds):
        try:
            await app.workers.wait_for_complete()
        except (WorkerFailed, WorkerCancelled):
            pass  # reported to the user, or replaced by a newer one: the test looks at the screen

        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            await pilot.pause()
            if not any(w.is_running for w in app.workers):
                return
    raise AssertionError("the console's workers never settled")


async def wait_until(
    pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0, what: str = ""
) -> None:
    """Wait (handling messages) until a condition a user would see holds, or fail."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)  # looked at every 20 ms: a wait ends soon after its moment


async def unlocked(pilot: Pilot) -> CaseListScreen:
    """Wait for the case list to be up and filled; return it."""
    app = pilot.app

    def listed() -> bool:
        # The screen is current a moment before its table is mounted: look, do not insist.
        screen = app.screen
        return isinstance(screen, CaseListScreen) and any(
            table.loaded for table in screen.query(CaseTable)
        )

    await wait_until(pilot, listed, what="the case list")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, CaseListScreen)
    return screen


def table_lines(table: CaseTable) -> list[str]:
    """The table as the user sees it, one string per screen line (header first)."""
    height = table.scrollable_content_region.height
    return [table.render_line(y).text.rstrip() for y in range(height)]


def burst(app: DslConsoleApp, *keys: str) -> None:
    """Post keys to the console all at once, as they arrive in one burst over SSH: without
    waiting for each to be handled, as Pilot.press does. A key is a character (" " is the
    space bar) or a key name such as "tab", "ctrl+s" or "alt+n" (Escape and n, as a terminal
    reads them together)."""
    from textual import events

    for key in keys:
        if key == " ":
            app.post_message(events.Key("space", " "))
        elif len(key) == 1:
            app.post_message(events.Key(key, key))
        elif key.startswith("alt+"):
            app.post_message(events.Key(key, key.removeprefix("alt+")))
        else:
            app.post_message(events.Key(key, None))


def notices(app: DslConsoleApp) -> list[str]:
    """The text of every notice shown and not yet taken down: the toasts, and the lines of
    the case list's notice bar."""
    listing = app.case_list
    shown = listing.notice_bar if listing is not None else None
    bar = [n.text for n in shown.notices] if shown is not None else []
    return [n.message for n in app._notifications] + bar


# -- another process -----------------------------------------------------------------------------
OTHER_PROCESS = r"""
import json, sys
from datetime import datetime
from pathlib import Path
from dsl_console.config import Config
from dsl_console.services.casebook import import_cases, record_event
from dsl_console.services.session import Credentials, open_session
from dsl_console.services.transfer import _event, read_document
from dsl_console.core.clock import parse_moment

args = json.loads(sys.argv[1])
now = parse_moment(args["now"])
session = open_session(Path(args["db"]), Config(), Credentials(args["user"], args["passphrase"]),
                       clock=lambda: now)
try:
    if "document" in args:
        cases = read_document(json.dumps(args["document"]).encode(), session.registry, now, session.calendar)
        import_cases(session, cases)
    for ref, raw in args.get("events", []):
        record_event(session, ref, _event(raw, "event"))
finally:
    session.close()
"""


def in_another_process(
    db_path: Path,
    now: datetime,
    *,
    cases: Sequence[dict] = (),
    events: Sequence[tuple[str, dict]] = (),
) -> None:
    """Write to the database from a separate Python process, as a second console would.

    `cases` are import-format dicts; `events` are (ref, import-format event dict) pairs.
    """
    args: dict[str, object] = {
        "db": str(db_path),
        "now": now.isoformat(),
        "user": USER,
        "passphrase": PASSPHRASE,
        "events": list(events),
    }
    if cases:
        args["document"] = {"format": "dsl-console/1", "cases": list(cases)}
    done = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert done.returncode == 0, done.stderr[-2000:]


def case_doc(ref: str, name: str, opened_at: datetime, **fields: object) -> dict:
    """A fictional case in the import format."""
    doc: dict[str, object] = {
        "ref": ref,
        "procedure": "liverpool",
        "opened_at": opened_at.isoformat(),
        "child": {"name": name, "dob": "2014-05-02"},
        "other_agency": "Children's social care",
        "events": [],
    }
    doc.update(fields)
    return doc
