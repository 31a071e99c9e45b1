"""How deadlines and flags are put into words, the same in the console and on the command line."""

from __future__ import annotations

from datetime import datetime

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import local_date, to_local
from dsl_console.core.deadlines import (
    FLAG_DUE_TODAY,
    FLAG_IMMEDIATE_RISK,
    FLAG_IRO_NOTICE,
    FLAG_OVERDUE,
)

# A symbol for every flag, so meaning never rests on colour alone.
FLAG_SYMBOLS = {
    FLAG_IMMEDIATE_RISK: "!!",
    FLAG_OVERDUE: "OD",
    FLAG_DUE_TODAY: "T",
    FLAG_IRO_NOTICE: "IRO",
}
FLAG_WORDS = {
    FLAG_IMMEDIATE_RISK: "immediate risk",
    FLAG_OVERDUE: "overdue",
    FLAG_DUE_TODAY: "due today",
    FLAG_IRO_NOTICE: "IRO notice due",
}


def plural(n: int, word: str) -> str:
    """'1 working day', '3 working days'."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def countdown(
    due: datetime | None, days_left: int | None, as_of: datetime, calendar: WorkingCalendar
) -> str:
    """The stage's deadline in words: 'due today 17:00', '2 working days', 'overdue 3 ...'."""
    del calendar
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
