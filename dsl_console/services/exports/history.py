"""A case's history as the exports tell it: state, stage of each event, actions, outcome."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.deadlines import CaseState, case_state
from dsl_console.core.procedures import Procedure, ProcedureRegistry
from dsl_console.core.records import (
    EVENT_LABELS,
    IRO,
    PARTNERSHIP,
    Case,
    Event,
    EventKind,
    actions_of,
)
from dsl_console.errors import InputError
from dsl_console.services.exports.wording import stage_label, uk_day

# The kinds the Summary Log lists under "Actions Undertaken Towards Resolution". Notes stay
# in the school (they are working notes); missed timescales and deadlines have their own column.
_ACTION_KINDS = frozenset(
    {
        EventKind.ESCALATED,
        EventKind.RISK_ESCALATED,
        EventKind.DISCUSSION,
        EventKind.MEETING,
        EventKind.NOTIFIED,
        EventKind.OUTCOME,
        EventKind.ACTION,
    }
)


@dataclass(frozen=True)
class CaseHistory:
    """A case as it stood at `as_of`: its events up to then and its replayed state."""

    case: Case
    procedure: Procedure
    state: CaseState
    events: tuple[Event, ...]
    as_of: datetime

    @property
    def resolution(self) -> Event | None:
        """The resolved event that closed the case, if any."""
        return next((e for e in self.events if e.kind == EventKind.RESOLVED), None)

    @property
    def resolved_stage(self) -> int | None:
        """The stage the case was resolved at, or None while it is open."""
        return self.state.stage if self.state.resolved_at is not None else None

    def stage_at(self, moment: datetime) -> int:
        """The stage the case was at at a moment (an escalation belongs to the stage it enters)."""
        stage = 1
        for visit in self.state.visits:
            if visit.entered_at <= moment:
                stage = visit.stage
        return stage

    def of_kind(self, *kinds: str) -> list[Event]:
        """The events of some kinds, in time order."""
        return [e for e in self.events if e.kind in kinds]

    def actions(self) -> list[tuple[int, Event, Event | None]]:
        """The agreed actions up to as_of, numbered, each with its completion if any."""
        # Most histories hold every event; copying the case is only needed when some are cut.
        case = (
            self.case if self.events is self.case.events else replace(self.case, events=self.events)
        )
        return actions_of(case)

    def action_lines(self) -> list[str]:
        """Dated lines for the steps taken towards resolution, oldest first."""
        return [line for _, line in self.steps()]

    def steps(self) -> list[tuple[Event, str]]:
        """The steps taken towards resolution, each with its dated line, oldest first."""
        has_actions = any(e.kind == EventKind.ACTION for e in self.events)
        done = {n: finished for n, _, finished in self.actions()} if has_actions else {}
        steps: list[tuple[Event, str]] = []
        number = 0
        for event in self.events:
            if event.kind not in _ACTION_KINDS:
                continue
            if event.kind == EventKind.ACTION:
                number += 1
                steps.append((event, _action_line(event, done.get(number))))
            else:
                steps.append((event, self._step_line(event)))
        return steps

    def _step_line(self, event: Event) -> str:
        if event.kind == EventKind.ESCALATED and event.stage is not None:
            head = f"Escalated to {stage_label(self.procedure, event.stage)}"
        elif event.kind == EventKind.NOTIFIED:
            head = f"Notified {whom_label(event.whom)}"
        else:
            head = EVENT_LABELS.get(event.kind, event.kind)
        by = f" by {event.by}" if event.by else ""
        note = f": {event.note}" if event.note else ""
        return f"{uk_day(event.at)} {head}{by}{note}"


def _action_line(event: Event, finished: Event | None) -> str:
    details = [f"owner {event.whom}" if event.whom else "no owner recorded"]
    if event.due:
        details.append(f"due {uk_day(event.due)}")
    details.append(f"completed {uk_day(finished.at)}" if finished else "not yet completed")
    what = event.note or "not described"
    return f"{uk_day(event.at)} Action agreed: {what} ({', '.join(details)})"


def whom_label(whom: str) -> str:
    """Who a notified event told, in words."""
    key = whom.strip().lower()
    if key == IRO:
        return "the Independent Reviewing Officer"
    if key == PARTNERSHIP:
        return "the partnership"
    return whom or "someone not named"


def history_of(
    case: Case, procedure: Procedure, calendar: WorkingCalendar, as_of: datetime
) -> CaseHistory:
    """A case as it stood at as_of (later events are left out, as `check --as-of` does)."""
    events = case.events
    if events and events[-1].at > as_of:
        events = tuple(e for e in events if e.at <= as_of)
    state = case_state(case, procedure, calendar, as_of)
    return CaseHistory(case, procedure, state, events, as_of)


class ProcedureLookup:
    """The procedure of each case, looked up once per (id, version) however many cases share it."""

    def __init__(self, registry: ProcedureRegistry) -> None:
        self._registry = registry
        self._known: dict[tuple[str, str], Procedure] = {}

    def __call__(self, case: Case) -> Procedure:
        """The procedure (at the case's version, else the newest) a case follows."""
        key = (case.procedure, case.procedure_version)
        found = self._known.get(key)
        if found is None:
            try:
                found = self._registry.get(case.procedure, case.procedure_version or None)
            except KeyError as exc:
                version = f" version {case.procedure_version}" if case.procedure_version else ""
                raise InputError(
                    f"case {case.ref}: procedure {case.procedure!r}{version} is not known"
                ) from exc
            self._known[key] = found
        return found
