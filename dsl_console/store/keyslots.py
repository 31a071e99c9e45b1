"""Key slots: the database key, held once per user, opened with their passphrase.

The database is encrypted with one random 256-bit key. Each account holds a slot beside the
database file (`<db>.keys`). Argon2id turns the passphrase into a key-encryption key, which
opens (AES-256-GCM) the account's own X25519 private key; the database key is sealed to the
matching public key (an ephemeral X25519 exchange, HKDF, AES-256-GCM). The user name is bound
in as associated data throughout, so slots cannot be swapped.

Two levels, so that the database key can be replaced without anyone's passphrase: a new key
is sealed to every remaining account's public key (`reseal`), which is how removing an account
re-encrypts the database (services.accounts) and leaves an old copy of the key file useless.
Slots written before this design hold the database key wrapped by the key-encryption key
directly (`wrapped`); they still open, and are rewritten in the new form at their next unlock.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: the key file is then updated unlocked
    fcntl = None  # type: ignore[assignment]

from dsl_console.errors import AccessError, StoreError
from dsl_console.paths import fsync_folder
from dsl_console.store.database import wipe
from dsl_console.store.signing import Signer, signing_key

FORMAT = "dsl-console-keys/1"
KEY_BYTES = 32


@dataclass(frozen=True)
class KdfCost:
    """Argon2id cost. The default follows RFC 9106's second recommendation (64 MiB, t=3)."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 2


DEFAULT_COST = KdfCost()

# What a key slot may ask of Argon2id, whatever the file says: below the floor a copied key
# file would be cheap to guess against (OWASP's least: 7 MiB at 5 passes, or the same work in
# fewer passes over more memory); above the ceiling every unlock, for any name, could be made
# to hang or to take gigabytes.
MIN_MEMORY_KIB, MAX_MEMORY_KIB = 7 * 1024, 256 * 1024
MIN_WORK = 5 * 7 * 1024  # passes x KiB
MAX_TIME_COST, MAX_PARALLELISM = 10, 8


def checked_cost(kdf: object) -> KdfCost:
    """A slot's Argon2id settings, refused with one line when malformed or out of bounds."""
    if not isinstance(kdf, dict) or kdf.get("name", "argon2id") != "argon2id":
        raise StoreError("the key file is damaged: a key slot names no Argon2id settings")
    values = [kdf.get(k) for k in ("time_cost", "memory_kib", "parallelism")]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise StoreError("the key file is damaged: a key slot's Argon2id settings are malformed")
    cost = KdfCost(*values)  # type: ignore[arg-type]
    if (
        not MIN_MEMORY_KIB <= cost.memory_kib <= MAX_MEMORY_KIB
        or not 1 <= cost.time_cost <= MAX_TIME_COST
        or not 1 <= cost.parallelism <= MAX_PARALLELISM
        or cost.time_cost * cost.memory_kib < MIN_WORK
    ):
        raise StoreError(
            "the key file has a key slot whose Argon2id settings are outside the safe range "
            "(too weak to protect the key, or costly enough to hang every unlock); restore the "
            "key file from the backup"
        )
    return cost


KEYS_SUFFIX = ".keys"  # a database's key-slot file is its name with this added


