"""Accounts: add, list, remove, change passphrase. Each change rewrites key slots, never the
database's encryption, and is recorded in the audit trail (names and roles, no passphrases)."""

from __future__ import annotations

from dsl_console.core.clock import LONDON
from dsl_console.core.terminal_text import safe
from dsl_console.errors import AccessError, InputError
from dsl_console.services.session import Session, check_passphrase, check_user_name
from dsl_console.store import audit, keyslots, users
from dsl_console.store.account_trail import ADDED, PASSPHRASE, REMOVED, with_key
from dsl_console.store.users import ROLE_LABELS, Account, Profile, Role
from dsl_console.tables import table, terminal_width


def check_profile(profile: Profile) -> Profile:
    """A profile's fields, trimmed, bounded and free of control characters."""
    from dsl_console.core.validation import MAX_NAME, check_text

    return Profile(
        **{
            field: check_text(getattr(profile, field).strip(), MAX_NAME, field.replace("_", " "))
            for field in ("full_name", "job_title", "email")
        }
    )


def edit_profile(session: Session, name: str, profile: Profile) -> Profile:
    """Set who an account's holder is: anyone may set their own, only a DSL another's."""
    if name != session.user:
        session.require_admin()
    profile = check_profile(profile)

    def change() -> None:
        users.set_profile(name, profile)
        audit.record(session.now(), session.user, "profile-changed", detail=name)

    session.write(change)
    if name == session.user:
        session.profile = profile
    return profile


def list_accounts(session: Session) -> list[Account]:
    """The active accounts, by name (any role may see who has access)."""
    return users.active()


def add_account(
    session: Session,
    name: str,
    role: Role,
    passphrase: str,
    *,
    kdf_cost: keyslots.KdfCost = keyslots.DEFAULT_COST,
    profile: Profile = users.NO_PROFILE,
) -> None:
    """Give `name` access: an account row, and a key slot wrapping the same database key."""
    session.require_admin()
    name = check_user_name(name)
    profile = check_profile(profile)
    check_passphrase(passphrase)
    if users.role_of(name) is not None:
        raise InputError(f"user {name} already exists")
    # Argon2id is slow on purpose: run it before taking the write lock.
    slot = keyslots.make_slot(name, passphrase, session.database_key, kdf_cost)
    keys = keyslots.keys_path(session.path)

    def change() -> None:
        users.add(name, role, session.now(), profile)
        # The grant names the new account's signing key: signed by this DSL, it is what the
        # new account's entries are checked against (store/account_trail.py).
        detail = with_key(f"{name} ({role})", slot["verify"])
        audit.record(session.now(), session.user, ADDED, detail=detail)
        # Last, inside the transaction: if the key file cannot be written, the row rolls back.
        keyslots.update_slots(keys, lambda slots: keyslots.replace_slot(slots, slot))

    session.write(change)


def remove_account(session: Session, name: str) -> None:
    """Take access away: the key slot is deleted and the account marked removed (kept for the
    audit trail). The last DSL cannot be removed."""
    session.require_admin()
    role = users.role_of(name)
    if role is None:
        raise InputError(f"no user {name}")
    if role == Role.DSL and sum(a.role == Role.DSL for a in users.active()) <= 1:
        raise AccessError(f"{name} is the last DSL account; add another DSL before removing it")
    keys = keyslots.keys_path(session.path)

    def change() -> None:
        users.remove(name, session.now())
        audit.record(session.now(), session.user, REMOVED, detail=name)
        keyslots.update_slots(keys, lambda slots: keyslots.without_slot(slots, name))

    session.write(change)


REKEY_OWED = (
    "the database key is still to be replaced ({why}): until then an old copy of the key file "
    "opens it; run `dsl-console user rekey` with the other consoles closed"
)


def rekey_reminder(session: Session) -> str:
    """For a DSL: the line saying the database key is still to be replaced, or ''."""
    if session.role != Role.DSL:
        return ""
    owed = keyslots.rekey_owed(keyslots.keys_path(session.path))
    return REKEY_OWED.format(why=safe(owed)) if owed else ""


