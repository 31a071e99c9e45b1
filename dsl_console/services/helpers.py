"""Helper processes: where the console and the command line put work that would otherwise
hold the interpreter (the background sweep; half of a large export).

A helper opens the database itself, read-only, with the key of the session that starts it,
sent down a pipe (never on a command line or in the environment). Nothing it does may reach
the terminal, which belongs to the console's screen or to the command's one line.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dsl_console.config import Config
from dsl_console.core.clock import system_clock
from dsl_console.core.procedures import ProcedureRegistry
from dsl_console.errors import StoreError
from dsl_console.process import no_core_dumps
from dsl_console.services.session import ENV_NEW_PASSPHRASE, ENV_PASSPHRASE, Session
from dsl_console.store.database import CipherDatabase
from dsl_console.store.models import database_proxy
from dsl_console.store.users import Role

# Imported by the fork server before it forks any helper, so a helper starts in milliseconds.
PRELOAD = ["dsl_console.services.sweep_process", "dsl_console.services.exports.split"]


class HelperUnavailable(StoreError):
    """No helper process could be started on this machine (the work is done here instead)."""


Opening = tuple[str, Config, ProcedureRegistry]


def opening(session: Session) -> Opening:
    """What a helper needs to open the session's database, but its key (`send_key`)."""
    return (str(session.path), session.config, session.registry)


def send_key(conn: Any, key: bytearray) -> None:
    """Send the database key down a helper's pipe, as `recv_bytes` takes it, written from the
    session's own buffer: pickled (or framed by `send_bytes`, which joins it to its header), it
    would leave a copy in this process's freed memory, there after a lock."""
    if os.name != "posix":
        conn.send_bytes(bytes(key))  # a Windows pipe handle is not a file descriptor
        return
    fd = conn.fileno()
    os.write(fd, struct.pack("!i", len(key)))
    view, sent = memoryview(key), 0
    while sent < len(key):
        sent += os.write(fd, view[sent:])


def receive_key(conn: Any) -> bytearray:
    """In a helper: the key `send_key` sent."""
    return bytearray(conn.recv_bytes())


def context() -> Any:
    """The multiprocessing context helpers are started from.

    The fork server starts once, with PRELOAD imported, and forks each helper from itself: no
    new interpreter's start-up per helper, and no fork of the console itself (whose threads a
    fork would copy mid-flight). Windows has no fork: a new interpreter is started there.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        _start_resource_tracker()
        chosen = multiprocessing.get_context("forkserver")
        chosen.set_forkserver_preload(PRELOAD)
        return chosen
    return multiprocessing.get_context("spawn")


def _start_resource_tracker() -> None:
    # The fork server first starts multiprocessing's resource tracker, handing it
    # `sys.stderr.fileno()`. While the console runs, sys.stderr is Textual's capture (under
    # pytest, pytest's), whose file number is not a real one, and the start fails. The tracker
    # gets the null device instead: the screen is not for it either.
    from multiprocessing import resource_tracker

    saved = sys.stderr
    with open(os.devnull, "w", encoding="utf-8") as quiet:
        sys.stderr = quiet
        try:
            resource_tracker.ensure_running()
        finally:
            sys.stderr = saved


def start(target: Any, name: str) -> tuple[Any, Any]:
    """Start a helper running `target(conn)`; its process and this side's end of the pipe."""
    try:
        chosen = context()
        ours, theirs = chosen.Pipe()
        process = chosen.Process(target=target, args=(theirs,), name=name, daemon=True)
        with _without_secrets(), _main_left_alone():
            process.start()
    except (OSError, RuntimeError, ValueError) as exc:
        raise HelperUnavailable(f"cannot start a helper process: {exc}") from None
    theirs.close()
    return process, ours


@contextmanager
def _without_secrets() -> Iterator[None]:
    """The environment without the passphrase variables while a helper (or the fork server
    every later helper comes from) starts: a new process's environment stays readable in
    /proc for its lifetime, and a helper needs no passphrase (its key comes down the pipe).
    Put back afterwards, for this process's own later reads."""
    taken = {name: os.environ.pop(name) for name in SECRETS if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(taken)


SECRETS = (ENV_PASSPHRASE, ENV_NEW_PASSPHRASE)


@contextmanager
def _main_left_alone() -> Iterator[None]:
    """Start a helper without running the program's main script in it again.

    multiprocessing runs the parent's main script in every new process, in case the target
    was defined there. A helper's target never is (it is a function of this package, which
    the fork server has imported). The `dsl-console` script is one import (`launch`), but a
    program that starts the console or an export another way pays its script's imports at
    every helper's start: under the test runner, 0.2 s before each first sweep. The fork
    server's own way to import the script once ("__main__" in its preload) never takes
    effect on Python 3.11, which looks for a key the preparation data does not have. So the
    script's file is hidden while the process is started: with no file and no module name,
    there is nothing to run. (`python -m dsl_console` names a `__main__` module, which
    multiprocessing already leaves alone.)
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None or not hasattr(main, "__file__"):
        yield
        return
    script = main.__file__
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = script


def end(process: Any, wait: float) -> None:
    """Wait up to `wait` seconds for a helper to finish, then end it forcibly."""
    process.join(wait)
    if process.is_alive():
        process.kill()
        process.join()


def quiet() -> None:
    """In a helper, first thing: away from the terminal and its signals.

    The terminal it inherited is the console's screen or the command's output: nothing may be
    written to it. Ctrl+C is the parent's to handle; the parent ends its helpers.
    """
    # Not dumpable, as its parent is: the fork server it comes from is a new interpreter, and
    # the setting does not survive that.
    no_core_dumps()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def reader(key: bytearray, opened: Opening) -> Session:
    """In a helper: the session's database, opened read-only."""
    path, config, registry = opened
    db = CipherDatabase(path, key, read_only=True)  # a helper never writes
    database_proxy.initialize(db)
    return Session(
        path=Path(path),
        config=config,
        registry=registry,
        db=db,
        user="",
        role=Role.READ_ONLY,
        clock=system_clock,
    )
