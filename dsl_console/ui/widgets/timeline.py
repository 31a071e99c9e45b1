"""The stage timeline: every stage of the case's procedure in order, with what happened in it.

`build_timeline` turns a case, its procedure and its replayed state into plain rows (no
Textual); `StageTimeline` draws them, one block per stage. Meaning is carried by words and
symbols (kept / missed / skipped ...); colour only repeats it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from dsl_console.core.deadlines import CaseState, StageVisit, in_time_order
from dsl_console.core.procedures import Procedure
from dsl_console.core.records import (
    EVENT_LABELS,
    IRO,
    OTHER_AGENCY,
    PARTNERSHIP,
    TEAM_MANAGER,
    Case,
    Event,
    EventKind,
    Professional,
    amendment_history,
    professional_from,
    professional_history,
)
from dsl_console.core.wording import fact_label, fact_value
from dsl_console.ui.forms.host import stamp

# An entry written more than this after the event it records says so (contract section 6:
# `recorded_at`), so a reader knows it was entered late.
LATE_ENTRY = timedelta(hours=1)

# Stage statuses, in words: the first thing read on each stage's heading line.
CURRENT = "current"
PASSED = "passed"
RESOLVED = "resolved here"
VOIDED_HERE = "voided"
SKIPPED = "skipped"
NOT_REACHED = "not reached"

STATUS_SYMBOLS = {
    CURRENT: "▶",
    PASSED: "✓",
    RESOLVED: "■",
    VOIDED_HERE: "⊘",
    SKIPPED: "↷",
    NOT_REACHED: "·",
}

KEPT = "kept"
MISSED = "missed"
PENDING = "pending"
NO_TIMESCALE = "no timescale"


@dataclass(frozen=True)
class VisitRow:
    """One pass through a stage: when it was entered, its due and whether that was kept."""

    entered_at: datetime
    left_at: datetime | None
    due: datetime | None
    due_reason: str
    timescale: str  # KEPT, MISSED, PENDING or NO_TIMESCALE
    missed_reason: str


@dataclass(frozen=True)
class EventRow:
    """One event as listed under its stage."""

    at: datetime
    kind: str
    label: str
    by: str
    detail: str
    recorded_later: str = ""  # "recorded later, on …" for an entry written well after it


# A duty's state, in words.
OWED = "owed"
DONE = "done"
DONE_LATE = "done late"
LAPSED = "lapsed"
OVERDUE = "overdue"

DUTY_SYMBOLS = {OWED: "◆", DONE: "✓", DONE_LATE: "✓", LAPSED: "–", OVERDUE: "✗"}
LAPSE_WORDS = {
    "resolution": "the case was resolved",
    "leaving-stage": "the case moved on",
    "condition": "it no longer applies",
    "voided": "the case was voided",
}


@dataclass(frozen=True)
class DutyLine:
    """One duty as the case met it: what, its due, and what became of it."""

    id: str
    what: str
    state: str  # OWED, DONE, DONE_LATE, LAPSED or OVERDUE
    due: datetime | None
    soft: bool
    detail: str  # done when and by which event, or why it lapsed, or how to discharge it


@dataclass(frozen=True)
class StageRow:
    """A stage of the procedure as this case met it."""

    number: int
    name: str
    timescale_rule: str
    status: str
    visits: tuple[VisitRow, ...]
    events: tuple[EventRow, ...]
    holder: str = ""
    duties: tuple[DutyLine, ...] = ()


def duty_lines(state: CaseState, as_of: datetime) -> dict[int | str, list[DutyLine]]:
    """The duties that arose, by the stage they arose at ("resolution" for the rest)."""
    found: dict[int | str, list[DutyLine]] = {}
    for status in state.duties:
        if not status.arisen:
            continue
        duty = status.duty
        if status.done is not None:
            late = status.due is not None and status.done.at > status.due
            state_word = DONE_LATE if late else DONE
            detail = f"{event_label(status.done)}, {stamp(status.done.at)}"
        elif status.lapsed_at is not None:
            state_word = LAPSED
            detail = f"lapsed {stamp(status.lapsed_at)}: {LAPSE_WORDS.get(status.lapsed_why, '')}"
        else:
            overdue = status.due is not None and as_of > status.due and not duty.soft
            state_word = OVERDUE if overdue else OWED
            detail = "done by: " + " or ".join(d.describe() for d in duty.done_by)
        home: int | str = "resolution" if duty.on_resolution else (status.stage or 1)
        found.setdefault(home, []).append(
            DutyLine(duty.id, duty.what, state_word, status.due, duty.soft, detail)
        )
    return found


def timescale_result(visit: StageVisit, as_of: datetime) -> str:
    """Kept, missed, pending or no timescale, for one pass through a stage."""
    kept = visit.kept(as_of)
    if kept is True:
        return KEPT
    if kept is False:
        return MISSED
    return NO_TIMESCALE if visit.due is None else PENDING


def event_label(event: Event, action_number: int | None = None) -> str:
    """What an event was, in a few words."""
    kind = event.kind
    if kind == EventKind.ESCALATED:
        return f"Escalated to stage {event.stage}"
    if kind == EventKind.NOTIFIED:
        whom = event.whom.strip()
        sent = f" (form {event.form} sent)" if event.form else ""
        if whom.lower() == IRO:
            return "IRO notified" + sent
        if whom.lower() == PARTNERSHIP:
            return "Partnership notified" + sent
        if whom.lower() == OTHER_AGENCY:
            return "Other agency notified" + sent
        if whom.lower() == TEAM_MANAGER:
            return "Team Manager alerted" + sent
        return f"Notified: {whom}{sent}"
    if kind == EventKind.AMENDED:
        return f"Amended: {fact_label(event.field)}"
    if kind == EventKind.PROFESSIONAL:
        person = professional_from(event.value)
        if not person.involved:
            return f"No longer involved: {person.name}"
        return f"Professional {'corrected' if event.field else 'added'}: {person.name}"
    if kind == EventKind.DEADLINE_SET:
        return f"Deadline set: due {stamp(event.due)}"
    if kind == EventKind.ACTION:
        return f"Action {action_number} agreed"
    if kind == EventKind.ACTION_DONE:
        return f"Action {event.action} done"
    if kind == EventKind.TIMESCALE_MISSED:
        return f"Timescale missed at stage {event.stage}" if event.stage else "Timescale missed"
    return EVENT_LABELS.get(kind, kind)


def event_detail(event: Event, was: object = None) -> str:
    """The free text of an event, with the fields its kind carries (`was`: the value an
    amendment replaced)."""
    parts: list[str] = []
    kind = event.kind
    if kind == EventKind.DEADLINE_SET and event.note:
        parts.append(f"Reason: {event.note}")
    elif kind == EventKind.ACTION:
        parts.append(event.note)
        owner = f"owner {event.whom}" if event.whom else "no owner"
        by_when = f", by {stamp(event.due)}" if event.due else ""
        parts.append(f"({owner}{by_when})")
    elif kind == EventKind.AMENDED:
        parts.append(f"Was: {fact_value(event.field, was)}")
        parts.append(f"Now: {fact_value(event.field, event.value)}")
        if event.note:
            parts.append(f"Why: {event.note}")
    elif kind == EventKind.PROFESSIONAL:
        person = professional_from(event.value)
        parts.append(_person_line(person))
        if isinstance(was, Professional):
            parts.append(f"Was: {was.name}, {_person_line(was)}".rstrip(", "))
        if event.note:
            parts.append(f"Why: {event.note}")
    elif kind == EventKind.RESOLVED:
        if event.note:
            parts.append(f"Outcome: {event.note}")
        if event.method:
            parts.append(f"Method: {event.method}")
        if event.lessons:
            parts.append(f"Lessons: {event.lessons}")
    elif event.note:
        parts.append(event.note)
    return "\n".join(p for p in parts if p)


def _person_line(person: Professional) -> str:
    details = [p for p in (person.role, person.agency, person.email) if p]
    if person.lead:
        details.append("lead practitioner")
    if not person.involved:
        details.append("no longer involved")
    return ", ".join(details)


def build_timeline(
    case: Case, procedure: Procedure, state: CaseState, as_of: datetime
) -> list[StageRow]:
    """Every stage of the procedure in order, with its passes and the events recorded in it."""
    events_by_stage: dict[int, list[EventRow]] = {}
    if case.immediate_risk:
        # Ticked on the opening form: a risk raised at the opening, by whoever opened the case
        # (contract section 3), shown as the first entry like any raised later.
        opener = case.raised_by.name if case.raised_by else ""
        events_by_stage[1] = [
            EventRow(
                case.opened_at,
                EventKind.RISK_RAISED,
                "Immediate risk raised (at the opening)",
                opener,
                "Recorded on the new-case form.",
            )
        ]
    replaced: dict[int, object] = {
        id(event): was for changes in amendment_history(case).values() for event, was in changes
    }
    replaced.update(professional_history(case))
    current, actions = 1, 0
    for event in in_time_order(case.events):
        number: int | None = None
        if event.kind == EventKind.ESCALATED and event.stage is not None:
            current = event.stage
        elif event.kind == EventKind.ACTION:
            actions += 1
            number = actions
        # A missed timescale is about the stage it names, wherever it was recorded.
        home = current
        if event.kind == EventKind.TIMESCALE_MISSED and event.stage is not None:
            home = event.stage
        row = EventRow(
            event.at,
            event.kind,
            event_label(event, number),
            event.by,
            event_detail(event, replaced.get(id(event))),
            late_entry_text(event),
        )
        events_by_stage.setdefault(home, []).append(row)

    duties = duty_lines(state, as_of)
    visits_by_stage: dict[int, list[StageVisit]] = {}
    for visit in state.visits:
        visits_by_stage.setdefault(visit.stage, []).append(visit)

    rows: list[StageRow] = []
    for stage in procedure.stages:
        visits = visits_by_stage.get(stage.number, [])
        if stage.number in state.skipped:
            status = SKIPPED
        elif not visits:
            status = NOT_REACHED
        elif stage.number == state.stage:
            status = {"resolved": RESOLVED, "voided": VOIDED_HERE}.get(
                state.standing.status, CURRENT
            )
        else:
            status = PASSED
        rows.append(
            StageRow(
                number=stage.number,
                name=stage.name,
                timescale_rule=stage.timescale.describe(),
                status=status,
                visits=tuple(
                    VisitRow(
                        v.entered_at,
                        v.left_at,
                        v.due,
                        v.due_reason,
                        timescale_result(v, as_of),
                        v.missed_reason,
                    )
                    for v in visits
                ),
                events=tuple(events_by_stage.get(stage.number, [])),
                holder=stage.holder,
                duties=tuple(duties.get(stage.number, [])),
            )
        )
    return rows


def late_entry_text(event: Event) -> str:
    """'recorded later, on …' when the entry was written well after the event, else ''."""
    if event.recorded_at is None or event.recorded_at - event.at <= LATE_ENTRY:
        return ""
    return f"recorded later, on {stamp(event.recorded_at)}"


def after_resolution(state: CaseState, as_of: datetime) -> list[DutyLine]:
    """The duties that arose on resolution, and those still owed from a stage that survive it."""
    if state.resolved_at is None:
        return []
    lines = duty_lines(state, as_of)
    # Those still owed from a stage are listed under it too: here, one line that says so.
    surviving = [
        replace(line, detail=f"still owed from stage {key} (see it above)")
        for key, found in lines.items()
        if key != "resolution"
        for line in found
        if line.state in (OWED, OVERDUE)
    ]
    return list(lines.get("resolution", [])) + surviving


def visit_lines(visit: VisitRow) -> list[Content]:
    """The entered / due / timescale lines of one pass through a stage."""
    lines = [Content.assemble(("Entered ", "dim"), stamp(visit.entered_at))]
    if visit.due is not None:
        due = Content.assemble(("Due     ", "dim"), stamp(visit.due))
        if visit.due_reason:
            due = Content.assemble(
                due, ("  (deadline set: ", "dim"), visit.due_reason, (")", "dim")
            )
        lines.append(due)
    if visit.timescale == KEPT:
        lines.append(Content.assemble(("✓ kept its timescale", "$text-success")))
    elif visit.timescale == MISSED:
        reason = visit.missed_reason or "no reason recorded yet (key m)"
        lines.append(
            Content.assemble(("✗ missed its timescale", "$text-error bold"), f": {reason}")
        )
    elif visit.timescale == PENDING:
        lines.append(Content.assemble(("… timescale pending", "$text-warning")))
    else:
        lines.append(Content.assemble(("– no timescale", "dim")))
    return lines


def indented(text: str, width: int | None, indent: int = 4) -> list[str]:
    """Text indented beneath a heading, wrapped at word boundaries to `width` so that a long
    note keeps its indent on every line (a line the terminal wraps starts at column 0)."""
    pad = " " * indent
    if width is None or width - indent < 20:
        return [pad + line for line in text.splitlines()]
    return [
        pad + piece
        for line in text.splitlines()
        for piece in (textwrap.wrap(line, width - indent, break_on_hyphens=False) or [""])
    ]


def event_lines(event: EventRow, width: int | None = None) -> list[Content]:
    """An event's heading (when, what, who) and its text, indented beneath."""
    heading = Content.assemble(
        (stamp(event.at), "dim"),
        "  ",
        (event.label, "bold"),
        (f"  by {event.by}" if event.by else "", "italic"),
        (f"  ({event.recorded_later})" if event.recorded_later else "", "$text-warning"),
    )
    return [heading, *(Content(line) for line in indented(event.detail, width))]


