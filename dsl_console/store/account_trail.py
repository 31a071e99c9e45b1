"""Accounts as the audit trail grants them: who may unlock, and with which role.

The `user` table says who has which role, and anyone holding the database key (any account,
read-only ones included, working outside the console) can write it: `UPDATE user SET role =
'dsl'` once gave a read-only account a DSL's powers, and a row inserted directly made an account
that nothing recorded. Every grant is also an audit entry (the first DSL's creation, each
account added with its role, each removal), and the trail is hash-chained. Here the grants are
replayed in order, each counted only when its author was an active DSL at that moment (the
very first creates itself), and the table is compared with the result: at unlock the trail's
role is the one granted, and `audit verify` names every disagreement.

A forged entry in a DSL's name, correctly chained, still passes: that is evident only against
a chain head exported before it (the README's Security section says so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dsl_console.store.models import AuditEntry
from dsl_console.store.users import Role, active

CREATED, ADDED, REMOVED = "account-created", "account-added", "account-removed"
ACCOUNT_ACTIONS = (CREATED, ADDED, REMOVED)
# The SQL the partial index `audit_accounts` (schema 6) serves: the same list, spelled out.
_GRANTS_SQL = (
    "SELECT id, user, action, detail FROM audit "
    "WHERE action IN ('account-created', 'account-added', 'account-removed') ORDER BY id"
)
_ADDED_DETAIL = re.compile(r"^(.+) \((dsl|deputy|read-only)\)$")
_VERBS = {ADDED: "add", REMOVED: "remove"}


@dataclass
class TrailAccounts:
    """The active accounts the trail grants, and what in it could not be counted."""

    roles: dict[str, Role] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)  # one line per grant not counted
    recorded: bool = False  # whether the trail records any account at all

    def problems(self) -> list[str]:
        """Every way the `user` table disagrees with the trail, one line each."""
        lines = list(self.refused)
        if not self.recorded:
            return lines
        table = {a.name: a.role for a in active()}
        for name, role in sorted(table.items()):
            granted = self.roles.get(name)
            if granted is None:
                lines.append(f"account {name} was added outside the console (no grant records it)")
            elif granted != role:
                lines.append(
                    f"account {name}'s role was changed outside the console: the database says "
                    f"{role}, the trail granted {granted}"
                )
        for name in sorted(set(self.roles) - set(table)):
            lines.append(f"account {name} was removed outside the console")
        return lines


def trail_accounts() -> TrailAccounts:
    """Replay every account grant in the trail (inside a connection)."""
    db = AuditEntry._meta.database
    found = TrailAccounts()
    for entry_id, author, action, detail in db.execute_sql(_GRANTS_SQL):
        found.recorded = True
        if action == CREATED:
            if found.roles:
                found.refused.append(f"entry {entry_id}: a second first account, {author}")
            else:
                found.roles[author] = Role.DSL
            continue
        if found.roles.get(author) != Role.DSL:
            found.refused.append(
                f"entry {entry_id}: {author} was not a DSL then, and could not "
                f"{_VERBS[action]} an account"
            )
            continue
        if action == ADDED:
            matched = _ADDED_DETAIL.match(detail or "")
            if matched is None:
                found.refused.append(f"entry {entry_id}: not a grant the console writes")
                continue
            found.roles[matched.group(1)] = Role(matched.group(2))
        else:
            found.roles.pop(detail, None)
    return found


def granted_role(name: str, table_role: Role) -> tuple[Role | None, str]:
    """The role to unlock `name` with, and a line to show when the table disagrees.

    The trail's grant wins; an account the trail never granted cannot unlock (None). A
    database whose trail records no account at all (none is known to the console) is taken
    at its table's word."""
    found = trail_accounts()
    if not found.recorded:
        return table_role, ""
    granted = found.roles.get(name)
    if granted is None:
        return None, f"account {name} was added outside the console: ask your DSL"
    if granted != table_role:
        return granted, (
            f"your account's role was changed outside the console (the database says "
            f"{table_role}): you are unlocked as {granted}, as the audit trail granted"
        )
    return granted, ""
