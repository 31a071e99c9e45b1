"""The Escalation Summary Log (Liverpool Appendix 1), one row per case, as CSV or XLSX."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal, cast

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import local_date
from dsl_console.core.procedures import ProcedureRegistry
from dsl_console.core.records import Case
from dsl_console.errors import InputError
from dsl_console.services.exports.atomic import atomic_output
from dsl_console.services.exports.cells import QUOTING, neutralise_row, xlsx_text
from dsl_console.services.exports.history import CaseHistory, ProcedureLookup, history_of
from dsl_console.services.exports.sheet_files import sheet_files_beside
from dsl_console.services.exports.wording import (
    UNRESOLVED,
    agency_words,
    child_identity,
    level_label,
    main_reason,
    stage_label,
    timescale_outcome,
    uk_day,
)

# Appendix 1's seven columns in its order, then the five the yearly analysis asks for.
LOG_COLUMNS: tuple[str, ...] = (
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
)
SHEET_TITLE = "Escalation Summary Log"
LogFormat = Literal["csv", "xlsx"]
# A row as the file takes it: CSV, one line of text (quoted and neutralised); XLSX, its cells.
Encoded = str | list[str]
# Rough widths (characters) so the sheet opens readable; the long-text columns are wider.
_XLSX_WIDTHS = (28, 30, 30, 22, 60, 70, 50, 34, 34, 40, 24, 34)


def log_row(history: CaseHistory, *, school: str, initials: bool = False) -> list[str]:
    """One case's row of the log, in LOG_COLUMNS order, as plain (not yet neutralised) text:
    the facts as they stood at as_of (amendments applied), the child's age at the opening."""
    case, procedure, state = history.facts, history.procedure, history.state
    resolution = history.resolution
    if resolution is not None:
        outcome = resolution.note or "Resolved (no outcome recorded)"
    else:
        outcome = UNRESOLVED
    # Stages never go down, so the stage reached is also the stage a resolved case ended at.
    stage_name = stage_label(procedure, state.highest_stage)
    reached = stage_name
    if state.skipped:
        reached += f" (skipped {', '.join(str(n) for n in state.skipped)})"
    if state.resolved_at is not None:
        resolved = f"{stage_name}, on {uk_day(state.resolved_at)}"
    else:
        resolved = UNRESOLVED
    timescales = "\n".join(
        f"Stage {visit.stage}: {timescale_outcome(visit, history.as_of)}" for visit in state.visits
    )
    return [
        f"{school} / {case.ref}" if school else case.ref,
        # The age when the disagreement arose, which is what the partnership analyses.
        child_identity(case.child, local_date(case.opened_at), initials_only=initials),
        case.concern,
        level_label(case.level_of_need),
        case.summary,
        "\n".join(history.action_lines()),
        outcome,
        reached,
        resolved,
        timescales,
        main_reason(case.reason),
        agency_words(case.other_agency, case.other_agency_kind),
    ]


def write_log(
    cases: Iterable[Case],
    registry: ProcedureRegistry,
    calendar: WorkingCalendar,
    *,
    school: str,
    out: Path,
    fmt: Literal["csv", "xlsx"],
    as_of: datetime,
    initials: bool = False,
) -> int:
    """Write the Escalation Summary Log for `cases` to `out`; returns the number of rows.

    Cases are read one at a time (a generator of any length keeps memory flat); the file
    appears whole or not at all. `initials=True` shows the child as initials and age only.
    """
    rows = log_rows(cases, registry, calendar, school=school, as_of=as_of, initials=initials)
    return write_log_rows(rows, out=out, fmt=fmt)


def log_rows(
    cases: Iterable[Case],
    registry: ProcedureRegistry,
    calendar: WorkingCalendar,
    *,
    school: str,
    as_of: datetime,
    initials: bool = False,
) -> Iterator[list[str]]:
    """The log's rows for `cases`, one at a time, in their order."""
    make = row_maker(registry, calendar, school=school, as_of=as_of, initials=initials)
    for case in cases:
        yield make(case)


