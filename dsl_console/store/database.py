"""The one place the database is opened: SQLCipher, pragmas, integrity check, migrations.

Every connection is keyed with a raw 256-bit key (never a passphrase: SQLCipher's own KDF is
skipped because the key slots already ran Argon2id). Writes take the write lock up front
(BEGIN IMMEDIATE) so two writers queue on the busy timeout instead of failing mid-transaction.
"""

from __future__ import annotations

import os
import stat
import struct
import threading
from pathlib import Path

from peewee import DatabaseError, OperationalError
from playhouse.sqlcipher_ext import SqlCipherDatabase
from sqlcipher3 import dbapi2 as sqlcipher

from dsl_console.errors import StoreError
from dsl_console.paths import private_dir
from dsl_console.store.migrations import migrate
from dsl_console.store.models import database_proxy
from dsl_console.store.signing import Signer

BUSY_TIMEOUT_SECONDS = 15
# Connections kept open for the next thread once a thread is done with its own (see _close).
IDLE_CONNECTIONS = 2
PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": 2,  # FULL: a committed escalation survives a power cut
    "cache_size": -32_000,  # 32 MB
    "temp_store": 2,  # memory: temporary tables never reach disk unencrypted
}


_HEX = [f"{n:02x}".encode("ascii") for n in range(256)]


def key_text(key: bytes | bytearray) -> bytearray:
    """The key in SQLCipher's raw-key form (x'…', so that no passphrase derivation runs),
    built digit by digit in a buffer that `wipe` clears. Never a str, and never the SQL of a
    PRAGMA: text cannot be wiped, and a statement's text stays behind in Python's and SQLite's
    freed memory (a scan of the console's memory after a lock found the key there that way)."""
    # Sized once: a buffer that grew would leave each smaller copy behind, unwiped.
    text = bytearray(3 + 2 * len(key))
    text[0:2], text[-1:] = b"x'", b"'"
    for at, byte in enumerate(key):
        text[2 + 2 * at : 4 + 2 * at] = _HEX[byte]
    return text


def wipe(buffer: bytearray) -> None:
    """Overwrite a buffer that held key material with zeros."""
    buffer[:] = bytes(len(buffer))


def _prepared(conn: sqlcipher.Connection) -> None:
    # SQLCipher logs to stderr by default, which would garble the console's screen.
    conn.execute("PRAGMA cipher_log_level = NONE")


def wipe_freed_memory() -> None:
    """From now on, for the rest of this process, every block SQLite frees is overwritten
    first (SQLCipher's memory security, which cannot be turned off again).

    For a process that lives on after its connections close: the console, locked. Without
    it, the pages SQLite decrypted (every child's name a filter read, none of it handed to
    Python) outlived their connections in freed memory: a scan of a process whose worker
    threads had filtered the cases found every name still there once all were closed
    (tests/security/test_memory_after_close.py). Commands and the console's helper processes
    end with their work, and their memory with them; there, the cost is not paid: `check`
    at 100,000 cases took 53 s with it against 3 s (README)."""
    conn = sqlcipher.connect(":memory:")
    try:
        _prepared(conn)
        conn.execute("PRAGMA cipher_memory_security = ON")
        # SQLCipher reports it on once its allocator has run with it: the check that it took.
        conn.execute("SELECT 1").fetchall()
        state = conn.execute("PRAGMA cipher_memory_security").fetchone()
    finally:
        conn.close()
    if not state or str(state[0]) != "1":
        raise StoreError("SQLCipher's memory security could not be turned on")


def _keyed(conn: sqlcipher.Connection, key_text: bytearray) -> None:
    # sqlite3_key with the buffer itself: SQLCipher copies it into its codec, which wipes it
    # when the connection closes.
    conn.set_key(key_text)


def raw_connection(
    path: Path, key: bytes | bytearray, *, timeout: float = 5.0, read_only: bool = False
) -> sqlcipher.Connection:
    """A SQLCipher connection outside Peewee, keyed like the console's own and as quiet on
    stderr (backups, restores, the write watcher); usable from any thread."""
    conn = sqlcipher.connect(
        str(path), timeout=timeout, isolation_level=None, check_same_thread=False
    )
    text = key_text(key)
    try:
        _prepared(conn)
        _keyed(conn, text)
        if read_only:
            conn.execute("PRAGMA query_only = 1")
    except Exception:
        conn.close()
        raise
    finally:
        wipe(text)
    return conn


