"""How the exports word things: UK dates in London time, initials, stages, reasons, timescales."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from dsl_console.core.clock import local_date, to_local
from dsl_console.core.deadlines import StageVisit
from dsl_console.core.procedures import Procedure
from dsl_console.core.records import LEVEL_LABELS, REASONS, Child, age_on

NOT_RECORDED = "Not recorded"
UNRESOLVED = "Unresolved"

# Liverpool names four areas where disagreements "are most likely to arise" (levels of need,
# roles and responsibilities, the need for action, communication); St Helens' Resolution
# Template asks for the same four as the "main reason". Each detailed reason maps to one.
THRESHOLD_CONFLICT = "Threshold Conflict"
COMMUNICATION = "Communication"
NEED_FOR_ACTION = "Need for Action"
ROLES = "Roles & Responsibilities"
MAIN_REASONS = (THRESHOLD_CONFLICT, COMMUNICATION, NEED_FOR_ACTION, ROLES)
_MAIN_REASON_OF = {
    "threshold": THRESHOLD_CONFLICT,
    "assessment": THRESHOLD_CONFLICT,
    "action-inaction": NEED_FOR_ACTION,
    "decision-making": NEED_FOR_ACTION,
    "cp-conference": NEED_FOR_ACTION,
    "cp-plan": NEED_FOR_ACTION,
    "services": NEED_FOR_ACTION,
    "drift-delay": NEED_FOR_ACTION,
    "information-sharing": COMMUNICATION,
    "communication": COMMUNICATION,
    "roles": ROLES,
    "procedures": ROLES,
}


@lru_cache(maxsize=4096)  # a large log repeats the same few hundred dates many times
def uk_date(day: date) -> str:
    """A date as dd/mm/yyyy."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def uk_day(moment: datetime) -> str:
    """A moment's London date as dd/mm/yyyy."""
    return uk_date(local_date(moment))


def uk_moment(moment: datetime) -> str:
    """A moment in London time as dd/mm/yyyy HH:MM."""
    local = to_local(moment)
    return f"{uk_date(local.date())} {local.hour:02d}:{local.minute:02d}"


def initials(name: str) -> str:
    """A name as initials, e.g. "Ada Example" -> "A.E."; hyphenated parts count once."""
    letters = [next((ch for ch in part if ch.isalpha()), "") for part in name.split()]
    return "".join(f"{letter.upper()}." for letter in letters if letter)


def child_identity(child: Child, on: date, *, initials_only: bool = False) -> str:
    """Name / DOB / age on a date; initials and age alone for a log that leaves the school."""
    age = f"age {age_on(child.dob, on)}"
    if initials_only:
        return f"{initials(child.name)} / {age}"
    return f"{child.name} / {uk_date(child.dob)} / {age}"


def reason_label(code: str) -> str:
    """The disagreement's reason in words."""
    return REASONS.get(code, code) if code else NOT_RECORDED


def level_label(code: str) -> str:
    """The level of need in words."""
    return LEVEL_LABELS.get(code, code) if code else LEVEL_LABELS["unknown"]


def main_reason(code: str) -> str:
    """The main reason (one of the four the partnerships analyse) for a detailed reason."""
    if not code:
        return NOT_RECORDED
    return _MAIN_REASON_OF.get(code, "Other")


def stage_label(procedure: Procedure, number: int) -> str:
    """ "Stage 2: Organisation safeguarding representative"."""
    # One pass over the (few) stages: this runs for every row of a 100,000-row log.
    for stage in procedure.stages:
        if stage.number == number:
            return f"Stage {number}: {stage.name}"
    return f"Stage {number}"


def timescale_outcome(visit: StageVisit, as_of: datetime) -> str:
    """Whether a stage kept its timescale, in words, with the recorded reason when it did not."""
    if visit.due is None:
        return "no timescale"
    kept = visit.kept(as_of)
    if kept is None:
        return f"pending (due {uk_moment(visit.due)})"
    if kept:
        return "kept"
    reason = visit.missed_reason.strip() or "no reason recorded"
    return f"not kept ({reason})"


# The other agency's kinds as the exports word them after its name (records.AGENCY_KINDS).
AGENCY_KIND_WORDS = {
    "social-care": "children's social care",
    "police": "police",
    "health": "health",
    "education": "education",
    "early-help": "early help",
    "other": "other",
}


def agency_words(name: str, kind: str) -> str:
    """The other agency's name and its kind, e.g. "Example Trust (health)"."""
    # The name as typed (not stripped): what the log shows must be what was entered.
    shown = name if name.strip() else NOT_RECORDED
    return f"{shown} ({AGENCY_KIND_WORDS.get(kind, kind or 'other')})"
