"""The yearly analysis the partnerships ask of each setting, as figures, CSV or a PDF of bar charts.

Counts every escalation opened in the year (all start at stage 1): where they were resolved,
why they arose, with which agency, whether each stage kept its timescale, and how many working
days they took to resolve. Figures only: no child is named.
"""

from __future__ import annotations

import csv
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import local_date
from dsl_console.core.procedures import ProcedureRegistry
from dsl_console.core.records import Case
from dsl_console.errors import InputError
from dsl_console.services.exports.atomic import atomic_output
from dsl_console.services.exports.cells import QUOTING, neutralise_row
from dsl_console.services.exports.history import ProcedureLookup, history_of
from dsl_console.services.exports.pdf_layout import ExportPdf, Field
from dsl_console.services.exports.wording import (
    NOT_RECORDED,
    UNRESOLVED,
    main_reason,
    reason_label,
    uk_day,
    uk_moment,
)


@dataclass(frozen=True)
class Analysis:
    """One year's escalations in figures; the dicts are ordered as they should be shown."""

    year: int
    as_of: datetime
    school: str = ""
    opened: int = 0
    resolved: int = 0
    by_stage_resolved: dict[str, int] = field(default_factory=dict)  # "Stage n" / Unresolved
    by_reason: dict[str, int] = field(default_factory=dict)
    by_main_reason: dict[str, int] = field(default_factory=dict)
    by_agency: dict[str, int] = field(default_factory=dict)
    timescales: dict[int, tuple[int, int]] = field(default_factory=dict)  # stage: (kept, missed)
    missed_reasons: dict[str, int] = field(default_factory=dict)  # why timescales were missed
    median_working_days: float | None = None  # opening to resolution, resolved cases only

    @property
    def unresolved(self) -> int:
        """Escalations opened in the year and still open at as_of."""
        return self.opened - self.resolved


def yearly_figures(
    cases: Iterable[Case],
    registry: ProcedureRegistry,
    calendar: WorkingCalendar,
    year: int,
    as_of: datetime,
    *,
    school: str = "",
) -> Analysis:
    """The figures for the escalations opened in `year` (London dates), as they stood at as_of."""
    lookup = ProcedureLookup(registry)
    resolved_at: Counter[int] = Counter()
    reasons: Counter[str] = Counter()
    main_reasons: Counter[str] = Counter()
    agencies: Counter[str] = Counter()
    kept: Counter[int] = Counter()
    missed: Counter[int] = Counter()
    why_missed: Counter[str] = Counter()
    days: list[int] = []
    opened = 0
    for case in cases:
        if local_date(case.opened_at).year != year or case.opened_at > as_of or case.voided:
            continue  # a case opened in error is not an escalation
        opened += 1
        history = history_of(case, lookup(case), calendar, as_of)
        state = history.state
        if state.resolved_at is not None:
            resolved_at[state.stage] += 1
            days.append(
                calendar.working_days_between(
                    local_date(case.opened_at), local_date(state.resolved_at)
                )
            )
        reasons[reason_label(case.reason)] += 1
        main_reasons[main_reason(case.reason)] += 1
        agencies[case.other_agency.strip() or NOT_RECORDED] += 1
        for visit in state.visits:
            outcome = visit.kept(as_of)
            if outcome is True:
                kept[visit.stage] += 1
            elif outcome is False:
                missed[visit.stage] += 1
                why_missed[visit.missed_reason.strip() or "No reason recorded"] += 1
    # Every stage up to the highest resolved at, zeros included, so the chart shows the spread.
    by_stage = {f"Stage {n}": resolved_at[n] for n in range(1, max(resolved_at, default=0) + 1)}
    by_stage[UNRESOLVED] = opened - sum(resolved_at.values())
    return Analysis(
        year=year,
        as_of=as_of,
        school=school,
        opened=opened,
        resolved=sum(resolved_at.values()),
        by_stage_resolved=by_stage,
        by_reason=_most_first(reasons),
        by_main_reason=_most_first(main_reasons),
        by_agency=_most_first(agencies),
        timescales={n: (kept[n], missed[n]) for n in sorted(set(kept) | set(missed))},
        missed_reasons=_most_first(why_missed),
        median_working_days=float(statistics.median(days)) if days else None,
    )


