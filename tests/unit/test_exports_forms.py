"""Each partnership form, read back with pypdf as the partnership would read it."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pypdf
import pytest

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.forms import FORM_IDS as FORMS
from dsl_console.core.procedures import load_registry
from dsl_console.core.records import Case, Child, Event, Professional
from dsl_console.errors import InputError
from dsl_console.services.exports import pdf_fonts
from dsl_console.services.exports.forms import blank_fields, write_form
from tests.fictional import SCHOOL

AS_OF = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
REGISTRY = load_registry()
CALENDAR = WorkingCalendar()
BLANK = "_" * 10  # a ruled line left for hand completion
try:
    pdf_fonts.find_unicode_font()
    UNICODE = True
except LookupError:  # a machine without DejaVu, Liberation or Arial: Helvetica, transliterated
    UNICODE = False
LUKASZ = "Łukasz" if UNICODE else "Lukasz"
DASH = "\u2014" if UNICODE else "-"


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


DSL = Professional("Zoë Ó'Brien", "Designated Safeguarding Lead", SCHOOL, "z.obrien@school.example")
SOCIAL_WORKER = Professional("Łukasz Example", "Social worker", "Children's social care")
MANAGER = Professional("Sam Sample", "Team manager", "Children's social care")


def stage_three_case(**changes: object) -> Case:
    """Liverpool, stage 3 reached (stage 2 late, with a reason), resolved with lessons."""
    fields: dict[str, object] = dict(
        ref="SCH-2026-014",
        procedure="liverpool",
        opened_at=at(1, 9, 30),
        child=Child(
            "Ada Example",
            date(2014, 5, 2),
            "1 Example Street, Exampletown EX1 2AB",
            "Bea Example, Cal Example",
        ),
        other_agency="Children's social care",
        level_of_need="s47",
        cp_plan=True,
        reason="threshold",
        summary="Referral declined as below threshold; school disagrees.",
        professionals=(DSL, SOCIAL_WORKER, MANAGER),
        raised_by=DSL,
        events=(
            Event(at(1, 11), "discussion", by="Zoë Ó'Brien", note="Call with the social worker."),
            Event(at(2, 9), "escalated", stage=2, by="Zoë Ó'Brien", note="To the team manager."),
            Event(at(2, 10), "notified", whom="iro"),
            Event(at(8, 14), "meeting", by="Sam Sample", note="Professionals meeting."),
            Event(at(14, 9), "escalated", stage=3, by="Zoë Ó'Brien"),
            Event(at(14, 10), "notified", whom="partnership"),
            Event(at(14, 11), "timescale-missed", stage=2, note="Team manager on leave."),
            Event(
                at(14, 12), "action", whom="Sam Sample", due=at(18, 17), note="Re-open referral."
            ),
            Event(at(15, 12), "action-done", action=1),
            Event(
                at(15, 16),
                "resolved",
                note="Strategy meeting agreed.",
                lessons="Share the threshold guidance at induction.",
                method="Mediation meeting",
            ),
        ),
    )
    fields.update(changes)
    return Case(**fields)  # type: ignore[arg-type]


def render(case: Case, form: Any, tmp_path: Path, completed_by: Professional | None = None) -> str:
    """The form's text as pypdf extracts it, whitespace collapsed to single spaces."""
    out = tmp_path / f"{form}.pdf"
    write_form(
        case,
        REGISTRY,
        CALENDAR,
        form=form,
        school=SCHOOL,
        out=out,
        as_of=AS_OF,
        completed_by=completed_by,
    )
    reader = pypdf.PdfReader(out)
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.mark.parametrize("form", FORMS)
def test_every_form_carries_the_child_professionals_history_and_outcome(form, tmp_path):
    text = render(stage_three_case(), form, tmp_path)
    for expected in (
        "Ada Example",
        "02/05/2014",
        "1 Example Street, Exampletown EX1 2AB",  # in the form, or the record after it
        "Zoë Ó'Brien",
        f"{LUKASZ} Example",
        "Sam Sample",
        "Social worker",
        "Children's social care",
        "Stage 1: Attempt resolution",
        "Stage 2: Organisation safeguarding representative",
        "Stage 3: LSCB safeguarding representative",
        "01/12/2026 09:30",  # opened / entered stage 1, London time
        "14/12/2026 09:00",  # entered stage 3
        "not kept (Team manager on leave.)",
        "08/12/2026",  # the meeting
        "Strategy meeting agreed.",
        "Share the threshold guidance at induction.",
        "Re-open referral.",
        "SCH-2026-014",
    ):
        assert expected in text, expected


