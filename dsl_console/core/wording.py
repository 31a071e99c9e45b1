"""How deadlines and flags are put into words, the same in the console and on the command line."""

from __future__ import annotations

import textwrap
from datetime import date, datetime

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import local_date, to_local
from dsl_console.core.flags import FLAGS
from dsl_console.core.records import AGENCY_LABELS, LEVEL_LABELS, REASONS

# Read from the flags' one definition (core.flags), keyed by flag id.
FLAG_SYMBOLS = {f.id: f.symbol for f in FLAGS}
FLAG_WORDS = {f.id: f.words for f in FLAGS}


def shortened(text: str, width: int) -> str:
    """Text cut at a word boundary to fit `width`, with … where it was cut: words cut
    mid-word read as other words."""
    return textwrap.shorten(" ".join(text.split()), width, placeholder=" …")


def stamp(moment: datetime | None) -> str:
    """A moment as London wall time, dd/mm/yyyy HH:MM (blank for none)."""
    return "" if moment is None else f"{to_local(moment):%d/%m/%Y %H:%M}"


def plural(n: int, word: str) -> str:
    """'1 working day', '3 working days'."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def some_refs(refs: list[str] | tuple[str, ...], most: int = 5) -> str:
    """The first few refs of a list, and how many more there are: one line stays readable
    with hundreds of cases in it, and still says how many."""
    more = len(refs) - most
    return ", ".join(refs[:most]) + (f" and {more} more" if more > 0 else "")


def countdown(due: datetime | None, days_left: int | None, as_of: datetime) -> str:
    """The stage's deadline in words: 'due today 17:00', '2 working days', 'overdue 3 ...'."""
    if due is None:
        return "no deadline set"
    local_due = to_local(due)
    if as_of > due:
        late = -(days_left or 0)
        if late <= 0:
            return f"overdue since {local_due:%H:%M}"
        return f"overdue {plural(late, 'working day')}"
    if local_date(due) == local_date(as_of):
        return f"due today {local_due:%H:%M}"
    if days_left is not None and days_left > 0:
        return plural(days_left, "working day")
    return f"due {local_due:%a %d/%m %H:%M}"


def duty_countdown(due: datetime | None, days_left: int | None, as_of: datetime) -> str:
    """A duty's due in words; a duty with no clock is simply owed."""
    if due is None:
        return "owed, no deadline"
    local_due = to_local(due)
    if as_of > due:
        late = -(days_left or 0)
        return (
            f"overdue {plural(late, 'working day')}"
            if late > 0
            else f"overdue since {local_due:%H:%M}"
        )
    if local_date(due) == local_date(as_of):
        return f"due today {local_due:%H:%M}"
    return f"due {local_due:%a %d/%m/%Y %H:%M}"


def risk_instruction(risk_due: datetime, as_of: datetime, calendar: WorkingCalendar) -> str:
    """What to do now about an outstanding immediate risk.

    Before its same-day deadline: escalate today. After it, within working hours: escalate now.
    Out of hours (evening, weekend, bank holiday): the emergency duty team or the police.
    """
    if risk_due > as_of:
        return f"escalate today, before {to_local(risk_due):%H:%M}, using safeguarding procedures"
    if calendar.same_working_day(as_of)[1] is False:
        return "escalate now: the same-day deadline has passed"
    return "escalate now: out of hours, call the emergency duty team or the police"


# The amendable case facts (records.AMENDABLE_FIELDS) as the console, the forms and the
# case record name them.
FACT_LABELS = {
    "child.name": "child's name",
    "child.dob": "date of birth",
    "child.address": "child's address",
    "child.parents": "parents / carers",
    "other_agency": "other agency",
    "other_agency_kind": "other agency's kind",
    "level_of_need": "level of need",
    "cp_plan": "child protection plan",
    "looked_after": "looked after",
    "reason": "reason for disagreement",
    "summary": "summary",
    "concern": "concern",
}


def fact_label(field: str) -> str:
    """An amendable fact's name in words."""
    return FACT_LABELS.get(field, field.replace("_", " "))


def fact_value(field: str, value: object) -> str:
    """A fact's value in words: yes / no, a level or reason by its label, a date as DD/MM/YYYY."""
    if value is None or value == "":
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if field == "child.dob":
        try:
            return f"{date.fromisoformat(text):%d/%m/%Y}"
        except ValueError:
            return text
    labels = {"level_of_need": LEVEL_LABELS, "reason": REASONS, "other_agency_kind": AGENCY_LABELS}
    return labels.get(field, {}).get(text, text)
