"""Damaged and impossible files: detected on open, exit 2 with one clear line, never a traceback,
and the file left exactly as it was for whoever recovers it.

Every case runs the installed `dsl-console` on a copy of one healthy database.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from random import Random

import pytest
from reliability_kit import (
    NOW,
    case_json,
    command_env,
    document,
    file_digest,
    fork_writer,
    health,
    installed_command,
    make_database,
    open_as_user,
    session_on,
)

from dsl_console.services.casebook import import_cases
from dsl_console.services.transfer import read_document
from dsl_console.store.keyslots import keys_path
from dsl_console.store.models import Escalation

Damage = Callable[[Path], None]


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One healthy database (and its key file), copied by each test before it damages it."""
    folder = tmp_path_factory.mktemp("healthy")
    return make_database(folder / "cases.db", [case_json(f"COR-{i}") for i in range(30)])


def _copy(healthy: Path, folder: Path) -> Path:
    db = folder / "cases.db"
    shutil.copyfile(healthy, db)
    shutil.copyfile(keys_path(healthy), keys_path(db))
    return db


def _flip(offset: int) -> Damage:
    def damage(db: Path) -> None:
        data = bytearray(db.read_bytes())
        data[offset % len(data)] ^= 0x5A
        db.write_bytes(bytes(data))

    return damage


def _truncate(size: Callable[[int], int]) -> Damage:
    def damage(db: Path) -> None:
        with db.open("r+b") as handle:
            handle.truncate(size(db.stat().st_size))

    return damage


def _run(db: Path, home: Path, *argv: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [installed_command(), *argv],
        env=command_env(db, home),
        capture_output=True,
        timeout=60,
    )


def _refused_cleanly(run: subprocess.CompletedProcess[bytes]) -> str:
    text = run.stderr.decode("utf-8")
    assert run.returncode == 2, (run.returncode, text)
    assert "Traceback" not in text
    lines = text.splitlines()
    assert len(lines) == 1, f"expected one line, got {text!r}"
    assert lines[0].startswith("dsl-console: ")
    return lines[0]


