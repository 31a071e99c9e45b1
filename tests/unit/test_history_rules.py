"""New entries on a stored case are checked in their place in time, against the case as it
then stood; a history recorded under an earlier release's rules still takes new entries."""

from __future__ import annotations

from datetime import UTC, date, datetime

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
