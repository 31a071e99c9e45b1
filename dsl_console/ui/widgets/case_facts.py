"""The child and case facts beside the timeline, and the status line above both.

`case_status` and `facts_content` build plain Content from records; `CaseFacts` and
`CaseStatus` show it. Flags are always a symbol and words, never colour alone.
"""

from __future__ import annotations

from datetime import datetime

from textual.content import Content
from textual.widgets import Static

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import local_date
from dsl_console.core.deadlines import CaseState, days_left, flags_at
from dsl_console.core.flags import BY_ID
from dsl_console.core.procedures import Procedure, Stage
from dsl_console.core.records import (
    AGENCY_LABELS,
    LEVEL_LABELS,
    REASONS,
    Case,
    EventKind,
    Professional,
    actions_of,
    age_on,
    amendment_history,
    as_amended,
)
from dsl_console.core.wording import countdown, fact_value, risk_instruction
from dsl_console.ui.forms.host import day_text, stamp


def flag_badges(flags: list[str]) -> Content:
    """Each flag as '[SYMBOL] words', or 'no flags'."""
    if not flags:
        return Content("no flags")
    parts: list[Content] = []
    for flag in flags:
        found = BY_ID[flag]
        style = "$text-error bold" if found.severity == "error" else "$text-warning"
        parts.append(Content.assemble((f"[{found.symbol}] {found.words}", style)))
    return Content("  ").join(parts)


def stage_countdown(state: CaseState, calendar: WorkingCalendar, as_of: datetime) -> str:
    """The current stage's deadline in words, or when the case was resolved or voided."""
    closed = state.standing.closed_at
    if closed is not None:
        if state.standing.status == "voided":
            return f"voided {stamp(closed)}: opened in error"
        return f"resolved {stamp(closed)}"
    standing = state.standing
    if standing.school_due is not None and (state.due is None or standing.school_due < state.due):
        # A duty falls due before the stage does: that is what is late, or next.
        duty_left = calendar.working_days_left(as_of, standing.school_due)
        return "duty " + countdown(standing.school_due, duty_left, as_of)
    return countdown(state.due, days_left(standing, calendar, as_of), as_of)


def case_status(
    case: Case, procedure: Procedure, state: CaseState, calendar: WorkingCalendar, as_of: datetime
) -> Content:
    """The status lines: who, where in the procedure, the countdown, flags, outstanding risk.

    They stay at the top of the case screen while the facts and timeline scroll."""
    stage = procedure.stage(state.stage)
    lines = [
        Content.assemble(
            (case.ref, "bold"),
            "  ",
            (case.child.name, "bold"),
            f"  · {procedure.name}",
        ),
        Content.assemble(
            (f"Stage {stage.number} {stage.short}: ", "bold"),
            (stage_countdown(state, calendar, as_of), "bold"),
            "  ",
            flag_badges(flags_at(state.standing, as_of)),
        ),
    ]
    if state.due is None and stage.timescale.rule == "chair" and state.resolved_at is None:
        lines.append(
            Content.assemble(
                ("The Chair sets this stage's timescale: ", "bold"),
                "press d to record it when it is given.",
            )
        )
    if state.standing.risk_due is not None and state.resolved_at is None:
        lines.append(
            Content.assemble(
                ("!! IMMEDIATE RISK: ", "$text-error bold"),
                (risk_instruction(state.standing.risk_due, as_of, calendar), "bold"),
            )
        )
    return Content("\n").join(lines)


def _no_due(stage: Stage) -> str:
    if stage.timescale.rule == "chair":
        return "set by the Chair, not yet recorded (d)"
    return "no deadline set"


def _person(person: Professional) -> str:
    extra = ", ".join(p for p in (person.role, person.agency, person.email) if p)
    text = f"{person.name} ({extra})" if extra else person.name
    if person.lead:
        text += ", lead practitioner"
    return text if person.involved else f"{text}: no longer involved"


def amended_note(case: Case, fields: tuple[str, ...]) -> str:
    """'amended on … by …, was …' for the latest amendment of any of these facts, else ''."""
    latest = None
    for field_name, changes in amendment_history(case).items():
        if field_name in fields:
            event, was = changes[-1]
            if latest is None or event.at >= latest[1].at:
                latest = (field_name, event, was)
    if latest is None:
        return ""
    field_name, event, was = latest
    by = f" by {event.by}" if event.by else ""
    before = fact_value(field_name, was)
    before = "blank" if before == "not recorded" else before
    return f"amended on {stamp(event.at)}{by}; before: {before}"


