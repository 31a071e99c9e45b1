"""The deadline engine: a case's stage, its due, its duties, the risk due and the flags at a moment.

Pure functions over plain records (contract sections 1 to 3 and 2.2). `case_state` replays the
history once and is independent of the time of asking (nothing arises or lapses by the clock
alone, only by events); `flags_at` and `days_left` apply a moment to it, so a sweep can keep
states and only re-apply the clock.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import datetime

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import local_date
from dsl_console.core.duties import DutyStatus, DutyTracker, Facts, timescale_due
from dsl_console.core.flags import (
    DUE_TODAY,
    IMMEDIATE_RISK,
    IRO_NOTICE,
    OVERDUE,
    PARTNERSHIP_NOTICE,
    RESPONSE_OVERDUE,
)
from dsl_console.core.procedures import OTHER_AGENCY, Procedure, Stage
from dsl_console.core.records import (
    IRO,
    OPEN,
    PARTNERSHIP,
    RESOLVED,
    VOIDED,
    Case,
    Event,
    EventKind,
)

# Part of what decides whether the states cached in a database are still right: raise it
# whenever a change could alter what a case's cached columns hold, here or in duties, the
# calendar or procedure reading, or in how store.cases.state_columns derives and writes them
# (the list's order, is_live, the duties' cached form), and every database recomputes its
# cache when next opened.
ENGINE_VERSION = 3


@dataclass(frozen=True)
class Standing:
    """What the clock is applied to: everything the flags of contract section 6 read."""

    stage: int
    due: datetime | None  # the current stage's due; None once the case is closed
    risk_due: datetime | None
    # The earliest due the school must meet: the stage's, or an outstanding non-soft duty's.
    school_due: datetime | None
    # The earliest due of the other agency's outstanding non-soft duties (a reply, say).
    response_due: datetime | None
    iro_notice: bool
    partnership_notice: bool
    status: str = OPEN
    closed_at: datetime | None = None
    owes: bool = False  # an outstanding duty

    @property
    def resolved_at(self) -> datetime | None:
        """When the case was resolved (None when open or voided)."""
        return self.closed_at if self.status == RESOLVED else None

    @property
    def listed(self) -> bool:
        """Whether a sweep lists the case: open, or resolved with a duty still owed."""
        return self.status == OPEN or (self.status == RESOLVED and self.owes)


@dataclass(frozen=True)
class StageVisit:
    """A stage as the case passed through it."""

    stage: int
    entered_at: datetime
    due: datetime | None
    left_at: datetime | None = None
    due_reason: str = ""  # the note of a deadline-set event, when the due was set by hand
    missed_reason: str = ""  # the note of a timescale-missed event for this stage

    def kept(self, as_of: datetime) -> bool | None:
        """True if it kept its timescale, False if not, None if it has none or is not yet due."""
        if self.due is None:
            return None
        if self.left_at is not None:
            return self.left_at <= self.due
        return False if as_of > self.due else None


@dataclass(frozen=True)
class CaseState:
    """A case's standing after its history, the stages it passed through, and its duties."""

    standing: Standing
    stage_entered_at: datetime
    visits: tuple[StageVisit, ...]
    skipped: tuple[int, ...]
    risk_raised_at: datetime | None
    highest_stage: int
    duties: tuple[DutyStatus, ...] = ()

    @property
    def stage(self) -> int:
        return self.standing.stage

    @property
    def due(self) -> datetime | None:
        return self.standing.due

    @property
    def resolved_at(self) -> datetime | None:
        return self.standing.resolved_at

    def outstanding(self) -> tuple[DutyStatus, ...]:
        """The duties still owed, in the order the procedure names them."""
        return tuple(d for d in self.duties if d.outstanding)


def stage_due(
    stage: Stage, opened_at: datetime, entered_at: datetime, calendar: WorkingCalendar
) -> datetime | None:
    """A stage's due from its timescale, before any deadline-set."""
    ts = stage.timescale
    if ts.rule == "by-day":
        return calendar.by_day(opened_at, ts.days)
    anchor = opened_at if ts.anchor == "opening" else entered_at
    return timescale_due(ts, anchor, calendar)


def in_time_order(events: tuple[Event, ...]) -> tuple[Event, ...]:
    """Events in `at` order; those at the same moment keep the order they were given in."""
    if all(a.at <= b.at for a, b in itertools.pairwise(events)):
        return events
    return tuple(sorted(events, key=lambda e: e.at))


