"""Backups and restores.

A backup is made with SQLite's online backup API, so it is consistent while a console is open,
and written encrypted with the same database key (never decrypted to disk), with a copy of the
key slots beside it as `FILE.keys`. A restore checks the backup before touching anything, and
keeps the database it replaces aside as `<db>.before-restore-<timestamp>` (with its key file),
so nothing is ever lost.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

from sqlcipher3 import dbapi2 as sqlcipher

from dsl_console.config import Config
from dsl_console.core.clock import Clock, system_clock
from dsl_console.core.wording import plural, stamp
from dsl_console.errors import AccessError, InputError, StoreError
from dsl_console.paths import private_dir
from dsl_console.services.exports.target import TargetExists
from dsl_console.services.session import Credentials, Session, open_session
from dsl_console.store import keyslots
from dsl_console.store.database import raw_connection
from dsl_console.store.migrations import LATEST, SCHEMA_VERSION_KEY
from dsl_console.store.models import UtcField

SIDE_FILES = ("-wal", "-shm", "-journal")
BUSY = (
    "the database is open in a console or another command; close it (or let it lock) and "
    "try again; nothing was changed"
)


def _side(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _create_private(path: Path) -> None:
    path.unlink(missing_ok=True)  # a leftover from an interrupted run, ours to replace
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _new_private(folder: Path, label: str) -> Path:
    """A new empty file (0600) under a name nobody can guess, created exclusively: in a shared
    folder a predictable name could be planted as a link, or swapped, by another user."""
    fd, name = tempfile.mkstemp(prefix=f".{label}.", suffix=".partial", dir=folder)
    os.close(fd)
    return Path(name)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_private(source: Path, target: Path) -> None:
    """Copy a file byte for byte into a new file readable by its owner only."""
    _create_private(target)
    with source.open("rb") as src, target.open("r+b") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())


def _remove_with_sides(path: Path) -> None:
    for suffix in ("", *SIDE_FILES):
        _side(path, suffix).unlink(missing_ok=True)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def _check_copy(path: Path, key: bytes | bytearray, label: str) -> sqlcipher.Connection:
    """Open a copy and run both integrity checks; a damaged one is refused with one line."""
    damaged = StoreError(
        f"the backup {label} is damaged (it failed its integrity check); nothing was changed"
    )
    try:
        conn = raw_connection(path, key)
    except sqlcipher.DatabaseError:
        raise damaged from None
    try:
        try:
            # SQLCipher's check reads every page and verifies its HMAC: any flipped byte shows.
            if conn.execute("PRAGMA cipher_integrity_check").fetchall():
                raise damaged
            if conn.execute("PRAGMA integrity_check").fetchall() != [("ok",)]:
                raise damaged
        except sqlcipher.DatabaseError as exc:
            if "not a database" in str(exc).lower():
                raise StoreError(
                    f"the backup {label} cannot be read: it is damaged, or its key file belongs "
                    "to another database; nothing was changed"
                ) from None
            raise damaged from None
    except BaseException:
        conn.close()
        raise
    return conn


# -- backup --------------------------------------------------------------------------------------
def make_backup(session: Session, out: Path, *, force: bool = False) -> Path:
    """Write an encrypted, consistent copy of the open database to `out` (0600), with its key
    slots as `out.keys`; returns the path written. An existing file (or key file) of that name
    is replaced only with `force`: a backup typed over last week's would lose it."""
    session.require_write("make backups")
    out = Path(out).expanduser()
    for suffix in ("", ".keys", *SIDE_FILES):
        if _same_file(out, _side(session.path, suffix)) or out == _side(session.path, suffix):
            raise InputError("--out names the live database or its files; choose another file")
    if out.is_dir():
        raise InputError(f"--out {out} is a folder; name the backup file")
    if out.name.endswith(keyslots.KEYS_SUFFIX):
        # `--out b.keys` once wrote b.keys and b.keys.keys: a backup that looks like a key file.
        raise InputError(
            f"--out {out} is named as a key file; name the backup itself (its key file is "
            "written beside it, with .keys added)",
            field="out",
        )
    if not force:
        for there in (out, keyslots.keys_path(out)):
            if there.exists():  # the key file alone too: it belongs to an earlier backup
                raise TargetExists(
                    f"{there} already exists; choose another name, or add --force to replace it",
                    field="out",
                )
    try:
        private_dir(out.parent)
    except OSError as exc:
        raise StoreError(f"cannot create the folder {out.parent}: {exc.strerror}") from None
    try:
        partial = _new_private(out.parent, out.name)
    except OSError as exc:
        raise StoreError(
            f"the backup could not be written to {out}: {exc.strerror or 'file error'}"
        ) from None
    try:
        target = raw_connection(partial, session.database_key)
        try:
            # One step (pages=-1) copies every page inside one read transaction: a snapshot,
            # while the console's writers carry on in the WAL.
            session.db.connection().backup(target)
            # A backup is one self-contained file: no WAL needed to read it.
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
        _check_copy(partial, session.database_key, out.name).close()
        _fsync(partial)
        # The key file first: a backup file never stands without the slots that open it.
        keyslots.export_slots(keyslots.keys_path(session.path), keyslots.keys_path(out))
        os.replace(partial, out)
        keyslots.fsync_folder(out.parent)
    except sqlcipher.DatabaseError as exc:
        raise StoreError(f"the backup could not be written ({_reason(exc)})") from None
    except OSError as exc:
        raise StoreError(
            f"the backup could not be written to {out}: {exc.strerror or 'file error'}"
        ) from None
    finally:
        _remove_with_sides(partial)
    # No file name in the entry: a name is the user's text, and the trail's details are not.
    session.audit("backup")
    return out