def test_liverpool_appendix_2_fields(tmp_path):
    text = render(stage_three_case(), "liverpool", tmp_path)
    for expected in (
        "Appendix 2. Report to LSCB: Multi-Agency Resolution: Escalation Stages 3 and 4",
        "Name of Child / young Person Ada Example",
        "Date of Birth 02/05/2014",
        "Name and email of Professional Escalating concern Zoë Ó'Brien, z.obrien@school.example",
        "Role and Agency Designated Safeguarding Lead, Example Primary School",
        "Please indicate level of need Early Help [ ] S17 [ ] S47 [X]",
        "Brief details of inter agency disagreement (including agreed outcomes)",
        "Date of discussion/ Meeting re disagreement 01/12/2026 (discussion); 08/12/2026 (meeting)",
        "Methodology used to resolve conflict Mediation meeting",
        "Disagreement resolved at Level 3 [X] Level 4 [ ]",
        "Actions taken By whom Date completed Re-open referral. Sam Sample 15/12/2026",
        f"Form completed by {BLANK}",
        f"Date received by LSCB Business Manager {BLANK}",
        "Outcome / Issues notified to LSCB Executive Group",
    ):
        assert expected in text, expected


def test_liverpool_resolved_at_stage_4_ticks_level_4(tmp_path):
    case = stage_three_case()
    events = (
        *case.events[:-1],
        Event(at(16, 9), "escalated", stage=4, by="Zoë Ó'Brien"),
        Event(at(17, 15), "resolved", note="Chair's panel decided."),
    )
    text = render(stage_three_case(events=events), "liverpool", tmp_path)
    assert "Disagreement resolved at Level 3 [ ] Level 4 [X]" in text
    assert "Stage 4: LSCB Independent Chair" in text


def test_newham_referral_form_fields(tmp_path):
    text = render(stage_three_case(), "newham", tmp_path)
    for expected in (
        "NSCP Escalation Referral Form",
        "(Copy to be kept on service user file)",
        "Name of child/young person Ada Example",
        "DOB 02/05/2014",
        "Name, Role and Agency of person completing this form Zoë Ó'Brien, "
        "Designated Safeguarding Lead, Example Primary School",
        "Brief details of the professional disagreement: Referral declined",
        "Outline of Steps taken and who was involved from Stages 1-5",
        "Stage 1 Meeting Date 01/12/2026 (discussion)",
        f"Stage 3 Meeting Date {BLANK}",
        "Stage 5: not reached.",
        "What is the learning for your agencies from this case? Share the threshold guidance",
        "A requirement for staff training Yes [ ] No [ ]",
        "Development of a new NSCP Protocol / Procedure Yes [ ] No [ ]",
        "Further discussion at a particular NSCP Sub Group Yes [ ] No [ ]",
    ):
        assert expected in text, expected
    # Nothing the console knows answers this one: it is left empty for the DSL.
    assert re.search(
        r"Is there learning for the wider safeguarding partnership\? A requirement", text
    )


