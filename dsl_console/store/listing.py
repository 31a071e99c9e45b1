"""The case list's queries: one page at a time, in urgency order, straight from the indexes.

The list never loads every case: it asks for the rows on screen (offset and limit) and a count.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from peewee import Tuple, fn

from dsl_console.core.clock import local_date, london_wall_time
from dsl_console.core.deadlines import Standing
from dsl_console.core.flags import (
    DUE_TODAY,
    IMMEDIATE_RISK,
    IRO_NOTICE,
    OVERDUE,
    PARTNERSHIP_NOTICE,
    RESPONSE_OVERDUE,
)
from dsl_console.store.models import ChildRow, Escalation, utc_text


class View(StrEnum):
    """The list's quick views."""

    OPEN = "open"
    FLAGGED = "flagged"
    OVERDUE = "overdue"
    OWED = "owed"  # resolved, with a duty still owed (a form to send, say)
    RESOLVED = "resolved"
    RETENTION = "retention"  # children whose records have reached their review date
    VOIDED = "voided"  # opened in error: kept on record, out of every other view


# The views listed newest first (the others most urgent first): the closed views by when
# they were closed, the retention view by opening.
NEWEST_FIRST = frozenset({View.RESOLVED, View.RETENTION, View.VOIDED})
CLOSED_VIEWS = frozenset({View.RESOLVED, View.VOIDED})


def _newest_column(view: View) -> Any:
    return Escalation.resolved_at if view in CLOSED_VIEWS else Escalation.opened_at


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
    school_due: datetime | None
    response_due: datetime | None
    iro_notice: bool
    partnership_notice: bool
    status: str
    owes: bool
    resolved_at: datetime | None
    other_agency: str
    opened_at: datetime

    def standing(self) -> Standing:
        """What the flags are read from, as cached."""
        return Standing(
            stage=self.stage,
            due=self.due,
            risk_due=self.risk_due,
            school_due=self.school_due,
            response_due=self.response_due,
            iro_notice=self.iro_notice,
            partnership_notice=self.partnership_notice,
            status=self.status,
            closed_at=self.resolved_at,
            owes=self.owes,
        )


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


def _flagged(as_of: datetime):  # type: ignore[no-untyped-def]
    """A listed case carries a flag at the moment (core.deadlines.flags_at, in SQL)."""
    return (
        Escalation.risk_due_at.is_null(False)
        | Escalation.iro_notice
        | Escalation.partnership_notice
        | (Escalation.school_due_at < _end_of_local_day(as_of))
        | (Escalation.response_due_at < as_of)
    )


def _where(view: View, text: str, as_of: datetime):  # type: ignore[no-untyped-def]
    if view in (View.RESOLVED, View.VOIDED):
        cond = (Escalation.is_open == False) & (Escalation.status == str(view))  # noqa: E712
    elif view == View.RETENTION:
        cond = Escalation.child.in_(
            ChildRow.select(ChildRow.id).where(ChildRow.dob <= retention_cutoff(as_of))
        )
    else:
        # Every other view starts from the listed cases: open, or resolved and still owing.
        cond = Escalation.is_live == True  # noqa: E712
        if view == View.OPEN:
            cond &= Escalation.is_open == True  # noqa: E712
        elif view == View.OWED:
            cond &= Escalation.is_open == False  # noqa: E712
        elif view == View.OVERDUE:
            cond &= Escalation.school_due_at < as_of
        elif view == View.FLAGGED:
            cond &= _flagged(as_of)
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


# The cached columns a case's Standing is read from, in the order of `standing_of`: the list
# and the sweep both read them (the sweep straight from the stored text).
STANDING_COLUMNS = (
    Escalation.stage,
    Escalation.due_at,
    Escalation.risk_due_at,
    Escalation.school_due_at,
    Escalation.response_due_at,
    Escalation.iro_notice,
    Escalation.partnership_notice,
    Escalation.status,
    Escalation.owes,
)


def standing_of(columns: Sequence[Any], moment: Callable[[Any], datetime | None]) -> Standing:
    """A Standing from STANDING_COLUMNS' values as stored, each moment read by `moment`."""
    stage, due, risk, school, response, iro, partner, status, owes = columns
    return Standing(
        stage=stage,
        due=moment(due),
        risk_due=moment(risk),
        school_due=moment(school),
        response_due=moment(response),
        iro_notice=bool(iro),
        partnership_notice=bool(partner),
        status=status,
        owes=bool(owes),
    )