def _reason(exc: Exception) -> str:
    text = str(exc).lower()
    if "full" in text or "disk i/o" in text:
        # A write past the end of a full disk comes back from SQLite as either.
        return "the disk is full (or failing): free some space and try again"
    if "locked" in text or "busy" in text:
        return "the database stayed busy"
    return "a database error"


# -- restore -------------------------------------------------------------------------------------
def restore_backup(
    file: Path,
    db_path: Path,
    config: Config,
    credentials: Credentials,
    *,
    clock: Clock = system_clock,
    confirm: Callable[[str], bool] | None = None,
) -> Path | None:
    """Replace the database at `db_path` with a checked backup; returns where the replaced
    database was kept (None when there was none).

    `confirm`, when given, is asked once the backup has passed every check and before
    anything changes, with a sentence saying what the backup holds and what is kept aside;
    a no changes nothing.

    Only a DSL may restore: a DSL of the current database when it can be read, and always a
    DSL of the backup (so the restored database can be unlocked by whoever restored it).
    """
    file = Path(file).expanduser()
    if not file.is_file():
        raise InputError(f"{file}: no such backup file")
    if _same_file(file, db_path):
        raise InputError(f"{file} is the live database itself, not a backup")
    backup_keys = keyslots.keys_path(file)
    keys_source = backup_keys if backup_keys.exists() else keyslots.keys_path(db_path)
    try:
        key = keyslots.unwrap(
            keyslots.read_slots(keys_source), credentials.user, credentials.passphrase
        )
    except AccessError:
        # A wrong passphrase given to restore is a failed unlock like any other: noted where
        # the live database's next unlock takes it into the audit trail.
        live_keys = keyslots.keys_path(db_path)
        if live_keys.exists():
            keyslots.note_failure(live_keys, credentials.user, clock())
        raise
    live_key = _authorise_on_live(db_path, credentials, key, keys_source)

    try:
        folder = private_dir(db_path.parent)
    except OSError as exc:
        raise StoreError(f"cannot create the folder {db_path.parent}: {exc.strerror}") from None
    try:
        staged = _new_private(folder, f"{db_path.name}.restore")
    except OSError as exc:
        raise StoreError(f"the restore could not be written: {exc.strerror}") from None
    aside: Path | None = None
    try:
        # Checked as copied, so what is checked is exactly what is installed.
        _copy_private(file, staged)
        conn = _check_copy(staged, key, file.name)
        try:
            holds = _check_contents(conn, credentials.user, file.name)
            conn.execute("PRAGMA journal_mode = DELETE")
        finally:
            conn.close()
        if confirm is not None and not confirm(_restore_question(file, holds, db_path, clock)):
            raise InputError("restore not made; nothing was changed")
        aside = _set_aside(db_path, live_key, clock)
        os.replace(staged, db_path)
        if keys_source == backup_keys:
            keyslots.export_slots(backup_keys, keyslots.keys_path(db_path))
        keyslots.fsync_folder(folder)
    except OSError as exc:
        raise StoreError(
            f"the restore could not be written: {exc.strerror or 'file error'}; "
            + (f"the previous database is kept as {aside.name}" if aside else "nothing changed")
        ) from None
    finally:
        _remove_with_sides(staged)

    session = open_session(db_path, config, credentials, clock=clock)
    try:
        # Not the backup's file name: the trail's details hold no text a user chose.
        kept = f"previous database kept as {aside.name}" if aside else ""
        session.audit("backup-restored", detail=kept)
    finally:
        session.close()
    return aside


