"""The case list's queries: one page at a time, in urgency order, straight from the indexes.

The list never loads every case: it asks for the rows on screen (offset and limit) and a count.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from peewee import Tuple, fn

from dsl_console.core.clock import local_date, london_wall_time
from dsl_console.store.models import ChildRow, Escalation, utc_text


class View(StrEnum):
    """The list's quick views."""

    OPEN = "open"
    FLAGGED = "flagged"
    OVERDUE = "overdue"
    RESOLVED = "resolved"
    RETENTION = "retention"  # children whose records have reached their review date


RETENTION_YEARS = 25


@dataclass(frozen=True)
class CaseRow:
    """One line of the case list."""

    ref: str
    child_name: str
    dob: date
    procedure: str
    procedure_version: str
    stage: int
    due: datetime | None
    risk_due: datetime | None
    iro_notice: bool
    resolved_at: datetime | None
    other_agency: str
    opened_at: datetime


def _end_of_local_day(as_of: datetime) -> datetime:
    # The due-today flag covers dues up to midnight London time, whatever the working day's end.
    return london_wall_time(local_date(as_of) + timedelta(days=1), 0, 0)


def retention_cutoff(as_of: datetime) -> str:
    """Dates of birth on or before this have reached the review date (DOB + 25 years)."""
    today = local_date(as_of)
    try:
        cutoff = today.replace(year=today.year - RETENTION_YEARS)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - RETENTION_YEARS, day=28)
    return cutoff.isoformat()


def _where(view: View, text: str, as_of: datetime):  # type: ignore[no-untyped-def]
    if view == View.RESOLVED:
        cond = Escalation.is_open == False  # noqa: E712
    elif view == View.RETENTION:
        cond = Escalation.child.in_(
            ChildRow.select(ChildRow.id).where(ChildRow.dob <= retention_cutoff(as_of))
        )
    else:
        cond = Escalation.is_open == True  # noqa: E712
        if view == View.OVERDUE:
            cond &= Escalation.due_at < as_of
        elif view == View.FLAGGED:
            cond &= (
                Escalation.risk_due_at.is_null(False)
                | Escalation.iro_notice
                | (Escalation.due_at < _end_of_local_day(as_of))
            )
    text = text.strip()
    if text:
        cond &= _contains(text)
    return cond


def _contains(text: str):  # type: ignore[no-untyped-def]
    # LIKE with % and _ escaped (Peewee's contains), so the user's text matches literally. It
    # ignores case for ASCII in SQLite's C code: four times faster than instr(lower(...)),
    # which is what keeps a keystroke in the filter quick over 100,000 cases.
    cond = Escalation.ref.contains(text) | Escalation.child_name.contains(text)
    lowered = text.lower()
    if lowered != text and not text.isascii():
        # Beyond ASCII LIKE is exact: also try the text in lower case, as typed names often are.
        cond |= Escalation.ref.contains(lowered) | Escalation.child_name.contains(lowered)
    return cond


_COLUMNS = (
    Escalation.ref,
    Escalation.child_name,
    ChildRow.dob,
    Escalation.procedure,
    Escalation.procedure_version,
    Escalation.stage,
    Escalation.due_at,
    Escalation.risk_due_at,
    Escalation.iro_notice,
    Escalation.resolved_at,
    Escalation.other_agency,
    Escalation.opened_at,
)


def _order(view: View):  # type: ignore[no-untyped-def]
    if view in (View.RESOLVED, View.RETENTION):
        return (Escalation.opened_at.desc(), Escalation.ref)
    return (Escalation.urgency, Escalation.sort_due, Escalation.ref)


# A selective filter is answered from one scan. A keystroke in the console asks, one after
# another in one worker thread, for the count, where the highlighted case now is and the
# pages on screen: each used to scan every open case for the text. Up to FEW matches are kept,
# for the calls that follow in the same thread on the same connection while nothing changed.
FEW = 10_000


@dataclass(frozen=True)
class _Matches:
    key: tuple[object, ...]
    connection: object  # held, so that a new connection cannot take its id while this lives
    found: list[int] | None  # the cases' ids in list order; None when more than FEW


_recent = threading.local()

# The list's order as SQL over the columns of _matches' subquery.
_ORDER_SQL = {
    False: "urgency, sort_due, ref",
    True: "opened_at DESC, ref",  # resolved and retention: newest first
}


def _matches(view: View, text: str, as_of: datetime) -> list[int] | None:
    """The ids of every case a filtered view selects, in list order, when there are few."""
    if not text.strip():
        return None  # the unfiltered list is served by its index without scanning
    db = Escalation._meta.database
    # total_changes moves with this connection's writes, data_version with other connections'
    # commits: either one moving means the kept matches may be out of date.
    changes, version = db.execute_sql(
        "SELECT total_changes(), (SELECT data_version FROM pragma_data_version)"
    ).fetchone()
    connection = db.connection()
    key = (id(connection), changes, version, view, text, utc_text(as_of))
    kept: _Matches | None = getattr(_recent, "matches", None)
    if kept is not None and kept.key == key and kept.connection is connection:
        return kept.found
    newest_first = view in (View.RESOLVED, View.RETENTION)
    # Only the columns the view's index holds, so the scan never reads a case's row.
    ordering = (
        (Escalation.opened_at, Escalation.ref)
        if newest_first
        else (Escalation.urgency, Escalation.sort_due, Escalation.ref)
    )
    sql, params = (
        Escalation.select(Escalation.id, *ordering)
        .where(_where(view, text, as_of))
        .order_by(*_order(view))
        .limit(FEW + 1)
        .sql()
    )
    # One row back, the ids joined in SQLite: thousands of rows fetched one by one each take
    # the GIL back from the console's drawing, which made a keystroke wait several times over.
    total, joined = db.execute_sql(
        f"SELECT count(*), group_concat(id, ',' ORDER BY {_ORDER_SQL[newest_first]}) FROM ({sql})",
        params,
    ).fetchone()
    found = [int(i) for i in joined.split(",")] if joined else []
    _recent.matches = _Matches(key, connection, found if total <= FEW else None)
    return found if total <= FEW else None


