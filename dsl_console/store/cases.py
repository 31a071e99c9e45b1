"""Cases and their events in the database; every query returns plain records, never rows."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from functools import reduce
from typing import Any, NamedTuple

from peewee import SQL, Expression, Model, Select, Tuple, Value, chunked, fn

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import local_date
from dsl_console.core.deadlines import CaseState, case_state
from dsl_console.core.duties import DutyStatus
from dsl_console.core.procedures import ProcedureRegistry
from dsl_console.core.records import Case, Child, Event, Professional
from dsl_console.errors import InputError
from dsl_console.store.models import ChildRow, Escalation, EventRow, UtcField, utc_text

BATCH = 500


def _professional(data: dict) -> Professional:
    return Professional(
        name=data.get("name", ""),
        role=data.get("role", ""),
        agency=data.get("agency", ""),
        email=data.get("email", ""),
        involved=data.get("involved", True) is not False,
        lead=data.get("lead", False) is True,
    )


def _value(text: str) -> object:
    """An amended event's value, stored as JSON text ("" when the event has none)."""
    return json.loads(text) if text else None


# The cached-state columns of a case row, in the order `state_columns` gives them.
STATE_COLUMNS = (
    "stage",
    "stage_entered_at",
    "due_at",
    "risk_due_at",
    "school_due_at",
    "response_due_at",
    "iro_notice",
    "partnership_notice",
    "resolved_at",
    "status",
    "last_event_at",
    "is_open",
    "owes",
    "is_live",
    "duties",
    "urgency",
    "sort_due",
)


def state_columns(state: CaseState, last_event_at: datetime) -> dict[str, object]:
    """The cached-state columns of a case row, from its replayed state: the one place they are
    derived, for inserts, changes and refreshes alike."""
    standing = state.standing
    if not standing.listed:
        urgency, sort_due = 3, ""
    elif standing.risk_due is not None:
        urgency, sort_due = 0, utc_text(standing.risk_due)
    elif standing.school_due is not None:
        urgency, sort_due = 1, utc_text(standing.school_due)
    else:
        urgency, sort_due = 2, ""
    owed = state.outstanding()
    values = (
        standing.stage,
        state.stage_entered_at,
        standing.due,
        standing.risk_due,
        standing.school_due,
        standing.response_due,
        standing.iro_notice,
        standing.partnership_notice,
        standing.closed_at,
        standing.status,
        last_event_at,
        standing.status == "open",
        bool(owed),
        standing.listed,
        duties_text(owed),
        urgency,
        sort_due,
    )
    return dict(zip(STATE_COLUMNS, values, strict=True))


def duties_text(owed: Sequence[DutyStatus]) -> str:
    """The outstanding duties as cached, in the procedure's order: a line each of id, moment
    arisen and due (stored UTC text, "" for none), tab-separated; read by `owed_duties`."""
    return "\n".join(
        f"{d.duty.id}\t{utc_text(d.arose_at) if d.arose_at else ''}\t"
        f"{utc_text(d.due) if d.due else ''}"
        for d in owed
    )


def owed_duties(text: str) -> list[tuple[str, str | None, str | None]]:
    """(id, arose_at, due) as stored text, from the cached column `duties_text` wrote."""
    found = []
    for line in text.split("\n") if text else ():
        duty_id, arose, due = line.split("\t")
        found.append((duty_id, arose or None, due or None))
    return found


def _event_values(
    escalation_id: int,
    seq: int,
    event: Event,
    recorded_at: datetime | None,
    user: str,
    anchor: int | None = None,
) -> dict[str, object]:
    return {
        "anchor": anchor,
        "escalation": escalation_id,
        "seq": seq,
        "at": event.at,
        "kind": str(event.kind),
        "stage": event.stage,
        "by": event.by,
        "whom": event.whom,
        "due": event.due,
        "note": event.note,
        "lessons": event.lessons,
        "action": event.action,
        "method": event.method,
        "form": event.form,
        "field": event.field,
        "value": "" if event.value is None else json.dumps(event.value, ensure_ascii=False),
        "recorded_at": event.recorded_at or recorded_at or event.at,
        "recorded_by": user,
    }


def existing_refs(refs: Iterable[str]) -> set[str]:
    """Which of these refs are already in the database."""
    found: set[str] = set()
    for chunk in chunked(list(refs), BATCH):
        query = Escalation.select(Escalation.ref).where(Escalation.ref.in_(chunk))
        found.update(row.ref for row in query)
    return found


