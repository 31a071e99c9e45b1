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
rows were written since (by the entry they name, or by a row id above the receipt's
watermarks); rows slipped in under the watermarks or taken out replay every block. Every other
block is exactly as a replay found it.

A receipt counts only when its entry is intact, still linked into the chain where it was
written, vouches only for what came before it, and is signed by an account that may change the
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
from dsl_console.store.cases import STATE_COLUMNS, iter_cases, orphaned_cases, stale_states
from dsl_console.store.models import AuditEntry, Escalation, EventRow, Setting

STATES_CHECKED = "states-checked"  # the audit action of a receipt
BLOCK = 1000  # cases per block: a change makes `check` replay about this many
_SETTING = "state_receipt"
_DETAIL = re.compile(
    r"^as of entry (\d+), cases to (-?\d+) \((\d+)\), events to (-?\d+) \((\d+)\), "
    r"(\d+) block\(s\) of (\d+) cases, digest ([0-9a-f]{64})$"
)
_BLOCK_LINE = re.compile(r"^(\d+) ([0-9a-f]{32})$")


@dataclass(frozen=True)
class Watermark:
    """The highest row id of a table and how many rows it held, as a receipt saw them: a row
    of a higher id is new since, and a different count below it means rows were slipped in
    under it or taken out (an event moved to an old or negative id, a case deleted)."""

    top: int = 0
    count: int = 0


@dataclass(frozen=True)
class Receipt:
    """Blocks of cases whose stored state a replay found agreeing with their events, and the
    newest audit entry and the case and event rows there were when it did (rows written after
    them are replayed again)."""

    as_of: int = 0
    blocks: dict[int, str] = field(default_factory=dict)
    cases: Watermark = Watermark()
    events: Watermark = Watermark()

    def listing(self) -> str:
        """The blocks as the setting keeps them: a line each of number and digest."""
        return "\n".join(f"{n} {digest}" for n, digest in sorted(self.blocks.items()))

    def detail(self) -> str:
        """The audit detail that vouches for them (the digest of `listing`)."""
        listing = hashlib.sha256(self.listing().encode("ascii")).hexdigest()
        return (
            f"as of entry {self.as_of}, cases to {self.cases.top} ({self.cases.count}), "
            f"events to {self.events.top} ({self.events.count}), {len(self.blocks)} block(s) "
            f"of {BLOCK} cases, digest {listing}"
        )


def block_digests() -> dict[int, str]:
    """The digest of each block's stored state columns, in one pass of SQL. Each value is
    taken as its type and its bytes in hex: `quote()` stops a text at a NUL, so 'open' and
    'open' with a NUL after it, which Python reads as different, once digested the same."""
    columns = " || ',' || ".join(
        f'typeof("{name}") || hex("{name}")' for name in ("id", *STATE_COLUMNS)
    )
    rows = Escalation._meta.database.execute_sql(
        f'SELECT "id" / {BLOCK}, group_concat({columns}, char(10) ORDER BY "id") '
        f'FROM "{Escalation._meta.table_name}" GROUP BY 1'
    )
    return {number: hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] for number, text in rows}


def _watermark(table: str, below: int | None = None) -> Watermark:
    """A table's highest row id and its count of rows (of rows up to `below`, if given). The
    rows up to it are counted as all rows less those above: a count over a range of ids reads
    the table itself, where a count of all reads its smallest index (0.1 s against 0.01 s
    for 300,000 events)."""
    db = Escalation._meta.database
    top, count = db.execute_sql(f'SELECT max("id"), count(*) FROM "{table}"').fetchone()
    if below is not None:
        (above,) = db.execute_sql(
            f'SELECT count(*) FROM "{table}" WHERE "id" > ?', (below,)
        ).fetchone()
        count -= above
    return Watermark(top or 0, count)


@dataclass(frozen=True)
class Since:
    """What changed under a receipt: the blocks written since it, or None when rows were
    slipped in under its watermarks or taken out (then no block is as it was); and how many
    of the case and event rows it knew are gone (the console deletes neither)."""

    blocks: set[int] | None
    cases_gone: int = 0
    events_gone: int = 0


