"""The deadline engine: a case's current stage, its due, the risk due and the flags at a moment.

Pure functions over plain records (contract sections 1 to 3). `case_state` replays the history
once and is independent of the time of asking; `flags_at` and `days_left` apply a moment to it,
so a sweep can keep states and only re-apply the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import local_date
from dsl_console.core.procedures import Procedure, Stage
from dsl_console.core.records import IRO, Case, EventKind

FLAG_IMMEDIATE_RISK = "immediate-risk"
FLAG_OVERDUE = "overdue"
FLAG_DUE_TODAY = "due-today"
FLAG_IRO_NOTICE = "iro-notice"
FLAGS = (FLAG_IMMEDIATE_RISK, FLAG_OVERDUE, FLAG_DUE_TODAY, FLAG_IRO_NOTICE)


@dataclass(frozen=True)
class Standing:
    """What the clock is applied to: the current stage's due, the risk due, the IRO notice."""

    stage: int
    due: datetime | None
    risk_due: datetime | None
    iro_notice: bool
    resolved_at: datetime | None = None


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
    """A case's standing after its history, plus the stages it passed through."""

    standing: Standing
    stage_entered_at: datetime
    visits: tuple[StageVisit, ...]
    skipped: tuple[int, ...]
    risk_raised_at: datetime | None
    risk_out_of_hours: bool
    highest_stage: int

    @property
    def stage(self) -> int:
        return self.standing.stage

    @property
    def due(self) -> datetime | None:
        return self.standing.due

    @property
    def resolved_at(self) -> datetime | None:
        return self.standing.resolved_at


def stage_due(
    stage: Stage, opened_at: datetime, entered_at: datetime, calendar: WorkingCalendar
) -> datetime | None:
    """A stage's due from its timescale, before any deadline-set."""
    ts = stage.timescale
    anchor = opened_at if ts.anchor == "opening" else entered_at
    if ts.rule == "by-day":
        return calendar.by_day(opened_at, ts.days)
    if ts.rule == "within":
        return calendar.within(anchor, ts.days)
    if ts.rule == "same-day":
        return calendar.same_working_day(anchor)[0]
    return None


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
    iro_told = False
    resolved_at: datetime | None = None
    highest = 1

    for event in case.events:
        if as_of is not None and event.at > as_of:
            break
        kind = event.kind
        if kind == EventKind.ESCALATED and event.stage is not None:
            visits.append(StageVisit(stage, entered, due, event.at, due_reason))
            stage, entered, due_reason = event.stage, event.at, ""
            highest = max(highest, stage)
            due = stage_due(procedure.stage(stage), case.opened_at, entered, calendar)
        elif kind == EventKind.DEADLINE_SET:
            due, due_reason = event.due, event.note
        elif kind == EventKind.RISK_RAISED:
            # The earliest outstanding raise governs: a second raise does not postpone it.
            risk_raised = risk_raised or event.at
        elif kind == EventKind.RISK_ESCALATED:
            if risk_raised is not None and event.at >= risk_raised:
                risk_raised = None
        elif kind == EventKind.NOTIFIED and event.whom.strip().lower() == IRO:
            iro_told = True
        elif kind == EventKind.TIMESCALE_MISSED:
            missed[event.stage if event.stage is not None else stage] = event.note
        elif kind == EventKind.RESOLVED:
            resolved_at = resolved_at or event.at

    visits.append(StageVisit(stage, entered, due, resolved_at, due_reason))
    if missed:  # rare: skip the copying for the common case of no recorded reason
        visits = [replace(v, missed_reason=missed.get(v.stage, "")) for v in visits]
    visited = {v.stage for v in visits}
    skipped = tuple(n for n in range(1, highest) if n not in visited)

    risk_due, out_of_hours = (None, False)
    if risk_raised is not None:
        risk_due, out_of_hours = calendar.same_working_day(risk_raised)

    iro_from = procedure.iro_notice_from_stage
    iro_notice = (
        (case.cp_plan or case.looked_after)
        and iro_from is not None
        and highest >= iro_from
        and not iro_told
    )
    return CaseState(
        standing=Standing(stage, due, risk_due, bool(iro_notice), resolved_at),
        stage_entered_at=entered,
        visits=tuple(visits),
        skipped=skipped,
        risk_raised_at=risk_raised,
        risk_out_of_hours=out_of_hours,
        highest_stage=highest,
    )


def flags_at(standing: Standing, as_of: datetime) -> list[str]:
    """The flags a case carries at a moment (contract section 6), in a fixed order."""
    if standing.resolved_at is not None and standing.resolved_at <= as_of:
        return []
    found: list[str] = []
    if standing.risk_due is not None:
        found.append(FLAG_IMMEDIATE_RISK)
    if standing.due is not None:
        if as_of > standing.due:
            found.append(FLAG_OVERDUE)
        elif local_date(standing.due) == local_date(as_of):
            found.append(FLAG_DUE_TODAY)
    if standing.iro_notice:
        found.append(FLAG_IRO_NOTICE)
    return found


def days_left(standing: Standing, calendar: WorkingCalendar, as_of: datetime) -> int | None:
    """Working days left to the stage due at a moment; None when the stage has no due."""
    if standing.due is None:
        return None
    return calendar.working_days_left(as_of, standing.due)
