"""The yearly analysis the partnerships ask of each setting, as figures, CSV or a PDF of bar charts.

Counts every escalation opened in the year (all start at stage 1): where they were resolved
and how high they went, why they arose, with which agency, at which level of need, whether
each stage kept its timescale, the immediate risks raised, the notices sent to the IRO and
reports to the partnership, the learning recorded, and how many working days they took to
resolve. Stage 3 of one procedure is not stage 3 of another (Liverpool's is the LSCB
representative, Newham's a liaison between managers), so the stage figures are counted per
procedure, never pooled. Facts are as they stood at as_of (amendments applied). Figures only:
no child is named. A case voided as opened in error is not an escalation and is left out.
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
from dsl_console.core.procedures import Procedure, ProcedureRegistry
from dsl_console.core.records import IRO, LEVEL_LABELS, PARTNERSHIP, Case, EventKind
from dsl_console.errors import InputError
from dsl_console.services.exports.atomic import atomic_output
from dsl_console.services.exports.cells import QUOTING, neutralise_row
from dsl_console.services.exports.history import CaseHistory, ProcedureLookup, history_of
from dsl_console.services.exports.pdf_layout import ExportPdf, Field
from dsl_console.services.exports.wording import (
    NOT_RECORDED,
    UNRESOLVED,
    level_label,
    main_reason,
    reason_label,
    stage_label,
    uk_day,
    uk_moment,
)


@dataclass(frozen=True)
class ProcedureFigures:
    """One procedure's stage figures, keyed by stage label ("Stage 3: LSCB safeguarding
    representative"), in stage order."""

    procedure: str  # its id
    name: str
    opened: int = 0
    resolved_at: dict[str, int] = field(default_factory=dict)  # the stages, then Unresolved
    highest_stage: dict[str, int] = field(default_factory=dict)  # the highest stage reached
    timescales: dict[str, tuple[int, int]] = field(default_factory=dict)  # (kept, missed)


@dataclass(frozen=True)
class Analysis:
    """One year's escalations in figures; the dicts are ordered as they should be shown."""

    year: int
    as_of: datetime
    school: str = ""
    opened: int = 0
    resolved: int = 0
    by_procedure: dict[str, ProcedureFigures] = field(default_factory=dict)  # by procedure id
    by_level: dict[str, int] = field(default_factory=dict)  # every level, in the policies' order
    by_reason: dict[str, int] = field(default_factory=dict)
    by_main_reason: dict[str, int] = field(default_factory=dict)
    by_agency: dict[str, int] = field(default_factory=dict)
    missed_reasons: dict[str, int] = field(default_factory=dict)  # why timescales were missed
    median_working_days: float | None = None  # opening to resolution, resolved cases only
    risks_raised: int = 0  # immediate risks raised, each time (one ticked at opening included)
    cases_with_risk: int = 0  # escalations with an immediate risk raised at least once
    iro_notices: int = 0  # notified events whom = iro
    partnership_reports: int = 0  # notified events whom = partnership
    learning_recorded: int = 0  # resolutions that record lessons learned

    @property
    def unresolved(self) -> int:
        """Escalations opened in the year and still open at as_of."""
        return self.opened - self.resolved


