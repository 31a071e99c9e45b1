"""Noticing, within a second, that another process has added a case or an event.

SQLite's `PRAGMA data_version` changes whenever another connection commits, and costs
microseconds to read; it is only meaningful on one and the same connection, so the watcher
keeps a connection of its own (read-only, keyed like the console's) for as long as the
console is unlocked. Several DSLs on one server each see the others' changes this way within
seconds, without waiting for the minute's sweep.
"""

from __future__ import annotations

import threading

from sqlcipher3 import dbapi2 as sqlcipher

from dsl_console.services.session import Session
from dsl_console.store.database import raw_connection


class WriteWatcher:
    """Says whether another connection has added a case or an event since last asked."""

    def __init__(self, session: Session) -> None:
        self._path = session.path
        self._key = bytearray(session.database_key)
        self._conn: sqlcipher.Connection | None = None
        self._version: int | None = None
        self._marker: tuple[object, ...] | None = None
        self._lock = threading.Lock()
        # The baseline now, at unlock: a write made before the first look is still a change.
        # (A read of the file's header and one pragma: a millisecond or two.)
        self.changed()

    def changed(self) -> bool:
        """True when another connection has added a case or an event since the last call
        (never the first). A commit that adds neither (an audited view of a case, this
        console's own audit entries) is not a change to show: it would redraw for nothing."""
        with self._lock:
            if not self._key:
                return False  # closed: the console locked meanwhile
            if self._conn is None:
                self._conn = raw_connection(self._path, self._key, read_only=True)
            version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
            if version == self._version:
                return False
            self._version = version
            # Rows are only ever added (a case is voided by an event, never deleted), so the
            # newest row of each table says whether anything was.
            marker = self._conn.execute(
                "SELECT (SELECT max(rowid) FROM escalation), (SELECT max(rowid) FROM event)"
            ).fetchone()
            before, self._marker = self._marker, tuple(marker)
            return before is not None and self._marker != before

    def close(self) -> None:
        """Close the connection and forget the key (the console is locking)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            for i in range(len(self._key)):
                self._key[i] = 0
            self._key = bytearray()
