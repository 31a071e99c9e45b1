"""Encryption at rest: no child's name or concern in the database, its WAL, or a backup; files
private to their owner whatever the umask."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from dsl_console.config import Config
from dsl_console.services.backups import make_backup
from dsl_console.services.session import Credentials, open_session
from dsl_console.store import keyslots
from tests.conftest import FAST_KDF, NOW
from tests.security.conftest import (
    CHILD_NAME,
    SUMMARY,
    add_fictional_cases,
    leaks,
    plaintexts,
)

NEEDLES = plaintexts(CHILD_NAME, "Referral declined as below threshold")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_probe_would_see_plaintext_in_an_unencrypted_wal(tmp_path: Path) -> None:
    # The scan below means something only if it finds the name in a plain SQLite WAL.
    plain = tmp_path / "plain.db"
    conn = sqlite3.connect(plain)
    conn.execute("PRAGMA journal_mode = wal")
    conn.execute("CREATE TABLE t (name TEXT)")
    conn.execute("INSERT INTO t VALUES (?)", (CHILD_NAME,))
    conn.commit()
    assert leaks(tmp_path / "plain.db-wal", NEEDLES)
    conn.close()


def test_no_name_or_summary_in_the_database_its_wal_or_a_backup(
    session_factory, tmp_path: Path
) -> None:
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001", "SCH-2026-002")
    db, wal = session.path, session.path.with_name(session.path.name + "-wal")
    # The connection is still open: the import sits in the WAL, not yet checkpointed.
    assert wal.exists() and wal.stat().st_size > 0
    for part in (db, wal, db.with_name(db.name + "-shm")):
        assert leaks(part, NEEDLES) == [], part.name
    backup = make_backup(session, tmp_path / "backups" / "nightly.db")
    assert leaks(backup, NEEDLES) == []
    assert leaks(keyslots.keys_path(backup), NEEDLES) == []
    assert leaks(keyslots.keys_path(db), NEEDLES) == []
    # The records really are in there: the console reads them back.
    from dsl_console.store.cases import load_case

    assert load_case("SCH-2026-001").summary == SUMMARY
    assert load_case("SCH-2026-001").child.name == CHILD_NAME


def test_plain_sqlite_cannot_read_the_database(session_factory) -> None:
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001")
    session.close()
    conn = sqlite3.connect(session.path)
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        conn.execute("SELECT * FROM sqlite_master").fetchall()
    conn.close()


def test_files_are_private_whatever_the_umask(tmp_path: Path, umask_022: None) -> None:
    folder = tmp_path / "fresh" / "data"
    db = folder / "cases.db"
    session = open_session(
        db,
        Config(),
        Credentials("jo.lead", "fictional test passphrase"),
        create=True,
        clock=lambda: NOW,
        kdf_cost=FAST_KDF,
    )
    try:
        add_fictional_cases(session, "SCH-2026-001")
        wal = db.with_name(db.name + "-wal")
        assert wal.exists()
        assert mode(folder) == 0o700
        assert mode(folder.parent) == 0o700  # every folder the console created
        assert mode(db) == 0o600
        assert mode(wal) == 0o600
        assert mode(keyslots.keys_path(db)) == 0o600
        backup = make_backup(session, tmp_path / "new-backups" / "b.db")
        assert mode(backup) == 0o600
        assert mode(keyslots.keys_path(backup)) == 0o600
        assert mode(backup.parent) == 0o700
    finally:
        session.close()


def test_an_existing_folder_keeps_its_own_mode(tmp_path: Path, umask_022: None) -> None:
    # The database may live in a shared folder: the console must not lock others out of it.
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    open_session(
        shared / "cases.db",
        Config(),
        Credentials("jo.lead", "fictional test passphrase"),
        create=True,
        clock=lambda: NOW,
        kdf_cost=FAST_KDF,
    ).close()
    assert mode(shared) == 0o755
    assert mode(shared / "cases.db") == 0o600
