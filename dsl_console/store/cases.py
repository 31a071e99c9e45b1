"""Cases and their events in the database; every query returns plain records, never rows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta

from peewee import chunked

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import local_date
from dsl_console.core.deadlines import CaseState, case_state
from dsl_console.core.procedures import ProcedureRegistry
from dsl_console.core.records import Case, Child, Event, Professional
from dsl_console.errors import InputError
from dsl_console.store.models import ChildRow, Escalation, EventRow, utc_text

BATCH = 500


def _professional(data: dict) -> Professional:
    return Professional(
        name=data.get("name", ""),
        role=data.get("role", ""),
        agency=data.get("agency", ""),
        email=data.get("email", ""),
    )


def _event(row: EventRow) -> Event:
    return Event(
        at=row.at,
        kind=row.kind,
        stage=row.stage,
        by=row.by,
        whom=row.whom,
        due=row.due,
        note=row.note,
        lessons=row.lessons,
        action=row.action,
        method=row.method,
        recorded_at=row.recorded_at,
    )


def _case(row: Escalation, child: ChildRow, events: Sequence[Event]) -> Case:
    raised = json.loads(row.raised_by) if row.raised_by else None
    return Case(
        ref=row.ref,
        procedure=row.procedure,
        procedure_version=row.procedure_version,
        opened_at=row.opened_at,
        child=Child(
            name=child.name,
            dob=date.fromisoformat(child.dob),
            address=child.address,
            parents=child.parents,
        ),
        other_agency=row.other_agency,
        level_of_need=row.level_of_need,
        cp_plan=row.cp_plan,
        looked_after=row.looked_after,
        immediate_risk=row.immediate_risk,
        reason=row.reason,
        summary=row.summary,
        professionals=tuple(_professional(p) for p in json.loads(row.professionals)),
        raised_by=_professional(raised) if raised else None,
        events=tuple(events),
    )


def state_columns(state: CaseState, last_event_at: datetime) -> dict[str, object]:
    """The cached-state columns of a case row, from its replayed state."""
    standing = state.standing
    if standing.resolved_at is not None:
        urgency, sort_due = 3, ""
    elif standing.risk_due is not None:
        urgency, sort_due = 0, utc_text(standing.risk_due)
    elif standing.due is not None:
        urgency, sort_due = 1, utc_text(standing.due)
    else:
        urgency, sort_due = 2, ""
    return {
        "stage": standing.stage,
        "stage_entered_at": state.stage_entered_at,
        "due_at": standing.due,
        "risk_due_at": standing.risk_due,
        "iro_notice": standing.iro_notice,
        "resolved_at": standing.resolved_at,
        "last_event_at": last_event_at,
        "is_open": standing.resolved_at is None,
        "urgency": urgency,
        "sort_due": sort_due,
    }


def _event_values(
    escalation_id: int, seq: int, event: Event, recorded_at: datetime, user: str
) -> dict[str, object]:
    return {
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
        "recorded_at": event.recorded_at or recorded_at,
        "recorded_by": user,
    }


def existing_refs(refs: Iterable[str]) -> set[str]:
    """Which of these refs are already in the database."""
    found: set[str] = set()
    for chunk in chunked(list(refs), BATCH):
        query = Escalation.select(Escalation.ref).where(Escalation.ref.in_(chunk))
        found.update(row.ref for row in query)
    return found


def insert_cases(
    cases: Sequence[Case],
    registry: ProcedureRegistry,
    calendar: WorkingCalendar,
    *,
    now: datetime,
    user: str,
) -> None:
    """Insert validated cases with their events; call inside a write transaction."""
    clash = existing_refs(c.ref for c in cases)
    if clash:
        raise InputError(f"case {sorted(clash)[0]}: ref is already in the database")
    children: dict[tuple[str, str], int] = {}
    for case in cases:
        key = (case.child.name, case.child.dob.isoformat())
        if key not in children:
            found = ChildRow.get_or_none((ChildRow.name == key[0]) & (ChildRow.dob == key[1]))
            children[key] = (
                found.id
                if found
                else ChildRow.insert(
                    name=key[0], dob=key[1], address=case.child.address, parents=case.child.parents
                ).execute()
            )
        procedure = registry.get(case.procedure, case.procedure_version or None)
        state = case_state(case, procedure, calendar)
        last = case.events[-1].at if case.events else case.opened_at
        escalation_id = Escalation.insert(
            ref=case.ref,
            procedure=case.procedure,
            procedure_version=procedure.version,
            opened_at=case.opened_at,
            child=children[key],
            child_name=case.child.name,
            other_agency=case.other_agency,
            level_of_need=str(case.level_of_need),
            cp_plan=case.cp_plan,
            looked_after=case.looked_after,
            immediate_risk=case.immediate_risk,
            reason=case.reason,
            summary=case.summary,
            professionals=json.dumps([asdict(p) for p in case.professionals]),
            raised_by=json.dumps(asdict(case.raised_by)) if case.raised_by else "",
            **state_columns(state, last),
        ).execute()
        rows = [
            _event_values(escalation_id, seq, event, now, user)
            for seq, event in enumerate(case.events, start=1)
        ]
        for chunk in chunked(rows, BATCH):
            EventRow.insert_many(chunk).execute()


def append_event(
    ref: str,
    event: Event,
    registry: ProcedureRegistry,
    calendar: WorkingCalendar,
    *,
    now: datetime,
    user: str,
) -> Case:
    """Append one checked event and refresh the case's cached state; inside a transaction."""
    row = Escalation.get_or_none(Escalation.ref == ref)
    if row is None:
        raise InputError(f"no case with ref {ref}")
    seq = EventRow.select().where(EventRow.escalation == row.id).count() + 1
    EventRow.insert(**_event_values(row.id, seq, event, now, user)).execute()
    case = load_case(ref)
    procedure = registry.get(case.procedure, case.procedure_version or None)
    state = case_state(case, procedure, calendar)
    Escalation.update(**state_columns(state, event.at)).where(Escalation.id == row.id).execute()
    return case


