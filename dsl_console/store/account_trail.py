"""Accounts as the audit trail grants them: who may unlock, with which role and signing key,
and who could have written each entry.

The `user` table says who has which role, and anyone holding the database key (any account,
read-only ones included, working outside the console) can write it: `UPDATE user SET role =
'dsl'` once gave a read-only account a DSL's powers, and a row inserted directly made an account
that nothing recorded. Every grant is also an audit entry (the first DSL's creation, each
account added with its role, each removal, each new signing key), and each entry is signed by
its author (store/signing.py). Here the trail is replayed in order: an entry counts only when
its author's key on record at that moment signed it, and a grant only when its author was then
a DSL (the very first creates itself; anyone may replace their own key with a new
passphrase). The table is compared with the result: at unlock the trail's role is the one
granted, and `audit verify` names every disagreement, every entry its author did not sign, and
every change to the cases by an account whose role did not allow it.

Still only evident (the README's Security section): a whole trail rebuilt from scratch with new
keys (against an exported chain head, and at every unlock, whose key then disagrees with the
trail's), and an entry forged in the name of an account from before signatures until its first
unlock with this version records its key (that unlock then says so).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dsl_console.store.anchoring import ROW_WRITING_ACTIONS, writes_rows
from dsl_console.store.models import AuditEntry
from dsl_console.store.signing import Signer, Verifier
from dsl_console.store.state_receipts import STATES_CHECKED
from dsl_console.store.users import Role, active

CREATED, ADDED, REMOVED = "account-created", "account-added", "account-removed"
PASSPHRASE, SIGNING_KEY = "passphrase-changed", "signing-key"
LOGIN_FAILED = "login-failed"
GRANT_ACTIONS = (CREATED, ADDED, REMOVED, PASSPHRASE, SIGNING_KEY)
_COLUMNS = "id, user, action, detail, hash, signer, signature"
_GRANTS = ", ".join(f"'{action}'" for action in GRANT_ACTIONS)
# The SQL the partial index `audit_grants` (schema 7) serves: its WHERE is this same list.
_GRANTS_SQL = f"SELECT {_COLUMNS} FROM audit WHERE action IN ({_GRANTS}) ORDER BY id"
_ALL_SQL = f"SELECT {_COLUMNS} FROM audit ORDER BY id"
# The grants, every entry that wrote case rows (anchoring.writes_rows) and the receipts for the
# cached states: what `check` and the console need believed, without the views and logins that
# make up most of a trail.
_CASE_WRITES = ", ".join(
    f"'{action}'" for action in (*GRANT_ACTIONS, *ROW_WRITING_ACTIONS, STATES_CHECKED)
)
_CASE_WRITES_SQL = (
    f"SELECT {_COLUMNS} FROM audit WHERE action IN ({_CASE_WRITES}) "
    "OR action LIKE 'event:%' ORDER BY id"
)
_KEY = r"(?: signing key ([0-9a-f]{64}))?"
_CREATED_DETAIL = re.compile(rf"^first DSL{_KEY}$")
_ADDED_DETAIL = re.compile(rf"^(.+) \((dsl|deputy|read-only)\){_KEY}$")
_PASSPHRASE_DETAIL = re.compile(rf"^(.+?){_KEY}$")
_SIGNING_KEY_DETAIL = re.compile(r"^([0-9a-f]{64})$")
_VERBS = {ADDED: "add", REMOVED: "remove", PASSPHRASE: "change the passphrase of"}
_WRITERS = (Role.DSL, Role.DEPUTY)


def with_key(detail: str, public: str) -> str:
    """A grant's detail naming the signing key it gives ("jo (deputy) signing key 3f…")."""
    return f"{detail} signing key {public}"


@dataclass
class TrailAccounts:
    """The active accounts the trail grants, their signing keys, and what in it could not be
    counted."""

    roles: dict[str, Role] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # name -> public signing key (hex)
    refused: list[str] = field(default_factory=list)  # one line per grant not counted
    recorded: bool = False  # whether the trail records any account at all
    signing: bool = False  # whether any entry so far is signed

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


