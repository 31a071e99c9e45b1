"""Receipts for the cached case states: what lets `check` believe the cache without replaying
every case each time.

The stage, due and flag columns of a case row are derived from its events
(`cases.state_columns`). A copy changed outside the console with the database's key (a due
moved a year on) would hide a flag from `check`, and replaying every case to find such a
change takes about ten seconds at 100,000 cases. So once `check` has replayed cases and found
their stored state agreeing with their events, it records a receipt: a digest of the stored
state of each block of cases (by id), as of the newest audit entry it had read, in an audit
entry signed by the account that ran it. The next `check` digests the blocks again, in one
pass of SQL, and replays only the blocks that differ from the receipt or hold a case whose
rows were written since; every other block is exactly as a replay found it.

A receipt counts only when its entry is intact and signed by an account that may change the
cases (a DSL or a deputy) (`account_trail.verify_case_authors` finds the newest such one), so
nobody can vouch for a tampered state in another person's name. The digests themselves are
kept in a setting and the signed entry holds their digest, which keeps the trail's lines short.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.procedures import ProcedureRegistry
from dsl_console.core.records import Case
from dsl_console.store import audit
from dsl_console.store.cases import STATE_COLUMNS, iter_cases, stale_states
from dsl_console.store.models import AuditEntry, Escalation, EventRow, Setting

STATES_CHECKED = "states-checked"  # the audit action of a receipt
BLOCK = 1000  # cases per block: a change makes `check` replay about this many
_SETTING = "state_receipt"
_DETAIL = re.compile(r"^as of entry (\d+), (\d+) block\(s\) of (\d+) cases, digest ([0-9a-f]{64})$")
_BLOCK_LINE = re.compile(r"^(\d+) ([0-9a-f]{32})$")


@dataclass(frozen=True)
class Receipt:
    """Blocks of cases whose stored state a replay found agreeing with their events, and the
    newest audit entry read when it did (rows written after it are replayed again)."""

    as_of: int = 0
    blocks: dict[int, str] = field(default_factory=dict)

    def listing(self) -> str:
        """The blocks as the setting keeps them: a line each of number and digest."""
        return "\n".join(f"{n} {digest}" for n, digest in sorted(self.blocks.items()))

    def detail(self) -> str:
        """The audit detail that vouches for them (the digest of `listing`)."""
        listing = hashlib.sha256(self.listing().encode("ascii")).hexdigest()
        return (
            f"as of entry {self.as_of}, {len(self.blocks)} block(s) of {BLOCK} cases, "
            f"digest {listing}"
        )


def block_digests() -> dict[int, str]:
    """The digest of each block's stored state columns, in one pass of SQL."""
    columns = " || char(31) || ".join(f'quote("{name}")' for name in ("id", *STATE_COLUMNS))
    rows = Escalation._meta.database.execute_sql(
        f'SELECT "id" / {BLOCK}, group_concat({columns}, char(10) ORDER BY "id") '
        f'FROM "{Escalation._meta.table_name}" GROUP BY 1'
    )
    return {number: hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] for number, text in rows}


def _written_since(entry_id: int) -> set[int]:
    """The blocks holding a case whose row, or one of whose events, a later entry recorded."""
    table, events = Escalation._meta.table_name, EventRow._meta.table_name
    rows = Escalation._meta.database.execute_sql(
        f'SELECT "id" / {BLOCK} FROM "{table}" WHERE "anchor" > ? '
        f'UNION SELECT "escalation_id" / {BLOCK} FROM "{events}" WHERE "anchor" > ?',
        (entry_id, entry_id),
    )
    return {number for (number,) in rows}


def believed(entry_id: int | None) -> Receipt:
    """The receipt recorded by this entry (the newest one a writer signed), or an empty one
    when there is none or anything about it does not hold: its entry changed after it was
    written, the listing kept beside it not the one it vouches for."""
    if entry_id is None:
        return Receipt()
    row = AuditEntry._meta.database.execute_sql(
        "SELECT id, at, user, action, ref, detail, prev_hash, hash FROM audit WHERE id = ?",
        (entry_id,),
    ).fetchone()
    if row is None or row[3] != STATES_CHECKED:
        return Receipt()
    # The signature covers the entry's hash: the hash must still cover its detail.
    recomputed = audit.entry_hash(*row[:7])
    matched = _DETAIL.match(row[5] or "")
    kept = Setting.get_or_none(Setting.key == _SETTING)
    if recomputed != row[7] or matched is None or kept is None or int(matched[3]) != BLOCK:
        return Receipt()
    if hashlib.sha256(kept.value.encode("ascii", "replace")).hexdigest() != matched[4]:
        return Receipt()
    blocks = {}
    for line in kept.value.splitlines():
        parsed = _BLOCK_LINE.match(line)
        if parsed is None:
            return Receipt()
        blocks[int(parsed[1])] = parsed[2]
    if len(blocks) != int(matched[2]):
        return Receipt()
    return Receipt(int(matched[1]), blocks)


@dataclass(frozen=True)
class Replayed:
    """What `replay_unvouched` found: the cases whose stored state disagrees with their events,
    how many cases it replayed, and the receipt now owed (None when nothing new is vouched)."""

    stale: list[str]
    replayed: int
    receipt: Receipt | None


def replay_unvouched(
    receipt: Receipt, registry: ProcedureRegistry, calendar: WorkingCalendar
) -> Replayed:
    """Replay every case the receipt does not vouch for, as of one moment: the blocks whose
    stored state differs from it, or holding a case written since it."""
    db = Escalation._meta.database
    with db.atomic("DEFERRED"):
        as_of = audit.head()[0]
        digests = block_digests()
        doubtful = {n for n, d in digests.items() if receipt.blocks.get(n) != d}
        doubtful |= _written_since(receipt.as_of) & set(digests)
        if not doubtful:
            return Replayed([], 0, None)
        replayed = 0

        def counted(cases: Iterable[Case]) -> Iterator[Case]:
            nonlocal replayed
            for case in cases:
                replayed += 1
                yield case

        stale = stale_states(registry, calendar, counted(iter_cases(blocks=(doubtful, BLOCK))))
        spoilt = {
            number
            for (number,) in db.execute_sql(
                f'SELECT "id" / {BLOCK} FROM "{Escalation._meta.table_name}" '
                'WHERE "ref" IN (SELECT value FROM json_each(?))',
                (json.dumps(stale),),
            )
        }
    vouched = {n: d for n, d in digests.items() if n not in spoilt}
    return Replayed(stale, replayed, Receipt(as_of, vouched))


def record_receipt(at: datetime, user: str, receipt: Receipt) -> None:
    """Record a receipt (inside a write transaction): the listing kept, its entry signed."""
    Setting.replace(key=_SETTING, value=receipt.listing()).execute()
    audit.record(at, user, STATES_CHECKED, detail=receipt.detail())
