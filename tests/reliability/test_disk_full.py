"""A full disk: one clear line and exit 2, no partial record, and writes work again once there is
room.

Two ways to fill the disk: RLIMIT_FSIZE in the child (with SIGXFSZ ignored, so a write past the
limit fails with EFBIG exactly as it would with ENOSPC), which works anywhere; and, where the
machine lets root mount one, a real 2 MiB tmpfs filled to the brim (ENOSPC).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from reliability_kit import (
    case_json,
    command_env,
    document,
    event_time,
    fork_writer,
    health,
    installed_command,
    make_database,
    open_as_user,
    session_on,
)

from dsl_console.core.records import Event
from dsl_console.errors import StoreError
from dsl_console.services.casebook import record_event
from dsl_console.store.cases import load_case
from dsl_console.store.models import Escalation, EventRow

BIG_SUMMARY = "Fictional summary text for a large import. " * 350  # ~15 kB a case
FULL = "the disk is full"


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    return apply


def _one_clear_line(stderr: bytes) -> str:
    text = stderr.decode("utf-8")
    assert "Traceback" not in text
    lines = text.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {text!r}"
    return lines[0]


def _refs(prefix: str) -> int:
    return Escalation.select().where(Escalation.ref.startswith(prefix)).count()


def _intact(db: Path, seeded: int) -> None:
    """The database after a failed write: whole, the seeded cases all there, no partial import."""
    with session_on(db) as session:
        found = health(session)
        assert found.integrity == "ok"
        assert not found.audit_break
        assert _refs("SEED-") == seeded
        assert _refs("BIG-") == 0, "a failed import left part of itself"
        assert EventRow.select().count() == 2 * seeded


@pytest.mark.parametrize("limit", [120_000, 600_000, 2_000_000])
def test_import_on_a_full_disk_then_with_room(tmp_path: Path, limit: int, figures) -> None:  # type: ignore[no-untyped-def]
    """The installed `dsl-console import` hits the limit at three different points."""
    db = make_database(tmp_path / "cases.db", [case_json(f"SEED-{i}") for i in range(20)])
    big = tmp_path / "big.json"
    big.write_bytes(document([case_json(f"BIG-{i}", summary=BIG_SUMMARY) for i in range(200)]))
    env = command_env(db, tmp_path / "home")
    command = installed_command()

    full = subprocess.run(
        [command, "import", str(big)],
        env=env,
        capture_output=True,
        preexec_fn=_file_size_limit(limit),
        timeout=120,
    )
    assert full.returncode == 2
    line = _one_clear_line(full.stderr)
    assert FULL in line and "nothing was written" in line
    _intact(db, seeded=20)

    again = subprocess.run([command, "import", str(big)], env=env, capture_output=True, timeout=120)
    assert again.returncode == 0, again.stderr.decode()
    assert b"imported 200 case(s)" in again.stdout
    with session_on(db):
        assert _refs("BIG-") == 200
    figures.add(
        "disk full",
        **{
            "full-disk runs": 1,
            "clear one-line messages": 1,
            "partial records": 0,
            "writes that worked again with room": 1,
        },
    )


def test_recording_an_event_on_a_full_disk(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    """Through the library, as the console's event form does: refused whole, then accepted."""
    db = make_database(tmp_path / "cases.db", [case_json("SEED-0")])
    report = tmp_path / "report"

    def writer() -> None:
        session = open_as_user(db)  # opened (and its login recorded) before the disk fills
        before = EventRow.select().count()
        # Room for less than one more page in the WAL, where every commit goes first.
        room = db.with_name(db.name + "-wal").stat().st_size + 2048
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, resource.RLIM_INFINITY))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        case = load_case("SEED-0")
        event = Event(at=event_time(case.events[-1].at), kind="note", note="Long note. " * 1800)
        try:
            record_event(session, "SEED-0", event)
            outcome = "accepted"
        except StoreError as exc:
            outcome = str(exc)
        report.write_text(f"{outcome}\n{EventRow.select().count() - before}\n", encoding="utf-8")

    pid = fork_writer(writer, tmp_path / "diag")
    _, status = os.waitpid(pid, 0)
    assert status == 0, (tmp_path / "diag").read_text() if (tmp_path / "diag").exists() else status
    outcome, added = report.read_text(encoding="utf-8").splitlines()
    assert FULL in outcome and int(added) == 0
    _intact(db, seeded=1)

    session = open_as_user(db)
    try:
        case = load_case("SEED-0")
        record_event(
            session,
            "SEED-0",
            Event(at=event_time(case.events[-1].at), kind="note", note="Long note. " * 1800),
        )
        assert len(load_case("SEED-0").events) == 3
    finally:
        session.close()
    figures.add(
        "disk full",
        **{
            "full-disk runs": 1,
            "clear one-line messages": 1,
            "partial records": 0,
            "writes that worked again with room": 1,
        },
    )