class _Stages:
    """One procedure's stage counts while the cases are read, keyed by (number, label)."""

    def __init__(self, procedure: Procedure) -> None:
        self.procedure, self.opened = procedure, 0
        self.resolved_at: Counter[tuple[int, str]] = Counter()
        self.highest: Counter[tuple[int, str]] = Counter()
        self.kept: Counter[tuple[int, str]] = Counter()
        self.missed: Counter[tuple[int, str]] = Counter()

    def key(self, procedure: Procedure, number: int) -> tuple[int, str]:
        # Labelled by the case's own version of the procedure.
        return number, stage_label(procedure, number)

    def figures(self) -> ProcedureFigures:
        resolved = dict(sorted(self.resolved_at.items()))
        highest = dict(sorted(self.highest.items()))
        # Every stage up to the highest resolved at, zeros included, so the chart shows the spread.
        stages = {self.key(self.procedure, s.number) for s in self.procedure.stages}
        top = max((n for n, _ in resolved), default=0)
        for key in sorted(stages):
            if key[0] <= top:
                resolved.setdefault(key, 0)
        by_stage = {label: count for (_, label), count in sorted(resolved.items())}
        by_stage[UNRESOLVED] = self.opened - sum(self.resolved_at.values())
        timed = sorted(set(self.kept) | set(self.missed))
        return ProcedureFigures(
            procedure=self.procedure.id,
            name=self.procedure.name,
            opened=self.opened,
            resolved_at=by_stage,
            highest_stage={label: count for (_, label), count in highest.items()},
            timescales={key[1]: (self.kept[key], self.missed[key]) for key in timed},
        )


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
    per_procedure: dict[str, _Stages] = {}
    levels: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    main_reasons: Counter[str] = Counter()
    agencies: Counter[str] = Counter()
    why_missed: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    days: list[int] = []
    for case in cases:
        if local_date(case.opened_at).year != year or case.opened_at > as_of or case.voided:
            continue  # a case opened in error is not an escalation
        procedure = lookup(case)
        history = history_of(case, procedure, calendar, as_of)
        state, facts = history.state, history.facts
        counts["opened"] += 1
        stages = per_procedure.setdefault(case.procedure, _Stages(procedure))
        stages.opened += 1
        stages.highest[stages.key(procedure, state.highest_stage)] += 1
        if state.resolved_at is not None:
            counts["resolved"] += 1
            stages.resolved_at[stages.key(procedure, state.stage)] += 1
            days.append(
                calendar.working_days_between(
                    local_date(case.opened_at), local_date(state.resolved_at)
                )
            )
        for visit in state.visits:
            outcome = visit.kept(as_of)
            if outcome is True:
                stages.kept[stages.key(procedure, visit.stage)] += 1
            elif outcome is False:
                stages.missed[stages.key(procedure, visit.stage)] += 1
                why_missed[visit.missed_reason.strip() or "No reason recorded"] += 1
        levels[level_label(facts.level_of_need)] += 1
        reasons[reason_label(facts.reason)] += 1
        main_reasons[main_reason(facts.reason)] += 1
        agencies[facts.other_agency.strip() or NOT_RECORDED] += 1
        counts.update(_events_counted(history))
    # Every level in the policies' order, zeros included; a code not known after them.
    by_level = {label: levels[label] for label in LEVEL_LABELS.values()}
    by_level |= {label: n for label, n in levels.items() if label not in by_level}
    return Analysis(
        year=year,
        as_of=as_of,
        school=school,
        opened=counts["opened"],
        resolved=counts["resolved"],
        by_procedure={key: per_procedure[key].figures() for key in sorted(per_procedure)},
        by_level=by_level,
        by_reason=_most_first(reasons),
        by_main_reason=_most_first(main_reasons),
        by_agency=_most_first(agencies),
        missed_reasons=_most_first(why_missed),
        median_working_days=float(statistics.median(days)) if days else None,
        risks_raised=counts["risks"],
        cases_with_risk=counts["with risk"],
        iro_notices=counts["iro"],
        partnership_reports=counts["partnership"],
        learning_recorded=counts["learning"],
    )


def _events_counted(history: CaseHistory) -> Counter[str]:
    """One case's immediate risks raised, notices to the IRO and the partnership, and
    whether its resolution records what was learnt."""
    found: Counter[str] = Counter()
    raised = [e for e in history.risk_events() if e.kind == EventKind.RISK_RAISED]
    found["risks"] = len(raised)
    found["with risk"] = 1 if raised else 0
    for event in history.of_kind(EventKind.NOTIFIED):
        whom = event.whom.strip().lower()
        if whom == IRO:
            found["iro"] += 1
        elif whom == PARTNERSHIP:
            found["partnership"] += 1
    resolution = history.resolution
    found["learning"] = 1 if resolution is not None and resolution.lessons.strip() else 0
    return found


