"""A case's history as the exports tell it: state, stage of each event, actions, outcome."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.deadlines import CaseState, case_state
from dsl_console.core.forms import form_name
from dsl_console.core.procedures import Procedure, ProcedureRegistry
from dsl_console.core.records import (
    EVENT_LABELS,
    IRO,
    OTHER_AGENCY,
    PARTNERSHIP,
    TEAM_MANAGER,
    Case,
    Event,
    EventKind,
    Professional,
    actions_of,
    amendment_history,
    as_amended,
    professional_from,
)
from dsl_console.core.wording import fact_label, fact_value
from dsl_console.errors import InputError
from dsl_console.services.exports.wording import stage_label, uk_day

# The kinds the Summary Log lists under "Actions Undertaken Towards Resolution". Notes stay
# in the school (they are working notes); missed timescales and deadlines have their own column.
_ACTION_KINDS = frozenset(
    {
        EventKind.ESCALATED,
        EventKind.RISK_RAISED,
        EventKind.RISK_ESCALATED,
        EventKind.DISCUSSION,
        EventKind.MEETING,
        EventKind.NOTIFIED,
        EventKind.OUTCOME,
        EventKind.ACTION,
    }
)


# The kinds that change a case's facts or professionals from their moment on.
_CHANGE_KINDS = frozenset({EventKind.AMENDED, EventKind.PROFESSIONAL})


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

    @cached_property
    def facts(self) -> Case:
        """The case's facts and professionals as they stood at as_of, amendments applied: what
        the exports show (the opening facts stay in the history)."""
        # Most cases are never amended: a look at the kinds is cheaper than as_amended's sort,
        # on every row of a large log.
        if not any(e.kind in _CHANGE_KINDS for e in self.events):
            return self.case
        return as_amended(self.case, self.as_of)

    @cached_property
    def escalating(self) -> Professional | None:
        """The professional who raised the escalation, as they stand (a correction of their
        entry among the professionals applies to them too)."""
        raised = self.case.raised_by
        if raised is None:
            return None
        index = self._raised_index()
        return raised if index is None else self.facts.professionals[index]

    def others(self) -> list[Professional]:
        """The professionals involved other than the one escalating, as they stand."""
        index = self._raised_index()
        return [p for n, p in enumerate(self.facts.professionals) if n != index]

    def _raised_index(self) -> int | None:
        raised = self.case.raised_by
        if raised is None or raised not in self.case.professionals:
            return None
        return self.case.professionals.index(raised)

    @cached_property
    def opening_risk(self) -> Event | None:
        """An immediate risk ticked at the opening, as the risk-raised event it counts as."""
        if not self.case.immediate_risk:
            return None
        raised = self.case.raised_by
        return Event(self.case.opened_at, EventKind.RISK_RAISED, by=raised.name if raised else "")

    def risk_events(self) -> list[Event]:
        """Every immediate risk raised (the one ticked at the opening first) and escalated."""
        found = self.of_kind(EventKind.RISK_RAISED, EventKind.RISK_ESCALATED)
        return [self.opening_risk, *found] if self.opening_risk else found

    def amendment_lines(self) -> list[tuple[Event, str]]:
        """Each amendment of a fact and each change of a professional up to as_of, dated and
        worded ("was X, now Y"), oldest first."""
        case = replace(self.case, events=self.events)
        lines: list[tuple[Event, str]] = []
        for field_name, changes in amendment_history(case).items():
            for event, was in changes:
                lines.append((event, amendment_line(event, field_name, was)))
        people = list(self.case.professionals)
        for event in self.of_kind(EventKind.PROFESSIONAL):
            number = int(event.field) if event.field.isdigit() else 0
            before = people[number - 1] if 1 <= number <= len(people) else None
            now = professional_from(event.value)
            lines.append((event, professional_line(event, before, now)))
            if before is None:
                people.append(now)
            else:
                people[number - 1] = now
        return sorted(lines, key=lambda item: item[0].at)

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
        if self.opening_risk is not None:
            steps.append((self.opening_risk, self._step_line(self.opening_risk)))
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
            head = f"Notified {notified_words(event)}"
        elif event is self.opening_risk:
            head = "Immediate risk raised at the opening"
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


_WHOM = {
    IRO: "the Independent Reviewing Officer",
    PARTNERSHIP: "the partnership",
    OTHER_AGENCY: "the other agency",
    TEAM_MANAGER: "the Team Manager",
}


def whom_label(whom: str) -> str:
    """Who a notified event told, in words."""
    return _WHOM.get(whom.strip().lower(), whom or "someone not named")


def notified_words(event: Event) -> str:
    """Who a notified event told and, when it records one, the form sent."""
    sent = f" (sent the {form_name(event.form)})" if event.form else ""
    return whom_label(event.whom) + sent


def amendment_line(event: Event, field_name: str, was: object) -> str:
    """ "Child's address amended on 03/12/2026 by …: was X, now Y — why"."""
    label = fact_label(field_name)
    by = f" by {event.by}" if event.by else ""
    why = f" \u2014 {event.note}" if event.note else ""
    return (
        f"{label[:1].upper()}{label[1:]} amended on {uk_day(event.at)}{by}: "
        f"was {fact_value(field_name, was)}, now {fact_value(field_name, event.value)}{why}"
    )


def professional_line(event: Event, before: Professional | None, now: Professional) -> str:
    """A professional added, corrected or marked no longer involved, dated, as a sentence."""
    by = f" by {event.by}" if event.by else ""
    why = f" \u2014 {event.note}" if event.note else ""
    if before is None:
        return f"Professional added on {uk_day(event.at)}{by}: {person_words(now)}{why}"
    if before.involved and not now.involved and replace(before, involved=False) == now:
        change = f"{person_words(before)} marked no longer involved"
        return f"Professional {change} on {uk_day(event.at)}{by}{why}"
    return (
        f"Professional corrected on {uk_day(event.at)}{by}: was {person_words(before)}, "
        f"now {person_words(now)}{why}"
    )


def person_words(professional: Professional) -> str:
    """ "Name, role, agency, email", leaving out what is not recorded, marked when no longer
    involved."""
    parts = (professional.name, professional.role, professional.agency, professional.email)
    text = ", ".join(p for p in parts if p) or "not named"
    return text if professional.involved else f"{text} (no longer involved)"


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
