"""Duties replayed from a case's events (contract section 2.2): when each arises, its due, what
discharged it, when it lapsed.

`core.deadlines.case_state` drives one `DutyTracker` per duty through the history, step by step,
and keeps the frozen `DutyStatus` each ends with.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.procedures import (
    AGENCY_PREFIX,
    CP_PLAN_OR_LOOKED_AFTER,
    IMMEDIATE_RISK,
    OTHER_AGENCY,
    Duty,
    Timescale,
)
from dsl_console.core.records import OPEN, RESOLVED, VOIDED, Case, Event


def clock_for(duty: Duty, calendar: WorkingCalendar) -> WorkingCalendar:
    """The calendar a duty's clock counts in: the other agency keeps its own working days,
    without the school's closures (contract section 2.2)."""
    return calendar.without_closures() if duty.party == OTHER_AGENCY else calendar


def timescale_due(ts: Timescale, anchor: datetime, calendar: WorkingCalendar) -> datetime | None:
    """When a `within` or `same-day` timescale counted from a moment falls due (section 1)."""
    if ts.rule == "within":
        if ts.unit == "hours":
            return calendar.within_hours(anchor, ts.days)
        if ts.unit == "calendar-days":
            return calendar.within_calendar_days(anchor, ts.days)
        return calendar.within(anchor, ts.days)
    if ts.rule == "same-day":
        return calendar.same_working_day_or_next(anchor)
    return None


@dataclass(frozen=True)
class Facts:
    """The case facts a duty's condition reads, as they stand at a moment of the replay."""

    cp_plan: bool
    looked_after: bool
    agency_kind: str
    risk_raised: bool

    @classmethod
    def of(cls, case: Case) -> Facts:
        return cls(case.cp_plan, case.looked_after, case.other_agency_kind, case.immediate_risk)

    def with_risk(self) -> Facts:
        return self if self.risk_raised else replace(self, risk_raised=True)

    def amended(self, field: str, value: object) -> Facts:
        """The facts after an `amended` event (fields the duties do not read change nothing)."""
        if field == "cp_plan" and isinstance(value, bool):
            return replace(self, cp_plan=value)
        if field == "looked_after" and isinstance(value, bool):
            return replace(self, looked_after=value)
        if field == "other_agency_kind" and isinstance(value, str):
            return replace(self, agency_kind=value)
        return self

    def hold(self, when: str) -> bool:
        """Whether a duty's `when` condition holds."""
        if when == CP_PLAN_OR_LOOKED_AFTER:
            return self.cp_plan or self.looked_after
        if when == IMMEDIATE_RISK:
            return self.risk_raised
        if when.startswith(AGENCY_PREFIX):
            return self.agency_kind == when[len(AGENCY_PREFIX) :]
        return True


@dataclass(frozen=True)
class DutyStatus:
    """One duty of a case after its history: arisen or not, due, discharged, lapsed."""

    duty: Duty
    arose_at: datetime | None = None
    stage: int | None = None  # the stage the case was at when it arose
    due: datetime | None = None
    done: Event | None = None  # the event that discharged it
    lapsed_at: datetime | None = None
    lapsed_why: str = ""  # resolution, leaving-stage, condition, voided

    @property
    def arisen(self) -> bool:
        return self.arose_at is not None

    @property
    def outstanding(self) -> bool:
        """Arisen and neither discharged nor lapsed."""
        return self.arose_at is not None and self.done is None and self.lapsed_at is None


class DutyTracker:
    """Follows one duty through a replay. Mutable while the replay runs; `status()` freezes it."""

    __slots__ = ("_calendar", "_ended", "_opened_at", "_state", "duty")

    def __init__(self, duty: Duty, calendar: WorkingCalendar, opened_at: datetime) -> None:
        self.duty = duty
        self._opened_at = opened_at
        self._calendar = clock_for(duty, calendar)
        self._state = DutyStatus(duty)
        self._ended = False  # discharged, lapsed, or can no longer arise

    def status(self) -> DutyStatus:
        return self._state

    def _reached(self, stage_reached: int, status: str) -> bool:
        if self.duty.on_resolution:
            return status == RESOLVED
        return stage_reached >= self.duty.at  # type: ignore[operator]

    def step(
        self,
        event: Event | None,
        moment: datetime,
        facts: Facts,
        stage: int,
        entered_at: datetime,
        status: str,
        same_moment: list[Event] | tuple[Event, ...],
    ) -> None:
        """Apply one step of the replay: the opening (event None) or an event just replayed.

        `stage` is the case's current stage after the event (stages only rise, so reaching a
        stage number means the case is at it or beyond), `same_moment` the events replayed so
        far at this moment, the event included.
        """
        if self._ended:
            return
        state = self._state
        duty = self.duty
        if state.arose_at is None:
            if status == VOIDED:
                self._ended = True
                return
            if status != OPEN and not duty.on_resolution and duty.lapses != "never":
                self._ended = True  # closed before it arose: it never will
                return
            if not self._reached(stage, status) or not facts.hold(duty.when):
                return
            state = self._arise(moment, stage, entered_at)
            # Events at the very moment it arose count as "at or after" it, even those
            # replayed just before the event that made it arise.
            for earlier in same_moment:
                state = self._observe(state, earlier)
                if state.done is not None:
                    break
        elif event is not None and status != VOIDED:
            # Voiding lapses every duty, even one whose done_by names the voiding.
            state = self._observe(state, event)
        if state.done is None:
            state = self._check_lapse(state, facts, stage, status, moment)
        self._state = state
        if state.done is not None or state.lapsed_at is not None:
            self._ended = True

    def _arise(self, moment: datetime, stage: int, entered_at: datetime) -> DutyStatus:
        due = None
        ts = self.duty.due
        if ts is not None and ts.anchor != "event":
            anchor = {"opening": self._opened_at, "entry": entered_at}.get(ts.anchor, moment)
            due = timescale_due(ts, anchor, self._calendar)
        return replace(self._state, arose_at=moment, stage=stage, due=due)

    def _observe(self, state: DutyStatus, event: Event) -> DutyStatus:
        ts = self.duty.due
        if (
            ts is not None
            and ts.anchor == "event"
            and state.due is None
            and event.kind in ts.events
        ):
            state = replace(state, due=timescale_due(ts, event.at, self._calendar))
        if self.duty.discharged_by(event):
            state = replace(state, done=event)
        return state

    def _check_lapse(
        self, state: DutyStatus, facts: Facts, stage: int, status: str, moment: datetime
    ) -> DutyStatus:
        if state.arose_at is None:
            return state
        why = ""
        if status == VOIDED:
            why = "voided"
        elif not facts.hold(self.duty.when):
            why = "condition"
        elif self.duty.lapses == "leaving-stage" and (
            status != OPEN or (state.stage is not None and stage > state.stage)
        ):
            why = "leaving-stage"
        elif self.duty.lapses == "resolution" and status != OPEN:
            why = "resolution"
        return replace(state, lapsed_at=moment, lapsed_why=why) if why else state