class _Replay:
    """The trail taken entry by entry, in order."""

    def __init__(self) -> None:
        self.found = TrailAccounts()
        self._verifier = Verifier()
        self.receipt: int | None = None  # the newest receipt believed (store/state_receipts)

    def take(self, row: tuple) -> str:
        """Take one entry; a line saying why it cannot be believed, or ''."""
        entry_id, author, action, detail, digest, signer, signature = row
        detail = detail or ""
        if action in GRANT_ACTIONS:
            self.found.recorded = True
        # A key the entry itself brings: the first DSL's, or an account's first one. Only its
        # author's own entry may bring it, so it is self-signed.
        brought = self._brought_key(action, author, detail)
        wrong = self._signature_problem(
            entry_id, author, action, digest, signer, signature, brought
        )
        if wrong:
            if action in GRANT_ACTIONS:
                self.found.refused.append(f"{wrong}; its grant is not counted")
            return wrong
        refused = self._grant(entry_id, author, action, detail)
        if refused:
            self.found.refused.append(refused)
            return refused
        problem = self._role_problem(entry_id, author, action)
        # A receipt for the cached states counts only signed, by someone who may change cases.
        if not problem and action == STATES_CHECKED and signature and self.found.recorded:
            self.receipt = entry_id
        return problem

    def _brought_key(self, action: str, author: str, detail: str) -> str | None:
        if action == CREATED and not self.found.roles:
            matched = _CREATED_DETAIL.match(detail)
            return matched.group(1) if matched else None
        if action == SIGNING_KEY and author not in self.found.keys:
            matched = _SIGNING_KEY_DETAIL.match(detail)
            return matched.group(1) if matched else None
        return None

    def _signature_problem(
        self,
        entry_id: int,
        author: str,
        action: str,
        digest: str,
        signer: str,
        signature: str,
        brought: str | None,
    ) -> str:
        found = self.found
        if not found.recorded:
            return ""  # a trail from before accounts were recorded: nothing to judge by
        if signature:
            # A failed unlock taken from the key file is written by whoever unlocked next.
            if signer != author and action != LOGIN_FAILED:
                return f"entry {entry_id} is in {author}'s name but was signed by {signer}"
            public = brought if signer == author and brought else found.keys.get(signer)
            if public is None:
                return f"entry {entry_id} is signed by {signer}, who holds no signing key"
            if not self._verifier.signed(public, signer, digest, signature):
                return (
                    f"entry {entry_id} was not signed by {signer}'s signing key on record (the "
                    "entry, or the record of the key, was changed)"
                )
            found.signing = True
            return ""
        if action == LOGIN_FAILED:
            return ""  # unverified by nature (anyone can plant one in the key file)
        if author in found.keys or (found.signing and author not in found.roles):
            return f"entry {entry_id}, in {author}'s name, is not signed by {author}"
        return ""  # an account from before signatures, until its first unlock records its key

    def _grant(self, entry_id: int, author: str, action: str, detail: str) -> str:
        found = self.found
        if action == CREATED:
            if found.roles:
                return f"entry {entry_id}: a second first account, {author}"
            found.roles[author] = Role.DSL
            matched = _CREATED_DETAIL.match(detail)
            if matched and matched.group(1):
                found.keys[author] = matched.group(1)
            return ""
        if action == SIGNING_KEY:
            matched = _SIGNING_KEY_DETAIL.match(detail)
            if author not in found.roles or author in found.keys or matched is None:
                return f"entry {entry_id}: a signing key for {author} the console did not record"
            found.keys[author] = matched.group(1)
            return ""
        if action not in _VERBS:
            return ""
        if action == PASSPHRASE:
            matched = _PASSPHRASE_DETAIL.match(detail)
            name = matched.group(1) if matched else detail
            if name != author and found.roles.get(author) != Role.DSL:
                return (
                    f"entry {entry_id}: {author} was not a DSL then, and could not "
                    f"{_VERBS[action]} {name}"
                )
            if matched and matched.group(2) and name in found.roles:
                found.keys[name] = matched.group(2)
            return ""
        if found.roles.get(author) != Role.DSL:
            return (
                f"entry {entry_id}: {author} was not a DSL then, and could not "
                f"{_VERBS[action]} an account"
            )
        if action == ADDED:
            matched = _ADDED_DETAIL.match(detail)
            if matched is None:
                return f"entry {entry_id}: not a grant the console writes"
            name = matched.group(1)
            found.roles[name] = Role(matched.group(2))
            if matched.group(3):
                found.keys[name] = matched.group(3)
            else:
                found.keys.pop(name, None)
        else:
            found.roles.pop(detail, None)
            found.keys.pop(detail, None)
        return ""

    def _role_problem(self, entry_id: int, author: str, action: str) -> str:
        vouches = action == STATES_CHECKED
        if not self.found.recorded or not (writes_rows(action) or vouches):
            return ""
        role = self.found.roles.get(author)
        if role in _WRITERS:
            return ""
        had = "had a read-only account" if role == Role.READ_ONLY else "held no account"
        could_not = "vouch for the cases' stored states" if vouches else "change the case records"
        return f"entry {entry_id}: {author} {had} then, and could not {could_not}"