# Rows per executemany: large enough to amortise the call, small enough to keep memory flat.
BULK = 5_000


def _insert_sql(model: type[Model], names: Sequence[str]) -> tuple[str, list[Callable[[Any], Any]]]:
    """A prepared INSERT for some of a model's fields, with each field's conversion to storage."""
    fields = [model._meta.fields[name] for name in names]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    marks = ", ".join("?" for _ in fields)
    sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'
    return sql, [f.db_value for f in fields]


def _insert_rows(model: type[Model], rows: Iterable[dict[str, object]]) -> None:
    """Insert many rows through one prepared statement.

    Peewee builds SQL for every value it inserts, which costs far more than SQLite's own work
    at 100,000 cases; the same fields' db_value conversions keep the stored form identical.
    """
    db = model._meta.database
    prepared: tuple[str, list[Callable[[Any], Any]]] | None = None
    names: list[str] = []
    for chunk in chunked(rows, BULK):
        if prepared is None:
            names = list(chunk[0])
            prepared = _insert_sql(model, names)
        sql, convert = prepared
        db.cursor().executemany(
            sql, [[c(row[n]) for c, n in zip(convert, names, strict=True)] for row in chunk]
        )


def _next_id(model: type[Model]) -> int:
    found = model.select(fn.MAX(model._meta.primary_key)).scalar()
    return int(found or 0) + 1


def _child_ids(cases: Sequence[Case]) -> dict[tuple[str, str], int]:
    """Each distinct child's id: the one already stored (same name and date of birth), or new."""
    wanted: dict[tuple[str, str], Child] = {}
    for case in cases:
        wanted.setdefault((case.child.name, case.child.dob.isoformat()), case.child)
    ids: dict[tuple[str, str], int] = {}
    db = ChildRow._meta.database
    keys = list(wanted)
    for chunk in chunked(keys, BATCH):
        # A row-value IN list: one indexed lookup per (name, dob), one statement per chunk.
        values = ", ".join("(?, ?)" for _ in chunk)
        params = [v for key in chunk for v in key]
        found = db.execute_sql(
            f"SELECT min(id), name, dob FROM child WHERE (name, dob) IN (VALUES {values}) "
            "GROUP BY name, dob",
            params,
        )
        for child_id, name, dob in found:
            ids[(name, dob)] = child_id
    next_id = _next_id(ChildRow)
    new_rows: list[dict[str, object]] = []
    for key in keys:
        if key in ids:
            continue
        child = wanted[key]
        ids[key] = next_id
        new_rows.append(
            {
                "id": next_id,
                "name": key[0],
                "dob": key[1],
                "address": child.address,
                "parents": child.parents,
            }
        )
        next_id += 1
    _insert_rows(ChildRow, new_rows)
    return ids