def case_state(
    case: Case,
    procedure: Procedure,
    calendar: WorkingCalendar,
    as_of: datetime | None = None,
) -> CaseState:
    """Replay a case's events (those at or before as_of, when given) into its state."""
    stage = 1
    entered = case.opened_at
    due = stage_due(procedure.stage(1), case.opened_at, entered, calendar)
    due_reason = ""
    visits: list[StageVisit] = []
    missed: dict[int, str] = {}
    risk_raised: datetime | None = case.opened_at if case.immediate_risk else None
    closed_at: datetime | None = None
    status = OPEN
    highest = 1
    facts = Facts.of(case)
    trackers = [DutyTracker(d, calendar, case.opened_at) for d in procedure.duties]
    if trackers:
        for tracker in trackers:
            tracker.step(None, case.opened_at, facts, stage, entered, status, ())

    events = in_time_order(case.events)
    same_moment: list[Event] = []  # the events already replayed at the current moment
    for event in events:
        if as_of is not None and event.at > as_of:
            break
        if same_moment and same_moment[-1].at != event.at:
            same_moment = []
        same_moment.append(event)
        kind = event.kind
        if kind == EventKind.ESCALATED and event.stage is not None:
            if status == OPEN:
                visits.append(StageVisit(stage, entered, due, event.at, due_reason))
                stage, entered, due_reason = event.stage, event.at, ""
                highest = max(highest, stage)
                due = stage_due(procedure.stage(stage), case.opened_at, entered, calendar)
        elif kind == EventKind.DEADLINE_SET:
            if status == OPEN:
                due, due_reason = event.due, event.note
        elif kind == EventKind.RISK_RAISED:
            # The earliest outstanding raise governs: a second raise does not postpone it.
            risk_raised = risk_raised or event.at
            facts = facts.with_risk()
        elif kind == EventKind.RISK_ESCALATED:
            if risk_raised is not None and event.at >= risk_raised:
                risk_raised = None
        elif kind == EventKind.TIMESCALE_MISSED:
            missed[event.stage if event.stage is not None else stage] = event.note
        elif kind == EventKind.AMENDED:
            facts = facts.amended(event.field, event.value)
        elif kind in (EventKind.RESOLVED, EventKind.VOIDED) and status == OPEN:
            status = RESOLVED if kind == EventKind.RESOLVED else VOIDED
            closed_at = event.at
        if trackers:
            for tracker in trackers:
                tracker.step(event, event.at, facts, stage, entered, status, same_moment)

    visits.append(StageVisit(stage, entered, due, closed_at, due_reason))
    if missed:  # rare: skip the copying for the common case of no recorded reason
        visits = [replace(v, missed_reason=missed.get(v.stage, "")) for v in visits]
    visited = {v.stage for v in visits}
    skipped = tuple(
        n
        for n in range(1, highest)
        if n not in visited and not (procedure.has_stage(n) and procedure.stage(n).optional)
    )

    risk_due = None
    if risk_raised is not None and status == OPEN:
        risk_due = calendar.same_working_day(risk_raised)[0]

    duties = tuple(t.status() for t in trackers)
    stage_due_now = due if status == OPEN else None
    return CaseState(
        standing=_standing(stage, stage_due_now, risk_due, duties, status, closed_at),
        stage_entered_at=entered,
        visits=tuple(visits),
        skipped=skipped,
        risk_raised_at=risk_raised if status == OPEN else None,
        highest_stage=highest,
        duties=duties,
    )


def _earliest(moments: list[datetime | None]) -> datetime | None:
    found = [m for m in moments if m is not None]
    return min(found) if found else None


def _standing(
    stage: int,
    due: datetime | None,
    risk_due: datetime | None,
    duties: tuple[DutyStatus, ...],
    status: str,
    closed_at: datetime | None,
) -> Standing:
    owed = [d for d in duties if d.outstanding]
    clocked = [d for d in owed if not d.duty.soft]
    school = [d.due for d in clocked if d.duty.party != OTHER_AGENCY]
    theirs = [d.due for d in clocked if d.duty.party == OTHER_AGENCY]
    return Standing(
        stage=stage,
        due=due,
        risk_due=risk_due,
        school_due=_earliest([due, *school]),
        response_due=_earliest(theirs),
        iro_notice=any(d.duty.notifies(IRO) for d in owed),
        partnership_notice=any(
            d.duty.notifies(PARTNERSHIP) for d in owed if d.duty.party != OTHER_AGENCY
        ),
        status=status,
        closed_at=closed_at,
        owes=bool(owed),
    )


def flags_at(standing: Standing, as_of: datetime) -> list[str]:
    """The flags a case carries at a moment (contract section 6), in the contract's order."""
    if not standing.listed:
        return []
    found: list[str] = []
    if standing.risk_due is not None:
        found.append(IMMEDIATE_RISK.id)
    due = standing.school_due
    if due is not None:
        if as_of > due:
            found.append(OVERDUE.id)
        elif local_date(due) == local_date(as_of):
            found.append(DUE_TODAY.id)
    if standing.iro_notice:
        found.append(IRO_NOTICE.id)
    if standing.partnership_notice:
        found.append(PARTNERSHIP_NOTICE.id)
    if standing.response_due is not None and as_of > standing.response_due:
        found.append(RESPONSE_OVERDUE.id)
    return found


def days_left(standing: Standing, calendar: WorkingCalendar, as_of: datetime) -> int | None:
    """Working days left to the stage due at a moment; None when the stage has no due."""
    if standing.due is None:
        return None
    return calendar.working_days_left(as_of, standing.due)
