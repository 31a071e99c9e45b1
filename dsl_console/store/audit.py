"""The audit trail: append-only and hash-chained, so a changed, removed or reordered entry shows.

Each entry's hash covers its id, its content and the hash of the entry before it. Entries name
users and case refs, never children or concerns.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from dsl_console.store.models import AuditEntry, UtcField
from dsl_console.store.signing import Signer

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditLine:
    """An audit entry as shown to a user."""

    id: int
    at: datetime
    user: str
    action: str
    ref: str
    detail: str
    hash: str


def entry_hash(
    entry_id: int, at_text: str, user: str, action: str, ref: str, detail: str, prev_hash: str
) -> str:
    """The hash an entry must carry."""
    payload = json.dumps(
        [entry_id, at_text, user, action, ref, detail, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def head() -> tuple[int, str]:
    """The newest entry's id and hash (0 and the genesis hash when empty)."""
    last = AuditEntry.select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).first()
    return (last.id, last.hash) if last else (0, GENESIS)


HEAD_PREFIX_CHARS = 16  # 64 bits: enough that no one can forge a chain to match a printed head


def audit_head_line() -> str:
    """One line naming the chain's newest entry, for exports: "audit head 123:9f86d081884c7d65".

    Kept with the export, it pins the trail as it stood: if entries up to 123 are later
    changed, or the chain is rewritten from scratch, entry 123 no longer carries this hash.
    ASCII only, so every export format can carry it.
    """
    entry_id, digest = head()
    return f"audit head {entry_id}:{digest[:HEAD_PREFIX_CHARS]}"


def record(at: datetime, user: str, action: str, ref: str = "", detail: str = "") -> str:
    """Append an entry; call inside the write transaction of the change it records.

    Signed by the account that unlocked the database (`CipherDatabase.signer`), when it has a
    signing key: store/signing.py."""
    last_id, prev = head()
    entry_id = last_id + 1
    at_text = UtcField().db_value(at)
    digest = entry_hash(entry_id, at_text or "", user, action, ref, detail, prev)
    signer: Signer | None = getattr(AuditEntry._meta.database, "signer", None)
    AuditEntry.insert(
        signer=signer.name if signer else "",
        signature=signer.sign(digest) if signer else "",
        id=entry_id,
        at=at,
        user=user,
        action=action,
        ref=ref,
        detail=detail,
        prev_hash=prev,
        hash=digest,
    ).execute()
    return digest


def verify() -> tuple[int, int | None, str]:
    """Check the chain: (entries checked, first broken entry id or None, why)."""
    cursor = AuditEntry._meta.database.execute_sql(
        "SELECT id, at, user, action, ref, detail, prev_hash, hash FROM audit ORDER BY id"
    )
    prev, expected_id, count = GENESIS, 1, 0
    for entry_id, at_text, user, action, ref, detail, prev_hash, digest in cursor:
        if entry_id != expected_id:
            return count, expected_id, f"entry {expected_id} is missing"
        if prev_hash != prev:
            return count, entry_id, f"entry {entry_id} does not follow the entry before it"
        if entry_hash(entry_id, at_text, user, action, ref, detail, prev_hash) != digest:
            return count, entry_id, f"entry {entry_id} was changed after it was written"
        prev, expected_id, count = digest, expected_id + 1, count + 1
    return count, None, ""


def append_only_trigger(table: str, operation: str) -> tuple[str, str]:
    """(name, CREATE statement) of the trigger that refuses an UPDATE or DELETE on a table of
    records: the one definition, used to create them and to check them."""
    name = f"{table}_no_{operation.lower()}"
    return name, (
        f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} entries are append-only'); END"
    )


APPEND_ONLY_TRIGGERS = dict(
    append_only_trigger(table, operation)
    for table in ("event", "audit")
    for operation in ("UPDATE", "DELETE")
)


def foreign_schema() -> list[str]:
    """What in the schema the console did not make, in words: an append-only guard removed
    or replaced (a no-op under the same name), or any other trigger or view (a planted
    trigger can rewrite what the console writes, for good). Definitions are compared, not
    only names."""
    rows = AuditEntry._meta.database.execute_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('trigger', 'view')"
    ).fetchall()
    found = {name: (kind, " ".join(str(sql or "").split())) for kind, name, sql in rows}
    problems = []
    for name, definition in APPEND_ONLY_TRIGGERS.items():
        if name not in found:
            problems.append(f"the append-only guard {name} was removed outside the console")
        elif found[name][1] != definition:
            problems.append(f"the append-only guard {name} was replaced outside the console")
    for name, (kind, _sql) in sorted(found.items()):
        if name not in APPEND_ONLY_TRIGGERS:
            problems.append(f"a {kind} {name} was added outside the console")
    return problems


def lines(limit: int = 50, ref: str | None = None) -> Iterator[AuditLine]:
    """The newest entries, newest first."""
    query = AuditEntry.select().order_by(AuditEntry.id.desc()).limit(limit)
    if ref:
        query = query.where(AuditEntry.ref == ref)
    for row in query:
        yield AuditLine(row.id, row.at, row.user, row.action, row.ref, row.detail, row.hash)
