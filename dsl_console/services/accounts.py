"""Accounts: add, list, remove, change passphrase. Each change rewrites key slots, never the
database's encryption, and is recorded in the audit trail (names and roles, no passphrases)."""

from __future__ import annotations

import argparse
import os
import sys
from getpass import getpass

from dsl_console.core.clock import LONDON
from dsl_console.core.terminal_text import safe
from dsl_console.errors import AccessError, InputError
from dsl_console.services.session import Session, check_passphrase, check_user_name
from dsl_console.store import audit, keyslots, users
from dsl_console.store.users import ROLE_LABELS, Account, Profile, Role, parse_role

ENV_NEW_PASSPHRASE = "DSL_CONSOLE_NEW_PASSPHRASE"


def new_passphrase(whom: str, *, interactive: bool | None = None) -> str:
    """The new passphrase: from DSL_CONSOLE_NEW_PASSPHRASE, else asked twice at the terminal."""
    given = os.environ.get(ENV_NEW_PASSPHRASE)
    if given:
        check_passphrase(given)
        return given
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise AccessError(
            f"no terminal to ask for the new passphrase: set {ENV_NEW_PASSPHRASE}; "
            "nothing was changed"
        )
    try:
        first = getpass(f"New passphrase for {whom}: ")
        check_passphrase(first)
        second = getpass("The same passphrase again: ")
    except (EOFError, KeyboardInterrupt):
        raise AccessError("cancelled; nothing was changed") from None
    if first != second:
        raise InputError("passphrase: the two entries differ; nothing was changed")
    return first


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
        audit.record(session.now(), session.user, "account-added", detail=f"{name} ({role})")
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
        audit.record(session.now(), session.user, "account-removed", detail=name)
        keyslots.update_slots(keys, lambda slots: keyslots.without_slot(slots, name))

    session.write(change)


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
    slot = keyslots.make_slot(name, passphrase, session.database_key, kdf_cost)
    keys = keyslots.keys_path(session.path)

    def change() -> None:
        audit.record(session.now(), session.user, "passphrase-changed", detail=name)
        keyslots.update_slots(keys, lambda slots: keyslots.replace_slot(slots, slot))

    session.write(change)


def run(
    session: Session,
    args: argparse.Namespace,
    *,
    kdf_cost: keyslots.KdfCost = keyslots.DEFAULT_COST,
) -> str:
    """`dsl-console user add|edit|list|remove|passwd`: do it and return the line to print."""
    if args.action == "list":
        return _format_accounts(session, list_accounts(session))
    if args.action == "add":
        # Every check that needs no passphrase comes first, so no one types one in vain.
        session.require_admin()
        name = check_user_name(args.name)
        role = parse_role(args.role)
        if users.role_of(name) is not None:
            raise InputError(f"user {name} already exists")
        profile = check_profile(_profile_given(args, Profile()))
        add_account(session, name, role, new_passphrase(name), kdf_cost=kdf_cost, profile=profile)
        return f"added {name} ({ROLE_LABELS[role]}); they unlock with their own passphrase"
    if args.action == "edit":
        name = args.name or session.user
        found = users.account(name)
        if found is None:
            raise InputError(f"no user {name}")
        profile = edit_profile(session, name, _profile_given(args, found.profile))
        return f"{name}: " + _profile_line(profile)
    if args.action == "remove":
        remove_account(session, args.name)
        return f"removed {args.name}; their passphrase no longer unlocks the database"
    if args.action == "passwd":
        name = args.name or session.user
        if name != session.user:
            session.require_admin()
        if users.role_of(name) is None:
            raise InputError(f"no user {name}")
        change_passphrase(session, name, new_passphrase(name), kdf_cost=kdf_cost)
        return f"passphrase changed for {name}; the old one no longer unlocks the database"
    raise InputError(f"unknown user action {args.action}")


def _profile_given(args: argparse.Namespace, current: Profile) -> Profile:
    """The profile with whichever of --full-name, --title and --email were given."""
    given = {
        "full_name": getattr(args, "full_name", None),
        "job_title": getattr(args, "title", None),
        "email": getattr(args, "email", None),
    }
    return Profile(
        **{
            key: value if value is not None else getattr(current, key)
            for key, value in given.items()
        }
    )


def _profile_line(profile: Profile) -> str:
    parts = [profile.full_name or "(no full name)"]
    if profile.job_title:
        parts.append(profile.job_title)
    if profile.email:
        parts.append(profile.email)
    return ", ".join(parts)


def _format_accounts(session: Session, accounts: list[Account]) -> str:
    slots = set(keyslots.slot_users(keyslots.read_slots(keyslots.keys_path(session.path))))
    width = max((len(a.name) for a in accounts), default=4)
    lines = []
    for account in accounts:
        notes = []
        if account.name == session.user:
            notes.append("you")
        if account.name not in slots:
            notes.append("no key slot: cannot unlock; set one with `user passwd`")
        since = account.created_at.astimezone(LONDON).strftime("%d/%m/%Y")
        suffix = f"  ({'; '.join(notes)})" if notes else ""
        who = safe(_profile_line(account.profile)) if account.profile.full_name else ""
        lines.append(
            f"{account.name:<{width}}  {ROLE_LABELS[account.role]:<11} since {since}"
            f"{'  ' + who if who else ''}{suffix}"
        )
    return "\n".join(lines) if lines else "no accounts"