OPEN_ELSEWHERE = (
    "the database is open in a console or another command; close the other consoles (or let "
    "them lock) and try again"
)


class CipherDatabase(SqlCipherDatabase):
    """SQLCipher keyed with a raw key, quiet on stderr, with a busy timeout."""

    def __init__(self, path: str, key: bytes | bytearray, *, read_only: bool = False) -> None:
        # read_only: every connection refuses to write (SQLite's query_only), for a process
        # that only reads, such as the console's background sweep.
        super().__init__(
            path,
            pragmas={**PRAGMAS, "query_only": 1} if read_only else PRAGMAS,
            timeout=BUSY_TIMEOUT_SECONDS,
            lock_type="IMMEDIATE",
            check_same_thread=False,
        )
        # The key as SQLCipher takes it, in a buffer wiped on lock (key_text).
        self._key = key_text(key)
        # The unlocked account's signing key: every audit entry written through this database
        # is signed with it (store/audit.record). Dropped with the key.
        self.signer: Signer | None = None
        # Every connection opened, whatever the thread, so that locking closes them all.
        self._open: dict[int, object] = {}
        # Connections a finished thread gave back (still open, still in _open).
        self._idle: list[object] = []
        self._open_lock = threading.Lock()

    def _connect(self):  # type: ignore[no-untyped-def]
        if not self._key:
            raise StoreError("the database is locked: unlock it first")
        with self._open_lock:
            if self._idle:
                # The console runs each query in a new worker thread (connection_context). A
                # fresh connection starts with an empty page cache and decrypts every page it
                # reads again: at 100,000 cases that tripled the cost of a filter keystroke.
                return self._idle.pop()
        return self._new_connection()

    def _new_connection(self):  # type: ignore[no-untyped-def]
        params = dict(self.connect_params)
        params.pop("passphrase", None)
        conn = sqlcipher.connect(
            self.database, timeout=self._timeout, isolation_level=None, **params
        )
        try:
            _prepared(conn)
            _keyed(conn, self._key)
            self._add_conn_hooks(conn)
        except Exception:
            conn.close()
            raise
        with self._open_lock:
            self._open[id(conn)] = conn
        return conn

    def _close(self, conn):  # type: ignore[no-untyped-def]
        with self._open_lock:
            self._open.pop(id(conn), None)
        conn.close()

    def connection_context(self) -> _Borrowed:  # type: ignore[override]
        """A connection for a block of work in this thread, given back (not closed) after."""
        return _Borrowed(self)

    def release(self) -> None:
        """Give this thread's connection back for the next thread, its page cache warm.

        Only a connection borrowed by `connection_context` comes back this way; `close()`
        still closes, for the callers that need the file let go (creation, restore, lock).
        """
        with self._open_lock:
            conn = None if self._state.closed else self._state.conn
            kept = (
                conn is not None
                and bool(self._key)
                and id(conn) in self._open
                and len(self._idle) < IDLE_CONNECTIONS
                and not self.in_transaction()
                and not conn.in_transaction
            )
            if kept:
                self._idle.append(conn)
        if kept:
            self._state.reset()
        else:
            self.close()

    def rollback(self) -> None:
        # After a full disk or an I/O error SQLite has already rolled the transaction back
        # itself; a second ROLLBACK would fail ("no transaction is active") and hide the real
        # error, which the user then saw as "damaged" instead of "the disk is full".
        if not self.is_closed() and not self._state.conn.in_transaction:
            return
        super().rollback()

    def is_closed(self) -> bool:
        # A worker thread's connection closed by forget_key from another thread still looks
        # open to that thread's peewee state: treat it as closed so the next use reconnects
        # (and, once the key is gone, fails with "locked" instead of reading on).
        if not self._state.closed:
            with self._open_lock:
                stale = id(self._state.conn) not in self._open
            if stale:
                self._state.reset()
        return bool(self._state.closed)

    def integrity_ok(self) -> bool:
        """Whether SQLite's quick check passes, run on a connection of its own.

        The check reads every page: on a connection of its own, closed after, its page cache
        (32 MB at 100,000 cases) is not kept in memory, nor are useful pages pushed out.
        """
        try:
            return self.quick_check() == [("ok",)]
        except (DatabaseError, sqlcipher.DatabaseError):  # a page that fails to decrypt
            return False

    def quick_check(self) -> list[tuple[object, ...]]:
        """SQLite's quick check rows, on a connection of its own (see integrity_ok)."""
        conn = self._new_connection()
        try:
            # The check reads each page about once, so a large cache buys nothing (0.9 s at
            # 100,000 cases either way) but would add 32 MB to the console's peak while it
            # runs after first paint.
            conn.execute("PRAGMA cache_size = -2000")
            return list(conn.execute("PRAGMA quick_check").fetchall())
        finally:
            with self._open_lock:
                self._open.pop(id(conn), None)
            conn.close()

    def rekey(self, new_key: bytes | bytearray) -> None:
        """Re-encrypt the file under `new_key` (SQLCipher's rekey: every page rewritten in one
        transaction, out of WAL mode, which it needs) and use it for every later connection.
        StoreError, with the file as it was, while any other connection (of this process or
        another: a console) has the database open."""
        if not self._key:
            raise StoreError("the database is locked: unlock it first")
        old, new = bytearray(self._key), key_text(new_key)
        signer = self.signer  # the same account goes on signing once the key is new
        self.forget_key()  # this process's own connections, in every thread
        self.signer = signer
        conn = sqlcipher.connect(self.database, timeout=0, isolation_level=None)
        try:
            _prepared(conn)
            _keyed(conn, old)
            conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()
            if not mode or str(mode[0]).lower() != "delete":
                raise StoreError(OPEN_ELSEWHERE)
            conn.reset_key(new)  # sqlite3_rekey: every page rewritten under the new key
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlcipher.DatabaseError as exc:
            self._key, old = old, bytearray()
            wipe(new)
            if "locked" in str(exc).lower() or "busy" in str(exc).lower():
                raise StoreError(OPEN_ELSEWHERE) from None
            raise _explain(exc, Path(self.database)) from None
        except StoreError:
            self._key, old = old, bytearray()
            wipe(new)
            raise
        finally:
            conn.close()
            wipe(old)
        self._key = new

    def forget_key(self) -> None:
        """Close every connection, in every thread, and drop the key (the idle lock)."""
        wipe(self._key)
        self._key = bytearray()
        self.signer = None
        if not self.is_closed() and not self.in_transaction():
            self.close()
        with self._open_lock:
            others = list(self._open.values())
            self._open.clear()
            self._idle.clear()
        for conn in others:
            try:
                conn.close()  # type: ignore[attr-defined]
            except Exception:  # closing is best effort; the key is already dropped
                pass