@pytest.mark.parametrize(
    "argv",
    [["export", "json", "--out", "{out}/cases.json"], ["backup", "--out", "{out}/cases.backup"]],
    ids=["export", "backup"],
)
def test_export_and_backup_on_a_full_disk(tmp_path: Path, argv: list[str], figures) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("dsl_console.services.backups")
    cases = [case_json(f"SEED-{i}", summary=BIG_SUMMARY) for i in range(30)]
    db = make_database(tmp_path / "cases.db", cases)
    out = tmp_path / "out"
    out.mkdir()
    argv = [a.format(out=out) for a in argv]
    env = command_env(db, tmp_path / "home")
    command = installed_command()
    # Room for the database's own small writes (its WAL), not for a 450 kB copy.
    limit = 96 * 1024
    full = subprocess.run(
        [command, *argv], env=env, capture_output=True, preexec_fn=_file_size_limit(limit)
    )
    assert full.returncode == 2
    line = _one_clear_line(full.stderr)
    assert any(word in line for word in ("full", "too large", "space")), line
    assert list(out.iterdir()) == [], "a failed export or backup left a file behind"
    with session_on(db) as session:
        assert health(session).integrity == "ok"
        assert _refs("SEED-") == 30
    again = subprocess.run([command, *argv], env=env, capture_output=True, timeout=60)
    assert again.returncode == 0, again.stderr.decode()
    figures.add(
        "disk full",
        **{
            "full-disk runs": 1,
            "clear one-line messages": 1,
            "partial records": 0,
            "writes that worked again with room": 1,
        },
    )


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB file system (tmpfs), where the machine allows mounting one."""
    mount = tmp_path / "small"
    mount.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount)],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        pytest.skip("cannot mount a small file system here")
    if done.returncode != 0:
        pytest.skip("cannot mount a small file system here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=10)


def test_a_really_full_file_system(small_filesystem: Path, tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    db = make_database(small_filesystem / "cases.db", [case_json(f"SEED-{i}") for i in range(20)])
    filler = small_filesystem / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass  # ENOSPC: the disk is full now
    big = tmp_path / "big.json"
    big.write_bytes(document([case_json(f"BIG-{i}", summary=BIG_SUMMARY) for i in range(40)]))
    env = command_env(db, tmp_path / "home")
    command = installed_command()

    full = subprocess.run([command, "import", str(big)], env=env, capture_output=True, timeout=60)
    assert full.returncode == 2
    line = _one_clear_line(full.stderr)
    assert FULL in line, line

    filler.unlink()  # room again
    _intact(db, seeded=20)
    again = subprocess.run([command, "import", str(big)], env=env, capture_output=True, timeout=60)
    assert again.returncode == 0, again.stderr.decode()
    with session_on(db):
        assert _refs("BIG-") == 40
    figures.add(
        "disk full",
        **{
            "full-disk runs": 1,
            "clear one-line messages": 1,
            "partial records": 0,
            "writes that worked again with room": 1,
        },
    )