def _since(receipt: Receipt) -> Since:
    table, events = Escalation._meta.table_name, EventRow._meta.table_name
    cases_now = _watermark(table, receipt.cases.top).count
    events_now = _watermark(events, receipt.events.top).count
    if (cases_now, events_now) != (receipt.cases.count, receipt.events.count):
        return Since(
            None,
            max(receipt.cases.count - cases_now, 0),
            max(receipt.events.count - events_now, 0),
        )
    # Four selects rather than two ORs: each is served by its index (anchor) or the rowid.
    rows = Escalation._meta.database.execute_sql(
        f'SELECT "id" / {BLOCK} FROM "{table}" WHERE "anchor" > ? '
        f'UNION SELECT "id" / {BLOCK} FROM "{table}" WHERE "id" > ? '
        f'UNION SELECT "escalation_id" / {BLOCK} FROM "{events}" WHERE "anchor" > ? '
        f'UNION SELECT "escalation_id" / {BLOCK} FROM "{events}" WHERE "id" > ?',
        (receipt.as_of, receipt.cases.top, receipt.as_of, receipt.events.top),
    )
    return Since({number for (number,) in rows})


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
    # The signature covers the entry's hash: the hash must still cover its detail, and the
    # entry must still sit in the chain where it was written (an entry rewritten in place as
    # a receipt, its hash recomputed, no longer links to the next).
    recomputed = audit.entry_hash(*row[:7])
    matched = _DETAIL.match(row[5] or "")
    kept = Setting.get_or_none(Setting.key == _SETTING)
    if recomputed != row[7] or matched is None or kept is None or int(matched[7]) != BLOCK:
        return Receipt()
    as_of = int(matched[1])
    if as_of >= entry_id or not _chained(entry_id, row[6], row[7]):
        return Receipt()  # a receipt vouches for what was there before it was written
    if hashlib.sha256(kept.value.encode("ascii", "replace")).hexdigest() != matched[8]:
        return Receipt()
    blocks = {}
    for line in kept.value.splitlines():
        parsed = _BLOCK_LINE.match(line)
        if parsed is None:
            return Receipt()
        blocks[int(parsed[1])] = parsed[2]
    if len(blocks) != int(matched[6]):
        return Receipt()
    cases = Watermark(int(matched[2]), int(matched[3]))
    events = Watermark(int(matched[4]), int(matched[5]))
    return Receipt(as_of, blocks, cases, events)


def _chained(entry_id: int, prev_hash: str, digest: str) -> bool:
    """Whether the entries either side of this one link to it as the chain was written."""
    db = AuditEntry._meta.database
    before = db.execute_sql("SELECT hash FROM audit WHERE id = ?", (entry_id - 1,)).fetchone()
    after = db.execute_sql("SELECT prev_hash FROM audit WHERE id = ?", (entry_id + 1,)).fetchone()
    linked_before = before[0] == prev_hash if before else prev_hash == audit.GENESIS
    return linked_before and (after is None or after[0] == digest)


@dataclass(frozen=True)
class Replayed:
    """What `replay_unvouched` found: the cases whose stored state disagrees with their events,
    how many cases it replayed, and the receipt now owed (None when nothing new is vouched)."""

    stale: list[str]
    replayed: int
    receipt: Receipt | None
    orphaned: int = 0  # cases whose events remain without their row (cases.orphaned_cases)
    cases_gone: int = 0  # rows the last receipt knew, gone since (see Since)
    events_gone: int = 0

    def removed(self) -> str:
        """What was deleted outside the console, in words ('' for nothing)."""
        parts = []
        if self.cases_gone:
            parts.append(f"{self.cases_gone} case(s)")
        if self.events_gone:
            parts.append(f"{self.events_gone} event(s)")
        if self.orphaned:
            parts.append(f"the case records of {self.orphaned} case(s) whose events remain")
        return " and ".join(parts)


def replay_unvouched(
    receipt: Receipt, registry: ProcedureRegistry, calendar: WorkingCalendar
) -> Replayed:
    """Replay every case the receipt does not vouch for: the blocks whose stored state
    differs from it, or holding a case written since it. Call inside one read transaction
    with whatever then reads the states (`check`'s sweep), so that both see the same rows."""
    db = Escalation._meta.database
    with db.atomic("DEFERRED"):
        as_of = audit.head()[0]
        digests = block_digests()
        since = _since(receipt)
        written = since.blocks
        doubtful = {n for n, d in digests.items() if written is None or receipt.blocks.get(n) != d}
        doubtful |= (written or set()) & set(digests)
        cases = _watermark(Escalation._meta.table_name)
        events = _watermark(EventRow._meta.table_name)
        # A case row deleted outside the console leaves its events, and nothing to replay:
        # looked for (0.2 s at 100,000 cases) whenever rows were taken out since the receipt.
        gone = {
            "orphaned": orphaned_cases() if written is None else 0,
            "cases_gone": since.cases_gone,
            "events_gone": since.events_gone,
        }
        if not doubtful:
            return Replayed([], 0, None, **gone)
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
    return Replayed(stale, replayed, Receipt(as_of, vouched, cases, events), **gone)


def record_receipt(at: datetime, user: str, receipt: Receipt) -> None:
    """Record a receipt (inside a write transaction): the listing kept, its entry signed."""
    Setting.replace(key=_SETTING, value=receipt.listing()).execute()
    audit.record(at, user, STATES_CHECKED, detail=receipt.detail())
