"""The escalation records as plain data: child, case, professionals, and the events of its history."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum


class EventKind(StrEnum):
    """What an event in a case's history records."""

    ESCALATED = "escalated"  # moved up to a stage (needs stage)
    RISK_RAISED = "risk-raised"  # immediate risk of significant harm identified
    RISK_ESCALATED = "risk-escalated"  # the immediate risk was escalated (same working day)
    NOTIFIED = "notified"  # someone was told (whom: iro, partnership, or free text)
    DEADLINE_SET = "deadline-set"  # the current stage's due was set (due + reason)
    RESOLVED = "resolved"  # the disagreement is resolved: the case closes
    NOTE = "note"
    DISCUSSION = "discussion"
    MEETING = "meeting"
    OUTCOME = "outcome"
    ACTION = "action"  # an action agreed: what (note), owner (whom), by when (due)
    ACTION_DONE = "action-done"  # an agreed action was completed (action: its number)
    TIMESCALE_MISSED = "timescale-missed"  # why a stage did not keep its timescale
    RESPONSE = "response"  # the other agency replied
    AMENDED = "amended"  # a case fact changed or was corrected from this moment (field, value)
    VOIDED = "voided"  # the case was opened in error: closed, no flags, no duties
    # A professional of the case added, corrected or no longer involved (value: the person as
    # they stand from this moment; field: their number, or "" for a new one). This console's
    # own kind: the contract leaves the professionals' changes to the reader.
    PROFESSIONAL = "professional"


# Kinds that only record what happened; they never change stage, due or flags.
RECORD_KINDS = frozenset(
    {EventKind.NOTE, EventKind.DISCUSSION, EventKind.MEETING, EventKind.OUTCOME}
)

EVENT_LABELS: dict[str, str] = {
    "escalated": "Escalated",
    "risk-raised": "Immediate risk raised",
    "risk-escalated": "Immediate risk escalated",
    "notified": "Notified",
    "deadline-set": "Deadline set",
    "resolved": "Resolved",
    "note": "Note",
    "discussion": "Discussion",
    "meeting": "Meeting",
    "outcome": "Outcome",
    "action": "Action agreed",
    "action-done": "Action done",
    "timescale-missed": "Timescale missed",
    "response": "Other agency replied",
    "amended": "Amended",
    "voided": "Voided (opened in error)",
    "professional": "Professional",
}


class LevelOfNeed(StrEnum):
    """The child's level of need when the disagreement arose."""

    EARLY_HELP = "early-help"
    S17 = "s17"
    S47 = "s47"
    UNKNOWN = "unknown"


LEVEL_LABELS = {
    "early-help": "Early Help",
    "s17": "Section 17 (child in need)",
    "s47": "Section 47 (child protection)",
    "unknown": "Not known",
}

# The reasons for disagreement named in the partnerships' policies.
REASONS: dict[str, str] = {
    "threshold": "Thresholds / level of need at referral",
    "action-inaction": "Action or inaction of another professional",
    "decision-making": "Decision making (e.g. conference, case closure)",
    "cp-conference": "Dissent at or after a CP conference",
    "cp-plan": "Implementation of a CP plan",
    "information-sharing": "Information sharing",
    "assessment": "Assessment and analysis",
    "services": "Provision of services",
    "drift-delay": "Drift or delay",
    "procedures": "Operation of child protection procedures",
    "roles": "Roles and responsibilities",
    "communication": "Communication",
    "other": "Other",
}

IRO = "iro"
PARTNERSHIP = "partnership"
OTHER_AGENCY = "other-agency"
TEAM_MANAGER = "team-manager"
# The usual recipients of a `notified` event, as a sentence names them.
RECIPIENTS = {
    IRO: "the IRO",
    PARTNERSHIP: "the partnership",
    OTHER_AGENCY: "the other agency",
    TEAM_MANAGER: "the Team Manager",
}

# Where a case stands: open until resolved, or voided as opened in error.
OPEN, RESOLVED, VOIDED = "open", "resolved", "voided"

# The other agency's kinds (contract section 6).
AGENCY_KINDS: tuple[str, ...] = (
    "social-care",
    "police",
    "health",
    "education",
    "early-help",
    "other",
)

