"""Memory after a session closes: the database key is gone from the process.

A review scanned the console's memory after Ctrl+L and found the key there, as hex text, in
the SQL of the PRAGMA that keyed each connection, and raw, in the copies Python made of it.
Here a process unlocks as a command does (the passphrase from a private file, as the README
recommends for cron), sweeps, exports, and closes; then this test reads that process's whole
memory through /proc, as an attacker with the machine would, for the key raw and as text, and
for the passphrase.

The console itself is scanned the same way after Ctrl+L: the installed command in a real
terminal, unlocked from a passphrase file, a case opened, the list filtered, swept.

What is not claimed (the README says so): a passphrase typed into the console stays in memory
Python cannot wipe; so do the children's names the list showed; and the console's sweep helper
holds the key while it runs, ending at the lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, USER
from tests.e2e.tmux_kit import CONSOLE, HAVE_TMUX, Terminal, case, import_cases
from tests.security.conftest import add_fictional_cases, database_key

UNLOCK_WORK_CLOSE = r"""
import gc, sys, time
from pathlib import Path
from dsl_console.config import Config
from dsl_console.services.exporting import export_to
from dsl_console.services.session import Credentials, account_from_environment, open_session
from dsl_console.services.sweep import sweep

user, passphrase = account_from_environment(forget=True)
session = open_session(Path(sys.argv[1]), Config(), Credentials(user, passphrase))
del passphrase
with session.db.connection_context():
    sweep(session, with_duties=True)
    export_to(session, "json", Path(sys.argv[2]))
session.close()
del session
gc.collect()
Path(sys.argv[3]).write_text("closed")
time.sleep(120)
"""


def memory_of(pid: int) -> bytes:
    """Every readable mapping of a process, joined (what /proc/PID/mem gives its owner)."""
    chunks = []
    with open(f"/proc/{pid}/maps", encoding="ascii") as maps:
        regions = maps.read().splitlines()
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for region in regions:
            span, perms = region.split()[:2]
            if "r" not in perms or region.endswith(("[vvar]", "[vsyscall]")):
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            try:
                mem.seek(start)
                chunks.append(mem.read(end - start))
            except OSError:
                continue  # a guard page or a mapping gone meanwhile
    return b"\0".join(chunks)


def secrets_found(memory: bytes, key: bytes, passphrase: str) -> dict[str, int]:
    """How many times each form of the key, and the passphrase, are in the memory read."""
    return {
        "the key": memory.count(bytes(key)),
        "the key as text": memory.count(key.hex().encode("ascii")),
        "the key as upper-case text": memory.count(key.hex().upper().encode("ascii")),
        "the passphrase": memory.count(passphrase.encode("utf-8")),
    }


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_after_close_the_key_and_a_file_passphrase_are_not_in_memory(
    session_factory, new_db: Path, tmp_path: Path
):
    session = session_factory()
    add_fictional_cases(session, *(f"SCH-2026-{n:03d}" for n in range(1, 40)))
    session.close()
    key = database_key(new_db)
    secret_file = tmp_path / "passphrase"
    secret_file.write_text(PASSPHRASE + "\n")
    secret_file.chmod(0o600)
    closed = tmp_path / "closed"
    env = {
        **os.environ,
        "DSL_CONSOLE_USER": USER,
        "DSL_CONSOLE_PASSPHRASE_FILE": str(secret_file),
    }
    env.pop("DSL_CONSOLE_PASSPHRASE", None)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            UNLOCK_WORK_CLOSE,
            str(new_db),
            str(tmp_path / "all.json"),
            str(closed),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not closed.exists():
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline, "the child never closed its session"
            time.sleep(0.05)
        assert (tmp_path / "all.json").stat().st_size > 0  # it did read the cases
        try:
            memory = memory_of(child.pid)
        except PermissionError:
            pytest.skip("this account may not read another process's memory")
        found = secrets_found(memory, key, PASSPHRASE)
        assert found == dict.fromkeys(found, 0)
    finally:
        child.kill()
        child.wait()


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
@pytest.mark.skipif(not HAVE_TMUX or CONSOLE is None, reason="needs tmux and the installed command")
def test_the_console_after_ctrl_l_holds_neither_the_key_nor_a_file_passphrase(tmp_path: Path):
    secret_file = tmp_path / "passphrase"
    secret_file.write_text(PASSPHRASE + "\n")
    secret_file.chmod(0o600)
    config = tmp_path / "config.toml"
    config.write_text('school = "Example Primary School"\nscan_seconds = 2\n', encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if k != "DSL_CONSOLE_PASSPHRASE"},
        "DSL_CONSOLE_USER": USER,
        "DSL_CONSOLE_PASSPHRASE_FILE": str(secret_file),
        "DSL_CONSOLE_CONFIG": str(config),
        "TERM": "xterm-256color",
    }
    db = tmp_path / "cases.db"
    now = datetime.now(UTC)
    import_cases(
        db,
        env,
        tmp_path,
        *(
            case(f"MEM-{n:03d}", f"Fictional Child {n}", now - timedelta(hours=n))
            for n in range(1, 30)
        ),
    )
    key = database_key(db)
    terminal = Terminal(tmp_path, env)
    try:
        terminal.start("--db", str(db))
        terminal.wait_for("MEM-001", "29 cases")
        terminal.keys("Enter")  # a case opened, its timeline read
        terminal.wait_for("Stage 1", "esc Back")
        terminal.keys("Escape", "/")
        terminal.type("Child 2")
        terminal.wait_for('matching "Child 2"')
        terminal.keys("Escape")
        time.sleep(3)  # a sweep or two (every 2 s here), in its helper
        terminal.keys("C-l")
        terminal.wait_for("Locked")
        time.sleep(1)  # the helpers told to end
        memory = b""
        for pid in terminal.processes():
            try:
                memory += memory_of(pid)
            except FileNotFoundError:
                continue  # a helper ended meanwhile
            except PermissionError:
                pytest.skip("this account may not read another process's memory")
        assert len(memory) > 10_000_000  # the console's memory was read, not a shell's alone
        found = secrets_found(memory, key, PASSPHRASE)
        assert found == dict.fromkeys(found, 0)
    finally:
        terminal.close()
