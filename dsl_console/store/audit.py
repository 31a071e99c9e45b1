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
    """Append an entry; call inside the write transaction of the change it records."""
    last_id, prev = head()
    entry_id = last_id + 1
    at_text = UtcField().db_value(at)
    digest = entry_hash(entry_id, at_text or "", user, action, ref, detail, prev)
    AuditEntry.insert(
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


APPEND_ONLY_TRIGGERS = ("event_no_update", "event_no_delete", "audit_no_update", "audit_no_delete")


def missing_triggers() -> list[str]:
    """The append-only triggers that have been dropped (someone editing the file directly)."""
    rows = AuditEntry._meta.database.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    ).fetchall()
    present = {name for (name,) in rows}
    return [name for name in APPEND_ONLY_TRIGGERS if name not in present]


def lines(limit: int = 50, ref: str | None = None) -> Iterator[AuditLine]:
    """The newest entries, newest first."""
    query = AuditEntry.select().order_by(AuditEntry.id.desc()).limit(limit)
    if ref:
        query = query.where(AuditEntry.ref == ref)
    for row in query:
        yield AuditLine(row.id, row.at, row.user, row.action, row.ref, row.detail, row.hash)