def duty_line_content(line: DutyLine, width: int | None = None) -> list[Content]:
    """A duty's heading (symbol, what, state and due) and its detail beneath."""
    style = {
        OVERDUE: "$text-error bold",
        OWED: "$text-warning bold",
        DONE: "$text-success",
        DONE_LATE: "$text-success",
    }.get(line.state, "dim")
    due = f", due {stamp(line.due)}" if line.due is not None else ""
    target = " (a target)" if line.soft else ""
    return [
        Content.assemble(
            (f"{DUTY_SYMBOLS[line.state]} Duty {line.state}{due}{target}: ", style), line.what
        ),
        *(Content.styled(text, "dim") for text in indented(line.detail, width)),
    ]


def resolution_content(lines: list[DutyLine]) -> Content:
    """The block after the last stage: what is owed now the case is resolved."""
    parts = [Content.assemble(("■ After resolution", "bold"))]
    for line in lines:
        parts.extend(duty_line_content(line))
    return Content("\n").join(parts)


def stage_content(row: StageRow, width: int | None = None) -> Content:
    """One stage's block: heading, its passes, its events (notes wrapped to `width`, when
    given, under their indent)."""
    symbol = STATUS_SYMBOLS[row.status]
    lines: list[Content] = [
        Content.assemble(
            (f"{symbol} Stage {row.number}  {row.name}", "bold"),
            (f"  [{row.status}]", "bold" if row.status in (CURRENT, RESOLVED) else "dim"),
        ),
        Content.assemble(("Timescale: ", "dim"), (row.timescale_rule, "dim")),
    ]
    if row.holder:
        lines.append(Content.assemble(("Held by:   ", "dim"), (row.holder, "dim")))
    for visit in row.visits:
        lines.extend(visit_lines(visit))
    for duty in row.duties:
        lines.extend(duty_line_content(duty, width))
    if row.status == SKIPPED:
        lines.append(Content("Skipped: the case was escalated past this stage."))
    for event in row.events:
        lines.extend(event_lines(event, width))
    return Content("\n").join(lines)


