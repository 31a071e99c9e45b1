"""The Escalation Summary Log read back as a partnership would: with the csv module and openpyxl."""

from __future__ import annotations

import csv
import tracemalloc
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.procedures import load_registry
from dsl_console.core.records import Case, Child, Event, Professional
from dsl_console.errors import InputError
from dsl_console.services.exports.summary_log import write_log
from tests.fictional import SCHOOL

AS_OF = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
REGISTRY = load_registry()
CALENDAR = WorkingCalendar()
COLUMNS = [
    "Agency / School & Escalation Number",
    "Child Name / DOB / Age",
    "Concern",
    "Level of Need",
    "Summary of Professional Disagreement",
    "Actions Undertaken Towards Resolution",
    "Outcome of Resolution",
    "Stage Reached",
    "Stage Resolved",
    "Timescales",
    "Main Reason",
    "Other agency",
]
PAYLOADS = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def at(day: int, hour: int = 10, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def resolved_case(ref: str = "SCH-2026-014") -> Case:
    """A Liverpool case escalated to stage 3 (stage 2 late, with a reason), then resolved."""
    dsl = Professional("Jo Teacher", "Designated Safeguarding Lead", SCHOOL)
    return Case(
        ref=ref,
        procedure="liverpool",
        opened_at=at(1, 9, 30),
        child=Child("Ada Example", date(2014, 5, 2)),
        other_agency="Children's social care",
        level_of_need="s47",
        reason="threshold",
        summary="Referral declined as below threshold; school disagrees.",
        concern="Arrives hungry and unwashed most mornings.",
        raised_by=dsl,
        professionals=(dsl,),
        events=(
            Event(at(1, 11), "discussion", by="Jo Teacher", note="Call with the social worker."),
            Event(at(2, 9), "escalated", stage=2, by="Jo Teacher", note="No agreement."),
            Event(at(2, 10), "notified", whom="iro"),
            Event(at(8, 14), "meeting", note="Professionals meeting."),
            Event(at(14, 9), "escalated", stage=3, by="Jo Teacher"),
            Event(at(14, 10), "timescale-missed", stage=2, note="Team manager on leave."),
            Event(at(14, 11), "action", whom="Sam Sample", due=at(18, 17), note="Re-open it."),
            Event(at(15, 12), "action-done", action=1),
            Event(at(15, 16), "resolved", note="Strategy meeting agreed."),
        ),
    )


def open_case(ref: str = "SCH-2026-020") -> Case:
    """A Newham case still open at stage 4, which has no timescale."""
    return Case(
        ref=ref,
        procedure="newham",
        opened_at=at(14, 9),
        child=Child("Ben Sample", date(2016, 1, 31)),
        level_of_need="s17",
        reason="information-sharing",
        summary="Health will not share the assessment.",
        events=(Event(at(15, 9), "escalated", stage=4, by="Jo Teacher"),),
    )


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write(cases, tmp_path: Path, fmt: Any = "csv", **options) -> tuple[int, Path]:
    out = tmp_path / f"log.{fmt}"
    count = write_log(
        cases, REGISTRY, CALENDAR, school=SCHOOL, out=out, fmt=fmt, as_of=AS_OF, **options
    )
    return count, out


def test_csv_has_appendix_1_columns_in_order_then_the_analysis_columns(tmp_path: Path):
    count, out = write([resolved_case(), open_case()], tmp_path)
    rows = read_csv(out)
    assert count == 2
    assert rows[0] == COLUMNS
    assert len(rows) == 3 and all(len(row) == len(COLUMNS) for row in rows)


def test_a_resolved_case_reads_as_the_partnership_expects(tmp_path: Path):
    _, out = write([resolved_case()], tmp_path)
    row = dict(zip(COLUMNS, read_csv(out)[1], strict=True))
    assert row["Agency / School & Escalation Number"] == f"{SCHOOL} / SCH-2026-014"
    assert row["Child Name / DOB / Age"] == "Ada Example / 02/05/2014 / age 12"
    assert row["Concern"] == "Arrives hungry and unwashed most mornings."
    assert row["Level of Need"] == "Section 47 (child protection)"
    assert row["Summary of Professional Disagreement"].startswith("Referral declined")
    actions = row["Actions Undertaken Towards Resolution"].splitlines()
    assert actions[0] == "01/12/2026 Discussion by Jo Teacher: Call with the social worker."
    assert actions[1].startswith("02/12/2026 Escalated to Stage 2: Organisation safeguarding")
    assert "02/12/2026 Notified the Independent Reviewing Officer" in actions
    assert "08/12/2026 Meeting: Professionals meeting." in actions
    assert (
        "14/12/2026 Action agreed: Re-open it. "
        "(owner Sam Sample, due 18/12/2026, completed 15/12/2026)" in actions
    )
    assert row["Outcome of Resolution"] == "Strategy meeting agreed."
    assert row["Stage Reached"] == "Stage 3: LSCB safeguarding representative"
    assert row["Stage Resolved"] == "Stage 3: LSCB safeguarding representative, on 15/12/2026"
    assert row["Timescales"].splitlines() == [
        "Stage 1: kept",
        "Stage 2: not kept (Team manager on leave.)",
        "Stage 3: kept",
    ]
    assert row["Main Reason"] == "Threshold Conflict"
    assert row["Other agency"] == "Children's social care (other)"


def test_an_open_case_is_unresolved_with_no_timescale_and_skipped_stages(tmp_path: Path):
    _, out = write([open_case()], tmp_path)
    row = dict(zip(COLUMNS, read_csv(out)[1], strict=True))
    assert row["Outcome of Resolution"] == "Unresolved"
    assert row["Stage Resolved"] == "Unresolved"
    assert row["Stage Reached"] == "Stage 4: Child Protection Manager (skipped 2, 3)"
    assert row["Timescales"].splitlines() == ["Stage 1: kept", "Stage 4: no timescale"]
    assert row["Main Reason"] == "Communication"


def test_a_stage_not_yet_due_is_pending(tmp_path: Path):
    case = Case(
        ref="SCH-2026-030",
        procedure="liverpool",
        opened_at=at(18, 9),
        child=Child("Ada Example", date(2014, 5, 2)),
    )
    _, out = write([case], tmp_path)
    row = dict(zip(COLUMNS, read_csv(out)[1], strict=True))
    assert row["Timescales"] == "Stage 1: pending (due 21/12/2026 17:00)"
    assert row["Concern"] == ""  # blank, never a copy of the reason
    assert row["Other agency"] == "Not recorded (other)"


def test_dates_and_ages_are_london_dates(tmp_path: Path):
    # 23:30 UTC on 1 May 2027 is already 2 May in London (BST): Ada's 13th birthday, the day
    # the case was opened.
    late = datetime(2027, 5, 1, 23, 30, tzinfo=UTC)
    case = Case(
        ref="SCH-2027-001",
        procedure="liverpool",
        opened_at=late,
        child=Child("Ada Example", date(2014, 5, 2)),
        events=(Event(late + timedelta(minutes=5), "discussion", note="Evening call."),),
    )
    out = tmp_path / "log.csv"
    as_of = late + timedelta(minutes=10)
    write_log([case], REGISTRY, CALENDAR, school=SCHOOL, out=out, fmt="csv", as_of=as_of)
    row = dict(zip(COLUMNS, read_csv(out)[1], strict=True))
    assert row["Child Name / DOB / Age"].endswith("/ age 13")
    assert row["Actions Undertaken Towards Resolution"].startswith("02/05/2027 Discussion")


def test_events_after_as_of_are_left_out(tmp_path: Path):
    out = tmp_path / "log.csv"
    as_of = at(10)
    write_log([resolved_case()], REGISTRY, CALENDAR, school=SCHOOL, out=out, fmt="csv", as_of=as_of)
    row = dict(zip(COLUMNS, read_csv(out)[1], strict=True))
    assert row["Outcome of Resolution"] == "Unresolved"
    assert "14/12/2026" not in row["Actions Undertaken Towards Resolution"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_initials_mode_shows_no_name_and_no_date_of_birth(tmp_path: Path, fmt: str):
    _, out = write([resolved_case()], tmp_path, fmt, initials=True)
    if fmt == "csv":
        cell = read_csv(out)[1][1]
    else:
        cell = openpyxl.load_workbook(out).active.cell(row=2, column=2).value
    assert cell == "A.E. / age 12"
    assert b"Ada" not in out.read_bytes() if fmt == "csv" else True
    if fmt == "xlsx":
        with zipfile.ZipFile(out) as book:
            xml = "".join(book.read(n).decode() for n in book.namelist())
        assert "Ada" not in xml and "02/05/2014" not in xml


def test_initials_of_accented_and_hyphenated_names(tmp_path: Path):
    case = resolved_case()
    case = Case(**{**case.__dict__, "child": Child("Zoë Ó'Brien-Łukasz", date(2015, 3, 1))})
    _, out = write([case], tmp_path, initials=True)
    assert read_csv(out)[1][1] == "Z.Ó. / age 11"


def injected_case(payload: str) -> Case:
    """A case whose every free-text field (and unknown codes) starts with the payload."""
    person = Professional(payload, payload, payload, payload)
    return Case(
        ref=payload + "ref",
        procedure="liverpool",
        opened_at=at(1, 9),
        child=Child(payload + "Name", date(2014, 5, 2), payload, payload),
        other_agency=payload,
        level_of_need=payload,
        reason=payload,
        summary=payload,
        concern=payload,
        raised_by=person,
        professionals=(person,),
        events=(
            Event(at(1, 11), "discussion", by=payload, note=payload),
            Event(at(2, 9), "notified", whom=payload, note=payload),
            Event(at(2, 10), "action", whom=payload, note=payload),
            Event(at(3, 10), "outcome", note=payload),
            Event(at(4, 10), "resolved", note=payload, lessons=payload, method=payload),
        ),
    )


def test_every_csv_cell_is_inert_whatever_was_typed(tmp_path: Path):
    out = tmp_path / "log.csv"
    cases = [injected_case(p) for p in PAYLOADS]
    write_log(cases, REGISTRY, CALENDAR, school=PAYLOADS[0], out=out, fmt="csv", as_of=AS_OF)
    rows = read_csv(out)[1:]
    assert len(rows) == len(PAYLOADS)
    for payload, row in zip(PAYLOADS, rows, strict=True):
        for cell in row:
            assert not cell.startswith(TRIGGERS), (payload, cell)
        # The payloads survive as text, behind the quote, where a field starts with them.
        assert row[0].startswith("'" + PAYLOADS[0])
        assert row[2] == "'" + payload  # the concern, as typed
        assert row[3] == "'" + payload  # an unknown level code is shown as typed
        assert row[4] == "'" + payload
        assert row[6] == "'" + payload
        assert row[11].startswith("'" + payload)  # the other agency's name


def test_every_xlsx_cell_is_a_plain_string_never_a_formula(tmp_path: Path):
    out = tmp_path / "log.xlsx"
    cases = [injected_case(p) for p in PAYLOADS]
    write_log(cases, REGISTRY, CALENDAR, school=PAYLOADS[0], out=out, fmt="xlsx", as_of=AS_OF)
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == COLUMNS
    assert len(rows) == len(PAYLOADS) + 1
    for row in rows[1:]:
        for cell in row:
            assert cell.data_type == "s", cell.coordinate
            assert not str(cell.value).startswith(TRIGGERS), cell.coordinate
    with zipfile.ZipFile(out) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and all("<f>" not in book.read(n).decode() for n in sheets)


def test_xlsx_matches_the_csv_row_for_row(tmp_path: Path):
    cases = [resolved_case(), open_case()]
    _, csv_out = write(cases, tmp_path, "csv")
    _, xlsx_out = write(cases, tmp_path, "xlsx")
    sheet = openpyxl.load_workbook(xlsx_out).active
    assert sheet.title == "Escalation Summary Log"
    from_xlsx = [[c.value or "" for c in row] for row in sheet.iter_rows()]
    assert from_xlsx == read_csv(csv_out)


def test_an_unknown_procedure_is_an_input_error_and_writes_nothing(tmp_path: Path):
    case = Case(
        ref="SCH-X",
        procedure="nowhere",
        opened_at=at(1),
        child=Child("Ada Example", date(2014, 5, 2)),
    )
    with pytest.raises(InputError, match="nowhere"):
        write([resolved_case(), case], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_case_source_leaves_no_partial_log(tmp_path: Path):
    out = tmp_path / "log.csv"
    out.write_text("last week's log\n")

    def cases() -> Iterator[Case]:
        yield resolved_case()
        raise OSError("the database went away")

    with pytest.raises(OSError):
        write_log(cases(), REGISTRY, CALENDAR, school=SCHOOL, out=out, fmt="csv", as_of=AS_OF)
    assert out.read_text() == "last week's log\n"
    assert [p.name for p in tmp_path.iterdir()] == ["log.csv"]


def test_an_unknown_format_is_refused(tmp_path: Path):
    with pytest.raises(InputError):
        write([resolved_case()], tmp_path, "ods")


def test_a_generator_of_many_cases_is_written_in_flat_memory(tmp_path: Path):
    template = resolved_case()

    def many(n: int) -> Iterator[Case]:
        for i in range(n):
            yield Case(**{**template.__dict__, "ref": f"SCH-{i:06d}"})

    tracemalloc.start()
    try:
        count, out = write(many(3_000), tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 3_000
    # The 3,000 rows alone come to about 3 MB: holding them, or the cases, would show here.
    assert out.stat().st_size > 2_500_000
    assert peak < 1_000_000, peak
    with out.open(encoding="utf-8-sig", newline="") as handle:
        assert sum(1 for _ in csv.reader(handle)) == 3_001


def test_the_row_shows_the_case_as_amended_with_the_age_at_opening(tmp_path: Path):
    case = resolved_case()
    amendments = (
        Event(
            at(3, 9),
            "amended",
            field="concern",
            value="Ada is left alone overnight.",
            note="Fuller account from her aunt.",
            by="Jo Teacher",
        ),
        Event(
            at(3, 10),
            "amended",
            field="other_agency",
            value="Example Health Trust",
            note="The health visitor holds the case.",
        ),
        Event(
            at(3, 11),
            "amended",
            field="other_agency_kind",
            value="health",
            note="Health, not social care.",
        ),
        Event(at(3, 12), "amended", field="level_of_need", value="s17", note="Corrected."),
    )
    events = tuple(sorted((*case.events, *amendments), key=lambda e: e.at))
    # Seen in June 2027, after Ada's 13th birthday: the log still gives her age at the opening.
    later = datetime(2027, 6, 1, 10, 0, tzinfo=UTC)
    out = tmp_path / "log.csv"
    write_log(
        [Case(**{**case.__dict__, "events": events})],
        REGISTRY,
        CALENDAR,
        school=SCHOOL,
        out=out,
        fmt="csv",
        as_of=later,
    )
    row = dict(zip(COLUMNS, read_csv(out)[1], strict=True))
    assert row["Concern"] == "Ada is left alone overnight."
    assert row["Other agency"] == "Example Health Trust (health)"
    assert row["Level of Need"] == "Section 17 (child in need)"
    assert row["Child Name / DOB / Age"] == "Ada Example / 02/05/2014 / age 12"
    # Amendments are not steps towards resolution.
    assert "amended" not in row["Actions Undertaken Towards Resolution"].lower()


def test_an_amendment_after_as_of_is_not_yet_shown(tmp_path: Path):
    case = resolved_case()
    late = Event(at(21, 9), "amended", field="concern", value="Later account.", note="New.")
    _, out = write([Case(**{**case.__dict__, "events": (*case.events, late)})], tmp_path)
    assert read_csv(out)[1][2] == "Arrives hungry and unwashed most mornings."
    out = tmp_path / "before.csv"
    write_log(
        [Case(**{**case.__dict__, "events": (*case.events, late)})],
        REGISTRY,
        CALENDAR,
        school=SCHOOL,
        out=out,
        fmt="csv",
        as_of=at(21, 10),
    )
    assert read_csv(out)[1][2] == "Later account."


def test_actions_list_every_immediate_risk_raised_and_escalated(tmp_path: Path):
    case = resolved_case()
    risky = Case(
        **{
            **case.__dict__,
            "immediate_risk": True,
            "events": (
                Event(at(1, 10), "risk-escalated", by="Jo Teacher", note="Police called."),
                *case.events[:3],
                Event(at(4, 9), "risk-raised", by="Jo Teacher", note="New bruising seen."),
                Event(at(4, 11), "risk-escalated", by="Jo Teacher", note="Strategy discussion."),
                Event(at(4, 12), "notified", whom="partnership", form="liverpool"),
                *case.events[3:],
            ),
        }
    )
    _, out = write([risky], tmp_path)
    actions = dict(zip(COLUMNS, read_csv(out)[1], strict=True))[
        "Actions Undertaken Towards Resolution"
    ].splitlines()
    assert actions[:2] == [
        "01/12/2026 Immediate risk raised at the opening by Jo Teacher",
        "01/12/2026 Immediate risk escalated by Jo Teacher: Police called.",
    ]
    assert "04/12/2026 Immediate risk raised by Jo Teacher: New bruising seen." in actions
    assert "04/12/2026 Immediate risk escalated by Jo Teacher: Strategy discussion." in actions
    assert "04/12/2026 Notified the partnership (sent the Report to LSCB, Appendix 2)" in actions


def test_the_other_agency_column_is_neutralised_and_sized_in_the_sheet(tmp_path: Path):
    case = Case(**{**resolved_case().__dict__, "other_agency": "=cmd|' /C calc'!A0"})
    _, csv_out = write([case], tmp_path, "csv")
    assert read_csv(csv_out)[1][11] == "'=cmd|' /C calc'!A0 (other)"
    _, xlsx_out = write([case], tmp_path, "xlsx")
    sheet = openpyxl.load_workbook(xlsx_out).active
    assert sheet.cell(row=1, column=12).value == "Other agency"
    assert sheet.cell(row=2, column=12).value == "'=cmd|' /C calc'!A0 (other)"
    # Every column, the new one too, is given a readable width, the last no less than the rest.
    assert sheet.column_dimensions["L"].width == 34
    assert sheet.max_column == len(COLUMNS)
