"""The installed command, run as a DSL's script would run it (real Argon2id cost, so few runs):
one clear line and exit 2 for a wrong passphrase, a damaged file, a missing terminal, or a
read-only account trying to change anything; never a traceback or SQLCipher's own noise."""

from __future__ import annotations

import json
import shutil
import stat
import time
from pathlib import Path

import pytest

from dsl_console.store import keyslots
from tests.conftest import USER, case_json, document
from tests.security.conftest import REAL_PASSPHRASE, flip_middle, one_error_line, run_cli

READER, READER_PASSPHRASE = "sam.reader", "fictional reader passphrase"
OPENED = "2026-11-16T09:30:00+00:00"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database made by the command itself: one case, a DSL and a read-only account."""
    root = tmp_path_factory.mktemp("template")
    home = root / "home"
    cases = root / "cases.json"
    cases.write_text(document(case_json("SCH-2026-014", opened_at=OPENED)), encoding="utf-8")
    db = root / "new" / "school" / "cases.db"
    made = run_cli("--db", str(db), "import", str(cases), home=home)
    assert made.returncode == 0, made.stderr
    added = run_cli(
        "--db",
        str(db),
        "user",
        "add",
        READER,
        "--role",
        "read-only",
        new_passphrase=READER_PASSPHRASE,
        home=home,
    )
    assert added.returncode == 0, added.stderr
    return db


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "db" / "cases.db"
    copy.parent.mkdir()
    shutil.copy(template, copy)
    shutil.copy(keyslots.keys_path(template), keyslots.keys_path(copy))
    return copy


def test_a_new_database_and_its_folders_are_private(template: Path) -> None:
    for folder in (template.parent, template.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in (template, keyslots.keys_path(template)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not template.with_name(template.name + "-wal").exists()  # closed cleanly


def test_wrong_passphrase_or_unknown_user_is_one_line_and_exit_2(db: Path, tmp_path: Path) -> None:
    wrong = run_cli("--db", str(db), "check", passphrase="not the passphrase", home=tmp_path)
    assert one_error_line(wrong) == "dsl-console: wrong user name or passphrase"
    stranger = run_cli("--db", str(db), "check", user="nobody.known", home=tmp_path)
    # The same words: a guesser learns nothing about which names exist.
    assert one_error_line(stranger) == "dsl-console: wrong user name or passphrase"
    assert wrong.stdout == stranger.stdout == ""


def test_a_damaged_file_is_told_apart_from_a_wrong_passphrase(db: Path, tmp_path: Path) -> None:
    flip_middle(db)
    flipped = one_error_line(run_cli("--db", str(db), "check", home=tmp_path))
    assert "damaged" in flipped and "passphrase" not in flipped
    assert "restore" in flipped  # says what to do next

    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    truncated = one_error_line(run_cli("--db", str(db), "audit", "verify", home=tmp_path))
    assert "damaged" in truncated and "passphrase" not in truncated

    db.write_bytes(b"")
    emptied = one_error_line(run_cli("--db", str(db), "check", home=tmp_path))
    assert "empty" in emptied and "passphrase" not in emptied
    assert db.stat().st_size == 0  # left untouched for recovery, not made a fresh database


def test_without_credentials_or_a_terminal_it_fails_at_once(db: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_cli("--db", str(db), "check", user=None, passphrase=None, home=tmp_path)
    line = one_error_line(result)
    assert "DSL_CONSOLE_USER" in line and "DSL_CONSOLE_PASSPHRASE" in line
    assert time.monotonic() - started < 20  # did not sit waiting for a prompt

    no_new = run_cli("--db", str(db), "user", "add", "new.deputy", home=tmp_path)
    assert "DSL_CONSOLE_NEW_PASSPHRASE" in one_error_line(no_new)
    assert "new.deputy" not in keyslots.slot_users(keyslots.read_slots(keyslots.keys_path(db)))


def test_a_read_only_account_cannot_change_anything(db: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backups" / "b.db"
    made = run_cli("--db", str(db), "backup", "--out", str(backup), home=tmp_path)
    assert made.returncode == 0, made.stderr
    keys_before = keyslots.keys_path(db).read_bytes()
    more = tmp_path / "more.json"
    more.write_text(document(case_json("SCH-2026-099", opened_at=OPENED)), encoding="utf-8")

    attempts = {
        "import": ["import", str(more)],
        "user add": ["user", "add", "someone.else"],
        "user remove": ["user", "remove", USER],
        "user passwd (another's)": ["user", "passwd", USER],
        "restore": ["restore", str(backup)],
        "backup": ["backup", "--out", str(tmp_path / "mine.db")],
    }
    for what, args in attempts.items():
        result = run_cli(
            "--db",
            str(db),
            *args,
            user=READER,
            passphrase=READER_PASSPHRASE,
            new_passphrase="fictional other passphrase",
            home=tmp_path,
        )
        line = one_error_line(result)
        assert "read-only" in line or "only a DSL" in line, (what, line)

    assert keyslots.keys_path(db).read_bytes() == keys_before
    assert not (tmp_path / "mine.db").exists()
    assert not list(db.parent.glob("*.before-restore-*"))
    # Reading is allowed: the reader can still check the trail.
    verify = run_cli(
        "--db", str(db), "audit", "verify", user=READER, passphrase=READER_PASSPHRASE, home=tmp_path
    )
    assert verify.returncode == 0 and "intact" in verify.stdout
    listed = run_cli("--db", str(db), "check", "--json", home=tmp_path)
    assert [c["ref"] for c in json.loads(listed.stdout)["cases"]] == ["SCH-2026-014"]


def test_a_damaged_backup_is_refused_and_the_live_database_kept(db: Path, tmp_path: Path) -> None:
    backup = tmp_path / "b.db"
    made = run_cli("--db", str(db), "backup", "--out", str(backup), home=tmp_path)
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(keyslots.keys_path(backup).stat().st_mode) == 0o600
    flip_middle(backup)
    live_before = db.read_bytes()
    line = one_error_line(run_cli("--db", str(db), "restore", str(backup), home=tmp_path))
    assert "damaged" in line and "nothing was changed" in line
    assert db.read_bytes() == live_before
    assert not list(db.parent.glob("*.before-restore-*"))


def test_the_passphrase_never_reaches_output_or_the_key_file(db: Path, tmp_path: Path) -> None:
    shown = run_cli("--db", str(db), "audit", "show", "--limit", "100", home=tmp_path)
    assert shown.returncode == 0
    assert REAL_PASSPHRASE not in shown.stdout + shown.stderr
    assert READER_PASSPHRASE not in shown.stdout
    text = keyslots.keys_path(db).read_text(encoding="utf-8")
    assert REAL_PASSPHRASE not in text and READER_PASSPHRASE not in text


def test_restore_says_what_it_replaces_and_without_a_terminal_needs_yes(
    db: Path, tmp_path: Path
) -> None:
    backup = tmp_path / "b.db"
    made = run_cli("--db", str(db), "backup", "--out", str(backup), home=tmp_path)
    assert made.returncode == 0, made.stderr
    live_before = db.read_bytes()
    line = one_error_line(run_cli("--db", str(db), "restore", str(backup), home=tmp_path))
    assert "add --yes" in line and "nothing was changed" in line
    assert db.read_bytes() == live_before
    assert not list(db.parent.glob("*.before-restore-*"))
    done = run_cli("--db", str(db), "restore", "--yes", str(backup), home=tmp_path)
    assert done.returncode == 0, done.stderr
    kept = list(db.parent.glob("cases.db.before-restore-*"))
    assert len(kept) == 2  # the database and its key file, kept aside
    assert f"kept as {db.parent / kept[0].name.removesuffix('.keys')}" in done.stdout


@pytest.mark.parametrize("args", [[], ["demo"]])
def test_without_a_terminal_the_console_refuses_to_start(db: Path, tmp_path: Path, args) -> None:
    line = one_error_line(run_cli("--db", str(db), *args, home=tmp_path))
    assert "the console needs a terminal" in line
    assert not (tmp_path / "data").exists()  # nothing made, not even the demo database
