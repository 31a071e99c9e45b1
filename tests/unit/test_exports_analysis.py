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

REGISTRY = load_registry()
CALENDAR = WorkingCalendar()
AS_OF = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
CHILD = Child("Ada Example", date(2014, 5, 2))


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
    assert result.by_stage_resolved == {"Stage 1": 1, "Stage 2": 1, "Unresolved": 2}


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
    # Stage 1: A late, B on time, C overdue and open, E (Newham, 3 days) overdue.
    assert result.timescales[1] == (1, 3)
    assert result.timescales[2] == (1, 0)
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
    assert ["Resolved at stage", "Stage 2", "1"] in rows
    assert ["Timescale missed", "Stage 1", "3"] in rows
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
        "Stage 1: missed 3",
        "Why a timescale was missed",
        "Social worker off sick.",
    ):
        assert expected in text, expected
    assert "Ada" not in text  # figures only


def test_an_unknown_format_is_refused(tmp_path: Path):
    with pytest.raises(InputError):
        write_analysis(figures(), tmp_path / "a.ods", "ods")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