def test_st_helens_escalation_notice_fields(tmp_path):
    text = render(stage_three_case(), "st-helens-notice", tmp_path)
    for expected in (
        "Escalation Notice",
        "Agency issuing Escalation Notice Example Primary School",
        "Agency receiving Escalation Notice Children's social care",
        "Name of Child/Young Person Ada Example",
        "D.O.B 02/05/2014",
        "Please document any information of concern. Referral declined",
        f"Signed {BLANK}",
        "Role Designated Safeguarding Lead",
        f"Dated {BLANK}",
        "Copy to LSCB Yes Date 14/12/2026",
        "Date of resolution 15/12/2026",
        "Level of resolution Stage 3: LSCB safeguarding representative",
        "Issues raised Thresholds / level of need at referral Outcome: Strategy meeting agreed.",
        "Lessons learnt Share the threshold guidance at induction.",
    ):
        assert expected in text, expected


def test_st_helens_resolution_template_fields(tmp_path):
    text = render(stage_three_case(), "st-helens-resolution", tmp_path)
    for expected in (
        "Escalation Resolution Template",
        "Name of Child Ada Example",
        "Parents Bea Example, Cal Example",
        f"Lead Practitioner & Agency {BLANK}",
        "Continuum of Need Section 47 (child protection)",
        "Procedures Case Managed Child Protection Plan",
        "Stage of Escalation Stage 3: LSCB safeguarding representative",
        "Stage Escalation Resolved Stage 3: LSCB safeguarding representative",
        "Timescales adhered to Stage 1 Yes",
        "Timescales adhered to Stage 2 No. Reason: Team manager on leave.",
        "Timescales adhered to Stage 3 Yes",
        "Threshold Conflict [X] Communication [ ] Need for Action [ ] Roles & Responsibilities [ ]",
        "Re-open referral. (by Sam Sample, due 18/12/2026, completed 15/12/2026)",
        "Name of referrer Zoë Ó'Brien",
        "Practitioners Informed the Independent Reviewing Officer; the partnership",
        f"Date form completed {BLANK}",
        f"Method of delivery (delete as appropriate) {BLANK}",
    ):
        assert expected in text, expected


@pytest.mark.parametrize("form", FORMS)
def test_what_the_console_does_not_know_is_left_blank(form, tmp_path):
    bare = Case(
        ref="SCH-2026-021",
        procedure="liverpool",
        opened_at=at(1, 9, 30),
        child=Child("Ada Example", date(2014, 5, 2)),
        events=(Event(at(2, 9), "escalated", stage=3),),
    )
    text = render(bare, form, tmp_path)
    assert "Ada Example" in text and "02/05/2014" in text
    assert text.count(BLANK) >= 3  # address, signatures, dates: ruled lines to write on
    assert "Unresolved as at 20/12/2026." in text  # the supporting record says it is open
    assert "Strategy" not in text


def test_an_open_case_leaves_the_outcome_fields_blank(tmp_path):
    case = stage_three_case(events=stage_three_case().events[:-1])
    text = render(case, "st-helens-notice", tmp_path)
    assert f"Date of resolution {BLANK}" in text
    assert f"Level of resolution {BLANK}" in text
    text = render(case, "st-helens-resolution", tmp_path)
    assert "Stage Escalation Resolved Not yet resolved" in text


def test_without_a_unicode_font_names_are_transliterated_not_lost(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_fonts, "FONT_CANDIDATES", ())
    case = stage_three_case(child=Child("Ada Example 李", date(2014, 5, 2)))
    text = render(case, "liverpool", tmp_path)
    assert "Lukasz Example" in text
    assert "Zoë Ó'Brien" in text  # Latin-1 survives as it is
    assert "Ada Example ?" in text


def test_writing_a_form_logs_and_prints_no_personal_data(tmp_path, caplog, capsys):
    case = stage_three_case(child=Child("Ada Example 李", date(2014, 5, 2)))
    with caplog.at_level(logging.DEBUG):
        for form in FORMS:
            render(case, form, tmp_path)
    logged = caplog.text + "".join(capsys.readouterr())
    for secret in ("Ada", "李", "Example Street", "Łukasz", "02/05/2014"):
        assert secret not in logged


