"""Write an export whole or not at all: a private temp file beside the target, then a rename."""

from __future__ import annotations

import contextlib
import contextvars
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from dsl_console.errors import InputError
from dsl_console.paths import fsync_folder

# Called before any export file is put in place; raising leaves nothing behind (kept_only_if).
_keep_check: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "keep_check", default=None
)


@contextlib.contextmanager
def kept_only_if(check: Callable[[], None]) -> Iterator[None]:
    """Within the block, every atomic_output calls `check()` once its file is written and
    before the file replaces its target: if `check` raises, nothing is left behind and the
    exception goes on to the caller (an export made while the database is still being
    checked is kept only if the check passes)."""
    token = _keep_check.set(check)
    try:
        yield
    finally:
        _keep_check.reset(token)


# Every working file an export makes starts with this, then the pid of the process making it:
# one left by an export killed outright (kill -9, a power cut) is recognised by the next export
# into the same folder, and removed once that process is gone.
WORK_PREFIX = ".dsl-console-work."


def work_file(folder: Path, label: str, suffix: str = ".tmp") -> tuple[int, str]:
    """A private working file in `folder` (mkstemp: created exclusively, 0600, under a name
    nobody can guess), as (descriptor, name); the working files of killed exports there are
    removed first."""
    remove_abandoned(folder)
    return tempfile.mkstemp(
        prefix=f"{WORK_PREFIX}{os.getpid()}.{label}.", suffix=suffix, dir=folder
    )


def remove_abandoned(folder: Path) -> int:
    """Remove the working files in `folder` left by exports whose process has ended (this
    user's regular files only; never a link, never another live process's); how many."""
    removed = 0
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(WORK_PREFIX)]
    except OSError:
        return 0
    for entry in entries:
        pid = entry.name[len(WORK_PREFIX) :].split(".", 1)[0]
        if not pid.isdigit() or _running(int(pid)):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid():
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue  # gone meanwhile, or not ours to remove
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: alive, and not ours to judge
    return True


@contextlib.contextmanager
def atomic_output(
    path: Path, mode: Literal["wb", "w"] = "wb", *, encoding: str = "utf-8"
) -> Iterator[IO[Any]]:
    """Yield a file that replaces `path` only when the block ends without an exception.

    The temp file is created 0600 in the target's folder (so the rename stays on one file
    system and is atomic) and is fsynced before the rename; a process killed part-way leaves
    the target as it was. Text mode uses `newline=""` so the csv module controls line ends.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"cannot write {path.name}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {path.name}: the folder {folder} is not writable")
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a folder")
    try:
        # Created 0600: exports hold personal data.
        fd, tmp_name = work_file(folder, path.name)
    except OSError as exc:
        raise InputError(f"cannot write {path.name} in {folder}: {exc.strerror}") from exc
    tmp = Path(tmp_name)
    try:
        if mode == "wb":
            handle: IO[Any] = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding=encoding, newline="")
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    try:
        yield handle
        check = _keep_check.get()
        if check is not None:
            check()
    except BaseException:
        # The caller's failure is the caller's to report: just leave nothing behind.
        with contextlib.suppress(OSError):
            handle.close()
        tmp.unlink(missing_ok=True)
        raise
    try:
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        os.replace(tmp, path)
    except OSError as exc:
        # A full disk or a vanished folder while finishing: one line, nothing left over.
        with contextlib.suppress(OSError):
            handle.close()
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {path.name}: {exc.strerror or 'write failed'}") from exc
    fsync_folder(folder)
