"""Roles through the services (not only the CLI), and locking: a closed session reads nothing
more, in any thread."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from dsl_console.config import Config
from dsl_console.core.records import Event
from dsl_console.errors import AccessError, ConsoleError
from dsl_console.services import accounts, casebook
from dsl_console.services.session import Credentials, open_session
from dsl_console.store.cases import load_case
from dsl_console.store.listing import View, count
from dsl_console.store.users import Role
from tests.conftest import FAST_KDF, NOW
from tests.security.conftest import add_fictional_cases

READER = Credentials("sam.reader", "fictional reader passphrase")


def test_a_read_only_account_cannot_change_records_through_the_casebook(
    session_factory, new_db: Path
) -> None:
    dsl = session_factory()
    add_fictional_cases(dsl, "SCH-2026-001")
    accounts.add_account(dsl, READER.user, Role.READ_ONLY, READER.passphrase, kdf_cost=FAST_KDF)
    case = load_case("SCH-2026-001")
    dsl.close()

    reader = open_session(new_db, Config(), READER, clock=lambda: NOW)
    try:
        assert not reader.can_write
        with pytest.raises(AccessError, match="read-only"):
            casebook.import_cases(reader, [replace(case, ref="SCH-2026-002")])
        with pytest.raises(AccessError, match="read-only"):
            casebook.open_case(reader, replace(case, ref="SCH-2026-003", events=()))
        with pytest.raises(AccessError, match="read-only"):
            casebook.record_event(
                reader,
                "SCH-2026-001",
                Event(at=NOW - timedelta(hours=1), kind="note", note="fictional note"),
            )
        # Viewing is allowed, and the view is on the record.
        assert casebook.view_case(reader, "SCH-2026-001").ref == "SCH-2026-001"
        assert count(View.OPEN, "", NOW) == 1
        assert load_case("SCH-2026-001").events == case.events
    finally:
        reader.close()


def test_a_closed_session_reads_nothing_more_in_any_thread(session_factory) -> None:
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001")
    ready, locked, done = threading.Event(), threading.Event(), threading.Event()
    outcome: list[object] = []

    def worker() -> None:
        # A worker thread (the console's sweep) holds its own connection.
        load_case("SCH-2026-001")
        ready.set()
        locked.wait(10)
        try:
            outcome.append(load_case("SCH-2026-001").ref)
        except ConsoleError as exc:
            outcome.append(str(exc))
        except Exception as exc:  # anything but data is acceptable here
            outcome.append(type(exc).__name__)
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    assert ready.wait(10)
    session.close()  # the idle lock
    locked.set()
    assert done.wait(10)
    thread.join()
    assert outcome != ["SCH-2026-001"]
    assert outcome == ["the database is locked: unlock it first"]
