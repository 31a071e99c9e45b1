"""The partnerships' per-case forms as PDF: each form's own headings and every one of its fields.

Forms: Liverpool Appendix 2 "Report to LSCB" (stages 3 and 4), the Newham "NSCP Escalation
Referral Form", and St Helens' "Escalation Notice" and "Escalation Resolution Template". Each
field the console knows is filled from the case as it stands (amendments applied) and from
the person completing the form (the account holder exporting it, by full name, never by login
name); the rest (signatures, dates of completion, the partnership's own boxes) is left
visibly blank for hand completion. `blank_fields` tells, before writing, which fields the
record leaves blank. The school's own record of the case (professionals, stages, every
escalation, immediate risk, notification and amendment, meetings, actions, outcome) follows
each form on a new page.

Why fpdf2 rather than reportlab: the forms are simple bordered tables and text, which fpdf2
lays out faithfully (tables with wrapping cells, page breaks, TrueType subsetting); it is pure
Python with two small dependencies, where reportlab is a larger install with C extensions and
a second layout model (platypus) this job does not need. Fonts: see `pdf_fonts`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.forms import PARTNERSHIP_FORMS, form_name, printable_form
from dsl_console.core.procedures import ProcedureRegistry
from dsl_console.core.records import (
    PARTNERSHIP,
    PARTNERSHIP_LEARNING,
    RESOLUTION_QUESTIONS,
    Case,
    EventKind,
    Professional,
    resolution_extras,
)
from dsl_console.services.exports.atomic import atomic_output
from dsl_console.services.exports.case_record import (
    NOT_COMPLETED,
    AgreedAction,
    adhered,
    agreed_actions,
    escalating,
    marked,
    meeting_dates,
    outcome_text,
    person,
    role_and_agency,
    supporting_record,
    visit_of,
)
from dsl_console.services.exports.history import (
    CaseHistory,
    ProcedureLookup,
    history_of,
    notified_words,
)
from dsl_console.services.exports.pdf_layout import (
    BLANK_LINE,
    BlankFinder,
    ExportPdf,
    Field,
    FormSheet,
)
from dsl_console.services.exports.wording import (
    MAIN_REASONS,
    level_label,
    main_reason,
    reason_label,
    stage_label,
    uk_date,
    uk_day,
)

# Liverpool's tick boxes for the level of need, by the console's level codes.
_LIVERPOOL_LEVELS = {"early-help": "Early Help", "s17": "S17", "s47": "S47"}


def write_form(
    case: Case,
    registry: ProcedureRegistry,
    calendar: WorkingCalendar,
    *,
    form: str,
    school: str,
    out: Path,
    as_of: datetime,
    completed_by: Professional | None = None,
) -> list[str]:
    """Write one case's partnership form, as the case stood at as_of, to the PDF file `out`;
    returns what `blank_fields` would (the fields the record left blank).

    `completed_by` is the person completing the form (the account holder: full name, job
    title, the school, email): it fills "Form completed by" and its like, and stands as the
    professional escalating when the case names none.
    """
    history = _history(case, registry, calendar, form, as_of)
    title = PARTNERSHIP_FORMS[form].title
    # A case opened in error is said so on every page: a form printed for it (for the
    # partnership's audit, say) must never pass for an escalation to act on.
    voided = " | VOIDED: OPENED IN ERROR" if case.voided else ""
    pdf = ExportPdf(f"OFFICIAL-SENSITIVE | {case.ref} | {title} | prepared {uk_day(as_of)}{voided}")
    pdf.set_title(f"{title} {case.ref}")  # the ref only: no name in the metadata
    pdf.set_creator("DSL Console")
    pdf.set_creation_date(as_of)
    _fill(pdf, history, form, school, completed_by)
    pdf.continuations()
    data = bytes(pdf.output())
    with atomic_output(Path(out), "wb") as handle:
        handle.write(data)
    return list(pdf.blanks)


def blank_fields(
    case: Case,
    registry: ProcedureRegistry,
    calendar: WorkingCalendar,
    *,
    form: str,
    as_of: datetime,
    completed_by: Professional | None = None,
    school: str = "",
) -> list[str]:
    """The fields of a form (and the case record after it) that would print blank for this
    case, in the form's order, each once: those the record could fill ("Child's address",
    "Concern", "Lessons learned"), not those always left for a pen (signatures, dates of
    completion, the partnership's own boxes). Nothing is drawn or written.

    `school` defaults to the agency of `completed_by` (the school's own account holder).
    """
    history = _history(case, registry, calendar, form, as_of)
    sheet = BlankFinder()
    school = school or (completed_by.agency if completed_by else "")
    _fill(sheet, history, form, school, completed_by)
    return sheet.blanks


def form_cautions(case: Case, registry: ProcedureRegistry, form: str) -> list[str]:
    """What the DSL should know before sending this form for this case, each as a sentence:
    the case was voided as opened in error, or its procedure's duties name other forms (the
    form is printed all the same: a partnership may ask for any)."""
    cautions = []
    voided = next((e for e in case.events if e.kind == EventKind.VOIDED), None)
    if voided is not None:
        cautions.append(
            f"{case.ref} was voided as opened in error on {uk_day(voided.at)}: every page "
            "says so; it is not an escalation to send"
        )
    procedure = ProcedureLookup(registry)(case)
    named = procedure.forms()
    if named and form not in named:
        cautions.append(
            f"{case.ref} follows the {procedure.name}, which does not use the "
            f"{form_name(form)}; it uses the {' and the '.join(form_name(f) for f in named)}"
        )
    return cautions


def _history(
    case: Case, registry: ProcedureRegistry, calendar: WorkingCalendar, form: str, as_of: datetime
) -> CaseHistory:
    printable_form(form)
    return history_of(case, ProcedureLookup(registry)(case), calendar, as_of)


def _fill(
    sheet: FormSheet,
    history: CaseHistory,
    form: str,
    school: str,
    completed_by: Professional | None,
) -> None:
    _LAYOUTS[form](sheet, history, school, completed_by)
    supporting_record(sheet, history, school, completed_by)


def _details(sheet: FormSheet, summary: str, concern: str) -> str:
    """The disagreement's summary with the child-welfare concern, noting a missing concern."""
    if not concern.strip():
        sheet.missing("Concern")
        return summary
    return f"{summary}\n\nConcern: {concern}" if summary else f"Concern: {concern}"


def _liverpool(
    pdf: FormSheet, history: CaseHistory, school: str, completed_by: Professional | None
) -> None:
    """Liverpool SCB, Appendix 2."""
    case, resolution = history.facts, history.resolution
    pdf.title_block(
        "Liverpool Safeguarding Children Board",
        "Appendix 2. Report to LSCB: Multi-Agency Resolution: Escalation Stages 3 and 4",
        "(*Multi-Agency Conflicts resolved at Stages 3 and 4 must be reported to the LSCB Team)",
    )
    raised = escalating(history, completed_by)
    pdf.fields(
        [
            Field("Name of Child / young Person", case.child.name),
            Field("Date of Birth", uk_date(case.child.dob)),
            Field("Address", case.child.address, lines=2, name="Child's address"),
            Field(
                "Name and email of Professional Escalating concern",
                ", ".join(p for p in (raised.name, raised.email) if p) if raised else "",
                name="Name and email of professional escalating",
            ),
            Field("Role and Agency", role_and_agency(raised) or school),
        ]
    )
    pdf.table_of(
        (
            "Name(s) of other professionals involved: "
            "(Including LSCB Board Members where appropriate)",
            "Role and Agency",
        ),
        [[marked(p.name, p), role_and_agency(p)] for p in history.others()],
        (0.5, 0.5),
        name="Other professionals involved",
    )
    pdf.choices(
        "Please indicate level of need",
        ("Early Help", "S17", "S47"),
        _LIVERPOOL_LEVELS.get(case.level_of_need),
        name="Level of need",
    )
    details = (
        _details(pdf, case.summary, case.concern) + "\n\nAgreed outcomes:\n" + outcome_text(history)
    )
    pdf.box("Brief details of inter agency disagreement (including agreed outcomes)", details)
    pdf.fields(
        [
            Field("Date of discussion/ Meeting re disagreement", meeting_dates(history)),
            Field("Methodology used to resolve conflict", resolution.method if resolution else ""),
        ]
    )
    resolved_at = history.resolved_stage
    pdf.choices(
        "Disagreement resolved at",
        ("Level 3", "Level 4"),
        f"Level {resolved_at}" if resolved_at in (3, 4) else None,
    )
    pdf.box(
        "Please indicate lessons learned from this disagreement resolution (e.g. Individual "
        "agency review of procedure, requirement for staff training, further understanding "
        "of LSCB Levels of Need);",
        resolution.lessons if resolution else "",
        name="Lessons learned",
    )
    pdf.heading(
        "Please identify any further actions taken by your agency following the resolution "
        "of this issue:"
    )
    pdf.table_of(
        ("Actions taken", "By whom", "Date completed"),
        [[a.action, a.owner, a.completed or NOT_COMPLETED] for a in agreed_actions(history)],
        (0.55, 0.25, 0.2),
        name="Further actions taken",
    )
    pdf.gap(2)
    completer = completed_by
    pdf.fields(
        [
            Field(
                "Form completed by",
                ", ".join(p for p in (completer.name, completer.role) if p) if completer else "",
            ),
            Field("Date", hand=True),
        ]
    )
    pdf.heading("To be completed by LSCB Business Manager:")
    pdf.fields(
        [
            Field("Date received by LSCB Business Manager", hand=True),
            Field("Outcome / Issues notified to LSCB Executive Group", lines=3, hand=True),
            Field("Date", hand=True),
        ]
    )
    pdf.paragraph("Completed reports should be referred to the LSCB Team.", size=8)


def _newham(
    pdf: FormSheet, history: CaseHistory, school: str, completed_by: Professional | None
) -> None:
    """Newham SCP, the NSCP Escalation Referral Form."""
    case, resolution = history.facts, history.resolution
    pdf.title_block(
        "Newham Safeguarding Children Partnership",
        "NSCP Escalation Referral Form",
        "(Copy to be kept on service user file)",
    )
    pdf.fields(
        [
            Field("Name of child/young person", case.child.name),
            Field("DOB", uk_date(case.child.dob)),
            Field("Address", case.child.address, lines=2, name="Child's address"),
            Field(
                "Name, Role and Agency of person completing this form",
                person(completed_by or history.escalating),
            ),
            Field(
                "Name, Roles and Agency of others involved",
                "\n".join(marked(person(p), p) for p in history.others()),
                lines=3,
            ),
        ]
    )
    pdf.box(
        "Brief details of the professional disagreement:",
        _details(pdf, case.summary, case.concern),
        name="Details of the disagreement",
    )
    pdf.heading(
        "Outline of Steps taken and who was involved from Stages 1-5 in line with NSCP "
        "Escalation Policy"
    )
    pdf.table_of(
        ("Stage", "Steps taken and who was involved"),
        [[stage_label(history.procedure, n), _steps_at(history, n)] for n in range(1, 6)],
        (0.3, 0.7),
    )
    pdf.fields([Field(f"Stage {n} Meeting Date", meeting_dates(history, n)) for n in (1, 3, 5)])
    pdf.box(
        "If any of the above Stage Meeting dates have not taken place please outline the "
        "reasons why:",
        _meetings_not_held(history),
        lines=3,
        name="Reasons stage meetings did not take place",
    )
    pdf.box(
        "What is the learning for your agencies from this case?",
        resolution.lessons if resolution else "",
        name="Lessons learned",
    )
    extras = resolution_extras(resolution)
    pdf.box(
        "Is there learning for the wider safeguarding partnership?",
        str(extras.get(PARTNERSHIP_LEARNING, "")),
        lines=3,
        name="Learning for the partnership",
    )
    for key, question in (
        ("staff_training", "A requirement for staff training"),
        ("new_protocol", "Development of a new NSCP Protocol / Procedure"),
        ("sub_group", "Further discussion at a particular NSCP Sub Group"),
    ):
        answer = extras.get(key)
        chosen = None if answer is None else ("Yes" if answer else "No")
        pdf.choices(question, ("Yes", "No"), chosen, name=RESOLUTION_QUESTIONS[key])
    pdf.fields([Field("Other", lines=2, hand=True)])
    pdf.paragraph(
        "Submit the completed form to the NSCP Business Manager by secure email or as a "
        "password-protected document.",
        size=8,
    )


def _steps_at(history: CaseHistory, stage: int) -> str:
    """What was done, and by whom, while the case was at a stage."""
    if visit_of(history, stage) is None:
        return "Skipped" if stage in history.state.skipped else "Not reached"
    lines = [line for event, line in history.steps() if history.stage_at(event.at) == stage]
    return "\n".join(lines) or "Reached; no steps recorded"


def _meetings_not_held(history: CaseHistory) -> str:
    """The reasons the console knows for a missing stage 1, 3 or 5 meeting date."""
    known = []
    for stage in (1, 3, 5):
        if meeting_dates(history, stage):
            continue
        if visit_of(history, stage) is None:
            reached = "skipped" if stage in history.state.skipped else "not reached"
            known.append(f"Stage {stage}: {reached}.")
        else:
            known.append(f"Stage {stage}: no meeting recorded. Reason: {BLANK_LINE}")
    return "\n".join(known)


def _st_helens_notice(
    pdf: FormSheet, history: CaseHistory, school: str, completed_by: Professional | None
) -> None:
    """St Helens SCB, the Escalation Notice."""
    case, resolution = history.facts, history.resolution
    pdf.title_block(
        "St Helens Safeguarding Children Board",
        "Escalation Notice",
        "Forwarded to the Service Manager (or agency equivalent) within 5 working days; a copy "
        "is sent to the LSCB Business Manager.",
    )
    raised = escalating(history, completed_by)
    issuing = school or (raised.agency if raised else "")
    pdf.fields(
        [
            Field("Agency issuing Escalation Notice", issuing),
            Field("Agency receiving Escalation Notice", case.other_agency),
            Field("Name of Child/Young Person", case.child.name),
            Field("D.O.B", uk_date(case.child.dob)),
        ]
    )
    concern = (
        f"{_details(pdf, case.summary, case.concern)}\n"
        f"Reason for disagreement: {reason_label(case.reason)}\n"
        f"Level of need: {level_label(case.level_of_need)}"
    )
    pdf.box("Please document any information of concern.", concern)
    partnership = [
        e for e in history.of_kind(EventKind.NOTIFIED) if e.whom.strip().lower() == PARTNERSHIP
    ]
    # The copy is the notice itself when the event says which form was sent; a notice to the
    # partnership that names no form is taken to be it, one naming another form is not.
    copies = [e for e in partnership if e.form == "st-helens-notice"] or [
        e for e in partnership if not e.form
    ]
    signer = completed_by or raised  # who signs is who completes the notice
    pdf.fields(
        [
            Field("Signed", hand=True),
            Field("Role", signer.role if signer else ""),
            Field("Dated", hand=True),
            Field("Copy to LSCB", "Yes" if copies else ""),
            Field("Date", uk_day(copies[0].at) if copies else "", name="Date copied to LSCB"),
        ]
    )
    pdf.heading("Resolution")
    issues = reason_label(case.reason)
    if resolution is not None and resolution.note:
        issues += f"\nOutcome: {resolution.note}"
    pdf.fields(
        [
            Field("Date of resolution", uk_day(resolution.at) if resolution else ""),
            Field(
                "Level of resolution",
                stage_label(history.procedure, history.resolved_stage)
                if history.resolved_stage
                else "",
            ),
            Field("Issues raised", issues, lines=3),
            Field(
                "Lessons learnt",
                resolution.lessons if resolution else "",
                lines=3,
                name="Lessons learned",
            ),
        ]
    )


def _st_helens_resolution(
    pdf: FormSheet, history: CaseHistory, school: str, completed_by: Professional | None
) -> None:
    """St Helens SCB, the Escalation Resolution Template."""
    case, state = history.facts, history.state
    pdf.title_block(
        "St Helens Safeguarding Children Board",
        "Escalation Resolution Template",
        "This is to be completed once the Escalation is resolved and sent to the Business "
        "Manager (Safeguarding Children Board)",
    )
    managed = [
        label
        for label, on in (
            ("Child Protection Plan", case.cp_plan),
            ("Child Looked After", case.looked_after),
        )
        if on
    ]
    resolved = history.resolved_stage
    pdf.fields(
        [
            Field("Name of Child", case.child.name),
            Field("Parents", case.child.parents),
            Field("Lead Practitioner & Agency", _lead_practitioner(history)),
            Field("Continuum of Need", level_label(case.level_of_need)),
            Field(
                "Procedures Case Managed",
                ", ".join(managed) or "Neither (no CP plan, not looked after)",
            ),
            Field("Stage of Escalation", stage_label(history.procedure, state.highest_stage)),
            Field(
                "Stage Escalation Resolved",
                stage_label(history.procedure, resolved) if resolved else "Not yet resolved",
            ),
            *[Field(f"Timescales adhered to Stage {n}", adhered(history, n)) for n in (1, 2, 3)],
        ]
    )
    reason = main_reason(case.reason)
    pdf.choices(
        "Main reason for escalation", MAIN_REASONS, reason if reason in MAIN_REASONS else None
    )
    pdf.box("Action", "\n".join(_action_line(a) for a in agreed_actions(history)))
    informed = [notified_words(e) for e in history.of_kind(EventKind.NOTIFIED)]
    raised = escalating(history, completed_by)
    pdf.fields(
        [
            Field("Name of referrer", raised.name if raised else ""),
            Field("Practitioners Informed", "; ".join(informed)),
            Field("Date form completed", hand=True),
            Field("Method of delivery (delete as appropriate)", hand=True),
        ]
    )


def _action_line(action: AgreedAction) -> str:
    details = [
        f"by {action.owner}" if action.owner else "",
        f"due {action.due}" if action.due else "",
    ]
    details.append(f"completed {action.completed}" if action.completed else NOT_COMPLETED.lower())
    return f"{action.action} ({', '.join(d for d in details if d)})"


_LAYOUTS: dict[str, Callable[[FormSheet, CaseHistory, str, Professional | None], None]] = {
    "liverpool": _liverpool,
    "newham": _newham,
    "st-helens-notice": _st_helens_notice,
    "st-helens-resolution": _st_helens_resolution,
}


def _lead_practitioner(history: CaseHistory) -> str:
    """The professional marked lead practitioner (as they stand), with their agency."""
    lead = next((p for p in history.facts.professionals if p.lead and p.involved), None)
    if lead is None:
        return ""
    return ", ".join(part for part in (lead.name, role_and_agency(lead)) if part)
