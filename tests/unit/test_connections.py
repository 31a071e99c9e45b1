"""Connections handed from one worker thread to the next: warm, never stale, gone at the lock;
and the integrity check that a caller may run after drawing instead of at open."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from typing import Any

import pytest

from dsl_console.errors import StoreError
from dsl_console.services.demo import random_cases
from dsl_console.services.session import Session
from dsl_console.store import keyslots
from dsl_console.store.cases import insert_cases
from dsl_console.store.database import open_database
from dsl_console.store.listing import View, count
from tests.conftest import NOW, PASSPHRASE, USER


def in_thread(fn: Callable[[], Any]) -> Any:
    """Run fn in a new thread, as a console worker does, and return what it returned."""
    found: list[Any] = []
    failed: list[BaseException] = []

    def work() -> None:
        try:
            found.append(fn())
        except BaseException as exc:
            failed.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    if failed:
        raise failed[0]
    return found[0]


def test_the_next_worker_gets_the_last_ones_connection_and_sees_every_change(session_factory):
    session: Session = session_factory()
    db = session.db

    def borrowed() -> tuple[object, int]:
        with db.connection_context():
            return db.connection(), count(View.OPEN, "", NOW)

    first, before = in_thread(borrowed)
    cases = list(random_cases(NOW, session.registry, session.calendar, 5, seed=3, open_share=1))
    # Written by this (main) thread's own connection, committed.
    session.write(
        lambda: insert_cases(cases, session.registry, session.calendar, now=NOW, user="jo.lead")
    )
    second, after = in_thread(borrowed)
    assert second is first  # its page cache came with it
    assert after == before + len(cases)


def test_locking_closes_the_connections_kept_for_later(session_factory):
    session: Session = session_factory()
    db = session.db

    def borrowed() -> object:
        with db.connection_context():
            count(View.OPEN, "", NOW)
            return db.connection()

    kept = in_thread(borrowed)
    session.close()  # the idle lock
    with pytest.raises(Exception):  # noqa: B017 - closed: any use fails
        kept.execute("SELECT count(*) FROM escalation")  # type: ignore[attr-defined]
    with pytest.raises(StoreError, match="locked"):
        in_thread(borrowed)


def test_a_damaged_file_opened_unchecked_fails_the_later_check(session_factory, new_db, tmp_path):
    session: Session = session_factory()
    cases = list(random_cases(NOW, session.registry, session.calendar, 300, seed=3))
    session.write(
        lambda: insert_cases(cases, session.registry, session.calendar, now=NOW, user="jo.lead")
    )
    session.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    session.close()
    damaged = tmp_path / "damaged.db"
    shutil.copyfile(new_db, damaged)
    shutil.copyfile(keyslots.keys_path(new_db), keyslots.keys_path(damaged))
    key = keyslots.unwrap(keyslots.read_slots(keyslots.keys_path(damaged)), USER, PASSPHRASE)
    data = bytearray(damaged.read_bytes())
    # Mid-file: among the cases' pages, which opening the file does not read.
    data[len(data) // 2 + 100] ^= 0x5A
    damaged.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"damaged|integrity"):
        open_database(damaged, key)
    db = open_database(damaged, key, verify=False)
    try:
        assert db.integrity_ok() is False
    finally:
        db.forget_key()
    healthy = open_database(new_db, key, verify=False)
    try:
        assert healthy.integrity_ok() is True
    finally:
        healthy.forget_key()
