"""The rules a case and its history must keep, shared by import, the console's forms and the store.

One set of rules: the console checks a new event by checking the whole history with the event
in its place, exactly as an import checks a document, so what one refuses the other refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import local_date, to_local
from dsl_console.core.deadlines import in_time_order, stage_due
from dsl_console.core.procedures import Procedure
from dsl_console.core.records import (
    AGENCY_KINDS,
    AMENDABLE_FIELDS,
    EVENT_LABELS,
    PARTNERSHIP_LEARNING,
    REASONS,
    RESOLUTION_QUESTIONS,
    Case,
    Event,
    EventKind,
    LevelOfNeed,
    Professional,
    professional_from,
)
from dsl_console.core.terminal_text import BIDI_CONTROLS, CONTROL
from dsl_console.core.wording import stamp
from dsl_console.errors import InputError

MAX_NAME = 200  # names, refs and other short text
MAX_TEXT = 20_000  # summaries and notes

SHORT_FIELDS = ("by", "whom", "method", "form")
LONG_FIELDS = ("note", "lessons")
KINDS = frozenset(k.value for k in EventKind)
LEVELS = frozenset(level.value for level in LevelOfNeed)
# After resolution or voiding only what is sent or learnt after the end may follow (contract
# section 6), plus this console's own follow-ups: agreed actions, their completion, and why a
# stage missed its timescale, which a DSL often writes up once the case is closed.
AFTER_CLOSING = frozenset(
    {
        EventKind.NOTIFIED,
        EventKind.RESPONSE,
        EventKind.NOTE,
        EventKind.AMENDED,
        EventKind.PROFESSIONAL,
        EventKind.ACTION,
        EventKind.ACTION_DONE,
        EventKind.TIMESCALE_MISSED,
    }
)
_FORM_ID = re.compile(r"^[a-z0-9-]+$")
# C0 controls but tab, line feed and carriage return; DEL; C1 controls; bidi overrides and
# isolates. A single-line field refuses tab and line breaks too (contract section 6).
_CONTROL_MULTI = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{BIDI_CONTROLS}]")
_CONTROL_SINGLE = CONTROL  # every control character, as what reaches a terminal is judged


def check_text(value: str, limit: int, field: str, *, required: bool = False) -> str:
    """Bounded text with no control characters; required text must not be blank.

    Text bounded like a name (MAX_NAME) is single-line; longer text may hold line breaks.
    """
    if not isinstance(value, str):
        raise InputError("must be text", field=field)
    if required and not value.strip():
        raise InputError("is required", field=field)
    if len(value) > limit:
        raise InputError(f"is longer than {limit:,} characters", field=field)
    pattern = _CONTROL_SINGLE if limit <= MAX_NAME else _CONTROL_MULTI
    found = pattern.search(value)
    if found:
        raise InputError(f"contains a control character (U+{ord(found.group()):04X})", field=field)
    return value


def check_dob(dob: date, today: date, field: str = "child.dob") -> date:
    """A date of birth must be in the past."""
    if dob >= today:
        raise InputError(f"{dob.isoformat()} is not in the past", field=field)
    if dob.year < 1900:
        raise InputError(f"{dob.isoformat()} is too far in the past", field=field)
    return dob


# Moments a case can hold. Far outside these is a typing slip (0999 for 1999), and the store
# keeps moments as fixed-width text that a year before 1000 would not fit: such a case could
# be written but never read back.
FIRST_YEAR, LAST_YEAR = 1900, 2999
# How far ahead a due (a deadline set by hand, an action's date) may be.
MAX_DUE_AHEAD = timedelta(days=3653)


def check_moment(moment: datetime | None, field: str) -> None:
    """A moment (or none) within the years a case can hold."""
    if moment is not None and not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise InputError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}", field=field)


def check_fact(field: str, value: object, today: date, name: str = "") -> object:
    """A case fact's value, as it is checked at opening (also for an `amended` event, whose
    errors name it `name`, e.g. events[2].value)."""
    name = name or field
    if field in ("cp_plan", "looked_after"):
        if not isinstance(value, bool):
            raise InputError("must be true or false", field=name)
        return value
    if not isinstance(value, str):
        raise InputError("must be text", field=name)
    if field == "child.dob":
        from dsl_console.core.clock import parse_date

        if value != value.strip():  # stored as given: it must read as the date it is
            raise InputError("a date of birth in the form YYYY-MM-DD, without spaces", field=name)
        return check_dob(parse_date(value, name), today, name).isoformat()
    if field == "level_of_need":
        if value not in LEVELS:
            raise InputError(f"must be one of {', '.join(sorted(LEVELS))}", field=name)
    elif field == "other_agency_kind":
        if value not in AGENCY_KINDS:
            raise InputError(f"must be one of {', '.join(AGENCY_KINDS)}", field=name)
    elif field == "reason":
        if value and value not in REASONS:
            raise InputError(f"{value!r} is not a known reason ({', '.join(REASONS)})", field=name)
    elif field == "child.name":
        check_text(value, MAX_NAME, name, required=True)
    elif field == "other_agency":
        check_text(value, MAX_NAME, name)
    else:  # address, parents, summary
        check_text(value, MAX_TEXT, name)
    return value


def check_case_facts(case: Case, procedure: Procedure, now: datetime) -> None:
    """The facts of a case, apart from its events; `now` is the aware UTC moment of checking."""
    del procedure  # the procedure matters for events only; kept in the signature for symmetry
    check_text(case.ref, MAX_NAME, "ref", required=True)
    check_moment(case.opened_at, "opened_at")
    # A case records what has happened (contract section 6), so it cannot open later than now;
    # `check --as-of` still looks at any moment, future or past, over the cases as they are.
    if case.opened_at > now:
        raise InputError("is in the future; record what has happened", field="opened_at")
    today = local_date(now)
    check_fact("child.name", case.child.name, today)
    check_dob(case.child.dob, today)
    if case.child.dob > to_local(case.opened_at).date():
        raise InputError("is before the child's date of birth", field="opened_at")
    for field, value in (
        ("level_of_need", case.level_of_need),
        ("other_agency", case.other_agency),
        ("other_agency_kind", case.other_agency_kind),
        ("reason", case.reason),
        ("child.address", case.child.address),
        ("child.parents", case.child.parents),
        ("summary", case.summary),
        ("concern", case.concern),
    ):
        check_fact(field, value, today)
    people = list(case.professionals) + ([case.raised_by] if case.raised_by else [])
    for person in people:
        check_person(person, "professionals.")


PERSON_FIELDS = ("name", "role", "agency", "email")


def check_person(person: Professional, where: str) -> None:
    """A professional's name (required), role, agency and email, each bounded, no controls."""
    check_text(person.name, MAX_NAME, f"{where}name", required=True)
    for field in PERSON_FIELDS[1:]:
        check_text(getattr(person, field), MAX_NAME, f"{where}{field}")


