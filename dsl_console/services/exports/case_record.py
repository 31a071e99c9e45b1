"""What every form says about a case, and the supporting record appended after each form."""

from __future__ import annotations

from typing import NamedTuple

from dsl_console.core.clock import local_date
from dsl_console.core.deadlines import StageVisit
from dsl_console.core.forms import form_name
from dsl_console.core.records import EVENT_LABELS, Event, EventKind, Professional, age_on
from dsl_console.services.exports.history import CaseHistory, whom_label
from dsl_console.services.exports.pdf_layout import Field, FormSheet
from dsl_console.services.exports.wording import (
    UNRESOLVED,
    agency_words,
    level_label,
    reason_label,
    stage_label,
    timescale_outcome,
    uk_date,
    uk_day,
    uk_moment,
)


def person(professional: Professional | None) -> str:
    """ "Name, role, agency", leaving out what is not recorded."""
    if professional is None:
        return ""
    parts = (professional.name, professional.role, professional.agency)
    return ", ".join(p for p in parts if p)


def marked(text: str, professional: Professional) -> str:
    """A professional's entry, marked when they are no longer involved (kept on the record)."""
    return text if professional.involved else f"{text} (no longer involved)"


def escalating(history: CaseHistory, completed_by: Professional | None) -> Professional | None:
    """The professional escalating: the one who raised it, else the person completing the form."""
    return history.escalating or completed_by


def role_and_agency(professional: Professional | None) -> str:
    """ "Role, agency" of a professional."""
    if professional is None:
        return ""
    return ", ".join(p for p in (professional.role, professional.agency) if p)


def visit_of(history: CaseHistory, stage: int) -> StageVisit | None:
    """The case's visit to a stage, if it went there."""
    return next((v for v in history.state.visits if v.stage == stage), None)


def adhered(history: CaseHistory, stage: int) -> str:
    """Whether a stage kept its timescale, worded for a "timescales adhered to" field."""
    visit = visit_of(history, stage)
    if visit is None:
        return "Skipped" if stage in history.state.skipped else "Not reached"
    if visit.due is None:
        return "No timescale for this stage"
    kept = visit.kept(history.as_of)
    if kept is None:
        return f"Pending (due {uk_moment(visit.due)})"
    if kept:
        return "Yes"
    return f"No. Reason: {visit.missed_reason.strip() or 'not recorded'}"


def meeting_dates(history: CaseHistory, stage: int | None = None) -> str:
    """Dates of the discussions and meetings (at one stage, when given), oldest first."""
    found = [
        f"{uk_day(e.at)} ({EVENT_LABELS[e.kind].lower()})"
        for e in history.of_kind(EventKind.DISCUSSION, EventKind.MEETING)
        if stage is None or history.stage_at(e.at) == stage
    ]
    return "; ".join(found)


def outcome_text(history: CaseHistory) -> str:
    """The agreed outcomes recorded along the way, then the resolution, or that it is open."""
    lines = [f"{uk_day(e.at)} {e.note}" for e in history.of_kind(EventKind.OUTCOME) if e.note]
    resolution = history.resolution
    if resolution is not None:
        stage = history.resolved_stage or history.state.stage
        note = resolution.note or "no outcome recorded"
        lines.append(f"Resolved on {uk_day(resolution.at)} at stage {stage}: {note}")
    else:
        lines.append(f"{UNRESOLVED} as at {uk_day(history.as_of)}.")
    return "\n".join(lines)


class AgreedAction(NamedTuple):
    """An agreed action as the forms show it; dates are dd/mm/yyyy, "" when not recorded."""

    action: str
    owner: str
    due: str
    completed: str


NOT_COMPLETED = "Not yet completed"


def agreed_actions(history: CaseHistory) -> list[AgreedAction]:
    """The case's agreed actions, oldest first."""
    return [
        AgreedAction(
            event.note or "Not described",
            event.whom,
            uk_day(event.due) if event.due else "",
            uk_day(done.at) if done else "",
        )
        for _, event, done in history.actions()
    ]