# A CaseRow's fields, in its order.
_COLUMNS = (
    Escalation.ref,
    Escalation.child_name,
    ChildRow.dob,
    Escalation.procedure,
    Escalation.procedure_version,
    *STANDING_COLUMNS,
    Escalation.resolved_at,
    Escalation.other_agency,
    Escalation.opened_at,
)


def _order(view: View):  # type: ignore[no-untyped-def]
    if view in NEWEST_FIRST:
        return (_newest_column(view).desc(), Escalation.ref)
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


def _order_sql(view: View) -> str:
    """The list's order as SQL over the columns of _matches' subquery."""
    if view in NEWEST_FIRST:
        return f"{_newest_column(view).column_name} DESC, ref"
    return "urgency, sort_due, ref"


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
    # Only the columns the view's index holds, so the scan never reads a case's row.
    ordering = (
        (_newest_column(view), Escalation.ref)
        if view in NEWEST_FIRST
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
        f"SELECT count(*), group_concat(id, ',' ORDER BY {_order_sql(view)}) FROM ({sql})",
        params,
    ).fetchone()
    found = [int(i) for i in joined.split(",")] if joined else []
    _recent.matches = _Matches(key, connection, found if total <= FEW else None)
    return found if total <= FEW else None


def _case_row(row: tuple[Any, ...]) -> CaseRow:
    name, dob = row[1], row[2]
    return CaseRow(row[0], name, date.fromisoformat(dob), *row[3:])


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

    by_flag: dict[str, int]  # flag id: how many listed cases carry it
    open: int
    owed: int  # resolved cases with a duty still owed

    def __getitem__(self, flag_id: str) -> int:
        return self.by_flag.get(flag_id, 0)


def flag_counts(as_of: datetime) -> FlagCounts:
    """Counts of listed cases carrying each flag at a moment, in one query over the index.

    The SQL of each flag is core.deadlines.flags_at over the cached columns.
    """
    now, midnight = utc_text(as_of), utc_text(_end_of_local_day(as_of))
    row = Escalation._meta.database.execute_sql(
        "SELECT sum(is_open), sum(NOT is_open), "
        "sum(risk_due_at IS NOT NULL), "
        "sum(school_due_at IS NOT NULL AND school_due_at < ?), "
        "sum(school_due_at IS NOT NULL AND school_due_at >= ? AND school_due_at < ?), "
        "sum(iro_notice), sum(partnership_notice), "
        "sum(response_due_at IS NOT NULL AND response_due_at < ?) "
        "FROM escalation WHERE is_live = 1",
        (now, now, midnight, now),
    ).fetchone()
    opened, owed, *numbers = (int(v or 0) for v in row)
    ids = (
        IMMEDIATE_RISK.id,
        OVERDUE.id,
        DUE_TODAY.id,
        IRO_NOTICE.id,
        PARTNERSHIP_NOTICE.id,
        RESPONSE_OVERDUE.id,
    )
    return FlagCounts(dict(zip(ids, numbers, strict=True)), opened, owed)


def refs_matching(text: str, limit: int = 20) -> list[tuple[str, str]]:
    """(ref, child name) pairs whose ref or name contains the text: for "go to case"."""
    query = (
        Escalation.select(Escalation.ref, Escalation.child_name)
        .where(_contains(text.strip()))
        .order_by(Escalation.is_live.desc(), Escalation.urgency, Escalation.sort_due)
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
    newest = _newest_column(view)
    found = (
        Escalation.select(Escalation.urgency, Escalation.sort_due, newest)
        .where(where & (Escalation.ref == ref))
        .tuples()
        .first()
    )
    if found is None:
        return None
    urgency, sort_due, moment = found
    if view in NEWEST_FIRST:
        before = (newest > moment) | ((newest == moment) & (Escalation.ref < ref))
    else:
        # A row value: SQLite counts the index entries before the case by a range, not by
        # testing every open case.
        before = Tuple(Escalation.urgency, Escalation.sort_due, Escalation.ref) < Tuple(
            urgency, sort_due, ref
        )
    # No join: every view's condition is on the case row, so the count stays in the index.
    query = Escalation.select(fn.COUNT(Escalation.id)).where(where & before)
    return int(query.scalar() or 0)