# Entries checked between two calls of a caller's `pause` (the console's typing goes first).
PAUSE_EVERY = 200


def _replayed(
    rows: Iterable[tuple], pause: Callable[[], None] | None = None
) -> tuple[_Replay, int | None, str, set[int]]:
    """The trail replayed; the first entry not to be believed and why; every such entry that
    wrote case records."""
    replay = _Replay()
    first: tuple[int | None, str] = (None, "")
    forged: set[int] = set()
    for count, row in enumerate(rows, start=1):
        if pause is not None and count % PAUSE_EVERY == 0:
            pause()
        why = replay.take(row)
        if not why:
            continue
        if first[0] is None:
            first = (row[0], why)
        if writes_rows(row[2] or ""):
            forged.add(row[0])
    return replay, *first, forged


def trail_accounts() -> TrailAccounts:
    """Replay every account grant in the trail (inside a connection)."""
    return _replayed(AuditEntry._meta.database.execute_sql(_GRANTS_SQL))[0].found


def verify_authors() -> tuple[int | None, str, TrailAccounts]:
    """Every entry against its author: the first entry its author's key did not sign, or whose
    change its author's role did not allow, as (entry id, why) ((None, '') when none), and the
    accounts the whole trail grants.

    Reads the whole trail (tens of microseconds an entry, for the signature)."""
    replay, entry_id, why, _forged = _replayed(AuditEntry._meta.database.execute_sql(_ALL_SQL))
    return entry_id, why, replay.found


@dataclass(frozen=True)
class CaseForgeries:
    """The changes to the case records that their authors did not make: the first, why, and
    every one (the audit entries that wrote them)."""

    first: int | None = None
    why: str = ""
    entries: frozenset[int] = frozenset()
    receipt: int | None = None  # the newest receipt for the cached states a writer signed


def verify_case_authors(pause: Callable[[], None] | None = None) -> CaseForgeries:
    """`verify_authors` for the grants and the entries that wrote case records only; `pause`
    is called between slices (the console's check gives way to typing)."""
    rows = AuditEntry._meta.database.execute_sql(_CASE_WRITES_SQL)
    replay, first, why, forged = _replayed(rows, pause)
    return CaseForgeries(first, why, frozenset(forged), replay.receipt)


FORGED_CASE_CHANGE = (
    # One wording for both kinds ({why} says which): an entry its named author did not sign,
    # and one they signed that their role did not allow (a reader's resolution or receipt).
    "the audit trail holds a change to the case records that the console did not make and "
    "would not allow ({why}): someone with the database's key changed it outside the console. "
    "Keep the files as they are, tell the other DSLs, and restore the last backup made before "
    "it; `dsl-console audit verify` names the first such entry"
)


@dataclass(frozen=True)
class Grant:
    """What unlocking `name` gets: its role (None: it may not unlock), a line to show when the
    database disagrees with the trail, and whether its signing key is still to be recorded."""

    role: Role | None
    notice: str = ""
    record_key: bool = False


KEY_DISAGREES = (
    "the audit trail holds another signing key for your account than your passphrase opens: "
    "entries in your name may have been written outside the console; tell your DSL and run "
    "`dsl-console audit verify`"
)


def granted(name: str, table_role: Role, signer: Signer | None = None) -> Grant:
    """The role to unlock `name` with, checked against the trail, and its signing key against
    the one the trail holds for it.

    The trail's grant wins; an account the trail never granted cannot unlock. A database whose
    trail records no account at all (none is known to the console) is taken at its table's
    word."""
    found = trail_accounts()
    if not found.recorded:
        return Grant(table_role)
    role = found.roles.get(name)
    if role is None:
        return Grant(None, f"account {name} was added outside the console: ask your DSL")
    notices = []
    if role != table_role:
        notices.append(
            f"your account's role was changed outside the console (the database says "
            f"{table_role}): you are unlocked as {role}, as the audit trail granted"
        )
    recorded = found.keys.get(name)
    if signer is not None and recorded is not None and recorded != signer.public:
        notices.append(KEY_DISAGREES)
    return Grant(role, "; ".join(notices), signer is not None and recorded is None)