def row_maker(
    registry: ProcedureRegistry,
    calendar: WorkingCalendar,
    *,
    school: str,
    as_of: datetime,
    initials: bool = False,
) -> Callable[[Case], list[str]]:
    """A function from a case to its row of the log as it stood at `as_of`."""
    lookup = ProcedureLookup(registry)

    def make(case: Case) -> list[str]:
        history = history_of(case, lookup(case), calendar, as_of)
        return log_row(history, school=school, initials=initials)

    return make


def write_log_rows(rows: Iterable[list[str]], *, out: Path, fmt: str) -> int:
    """Write rows made by `log_rows` as the log, whole or not at all; the number written."""
    encode = encoder(_checked_format(fmt))
    return write_encoded((encode(row) for row in rows), out=out, fmt=fmt)


def _checked_format(fmt: str) -> LogFormat:
    if fmt not in ("csv", "xlsx"):
        raise InputError(f"log format must be csv or xlsx, not {fmt!r}")
    return cast(LogFormat, fmt)


def encoder(fmt: LogFormat) -> Callable[[list[str]], Encoded]:
    """A function from a row to what the file takes (see Encoded).

    Encoding is most of the cost of writing a CSV file (about 0.6 s per 100,000 rows), so
    the processes that share a large export each encode the rows they build.
    """
    if fmt == "xlsx":
        return _as_cells
    lines = _Lines()
    writer = csv.writer(lines, quoting=QUOTING)

    def line(row: list[str]) -> str:
        writer.writerow(neutralise_row(row))
        return lines.pop()

    return line


def _as_cells(row: list[str]) -> list[str]:
    return row  # XLSX cells are made (and neutralised) by the writer


class _Lines(list[str]):
    """The csv writer's "file": each line it writes is appended, to be taken off again."""

    write = list.append


def write_encoded(rows: Iterable[Encoded], *, out: Path, fmt: str) -> int:
    """Write encoded rows (made by `encoder(fmt)`) as the log, whole or not at all."""
    if _checked_format(fmt) == "csv":
        return _write_csv(cast(Iterator[str], iter(rows)), Path(out))
    return _write_xlsx(cast(Iterator[list[str]], iter(rows)), Path(out))


def _write_csv(lines: Iterator[str], out: Path) -> int:
    count = 0
    header = encoder("csv")(list(LOG_COLUMNS))
    # utf-8-sig: Excel on Windows reads a CSV without the BOM as ANSI and garbles names.
    with atomic_output(out, "w", encoding="utf-8-sig") as handle:
        handle.write(header)
        for line in lines:
            handle.write(line)
            count += 1
    return count


def _write_xlsx(rows: Iterator[list[str]], out: Path) -> int:
    # openpyxl's sheet files are made beside the export, not in the system's temporary
    # folder, and removed however the export ends.
    with sheet_files_beside(out.parent if str(out.parent) else Path(".")):
        return _fill_and_save(rows, out)


def _fill_and_save(rows: Iterator[list[str]], out: Path) -> int:
    # Imported here: openpyxl is heavy and only this path needs it.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    for index, width in enumerate(_XLSX_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    wrap = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)

    def text_cell(value: str, *, header: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=xlsx_text(value))
        # Always a string, never a formula, whatever the text looks like.
        cell.data_type = "s"
        cell.alignment = wrap
        if header:
            cell.font = bold
        return cell

    count = 0
    try:
        sheet.append([text_cell(title, header=True) for title in LOG_COLUMNS])
        for row in rows:
            sheet.append([text_cell(value) for value in row])
            count += 1
    except BaseException:
        # Close the sheet's writer now, while its file exists, rather than when the collector
        # finds it after the file is gone.
        with contextlib.suppress(Exception):
            sheet.close()
        raise
    with atomic_output(out, "wb") as handle:
        workbook.save(handle)
    return count