class _Borrowed:
    """CipherDatabase.connection_context: connect if need be, give the connection back after."""

    def __init__(self, db: CipherDatabase) -> None:
        self.db = db

    def __enter__(self) -> None:
        if self.db.is_closed():
            self.db.connect()

    def __exit__(self, *exc_info: object) -> None:
        self.db.release()


def _prepare_path(path: Path, *, create: bool) -> None:
    if path.exists() and path.is_dir():
        raise StoreError(f"--db {path} is a folder, not a database file")
    if not path.exists():
        if not create:
            raise StoreError(
                f"no database at {path}: create one with `dsl-console import` or open the console"
            )
        try:
            private_dir(path.parent)
            # Created private before SQLite touches it; SQLite gives -wal and -shm its mode.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(f"cannot create the database at {path}: {exc.strerror}") from None
    elif not stat.S_ISREG(path.stat().st_mode):
        raise StoreError(f"--db {path} is not a regular file")
    elif path.stat().st_size == 0 and not create:
        # SQLite would take an empty file for a new database and write a fresh schema into it.
        raise StoreError(
            f"the database {path.name} is empty (damaged or truncated); it was left untouched "
            "for recovery (restore the latest backup with `dsl-console restore`)"
        )


WAL_INDEX_VERSION = 3007000


