"""Shared pieces of the reliability suite: fictional cases, forked writers, acks, checks.

A writer is a forked child of the test process (already imported, so it starts in
milliseconds) that opens its own Session and writes in a loop. It acknowledges a write only
after `write()` has returned, by appending one line to an ack file; the kernel keeps that line
even when the child is killed the next instant, so every acked line is a promise the database
must keep. The parent kills writers with SIGKILL at random moments and then checks the
promises, the file's integrity and the audit chain by opening the database as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

from dsl_console.config import Config
from dsl_console.core.deadlines import case_state
from dsl_console.services.session import Credentials, Session, open_session
from dsl_console.store import audit
from dsl_console.store.cases import iter_cases, state_columns
from dsl_console.store.models import Escalation
from tests.fictional import FAST_KDF as FAST_KDF  # the kit's users take these from here too
from tests.fictional import NOW as NOW
from tests.fictional import PASSPHRASE, USER

CREDENTIALS = Credentials(USER, PASSPHRASE)
OPENED = datetime(2026, 9, 7, 9, 30, tzinfo=UTC)


def fixed_clock() -> datetime:
    """The suite's clock: Monday 23 November 2026, 11:00 GMT."""
    return NOW


# -- fictional data ------------------------------------------------------------------------------
def case_json(ref: str, *, events: list[dict] | None = None, **overrides: object) -> dict:
    """A fictional case in the import format."""
    base: dict = {
        "ref": ref,
        "procedure": "liverpool",
        "opened_at": OPENED.isoformat(),
        "child": {"name": "Ada Example", "dob": "2014-05-02"},
        "other_agency": "Children's social care",
        "level_of_need": "s47",
        "reason": "threshold",
        "summary": "Referral declined as below threshold; school disagrees.",
        "events": events
        if events is not None
        else [
            {"at": "2026-09-08T10:00:00+00:00", "kind": "discussion", "note": "Phoned the team."},
            {"at": "2026-09-09T11:00:00+00:00", "kind": "escalated", "stage": 2, "by": "B. Lead"},
        ],
    }
    base.update(overrides)
    return base


def document(cases: list[dict]) -> bytes:
    """A dsl-console/1 document as bytes."""
    return json.dumps({"format": "dsl-console/1", "cases": cases}).encode("utf-8")


# -- databases -----------------------------------------------------------------------------------
def make_database(path: Path, cases: list[dict] | None = None) -> Path:
    """A new encrypted database with one DSL account (cheap key derivation), optionally seeded."""
    from dsl_console.services.casebook import import_cases
    from dsl_console.services.transfer import read_document

    session = open_session(
        path, Config(), CREDENTIALS, create=True, kdf_cost=FAST_KDF, clock=fixed_clock
    )
    try:
        if cases:
            import_cases(
                session,
                read_document(document(cases), session.registry, NOW, session.calendar),
            )
    finally:
        session.close()
    return path


def open_as_user(path: Path) -> Session:
    """Open the database the way the next start would: no repair step, no special flag."""
    return open_session(path, Config(), CREDENTIALS, clock=fixed_clock)


@dataclass
class Health:
    """What a reopened database showed."""

    integrity: str
    audit_entries: int
    audit_break: str


def health(session: Session) -> Health:
    """Full integrity check (every page) and the audit chain."""
    rows = session.db.execute_sql("PRAGMA integrity_check").fetchall()
    count, broken, why = audit.verify()
    return Health(
        integrity=", ".join(str(r[0]) for r in rows),
        audit_entries=count,
        audit_break="" if broken is None else why,
    )


def cached_state_mismatches(session: Session) -> list[str]:
    """Refs whose cached columns (stage, due, flags, open) disagree with their events."""
    bad = []
    for case in iter_cases():
        procedure = session.registry.get(case.procedure, case.procedure_version or None)
        last = case.events[-1].at if case.events else case.opened_at
        expected = state_columns(case_state(case, procedure, session.calendar), last)
        row = Escalation.get(Escalation.ref == case.ref)
        if any(getattr(row, name) != value for name, value in expected.items()):
            bad.append(case.ref)
    return bad


# -- forked writers and their acks ---------------------------------------------------------------
class Acks:
    """An append-only ack file: one line per write that `write()` has returned for."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def ack(self, *parts: object) -> None:
        """Record one acknowledged write (a single write(2): never half a line)."""
        os.write(self._fd, (" ".join(str(p) for p in parts) + "\n").encode("utf-8"))


def read_acks(path: Path) -> list[list[str]]:
    """The complete ack lines, split into words."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return [line[:-1].split(" ") for line in text.splitlines(keepends=True) if line.endswith("\n")]


def fork_writer(work: Callable[[], None], diag: Path) -> int:
    """Run `work` in a forked child; an exception is written to `diag` (never silent)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        work()
    except BaseException as exc:
        status = 3
        with open(diag, "a", encoding="utf-8") as handle:
            handle.write(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}\n")
    finally:
        os._exit(status)


@dataclass
class KillStats:
    """What a run of kills did."""

    kills: int = 0
    finished_before_kill: int = 0
    delays: list[float] = field(default_factory=list)


def kill_at_random(pid: int, rng: Random, max_delay: float, stats: KillStats) -> None:
    """SIGKILL a writer after a random delay; a writer that already exited must have done so
    cleanly."""
    delay = rng.uniform(0.0, max_delay)
    time.sleep(delay)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        stats.kills += 1
        stats.delays.append(delay)
    else:
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
        assert code == 0, f"a writer failed on its own (exit {code}); see its diagnostics"
        stats.finished_before_kill += 1


def event_time(last: datetime) -> datetime:
    """The next event's moment: a minute after the case's last one."""
    return last + timedelta(minutes=1)


# -- the installed command -----------------------------------------------------------------------
def installed_command() -> str:
    """The `dsl-console` installed beside this Python (the venv CI built), else on PATH."""
    beside = Path(sys.executable).with_name("dsl-console")
    if beside.exists():
        return str(beside)
    found = shutil.which("dsl-console")
    assert found, "dsl-console is not installed in this environment"
    return found


def command_env(db: Path, home: Path) -> dict[str, str]:
    """The environment a scripted run of the installed command gets: this user's credentials,
    this database, and a private home so nothing of the developer's leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DSL_CONSOLE_", "PYTEST_"))}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        DSL_CONSOLE_USER=USER,
        DSL_CONSOLE_PASSPHRASE=PASSPHRASE,
        DSL_CONSOLE_DB=str(db),
    )
    return env


def file_digest(path: Path) -> str:
    """A file's SHA-256, or "absent"."""
    import hashlib

    if not path.exists():
        return "absent"
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def session_on(path: Path) -> Iterator[Session]:
    """A session for checking, closed afterwards."""
    session = open_as_user(path)
    try:
        yield session
    finally:
        session.close()


# -- fuzzing -----------------------------------------------------------------------------------
# DSL_RELIABILITY_FUZZ=N runs N random examples per fuzz test; unset, each runs its own
# default number of derandomized examples (the same ones every run, so CI is repeatable).
FUZZ_EXAMPLES = int(os.environ.get("DSL_RELIABILITY_FUZZ", "0"))


def fuzz_settings(default: int, **extra: Any) -> Any:
    """Hypothesis settings for a fuzz test: `default` examples unless asked for more."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=FUZZ_EXAMPLES or default,
        deadline=None,
        derandomize=not FUZZ_EXAMPLES,
        database=None,
        suppress_health_check=list(HealthCheck),
        **extra,
    )