# The facts an `amended` event may change (contract section 6), as the case names them.
AMENDABLE_FIELDS = (
    "child.name",
    "child.dob",
    "child.address",
    "child.parents",
    "other_agency",
    "other_agency_kind",
    "level_of_need",
    "cp_plan",
    "looked_after",
    "reason",
    "summary",
    # This console's addition: the child-welfare concern, as the Summary Log reports it.
    "concern",
)


@dataclass(frozen=True)
class Child:
    """The child the escalation is about."""

    name: str
    dob: date
    address: str = ""
    parents: str = ""


@dataclass(frozen=True)
class Professional:
    """A professional involved in the case, from the school or another agency."""

    name: str
    role: str = ""
    agency: str = ""
    email: str = ""
    involved: bool = True  # False once marked no longer involved (kept on the record)
    lead: bool = False  # the lead practitioner of the case (St Helens asks for them)


@dataclass(frozen=True)
class Event:
    """One entry in a case's history. Events are appended, never edited."""

    at: datetime
    kind: str
    stage: int | None = None
    by: str = ""
    whom: str = ""
    due: datetime | None = None
    note: str = ""
    lessons: str = ""
    action: int | None = None
    method: str = ""
    recorded_at: datetime | None = None
    form: str = ""  # notified: the form sent (an id such as "liverpool")
    field: str = ""  # amended: which fact changed
    value: object = None  # amended: its value from this moment on


@dataclass(frozen=True)
class Case:
    """An escalation: a professional disagreement about one child, and its history."""

    ref: str
    procedure: str
    opened_at: datetime
    child: Child
    procedure_version: str = ""
    other_agency: str = ""
    other_agency_kind: str = "other"
    level_of_need: str = LevelOfNeed.UNKNOWN
    cp_plan: bool = False
    looked_after: bool = False
    immediate_risk: bool = False
    reason: str = ""
    summary: str = ""
    concern: str = ""  # the child-welfare concern (the reason names the disagreement)
    professionals: tuple[Professional, ...] = ()
    raised_by: Professional | None = None
    events: tuple[Event, ...] = field(default_factory=tuple)

    @property
    def resolved(self) -> bool:
        """Whether a resolved event has closed the case."""
        return any(e.kind == EventKind.RESOLVED for e in self.events)

    @property
    def voided(self) -> bool:
        """Whether the case was voided as opened in error."""
        return any(e.kind == EventKind.VOIDED for e in self.events)

    def facts(self) -> dict[str, object]:
        """The case's facts as opened, as plain values (the child and the people aside, whose
        shapes differ): what the JSON format and the database both hold under these names."""
        return {
            "other_agency": self.other_agency,
            "other_agency_kind": self.other_agency_kind,
            "level_of_need": str(self.level_of_need),
            "cp_plan": self.cp_plan,
            "looked_after": self.looked_after,
            "immediate_risk": self.immediate_risk,
            "reason": self.reason,
            "summary": self.summary,
            "concern": self.concern,
        }


# Words in an agency's name that say its kind, in the order they are tried ("early help"
# before "school", as an early help hub may be run by a school), each a whole word.
_KIND_WORDS: tuple[tuple[str, str], ...] = (
    ("early-help", r"early help"),
    (
        "social-care",
        r"social care|social work\w*|children'?s services|mash|front door|csc",
    ),
    ("police", r"police|constabulary"),
    ("health", r"health|nhs|hospital|gp|nurs\w*|camhs|midwi\w*|paediatric\w*"),
    ("education", r"schools?|academy|college|education|nursery"),
)
_KIND_PATTERNS = tuple((kind, re.compile(rf"\b(?:{words})\b")) for kind, words in _KIND_WORDS)


def agency_kind_for(name: str) -> str | None:
    """The kind an agency's name suggests ("Children's social care": social-care), if any."""
    text = " ".join(name.lower().replace("\u2019", "'").split())
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(text):
            return kind
    return None


# The other agency's kinds in words.
AGENCY_LABELS = {
    "social-care": "children's social care",
    "police": "the police",
    "health": "health",
    "education": "education",
    "early-help": "early help",
    "other": "another agency",
}