def test_the_pdf_metadata_names_the_case_not_the_child(tmp_path):
    out = tmp_path / "form.pdf"
    write_form(
        stage_three_case(), REGISTRY, CALENDAR, form="newham", school=SCHOOL, out=out, as_of=AS_OF
    )
    metadata = pypdf.PdfReader(out).metadata
    assert metadata is not None and "SCH-2026-014" in (metadata.title or "")
    assert "Ada" not in str(dict(metadata))


def test_very_long_text_flows_onto_further_pages(tmp_path):
    summary = " ".join(["Concern"] * 2500) + " END-OF-SUMMARY"
    long_action = " ".join(["step"] * 900) + " END-OF-ACTION"
    case = stage_three_case(summary=summary)
    events = (*case.events[:7], Event(at(14, 12), "action", whom="Sam Sample", note=long_action))
    text = render(stage_three_case(summary=summary, events=events), "liverpool", tmp_path)
    assert "END-OF-SUMMARY" in text
    assert "continued in note 1" in text and "END-OF-ACTION" in text
    # The action is in the form's table and in the record's: one note serves both.
    assert "continued in note 2" not in text and text.count("END-OF-ACTION") == 1


def test_an_unknown_form_is_refused(tmp_path):
    with pytest.raises(InputError, match="form: choose one of liverpool, newham"):
        write_form(
            stage_three_case(),
            REGISTRY,
            CALENDAR,
            form="leeds",
            school=SCHOOL,
            out=tmp_path / "x.pdf",
            as_of=AS_OF,
        )
    assert list(tmp_path.iterdir()) == []


# The account holder exporting the form, as exporting.py makes them from the session.
COMPLETER = Professional(
    "Robin Example", "Deputy Designated Safeguarding Lead", SCHOOL, "r.example@school.example"
)
PAT = {
    "name": "Pat Placeholder",
    "role": "Health visitor",
    "agency": "Example Health Trust",
    "email": "p.placeholder@health.example",
    "involved": True,
}
SAM_LEFT = {
    "name": "Sam Sample",
    "role": "Team manager",
    "agency": "Children's social care",
    "email": "",
    "involved": False,
}


def living_case() -> Case:
    """The stage 3 case with an immediate risk ticked at the opening and another raised later,
    notices to all four usual recipients, amended facts and changed professionals."""
    base = stage_three_case()
    by = "Zoë Ó'Brien"
    added = (
        Event(at(1, 10), "risk-escalated", by=by, note="Police called; strategy held."),
        Event(at(3, 9), "amended", field="child.address", by=by, note="Moved to her aunt's.",
              value="2 Sample Road, Exampletown EX1 3CD"),
        Event(at(3, 10), "professional", value=PAT, by=by, note="Joined the core group."),
        Event(at(4, 9), "risk-raised", by=by, note="New bruising seen."),
        Event(at(4, 10), "risk-escalated", by=by, note="Referred to the MASH."),
        Event(at(9, 9), "professional", field="3", value=SAM_LEFT, by=by, note="Left the team."),
        Event(at(9, 10), "amended", field="concern", value="Ada is often left alone overnight.",
              by=by, note="Fuller account from her aunt."),
        Event(at(14, 10, 30), "notified", whom="other-agency", form="st-helens-notice", by=by),
        Event(at(14, 10, 45), "notified", whom="team-manager", by=by, note="By phone."),
    )  # fmt: skip
    events = [
        Event(e.at, e.kind, whom=e.whom, form="liverpool", by=by)
        if e.kind == "notified" and e.whom == "partnership"
        else e
        for e in base.events
    ]
    return stage_three_case(
        immediate_risk=True,
        concern="Ada arrives hungry most mornings.",
        events=tuple(sorted((*events, *added), key=lambda e: e.at)),
    )