def _check_write_ahead_log(path: Path) -> None:
    """Refuse a database whose write-ahead log was lost or cut short after a crash.

    After a crash the latest commits may live only in `<db>-wal`, which `<db>-shm` indexes.
    SQLite cannot tell a WAL that was deleted (or copied without, or truncated) from one that
    was never there, and would open the older state without a word. The index still says how
    many frames the WAL held beyond what reached the database file, so the loss shows here.
    """
    shm, wal = path.with_name(path.name + "-shm"), path.with_name(path.name + "-wal")
    try:
        with open(shm, "rb") as handle:
            header = handle.read(100)
    except OSError:
        return  # no index (a clean close removes it): nothing can be missing
    if len(header) < 100 or header[:48] != header[48:96]:
        return  # being (re)built by an opener right now: not ours to judge
    version, _, _, ready, _, page, frames = struct.unpack_from("=IIIBBHI", header, 0)
    (backfilled,) = struct.unpack_from("=I", header, 96)
    if version != WAL_INDEX_VERSION or not ready or frames <= backfilled:
        return
    page_size = 65536 if page == 1 else page
    needed = 32 + frames * (page_size + 24)  # WAL header, then frames of header + page
    try:
        size = wal.stat().st_size
    except OSError:
        size = -1
    if size < needed:
        raise StoreError(
            f"the database's write-ahead log {wal.name} is "
            f"{'missing' if size < 0 else 'cut short'}, so its latest changes cannot be read; "
            "put the file back beside the database, or restore the latest backup "
            "(the database was left untouched)"
        )


def integrity_failed(path: Path) -> StoreError:
    """The one-line refusal of a database that failed its integrity check."""
    return StoreError(
        f"the database {path.name} failed its integrity check; it was left untouched "
        "for recovery (restore the latest backup with `dsl-console restore`)"
    )


def open_database(
    path: Path, key: bytes | bytearray, *, create: bool = False, verify: bool = True
) -> CipherDatabase:
    """Open (or create) the encrypted database, check it, migrate it, bind the models to it.

    `verify=False` leaves out the integrity check, which reads the whole file (a second at
    100,000 cases), for a caller that runs `db.integrity_ok()` itself once it has drawn its
    screen. SQLCipher still authenticates every page read, so nothing damaged is ever shown.
    """
    _prepare_path(path, create=create)
    _check_write_ahead_log(path)
    db = CipherDatabase(str(path), key)
    try:
        db.connect()
        if verify and db.quick_check() != [("ok",)]:
            raise integrity_failed(path)
        database_proxy.initialize(db)
        migrate(db)
    except StoreError:
        db.forget_key()
        raise
    except (DatabaseError, OperationalError, sqlcipher.DatabaseError) as exc:
        db.forget_key()
        raise _explain(exc, path) from None
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            try:
                os.chmod(part, 0o600)
            except OSError:
                pass
    return db


def _explain(exc: Exception, path: Path) -> StoreError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreError("the database is busy with another writer; try again in a moment")
    if "readonly" in text or "read-only" in text or "permission" in text:
        return StoreError(f"the database {path.name} cannot be written (permissions)")
    if "disk" in text and ("full" in text or "i/o" in text):
        return StoreError(
            "the disk is full (or failing); nothing was written: free some space and try again"
        )
    # The key came from a verified slot, so the passphrase was right: the file is damaged, or
    # the key file is not the one that belongs to it now (an older copy, put back after the
    # database was re-encrypted), which restoring a backup would only make worse.
    return StoreError(
        f"the database {path.name} cannot be read with its key file: the key file is not the "
        "one that belongs to it (an older copy, or a backup's), or the database is damaged or "
        "not a dsl-console database. Both were left untouched: put back the key file that "
        "belongs to it; if that is not it, restore the latest backup with `dsl-console restore`"
    )


def explain_database_error(exc: Exception, path: Path) -> StoreError:
    """A one-line, data-free message for a database failure during use."""
    return _explain(exc, path)
