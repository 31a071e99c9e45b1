"""New entries on a stored case are checked in their place in time, against the case as it
then stood; a history recorded under an earlier release's rules still takes new entries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dsl_console.core.records import Case, Child, Event, EventKind
from dsl_console.errors import InputError
from dsl_console.services.casebook import record_event
from dsl_console.store.cases import insert_cases, load_case
from tests.conftest import NOW

OPENED = datetime(2026, 11, 16, 9, tzinfo=UTC)


def stored(session, *events: Event, procedure: str = "gloucestershire") -> str:  # type: ignore[no-untyped-def]
    """A case written straight to the store, as an earlier release let it be."""
    case = Case(
        ref="OLD-1",
        procedure=procedure,
        procedure_version="1",
        opened_at=OPENED,
        child=Child("Ada Example", date(2014, 5, 2)),
        events=events,
    )
    session.write(
        lambda: insert_cases([case], session.registry, session.calendar, now=NOW, user="jo.lead")
    )
    return case.ref


def test_a_case_resolved_then_discussed_under_the_old_rules_still_takes_a_notice(session_factory):
    # Earlier releases let a discussion follow the resolution; v2 does not. The Gloucestershire
    # written-outcome duty (on resolution) must still be dischargeable.
    session = session_factory()
    ref = stored(
        session,
        Event(datetime(2026, 11, 17, 10, tzinfo=UTC), EventKind.RESOLVED, note="Agreed."),
        Event(datetime(2026, 11, 17, 11, tzinfo=UTC), EventKind.DISCUSSION, note="After."),
    )
    notice = Event(
        datetime(2026, 11, 18, 9, tzinfo=UTC),
        EventKind.NOTIFIED,
        whom="other-agency",
        note="Outcome confirmed in writing.",
    )
    case = record_event(session, ref, notice)
    assert case.events[-1].kind == EventKind.NOTIFIED
    with session.db.connection_context():
        assert len(load_case(ref).events) == 3


def test_a_late_escalation_that_would_break_the_stage_order_names_the_entry(session_factory):
    session = session_factory()
    ref = stored(
        session,
        Event(datetime(2026, 11, 18, 10, tzinfo=UTC), EventKind.ESCALATED, stage=3, note="x"),
        procedure="liverpool",
    )
    late = Event(datetime(2026, 11, 17, 10, tzinfo=UTC), EventKind.ESCALATED, stage=3, note="y")
    with pytest.raises(
        InputError, match=r"conflicts with the later entry 'escalated' of 18/11/2026"
    ):
        record_event(session, ref, late)
    # An earlier escalation to a lower stage fits: stage 2 on the 17th, then 3 on the 18th.
    fits = Event(datetime(2026, 11, 17, 10, tzinfo=UTC), EventKind.ESCALATED, stage=2, note="z")
    case = record_event(session, ref, fits)
    assert [e.stage for e in case.events if e.kind == EventKind.ESCALATED] == [3, 2]


def test_a_new_entry_in_the_future_is_refused_as_an_import_refuses_it(session_factory):
    # The console checks a new entry with the import's rules (check_addition): an event after
    # the session's clock (NOW, Mon 23 Nov 2026 11:00) has not happened and is not recorded.
    session = session_factory()
    ref = stored(
        session,
        Event(datetime(2026, 11, 17, 10, tzinfo=UTC), EventKind.NOTE, note="Before."),
    )
    planned = Event(NOW + timedelta(minutes=1), EventKind.NOTE, note="Planned meeting.")
    with pytest.raises(InputError, match=r"^event\.at: is in the future; record what has happened"):
        record_event(session, ref, planned)
    with session.db.connection_context():
        assert len(load_case(ref).events) == 1
    # The moment itself is not in the future: an entry at NOW is taken.
    case = record_event(session, ref, Event(NOW, EventKind.NOTE, note="Just now."))
    assert case.events[-1].at == NOW


def test_a_stored_entry_in_the_future_does_not_block_a_new_one(session_factory):
    # An earlier release let a future event be stored; the stored history is not judged again,
    # so an entry before it is still taken (the future one broke the rule before it came).
    session = session_factory()
    ref = stored(
        session,
        Event(datetime(2026, 12, 14, 10, tzinfo=UTC), EventKind.NOTE, note="Planned."),
    )
    case = record_event(
        session, ref, Event(datetime(2026, 11, 20, 10, tzinfo=UTC), EventKind.NOTE, note="Now.")
    )
    assert [e.note for e in case.events] == ["Planned.", "Now."]
