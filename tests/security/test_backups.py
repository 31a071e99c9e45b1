"""Backups are encrypted, consistent while the console writes, and restorable; a restore checks
the backup first, refuses a damaged one or the wrong person, and keeps what it replaces."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dsl_console.config import Config
from dsl_console.errors import AccessError, InputError, StoreError
from dsl_console.services import accounts
from dsl_console.services.backups import make_backup, restore_backup
from dsl_console.services.session import Credentials, open_session
from dsl_console.store import audit, keyslots
from dsl_console.store.listing import View, count
from dsl_console.store.users import Role
from tests.conftest import FAST_KDF, NOW, PASSPHRASE, USER
from tests.security.conftest import add_fictional_cases, database_key, flip_middle, raw_connect

DSL = Credentials(USER, PASSPHRASE)
READER = Credentials("sam.reader", "fictional reader passphrase")


def case_count(db: Path, key: bytes) -> int:
    conn = raw_connect(db, key)
    try:
        return int(conn.execute("SELECT count(*) FROM escalation").fetchone()[0])
    finally:
        conn.close()


def restore(file: Path, db: Path, creds: Credentials = DSL) -> Path | None:
    return restore_backup(file, db, Config(), creds, clock=lambda: NOW)


def backup_of_one_case(session_factory, out: Path) -> Path:  # type: ignore[no-untyped-def]
    """A backup of a database holding one fictional case, the session closed after."""
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001")
    backup = make_backup(session, out)
    session.close()
    return backup


def test_a_backup_is_consistent_while_the_console_writes(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    # One session (the models are bound to one database per process); the writer thread has
    # its own connection, as the console's workers do.
    console = session_factory()
    add_fictional_cases(console, "SCH-2026-000")
    stop = threading.Event()
    written: list[str] = []

    def keep_writing() -> None:
        n = 1
        while not stop.is_set() and n < 200:
            ref = f"SCH-2026-{n:03d}"
            add_fictional_cases(console, ref)
            written.append(ref)
            n += 1

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        backups = [make_backup(console, tmp_path / f"b{i}.db") for i in range(3)]
    finally:
        stop.set()
        thread.join()
    key = database_key(new_db)
    counts = []
    for backup in backups:
        conn = raw_connect(backup, key)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # Every case in a backup is whole: its row and its child's row both there.
        assert conn.execute(
            "SELECT count(*) FROM escalation e LEFT JOIN child c ON e.child_id = c.id "
            "WHERE c.id IS NULL"
        ).fetchone() == (0,)
        counts.append(conn.execute("SELECT count(*) FROM escalation").fetchone()[0])
        conn.close()
        assert not backup.with_name(backup.name + "-wal").exists()  # one self-contained file
    assert counts == sorted(counts) and counts[0] >= 1
    assert len(written) > 0  # the writer really was writing meanwhile
    assert [e.action for e in audit.lines(limit=500)].count("backup") == 3


def test_restore_brings_back_the_backup_and_keeps_the_replaced_database(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001")
    backup = make_backup(session, tmp_path / "b.db")
    add_fictional_cases(session, "SCH-2026-002")  # after the backup
    session.close()
    key = database_key(new_db)

    aside = restore(backup, new_db)

    assert aside is not None and aside.name.startswith("cases.db.before-restore-20261123T1100")
    assert case_count(new_db, key) == 1
    assert case_count(aside, key) == 2  # nothing lost: the replaced database, whole
    assert keyslots.keys_path(aside).exists()
    for suffix in ("-wal", "-shm", "-journal"):
        assert not new_db.with_name(new_db.name + suffix).exists()
    assert not list(tmp_path.glob(".*restore*"))
    restored = session_factory()
    entries = list(audit.lines(limit=5))
    # The entry says where the replaced database went; the backup's name, the user's text,
    # is not in it.
    assert any(
        e.action == "backup-restored" and e.user == USER and aside.name in e.detail for e in entries
    )
    assert not any("b.db" in e.detail for e in entries if e.action == "backup-restored")
    assert audit.verify()[1] is None
    assert count(View.OPEN, "", NOW) == 1
    restored.close()


def test_a_damaged_or_truncated_backup_is_refused_and_nothing_changes(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001", "SCH-2026-002")
    backup = make_backup(session, tmp_path / "b.db")
    session.close()
    live = new_db.read_bytes()
    good = backup.read_bytes()

    flip_middle(backup)
    with pytest.raises(StoreError, match="damaged") as flipped:
        restore(backup, new_db)
    assert "nothing was changed" in str(flipped.value)

    backup.write_bytes(good[: len(good) // 2])
    with pytest.raises(StoreError, match="damaged"):
        restore(backup, new_db)

    backup.write_bytes(good[:100])
    with pytest.raises(StoreError, match="damaged"):
        restore(backup, new_db)

    assert new_db.read_bytes() == live
    assert not list(tmp_path.glob("*.before-restore-*"))
    assert not list(tmp_path.glob(".*restore*"))


def test_restore_refuses_while_a_console_has_the_database_open(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001")
    backup = make_backup(session, tmp_path / "b.db")
    with pytest.raises(StoreError, match="open in a console"):
        restore(backup, new_db)
    assert count(View.OPEN, "", NOW) == 1  # the open console carries on
    session.close()
    assert not list(tmp_path.glob("*.before-restore-*"))


REMOVED_DSL = Credentials("kim.second", "fictional second dsl")


def backup_of_a_removed_dsl(session_factory, out: Path) -> Path:  # type: ignore[no-untyped-def]
    """A backup taken while a second DSL had an account, which was removed after: the old
    slot that the attacks below try to use."""
    session = session_factory()
    accounts.add_account(
        session, REMOVED_DSL.user, Role.DSL, REMOVED_DSL.passphrase, kdf_cost=FAST_KDF
    )
    backup = make_backup(session, out)
    accounts.remove_account(session, REMOVED_DSL.user)
    session.close()
    return backup


def test_a_removed_dsl_cannot_restore_an_old_backup_over_the_current_database(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    # An old backup still holds the removed DSL's slot: it must not undo their removal.
    backup = backup_of_a_removed_dsl(session_factory, tmp_path / "old.db")
    live = new_db.read_bytes()
    with pytest.raises(AccessError, match="current database"):
        restore(backup, new_db, REMOVED_DSL)
    assert new_db.read_bytes() == live


def test_restore_asks_naming_what_the_backup_holds_and_a_no_changes_nothing(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001", "SCH-2026-002")
    backup = make_backup(session, tmp_path / "b.db")
    session.close()
    live = new_db.read_bytes()
    asked: list[str] = []

    def say_no(question: str) -> bool:
        asked.append(question)
        return False

    with pytest.raises(InputError, match="restore not made; nothing was changed"):
        restore_backup(backup, new_db, Config(), DSL, clock=lambda: NOW, confirm=say_no)
    assert new_db.read_bytes() == live
    assert not list(new_db.parent.glob("*.before-restore-*"))
    (question,) = asked
    assert f"Replace {new_db} with the backup b.db (2 cases, last change " in question
    assert "is kept, not deleted, as cases.db.before-restore-" in question


def test_only_a_dsl_restores(session_factory, new_db: Path, tmp_path: Path) -> None:
    session = session_factory()
    accounts.add_account(
        session, "pat.deputy", Role.DEPUTY, "fictional deputy passphrase", kdf_cost=FAST_KDF
    )
    backup = make_backup(session, tmp_path / "b.db")
    session.close()
    with pytest.raises(AccessError, match="only a DSL"):
        restore(backup, new_db, Credentials("pat.deputy", "fictional deputy passphrase"))
    with pytest.raises(AccessError, match="wrong user name or passphrase"):
        restore(backup, new_db, Credentials(USER, "not the passphrase"))


def test_a_read_only_account_is_told_backups_are_for_a_dsl_or_deputy(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    session = session_factory()
    accounts.add_account(session, READER.user, Role.READ_ONLY, READER.passphrase, kdf_cost=FAST_KDF)
    session.close()
    reader = open_session(new_db, Config(), READER, clock=lambda: NOW)
    try:
        with pytest.raises(
            AccessError, match=r"cannot make backups \(a DSL or deputy account can\)"
        ):
            make_backup(reader, tmp_path / "b.db")
    finally:
        reader.close()
    assert not (tmp_path / "b.db").exists() and not (tmp_path / "b.db.keys").exists()


def test_a_live_database_damaged_past_its_accounts_is_moved_aside_by_hand_then_restored(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    backup = backup_of_one_case(session_factory, tmp_path / "b.db")
    flip_middle(new_db)
    stale_wal = new_db.with_name(new_db.name + "-wal")
    stale_wal.write_bytes(b"\x00" * 4096)  # left by a crash: must not meet the restored file
    damaged = new_db.read_bytes()
    # Who may replace it cannot be read from it: refused, with what to do, and left as it is.
    with pytest.raises(AccessError) as refused:
        restore(backup, new_db)
    assert f"move cases.db and cases.db.keys out of {tmp_path} yourself" in str(refused.value)
    assert new_db.read_bytes() == damaged
    # The DSL moves the wreck aside (the files, as the line says), and restores.
    kept = tmp_path / "damaged"
    kept.mkdir()
    for name in ("cases.db", "cases.db-wal", "cases.db.keys"):
        if (tmp_path / name).exists():
            (tmp_path / name).rename(kept / name)
    restore(backup, new_db)
    assert (kept / "cases.db").read_bytes() == damaged
    assert case_count(new_db, database_key(new_db)) == 1


def test_with_the_live_key_file_lost_the_backup_key_still_checks_and_keeps_the_database(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001")
    backup = make_backup(session, tmp_path / "b.db")
    add_fictional_cases(session, "SCH-2026-002")  # written after the backup
    session.close()
    key = database_key(new_db)
    keyslots.keys_path(new_db).unlink()

    aside = restore(backup, new_db)

    # The replaced database is kept whole (its last commits folded in), and opens with the key.
    assert aside is not None and case_count(aside, key) == 2
    assert case_count(new_db, key) == 1


def refused_with_the_key_file_damaged(
    backup: Path, live_db: Path, why: str = "only a DSL account can restore"
) -> None:
    """The removed DSL appends a byte to the live key file, so that its slots cannot be read,
    and restores: refused (`why`), and the live database is left exactly as it was."""
    keys = keyslots.keys_path(live_db)
    keys.write_bytes(keys.read_bytes() + b"x")
    live = live_db.read_bytes()
    with pytest.raises(AccessError, match=why):
        restore(backup, live_db, REMOVED_DSL)
    assert live_db.read_bytes() == live
    assert not list(live_db.parent.glob("*.before-restore-*"))


def test_a_removed_dsl_cannot_restore_by_damaging_the_live_key_file(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    # The attack: a DSL keeps an old backup, is removed, then appends a byte to the live key
    # file so that its slots cannot be read, and restores the backup to undo the removal.
    backup = backup_of_a_removed_dsl(session_factory, tmp_path / "b.db")
    refused_with_the_key_file_damaged(backup, new_db)


def test_a_removed_dsl_cannot_restore_by_damaging_the_key_file_and_one_page(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    # The same attack, with one page of the live database damaged too (far from the accounts,
    # which are among its first pages): the whole file no longer checks, but its accounts can
    # still be read, and they say who may replace it.
    backup = backup_of_a_removed_dsl(session_factory, tmp_path / "b.db")
    session = session_factory()
    add_fictional_cases(session, *(f"SCH-2026-{n:03d}" for n in range(1, 60)))
    session.close()
    data = bytearray(new_db.read_bytes())
    last_page = len(data) - 4096
    data[last_page + 100 : last_page + 200] = bytes(100)
    new_db.write_bytes(bytes(data))
    refused_with_the_key_file_damaged(backup, new_db)


def test_a_removed_dsl_cannot_restore_once_the_key_is_replaced_by_damaging_the_key_file(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    # As `user remove` does: the database re-encrypted after the removal. The old backup's key
    # then opens nothing of the live database, whose accounts cannot be read to say who may
    # replace it; the restore must still be refused, not taken for the recovery of a wreck.
    backup = backup_of_a_removed_dsl(session_factory, tmp_path / "b.db")
    session = session_factory()
    accounts.rekey(session, "an account was removed")
    session.close()
    refused_with_the_key_file_damaged(backup, new_db, "cannot be confirmed")


def test_with_the_live_key_file_damaged_a_restore_waits_for_an_open_console(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001")
    backup = make_backup(session, tmp_path / "b.db")
    keys = keyslots.keys_path(new_db)
    keys.write_bytes(keys.read_bytes() + b"x")
    try:
        with (
            session.db.connection_context(),
            session.db.atomic(),  # a console mid-write
            pytest.raises(StoreError, match="open in a console"),
        ):
            restore(backup, new_db)
    finally:
        session.close()
    assert not list(new_db.parent.glob("*.before-restore-*"))


def test_without_its_key_file_the_backup_opens_with_the_live_one(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    backup = backup_of_one_case(session_factory, tmp_path / "b.db")
    keyslots.keys_path(backup).unlink()
    assert restore(backup, new_db) is not None
    assert case_count(new_db, database_key(new_db)) == 1


def test_a_backup_cannot_overwrite_the_live_database(session_factory, new_db: Path) -> None:
    session = session_factory()
    for target in (new_db, keyslots.keys_path(new_db), new_db.with_name("cases.db-wal")):
        with pytest.raises(InputError, match="live database"):
            make_backup(session, target)
    with pytest.raises(InputError, match="folder"):
        make_backup(session, new_db.parent)
    session.close()


def test_restoring_the_live_file_onto_itself_is_refused(new_db: Path) -> None:
    with pytest.raises(InputError, match="live database itself"):
        restore(new_db, new_db)


def test_a_restore_onto_a_new_machine_needs_no_live_database(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    backup = backup_of_one_case(session_factory, tmp_path / "b.db")
    fresh = tmp_path / "new-machine" / "data" / "cases.db"
    assert restore(backup, fresh) is None
    assert case_count(fresh, database_key(fresh)) == 1
    assert oct(fresh.parent.stat().st_mode & 0o777) == "0o700"
    assert oct(fresh.stat().st_mode & 0o777) == "0o600"


def test_with_the_database_moved_away_and_its_key_file_left_nothing_is_said_to_be_kept(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    # The DSL moved only cases.db aside by hand: the restore must not name a kept copy that
    # does not exist (it once said "kept as cases.db.before-restore-…", a file never made).
    backup = backup_of_one_case(session_factory, tmp_path / "b.db")
    moved = tmp_path / "moved"
    moved.mkdir()
    new_db.rename(moved / new_db.name)
    assert restore(backup, new_db) is None
    assert not [p for p in tmp_path.glob("cases.db.before-restore-*") if p.suffix != ".keys"]
    assert case_count(new_db, database_key(new_db)) == 1
