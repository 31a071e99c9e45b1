"""An unlocked database with the school's settings: what the CLI and the console work through.

`open_session` is the single way in: it resolves who is unlocking, unwraps the database key
from their slot, opens and migrates the database, and brings cached case states up to date
with the calendar and the procedures. Writes go through `Session.write`, one transaction each,
which takes the write lock up front and retries while another writer holds it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from peewee import OperationalError

from dsl_console.config import Config
from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import Clock, system_clock
from dsl_console.core.procedures import ProcedureRegistry, load_registry
from dsl_console.errors import AccessError, InputError, StoreError
from dsl_console.services.outbox import outbox_for, outbox_refusal, server_login
from dsl_console.store import audit, keyslots, users
from dsl_console.store.account_trail import CREATED, SIGNING_KEY, granted, with_key
from dsl_console.store.cases import refresh_all_states
from dsl_console.store.database import (
    CipherDatabase,
    explain_database_error,
    open_database,
    wipe,
)
from dsl_console.store.filesystems import refuse_network_file_system
from dsl_console.store.models import Setting
from dsl_console.store.signing import Signer
from dsl_console.store.users import Role

T = TypeVar("T")

ENV_USER = "DSL_CONSOLE_USER"
ENV_PASSPHRASE = "DSL_CONSOLE_PASSPHRASE"
ENV_NEW_PASSPHRASE = "DSL_CONSOLE_NEW_PASSPHRASE"  # `user add` and `user passwd` in a script
MIN_PASSPHRASE = 10
STATE_FINGERPRINT = "state_fingerprint"
WRITE_ATTEMPTS = 3


@dataclass(frozen=True)
class Credentials:
    """Who is unlocking, and with what passphrase."""

    user: str
    passphrase: str = field(repr=False)


def check_passphrase(passphrase: str) -> None:
    """A passphrase long and varied enough to resist guessing against a copied key file."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise InputError(
            f"use at least {MIN_PASSPHRASE} characters (three random words work well)",
            field="passphrase",
        )
    if len(set(passphrase)) < 5:
        raise InputError("too repetitive; use three or more random words", field="passphrase")
    if len(passphrase) > 1024:
        raise InputError("at most 1,024 characters", field="passphrase")


def check_user_name(name: str) -> str:
    """An account name: short printable text."""
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise InputError("user name: 1 to 64 printable characters")
    return name


# A file holding the passphrase (cron, systemd's credentials): unlike a variable, it is not
# readable in /proc/PID/environ for the process's lifetime.
ENV_PASSPHRASE_FILE = "DSL_CONSOLE_PASSPHRASE_FILE"
_MAX_PASSPHRASE_FILE = 4096


def account_from_environment(*, forget: bool = False) -> tuple[str | None, str | None]:
    """The user name and passphrase the environment gives: DSL_CONSOLE_PASSPHRASE, else the
    first line of the private file DSL_CONSOLE_PASSPHRASE_FILE names. With `forget`, the
    variable is taken out of this process's environment once read, so that no process
    started later (the console's helpers) inherits it."""
    user = os.environ.get(ENV_USER) or None
    passphrase = os.environ.get(ENV_PASSPHRASE) or None
    if forget:
        os.environ.pop(ENV_PASSPHRASE, None)
    if passphrase is None and (named := os.environ.get(ENV_PASSPHRASE_FILE)):
        passphrase = _passphrase_file(Path(named).expanduser())
    return user, passphrase