@dataclass(frozen=True)
class Context:
    """What a new event is checked against: the case as it stood just before it."""

    opened_at: datetime
    previous_at: datetime
    stage: int
    entered_at: datetime
    closed: str = ""  # "", or the kind that closed the case (resolved, voided)
    actions: int = 0
    risk_outstanding: bool = False
    professionals: int = 0
    entered_by: str = ""  # who escalated to the current stage (blank at stage 1)

    def after(self, event: Event) -> Context:
        """The context once an event has happened."""
        kind = event.kind
        changes: dict[str, object] = {"previous_at": event.at}
        if kind == EventKind.ESCALATED and event.stage is not None:
            changes.update(stage=event.stage, entered_at=event.at, entered_by=event.by)
        elif kind in (EventKind.RESOLVED, EventKind.VOIDED) and not self.closed:
            changes["closed"] = str(kind)
        elif kind == EventKind.ACTION:
            changes["actions"] = self.actions + 1
        elif kind == EventKind.RISK_RAISED:
            changes["risk_outstanding"] = True
        elif kind == EventKind.RISK_ESCALATED:
            changes["risk_outstanding"] = False
        elif kind == EventKind.PROFESSIONAL and not event.field:
            changes["professionals"] = self.professionals + 1
        return replace(self, **changes)  # type: ignore[arg-type]


def opening_context(case: Case) -> Context:
    """The context of the first event: the case as opened."""
    return Context(
        opened_at=case.opened_at,
        previous_at=case.opened_at,
        stage=1,
        entered_at=case.opened_at,
        risk_outstanding=case.immediate_risk,
        professionals=len(case.professionals),
    )


