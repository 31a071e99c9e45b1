"""Accounts and their roles, kept inside the encrypted database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dsl_console.errors import InputError
from dsl_console.store.models import User


class Role(StrEnum):
    """What an account may do."""

    DSL = "dsl"  # everything
    DEPUTY = "deputy"  # everything but managing accounts
    READ_ONLY = "read-only"  # view only


ROLE_LABELS = {Role.DSL: "DSL", Role.DEPUTY: "Deputy DSL", Role.READ_ONLY: "Read-only"}


@dataclass(frozen=True)
class Profile:
    """Who an account's holder is, as the forms and the records name them."""

    full_name: str = ""
    job_title: str = ""
    email: str = ""


@dataclass(frozen=True)
class Account:
    """An account as listed."""

    name: str
    role: Role
    created_at: datetime
    profile: Profile = field(default_factory=Profile)

    @property
    def display_name(self) -> str:
        """The full name where one is set, else the login name."""
        return self.profile.full_name or self.name


def parse_role(text: str) -> Role:
    """A role from its name, with a clear error."""
    try:
        return Role(text)
    except ValueError:
        raise InputError(f"role must be one of {', '.join(r.value for r in Role)}") from None


NO_PROFILE = Profile()


def add(name: str, role: Role, now: datetime, profile: Profile = NO_PROFILE) -> None:
    """Add an account row (inside a write transaction)."""
    if User.get_or_none((User.name == name) & User.removed_at.is_null()):
        raise InputError(f"user {name} already exists")
    facts = {
        User.full_name: profile.full_name,
        User.job_title: profile.job_title,
        User.email: profile.email,
    }
    User.insert(
        name=name, role=role.value, created_at=now, **{f.name: v for f, v in facts.items()}
    ).on_conflict(
        conflict_target=[User.name],
        update={User.role: role.value, User.created_at: now, User.removed_at: None, **facts},
    ).execute()


def set_profile(name: str, profile: Profile) -> None:
    """Replace an active account's full name, job title and email (inside a transaction)."""
    updated = (
        User.update(full_name=profile.full_name, job_title=profile.job_title, email=profile.email)
        .where((User.name == name) & User.removed_at.is_null())
        .execute()
    )
    if not updated:
        raise InputError(f"no user {name}")


def account(name: str) -> Account | None:
    """An active account, or None."""
    row = User.get_or_none((User.name == name) & User.removed_at.is_null())
    return _account(row) if row else None


def _account(row: User) -> Account:
    return Account(
        row.name, Role(row.role), row.created_at, Profile(row.full_name, row.job_title, row.email)
    )


def remove(name: str, now: datetime) -> None:
    """Mark an account removed (its key slot is deleted by the caller)."""
    updated = (
        User.update(removed_at=now).where((User.name == name) & User.removed_at.is_null()).execute()
    )
    if not updated:
        raise InputError(f"no user {name}")


def role_of(name: str) -> Role | None:
    """The role of an active account, or None."""
    row = User.get_or_none((User.name == name) & User.removed_at.is_null())
    return Role(row.role) if row else None


def active() -> list[Account]:
    """The active accounts, by name."""
    query = User.select().where(User.removed_at.is_null()).order_by(User.name)
    return [_account(u) for u in query]