def supporting_record(
    pdf: FormSheet, history: CaseHistory, school: str, completed_by: Professional | None = None
) -> None:
    """The school's own record of the case, after the partnership's form, on a new page: the
    facts and professionals as they stand, and every step, risk, notice and amendment."""
    case, procedure, state = history.facts, history.procedure, history.state
    pdf.new_page()
    pdf.title_block(school or "School", "Supporting record from the school's escalation log")
    status = (
        f"Resolved at {stage_label(procedure, state.stage)} on {uk_day(state.resolved_at)}"
        if state.resolved_at is not None
        else f"Open at {stage_label(procedure, state.stage)}"
    )
    age = age_on(case.child.dob, local_date(history.as_of))
    at_opening = age_on(case.child.dob, local_date(case.opened_at))
    ages = f"age {age}" + (f" ({at_opening} at the opening)" if at_opening != age else "")
    looked_after = [
        label
        for label, on in (
            ("Child protection plan", case.cp_plan),
            ("Looked after", case.looked_after),
        )
        if on
    ]
    agency = case.other_agency
    pdf.fields(
        [
            Field("Escalation number", case.ref),
            Field("Procedure", f"{procedure.name} (version {procedure.version})"),
            Field("Child", f"{case.child.name}, born {uk_date(case.child.dob)}, {ages}"),
            Field("Address", case.child.address, lines=2, name="Child's address"),
            Field("Parents / carers", case.child.parents),
            Field(
                "Other agency",
                agency_words(agency, case.other_agency_kind) if agency.strip() else "",
            ),
            Field("Concern", case.concern, lines=2),
            Field("Reason for disagreement", reason_label(case.reason)),
            Field("Level of need", level_label(case.level_of_need)),
            Field("Plan / status", ", ".join(looked_after) or "Neither CP plan nor looked after"),
            Field("Opened", uk_moment(case.opened_at)),
            Field(f"Status at {uk_moment(history.as_of)}", status),
        ]
    )
    pdf.heading("Professionals involved (as they stand)")
    raised = escalating(history, completed_by)
    people = ([raised] if raised else []) + history.others()
    pdf.table_of(
        ("Name", "Role", "Agency", "Email"),
        [
            [
                marked(f"{p.name} (escalating)" if p is raised else p.name, p),
                p.role,
                p.agency,
                p.email,
            ]
            for p in people
        ],
        (0.3, 0.25, 0.25, 0.2),
        name="Professionals involved",
    )
    pdf.heading("Stage history")
    pdf.table_of(
        ("Stage", "Entered", "Left", "Due", "Timescale"),
        [_stage_row(history, visit) for visit in state.visits],
        (0.3, 0.15, 0.15, 0.15, 0.25),
    )
    if state.skipped:
        pdf.paragraph(f"Stages skipped: {', '.join(str(n) for n in state.skipped)}.")
    pdf.heading("Escalations")
    pdf.table_of(
        ("When", "Escalated to", "By", "Note"),
        [
            [uk_moment(e.at), stage_label(procedure, e.stage) if e.stage else "", e.by, e.note]
            for e in history.of_kind(EventKind.ESCALATED)
        ],
        (0.17, 0.33, 0.18, 0.32),
        empty="None recorded: the case has stayed at stage 1.",
    )
    pdf.heading("Immediate risk of significant harm")
    pdf.table_of(
        ("When", "What", "Note"),
        [[uk_moment(e.at), risk_words(history, e), e.note] for e in history.risk_events()],
        (0.17, 0.43, 0.4),
        empty="No immediate risk recorded.",
    )
    pdf.heading("Notifications")
    pdf.table_of(
        ("When", "Who was told", "Form sent", "By", "Note"),
        [
            [
                uk_moment(e.at),
                whom_label(e.whom),
                form_name(e.form) if e.form else "",
                e.by,
                e.note,
            ]
            for e in history.of_kind(EventKind.NOTIFIED)
        ],
        (0.17, 0.23, 0.2, 0.15, 0.25),
        empty="No one notified yet.",
    )
    pdf.heading("Amendments")
    lines = [line for _, line in history.amendment_lines()]
    pdf.paragraph(
        "\n".join(lines) if lines else "None: the facts stand as recorded at the opening."
    )
    pdf.heading("Discussions and meetings")
    pdf.table_of(
        ("Date", "Stage", "Kind", "By", "Note"),
        [
            [uk_moment(e.at), str(history.stage_at(e.at)), EVENT_LABELS[e.kind], e.by, e.note]
            for e in history.of_kind(EventKind.DISCUSSION, EventKind.MEETING)
        ],
        (0.17, 0.08, 0.12, 0.18, 0.45),
    )
    pdf.heading("Agreed actions")
    pdf.table_of(
        ("Action", "By whom", "Due", "Completed"),
        [[a.action, a.owner, a.due, a.completed or NOT_COMPLETED] for a in agreed_actions(history)],
        (0.5, 0.2, 0.15, 0.15),
    )
    pdf.heading("Outcome")
    pdf.box("Outcome of resolution", outcome_text(history))
    lessons = history.resolution.lessons if history.resolution else ""
    pdf.box("Lessons learned", lessons, lines=3)


def risk_words(history: CaseHistory, event: Event) -> str:
    """An immediate risk raised or escalated, as a sentence naming who by."""
    if event is history.opening_risk:
        what = "Raised at the opening"
    elif event.kind == EventKind.RISK_RAISED:
        what = "Raised"
    else:
        what = "Escalated"
    return f"{what} by {event.by}" if event.by else what


def _stage_row(history: CaseHistory, visit: StageVisit) -> list[str]:
    if visit.left_at is None:
        left = "current"
    elif visit.left_at == history.state.resolved_at:
        left = f"{uk_moment(visit.left_at)} (resolved)"
    else:
        left = uk_moment(visit.left_at)
    return [
        stage_label(history.procedure, visit.stage),
        uk_moment(visit.entered_at),
        left,
        uk_moment(visit.due) if visit.due else "none",
        timescale_outcome(visit, history.as_of)
        + (f"; due set: {visit.due_reason}" if visit.due_reason else ""),
    ]