def _marks(case: Case) -> str:
    marks = []
    if case.cp_plan:
        marks.append("[CPP] on a child protection plan")
    if case.looked_after:
        marks.append("[CLA] looked after")
    return "; ".join(marks) if marks else "no CP plan; not looked after"


def facts_content(
    case: Case, procedure: Procedure, state: CaseState, calendar: WorkingCalendar, as_of: datetime
) -> Content:
    """The child and case facts as they stand now (amendments applied), one labelled line or
    paragraph each."""
    opened = case
    case = as_amended(case)
    today = local_date(as_of)
    stage = procedure.stage(state.stage)

    def row(label: str, value: str | Content, *fields: str) -> Content:
        # A fact changed since the opening says when, by whom and what it was.
        note = amended_note(opened, fields) if fields else ""
        return Content.assemble(
            (f"{label}: ", "bold"), value, (f"  ({note})" if note else "", "$text-warning")
        )

    agency = case.other_agency or "not recorded"
    if case.other_agency_kind != "other":
        agency += f" ({AGENCY_LABELS.get(case.other_agency_kind, case.other_agency_kind)})"
    lines: list[Content] = [
        row("Child", case.child.name, "child.name"),
        row(
            "DOB",
            f"{day_text(case.child.dob)} (age {age_on(case.child.dob, today)})",
            "child.dob",
        ),
        row("Address", case.child.address or "not recorded", "child.address"),
        row("Parents / carers", case.child.parents or "not recorded", "child.parents"),
        row(
            "Level of need",
            LEVEL_LABELS.get(case.level_of_need, case.level_of_need),
            "level_of_need",
        ),
        row("Marks", _marks(case), "cp_plan", "looked_after"),
        row("Other agency", agency, "other_agency", "other_agency_kind"),
        row("Reason", REASONS.get(case.reason, case.reason or "not recorded"), "reason"),
        row("Concern", case.concern or "not recorded", "concern"),
        row("Opened", stamp(case.opened_at)),
        row("Procedure", f"{procedure.name} (v{procedure.version})"),
        row("Current stage", f"{stage.number} {stage.name}, since {stamp(state.stage_entered_at)}"),
        row("Due", stamp(state.due) if state.due else _no_due(stage)),
    ]
    # The countdown, the flags and any outstanding risk are in the status lines above, which
    # stay in view however far the facts and the timeline are scrolled.
    people = list(case.professionals)
    lines.append(Content(""))
    lines.append(Content.styled("Professionals", "bold underline"))
    if case.raised_by:
        lines.append(Content(f"• {_person(case.raised_by)} (raised it)"))
    lines.extend(Content(f"• {_person(p)}") for p in people)
    if not people and not case.raised_by:
        lines.append(Content.styled("none recorded", "dim"))
    lines.append(Content(""))
    lines.append(Content.styled("Summary", "bold underline"))
    lines.append(Content(case.summary or "none recorded"))
    summary_note = amended_note(opened, ("summary",))
    if summary_note:
        lines.append(Content.styled(f"({summary_note})", "$text-warning"))
    lines.append(Content(""))
    lines.append(Content.styled("Actions", "bold underline"))
    actions = actions_of(case)
    if not actions:
        lines.append(Content.styled("none agreed (key a adds one)", "dim"))
    for number, action, done in actions:
        owner = action.whom or "no owner"
        by_when = f", by {stamp(action.due)}" if action.due else ""
        if done is not None:
            state_text = Content.styled(f"[x] done {stamp(done.at)}", "$text-success")
        elif action.due is not None and action.due < as_of:
            state_text = Content.styled("[ ] OVERDUE", "$text-error bold")
        else:
            state_text = Content("[ ] open")
        lines.append(
            Content.assemble(
                (f"{number}. ", "bold"), state_text, f" {action.note} ({owner}{by_when})"
            )
        )
    if case.resolved:
        resolution = next(e for e in case.events if e.kind == EventKind.RESOLVED)
        lines.append(Content(""))
        lines.append(Content.styled("Resolution", "bold underline"))
        lines.append(row("Outcome", resolution.note or "not recorded"))
        lines.append(row("Method", resolution.method or "not recorded"))
        lines.append(row("Lessons", resolution.lessons or "not recorded"))
    return Content("\n").join(lines)


class CaseStatus(Static):
    """The two or three status lines at the top of the case screen."""

    DEFAULT_CSS = """
    CaseStatus {
        height: auto;
        padding: 0 1;
        background: $boost;
    }
    """


class CaseFacts(Static):
    """The child and case facts."""

    DEFAULT_CSS = """
    CaseFacts {
        height: auto;
        padding: 0 1;
    }
    """
