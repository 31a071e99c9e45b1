"""The yearly analysis: the figures, and the CSV and PDF a partnership reads them in."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pypdf
import pytest

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.procedures import load_registry
from dsl_console.core.records import Case, Child, Event
from dsl_console.errors import InputError
from dsl_console.services.exports.analysis import Analysis, write_analysis, yearly_figures
from dsl_console.services.exports.pdf_layout import ExportPdf

REGISTRY = load_registry()
CALENDAR = WorkingCalendar()
AS_OF = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
CHILD = Child("Ada Example", date(2014, 5, 2))
L1 = "Stage 1: Attempt resolution (incl. line manager)"
L2 = "Stage 2: Organisation safeguarding representative"
L3 = "Stage 3: LSCB safeguarding representative"


def at(month: int, day: int, hour: int = 10, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


def cases() -> list[Case]:
    return [
        # Resolved at stage 1 in 3 working days (Mon 7 Dec to Thu 10 Dec); stage 1 late.
        Case(
            ref="A",
            procedure="liverpool",
            opened_at=at(12, 7, 9),
            child=CHILD,
            reason="threshold",
            other_agency="Children's social care",
            events=(
                Event(at(12, 9), "timescale-missed", stage=1, note="Social worker off sick."),
                Event(at(12, 10), "resolved", note="Agreed."),
            ),
        ),
        # Resolved at stage 2 the next working day, everything on time.
        Case(
            ref="B",
            procedure="liverpool",
            opened_at=at(3, 2, 9),
            child=CHILD,
            reason="information-sharing",
            other_agency="Health",
            events=(
                Event(at(3, 2, 11), "escalated", stage=2),
                Event(at(3, 3, 11), "resolved", note="Shared."),
            ),
        ),
        # Still open at stage 1, already overdue.
        Case(
            ref="C",
            procedure="liverpool",
            opened_at=at(6, 1, 9),
            child=CHILD,
            reason="communication",
            other_agency="Health",
        ),
        # Opened in another year: left out.
        Case(ref="D", procedure="liverpool", opened_at=at(12, 1, year=2025), child=CHILD),
        # 23:30 UTC on 31 Dec 2026 is 31 Dec in London: in 2026. No agency recorded.
        Case(ref="E", procedure="newham", opened_at=at(12, 31, 23), child=CHILD),
    ]


def figures() -> Analysis:
    return yearly_figures(cases(), REGISTRY, CALENDAR, 2026, AS_OF, school="Example Primary School")


def test_counts_every_escalation_opened_in_the_year_from_stage_1():
    result = figures()
    assert result.opened == 4
    assert result.resolved == 2
    assert result.unresolved == 2
    liverpool, newham = result.by_procedure["liverpool"], result.by_procedure["newham"]
    assert liverpool.resolved_at == {L1: 1, L2: 1, "Unresolved": 1}
    assert newham.resolved_at == {"Unresolved": 1}
    assert (liverpool.opened, newham.opened) == (3, 1)


def test_reasons_agencies_and_main_reasons_are_counted_largest_first():
    result = figures()
    assert next(iter(result.by_agency.items())) == ("Health", 2)
    assert result.by_agency["Not recorded"] == 1
    assert result.by_reason["Thresholds / level of need at referral"] == 1
    assert result.by_main_reason == {
        "Communication": 2,
        "Not recorded": 1,
        "Threshold Conflict": 1,
    }


def test_timescales_kept_and_missed_per_stage_with_the_reasons():
    result = figures()
    # Liverpool stage 1: A late, B on time, C overdue and open; Newham's (3 days): E overdue.
    assert result.by_procedure["liverpool"].timescales == {L1: (1, 2), L2: (1, 0)}
    assert result.by_procedure["newham"].timescales == {"Stage 1: Professionals discuss": (0, 1)}
    assert result.missed_reasons == {"No reason recorded": 2, "Social worker off sick.": 1}


def test_median_working_days_from_opening_to_resolution():
    assert figures().median_working_days == 2.0  # 3 days and 1 day
    empty = yearly_figures([], REGISTRY, CALENDAR, 2026, AS_OF)
    assert empty.opened == 0 and empty.median_working_days is None


def test_csv_reads_back_as_section_item_value(tmp_path: Path):
    out = tmp_path / "analysis.csv"
    write_analysis(figures(), out, "csv")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Section", "Item", "Value"]
    assert ["Escalations opened", "2026", "4"] in rows
    assert ["Median working days from opening to resolution", "2026", "2"] in rows
    assert ["Resolved at stage", f"Liverpool SCB escalation policy: {L2}", "1"] in rows
    assert ["Timescale missed", f"Liverpool SCB escalation policy: {L1}", "2"] in rows
    assert [
        "Timescale missed",
        "Newham SCP escalation policy: Stage 1: Professionals discuss",
        "1",
    ] in rows
    assert ["Highest stage reached", f"Liverpool SCB escalation policy: {L1}", "2"] in rows
    assert ["Level of need", "Not known", "4"] in rows
    assert ["IRO notices sent", "2026", "0"] in rows
    assert ["Other agency", "Health", "2"] in rows


def test_csv_agency_names_cannot_run_as_formulas(tmp_path: Path):
    case = Case(
        ref="X", procedure="liverpool", opened_at=at(5, 5), child=CHILD, other_agency="=1+1"
    )
    out = tmp_path / "analysis.csv"
    write_analysis(yearly_figures([case], REGISTRY, CALENDAR, 2026, AS_OF), out, "csv")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert ["Other agency", "'=1+1", "1"] in rows


def test_pdf_shows_the_figures_and_a_chart_for_each(tmp_path: Path):
    out = tmp_path / "analysis.pdf"
    write_analysis(figures(), out, "pdf")
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(out).pages).split())
    for expected in (
        "Example Primary School",
        "Escalations opened in 2026: yearly analysis",
        "Escalations opened 4",
        "Median working days from opening to resolution 2",
        "Stage at which resolved",
        "Main reason for escalation",
        "Reason for disagreement",
        "Other agency",
        "Timescales kept and missed, by stage",
        "Liverpool SCB escalation policy: 3 opened",
        "Newham SCP escalation policy: 1 opened",
        f"{L1}: missed 2",
        "Stage 1: Professionals discuss: missed 1",
        "Highest stage reached",
        "Level of need",
        "Immediate risks raised 0",
        "IRO notices sent 0",
        "Partnership reports sent 0",
        "Learning recorded at resolution 0",
        "Why a timescale was missed",
        "Social worker off sick.",
    ):
        assert expected in text, expected
    assert "Ada" not in text  # figures only


def test_an_unknown_format_is_refused(tmp_path: Path):
    with pytest.raises(InputError):
        write_analysis(figures(), tmp_path / "a.ods", "ods")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def pdf_text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(path).pages).split())


def test_stage_numbers_are_counted_per_procedure_never_pooled():
    # Stage 3 is the LSCB representative in Liverpool, a liaison between managers in Newham.
    liverpool = Case(
        ref="L",
        procedure="liverpool",
        opened_at=at(9, 7, 9),
        child=CHILD,
        events=(
            Event(at(9, 8), "escalated", stage=3),
            Event(at(9, 9), "resolved", note="Agreed."),
        ),
    )
    newham = Case(
        ref="N",
        procedure="newham",
        opened_at=at(9, 7, 9),
        child=CHILD,
        events=(
            Event(at(9, 8), "escalated", stage=3),
            Event(at(9, 9), "resolved", note="Agreed."),
        ),
    )
    result = yearly_figures([liverpool, newham], REGISTRY, CALENDAR, 2026, AS_OF)
    assert result.by_procedure["liverpool"].resolved_at == {L1: 0, L2: 0, L3: 1, "Unresolved": 0}
    assert result.by_procedure["newham"].resolved_at == {
        "Stage 1: Professionals discuss": 0,
        "Stage 2: Manager / DSL": 0,
        "Stage 3: Liaison with the other agency": 1,
        "Unresolved": 0,
    }
    assert result.by_procedure["liverpool"].highest_stage == {L3: 1}
    assert result.by_procedure["newham"].highest_stage == {
        "Stage 3: Liaison with the other agency": 1
    }


def counted_cases() -> list[Case]:
    return [
        # A risk ticked at the opening and one raised later; the IRO told twice, the
        # partnership once; resolved with lessons; the level corrected from S17 to S47.
        Case(
            ref="R",
            procedure="liverpool",
            opened_at=at(10, 5, 9),
            child=CHILD,
            level_of_need="s17",
            immediate_risk=True,
            events=(
                Event(at(10, 5, 10), "risk-escalated", note="Police."),
                Event(at(10, 6), "amended", field="level_of_need", value="s47", note="Corrected."),
                Event(at(10, 6, 11), "risk-raised", note="New injury."),
                Event(at(10, 6, 12), "risk-escalated", note="MASH."),
                Event(at(10, 7), "notified", whom="iro"),
                Event(at(10, 8), "escalated", stage=3),
                Event(at(10, 8, 11), "notified", whom="IRO", note="Update."),
                Event(at(10, 8, 12), "notified", whom="partnership", form="liverpool"),
                Event(at(10, 9), "notified", whom="other-agency"),
                Event(at(10, 12), "resolved", note="Agreed.", lessons="Share thresholds."),
            ),
        ),
        # Resolved with no lessons; early help.
        Case(
            ref="S",
            procedure="st-helens",
            opened_at=at(11, 2, 9),
            child=CHILD,
            level_of_need="early-help",
            events=(Event(at(11, 2, 12), "resolved", note="Agreed.", lessons="  "),),
        ),
        # Voided: none of its risks, notices or lessons count.
        Case(
            ref="V",
            procedure="liverpool",
            opened_at=at(10, 5, 9),
            child=CHILD,
            level_of_need="s47",
            immediate_risk=True,
            events=(
                Event(at(10, 5, 10), "risk-escalated", note="Police."),
                Event(at(10, 5, 11), "notified", whom="iro"),
                Event(at(10, 5, 12), "notified", whom="partnership"),
                Event(at(10, 5, 13), "voided", note="Opened in error."),
            ),
        ),
    ]


def test_levels_risks_notices_and_learning_are_counted_and_voided_cases_left_out():
    result = yearly_figures(counted_cases(), REGISTRY, CALENDAR, 2026, AS_OF)
    assert result.opened == 2
    assert result.by_level == {
        "Early Help": 1,
        "Section 17 (child in need)": 0,
        "Section 47 (child protection)": 1,  # as amended
        "Not known": 0,
    }
    assert (result.risks_raised, result.cases_with_risk) == (2, 1)
    assert (result.iro_notices, result.partnership_reports) == (2, 1)
    assert result.learning_recorded == 1
    assert result.by_procedure["liverpool"].highest_stage == {L3: 1}
    assert result.by_procedure["st-helens"].highest_stage == {"Stage 1: Consult line manager": 1}


def test_the_new_counts_read_back_from_the_csv_and_the_pdf(tmp_path: Path):
    result = yearly_figures(counted_cases(), REGISTRY, CALENDAR, 2026, AS_OF)
    out = tmp_path / "analysis.csv"
    write_analysis(result, out, "csv")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    for expected in (
        ["Immediate risks raised", "2026", "2"],
        ["Escalations with an immediate risk raised", "2026", "1"],
        ["IRO notices sent", "2026", "2"],
        ["Partnership reports sent", "2026", "1"],
        ["Learning recorded at resolution", "2026", "1"],
        ["Level of need", "Section 47 (child protection)", "1"],
        ["Highest stage reached", f"Liverpool SCB escalation policy: {L3}", "1"],
    ):
        assert expected in rows, expected
    write_analysis(result, tmp_path / "analysis.pdf", "pdf")
    text = pdf_text(tmp_path / "analysis.pdf")
    for expected in (
        "Immediate risks raised 2",
        "IRO notices sent 2",
        "Partnership reports sent 1",
        "Learning recorded at resolution 1",
        "Section 47 (child protection) 1",
        "St Helens SCB escalation procedure: 1 opened",
    ):
        assert expected in text, expected


LONG_REASON = (
    " ".join(
        f"The social worker was reassigned twice and the new team could not arrange cover {n}."
        for n in range(1, 5)
    )[:299]
    + "!"
)


def test_a_long_label_is_written_whole_inside_the_page(tmp_path: Path):
    assert len(LONG_REASON) == 300
    case = Case(
        ref="X",
        procedure="liverpool",
        opened_at=at(12, 7, 9),
        child=CHILD,
        events=(
            Event(at(12, 9), "timescale-missed", stage=1, note=LONG_REASON),
            Event(at(12, 10), "resolved", note="Agreed."),
        ),
    )
    out = tmp_path / "analysis.pdf"
    write_analysis(yearly_figures([case], REGISTRY, CALENDAR, 2026, AS_OF), out, "pdf")
    text = pdf_text(out)
    assert LONG_REASON + " 1" in text  # the whole reason, not cut short, then its count
    # Wrapped: no line of the page is longer than the page can hold.
    lines = [
        line for page in pypdf.PdfReader(out).pages for line in page.extract_text().split("\n")
    ]
    assert max(len(line) for line in lines) < 130
    assert not any(line.endswith("...") for line in lines)


def test_a_wrapped_label_stays_within_the_margins(tmp_path: Path):
    out = tmp_path / "analysis.pdf"
    analysis = Analysis(year=2026, as_of=AS_OF, missed_reasons={LONG_REASON: 1, "Short": 2})
    write_analysis(analysis, out, "pdf")
    # Each piece of the reason as drawn: where it starts (points from the left) and its size.
    pieces: list[tuple[str, float, float]] = []
    for page in pypdf.PdfReader(out).pages:
        page.extract_text(
            visitor_text=lambda text, cm, tm, font, size: (
                pieces.append((text, tm[4], size))
                if len(text.strip()) > 3 and text.strip() in LONG_REASON
                else None
            )
        )
    assert len(pieces) >= 3  # wrapped onto several lines
    assert "".join(text for text, _, _ in pieces).replace(" ", "") == LONG_REASON.replace(" ", "")
    measure = ExportPdf("measure")  # the same font, to measure each piece as drawn
    for text, x_points, size in pieces:
        measure.set_font(measure.family, size=size)
        left = x_points * 25.4 / 72
        assert left >= measure.l_margin - 0.01, text
        assert left + measure.get_string_width(text) <= measure.w - measure.r_margin + 0.01, text
