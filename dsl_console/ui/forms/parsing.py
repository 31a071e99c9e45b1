"""Reading what was typed into a form: London local times, dates, required text.

Each parser raises InputError("field: reason") so the form can show the reason under the field
it names; none of them touches the database.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from dsl_console.core.clock import local_date, parse_date, parse_moment
from dsl_console.core.validation import MAX_NAME, MAX_TEXT, check_text
from dsl_console.errors import InputError

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def required_text(value: str, field: str, *, long: bool = False) -> str:
    """Text that must not be blank, within the length the records allow."""
    return check_text(value.strip(), MAX_TEXT if long else MAX_NAME, field, required=True)


def optional_text(value: str, field: str, *, long: bool = False) -> str:
    """Text that may be blank, within the length the records allow."""
    return check_text(value.strip(), MAX_TEXT if long else MAX_NAME, field)


def moment_typed(text: str, field: str, *, not_after: datetime | None = None) -> datetime:
    """A London local date and time, e.g. '2026-11-23 14:30'; refused if after `not_after`."""
    text = text.strip()
    if not text:
        raise InputError(f"{field}: is required")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise InputError(f"{field}: add the time too, e.g. {text} 14:30")
    try:
        moment = parse_moment(text, field)
    except InputError as exc:
        reason = str(exc).partition(": ")[2]
        if reason.startswith("not an ISO 8601"):
            reason = "not a date and time in the form YYYY-MM-DD HH:MM"
        raise InputError(f"{field}: {reason}") from None
    if not_after is not None and moment > not_after:
        raise InputError(f"{field}: is in the future; record what has happened")
    return moment


def day_typed(text: str, field: str) -> date:
    """A calendar date typed as YYYY-MM-DD."""
    text = text.strip()
    if not text:
        raise InputError(f"{field}: is required")
    return parse_date(text, field)


def due_typed(day_text: str, time_text: str, field: str, time_field: str) -> datetime:
    """A due moment from a date and a time typed separately (London local)."""
    day = day_typed(day_text, field)
    match = _HHMM.match(time_text.strip())
    if not match:
        raise InputError(f"{time_field}: not a time in the form HH:MM (e.g. 17:00)")
    hour, minute = int(match.group(1)), int(match.group(2))
    return parse_moment(f"{day.isoformat()}T{hour:02d}:{minute:02d}", field)


def dob_typed(text: str, field: str, today: date) -> date:
    """A date of birth: a real date, in the past."""
    dob = day_typed(text, field)
    if dob >= today:
        raise InputError(f"{field}: {dob.isoformat()} is not in the past")
    return dob


def not_before_today(day: date, now: datetime, field: str) -> date:
    """Refuse a date before today (London)."""
    if day < local_date(now):
        raise InputError(f"{field}: is before today")
    return day