def check_event(
    event: Event,
    context: Context,
    procedure: Procedure,
    calendar: WorkingCalendar,
    now: datetime,
    where: str = "event",
) -> None:
    """One event against the state of the case just before it; `now` is aware UTC."""
    if event.kind not in KINDS:
        raise InputError(f"{event.kind!r} is not a known kind of event", field=f"{where}.kind")
    for name in ("at", "due", "recorded_at"):
        check_moment(getattr(event, name), f"{where}.{name}")
    if event.at < context.opened_at:
        raise InputError(
            f"is before the case was opened ({stamp(context.opened_at)} London time)",
            field=f"{where}.at",
        )
    # Events are what has happened (contract section 6): none, nor its recording, after now.
    if event.at > now:
        raise InputError("is in the future; record what has happened", field=f"{where}.at")
    if event.recorded_at is not None and event.recorded_at > now:
        raise InputError("is in the future", field=f"{where}.recorded_at")
    if event.due is not None and event.due > now + MAX_DUE_AHEAD:
        # A deadline or an action's date years ahead is a slip; hundreds of them in the year
        # 2999 once made every sweep count working days one by one for minutes.
        raise InputError("is more than ten years ahead", field=f"{where}.due")
    if event.at < context.previous_at:
        raise InputError(
            "is earlier than the event before it (events go in time order)", field=f"{where}.at"
        )
    if event.recorded_at is not None and event.recorded_at < event.at:
        raise InputError("is before the event happened", field=f"{where}.recorded_at")
    for field in SHORT_FIELDS:
        check_text(getattr(event, field), MAX_NAME, f"{where}.{field}")
    for field in LONG_FIELDS:
        check_text(getattr(event, field), MAX_TEXT, f"{where}.{field}")
    kind = event.kind
    if context.closed and kind not in AFTER_CLOSING:
        raise InputError(
            f"the case is already {context.closed}; "
            f"{EVENT_LABELS.get(kind, kind).lower()} cannot follow",
            field=f"{where}.kind",
        )
    if kind == EventKind.ESCALATED:
        if event.stage is None:
            raise InputError("an escalated event needs a stage", field=f"{where}.stage")
        if not procedure.has_stage(event.stage):
            raise InputError(
                f"{procedure.id} has stages 1 to {procedure.last_stage}, not {event.stage}",
                field=f"{where}.stage",
            )
        # Two DSLs on one case: say who got there first, so the second knows what happened.
        reached = (
            f" (escalated to stage {context.stage}{' by ' + context.entered_by if context.entered_by else ''}"
            f", at {stamp(context.entered_at)})"
            if context.stage > 1
            else ""
        )
        if event.stage < context.stage:
            raise InputError(
                f"escalation cannot go down, from stage {context.stage} to {event.stage}{reached}",
                field=f"{where}.stage",
            )
        if event.stage == context.stage:
            raise InputError(
                f"the case is already at stage {event.stage}{reached}", field=f"{where}.stage"
            )
    elif kind == EventKind.TIMESCALE_MISSED:
        if event.stage is not None and not procedure.has_stage(event.stage):
            raise InputError(f"{procedure.id} has no stage {event.stage}", field=f"{where}.stage")
        check_text(event.note, MAX_TEXT, f"{where}.note", required=True)
    elif kind == EventKind.NOTIFIED:
        check_text(event.whom, MAX_NAME, f"{where}.whom", required=True)
        if event.form and not _FORM_ID.match(event.form):
            raise InputError("must be a form id such as liverpool", field=f"{where}.form")
    elif kind == EventKind.DEADLINE_SET:
        _check_deadline(event, context, procedure, calendar, where)
    elif kind == EventKind.ACTION:
        check_text(event.note, MAX_TEXT, f"{where}.note", required=True)
    elif kind == EventKind.ACTION_DONE and (
        event.action is None or not 1 <= event.action <= context.actions
    ):
        raise InputError(f"there is no agreed action {event.action}", field=f"{where}.action")
    elif kind == EventKind.AMENDED:
        if event.field not in AMENDABLE_FIELDS:
            raise InputError(
                f"must be one of {', '.join(AMENDABLE_FIELDS)}", field=f"{where}.field"
            )
        try:
            check_fact(event.field, event.value, local_date(now), f"{where}.value")
        except InputError as exc:
            raise InputError(f"{exc.reason} (for {event.field})", field=exc.field) from None
        if (
            event.field == "child.dob"
            and str(event.value) > to_local(context.opened_at).date().isoformat()
        ):
            raise InputError(
                "the child's date of birth is after the opening", field=f"{where}.value"
            )
        check_text(event.note, MAX_TEXT, f"{where}.note", required=True)
    elif kind == EventKind.PROFESSIONAL:
        _check_professional(event, context, where)
    elif kind in (EventKind.RESOLVED, EventKind.VOIDED):
        if context.risk_outstanding and not context.closed:
            raise InputError(
                f"an immediate risk is outstanding: escalate the immediate risk "
                f"first (record it as escalated), then {'resolve' if kind == EventKind.RESOLVED else 'void'} the case",
                field=f"{where}.kind",
            )
        if kind == EventKind.VOIDED:
            check_text(event.note, MAX_TEXT, f"{where}.note", required=True)
        elif event.value is not None:
            _check_resolution_extras(event.value, f"{where}.value")