def write_analysis(analysis: Analysis, out: Path, fmt: Literal["pdf", "csv"]) -> None:
    """Write the yearly analysis to `out` as a PDF with bar charts or as CSV."""
    if fmt == "csv":
        _write_csv(analysis, Path(out))
    elif fmt == "pdf":
        _write_pdf(analysis, Path(out))
    else:
        raise InputError(f"analysis format must be pdf or csv, not {fmt!r}")


def _summary(analysis: Analysis) -> list[tuple[str, str]]:
    """The headline figures, as (label, value), in the order both files show them."""
    median = analysis.median_working_days
    return [
        ("Escalations opened", str(analysis.opened)),
        ("Resolved", str(analysis.resolved)),
        (UNRESOLVED, str(analysis.unresolved)),
        ("Median working days from opening to resolution", "" if median is None else f"{median:g}"),
        ("Immediate risks raised", str(analysis.risks_raised)),
        ("Escalations with an immediate risk raised", str(analysis.cases_with_risk)),
        ("IRO notices sent", str(analysis.iro_notices)),
        ("Partnership reports sent", str(analysis.partnership_reports)),
        ("Learning recorded at resolution", str(analysis.learning_recorded)),
    ]


def analysis_rows(analysis: Analysis) -> list[list[str]]:
    """The figures as (section, item, value) rows, in the order the PDF shows them; a stage
    is named with its procedure ("Liverpool SCB escalation policy: Stage 3: ...")."""
    rows = [[label, str(analysis.year), value] for label, value in _summary(analysis)]
    for figures in analysis.by_procedure.values():
        for section, counts in (
            ("Resolved at stage", figures.resolved_at),
            ("Highest stage reached", figures.highest_stage),
        ):
            rows.extend([section, f"{figures.name}: {item}", str(n)] for item, n in counts.items())
        for stage, (kept, missed) in figures.timescales.items():
            rows.append(["Timescale kept", f"{figures.name}: {stage}", str(kept)])
            rows.append(["Timescale missed", f"{figures.name}: {stage}", str(missed)])
    sections = (
        ("Level of need", analysis.by_level),
        ("Main reason", analysis.by_main_reason),
        ("Reason", analysis.by_reason),
        ("Other agency", analysis.by_agency),
        ("Why a timescale was missed", analysis.missed_reasons),
    )
    for section, counts in sections:
        rows.extend([section, item, str(count)] for item, count in counts.items())
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
    summary = dict(_summary(analysis))
    if not summary["Median working days from opening to resolution"]:
        summary["Median working days from opening to resolution"] = "none resolved"
    pdf.fields([Field(label, value) for label, value in summary.items()])
    pdf.bar_chart("Level of need", list(analysis.by_level.items()))
    kept_missed = ((70, 140, 90), (190, 70, 60))  # green for kept, red for missed
    for figures in analysis.by_procedure.values():
        # Each procedure's stages apart: the same number names a different stage in each.
        pdf.heading(f"{figures.name}: {figures.opened} opened")
        pdf.bar_chart("Stage at which resolved", list(figures.resolved_at.items()))
        pdf.bar_chart("Highest stage reached", list(figures.highest_stage.items()))
        bars = []
        for stage, (kept, missed) in figures.timescales.items():
            bars += [(f"{stage}: kept", kept), (f"{stage}: missed", missed)]
        pdf.bar_chart("Timescales kept and missed, by stage", bars, kept_missed)
    pdf.bar_chart("Main reason for escalation", list(analysis.by_main_reason.items()))
    pdf.bar_chart("Reason for disagreement", list(analysis.by_reason.items()))
    pdf.bar_chart("Other agency", list(analysis.by_agency.items()))
    pdf.bar_chart("Why a timescale was missed", list(analysis.missed_reasons.items()))
    data = bytes(pdf.output())
    with atomic_output(out, "wb") as handle:
        handle.write(data)


def _most_first(counts: Counter[str]) -> dict[str, int]:
    """Counts ordered largest first, ties alphabetically, so charts read top-down."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