def keys_path(db_path: Path) -> Path:
    """The key-slot file that belongs to a database file."""
    return db_path.with_name(db_path.name + KEYS_SUFFIX)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _derive(passphrase: str, salt: bytes, cost: KdfCost) -> bytes:
    return hash_secret_raw(
        passphrase.encode("utf-8"),
        salt,
        time_cost=cost.time_cost,
        memory_cost=cost.memory_kib,
        parallelism=cost.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def new_database_key() -> bytearray:
    """A fresh random database key, in a buffer that can be wiped."""
    key = bytearray(KEY_BYTES)
    try:
        with open("/dev/urandom", "rb", buffering=0) as source:
            if source.readinto(key) == KEY_BYTES:
                return key
    except OSError:
        pass
    key[:] = secrets.token_bytes(KEY_BYTES)  # no /dev/urandom (Windows): an immutable copy too
    return key


def make_slot(
    user: str, passphrase: str, db_key: bytes | bytearray, cost: KdfCost = DEFAULT_COST
) -> dict:
    """A slot that gives `user` the database key when they present `passphrase`. Its
    "verify" is the public half of the account's new signing key (store/signing.py), for the
    audit entry that grants it."""
    return slot_and_signer(user, passphrase, db_key, cost)[0]


def slot_and_signer(
    user: str, passphrase: str, db_key: bytes | bytearray, cost: KdfCost = DEFAULT_COST
) -> tuple[dict, Signer]:
    """`make_slot`, with the account's signing key (for the first DSL's own first entry)."""
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    kek = _derive(passphrase, salt, cost)
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    raw = private.private_bytes_raw()
    opened = AESGCM(kek).encrypt(nonce, raw, _private_label(user))
    signer = Signer(user, signing_key(raw, user))
    slot = {
        "user": user,
        "salt": _b64(salt),
        "nonce": _b64(nonce),
        "private": _b64(opened),
        "public": _b64(public),
        "verify": signer.public,
        "sealed": _seal(db_key, public, user),
        "kdf": {"name": "argon2id", **asdict(cost)},
    }
    return slot, signer


def _private_label(user: str) -> bytes:
    return b"dsl-console private key|" + user.encode("utf-8")


def _sealing_key(shared: bytes, ephemeral: bytes, public: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=b"dsl-console sealed database key|" + ephemeral + public,
    ).derive(shared)


def _seal(db_key: bytes | bytearray, public: bytes, user: str) -> str:
    """The database key sealed to an account's public key: only its private key opens it."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_sealing_key(shared, ephemeral_public, public)).encrypt(
        nonce, db_key, user.encode("utf-8")
    )
    return _b64(ephemeral_public + nonce + sealed)


def _open_sealed(sealed: str, private: X25519PrivateKey, user: str) -> bytearray:
    data = _unb64(sealed)
    ephemeral_public, nonce, body = data[:32], data[32:44], data[44:]
    public = private.public_key().public_bytes_raw()
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    return _opened(
        _sealing_key(shared, ephemeral_public, public), nonce, body, user.encode("utf-8")
    )


def _opened(key: bytes, nonce: bytes, sealed: bytes, label: bytes) -> bytearray:
    """AES-256-GCM opened into a buffer that can be wiped, for the database key: AESGCM's
    decrypt returns bytes, whose copy of the key would stay in memory after a lock."""
    body, tag = sealed[:-16], sealed[-16:]
    decryptor = Cipher(algorithms.AES(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(label)
    buffer = bytearray(len(body) + 15)  # update_into's room: the data and a block less one
    size = decryptor.update_into(body, buffer)
    decryptor.finalize()  # InvalidTag when the passphrase (or the slot) is wrong
    opened = buffer[:size]
    wipe(buffer)
    return opened


def resealable(slot: dict) -> bool:
    """Whether a new database key can be sealed to this slot without its passphrase."""
    return isinstance(slot.get("public"), str) and isinstance(slot.get("private"), str)


def reseal(slot: dict, db_key: bytes | bytearray, *, keep_previous: bool) -> dict:
    """The slot holding `db_key` instead (its owner's passphrase unchanged). With
    `keep_previous`, the key it held is kept beside it, for an unlock while the database is
    being re-encrypted: whichever of the two the file is encrypted with opens it."""
    new = {k: v for k, v in slot.items() if k not in ("sealed", "wrapped", "previous")}
    new["sealed"] = _seal(db_key, _unb64(slot["public"]), slot["user"])
    if keep_previous:
        new["previous"] = {k: slot[k] for k in ("sealed", "wrapped") if k in slot}
    return new


def settled(slot: dict) -> dict:
    """The slot without the key it held before a re-encryption that has finished."""
    return {k: v for k, v in slot.items() if k != "previous"}


def restored(slot: dict) -> dict:
    """The slot as it was before `reseal(..., keep_previous=True)`: a re-encryption that did
    not happen (the database was open elsewhere)."""
    previous = slot.get("previous")
    if not isinstance(previous, dict):
        return slot
    before = {k: v for k, v in slot.items() if k not in ("sealed", "wrapped", "previous")}
    return {**before, **previous}


def owe_rekey(path: Path, why: str) -> None:
    """Note in the key file that the database key is owed a replacement (an account was
    removed while it could not be re-encrypted), until a re-encryption clears it: `user list`,
    `doctor` and a DSL's unlock say so meanwhile."""
    with _locked(path):
        doc = _read_checked(path)
        doc["rekey_owed"] = why
        _write_doc(path, doc)


def rekey_owed(path: Path) -> str:
    """Why the database key is owed a replacement, or '' (see `owe_rekey`)."""
    try:
        owed = _read_checked(path).get("rekey_owed", "")
    except StoreError:
        return ""
    return owed if isinstance(owed, str) else "a replacement was noted"


def settle_rekey(path: Path) -> None:
    """A re-encryption is done: each slot keeps only the new key, and nothing is owed."""
    with _locked(path):
        doc = _read_checked(path)
        doc["slots"] = [settled(s) for s in doc["slots"]]
        doc.pop("rekey_owed", None)
        _write_doc(path, doc)


def upgrade_slot(
    path: Path, user: str, passphrase: str, db_key: bytes | bytearray
) -> Signer | None:
    """Rewrite `user`'s slot from before key pairs in the new form (at an unlock, the one time
    the passphrase is at hand), so that a later re-encryption can reach it; the account's new
    signing key, or None if the slot needed no rewriting."""
    made: list[Signer] = []

    def change(slots: list[dict]) -> list[dict]:
        mine = next((s for s in slots if s.get("user") == user), None)
        if mine is None or resealable(mine):
            return slots
        slot, signer = slot_and_signer(user, passphrase, db_key, checked_cost(mine["kdf"]))
        made.append(signer)
        return replace_slot(slots, slot)

    update_slots(path, change)
    return made[0] if made else None


def read_slots(path: Path) -> list[dict]:
    """The slots in a key file."""
    return list(_read_checked(path)["slots"])


def _read_checked(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError(
            f"the key file {path.name} beside the database is missing; the database cannot be "
            "unlocked without it (restore it from the backup)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise StoreError(
            f"the key file {path.name} is damaged (restore it from the backup)"
        ) from None
    if (
        not isinstance(doc, dict)
        or doc.get("format") != FORMAT
        or not isinstance(doc.get("slots"), list)
    ):
        raise StoreError(f"the key file {path.name} is not a dsl-console key file")
    if not all(
        isinstance(slot, dict) and isinstance(slot.get("user"), str) for slot in doc["slots"]
    ):
        raise StoreError(f"the key file {path.name} is damaged (restore it from the backup)")
    return doc


def update_slots(path: Path, change: Callable[[list[dict]], list[dict]]) -> None:
    """Read, change and rewrite the slots under the key file's lock, so that two processes
    changing it at once (an account added while a failed unlock is noted) lose nothing."""
    with _locked(path):
        doc = _read_checked(path)
        doc["slots"] = change(list(doc["slots"]))
        _write_doc(path, doc)


def write_new_slots(path: Path, slots: list[dict]) -> None:
    """Write a key file no other process can be using yet (a database being created), unlocked
    so it can be called while `locked_folder` is held."""
    _write_doc(path, {"format": FORMAT, "slots": slots})


def export_slots(source: Path, target: Path) -> None:
    """Copy the slots (not the pending failure notes) to another key file, e.g. a backup's."""
    slots = read_slots(source)
    _write_doc(target, {"format": FORMAT, "slots": slots})


def replace_slot(slots: list[dict], slot: dict) -> list[dict]:
    """The slots with `slot` in place of any slot of the same user."""
    return [s for s in slots if s.get("user") != slot["user"]] + [slot]


def without_slot(slots: list[dict], user: str) -> list[dict]:
    """The slots less the given user's."""
    return [s for s in slots if s.get("user") != user]


def unwrap(slots: list[dict], user: str, passphrase: str) -> bytearray:
    """The database key from `user`'s slot; AccessError when the user or passphrase is wrong.

    A key file any of whose slots asks Argon2id for too little or too much is refused first,
    whatever the name typed: it has been tampered with, and must not be worked through.
    """
    return unwrap_keys(slots, user, passphrase)[0]


def unwrap_keys(slots: list[dict], user: str, passphrase: str) -> list[bytearray]:
    """`unwrap`, with the key the slot held before a re-encryption still under way (if any)
    after it: the database is encrypted with one of them."""
    return open_slot(slots, user, passphrase).keys


@dataclass(frozen=True)
class OpenedSlot:
    """What a slot gives its owner: the database key (and, while a re-encryption is under way,
    the one before it), and the account's signing key (None for a slot from before key
    pairs, until it is rewritten)."""

    keys: list[bytearray]
    signer: Signer | None


def open_slot(slots: list[dict], user: str, passphrase: str) -> OpenedSlot:
    """`unwrap_keys`, with the account's signing key."""
    costs = [checked_cost(slot.get("kdf")) for slot in slots]
    for slot in slots:
        if slot.get("user") != user:
            continue
        cost = checked_cost(slot.get("kdf"))
        try:
            kek = _derive(passphrase, _unb64(slot["salt"]), cost)
            key, private = _held_key(slot, kek, user)
            keys = [key]
            previous = slot.get("previous")
            if isinstance(previous, dict) and previous:
                before = {k: v for k, v in slot.items() if k not in ("sealed", "wrapped")}
                keys.append(_held_key({**before, **previous}, kek, user)[0])
            signer = Signer(user, signing_key(private, user)) if private else None
            return OpenedSlot(keys, signer)
        except InvalidTag:
            break
        except (KeyError, TypeError, ValueError, HashingError):
            raise StoreError("the key file is damaged (restore it from the backup)") from None
    else:
        # No such user: spend the same work as a real attempt, so the time taken does not
        # tell a guesser which account names exist.
        _derive(passphrase, bytes(16), costs[0] if costs else DEFAULT_COST)
    # One message for both cases, for the same reason.
    raise AccessError("wrong user name or passphrase")


def _held_key(slot: dict, kek: bytes, user: str) -> tuple[bytearray, bytes | None]:
    """The database key a slot holds, its key-encryption key derived, and the account's private
    key: sealed to the account's key pair, or (a slot from before key pairs, which has no
    private key) wrapped by the key-encryption key itself."""
    nonce = _unb64(slot["nonce"])
    if "sealed" in slot:
        raw = AESGCM(kek).decrypt(nonce, _unb64(slot["private"]), _private_label(user))
        return _open_sealed(slot["sealed"], X25519PrivateKey.from_private_bytes(raw), user), raw
    return _opened(kek, nonce, _unb64(slot["wrapped"]), user.encode("utf-8")), None


def slot_users(slots: list[dict]) -> list[str]:
    """The user names that hold a slot."""
    return [str(slot.get("user")) for slot in slots]


def _read_doc(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _write_doc(path: Path, doc: dict) -> None:
    # A name nobody can guess, created exclusively (mkstemp: O_EXCL, 0600): in a shared folder
    # another user could otherwise plant a link under the temporary name and have it written
    # through, or truncate a file of ours.
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(json.dumps(doc, indent=1).encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


@contextmanager
def locked_folder(db_path: Path) -> Iterator[None]:
    """Hold the lock of the database's folder (the one key-file updates take), e.g. so that two
    processes never create the same database at once. Not reentrant: write key files with
    `write_new_slots` inside it."""
    with _locked(db_path):
        yield


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    # The folder is locked rather than the file, because the file is replaced by rename.
    if fcntl is None:
        yield
        return
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


UNKNOWN_USER = "(unknown name)"


def note_failure(path: Path, user: str, at: datetime) -> None:
    """Remember a failed unlock; the database cannot take it until someone unlocks it.

    A name that holds no slot is kept as "(unknown name)": people do type their passphrase
    into the name field, and it must not end up in the key file or the audit trail.
    """
    try:
        with _locked(path):
            doc = _read_doc(path)
            known = user in slot_users(doc.get("slots") or [])
            failures = doc.setdefault("failures", [])
            failures.append({"user": user[:64] if known else UNKNOWN_USER, "at": at.isoformat()})
            del failures[:-1000]  # bounded: a flood of guesses cannot fill the disk
            _write_doc(path, doc)
    except (OSError, ValueError, AttributeError):
        pass  # never let bookkeeping hide the real answer: wrong passphrase


# Failure notes taken into the audit trail at one unlock, at most: anyone who can write the key
# file can plant notes (no passphrase is needed), so they are bounded, checked and labelled.
MAX_FAILURE_NOTES = 1000
# A note dated further back than this, or later than now, is not one this console wrote.
FAILURE_NOTE_DAYS = 366


@dataclass(frozen=True)
class FailureNotes:
    """What the key file says about failed unlocks since the last one: the notes that read as
    ones the console writes, and how many others were found (planted or damaged)."""

    notes: list[dict]
    rejected: int
    count: int  # every note in the file, to clear once recorded


def pending_failures(path: Path, now: datetime | None = None) -> FailureNotes:
    """The failed unlocks noted since the last unlock (left in place: see `clear_failures`).

    Only what the console itself writes is taken as a note: the name of a slot holder or
    "(unknown name)", a moment within the last year and not after `now`; at most the newest
    MAX_FAILURE_NOTES. Everything else is counted as rejected, never copied.
    """
    try:
        doc = _read_doc(path)
        items = doc.get("failures") or []
        users = set(slot_users(doc.get("slots") or [])) | {UNKNOWN_USER}
    except (OSError, ValueError, AttributeError):
        return FailureNotes([], 0, 0)
    if not isinstance(items, list):
        return FailureNotes([], 1, 0)
    notes: list[dict] = []
    rejected = max(0, len(items) - MAX_FAILURE_NOTES)
    for item in items[-MAX_FAILURE_NOTES:]:
        note = _failure_note(item, users, now)
        if note is None:
            rejected += 1
        else:
            notes.append(note)
    return FailureNotes(notes, rejected, len(items))


def _failure_note(item: object, users: set[str], now: datetime | None) -> dict | None:
    if not isinstance(item, dict):
        return None
    user, at = item.get("user"), item.get("at")
    if not isinstance(user, str) or user not in users or not isinstance(at, str) or len(at) > 40:
        return None
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    if now is not None and not now - timedelta(days=FAILURE_NOTE_DAYS) <= moment <= now:
        return None
    return {"user": user, "at_dt": moment}


def clear_failures(path: Path, count: int) -> None:
    """Drop the first `count` failure notes, once they are safely in the audit trail."""
    if count <= 0:
        return
    try:
        with _locked(path):
            doc = _read_doc(path)
            doc["failures"] = (doc.get("failures") or [])[count:]
            if not doc["failures"]:
                del doc["failures"]
            _write_doc(path, doc)
    except (OSError, ValueError, AttributeError):
        pass