def _passphrase_file(path: Path) -> str:
    """The first line of a passphrase file that only its owner, this user, can read."""
    try:
        info = path.stat()
    except OSError:
        raise AccessError(f"{ENV_PASSPHRASE_FILE}: {path} cannot be read") from None
    if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_PASSPHRASE_FILE:
        raise AccessError(f"{ENV_PASSPHRASE_FILE}: {path} is not a passphrase file")
    if info.st_mode & 0o077 or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        raise AccessError(
            f"{ENV_PASSPHRASE_FILE}: {path} must be yours and private (chmod 600); not used"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise AccessError(f"{ENV_PASSPHRASE_FILE}: {path} cannot be read") from None
    passphrase = text.splitlines()[0] if text else ""
    if not passphrase:
        raise AccessError(f"{ENV_PASSPHRASE_FILE}: {path} is empty")
    return passphrase


def state_fingerprint(calendar: WorkingCalendar, registry: ProcedureRegistry) -> str:
    """Changes whenever anything that cached case states depend on changes: the calendar's
    settings and bank holidays (its fingerprint has the days themselves), every version of
    every procedure and the engine's code."""
    from dsl_console.core.deadlines import ENGINE_VERSION

    text = "|".join(
        (
            f"engine {ENGINE_VERSION}",
            calendar.fingerprint(),
            repr(registry.every_version()),
        )
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Session:
    """The open database, who opened it, and the settings that govern deadlines."""

    def __init__(
        self,
        *,
        path: Path,
        config: Config,
        registry: ProcedureRegistry,
        db: CipherDatabase,
        user: str,
        role: Role,
        clock: Clock,
        database_key: bytes | bytearray | None = None,
        profile: users.Profile | None = None,
    ) -> None:
        self.path = path
        self.config = config
        self.registry = registry
        self.calendar = config.calendar()
        self.db = db
        self.user = user
        self.role = role
        self.clock = clock
        # Who the account holder is (set with `user edit` or the profile screen): the name the
        # forms put on what this session records.
        self.profile = profile or users.Profile()
        # Kept (mutable, so it can be wiped) for adding key slots and keying backups.
        self._database_key = bytearray(database_key or b"")
        # The login's moment while its audit entry is held back (open_session(hold_writes=True)).
        self.held_login: datetime | None = None
        self.held_key_record = False  # and whether it records the account's signing key
        # Server mode: where this DSL's exports go (None on a PC of one's own), or why none
        # may be written (started through sudo with no outbox to serve the login).
        self.outbox = outbox_for(config.outbox, server_login())
        self.outbox_refusal = outbox_refusal(config.outbox)
        # Set when the account's role in the table is not the one the audit trail granted.
        self.account_notice = ""

    def finish_opening(self) -> None:
        """Write what open_session(hold_writes=True) held back: the login's audit entry (with
        the failed attempts before it) and any refresh of the cached case states."""
        if self.held_login is None:
            return
        _record_login(
            self.db, self.path, self.user, self.held_login, record_key=self.held_key_record
        )
        self.held_login = None
        _refresh_cached_states(self)

    def rekeyed(self, key: bytes | bytearray) -> None:
        """The database is now encrypted with `key` (services.accounts.rekey)."""
        wipe(self._database_key)
        self._database_key = bytearray(key)

    @property
    def database_key(self) -> bytearray:
        """The raw database key, for sealing into a new key slot or keying a backup: the
        session's own buffer, wiped on lock (copy it only into another buffer, never into
        bytes, whose copy would stay in memory)."""
        if not self._database_key:
            raise AccessError("the database is locked: unlock it first")
        return self._database_key

    @property
    def display_name(self) -> str:
        """The account holder's full name, else the login name: the "by" of what they record."""
        return self.profile.full_name or self.user

    def now(self) -> datetime:
        """The current moment from the session's clock (injected in tests)."""
        return self.clock()

    @property
    def can_write(self) -> bool:
        """Whether this account may change records."""
        return self.role in (Role.DSL, Role.DEPUTY)

    def require_write(self, doing: str = "change records") -> None:
        """Refuse a change for a read-only account, saying what it was refused."""
        if not self.can_write:
            raise AccessError(
                f"{self.user} has a read-only account and cannot {doing} "
                "(a DSL or deputy account can)"
            )

    def require_admin(self) -> None:
        """Refuse account management to all but a DSL."""
        if self.role != Role.DSL:
            raise AccessError("only a DSL account can manage accounts")

    def write(self, change: Callable[[], T]) -> T:
        """Run a change as one transaction (write lock taken up front), retrying while busy."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self.db.atomic():
                    return change()
            except OperationalError as exc:
                busy = "locked" in str(exc).lower() or "busy" in str(exc).lower()
                if busy and attempt + 1 < WRITE_ATTEMPTS:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise explain_database_error(exc, self.path) from None
        raise StoreError("the database stayed busy; nothing was written, try again")

    def audit(self, action: str, ref: str = "", detail: str = "") -> None:
        """Record an audit entry in its own transaction (for reads: views, exports)."""
        self.write(lambda: audit.record(self.now(), self.user, action, ref, detail))

    def close(self) -> None:
        """Close the database and drop the key."""
        self.db.forget_key()
        wipe(self._database_key)
        self._database_key = bytearray()


def _open_with(
    path: Path, held: list[bytearray], *, verify: bool
) -> tuple[CipherDatabase, bytearray]:
    """The database opened with the key a slot holds; while a re-encryption is under way (or
    was cut short) the slot holds two, and the file is encrypted with one of them."""
    for number, key in enumerate(held):
        try:
            return open_database(path, key, verify=verify), key
        except StoreError:
            if number + 1 == len(held):
                raise
    raise AccessError("wrong user name or passphrase")  # no key held: not reached


def open_session(
    path: Path,
    config: Config,
    credentials: Credentials,
    *,
    create: bool = False,
    clock: Clock = system_clock,
    kdf_cost: keyslots.KdfCost = keyslots.DEFAULT_COST,
    registry: ProcedureRegistry | None = None,
    verify_integrity: bool = True,
    hold_writes: bool = False,
) -> Session:
    """Unlock and open the database; create it (with this user as its first DSL) if allowed.

    `verify_integrity=False` skips the whole-file integrity check at open (about a second at
    100,000 cases) for a caller that runs `session.db.integrity_ok()` once it has drawn.
    `hold_writes=True` skips it too, for a caller that runs it beside its own work, and holds
    back the writes opening makes until that caller, once the check has passed, calls
    `session.finish_opening()`: a damaged file is then left exactly as it was found.
    """
    # Before anything is created or read: a network drive is refused whatever is on it.
    refuse_network_file_system(path)
    registry = registry or load_registry(config.procedures_dir)
    keys = keyslots.keys_path(path)
    created = None
    signer: Signer | None = None
    held: list[bytearray] = []  # the keys a slot gave, wiped once the session has its own
    if not path.exists():
        if not create:
            raise StoreError(
                f"no database at {path}: create one with `dsl-console import` or `dsl-console demo`"
            )
        created = _create_database(path, credentials, kdf_cost, clock)
    if created is not None:
        db, key, user, signer = created
        db.signer = signer
        role, profile = Role.DSL, users.Profile()
        account_notice, record_key = "", False
    else:
        if path.is_dir():
            raise StoreError(f"--db {path} is a folder, not a database file")
        slots = keyslots.read_slots(keys)
        try:
            opened = keyslots.open_slot(slots, credentials.user, credentials.passphrase)
        except AccessError:
            keyslots.note_failure(keys, credentials.user, clock())
            raise
        held = opened.keys
        db, key = _open_with(path, held, verify=verify_integrity and not hold_writes)
        signer = opened.signer
        if signer is None:
            try:
                signer = keyslots.upgrade_slot(keys, credentials.user, credentials.passphrase, key)
            except StoreError:
                pass  # the key file cannot be written now: the next unlock tries again
        user = credentials.user
        found = users.account(user)
        if found is None:
            db.close()
            raise AccessError("wrong user name or passphrase")
        # The role the audit trail granted, not merely the one the table holds (a role or an
        # account written into the table directly, with the key, grants nothing), and the
        # signing key the trail holds for this account checked against the one its slot opens.
        grant = granted(user, found.role, signer)
        if grant.role is None:
            db.close()
            raise AccessError(grant.notice)
        db.signer = signer
        role, account_notice = grant.role, grant.notice
        record_key = grant.record_key
        profile = found.profile
        if not hold_writes:
            _record_login(db, path, user, clock(), record_key=record_key)
            record_key = False
    session = Session(
        path=path,
        config=config,
        registry=registry,
        db=db,
        user=user,
        role=role,
        clock=clock,
        database_key=key,
        profile=profile,
    )
    session.account_notice = account_notice
    # The session and its database hold their own copies now, in buffers wiped on lock.
    for spent in (key, *held):
        wipe(spent)
    if hold_writes and created is None:
        session.held_login = clock()
        session.held_key_record = record_key
    else:
        _refresh_cached_states(session)
    return session


# The detail of a failed unlock taken from the key file, where no passphrase guards it.
UNVERIFIED_FAILURE = (
    "noted in the key file at the time; not proof: anyone who can write that file can add "
    "such a note"
)


def _record_login(
    db: CipherDatabase, path: Path, user: str, at: datetime, *, record_key: bool = False
) -> None:
    keys = keyslots.keys_path(path)
    # Cleared from the key file only once they are committed to the audit trail. Anyone who
    # can write the key file can add notes without a passphrase: the trail says so.
    found = keyslots.pending_failures(keys, now=at)
    with db.atomic():
        if record_key and db.signer is not None:
            # An account from before signatures: its key goes on the record, signed by itself,
            # at its first unlock with this version (store/account_trail.py).
            audit.record(at, user, SIGNING_KEY, detail=db.signer.public)
        for failed in found.notes:
            audit.record(failed["at_dt"], failed["user"], "login-failed", detail=UNVERIFIED_FAILURE)
        if found.rejected:
            audit.record(
                at,
                user,
                "login-failed-notes-rejected",
                detail=f"{found.rejected} notes in the key file were not ones the console writes",
            )
        audit.record(at, user, "login")
    keyslots.clear_failures(keys, found.count)


def _create_database(
    path: Path, credentials: Credentials, kdf_cost: keyslots.KdfCost, clock: Clock
) -> tuple[CipherDatabase, bytearray, str, Signer] | None:
    """Create the database with this user as its first DSL; None if another process created it
    meanwhile (the caller then unlocks it like any other).

    Built under staging names and renamed into place only once the first account is committed:
    a creation killed part-way would otherwise leave a database with no account in it, which
    refuses every passphrase, or a key file "without its database". The next creation clears
    the staging leftovers instead.
    """
    from dsl_console.paths import private_dir

    user = check_user_name(credentials.user)
    check_passphrase(credentials.passphrase)
    keys = keyslots.keys_path(path)
    staging = path.with_name(path.name + ".creating")
    staging_files = [
        staging.with_name(staging.name + suffix) for suffix in ("", "-wal", "-shm", ".keys")
    ]
    try:
        private_dir(path.parent)
        with keyslots.locked_folder(path):
            if path.exists():
                return None
            interrupted = any(part.exists() for part in staging_files)
            for part in staging_files:
                part.unlink(missing_ok=True)
            if keys.exists():
                if not interrupted:
                    raise StoreError(
                        f"{keys.name} exists without its database; move it aside first"
                    )
                keys.unlink()  # renamed into place by the creation that was cut short
            key = keyslots.new_database_key()
            slot, signer = keyslots.slot_and_signer(user, credentials.passphrase, key, kdf_cost)
            keyslots.write_new_slots(keyslots.keys_path(staging), [slot])
            db: CipherDatabase | None = None
            try:
                db = open_database(staging, key, create=True)
                db.signer = signer
                now = clock()
                with db.atomic():
                    users.add(user, Role.DSL, now)
                    audit.record(now, user, CREATED, detail=with_key("first DSL", signer.public))
                # Fold the WAL into the file, so the file alone is the whole database.
                db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                db.close()
                # The key file first: the database's name appearing is the commit point.
                os.replace(keyslots.keys_path(staging), keys)
                os.replace(staging, path)
                keyslots.fsync_folder(path.parent)
            finally:
                if db is not None and not db.is_closed():
                    db.close()
                for part in staging_files:
                    part.unlink(missing_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the database at {path}: {exc.strerror}") from None
    return open_database(path, key), key, user, signer


def _refresh_cached_states(session: Session) -> None:
    fingerprint = state_fingerprint(session.calendar, session.registry)
    stored = Setting.get_or_none(Setting.key == STATE_FINGERPRINT)
    if stored is not None and stored.value == fingerprint:
        return

    def refresh() -> None:
        refresh_all_states(session.registry, session.calendar)
        Setting.replace(key=STATE_FINGERPRINT, value=fingerprint).execute()

    session.write(refresh)
