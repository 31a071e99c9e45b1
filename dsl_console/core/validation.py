"""The rules a case and its history must keep, shared by import, the console's forms and the store."""

from __future__ import annotations

from datetime import date, datetime

from dsl_console.core.procedures import Procedure
from dsl_console.core.records import RECORD_KINDS, Case, Event, EventKind, LevelOfNeed
from dsl_console.errors import InputError

MAX_NAME = 200  # names, refs and other short text
MAX_TEXT = 20_000  # summaries and notes

SHORT_FIELDS = ("by", "whom", "method")
LONG_FIELDS = ("note", "lessons")
KINDS = frozenset(k.value for k in EventKind)
LEVELS = frozenset(level.value for level in LevelOfNeed)
# After resolution the case is closed: only records and follow-ups may still be added.
AFTER_RESOLUTION = RECORD_KINDS | {
    EventKind.NOTIFIED,
    EventKind.ACTION,
    EventKind.ACTION_DONE,
    EventKind.TIMESCALE_MISSED,
}


def check_text(value: str, limit: int, field: str, *, required: bool = False) -> str:
    """Bounded text; required text must not be blank."""
    if not isinstance(value, str):
        raise InputError(f"{field}: must be text")
    if required and not value.strip():
        raise InputError(f"{field}: is required")
    if len(value) > limit:
        raise InputError(f"{field}: is longer than {limit:,} characters")
    if "\x00" in value:
        raise InputError(f"{field}: contains a NUL character")
    return value


def check_dob(dob: date, today: date, field: str = "child.dob") -> date:
    """A date of birth must be in the past."""
    if dob >= today:
        raise InputError(f"{field}: {dob.isoformat()} is not in the past")
    if dob.year < 1900:
        raise InputError(f"{field}: {dob.isoformat()} is too far in the past")
    return dob


# Moments a case can hold. Far outside these is a typing slip (0999 for 1999), and the store
# keeps moments as fixed-width text that a year before 1000 would not fit: such a case could
# be written but never read back.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def check_moment(moment: datetime | None, field: str) -> None:
    """A moment (or none) within the years a case can hold."""
    if moment is not None and not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise InputError(f"{field}: the year must be between {FIRST_YEAR} and {LAST_YEAR}")


def check_case_facts(case: Case, procedure: Procedure, today: date) -> None:
    """The facts of a case, apart from its events."""
    check_text(case.ref, MAX_NAME, "ref", required=True)
    check_moment(case.opened_at, "opened_at")
    check_text(case.child.name, MAX_NAME, "child.name", required=True)
    check_dob(case.child.dob, today)
    if case.level_of_need not in LEVELS:
        raise InputError(f"level_of_need: must be one of {', '.join(sorted(LEVELS))}")
    for field in ("other_agency", "reason"):
        check_text(getattr(case, field), MAX_NAME, field)
    check_text(case.child.address, MAX_TEXT, "child.address")
    check_text(case.child.parents, MAX_TEXT, "child.parents")
    check_text(case.summary, MAX_TEXT, "summary")
    people = list(case.professionals) + ([case.raised_by] if case.raised_by else [])
    for person in people:
        for field in ("name", "role", "agency", "email"):
            check_text(getattr(person, field), MAX_NAME, f"professionals.{field}")
    # Opening dates in the future are allowed: schools import planned or test timelines, and
    # `check --as-of` evaluates them at the moment asked.
    del procedure  # the procedure matters for events only; kept in the signature for symmetry


def check_event(
    event: Event,
    *,
    procedure: Procedure,
    opened_at: datetime,
    previous_at: datetime,
    stage: int,
    resolved: bool,
    actions: int,
    where: str = "event",
) -> None:
    """One event against the state of the case just before it."""
    if event.kind not in KINDS:
        raise InputError(f"{where}.kind: {event.kind!r} is not a known kind of event")
    for name in ("at", "due", "recorded_at"):
        check_moment(getattr(event, name), f"{where}.{name}")
    if event.at < opened_at:
        raise InputError(f"{where}.at: is before the case was opened")
    if event.at < previous_at:
        raise InputError(
            f"{where}.at: is earlier than the event before it (events go in time order)"
        )
    for field in SHORT_FIELDS:
        check_text(getattr(event, field), MAX_NAME, f"{where}.{field}")
    for field in LONG_FIELDS:
        check_text(getattr(event, field), MAX_TEXT, f"{where}.{field}")
    if resolved and event.kind not in AFTER_RESOLUTION:
        raise InputError(f"{where}: the case is already resolved; {event.kind} cannot follow")
    kind = event.kind
    if kind == EventKind.ESCALATED:
        if event.stage is None:
            raise InputError(f"{where}.stage: an escalated event needs a stage")
        if not procedure.has_stage(event.stage):
            raise InputError(
                f"{where}.stage: {procedure.id} has stages 1 to {procedure.last_stage}, "
                f"not {event.stage}"
            )
        if event.stage < stage:
            raise InputError(
                f"{where}.stage: escalation cannot go down, from stage {stage} to {event.stage}"
            )
    elif kind == EventKind.TIMESCALE_MISSED:
        if event.stage is not None and not procedure.has_stage(event.stage):
            raise InputError(f"{where}.stage: {procedure.id} has no stage {event.stage}")
        check_text(event.note, MAX_TEXT, f"{where}.note", required=True)
    elif kind == EventKind.NOTIFIED:
        check_text(event.whom, MAX_NAME, f"{where}.whom", required=True)
    elif kind == EventKind.DEADLINE_SET:
        if event.due is None:
            raise InputError(f"{where}.due: a deadline-set event needs a due")
        check_text(event.note, MAX_TEXT, f"{where}.note", required=True)
        if event.due < event.at:
            raise InputError(f"{where}.due: is before the event itself")
    elif kind == EventKind.ACTION:
        check_text(event.note, MAX_TEXT, f"{where}.note", required=True)
    elif kind == EventKind.ACTION_DONE and (
        event.action is None or not 1 <= event.action <= actions
    ):
        raise InputError(f"{where}.action: there is no agreed action {event.action}")


def check_history(case: Case, procedure: Procedure, today: date, where: str = "") -> None:
    """A whole case: its facts and every event in order."""
    prefix = f"{where}: " if where else ""
    try:
        check_case_facts(case, procedure, today)
        stage, resolved, actions, previous = 1, False, 0, case.opened_at
        for index, event in enumerate(case.events):
            check_event(
                event,
                procedure=procedure,
                opened_at=case.opened_at,
                previous_at=previous,
                stage=stage,
                resolved=resolved,
                actions=actions,
                where=f"events[{index}]",
            )
            previous = event.at
            if event.kind == EventKind.ESCALATED and event.stage is not None:
                stage = event.stage
            elif event.kind == EventKind.RESOLVED:
                resolved = True
            elif event.kind == EventKind.ACTION:
                actions += 1
    except InputError as exc:
        raise InputError(f"{prefix}{exc}") from None


def next_event_context(case: Case) -> dict[str, object]:
    """The state a new event is checked against: stage, resolution, actions, last time."""
    stage, resolved, actions = 1, False, 0
    for event in case.events:
        if event.kind == EventKind.ESCALATED and event.stage is not None:
            stage = event.stage
        elif event.kind == EventKind.RESOLVED:
            resolved = True
        elif event.kind == EventKind.ACTION:
            actions += 1
    previous = case.events[-1].at if case.events else case.opened_at
    return {
        "opened_at": case.opened_at,
        "previous_at": previous,
        "stage": stage,
        "resolved": resolved,
        "actions": actions,
    }