RANDOM_FLIPS = [Random(f"flip-{n}").randrange(0, 1 << 20) for n in range(8)]
DAMAGES: dict[str, Damage] = {
    "flipped byte in the header page": _flip(40),
    "flipped byte in the first page's salt": _flip(3),
    "flipped byte mid-file": lambda db: _flip(db.stat().st_size // 2)(db),
    "flipped byte in the last page": lambda db: _flip(db.stat().st_size - 7)(db),
    **{f"flipped byte at random offset {n}": _flip(off) for n, off in enumerate(RANDOM_FLIPS)},
    "truncated to nothing": _truncate(lambda n: 0),
    "truncated to 100 bytes": _truncate(lambda n: 100),
    "truncated to one page": _truncate(lambda n: 4096),
    "truncated by half": _truncate(lambda n: n // 2),
    "one byte short": _truncate(lambda n: n - 1),
}


@pytest.mark.parametrize("name", list(DAMAGES))
def test_a_damaged_database_is_refused_and_left_untouched(
    healthy: Path, tmp_path: Path, name: str, figures
) -> None:  # type: ignore[no-untyped-def]
    db = _copy(healthy, tmp_path)
    DAMAGES[name](db)
    before = {p.name: file_digest(p) for p in (db, keys_path(db))}
    # A read (check), a write that would create the database if it were missing (import), and
    # an export, whose integrity check runs beside it rather than before.
    source = tmp_path / "more.json"
    source.write_bytes(document([case_json("NEW-1")]))
    exported = tmp_path / "log.csv"
    export = ["export", "log", "--format", "csv", "--out", str(exported)]
    for argv in (["check"], ["import", str(source)], export):
        line = _refused_cleanly(_run(db, tmp_path / "home", *argv))
        assert any(word in line for word in ("damaged", "integrity", "empty", "truncated")), line
        assert "restore" in line
        assert {p.name: file_digest(p) for p in (db, keys_path(db))} == before
    assert not exported.exists()
    figures.add(
        "corrupt files",
        **{"damaged files": 1, "refused with one line": 3, "tracebacks": 0, "files changed": 0},
    )


IMPOSSIBLE: dict[str, Callable[[Path], Path]] = {
    "a folder as --db": lambda base: base / "folder.db",
    "a path under a regular file": lambda base: base / "plain.txt" / "cases.db",
    "a name too long for the file system": lambda base: base / ("x" * 300 + ".db"),
    "a device, not a file": lambda base: Path("/dev/null"),
    "a folder that does not exist (read)": lambda base: base / "no" / "such" / "cases.db",
}


@pytest.mark.parametrize("name", list(IMPOSSIBLE))
def test_an_impossible_db_path_is_one_line(tmp_path: Path, name: str, figures) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "folder.db").mkdir()
    (tmp_path / "plain.txt").write_text("not a folder\n", encoding="utf-8")
    db = IMPOSSIBLE[name](tmp_path)
    source = tmp_path / "one.json"
    source.write_bytes(document([case_json("NEW-1")]))
    commands = [["check"]]
    if "(read)" not in name:
        commands.append(["import", str(source)])
    for argv in commands:
        line = _refused_cleanly(_run(db, tmp_path / "home", "--db", str(db), *argv))
        # One short line: the 300-character name once and a few words, whatever folder the
        # test runner gave this test (a worker's folder is longer).
        assert len(line) - len(str(tmp_path)) < 340, line
    assert (tmp_path / "plain.txt").read_text(encoding="utf-8") == "not a folder\n"
    figures.add(
        "corrupt files",
        **{"impossible paths": 1, "refused with one line": len(commands), "tracebacks": 0},
    )


def test_a_missing_or_damaged_key_file(healthy: Path, tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    db = _copy(healthy, tmp_path)
    keys = keys_path(db)
    digest = file_digest(db)
    saved = keys.read_bytes()
    keys.unlink()
    assert "key file" in _refused_cleanly(_run(db, tmp_path / "home", "check"))
    keys.write_bytes(saved[: len(saved) // 2])
    assert "key file" in _refused_cleanly(_run(db, tmp_path / "home", "check"))
    assert keys.read_bytes() == saved[: len(saved) // 2]
    assert file_digest(db) == digest
    figures.add(
        "corrupt files",
        **{"damaged files": 2, "refused with one line": 2, "tracebacks": 0, "files changed": 0},
    )


def _crash_with_commits_in_the_wal(db: Path, tmp_path: Path) -> None:
    """Import five cases, then die before anything folds the WAL into the file."""

    def work() -> None:
        session = open_as_user(db)
        cases = [case_json(f"WAL-{i}") for i in range(5)]
        import_cases(
            session, read_document(document(cases), session.registry, NOW, session.calendar)
        )
        os.kill(os.getpid(), signal.SIGKILL)

    pid = fork_writer(work, tmp_path / "diag")
    os.waitpid(pid, 0)
    assert db.with_name(db.name + "-wal").stat().st_size > 0


def test_a_missing_or_cut_write_ahead_log_is_refused(
    healthy: Path, tmp_path: Path, figures
) -> None:  # type: ignore[no-untyped-def]
    """The last commits after a crash live in the WAL: losing it must not pass unnoticed."""
    db = _copy(healthy, tmp_path)
    _crash_with_commits_in_the_wal(db, tmp_path)
    wal = db.with_name(db.name + "-wal")
    saved = wal.read_bytes()
    before = file_digest(db)

    wal.unlink()
    line = _refused_cleanly(_run(db, tmp_path / "home", "check"))
    assert "missing" in line and wal.name in line
    wal.write_bytes(saved[: len(saved) // 2])
    line = _refused_cleanly(_run(db, tmp_path / "home", "check"))
    assert "cut short" in line
    assert file_digest(db) == before

    # Put back, nothing was lost: the crash's commits are all there.
    wal.write_bytes(saved)
    assert _run(db, tmp_path / "home", "check").returncode in (0, 1)
    with session_on(db):
        assert Escalation.select().where(Escalation.ref.startswith("WAL-")).count() == 5
    figures.add(
        "corrupt files",
        **{"missing or cut WAL": 2, "refused with one line": 2, "tracebacks": 0, "lost": 0},
    )


def test_a_missing_wal_after_a_clean_close_is_nothing(healthy: Path, tmp_path: Path) -> None:
    """A clean close folds the WAL in and removes it: the database alone is whole."""
    db = _copy(healthy, tmp_path)
    assert not db.with_name(db.name + "-wal").exists()
    assert _run(db, tmp_path / "home", "check").returncode in (0, 1)
    with session_on(db) as session:
        assert health(session).integrity == "ok"
        assert Escalation.select().count() == 30


def test_flipped_bytes_in_the_wal_never_give_a_traceback(
    healthy: Path, tmp_path: Path, figures
) -> None:  # type: ignore[no-untyped-def]
    """A damaged frame in the WAL: SQLite stops replaying at it (its checksums), so the file
    opens at the last whole commit before it; what matters here is that nothing crashes and
    what opens is whole."""
    runs = 0
    for n, where in enumerate((100, 4200, -50)):
        folder = tmp_path / f"w{n}"
        folder.mkdir()
        db = _copy(healthy, folder)
        _crash_with_commits_in_the_wal(db, folder)
        wal = db.with_name(db.name + "-wal")
        data = bytearray(wal.read_bytes())
        data[where] ^= 0x5A
        wal.write_bytes(bytes(data))
        run = _run(db, folder / "home", "check")
        assert b"Traceback" not in run.stderr
        if run.returncode == 2:
            _refused_cleanly(run)
        else:
            with session_on(db) as session:
                assert health(session).integrity == "ok"
                assert Escalation.select().where(Escalation.ref.startswith("COR-")).count() == 30
        runs += 1
    figures.add("corrupt files", **{"damaged WAL frames": runs, "tracebacks": 0})