def write_analysis(analysis: Analysis, out: Path, fmt: Literal["pdf", "csv"]) -> None:
    """Write the yearly analysis to `out` as a PDF with bar charts or as CSV."""
    if fmt == "csv":
        _write_csv(analysis, Path(out))
    elif fmt == "pdf":
        _write_pdf(analysis, Path(out))
    else:
        raise InputError(f"analysis format must be pdf or csv, not {fmt!r}")


def analysis_rows(analysis: Analysis) -> list[list[str]]:
    """The figures as (section, item, value) rows, in the order the PDF shows them."""
    median = analysis.median_working_days
    rows = [
        ["Escalations opened", str(analysis.year), str(analysis.opened)],
        ["Resolved", str(analysis.year), str(analysis.resolved)],
        [UNRESOLVED, str(analysis.year), str(analysis.unresolved)],
        [
            "Median working days from opening to resolution",
            str(analysis.year),
            "" if median is None else f"{median:g}",
        ],
    ]
    sections = (
        ("Resolved at stage", analysis.by_stage_resolved),
        ("Main reason", analysis.by_main_reason),
        ("Reason", analysis.by_reason),
        ("Other agency", analysis.by_agency),
        ("Why a timescale was missed", analysis.missed_reasons),
    )
    for section, counts in sections:
        rows.extend([section, item, str(count)] for item, count in counts.items())
    for stage, (kept, missed) in analysis.timescales.items():
        rows.append(["Timescale kept", f"Stage {stage}", str(kept)])
        rows.append(["Timescale missed", f"Stage {stage}", str(missed)])
    return rows


def _write_csv(analysis: Analysis, out: Path) -> None:
    with atomic_output(out, "w", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, quoting=QUOTING)
        writer.writerow(["Section", "Item", "Value"])
        # Agency names are free text typed by users: neutralised like every exported cell.
        writer.writerows(neutralise_row(row) for row in analysis_rows(analysis))


def _write_pdf(analysis: Analysis, out: Path) -> None:
    pdf = ExportPdf(f"Escalations {analysis.year} | prepared {uk_day(analysis.as_of)}")
    pdf.set_title(f"Escalations {analysis.year}: yearly analysis")
    pdf.set_creator("DSL Console")
    pdf.set_creation_date(analysis.as_of)
    pdf.title_block(
        analysis.school or "School",
        f"Escalations opened in {analysis.year}: yearly analysis",
        f"Professional disagreements escalated from stage 1 on, as at {uk_moment(analysis.as_of)}.",
    )
    median = analysis.median_working_days
    pdf.fields(
        [
            Field("Escalations opened", str(analysis.opened)),
            Field("Resolved", str(analysis.resolved)),
            Field(UNRESOLVED, str(analysis.unresolved)),
            Field(
                "Median working days from opening to resolution",
                "none resolved" if median is None else f"{median:g}",
            ),
        ]
    )
    pdf.bar_chart("Stage at which resolved", list(analysis.by_stage_resolved.items()))
    pdf.bar_chart("Main reason for escalation", list(analysis.by_main_reason.items()))
    pdf.bar_chart("Reason for disagreement", list(analysis.by_reason.items()))
    pdf.bar_chart("Other agency", list(analysis.by_agency.items()))
    bars = []
    for stage, (kept, missed) in analysis.timescales.items():
        bars += [(f"Stage {stage}: kept", kept), (f"Stage {stage}: missed", missed)]
    kept_missed = ((70, 140, 90), (190, 70, 60))  # green for kept, red for missed
    pdf.bar_chart("Timescales kept and missed, by stage", bars, kept_missed)
    pdf.bar_chart("Why a timescale was missed", list(analysis.missed_reasons.items()))
    data = bytes(pdf.output())
    with atomic_output(out, "wb") as handle:
        handle.write(data)


def _most_first(counts: Counter[str]) -> dict[str, int]:
    """Counts ordered largest first, ties alphabetically, so charts read top-down."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