@pytest.mark.parametrize("form", FORMS)
def test_every_form_carries_the_living_record(form, tmp_path):
    text = render(living_case(), form, tmp_path)
    for expected in (
        # Every escalation, with its note.
        "02/12/2026 09:00 Stage 2: Organisation safeguarding representative Zoë Ó'Brien "
        "To the team manager.",
        "14/12/2026 09:00 Stage 3: LSCB safeguarding representative Zoë Ó'Brien",
        # Every immediate risk: the one ticked at the opening, the later one, each escalation.
        "Raised at the opening by Zoë Ó'Brien",
        "Escalated by Zoë Ó'Brien Police called; strategy held.",
        "Raised by Zoë Ó'Brien New bruising seen.",
        "Escalated by Zoë Ó'Brien Referred to the MASH.",
        # Every notification, with the form sent where one was.
        "the Independent Reviewing Officer",
        "the partnership Report to LSCB, Appendix 2",
        "the other agency Escalation Notice",
        "the Team Manager",
        "By phone.",
        # Every amendment, with what it replaced and why.
        "Child's address amended on 03/12/2026 by Zoë Ó'Brien: was 1 Example Street, "
        f"Exampletown EX1 2AB, now 2 Sample Road, Exampletown EX1 3CD {DASH} Moved to her aunt's.",
        "Concern amended on 09/12/2026 by Zoë Ó'Brien: was Ada arrives hungry most mornings., "
        f"now Ada is often left alone overnight. {DASH} Fuller account from her aunt.",
        "Professional added on 03/12/2026 by Zoë Ó'Brien: Pat Placeholder, Health visitor, "
        f"Example Health Trust, p.placeholder@health.example {DASH} Joined the core group.",
        "Professional Sam Sample, Team manager, Children's social care marked no longer "
        f"involved on 09/12/2026 by Zoë Ó'Brien {DASH} Left the team.",
        # The professionals and the facts as they stand.
        "Pat Placeholder Health visitor Example Health Trust",
        "Sam Sample (no longer involved)",
        "Concern Ada is often left alone overnight.",
        "Address 2 Sample Road, Exampletown EX1 3CD",
        "Reason for disagreement Thresholds / level of need at referral",
    ):
        assert expected in text, expected
    # The old address survives only in the amendment that replaced it.
    assert text.count("1 Example Street") == 1


def test_the_forms_own_fields_show_the_case_as_it_stands(tmp_path):
    text = render(living_case(), "liverpool", tmp_path)
    assert "Address 2 Sample Road, Exampletown EX1 3CD" in text
    assert (
        "Brief details of inter agency disagreement (including agreed outcomes) Referral " in text
    )
    assert "Concern: Ada is often left alone overnight." in text
    assert "Pat Placeholder Health visitor, Example Health Trust" in text
    assert "Sam Sample (no longer involved) Team manager, Children's social care" in text
    text = render(living_case(), "newham", tmp_path)
    assert "Pat Placeholder, Health visitor, Example Health Trust" in text
    assert "Sam Sample, Team manager, Children's social care (no longer involved)" in text
    assert (
        "Stage 1: Attempt resolution (incl. line manager) 01/12/2026 Immediate risk raised at "
        "the opening by Zoë Ó'Brien 01/12/2026 Immediate risk escalated by Zoë Ó'Brien: "
        "Police called; strategy held." in text
    )
    text = render(living_case(), "st-helens-notice", tmp_path)
    assert (
        "Please document any information of concern. Referral declined as below threshold; "
        "school disagrees. Concern: Ada is often left alone overnight. Reason for disagreement: "
        "Thresholds / level of need at referral Level of need: Section 47" in text
    )
    # The copy sent to the partnership was the Report to LSCB, not the notice.
    assert f"Copy to LSCB {BLANK}" in text
    text = render(living_case(), "st-helens-resolution", tmp_path)
    assert (
        "Practitioners Informed the Independent Reviewing Officer; the partnership (sent the "
        "Report to LSCB, Appendix 2); the other agency (sent the Escalation Notice); the Team "
        "Manager" in text
    )