def insert_cases(
    cases: Sequence[Case],
    registry: ProcedureRegistry,
    calendar: WorkingCalendar,
    *,
    now: datetime | None,
    user: str,
    anchor: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Insert validated cases with their events; call inside a write transaction.

    `now` is when the events are recorded; None for an import, whose events were recorded
    when their `recorded_at` says (by default, when they happened). `progress(done, total)`
    is told how many cases are in as they go in (their state worked out is most of the cost).

    Built for 100,000 cases in one go: children are matched in bulk, ids are given here (the
    transaction holds the write lock) and rows go in through prepared statements.
    """
    clash = existing_refs(c.ref for c in cases)
    if clash:
        raise InputError("ref is already in the database", field=f"case {sorted(clash)[0]}")
    children = _child_ids(cases)
    first_id = _next_id(Escalation)

    def escalations() -> Iterator[dict[str, object]]:
        for offset, case in enumerate(cases):
            if progress is not None and offset % PROGRESS_EVERY == 0:
                progress(offset, len(cases))
            procedure = registry.get(case.procedure, case.procedure_version or None)
            state = case_state(case, procedure, calendar)
            yield {
                "id": first_id + offset,
                "ref": case.ref,
                "procedure": case.procedure,
                "procedure_version": procedure.version,
                "opened_at": case.opened_at,
                "child": children[(case.child.name, case.child.dob.isoformat())],
                "child_name": case.child.name,
                **case.facts(),
                "professionals": json.dumps([asdict(p) for p in case.professionals]),
                "raised_by": json.dumps(asdict(case.raised_by)) if case.raised_by else "",
                "anchor": anchor,
                **state_columns(state, last_moment(case)),
            }

    def events() -> Iterator[dict[str, object]]:
        for offset, case in enumerate(cases):
            for seq, event in enumerate(case.events, start=1):
                yield _event_values(first_id + offset, seq, event, now, user, anchor)

    _insert_rows(Escalation, escalations())
    _insert_rows(EventRow, events())
    if progress is not None:
        progress(len(cases), len(cases))


PROGRESS_EVERY = 500  # cases between progress calls in a bulk insert


def append_event(
    ref: str,
    event: Event,
    registry: ProcedureRegistry,
    calendar: WorkingCalendar,
    *,
    now: datetime,
    user: str,
    anchor: int | None = None,
) -> Case:
    """Append one checked event and refresh the case's cached state; inside a transaction."""
    row = Escalation.get_or_none(Escalation.ref == ref)
    if row is None:
        raise InputError(f"no case with ref {ref}")
    seq = EventRow.select().where(EventRow.escalation == row.id).count() + 1
    EventRow.insert(**_event_values(row.id, seq, event, now, user, anchor)).execute()
    case = load_case(ref)
    procedure = registry.get(case.procedure, case.procedure_version or None)
    state = case_state(case, procedure, calendar)
    Escalation.update(**state_columns(state, last_moment(case))).where(
        Escalation.id == row.id
    ).execute()
    return case


def last_moment(case: Case) -> datetime:
    """When the case's history last moved: its latest event (late entries aside), or opening."""
    return max((e.at for e in case.events), default=case.opened_at)


def load_case(ref: str, *, without: Collection[int] = ()) -> Case:
    """One case with its whole history (read as `iter_cases` reads every case); `without`
    leaves out the events written by those audit entries (ones their authors did not make:
    store/account_trail.py)."""
    db = Escalation._meta.database
    sql, params = (
        Escalation.select(*_CASE_COLUMNS).join(ChildRow).where(Escalation.ref == ref).sql()
    )
    row = db.execute_sql(sql, params).fetchone()
    if row is None:
        raise InputError(f"no case with ref {ref}")
    sql, params = (
        EventRow.select(*_EVENT_COLUMNS)
        .where(EventRow.escalation == row[0])
        .order_by(EventRow.seq)
        .sql()
    )
    if without:
        sql, params = (
            EventRow.select(*_EVENT_COLUMNS)
            .where((EventRow.escalation == row[0]) & EventRow.anchor.not_in(list(without)))
            .order_by(EventRow.seq)
            .sql()
        )
    events = [_event_from_row(e) for e in db.execute_sql(sql, params)]
    return _case_from_row(row, events, _people_reader())


def refs_changed_by(entries: Collection[int]) -> set[str]:
    """The cases with events written by these audit entries."""
    db = Escalation._meta.database
    found: set[str] = set()
    for some in chunked(sorted(entries), 500):
        sql, params = (
            Escalation.select(Escalation.ref)
            .join(EventRow, on=EventRow.escalation == Escalation.id)
            .where(EventRow.anchor.in_(some))
            .distinct()
            .sql()
        )
        found.update(ref for (ref,) in db.execute_sql(sql, params))
    return found


# Cases per page of iter_cases: a page's events are read in one indexed query.
PAGE = 2_000


class _CaseRow(NamedTuple):
    """A case's columns as read (a plain tuple from SQLite, cheaper than Peewee's model
    instances at 100,000 cases), by name, so that a column added cannot shift the others."""

    id: int
    ref: str
    procedure: str
    procedure_version: str
    opened_at: str
    name: str  # the child's, as the four below
    dob: str
    address: str
    parents: str
    other_agency: str
    other_agency_kind: str
    level_of_need: str
    cp_plan: int
    looked_after: int
    immediate_risk: int
    reason: str
    summary: str
    professionals: str
    raised_by: str
    concern: str


class _EventRow(NamedTuple):
    """An event's columns as read, by name."""

    escalation: int
    at: str
    kind: str
    stage: int | None
    by: str
    whom: str
    due: str | None
    note: str
    lessons: str
    action: int | None
    method: str
    recorded_at: str | None
    form: str
    field: str
    value: str


_CHILD_COLUMNS = {"name", "dob", "address", "parents"}
_CASE_COLUMNS = tuple(
    getattr(ChildRow if name in _CHILD_COLUMNS else Escalation, name) for name in _CaseRow._fields
)
_EVENT_COLUMNS = tuple(getattr(EventRow, name) for name in _EventRow._fields)
_OPENED_AT = _CaseRow._fields.index("opened_at")  # with the id (first), a page's key


def _moment(text: str | None) -> datetime | None:
    return None if text is None else _UTC.python_value(text)


_UTC = UtcField()


def _event_from_row(row: Sequence[Any]) -> Event:
    e = _EventRow._make(row)
    return Event(
        at=_moment(e.at),  # type: ignore[arg-type]
        kind=e.kind,
        stage=e.stage,
        by=e.by,
        whom=e.whom,
        due=_moment(e.due),
        note=e.note,
        lessons=e.lessons,
        action=e.action,
        method=e.method,
        recorded_at=_moment(e.recorded_at),
        form=e.form,
        field=e.field,
        value=_value(e.value),
    )


def _people_reader() -> Callable[[str], tuple[Professional, ...]]:
    # Most cases name the same few professionals: parse each distinct JSON text once.
    seen: dict[str, tuple[Professional, ...]] = {}

    def people(text: str) -> tuple[Professional, ...]:
        found = seen.get(text)
        if found is None:
            loaded = json.loads(text) if text else []
            if isinstance(loaded, dict):  # raised_by: one person, or {} for nobody
                loaded = [loaded] if loaded else []
            found = seen[text] = tuple(_professional(p) for p in loaded)
        return found

    return people


CaseKey = tuple[str, int]  # (opened_at as stored, id): the order cases are read in


def iter_cases(
    *,
    opened_from: date | None = None,
    opened_to_date: date | None = None,
    only_open: bool = False,
    blocks: tuple[Collection[int], int] | None = None,
    with_voided: bool = True,
) -> Iterator[Case]:
    """Every case (optionally by opening date, or in some blocks of ids: `iter_keyed_cases`),
    in opening order, read in pages.

    Rows are read as plain tuples (Peewee's model instances cost more than the export that
    uses them at 100,000 cases), a page's events in one query, and each page starts where
    the last ended, found by the (opened_at, id) index rather than by skipping.
    """
    for _, case in iter_keyed_cases(
        opened_from=opened_from,
        opened_to_date=opened_to_date,
        only_open=only_open,
        blocks=blocks,
        with_voided=with_voided,
    ):
        yield case


def iter_keyed_cases(
    *,
    opened_from: date | None = None,
    opened_to_date: date | None = None,
    only_open: bool = False,
    part: tuple[tuple[int, ...], int] | None = None,
    blocks: tuple[Collection[int], int] | None = None,
    with_voided: bool = True,
) -> Iterator[tuple[CaseKey, Case]]:
    """`iter_cases`, each case with its place in the order. `part=(remainders, divisor)` reads
    only the cases whose id leaves one of those remainders, so that processes can share an
    export between them; `blocks=(numbers, size)` only those whose id divided by the size is
    one of the numbers (store/state_receipts.py). `with_voided=False` leaves out cases opened
    in error (the Summary Log and the analysis count only real escalations)."""
    where = []
    # Local dates are at most a day from UTC dates: a wide SQL bound, then the exact local test.
    if opened_from is not None:
        where.append(Escalation.opened_at >= _utc_midnight(opened_from - timedelta(days=1)))
    if opened_to_date is not None:
        where.append(Escalation.opened_at < _utc_midnight(opened_to_date + timedelta(days=2)))
    if only_open:
        where.append(Escalation.is_open == True)  # noqa: E712
    if not with_voided:
        where.append(Escalation.status != "voided")
    if part is not None:
        # The id is in the (opened_at) index, so this filters index entries, not table rows.
        # (Peewee reads `%` as LIKE, so the remainder is spelled out.)
        where.append(Expression(Escalation.id, "%", part[1]).in_(part[0]))
    if blocks is not None:
        where.append(Expression(Escalation.id, "/", blocks[1]).in_(list(blocks[0])))
    db = Escalation._meta.database
    people = _people_reader()
    after: tuple[str, int] | None = None
    while True:
        conditions = list(where)
        if after is not None:
            # A row value: SQLite seeks escalation_opened (opened_at, then rowid) to it.
            conditions.append(
                Tuple(Escalation.opened_at, Escalation.id) > Tuple(Value(after[0]), after[1])
            )
        query = Escalation.select(*_CASE_COLUMNS).join(ChildRow)
        if conditions:
            query = query.where(reduce(operator.and_, conditions))
        sql, params = query.order_by(Escalation.opened_at, Escalation.id).limit(PAGE).sql()
        rows = db.execute_sql(sql, params).fetchall()
        if not rows:
            return
        events: dict[int, list[Event]] = {row[0]: [] for row in rows}
        # One parameter (a JSON list) rather than 2,000: Peewee builds the SQL in no time.
        ids = fn.json_each(Value(json.dumps(list(events)), converter=False))
        sql, params = (
            EventRow.select(*_EVENT_COLUMNS)
            .where(EventRow.escalation.in_(Select((ids,), (SQL("value"),))))
            .order_by(EventRow.escalation, EventRow.seq)
            .sql()
        )
        for event_row in db.execute_sql(sql, params):
            events[event_row[0]].append(_event_from_row(event_row))
        for row in rows:
            case = _case_from_row(row, events[row[0]], people)
            day = local_date(case.opened_at)
            if (opened_from and day < opened_from) or (opened_to_date and day > opened_to_date):
                continue
            yield (row[_OPENED_AT], row[0]), case
        after = (rows[-1][_OPENED_AT], rows[-1][0])


def _case_from_row(
    row: Sequence[Any], events: list[Event], people: Callable[[str], tuple[Professional, ...]]
) -> Case:
    c = _CaseRow._make(row)
    raised = people(c.raised_by)
    return Case(
        ref=c.ref,
        procedure=c.procedure,
        procedure_version=c.procedure_version,
        opened_at=_moment(c.opened_at),  # type: ignore[arg-type]
        child=Child(
            name=c.name, dob=date.fromisoformat(c.dob), address=c.address, parents=c.parents
        ),
        other_agency=c.other_agency,
        other_agency_kind=c.other_agency_kind,
        level_of_need=c.level_of_need,
        cp_plan=bool(c.cp_plan),
        looked_after=bool(c.looked_after),
        immediate_risk=bool(c.immediate_risk),
        reason=c.reason,
        summary=c.summary,
        concern=c.concern,
        professionals=people(c.professionals),
        raised_by=raised[0] if raised else None,
        events=tuple(events),
    )


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def refresh_all_states(registry: ProcedureRegistry, calendar: WorkingCalendar) -> int:
    """Recompute every case's cached state (after the calendar or a procedure changed).

    A school adds closure days every term, so at 100,000 cases this runs through one prepared
    UPDATE in batches rather than a statement built per case.
    """
    return _write_states(iter_cases(), registry, calendar)


def repair_states(
    refs: Iterable[str], registry: ProcedureRegistry, calendar: WorkingCalendar
) -> int:
    """Recompute the cached state of these cases from their events (see `stale_states`)."""
    return _write_states((load_case(ref) for ref in refs), registry, calendar)


def _replayed_columns(
    case: Case, registry: ProcedureRegistry, calendar: WorkingCalendar
) -> dict[str, object]:
    procedure = registry.get(case.procedure, case.procedure_version or None)
    return state_columns(case_state(case, procedure, calendar), last_moment(case))


def _write_states(
    cases: Iterable[Case], registry: ProcedureRegistry, calendar: WorkingCalendar
) -> int:
    db = Escalation._meta.database
    names: list[str] = []
    sql = ""
    convert: list[Callable[[Any], Any]] = []
    count = 0
    batch: list[list[Any]] = []
    for case in cases:
        values = _replayed_columns(case, registry, calendar)
        if not names:
            names = list(values)
            fields = [Escalation._meta.fields[name] for name in names]
            sets = ", ".join(f'"{f.column_name}" = ?' for f in fields)
            sql = f'UPDATE "{Escalation._meta.table_name}" SET {sets} WHERE "ref" = ?'
            convert = [f.db_value for f in fields]
        batch.append([c(values[n]) for c, n in zip(convert, names, strict=True)] + [case.ref])
        count += 1
        if len(batch) >= BULK:
            db.cursor().executemany(sql, batch)
            batch = []
    if batch:
        db.cursor().executemany(sql, batch)
    return count


def every_ref() -> set[str]:
    """Every case's ref (for judging them all from their events)."""
    rows = Escalation._meta.database.execute_sql(
        f'SELECT "ref" FROM "{Escalation._meta.table_name}"'
    )
    return {ref for (ref,) in rows}


def orphaned_cases() -> int:
    """How many cases' events are in the database without their case row: a case deleted
    outside the console leaves them (the console deletes both), and would leave `check` and
    the list without a word of it."""
    table, events = Escalation._meta.table_name, EventRow._meta.table_name
    (count,) = Escalation._meta.database.execute_sql(
        f'SELECT count(DISTINCT v."escalation_id") FROM "{events}" AS v '
        f'LEFT JOIN "{table}" AS c ON c."id" = v."escalation_id" WHERE c."id" IS NULL'
    ).fetchone()
    return int(count)


def suspect_states() -> list[str]:
    """The refs whose cached state contradicts their events where a contradiction could hide
    a flag, found in one pass of SQL (a fraction of a second at 100,000 cases, where replaying
    every case, `stale_states`, takes about ten): open by its events but cached closed or not
    listed; an immediate risk outstanding by its events (raised, at the opening or later, with
    no risk-escalated after the last raise, in the order events are replayed) but cached
    without its due, or the other way round; the last event's moment. A stage or a due moved
    needs the engine to see: `check` replays what its receipts do not vouch for
    (store/state_receipts.py), the console and `audit verify` replay every case, and the
    console's sweep runs this once a minute between."""
    table, events = Escalation._meta.table_name, EventRow._meta.table_name
    sql = f"""
        SELECT c."ref", c."is_open", c."is_live", c."risk_due_at", c."last_event_at",
               c."opened_at", c."immediate_risk",
               MAX(CASE WHEN v."kind" IN ('resolved', 'voided') THEN 1 ELSE 0 END),
               MAX(CASE WHEN v."kind" = 'risk-raised' THEN v."at" || printf('#%09d', v."seq") END),
               MAX(CASE WHEN v."kind" = 'risk-escalated'
                        THEN v."at" || printf('#%09d', v."seq") END),
               MAX(v."at")
        FROM "{table}" AS c LEFT JOIN "{events}" AS v ON v."escalation_id" = c."id"
        GROUP BY c."id"
    """
    suspects = []
    for row in Escalation._meta.database.execute_sql(sql):
        (ref, is_open, is_live, risk_due, last_at, opened, risk_at_opening) = row[:7]
        closed, raised, risk_escalated, latest = row[7:]
        # Events at one moment are replayed in the order they were recorded (seq), after a
        # raise at the opening: each raise and escalation is compared as (moment, seq).
        if risk_at_opening and (raised is None or opened + "#" > raised):
            raised = opened + "#"
        at_risk = (
            not closed
            and raised is not None
            and (risk_escalated is None or raised > risk_escalated)
        )
        if (
            bool(is_open) == bool(closed)
            or (not closed and not is_live)
            or at_risk != (risk_due is not None)
            or last_at != (latest if latest is not None and latest > opened else opened)
        ):
            suspects.append(ref)
    return suspects


STALE_SLICE = 500  # cases compared per query of their stored columns


def stale_states(
    registry: ProcedureRegistry,
    calendar: WorkingCalendar,
    cases: Iterable[Case] | None = None,
    *,
    pause: Callable[[], None] | None = None,
    slice_size: int = STALE_SLICE,
) -> list[str]:
    """The refs whose cached state disagrees with their events: written outside the console
    (with a key, directly in the database), for the cache is otherwise rewritten with every
    change. A cleared risk due, a case marked closed, a due moved a year on: any of them would
    otherwise hide a flag from the list and from `check` for good. The events are the truth;
    each case is replayed and its columns compared, `pause()` called between slices (the
    console's check gives way to typing there)."""
    db = Escalation._meta.database
    stale: list[str] = []
    names: list[str] = []
    fields: list[Any] = []
    pending: list[tuple[str, list[Any]]] = []

    def compare() -> None:
        columns = ", ".join(f'"{f.column_name}"' for f in fields)
        marks = ", ".join("?" for _ in pending)
        stored = {
            row[0]: list(row[1:])
            for row in db.execute_sql(
                f'SELECT "ref", {columns} FROM "{Escalation._meta.table_name}" '
                f'WHERE "ref" IN ({marks})',
                [ref for ref, _ in pending],
            )
        }
        stale.extend(ref for ref, values in pending if stored.get(ref) != values)
        pending.clear()
        if pause is not None:
            pause()

    # One read transaction: the events and the stored columns as of one moment, so that a
    # console writing meanwhile is not taken for tampering.
    with db.atomic("DEFERRED"):
        for case in iter_cases() if cases is None else cases:
            values = _replayed_columns(case, registry, calendar)
            if not names:
                names = list(values)
                fields = [Escalation._meta.fields[name] for name in names]
            pending.append(
                (case.ref, [f.db_value(values[n]) for f, n in zip(fields, names, strict=True)])
            )
            if len(pending) >= slice_size:
                compare()
        if pending:
            compare()
    return stale