class StageTimeline(Vertical):
    """The case's stages in procedure order, one block each, with their events."""

    DEFAULT_CSS = """
    StageTimeline {
        height: auto;
    }
    StageTimeline > .stage {
        height: auto;
        padding: 0 1;
        margin-bottom: 1;
        border-left: outer $foreground 20%;
    }
    StageTimeline > .stage.-current {
        border-left: outer $accent;
    }
    StageTimeline > .stage.-resolved-here {
        border-left: outer $success;
    }
    StageTimeline > .stage.-skipped, StageTimeline > .stage.-not-reached {
        color: $text-muted;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[StageRow] = []
        self._wrapped_at: int | None = None
        self._naming = False

    def compose(self) -> ComposeResult:
        yield Static("Loading the case…", classes="stage")

    def show(self, rows: list[StageRow]) -> None:
        """Show these stages: redrawn in place when the same stages are on screen already
        (the periodic redraw keeps the scroll position), else the blocks are replaced."""
        self.rows = rows
        width = self._wrapped_at = self.text_width
        blocks = list(self.query_children(".stage").results(Static))
        if [b.id for b in blocks] == [f"stage-{row.number}" for row in rows]:
            for block, row in zip(blocks, rows, strict=True):
                block.update(stage_content(row, width))
                block.set_classes(stage_classes(row))
            return
        self.remove_children()
        # Without ids: the old blocks are still being removed while these are mounted.
        self.mount_all(
            Static(stage_content(row, width), classes=stage_classes(row)) for row in rows
        )
        self._naming = True  # until the new blocks have their ids, nothing is redrawn
        self.call_after_refresh(self._name_blocks)

    @property
    def text_width(self) -> int | None:
        """The width a block's text has (its border and padding take three columns)."""
        return self.size.width - 3 if self.size.width > 3 else None

    def on_resize(self) -> None:
        # The notes are wrapped to the width: wrap them again when it changes (a change of
        # height alone, as the blocks grow, needs nothing).
        if self.rows and self.text_width != self._wrapped_at and not self._naming:
            self.show(self.rows)

    def _name_blocks(self) -> None:
        for block, row in zip(
            self.query_children(".stage").results(Static), self.rows, strict=False
        ):
            if block.id is None:
                block.id = f"stage-{row.number}"
        self._naming = False
        if self.rows and self.text_width != self._wrapped_at:
            self.show(self.rows)  # the width changed while they were mounted

    def show_message(self, text: str) -> None:
        """Show one line instead of the stages (while loading, or when the case is gone)."""
        self.rows = []
        self.remove_children()
        self.mount(Static(text, classes="stage"))


def stage_classes(row: StageRow) -> str:
    """The CSS classes of a stage's block, from its status."""
    return f"stage -{row.status.replace(' ', '-')}"
