"""The deadline engine on its own (core.deadlines): a case's events replayed into its stage,
its dues, its immediate risk and its flags, as contract sections 1, 3 and 6 define them.

No database and no command line: a Case, a shipped procedure and a working-day calendar.
Moments are written in London time; November is GMT, so 17:00 London is 17:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dsl_console.core.calendar import WorkingCalendar, calendar_from
from dsl_console.core.clock import LONDON
from dsl_console.core.deadlines import case_state, days_left, flags_at
from dsl_console.core.procedures import load_registry
from dsl_console.core.records import Case, Child, Event, EventKind

REGISTRY = load_registry(None)
ENG = WorkingCalendar("ENG")


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(UTC)


def case(opened: str, *events: Event, procedure: str = "liverpool", **fields: object) -> Case:
    return Case(
        ref="SCH-TEST-1",
        procedure=procedure,
        opened_at=london(opened),
        child=Child("Ada Example", date(2014, 5, 2)),
        other_agency="Children's social care",
        events=events,
        **fields,  # type: ignore[arg-type]
    )


def ev(when: str, kind: str, **fields: object) -> Event:
    return Event(at=london(when), kind=kind, **fields)  # type: ignore[arg-type]


def state(c: Case, as_of: str | None = None, calendar: WorkingCalendar = ENG):
    procedure = REGISTRY.in_force(c.procedure, c.opened_at.date())
    return case_state(c, procedure, calendar, london(as_of) if as_of else None)


def test_liverpool_stage_1_is_due_at_the_end_of_the_second_working_day():
    # Opened Friday 20 November 2026: day 1 Friday, day 2 Monday 23, due 17:00.
    s = state(case("2026-11-20 09:00"))
    assert (s.stage, s.due) == (1, london("2026-11-23 17:00"))
    assert flags_at(s.standing, london("2026-11-23 11:00")) == ["due-today"]
    assert flags_at(s.standing, london("2026-11-23 17:01")) == ["overdue"]
    assert flags_at(s.standing, london("2026-11-20 12:00")) == []


def test_an_escalation_moves_the_stage_and_its_due_counted_from_the_opening():
    # Liverpool stage 2 is "by working day 9 of the case": from Friday 20 November, day 9 is
    # Wednesday 2 December.
    s = state(case("2026-11-20 09:00", ev("2026-11-23 10:00", EventKind.ESCALATED, stage=2)))
    assert (s.stage, s.due) == (2, london("2026-12-02 17:00"))
    assert [(v.stage, v.left_at) for v in s.visits] == [(1, london("2026-11-23 10:00")), (2, None)]
    assert s.visits[0].kept(london("2026-11-24 09:00")) is True


def test_within_working_days_of_entering_a_stage_skips_the_weekend():
    # Gloucestershire stage 1: within 5 working days of Thursday 12 November -> Thursday 19.
    s = state(case("2026-11-12 10:00", procedure="gloucestershire"))
    assert s.due == london("2026-11-19 17:00")
    assert days_left(s.standing, ENG, london("2026-11-16 09:00")) == 3
    assert days_left(s.standing, ENG, london("2026-11-23 11:00")) == -2


def test_a_closure_day_in_the_config_pushes_a_stage_due_on():
    closed = calendar_from("ENG", ENG.end_of_day, [date(2026, 11, 23)])
    s = state(case("2026-11-20 09:00"), calendar=closed)
    assert s.due == london("2026-11-24 17:00")


def test_an_immediate_risk_in_hours_is_due_the_same_day_and_out_of_hours_at_once():
    in_hours = state(case("2026-11-23 09:00", immediate_risk=True))
    assert in_hours.standing.risk_due == london("2026-11-23 17:00")
    assert flags_at(in_hours.standing, london("2026-11-23 10:00"))[0] == "immediate-risk"
    # Raised on a Saturday evening: due at that moment (the emergency duty team's route).
    weekend = state(case("2026-11-21 19:30", immediate_risk=True))
    assert weekend.standing.risk_due == london("2026-11-21 19:30")


def test_a_risk_is_outstanding_until_escalated_at_or_after_the_raise():
    raised = ev("2026-11-23 10:00", EventKind.RISK_RAISED)
    before = ev("2026-11-23 09:30", EventKind.RISK_ESCALATED, note="Rang the duty team.")
    after = ev("2026-11-23 10:30", EventKind.RISK_ESCALATED, note="Rang the duty team.")
    assert state(case("2026-11-20 09:00", before, raised)).standing.risk_due is not None
    assert state(case("2026-11-20 09:00", raised, after)).standing.risk_due is None
    # A second raise while one is outstanding does not move the due on.
    again = ev("2026-11-23 16:00", EventKind.RISK_RAISED)
    twice = state(case("2026-11-20 09:00", raised, again))
    assert twice.standing.risk_due == london("2026-11-23 17:00")
    assert twice.risk_raised_at == london("2026-11-23 10:00")


def test_a_deadline_set_by_hand_replaces_the_stage_due():
    # City and Hackney's stages have no timescale: the Chair's date is the due.
    c = case(
        "2026-11-20 09:00",
        ev(
            "2026-11-23 10:00",
            EventKind.DEADLINE_SET,
            due=london("2026-11-30 12:00"),
            note="Chair's date",
        ),
        procedure="city-hackney",
    )
    assert state(c, "2026-11-21 09:00").due is None
    s = state(c)
    assert s.due == london("2026-11-30 12:00")
    assert s.visits[-1].due_reason == "Chair's date"


def test_a_resolved_case_has_no_due_and_no_flags():
    c = case("2026-11-12 10:00", ev("2026-11-20 10:00", EventKind.RESOLVED, note="Agreed a plan."))
    s = state(c)
    assert (s.standing.status, s.due, s.standing.listed) == ("resolved", None, False)
    assert flags_at(s.standing, london("2026-12-01 09:00")) == []
    # As it stood before the resolution, it was overdue.
    assert flags_at(state(c, "2026-11-20 09:00").standing, london("2026-11-20 09:00")) == [
        "overdue"
    ]


def test_a_resolved_case_still_owing_a_duty_stays_listed_until_it_is_done():
    # Gloucestershire: on resolution, confirm the outcome in writing to the other agency.
    resolved = ev("2026-11-20 10:00", EventKind.RESOLVED, note="Agreed a plan.")
    s = state(case("2026-11-12 10:00", resolved, procedure="gloucestershire"))
    assert s.standing.listed and [d.duty.id for d in s.outstanding()] == ["written-outcome"]
    written = ev("2026-11-20 11:00", EventKind.NOTIFIED, whom="other-agency")
    done = state(case("2026-11-12 10:00", resolved, written, procedure="gloucestershire"))
    assert not done.standing.listed and done.outstanding() == ()


@pytest.mark.parametrize("looked_after", [False, True])
def test_the_iro_duty_arises_only_for_a_looked_after_child_or_a_plan(looked_after):
    s = state(case("2026-11-20 09:00", looked_after=looked_after))
    owed = [d.duty.id for d in s.outstanding()]
    assert ("iro" in owed) is looked_after
    assert s.standing.iro_notice is looked_after
    told = state(
        case(
            "2026-11-20 09:00",
            ev("2026-11-20 11:00", EventKind.NOTIFIED, whom="iro"),
            looked_after=looked_after,
        )
    )
    assert "iro" not in [d.duty.id for d in told.outstanding()]


def test_events_given_out_of_order_are_replayed_in_time_order():
    escalated = ev("2026-11-23 10:00", EventKind.ESCALATED, stage=2)
    resolved = ev("2026-11-24 10:00", EventKind.RESOLVED, note="Agreed.")
    assert state(case("2026-11-20 09:00", resolved, escalated)) == state(
        case("2026-11-20 09:00", escalated, resolved)
    )