def _check_professional(event: Event, context: Context, where: str) -> None:
    if event.field and not (
        event.field.isdigit() and 1 <= int(event.field) <= context.professionals
    ):
        raise InputError(
            f"there is no professional {event.field} (the case has "
            f"{context.professionals}); leave it blank to add one",
            field=f"{where}.field",
        )
    value = event.value
    if not isinstance(value, dict):
        raise InputError("must be an object with name, role, agency, email", field=f"{where}.value")
    for key in value:
        if key not in (*PERSON_FIELDS, "involved", "lead"):
            raise InputError(f"{key!r} is not a professional's field", field=f"{where}.value")
    for key in PERSON_FIELDS:
        if not isinstance(value.get(key, ""), str):
            raise InputError("must be text", field=f"{where}.value.{key}")
    for flag in ("involved", "lead"):
        if not isinstance(value.get(flag, flag == "involved"), bool):
            raise InputError("must be true or false", field=f"{where}.value.{flag}")
    check_person(professional_from(value), f"{where}.value.")


def _check_resolution_extras(value: object, where: str) -> None:
    if not isinstance(value, dict):
        raise InputError("must be an object with learning and the yes / no answers", field=where)
    for key, answer in value.items():
        if key == PARTNERSHIP_LEARNING:
            check_text(answer, MAX_TEXT, f"{where}.{key}")
        elif key in RESOLUTION_QUESTIONS:
            if answer is not None and not isinstance(answer, bool):
                raise InputError("must be true, false or null", field=f"{where}.{key}")
        else:
            raise InputError(f"{key!r} is not something a resolution records", field=where)


def _check_deadline(
    event: Event, context: Context, procedure: Procedure, calendar: WorkingCalendar, where: str
) -> None:
    if event.due is None:
        raise InputError("a deadline-set event needs a due", field=f"{where}.due")
    check_text(event.note, MAX_TEXT, f"{where}.note", required=True)
    if event.due <= event.at:
        raise InputError("must be later than the event itself", field=f"{where}.due")
    if procedure.shorten_only:
        own = stage_due(
            procedure.stage(context.stage), context.opened_at, context.entered_at, calendar
        )
        if own is not None and event.due > own:
            raise InputError(
                f"later than the stage's own due ({to_local(own):%d/%m/%Y %H:%M}); "
                f"under {procedure.name} a deadline set by hand may only shorten the timescale",
                field=f"{where}.due",
            )


def check_history(
    case: Case,
    procedure: Procedure,
    now: datetime,
    calendar: WorkingCalendar,
    where: str = "",
) -> None:
    """A whole case: its facts and every event in order, as they stand at `now` (aware UTC).
    An error names the case's field; with `where` (an import's "cases[3]"), the case first."""
    try:
        check_case_facts(case, procedure, now)
        context = opening_context(case)
        for index, event in enumerate(case.events):
            check_event(event, context, procedure, calendar, now, f"events[{index}]")
            context = context.after(event)
    except InputError as exc:
        if not where:
            raise
        raise InputError(str(exc), field=where) from None


def check_addition(
    case: Case, event: Event, procedure: Procedure, now: datetime, calendar: WorkingCalendar
) -> None:
    """A new event for a stored case, checked in its place in time (it may be a late entry).

    Errors about the new event name its field (`event.note: ...`); one that the new event
    causes in a later event names that event, so a late escalation that would break the
    stage order says which entry it conflicts with. The stored history is not judged again:
    a case recorded under an earlier release's rules still takes new entries.
    """
    history = in_time_order(case.events)
    place = sum(1 for e in history if e.at <= event.at)
    context = opening_context(case)
    for earlier in history[:place]:
        context = context.after(earlier)
    check_event(event, context, procedure, calendar, now, "event")
    with_new, without = context.after(event), context
    for later in history[place:]:
        try:
            check_event(later, with_new, procedure, calendar, now, "later")
        except InputError as exc:
            if _passes(later, without, procedure, calendar, now):
                label = EVENT_LABELS.get(later.kind, later.kind).lower()
                reason = exc.reason
                raise InputError(
                    f"conflicts with the later entry '{label}' of "
                    f"{to_local(later.at):%d/%m/%Y %H:%M} ({reason})",
                    field="event.at",
                ) from None
            # It broke a rule before this event came along: not this event's doing.
        with_new, without = with_new.after(later), without.after(later)


def _passes(
    event: Event, context: Context, procedure: Procedure, calendar: WorkingCalendar, now: datetime
) -> bool:
    try:
        check_event(event, context, procedure, calendar, now, "later")
    except InputError:
        return False
    return True
