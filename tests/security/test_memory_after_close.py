"""Memory after a session closes: the database key is gone from the process.

A review scanned the console's memory after Ctrl+L and found the key there, as hex text, in
the SQL of the PRAGMA that keyed each connection, and raw, in the copies Python made of it.
Here a process unlocks as a command does (the passphrase from a private file, as the README
recommends for cron), sweeps, exports, and closes; then this test reads that process's whole
memory through /proc, as an attacker with the machine would, for the key raw and as text, and
for the passphrase.

The console itself is scanned the same way after Ctrl+L: the installed command in a real
terminal, unlocked from a passphrase file, a case opened, the list filtered, swept.

And the children's names SQLite alone read (the pages a filter decrypted, none of it handed
to Python) are looked for once the connections that read them have closed: SQLCipher's memory
security overwrites each block SQLite frees.

What is not claimed (the README says so): a passphrase typed into the console stays in memory
Python cannot wipe; so do the children's names the list showed; and the console's sweep helper
holds the key while it runs, ending at the lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dsl_console.services.casebook import import_cases as record_cases
from dsl_console.services.transfer import read_document
from tests.conftest import NOW, PASSPHRASE, USER, case_json, document
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
session = open_session(Path(sys.argv[2]), Config(), Credentials(user, passphrase))
del passphrase
with session.db.connection_context():
    sweep(session, with_duties=True)
    export_to(session, "json", Path(sys.argv[3]))
session.close()
del session
gc.collect()
Path(sys.argv[1]).write_text("closed")
time.sleep(120)
"""


# As the console's list does: the filter counted in worker threads, each on a connection of
# its own, over cases whose names it never shows; then every connection closed, as a lock does.
FILTER_IN_THREADS_CLOSE = r"""
import gc, sys, threading, time
from pathlib import Path
from dsl_console.config import Config
from dsl_console.services.session import account_from_environment, Credentials, open_session
from dsl_console.store import listing
from dsl_console.store.database import wipe_freed_memory

if sys.argv[3:] == ["as the console"]:
    wipe_freed_memory()  # what `dsl-console` and `dsl-console demo` do before anything else
user, passphrase = account_from_environment(forget=True)
session = open_session(Path(sys.argv[2]), Config(), Credentials(user, passphrase))
del passphrase
counted = []

def keystroke(text):
    with session.db.connection_context():
        counted.append(listing.count(listing.View.OPEN, text, session.clock()))

for text in ("z", "zz", "zzz"):
    workers = [threading.Thread(target=keystroke, args=(text,)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
session.close()
del session
gc.collect()
Path(sys.argv[1]).write_text(f"closed {len(counted)} {sum(counted)}")
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


@contextmanager
def closed_child(
    folder: Path, script: str, *args: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A Python process running `script` with `args` (unlocking as a command does, from a
    private passphrase file), once it has written that it closed its session to the file
    named first (sys.argv[1]); kept alive, to be read, until the block ends. Yields it and
    what it wrote."""
    secret_file = folder / "passphrase"
    secret_file.write_text(PASSPHRASE + "\n")
    secret_file.chmod(0o600)
    closed = folder / "closed"
    env = {**os.environ, "DSL_CONSOLE_USER": USER, "DSL_CONSOLE_PASSPHRASE_FILE": str(secret_file)}
    env.pop("DSL_CONSOLE_PASSPHRASE", None)
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(closed), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not closed.exists() or not closed.read_text().startswith("closed"):
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline, "the child never closed its session"
            time.sleep(0.05)
        yield child, closed.read_text()
    finally:
        child.kill()
        child.wait()


def memory_or_skip(pid: int) -> bytes:
    """memory_of, or the test skipped where this account may not read another's memory."""
    try:
        return memory_of(pid)
    except PermissionError:
        pytest.skip("this account may not read another process's memory")


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_after_close_the_key_and_a_file_passphrase_are_not_in_memory(
    session_factory, new_db: Path, tmp_path: Path
):
    session = session_factory()
    add_fictional_cases(session, *(f"SCH-2026-{n:03d}" for n in range(1, 40)))
    session.close()
    key = database_key(new_db)
    script = (UNLOCK_WORK_CLOSE, str(new_db), str(tmp_path / "all.json"))
    with closed_child(tmp_path, *script) as (child, _said):
        assert (tmp_path / "all.json").stat().st_size > 0  # it did read the cases
        found = secrets_found(memory_or_skip(child.pid), key, PASSPHRASE)
        assert found == dict.fromkeys(found, 0)


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_names_only_sqlite_read_are_not_left_in_freed_memory_once_closed(
    session_factory, new_db: Path, tmp_path: Path
):
    # The pages SQLite decrypts hold every child's name. A filter that matches no one reads
    # them all and hands none to Python; once the connections close, those pages are freed
    # memory. With SQLCipher's memory security off, a scan found every one of these names
    # there; on, each freed block is overwritten first.
    session = session_factory()
    names = [f"Quillon Marbeck-{n:03d}" for n in range(60)]
    data = document(
        *(
            case_json(f"SCH-2026-{n:03d}", child={"name": name, "dob": "2014-05-02"})
            for n, name in enumerate(names)
        )
    )
    record_cases(
        session, read_document(data.encode("utf-8"), session.registry, NOW, session.calendar)
    )
    session.close()
    script = (FILTER_IN_THREADS_CLOSE, str(new_db))
    with closed_child(tmp_path, *script, "as the console") as (child, said):
        assert said == "closed 9 0"  # nine counts, none of them matching
        memory = memory_or_skip(child.pid)
        left = [name for name in names if name.encode("utf-8") in memory]
        assert left == []


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
        # Which refs are on screen depends on the hour (the real clock): any of them will do.
        terminal.wait_for("MEM-0", "29 cases")
        terminal.keys("Enter")  # a case opened, its timeline read
        terminal.wait_for("Stage 1", "esc Back")
        # This test is about memory, not about keys in a hurry: a beat for the case screen to
        # take focus (once, on a loaded machine, the Escape sent as it was drawn was lost).
        terminal.settle()
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


# `dsl-console` (no command: the console) and `dsl-console demo`, each up to the moment the
# console would run: what SQLCipher reports then. The terminal check is passed (no terminal
# here) and the console itself is not started.
AS_THE_CONSOLE_STARTS = r"""
import sys
import dsl_console.commands as commands
import dsl_console.ui.app as app
from sqlcipher3 import dbapi2 as sqlcipher

def report(console):
    conn = sqlcipher.connect(":memory:")
    conn.execute("SELECT 1").fetchall()
    print("memory security", conn.execute("PRAGMA cipher_memory_security").fetchone()[0])
    conn.close()
    return 0

commands._need_a_terminal = lambda: None
app.run_console = report
from dsl_console.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("argv", [[], ["demo"]], ids=["console", "demo"])
def test_the_console_and_the_demo_overwrite_what_sqlite_frees(tmp_path: Path, argv: list[str]):
    env = {**os.environ, "DSL_CONSOLE_DB": str(tmp_path / "cases.db")}
    result = subprocess.run(
        [sys.executable, "-c", AS_THE_CONSOLE_STARTS, *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "memory security 1", result.stderr
