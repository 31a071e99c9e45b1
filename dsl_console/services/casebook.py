"""What a DSL does to cases: open, import, record events, view. Each change is one transaction
with its audit entry, refused whole if any part is wrong."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import replace
from typing import TypeVar

from dsl_console.core.clock import local_date
from dsl_console.core.records import Case, Event, EventKind
from dsl_console.core.validation import check_addition, check_history
from dsl_console.errors import AccessError, InputError
from dsl_console.services.session import Session
from dsl_console.store import anchoring, audit
from dsl_console.store.cases import (
    STALE_SLICE,
    append_event,
    existing_refs,
    insert_cases,
    load_case,
    repair_states,
    stale_states,
)
from dsl_console.store.users import Role

T = TypeVar("T")


def _anchored(session: Session, action: str, ref: str, detail: str, write: Callable[[int], T]) -> T:
    """Write rows stamped with the id of the audit entry that then records them and their
    content digest (store/anchoring.py); call inside the change's transaction."""
    assert anchoring.writes_rows(action), action  # verify_content trusts only these actions
    anchor = anchoring.next_anchor()
    result = write(anchor)
    audit.record(session.now(), session.user, action, ref, anchoring.with_content(detail, anchor))
    return result


def import_cases(
    session: Session, cases: Sequence[Case], *, progress: Callable[[int, int], None] | None = None
) -> int:
    """Add checked cases, all or nothing; a ref already present refuses the whole import.
    `progress(done, total)` is told how many are in as they go in."""
    session.require_write()

    def write(anchor: int) -> int:
        insert_cases(
            cases,
            session.registry,
            session.calendar,
            now=None,
            user=session.user,
            anchor=anchor,
            progress=progress,
        )
        return len(cases)

    def change() -> int:
        return _anchored(session, "import", "", f"{len(cases)} cases", write)

    return session.write(change)


def open_case(session: Session, case: Case) -> Case:
    """Open a new case (from the console's form): checked, stamped with the procedure version."""
    session.require_write()
    procedure = session.registry.in_force(case.procedure, local_date(case.opened_at))
    case = replace(case, procedure_version=procedure.version)
    check_history(case, procedure, session.now(), session.calendar)

    def write(anchor: int) -> Case:
        insert_cases(
            [case],
            session.registry,
            session.calendar,
            now=session.now(),
            user=session.user,
            anchor=anchor,
        )
        return load_case(case.ref)

    def change() -> Case:
        return _anchored(session, "case-opened", case.ref, "", write)

    return session.write(change)


def record_event(session: Session, ref: str, event: Event) -> Case:
    """Append an event to a case after checking it against the case as it stands."""
    session.require_write()
    if event.kind == EventKind.VOIDED and session.role != Role.DSL:
        # Voiding takes a case out of every list and return: the lead decides it.
        raise AccessError("only a DSL account can void a case")

    def change() -> Case:
        case = load_case(ref)
        procedure = session.registry.get(case.procedure, case.procedure_version or None)
        check_addition(case, event, procedure, session.now(), session.calendar)
        return _anchored(
            session,
            f"event:{event.kind}",
            ref,
            "",
            lambda anchor: append_event(
                ref,
                event,
                session.registry,
                session.calendar,
                now=session.now(),
                user=session.user,
                anchor=anchor,
            ),
        )

    return session.write(change)


def record_events(session: Session, ref: str, events: Sequence[Event]) -> Case:
    """Append several events as one change: all of them or none (e.g. escalated + IRO told)."""
    if len(events) == 1:
        return record_event(session, ref, events[0])

    def change() -> Case:
        case: Case | None = None
        for event in events:
            case = record_event(session, ref, event)  # nested: a savepoint inside this change
        assert case is not None
        return case

    return session.write(change)


def refs_in_use(refs: Sequence[str]) -> set[str]:
    """Which of these refs are taken (to suggest the next free one)."""
    return existing_refs(refs)


def view_case(session: Session, ref: str) -> Case:
    """Read a case for display; the view is recorded in the audit trail."""
    case = load_case(ref)
    session.audit("case-viewed", ref)
    return case


def _loaded(refs: Sequence[str]) -> Iterator[Case]:
    """The cases with these refs that still exist."""
    for ref in refs:
        try:
            yield load_case(ref)
        except InputError:
            continue  # gone meanwhile (a restore): nothing to put right


def repair_stale_states(
    session: Session,
    pause: Callable[[], None] | None = None,
    slice_size: int = STALE_SLICE,
    refs: Collection[str] | None = None,
) -> list[str]:
    """Find the cases whose cached state disagrees with their events (store.cases.stale_states:
    written outside the console) and recompute it from the events, on the record: every case,
    or only `refs` (those a sweep found suspect). Call inside a connection of the caller's
    thread. Returns their refs (none, nearly always)."""
    if refs is None:
        stale = stale_states(session.registry, session.calendar, pause=pause, slice_size=slice_size)
    else:
        stale = stale_states(session.registry, session.calendar, _loaded(sorted(refs)))
    if not stale:
        return []

    def repair() -> list[str]:
        # Again inside the write transaction: only what is still wrong now is put right and
        # reported (a refs-only detail: the entry names no child).
        still = stale_states(session.registry, session.calendar, (load_case(ref) for ref in stale))
        if still:
            repair_states(still, session.registry, session.calendar)
            audit.record(
                session.now(),
                session.user,
                "repair",
                "",
                f"cached state of {len(still)} case(s) disagreed with their events; recomputed",
            )
        return still

    return session.write(repair)