def test_a_correction_of_the_escalating_professional_applies_to_them(tmp_path):
    corrected = {
        "name": "Zoë Ó'Brien",
        "role": "Designated Safeguarding Lead",
        "agency": SCHOOL,
        "email": "dsl@school.example",
        "involved": True,
    }
    case = stage_three_case()
    fix = Event(at(3, 9), "professional", field="1", value=corrected, note="New address.")
    case = stage_three_case(events=tuple(sorted((*case.events, fix), key=lambda e: e.at)))
    text = render(case, "liverpool", tmp_path)
    assert "Professional Escalating concern Zoë Ó'Brien, dsl@school.example" in text
    assert "Zoë Ó'Brien (escalating) Designated Safeguarding Lead" in text
    # Not listed again among the others for having been corrected.
    assert f"(Including LSCB Board Members where appropriate) Role and Agency {LUKASZ}" in text


def test_the_person_completing_fills_the_by_lines_by_name_and_title(tmp_path):
    # No one recorded as raising it: the person completing the form is the one escalating.
    case = stage_three_case(raised_by=None, professionals=(SOCIAL_WORKER, MANAGER))
    text = render(case, "liverpool", tmp_path, COMPLETER)
    assert (
        "Name and email of Professional Escalating concern Robin Example, r.example@school.example"
        in text
    )
    assert "Role and Agency Deputy Designated Safeguarding Lead, Example Primary School" in text
    assert "Form completed by Robin Example, Deputy Designated Safeguarding Lead" in text
    text = render(case, "newham", tmp_path, COMPLETER)
    assert (
        "Name, Role and Agency of person completing this form Robin Example, Deputy Designated "
        "Safeguarding Lead, Example Primary School" in text
    )
    text = render(case, "st-helens-notice", tmp_path, COMPLETER)
    assert "Role Deputy Designated Safeguarding Lead Dated" in text
    text = render(case, "st-helens-resolution", tmp_path, COMPLETER)
    assert "Name of referrer Robin Example" in text


def test_the_one_who_raised_it_stays_the_professional_escalating(tmp_path):
    text = render(stage_three_case(), "liverpool", tmp_path, COMPLETER)
    assert "Professional Escalating concern Zoë Ó'Brien, z.obrien@school.example" in text
    assert "Form completed by Robin Example, Deputy Designated Safeguarding Lead" in text
    text = render(stage_three_case(), "st-helens-resolution", tmp_path, COMPLETER)
    assert "Name of referrer Zoë Ó'Brien" in text


def bare_case() -> Case:
    return Case(
        ref="SCH-2026-021",
        procedure="liverpool",
        opened_at=at(1, 9, 30),
        child=Child("Ada Example", date(2014, 5, 2)),
        events=(Event(at(2, 9), "escalated", stage=3),),
    )


def test_blank_fields_names_what_the_record_leaves_blank_in_the_forms_order():
    blanks = blank_fields(bare_case(), REGISTRY, CALENDAR, form="liverpool", as_of=AS_OF)
    assert blanks == [
        "Child's address",
        "Name and email of professional escalating",
        "Role and Agency",
        "Other professionals involved",
        "Level of need",
        "Concern",
        "Date of discussion/ Meeting re disagreement",
        "Methodology used to resolve conflict",
        "Disagreement resolved at",
        "Lessons learned",
        "Further actions taken",
        "Form completed by",
        # Then the case record's.
        "Parents / carers",
        "Other agency",
        "Professionals involved",
    ]
    # Signatures, dates of completion and the partnership's own boxes are for a pen.
    assert "Date" not in blanks and "Date received by LSCB Business Manager" not in blanks


def test_blank_fields_shrink_as_the_record_fills():
    blanks = blank_fields(
        living_case(), REGISTRY, CALENDAR, form="liverpool", as_of=AS_OF, completed_by=COMPLETER
    )
    assert blanks == []
    blanks = blank_fields(
        living_case(), REGISTRY, CALENDAR, form="st-helens-resolution", as_of=AS_OF
    )
    assert blanks == ["Lead Practitioner & Agency"]