def load_case(ref: str) -> Case:
    """One case with its whole history."""
    row = Escalation.get_or_none(Escalation.ref == ref)
    if row is None:
        raise InputError(f"no case with ref {ref}")
    events = [
        _event(e)
        for e in EventRow.select().where(EventRow.escalation == row.id).order_by(EventRow.seq)
    ]
    return _case(row, row.child, events)


def iter_cases(
    *,
    opened_from: date | None = None,
    opened_before: datetime | None = None,
    opened_to_date: date | None = None,
    only_open: bool = False,
) -> Iterator[Case]:
    """Every case (optionally by opening date), in opening order, read in batches."""
    query = Escalation.select(Escalation, ChildRow).join(ChildRow)
    # Local dates are at most a day from UTC dates: a wide SQL bound, then the exact local test.
    if opened_from is not None:
        query = query.where(Escalation.opened_at >= _utc_midnight(opened_from - timedelta(days=1)))
    if opened_to_date is not None:
        query = query.where(
            Escalation.opened_at < _utc_midnight(opened_to_date + timedelta(days=2))
        )
    if opened_before is not None:
        query = query.where(Escalation.opened_at <= opened_before)
    if only_open:
        query = query.where(Escalation.is_open == True)  # noqa: E712
    query = query.order_by(Escalation.opened_at, Escalation.id)
    last_id, last_opened = 0, None
    while True:
        page = query
        if last_opened is not None:
            page = page.where(
                (Escalation.opened_at > last_opened)
                | ((Escalation.opened_at == last_opened) & (Escalation.id > last_id))
            )
        rows = list(page.limit(BATCH))
        if not rows:
            return
        events: dict[int, list[Event]] = {r.id: [] for r in rows}
        for e in (
            EventRow.select()
            .where(EventRow.escalation.in_(list(events)))
            .order_by(EventRow.escalation, EventRow.seq)
        ):
            events[e.escalation_id].append(_event(e))
        for row in rows:
            day = local_date(row.opened_at)
            if (opened_from and day < opened_from) or (opened_to_date and day > opened_to_date):
                continue
            yield _case(row, row.child, events[row.id])
        last_id, last_opened = rows[-1].id, rows[-1].opened_at


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def refresh_all_states(registry: ProcedureRegistry, calendar: WorkingCalendar) -> int:
    """Recompute every case's cached state (after the calendar or a procedure changed)."""
    count = 0
    for case in iter_cases():
        procedure = registry.get(case.procedure, case.procedure_version or None)
        last = case.events[-1].at if case.events else case.opened_at
        Escalation.update(**state_columns(case_state(case, procedure, calendar), last)).where(
            Escalation.ref == case.ref
        ).execute()
        count += 1
    return count
