"""The duty engine on its own (core.duties through core.deadlines.case_state): pure, no
database. Hand-worked cases where a rule is subtle, and properties over random histories."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.deadlines import case_state, flags_at
from dsl_console.core.procedures import load_registry
from dsl_console.core.records import VOIDED, Case, Child, Event, EventKind

REGISTRY = load_registry()
ENG = WorkingCalendar("ENG")
OPENED = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # Monday 16 November 2026, 09:00 GMT


def case(procedure: str, *events: Event, **facts: object) -> Case:
    return Case(
        ref="T-1",
        procedure=procedure,
        opened_at=OPENED,
        child=Child("Ada Example", date(2014, 5, 2)),
        events=events,
        **facts,  # type: ignore[arg-type]
    )


def at(hours: float) -> datetime:
    return OPENED + timedelta(hours=hours)


def duties(c: Case, as_of: datetime | None = None) -> dict[str, object]:
    state = case_state(c, REGISTRY.get(c.procedure), ENG, as_of)
    return {d.duty.id: d for d in state.duties}


def test_a_notice_recorded_at_the_very_moment_of_the_escalation_counts():
    # Both at Wed 18 Nov 10:00, the notice entered first: "at or after the moment it arose"
    # is about time, not the order of entry, so the Appendix 2 duty is discharged.
    moment = datetime(2026, 11, 18, 10, tzinfo=UTC)
    c = case(
        "liverpool",
        Event(moment, EventKind.NOTIFIED, whom="Partnership", form="liverpool"),
        Event(moment, EventKind.ESCALATED, stage=3),
    )
    found = duties(c)["appendix-2"]
    assert found.arose_at == moment and found.done is not None  # type: ignore[attr-defined]


def test_a_notice_sent_before_the_duty_arose_does_not_count():
    c = case(
        "liverpool",
        Event(at(2), EventKind.NOTIFIED, whom="partnership", form="liverpool"),
        Event(at(3), EventKind.ESCALATED, stage=3),
    )
    assert duties(c)["appendix-2"].outstanding  # type: ignore[attr-defined]


def test_late_entries_are_replayed_in_time_order():
    # The IRO notice was entered after a later note, but happened first: the duty is done.
    c = case(
        "liverpool",
        Event(at(30), EventKind.NOTE, note="Later note."),
        Event(at(6), EventKind.NOTIFIED, whom="iro", recorded_at=at(31)),
        cp_plan=True,
    )
    assert duties(c)["iro"].done is not None  # type: ignore[attr-defined]


def test_an_amended_cp_plan_starts_the_iro_duty_from_that_moment():
    c = case("liverpool", Event(at(6.5), EventKind.AMENDED, field="cp_plan", value=True, note="x"))
    assert not duties(c, at(6))["iro"].arisen  # type: ignore[attr-defined]
    assert duties(c, at(7))["iro"].arose_at == at(6.5)  # type: ignore[attr-defined]


def test_voiding_lapses_every_duty_and_leaves_no_flag():
    c = case(
        "liverpool",
        Event(at(2), EventKind.ESCALATED, stage=3),
        Event(at(3), EventKind.VOIDED, note="Opened in error."),
        cp_plan=True,
    )
    state = case_state(c, REGISTRY.get("liverpool"), ENG)
    assert state.standing.status == VOIDED
    assert not state.outstanding()
    assert {d.lapsed_why for d in state.duties if d.arisen} == {"voided"}
    assert flags_at(state.standing, at(400)) == []


KINDS = st.sampled_from(
    [
        (EventKind.ESCALATED, {"stage": 2}),
        (EventKind.ESCALATED, {"stage": 3}),
        (EventKind.ESCALATED, {"stage": 4}),
        (EventKind.NOTIFIED, {"whom": "iro"}),
        (EventKind.NOTIFIED, {"whom": "partnership"}),
        (EventKind.NOTIFIED, {"whom": "partnership", "form": "liverpool"}),
        (EventKind.NOTIFIED, {"whom": "partnership", "form": "st-helens-notice"}),
        (EventKind.NOTIFIED, {"whom": "team-manager"}),
        (EventKind.AMENDED, {"field": "cp_plan", "value": True, "note": "x"}),
        (EventKind.AMENDED, {"field": "cp_plan", "value": False, "note": "x"}),
        (EventKind.AMENDED, {"field": "other_agency_kind", "value": "social-care", "note": "x"}),
        (EventKind.DISCUSSION, {"note": "x"}),
        (EventKind.RESPONSE, {"note": "x"}),
        (EventKind.RESOLVED, {}),
    ]
)


@st.composite
def histories(draw: st.DrawFn) -> Case:
    procedure = draw(st.sampled_from(["liverpool", "gloucestershire", "newham", "st-helens"]))
    steps = draw(st.lists(st.tuples(st.integers(0, 400), KINDS), max_size=12))
    events, stage, closed = [], 1, False
    for hours, (kind, fields) in sorted(steps, key=lambda s: s[0]):
        if closed and kind not in (EventKind.NOTIFIED, EventKind.AMENDED, EventKind.RESPONSE):
            continue
        if kind == EventKind.ESCALATED:
            if fields["stage"] <= stage or not REGISTRY.get(procedure).has_stage(fields["stage"]):
                continue
            stage = fields["stage"]
        closed = closed or kind == EventKind.RESOLVED
        events.append(Event(at(hours), kind, **fields))  # type: ignore[arg-type]
    return case(procedure, *events, cp_plan=draw(st.booleans()))


@settings(max_examples=300, deadline=None)
@given(histories(), st.integers(0, 500))
def test_a_duty_is_owed_only_between_arising_and_its_end(c, hours):
    as_of = at(hours)
    state = case_state(c, REGISTRY.get(c.procedure), ENG, as_of)
    for d in state.duties:
        if d.arisen:
            assert d.arose_at <= as_of
            # Discharged by an event at or after it arose, of a kind its done_by names.
            if d.done is not None:
                assert d.done.at >= d.arose_at and d.duty.discharged_by(d.done)
            if d.lapsed_at is not None:
                assert d.done is None and d.lapsed_at >= d.arose_at
        else:
            assert d.done is None and d.lapsed_at is None
    # Asked later, a duty that had ended stays ended: it arises at most once.
    later = case_state(c, REGISTRY.get(c.procedure), ENG)
    for before, after in zip(state.duties, later.duties, strict=True):
        if before.arisen and not before.outstanding:
            assert (after.done, after.lapsed_at) == (before.done, before.lapsed_at)


@settings(max_examples=300, deadline=None)
@given(histories(), st.integers(0, 500))
def test_flags_follow_from_the_outstanding_duties(c, hours):
    as_of = at(hours)
    state = case_state(c, REGISTRY.get(c.procedure), ENG, as_of)
    flags = flags_at(state.standing, as_of)
    owed = state.outstanding()
    assert ("iro-notice" in flags) == any(d.duty.notifies("iro") for d in owed)
    assert ("partnership-notice" in flags) == any(d.duty.notifies("partnership") for d in owed)
    if state.standing.status != "open":
        # A closed case is listed only for what it still owes, and then has no stage due.
        assert state.standing.due is None and state.standing.risk_due is None
        assert bool(flags) <= bool(owed)


def test_voiding_lapses_even_a_duty_done_by_voiding():
    from dataclasses import replace

    from dsl_console.core.procedures import Discharge

    procedure = REGISTRY.get("liverpool")
    odd = replace(procedure.duty("appendix-2"), done_by=(Discharge(kind=EventKind.VOIDED),))
    procedure = replace(procedure, duties=(odd,))
    c = case(
        "liverpool",
        Event(at(2), EventKind.ESCALATED, stage=3),
        Event(at(3), EventKind.VOIDED, note="Opened in error."),
    )
    (status,) = case_state(c, procedure, ENG).duties
    assert status.done is None and status.lapsed_why == "voided"
