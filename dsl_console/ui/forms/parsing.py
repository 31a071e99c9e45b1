"""Reading what was typed into a form: London local times, dates, required text.

Each parser raises InputError("reason", field="field") so the form can show the reason under the field
it names; none of them touches the database.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from dsl_console.core.clock import local_date, parse_date, parse_moment
from dsl_console.core.validation import MAX_NAME, MAX_TEXT, check_text
from dsl_console.errors import InputError

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# The British way of writing a date (and time), which the forms take as well as ISO 8601.
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_UK_MOMENT = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})$")


def _iso_from_uk(text: str) -> str:
    """DD/MM/YYYY [HH:MM] rewritten as ISO 8601 (other text unchanged, for the ISO reader)."""
    moment = _UK_MOMENT.match(text)
    if moment:
        day, month, year, hour, minute = moment.groups()
        return f"{year}-{int(month):02d}-{int(day):02d} {int(hour):02d}:{minute}"
    day_only = _UK_DATE.match(text)
    if day_only:
        day, month, year = day_only.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return text


def required_text(value: str, field: str, *, long: bool = False) -> str:
    """Text that must not be blank, within the length the records allow."""
    return check_text(value.strip(), MAX_TEXT if long else MAX_NAME, field, required=True)


def optional_text(value: str, field: str, *, long: bool = False) -> str:
    """Text that may be blank, within the length the records allow."""
    return check_text(value.strip(), MAX_TEXT if long else MAX_NAME, field)


def moment_typed(text: str, field: str, *, not_after: datetime | None = None) -> datetime:
    """A London local date and time, '23/11/2026 14:30' or '2026-11-23 14:30'; refused if
    after `not_after`."""
    typed = text.strip()
    if not typed:
        raise InputError("is required", field=field)
    if _UK_DATE.match(typed) or re.fullmatch(r"\d{4}-\d{2}-\d{2}", typed):
        raise InputError(f"add the time too, e.g. {typed} 14:30", field=field)
    text = _iso_from_uk(typed)
    try:
        moment = parse_moment(text, field)
    except InputError as exc:
        reason = exc.reason
        if reason.startswith("not an ISO 8601"):
            reason = "not a date and time in the form DD/MM/YYYY HH:MM"
        raise InputError(reason, field=field) from None
    if not_after is not None and moment > not_after:
        raise InputError("is in the future; record what has happened", field=field)
    return moment


def day_typed(text: str, field: str) -> date:
    """A calendar date typed as DD/MM/YYYY or YYYY-MM-DD."""
    typed = text.strip()
    if not typed:
        raise InputError("is required", field=field)
    try:
        return parse_date(_iso_from_uk(typed), field)
    except InputError as exc:
        reason = exc.reason
        if reason.startswith("not a date"):
            reason = "not a date in the form DD/MM/YYYY"
        elif reason.endswith("is not a real calendar date"):
            reason = f"{typed} is not a real calendar date"  # as typed, not as rewritten
        raise InputError(reason, field=field) from None


def due_typed(day_text: str, time_text: str, field: str, time_field: str) -> datetime:
    """A due moment from a date and a time typed separately (London local)."""
    day = day_typed(day_text, field)
    match = _HHMM.match(time_text.strip())
    if not match:
        raise InputError("not a time in the form HH:MM (e.g. 17:00)", field=time_field)
    hour, minute = int(match.group(1)), int(match.group(2))
    return parse_moment(f"{day.isoformat()}T{hour:02d}:{minute:02d}", field)


def dob_typed(text: str, field: str, today: date) -> date:
    """A date of birth: a real date, in the past."""
    dob = day_typed(text, field)
    if dob >= today:
        raise InputError(f"{dob.isoformat()} is not in the past", field=field)
    return dob


def not_before_today(day: date, now: datetime, field: str) -> date:
    """Refuse a date before today (London)."""
    if day < local_date(now):
        raise InputError("is before today", field=field)
    return day