@pytest.mark.parametrize("form", FORMS)
def test_blank_fields_are_what_the_written_form_prints_blank(form, tmp_path):
    for case in (bare_case(), stage_three_case(), living_case()):
        expected = blank_fields(
            case, REGISTRY, CALENDAR, form=form, as_of=AS_OF, completed_by=COMPLETER
        )
        written = write_form(
            case,
            REGISTRY,
            CALENDAR,
            form=form,
            school=SCHOOL,
            out=tmp_path / "form.pdf",
            as_of=AS_OF,
            completed_by=COMPLETER,
        )
        assert written == expected


def test_a_blank_field_reported_is_printed_blank(tmp_path):
    text = render(bare_case(), "st-helens-notice", tmp_path)
    blanks = blank_fields(bare_case(), REGISTRY, CALENDAR, form="st-helens-notice", as_of=AS_OF)
    assert "Agency receiving Escalation Notice" in blanks
    assert f"Agency receiving Escalation Notice {BLANK}" in text
    assert "Date copied to LSCB" in blanks and f"Copy to LSCB {BLANK}" in text
    assert "Signed" not in blanks and f"Signed {BLANK}" in text


def test_blank_fields_refuses_an_unknown_form():
    with pytest.raises(InputError, match="form: choose one of liverpool, newham"):
        blank_fields(bare_case(), REGISTRY, CALENDAR, form="leeds", as_of=AS_OF)


# -- what the resolve and professional forms capture, printed where the templates ask ---------
def test_the_partnership_learning_and_yes_no_answers_fill_newhams_questions(tmp_path):
    case = stage_three_case()
    resolved = replace(
        case.events[-1],
        value={
            "learning": "Threshold guidance to be reviewed at the sub group.",
            "staff_training": True,
            "new_protocol": False,
        },
    )
    text = render(replace(case, events=(*case.events[:-1], resolved)), "newham", tmp_path)
    assert (
        "Is there learning for the wider safeguarding partnership? Threshold guidance to be "
        "reviewed at the sub group." in text
    )
    assert "A requirement for staff training Yes [X] No [ ]" in text
    assert "Development of a new NSCP Protocol / Procedure Yes [ ] No [X]" in text
    # Not answered: left for a pen, and named among what prints blank.
    assert "Further discussion at a particular NSCP Sub Group Yes [ ] No [ ]" in text
    blanks = blank_fields(
        replace(case, events=(*case.events[:-1], resolved)),
        REGISTRY,
        CALENDAR,
        form="newham",
        as_of=AS_OF,
        school=SCHOOL,
    )
    assert "Further discussion at a partnership sub group" in blanks
    assert "Learning for the partnership" not in blanks


def test_the_lead_practitioner_fills_st_helens_resolution_template(tmp_path):
    lead = replace(SOCIAL_WORKER, lead=True)
    case = stage_three_case(professionals=(DSL, lead, MANAGER))
    text = render(case, "st-helens-resolution", tmp_path)
    assert (
        f"Lead Practitioner & Agency {LUKASZ} Example, Social worker, Children's social care"
        in text
    )


def test_each_printable_form_is_offered_everywhere_from_its_one_definition(tmp_path):
    # One table names the forms: adding one there shows in `--form`, in the export screen's
    # menu and in the PDF's title, and a form without a layout is caught here.
    from dsl_console.cli import build_parser
    from dsl_console.core.forms import PARTNERSHIP_FORMS
    from dsl_console.services.exports.forms import _LAYOUTS
    from dsl_console.ui.screens.export import FORM_OPTIONS

    assert set(_LAYOUTS) == set(PARTNERSHIP_FORMS)
    assert [value for _label, value in FORM_OPTIONS] == list(FORMS)
    args = ["export", "report", "SCH-1", "--out", "x.pdf", "--form"]
    for form in FORMS:
        assert build_parser().parse_args([*args, form]).form == form
    out = tmp_path / "form.pdf"
    write_form(
        stage_three_case(), REGISTRY, CALENDAR, form="newham", school=SCHOOL, out=out, as_of=AS_OF
    )
    metadata = pypdf.PdfReader(out).metadata
    assert metadata is not None
    assert metadata.title == f"{PARTNERSHIP_FORMS['newham'].title} SCH-2026-014"
