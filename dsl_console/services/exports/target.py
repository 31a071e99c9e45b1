"""Where an export may be written: never over the database or its companions, never over an
existing file unless the user asked (contract section 4).

`dsl-console export json --out cases.db` once replaced the encrypted database with plaintext,
and `--out cases.db.keys` made every unlock fail: the target is checked, links followed, before
anything is written.
"""

from __future__ import annotations

from pathlib import Path

from dsl_console.errors import InputError

COMPANIONS = ("-wal", "-shm", ".keys", "-journal")


class TargetExists(InputError):
    """The target is an existing file: replaced only when asked (`--force`, or a yes)."""


def _protected(database: Path) -> set[Path]:
    base = database.resolve()
    return {base} | {base.with_name(base.name + suffix) for suffix in COMPANIONS}


def _is_database_file(path: Path) -> bool:
    """A database or a backup, or one of their companions: a file with a key file beside it,
    or the key file, journal or WAL of one."""
    if path.with_name(path.name + ".keys").exists():
        return True
    for suffix in COMPANIONS:
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            base = path.with_name(path.name[: -len(suffix)])
            if base.exists() and base.with_name(base.name + ".keys").exists():
                return True
    return False


def check_target(out: Path, database: Path, *, force: bool = False) -> None:
    """Refuse a target that is the database, its -wal/-shm/.keys, a backup, or (without force)
    any existing file; the message names the file and what to do."""
    resolved = out.expanduser().resolve()
    if resolved in _protected(database) or _is_database_file(resolved):
        raise InputError(
            f"{out} is the database, a backup or one of their files; "
            "choose another name (an export never replaces them)",
            field="out",
        )
    if resolved.is_dir():
        # Said first: --force could not help, and suggesting it would only lead there.
        raise InputError(f"{out} is a folder; name the file to write in it", field="out")
    if resolved.exists() and not force:
        raise TargetExists(
            f"{out} already exists; choose another name, or add --force to replace it",
            field="out",
        )