def _case_row(row: tuple[Any, ...]) -> CaseRow:
    ref, name, dob, proc, version, stage, due, risk, iro, resolved, agency, opened = row
    return CaseRow(
        ref,
        name,
        date.fromisoformat(dob),
        proc,
        version,
        stage,
        due,
        risk,
        iro,
        resolved,
        agency,
        opened,
    )


def _case_rows(query: Any) -> list[CaseRow]:
    return [_case_row(row) for row in cast(Iterable[tuple[Any, ...]], query.tuples())]


def page(view: View, text: str, as_of: datetime, offset: int, limit: int) -> list[CaseRow]:
    """The rows of one screenful, most urgent first (resolved: newest first)."""
    few = _matches(view, text, as_of)
    if few is not None:
        chosen = few[offset : offset + limit]
        if not chosen:
            return []
        rows = (
            Escalation.select(Escalation.id, *_COLUMNS)
            .join(ChildRow)
            .where(Escalation.id.in_(chosen))
            .tuples()
        )
        order = {case_id: n for n, case_id in enumerate(chosen)}
        by_place = sorted(cast(Iterable[tuple[Any, ...]], rows), key=lambda row: order[row[0]])
        return [_case_row(row[1:]) for row in by_place]
    # The screenful's ids come from the covering index alone (skipping `offset` entries costs
    # no table reads); only its rows are then read whole and joined to their child.
    ids = (
        Escalation.select(Escalation.id)
        .where(_where(view, text, as_of))
        .order_by(*_order(view))
        .offset(offset)
        .limit(limit)
    )
    return _case_rows(
        Escalation.select(*_COLUMNS)
        .join(ChildRow)
        .where(Escalation.id.in_(ids))
        .order_by(*_order(view))
    )


def count(view: View, text: str, as_of: datetime) -> int:
    """How many cases the view and filter select."""
    few = _matches(view, text, as_of)
    if few is not None:
        return len(few)
    query = Escalation.select(fn.COUNT(Escalation.id)).where(_where(view, text, as_of))
    return int(query.scalar() or 0)


@dataclass(frozen=True)
class FlagCounts:
    """The header's counts of open cases by flag."""

    immediate_risk: int
    overdue: int
    due_today: int
    iro_notice: int
    open: int

    @property
    def flagged(self) -> int:
        return self.immediate_risk + self.overdue + self.due_today + self.iro_notice


def flag_counts(as_of: datetime) -> FlagCounts:
    """Counts of open cases carrying each flag at a moment, in one query."""
    now, midnight = utc_text(as_of), utc_text(_end_of_local_day(as_of))
    row = Escalation._meta.database.execute_sql(
        "SELECT count(*), "
        "sum(risk_due_at IS NOT NULL), "
        "sum(due_at IS NOT NULL AND due_at < ?), "
        "sum(due_at IS NOT NULL AND due_at >= ? AND due_at < ?), "
        "sum(iro_notice) "
        "FROM escalation WHERE is_open = 1",
        (now, now, midnight),
    ).fetchone()
    total, risk, overdue, today, iro = (int(v or 0) for v in row)
    return FlagCounts(risk, overdue, today, iro, total)


def refs_matching(text: str, limit: int = 20) -> list[tuple[str, str]]:
    """(ref, child name) pairs whose ref or name contains the text: for "go to case"."""
    query = (
        Escalation.select(Escalation.ref, Escalation.child_name)
        .where(_contains(text.strip()))
        .order_by(Escalation.is_open.desc(), Escalation.urgency, Escalation.sort_due)
        .limit(limit)
        .tuples()
    )
    return [(str(ref), str(name)) for ref, name in cast(Iterable[tuple[Any, ...]], query)]


def position(view: View, text: str, as_of: datetime, ref: str) -> int | None:
    """Where a case sits in the view's order (0 first), or None when the view leaves it out.

    The console uses it to keep the highlighted case highlighted when the list is re-queried.
    """
    few = _matches(view, text, as_of)
    if few is not None:
        case_id = Escalation.select(Escalation.id).where(Escalation.ref == ref).scalar()
        return few.index(case_id) if case_id in few else None
    where = _where(view, text, as_of)
    found = (
        Escalation.select(Escalation.urgency, Escalation.sort_due, Escalation.opened_at)
        .where(where & (Escalation.ref == ref))
        .tuples()
        .first()
    )
    if found is None:
        return None
    urgency, sort_due, opened_at = found
    if view in (View.RESOLVED, View.RETENTION):
        before = (Escalation.opened_at > opened_at) | (
            (Escalation.opened_at == opened_at) & (Escalation.ref < ref)
        )
    else:
        # A row value: SQLite counts the index entries before the case by a range, not by
        # testing every open case.
        before = Tuple(Escalation.urgency, Escalation.sort_due, Escalation.ref) < Tuple(
            urgency, sort_due, ref
        )
    # No join: every view's condition is on the case row, so the count stays in the index.
    query = Escalation.select(fn.COUNT(Escalation.id)).where(where & before)
    return int(query.scalar() or 0)