def rekey(session: Session, why: str) -> None:
    """Re-encrypt the database under a new key, sealed to every remaining account's key pair
    (no passphrase needed), so that no old copy of the key file, nor a key once extracted from
    one, opens it any more. All or nothing: while the file is being re-encrypted each slot
    holds both keys, and if it cannot be (open in another console), the key file is put back.

    Refused, changing nothing, while an account's slot predates key pairs (it is rewritten at
    that account's next unlock), naming who must unlock once first."""
    session.require_admin()
    keys = keyslots.keys_path(session.path)
    waiting = [str(s["user"]) for s in keyslots.read_slots(keys) if not keyslots.resealable(s)]
    if waiting:
        raise AccessError(
            "the database key was not replaced: "
            + ", ".join(safe(name) for name in waiting)
            + " must unlock once with this version first (or be removed); then run "
            "`dsl-console user rekey`"
        )
    new_key = keyslots.new_database_key()
    keyslots.update_slots(
        keys, lambda slots: [keyslots.reseal(s, new_key, keep_previous=True) for s in slots]
    )
    try:
        session.db.rekey(new_key)
    except Exception:
        keyslots.update_slots(keys, lambda slots: [keyslots.restored(s) for s in slots])
        raise
    keyslots.settle_rekey(keys)
    session.rekeyed(new_key)
    session.write(lambda: audit.record(session.now(), session.user, "database-rekeyed", "", why))


def change_passphrase(
    session: Session,
    name: str,
    passphrase: str,
    *,
    kdf_cost: keyslots.KdfCost = keyslots.DEFAULT_COST,
) -> None:
    """Replace `name`'s key slot with one for the new passphrase (anyone may change their own;
    only a DSL may change another's). The old passphrase stops working at once."""
    if name != session.user:
        session.require_admin()
    if users.role_of(name) is None:
        raise InputError(f"no user {name}")
    check_passphrase(passphrase)
    slot, signer = keyslots.slot_and_signer(name, passphrase, session.database_key, kdf_cost)
    keys = keyslots.keys_path(session.path)

    def change() -> None:
        # A new slot is a new key pair, and so a new signing key: on the record from here on.
        detail = with_key(name, signer.public)
        audit.record(session.now(), session.user, PASSPHRASE, detail=detail)
        keyslots.update_slots(keys, lambda slots: keyslots.replace_slot(slots, slot))

    session.write(change)
    if name == session.user:
        session.db.signer = signer  # what this session writes next is signed with the new key


def profile_line(profile: Profile) -> str:
    parts = [profile.full_name or "(no full name)"]
    if profile.job_title:
        parts.append(profile.job_title)
    if profile.email:
        parts.append(profile.email)
    return ", ".join(parts)


def accounts_text(session: Session, accounts: list[Account]) -> str:
    slots = set(keyslots.slot_users(keyslots.read_slots(keyslots.keys_path(session.path))))
    rows = []
    for account in accounts:
        notes = []
        if account.name == session.user:
            notes.append("you")
        if account.name not in slots:
            notes.append("no key slot: cannot unlock; set one with `user passwd`")
        rows.append(
            (
                account.name,
                ROLE_LABELS[account.role],
                account.created_at.astimezone(LONDON).strftime("%d/%m/%Y"),
                "; ".join(notes),
                profile_line(account.profile) if account.profile.full_name else "",
            )
        )
    # A name written to the database directly could hold control characters: the table
    # shows every cell inert. The longest column last, where it pads nothing.
    lines = (
        table(("User", "Role", "Since", "Notes", "Who"), rows, width=terminal_width())
        if rows
        else ["no accounts"]
    )
    owed = keyslots.rekey_owed(keyslots.keys_path(session.path))
    if owed:
        lines.append(REKEY_OWED.format(why=safe(owed)))
    return "\n".join(lines)