def _restore_question(file: Path, holds: str, db_path: Path, clock: Clock) -> str:
    kept = (
        f"The database it replaces is kept, not deleted, as {_aside_name(db_path, clock).name}"
        if db_path.exists()
        else "There is no database there now"
    )
    return f"Replace {db_path} with the backup {file.name} ({holds})? {kept}."


def _authorise_on_live(
    db_path: Path, credentials: Credentials, backup_key: bytes | bytearray, keys_source: Path
) -> bytes | bytearray | None:
    """The live database's key once its DSL is confirmed; None when there is none, or when
    its accounts say this is one of its DSLs but the rest of the file is damaged.

    With its key file lost or damaged, the backup's key is tried on it: a backup shares the
    database key (unless it was replaced since), so the live database is still checked for
    this DSL, and locked while it is set aside. A live database whose accounts cannot be read
    at all is refused: that is what a removed DSL gets by appending a byte to the key file once
    the key was replaced after their removal (they once restored an old backup that way,
    undoing their own removal). Someone who can move the files can recover from a wreck:
    moved out of the way, there is no live database to confirm."""
    if not db_path.exists():
        return None
    unconfirmed = AccessError(
        f"the accounts of the current database {db_path} cannot be read (it or its key file "
        "is damaged), so it cannot be confirmed that you are one of its DSLs; nothing was "
        f"changed. If it is beyond use, move {db_path.name} and "
        f"{keyslots.keys_path(db_path).name} out of {db_path.parent} yourself, then restore"
    )
    live_keys = keyslots.keys_path(db_path)
    try:
        slots = keyslots.read_slots(live_keys)
    except StoreError:
        slots = None
    if slots is None or keys_source == live_keys:
        live_key = backup_key
    else:
        try:
            live_key = keyslots.unwrap(slots, credentials.user, credentials.passphrase)
        except AccessError:
            # A removed account's old passphrase may still open an old backup: it must not
            # be able to undo its own removal by restoring over the current database.
            raise AccessError(
                "wrong user name or passphrase for the current database: only one of its DSL "
                "accounts can replace it"
            ) from None
    try:
        conn = raw_connection(db_path, live_key)
    except sqlcipher.DatabaseError:
        raise unconfirmed from None
    try:
        try:
            # Who may replace it is asked first, while any of it can be read: a page damaged
            # on purpose elsewhere in the file must not waive the rule for the whole file.
            row = conn.execute(
                "SELECT role FROM user WHERE name = ? AND removed_at IS NULL",
                (credentials.user,),
            ).fetchone()
        except sqlcipher.DatabaseError as exc:
            if "locked" in str(exc).lower() or "busy" in str(exc).lower():
                raise StoreError(BUSY) from None
            raise unconfirmed from None
        if row is None or row[0] != "dsl":
            raise AccessError("only a DSL account can restore a backup; nothing was changed")
        try:
            intact = conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        except sqlcipher.DatabaseError as exc:
            if "locked" in str(exc).lower() or "busy" in str(exc).lower():
                raise StoreError(BUSY) from None
            intact = False
    finally:
        conn.close()
    return live_key if intact else None


