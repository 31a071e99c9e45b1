"""Content anchors: the case records tied into the hash-chained audit trail.

Every change that writes case or event rows stamps them with the id of the audit entry that
records the change, and that entry's detail ends with `content=<sha256>` over those rows as
stored. Editing, deleting or adding a row outside the console then no longer matches its
entry, and rewriting the entry breaks the chain (or, rebuilt, an exported chain head). Only the
recorded facts are covered; the cached state columns are derived and may be refreshed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from dsl_console.store import audit
from dsl_console.store.models import AuditEntry

_CASE_SQL = (
    "SELECT e.ref, e.procedure, e.procedure_version, e.opened_at, c.name, c.dob, c.address, "
    "c.parents, e.other_agency, e.level_of_need, e.cp_plan, e.looked_after, e.immediate_risk, "
    "e.reason, e.summary, e.professionals, e.raised_by, e.other_agency_kind, e.concern "
    "FROM escalation e JOIN child c ON c.id = e.child_id WHERE e.anchor = ? ORDER BY e.ref"
)
_EVENT_SQL = (
    "SELECT e.ref, v.seq, v.at, v.kind, v.stage, v.by, v.whom, v.due, v.note, v.lessons, "
    "v.action, v.method, v.recorded_at, v.recorded_by, v.form, v.field, v.value "
    "FROM event v JOIN escalation e ON e.id = v.escalation_id WHERE v.anchor = ? "
    "ORDER BY e.ref, v.seq"
)
_CONTENT = re.compile(r"(?:^| )content=([0-9a-f]{64})$")


# Columns added after rows were first anchored, by the schema that added them, each with the
# value older rows hold. Newest first: a row whose newest columns all hold it digests as it did
# before they existed, and so on back (a schema-4 row digests as schema 4 wrote it).
_ADDED: dict[str, tuple[tuple[object, ...], ...]] = {
    "cases": (("",), ("other",)),  # schema 5: concern; schema 4: other_agency_kind
    "events": (("", "", ""),),  # schema 4: form, field, value
}


def _digest(
    rows: Iterable[tuple[Any, ...]], into: Any, added: tuple[tuple[object, ...], ...]
) -> int:
    count = 0
    for row in rows:
        for columns in added:
            if tuple(row[len(row) - len(columns) :]) != columns:
                break
            row = tuple(row[: len(row) - len(columns)])
        into.update(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        into.update(b"\n")
        count += 1
    return count


def content_digest(anchor: int) -> str:
    """The digest of the case and event rows stamped with this audit entry's id."""
    db = AuditEntry._meta.database
    h = hashlib.sha256()
    h.update(b"cases\n")
    _digest(db.execute_sql(_CASE_SQL, (anchor,)), h, _ADDED["cases"])
    h.update(b"events\n")
    _digest(db.execute_sql(_EVENT_SQL, (anchor,)), h, _ADDED["events"])
    return h.hexdigest()


def next_anchor() -> int:
    """The id the next audit entry will take (inside a write transaction, it is this one's)."""
    return audit.head()[0] + 1


def with_content(detail: str, anchor: int) -> str:
    """An audit detail that carries the digest of what the change wrote."""
    return f"{detail} content={content_digest(anchor)}".strip()


ROW_WRITING_ACTIONS = ("import", "case-opened")  # and every "event:<kind>"


def writes_rows(action: str) -> bool:
    """Whether entries of this action record case or event rows (and so carry a digest)."""
    return action in ROW_WRITING_ACTIONS or action.startswith("event:")


def verify_content() -> tuple[int, int | None, str]:
    """Check every anchored change: (changes checked, first broken entry id or None, why).

    A digest counts only on an entry of an action that writes rows: text that merely looks
    like one, in an entry of another kind, vouches for nothing."""
    db = AuditEntry._meta.database
    claimed: dict[int, str] = {}
    for entry_id, action, detail in db.execute_sql(
        "SELECT id, action, detail FROM audit ORDER BY id"
    ):
        found = _CONTENT.search(detail or "")
        if found and writes_rows(action or ""):
            claimed[entry_id] = found.group(1)
    for table, label in (("escalation", "a case"), ("event", "an event")):
        stray = db.execute_sql(
            f"SELECT min(id) FROM {table} WHERE anchor IS NULL OR anchor NOT IN "
            "(SELECT id FROM audit)"
        ).fetchone()[0]
        if stray is not None:
            return 0, None, f"{label} was added outside the console (no audit entry records it)"
        orphan = db.execute_sql(f"SELECT DISTINCT anchor FROM {table}").fetchall()
        for (anchor,) in orphan:
            if anchor not in claimed:
                return 0, anchor, f"entry {anchor} does not record the rows that name it"
    checked = 0
    for entry_id, digest in claimed.items():
        if content_digest(entry_id) != digest:
            return (
                checked,
                entry_id,
                (
                    f"the records written by entry {entry_id} were changed, added to or removed "
                    "outside the console"
                ),
            )
        checked += 1
    return checked, None, ""