def as_amended(case: Case, as_of: datetime | None = None) -> Case:
    """The case's facts as they stand after its `amended` and `professional` events (those at
    or before as_of): what the case screen and the forms show; the opening facts stay in the
    history."""
    changes = [
        e
        for e in sorted(case.events, key=lambda e: e.at)
        if e.kind in (EventKind.AMENDED, EventKind.PROFESSIONAL)
        and (as_of is None or e.at <= as_of)
    ]
    if not changes:
        return case
    facts: dict[str, object] = {}
    child: dict[str, object] = {}
    people = list(case.professionals)
    for event in changes:
        if event.kind == EventKind.PROFESSIONAL:
            person = professional_from(event.value)
            number = int(event.field) if event.field.isdigit() else 0
            if 1 <= number <= len(people):
                people[number - 1] = person
            else:
                people.append(person)
        elif event.field.startswith("child."):
            name = event.field.removeprefix("child.")
            child[name] = date.fromisoformat(str(event.value)) if name == "dob" else event.value
        else:
            facts[event.field] = event.value
    return replace(
        case,
        child=replace(case.child, **child),  # type: ignore[arg-type]
        professionals=tuple(people),
        **facts,  # type: ignore[arg-type]
    )


def professional_from(value: object) -> Professional:
    """A `professional` event's value (checked by validation) as the person it describes."""
    raw = value if isinstance(value, dict) else {}
    return Professional(
        name=str(raw.get("name", "")),
        role=str(raw.get("role", "")),
        agency=str(raw.get("agency", "")),
        email=str(raw.get("email", "")),
        involved=raw.get("involved", True) is not False,
        lead=raw.get("lead", False) is True,
    )


# What a resolution may record beyond its outcome, method and lessons, in a `resolved` event's
# `value` (this console's addition): the learning for the wider partnership, and the yes / no
# questions the partnerships' templates ask (Newham's referral form).
PARTNERSHIP_LEARNING = "learning"
RESOLUTION_QUESTIONS = {
    "staff_training": "A requirement for staff training",
    "new_protocol": "Development of a new protocol / procedure",
    "sub_group": "Further discussion at a partnership sub group",
}


def resolution_extras(event: Event | None) -> dict[str, object]:
    """A resolved event's learning and yes / no answers (none recorded: an empty dict)."""
    value = event.value if event is not None else None
    return dict(value) if isinstance(value, dict) else {}


def amendment_history(case: Case) -> dict[str, list[tuple[Event, object]]]:
    """For each amended fact, its amendments in time order, each with the value it replaced."""
    facts: dict[str, object] = {
        "child.name": case.child.name,
        "child.dob": case.child.dob.isoformat(),
        "child.address": case.child.address,
        "child.parents": case.child.parents,
    }
    out: dict[str, list[tuple[Event, object]]] = {}
    for event in sorted(case.events, key=lambda e: e.at):
        if event.kind != EventKind.AMENDED:
            continue
        field_name = event.field
        before = facts[field_name] if field_name in facts else getattr(case, field_name, None)
        out.setdefault(field_name, []).append((event, before))
        facts[field_name] = event.value
    return out


def professional_history(case: Case) -> dict[int, Professional]:
    """For each `professional` event that corrects someone (by id() of the event), the person
    as they stood before it."""
    people = list(case.professionals)
    before: dict[int, Professional] = {}
    for event in sorted(case.events, key=lambda e: e.at):
        if event.kind != EventKind.PROFESSIONAL:
            continue
        number = int(event.field) if event.field.isdigit() else 0
        person = professional_from(event.value)
        if 1 <= number <= len(people):
            before[id(event)] = people[number - 1]
            people[number - 1] = person
        else:
            people.append(person)
    return before


def age_on(dob: date, day: date) -> int:
    """Age in whole years on a date."""
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def actions_of(case: Case) -> list[tuple[int, Event, Event | None]]:
    """The case's agreed actions, numbered from 1, each with its completion event if any."""
    actions = [e for e in case.events if e.kind == EventKind.ACTION]
    done = {e.action: e for e in case.events if e.kind == EventKind.ACTION_DONE}
    return [(n, event, done.get(n)) for n, event in enumerate(actions, start=1)]
