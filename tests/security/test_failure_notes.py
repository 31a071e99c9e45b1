"""Failed-unlock notes live in the key file, which anyone who can write it can change without a
passphrase. Planted notes must not reach the audit trail as if the console wrote them, nor
slow an unlock down, and a wrong passphrase given to restore is noted like any other."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from dsl_console.config import Config
from dsl_console.errors import AccessError
from dsl_console.services.backups import make_backup, restore_backup
from dsl_console.services.session import UNVERIFIED_FAILURE, Credentials, open_session
from dsl_console.store import audit, keyslots
from tests.conftest import NOW, PASSPHRASE, USER

LATER = NOW + timedelta(minutes=5)


def plant(new_db: Path, *notes: object) -> None:
    keys = keyslots.keys_path(new_db)
    doc = json.loads(keys.read_text(encoding="utf-8"))
    doc["failures"] = list(notes)
    keys.write_text(json.dumps(doc), encoding="utf-8")


def trail(new_db: Path) -> list[audit.AuditLine]:
    session = open_session(new_db, Config(), Credentials(USER, PASSPHRASE), clock=lambda: LATER)
    try:
        return list(audit.lines(limit=5000))
    finally:
        session.close()


def test_planted_notes_are_refused_and_counted_never_copied(new_db: Path) -> None:
    good = {"user": USER, "at": (NOW - timedelta(hours=1)).isoformat()}
    plant(
        new_db,
        good,
        {"user": "Ada Example", "at": NOW.isoformat()},  # no such account
        {"user": USER, "at": "1900-01-01T00:00:00+00:00"},  # long before the console
        {"user": USER, "at": (LATER + timedelta(days=1)).isoformat()},  # after the unlock
        {"user": "x" * 5000, "at": NOW.isoformat()},
        {"user": "\x1b[2K\x1b]0;owned\x07", "at": NOW.isoformat()},
        {"user": USER, "at": "2026-11-23T10:00:00"},  # no offset: not what the console writes
        "not even an object",
    )
    lines = trail(new_db)
    failed = [e for e in lines if e.action == "login-failed"]
    assert [(e.user, e.detail) for e in failed] == [(USER, UNVERIFIED_FAILURE)]
    (rejected,) = [e for e in lines if e.action == "login-failed-notes-rejected"]
    assert rejected.detail.startswith("7 notes in the key file")
    text = "\n".join(f"{e.user} {e.detail}" for e in lines)
    assert "Ada Example" not in text and "\x1b" not in text and "xxxxxxxxxx" not in text
    assert "failures" not in keyslots.keys_path(new_db).read_text(encoding="utf-8")


def test_a_flood_of_planted_notes_adds_a_bounded_number_of_entries(new_db: Path) -> None:
    plant(new_db, *([{"user": USER, "at": NOW.isoformat()}] * 300_000))
    lines = trail(new_db)
    failed = [e for e in lines if e.action == "login-failed"]
    assert len(failed) == keyslots.MAX_FAILURE_NOTES
    (rejected,) = [e for e in lines if e.action == "login-failed-notes-rejected"]
    assert rejected.detail.startswith(f"{300_000 - keyslots.MAX_FAILURE_NOTES} notes")


def test_a_wrong_passphrase_given_to_restore_is_noted_as_a_failed_unlock(
    session_factory, new_db: Path, tmp_path: Path
) -> None:
    session = session_factory()
    backup = make_backup(session, tmp_path / "b.db")
    session.close()
    with pytest.raises(AccessError):
        restore_backup(
            backup, new_db, Config(), Credentials(USER, "not the passphrase"), clock=lambda: NOW
        )
    failed = [e for e in trail(new_db) if e.action == "login-failed"]
    assert [e.user for e in failed] == [USER]