def _check_contents(conn: sqlcipher.Connection, user: str, label: str) -> str:
    """Refuse what is not a backup this user can unlock once restored; else say in a few
    words what it holds (for the question before it replaces the database)."""
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"setting", "user", "audit", "escalation"} <= tables:
            raise StoreError(f"{label} is not a dsl-console backup; nothing was changed")
        version = conn.execute(
            "SELECT value FROM setting WHERE key = ?", (SCHEMA_VERSION_KEY,)
        ).fetchone()
        if version is None or int(version[0]) > LATEST:
            raise StoreError(
                f"the backup {label} is from a newer version of dsl-console; upgrade first"
            )
        row = conn.execute(
            "SELECT role FROM user WHERE name = ? AND removed_at IS NULL", (user,)
        ).fetchone()
        cases = int(conn.execute("SELECT count(*) FROM escalation").fetchone()[0])
        newest = conn.execute("SELECT max(at) FROM audit").fetchone()[0]
    except (sqlcipher.DatabaseError, ValueError):
        raise StoreError(f"the backup {label} is damaged; nothing was changed") from None
    if row is None or row[0] != "dsl":
        raise AccessError(
            f"{user} is not a DSL account in the backup, so could not unlock it once restored; "
            "nothing was changed"
        )
    return f"{plural(cases, 'case')}, last change {_when(newest)}"


def _when(stored: object) -> str:
    """An audit entry's stored moment as the console shows moments, for the question."""
    try:
        return (
            stamp(UtcField().python_value(str(stored) if stored is not None else None)) or "unknown"
        )
    except (TypeError, ValueError):
        return "unknown"


def _aside_name(db_path: Path, clock: Clock) -> Path:
    stamp = clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = db_path.with_name(f"{db_path.name}.before-restore-{stamp}")
    n = 2
    while aside.exists() or keyslots.keys_path(aside).exists():
        aside = db_path.with_name(f"{db_path.name}.before-restore-{stamp}-{n}")
        n += 1
    return aside


def _set_aside(db_path: Path, live_key: bytes | bytearray | None, clock: Clock) -> Path | None:
    """Move the live database (and a copy of its key file) aside; refuse while it is open."""
    live_keys = keyslots.keys_path(db_path)
    if not db_path.exists() and not live_keys.exists():
        return None
    aside = _aside_name(db_path, clock)
    had_database = db_path.exists()
    if had_database:
        _move_database(db_path, aside, live_key)
    if live_keys.exists():
        # A copy: the live key file stays until the backup's replaces it (or for good, when
        # the backup came without one), and the database kept aside opens with `--db`.
        _copy_private(live_keys, keyslots.keys_path(aside))
    # Only a database kept is named as kept (a key file alone is copied beside, unnamed).
    return aside if had_database else None


def _keep_aside(db_path: Path, aside: Path) -> None:
    """Give the live file its second name, leaving it in place until the restored file
    replaces it in one rename: a restore killed in between leaves a database where the user
    looks for it, never a missing one that the next start would offer to create afresh."""
    try:
        os.link(db_path, aside)
    except OSError:  # a file system without hard links: a rename, as before
        os.replace(db_path, aside)


def _move_database(db_path: Path, aside: Path, live_key: bytes | bytearray | None) -> None:
    if live_key is None:
        # Unreadable: kept as it is, its WAL with it (it may hold the last commits).
        _keep_aside(db_path, aside)
        if _side(db_path, "-wal").exists():
            os.replace(_side(db_path, "-wal"), _side(aside, "-wal"))
        _side(db_path, "-shm").unlink(missing_ok=True)
        return
    conn = raw_connection(db_path, live_key, timeout=0)
    try:
        try:
            # Exclusive locking plus a switch out of WAL: fails if any other connection is
            # open, and folds the WAL into the file, so the copy kept aside is whole.
            conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()
            if not mode or str(mode[0]).lower() != "delete":
                raise StoreError(BUSY)
            conn.execute("BEGIN EXCLUSIVE")
        except sqlcipher.DatabaseError:
            raise StoreError(BUSY) from None
        # Kept aside while the lock is held: no one can write between the check and the move.
        _keep_aside(db_path, aside)
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    for suffix in SIDE_FILES:  # stale: they would be applied to the restored file
        _side(db_path, suffix).unlink(missing_ok=True)
