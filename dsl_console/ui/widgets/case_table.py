"""The case list's table: only the rows on screen are queried and rendered (Toolong style).

The table never holds every case. It knows how many rows the view has, keeps a few pages of
rows in a small cache, and asks a thread worker for a page when a line it must draw is missing.
Every reload keeps the highlighted case (by ref) where the user left it on screen.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events, on, work
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, WorkerState, get_current_worker

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import local_date, to_local
from dsl_console.core.deadlines import days_left, flags_at
from dsl_console.core.flags import BY_ID as FLAG_BY_ID
from dsl_console.core.flags import FLAGS
from dsl_console.core.records import age_on
from dsl_console.core.wording import countdown
from dsl_console.store.listing import CaseRow, View, count, page, position
from dsl_console.ui.failures import report_failed_worker
from dsl_console.ui.widgets import flag_style

PAGE_SIZE = 64
CACHED_PAGES = 12

# Given the flags, the component class that colours the flag cell (the symbols carry the
# meaning): the most urgent flag's, in the flags' fixed order.
PREFIX = "case-table"
FLAG_CLASSES = tuple((flag.id, flag_style.component(PREFIX, flag.id)) for flag in FLAGS)


@dataclass(frozen=True)
class Column:
    """One column: its title, width, and how to fill it from a row."""

    key: str
    title: str
    width: int


@dataclass(frozen=True)
class RowText:
    """A case row put into words, column by column."""

    ref: str
    cells: dict[str, str]
    flags: tuple[str, ...]


def describe_row(
    row: CaseRow,
    as_of: datetime,
    calendar: WorkingCalendar,
    stage_name: Callable[[str, str, int], str],
) -> RowText:
    """The words for one case at a moment: the same helpers the CLI uses."""
    standing = row.standing()
    flags = tuple(flags_at(standing, as_of))
    if row.status != "open" and row.resolved_at is not None:
        when = f"{row.status} {to_local(row.resolved_at):%d/%m/%Y}"
        if row.owes:
            when += ", duty owed"
    elif row.risk_due is not None:
        when = (
            f"risk: escalate by {to_local(row.risk_due):%H:%M}"
            if row.risk_due > as_of
            else "risk: escalate now"
        )
    else:
        when = countdown(row.due, days_left(standing, calendar, as_of), as_of)
        if row.school_due is not None and (row.due is None or row.school_due < row.due):
            # A duty falls due before the stage does: that is the deadline to meet first.
            left = calendar.working_days_left(as_of, row.school_due)
            when = "duty " + countdown(row.school_due, left, as_of)
    age = age_on(row.dob, local_date(as_of))
    symbols = " ".join(FLAG_BY_ID[f].symbol for f in flags)
    return RowText(
        ref=row.ref,
        cells={
            "ref": row.ref,
            "child": f"{row.child_name} ({age})",
            "procedure": row.procedure,
            "stage": f"{row.stage} {stage_name(row.procedure, row.procedure_version, row.stage)}",
            "stage_number": str(row.stage),
            "countdown": when,
            "flags": symbols or "-",
            "agency": row.other_agency,
        },
        flags=flags,
    )


# Column widths; "Children's social care" and long stage names are cut with an ellipsis.
REF, CHILD, PROCEDURE, STAGE, DUE, FLAGS_WIDTH, AGENCY = 12, 20, 15, 20, 23, 9, 12


def _columns(width: int, keys: list[str]) -> list[Column]:
    widths = {
        "ref": REF,
        "child": CHILD,
        "procedure": PROCEDURE,
        "stage": STAGE,
        "stage_number": 5,
        "countdown": DUE,
        "flags": FLAGS_WIDTH,
        "agency": AGENCY,
    }
    titles = {
        "ref": "Ref",
        "child": "Child (age)",
        "procedure": "Procedure",
        "stage": "Stage",
        "stage_number": "Stage",
        "countdown": "Due",
        "flags": "Flags",
        "agency": "Other agency",
    }
    # What is left over goes to the last free-text column: the agency, else the child's name.
    spare = width - sum(widths[k] for k in keys) - (len(keys) - 1)
    grow = "agency" if "agency" in keys else "child"
    widths[grow] += max(0, spare)
    return [Column(k, titles[k], widths[k]) for k in keys]


def layout_columns(width: int) -> list[Column]:
    """The columns that fit a width, dropping the least needed ones first when narrow."""
    tiers = (
        ["ref", "child", "procedure", "stage", "countdown", "flags", "agency"],
        # The procedure goes first: a school mostly works under one partnership's.
        ["ref", "child", "stage", "countdown", "flags", "agency"],
        ["ref", "child", "stage", "countdown", "flags"],
    )
    for keys in tiers:
        columns = _columns(width, keys)
        if sum(c.width for c in columns) + len(columns) - 1 <= width and all(
            c.width >= CHILD for c in columns if c.key == "child"
        ):
            return columns
    # At 80 columns: the stage by number only, so the child's name keeps its room. Narrower
    # still, the Due column gives way (its words abbreviate), then the name: the Flags column
    # is never pushed off the screen.
    columns = _columns(width, ["ref", "child", "stage_number", "countdown", "flags"])
    over = sum(c.width for c in columns) + len(columns) - 1 - width
    for key, floor in (("countdown", DUE_NARROW), ("child", CHILD_NARROW)):
        at = next(i for i, c in enumerate(columns) if c.key == key)
        given = max(0, min(over, columns[at].width - floor))
        columns[at] = replace(columns[at], width=columns[at].width - given)
        over -= given
    return columns


DUE_NARROW, CHILD_NARROW = 17, 10
# How a countdown shortens, step by step, when its column is too narrow for the words (help
# says what "wd" stands for).
_ABBREVIATIONS = ((" working days", " wd"), (" working day", " wd"), ("overdue ", "late "))


def _fit(text: str, width: int) -> str:
    if len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text.ljust(width)


def fit_cell(key: str, text: str, width: int) -> str:
    """A cell's text in its column: a countdown abbreviated rather than cut ("overdue 636
    wd"), a child's name cut before the age, so the age stays ("Hana Placeh… (10)")."""
    if len(text) <= width:
        return text.ljust(width)
    if key == "countdown":
        for long, short in _ABBREVIATIONS:
            if len(text) > width:
                text = text.replace(long, short)
    elif key == "child" and text.endswith(")") and " (" in text:
        name, age = text.rsplit(" (", 1)
        room = width - len(age) - 2
        if room >= 4:
            return f"{_fit(name, room).rstrip()} ({age}".ljust(width)
    return _fit(text, width)


@dataclass
class Query:
    """What the table shows: a quick view, the filter text, and the moment flags are judged at."""

    view: View = View.OPEN
    text: str = ""
    as_of: datetime | None = None


class CaseTable(ScrollView, can_focus=True):
    """Every case in the view, one line each, fetched a page at a time."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="table.up", tooltip="Previous case"),
        Binding("down,j", "cursor_down", "Down", show=False, id="table.down", tooltip="Next case"),
        Binding(
            "pageup", "page_up", "Page up", show=False, id="table.pageup", tooltip="A screenful up"
        ),
        Binding(
            "pagedown",
            "page_down",
            "Page down",
            show=False,
            id="table.pagedown",
            tooltip="A screenful down",
        ),
        Binding("home", "first", "First", show=False, id="table.home", tooltip="First case"),
        Binding("end", "last", "Last", show=False, id="table.end", tooltip="Last case"),
        Binding("enter", "open", "Open", id="table.open", tooltip="Open the highlighted case"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "case-table--header",
        "case-table--cursor",
        *flag_style.components(PREFIX),
        "case-table--loading",
        "case-table--empty",
    }

    DEFAULT_CSS = """
    CaseTable {
        height: 1fr;
        background: $surface;
    }
    CaseTable > .case-table--header { text-style: bold; color: $text-primary; }
    CaseTable > .case-table--cursor { background: $block-cursor-blurred-background; }
    CaseTable:focus > .case-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    CaseTable > .case-table--loading { color: $text-muted; }
    CaseTable > .case-table--empty { color: $text-muted; text-style: italic; }
    """ + flag_style.css("CaseTable", PREFIX)

    @dataclass
    class Loaded(Message):
        """A reload's count, the rows around the cursor, and where the kept case now is."""

        generation: int
        total: int
        index: int | None
        pages: dict[int, list[CaseRow]]
        as_of: datetime

    @dataclass
    class PageLoaded(Message):
        """One more page of rows for the cache."""

        generation: int
        number: int
        rows: list[CaseRow] = field(default_factory=list)

    @dataclass
    class Highlighted(Message):
        """The highlighted case changed (None when the view is empty)."""

        ref: str | None

    @dataclass
    class Opened(Message):
        """The user asked to open a case (enter or double click)."""

        ref: str

    @dataclass
    class Counted(Message):
        """How many cases the view and filter select."""

        total: int
        view: View
        text: str

    def __init__(
        self,
        *,
        calendar: WorkingCalendar,
        stage_name: Callable[[str, str, int], str],
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.calendar = calendar
        self.stage_name = stage_name
        self.query_state = Query()
        self.total = 0
        self.cursor = 0
        self.loaded = False
        self._selected_ref: str | None = None
        self._generation = 0
        self._pages: OrderedDict[int, list[CaseRow]] = OrderedDict()
        self._pending: set[int] = set()
        self._columns: list[Column] = []
        self._columns_width = -1

    # -- what is shown ---------------------------------------------------------------------------
    @property
    def selected_ref(self) -> str | None:
        """The ref of the highlighted case, if any."""
        row = self.row_at(self.cursor)
        return row.ref if row is not None else self._selected_ref

    def row_at(self, index: int) -> CaseRow | None:
        """The row at an index if its page is cached (None when not yet fetched)."""
        if not 0 <= index < self.total:
            return None
        rows = self._pages.get(index // PAGE_SIZE)
        if rows is None:
            return None
        offset = index % PAGE_SIZE
        return rows[offset] if offset < len(rows) else None

    def visible_refs(self) -> list[str]:
        """Refs of the case rows now drawn on screen, top to bottom (for tests and help)."""
        top = int(self.scroll_offset.y)
        refs = []
        for index in range(top, min(self.total, top + self._data_height())):
            row = self.row_at(index)
            if row is not None:
                refs.append(row.ref)
        return refs

    def clear(self) -> None:
        """Forget every cached row (the idle lock: case data leaves memory and screen)."""
        self._generation += 1
        self._pages.clear()
        self._pending.clear()
        self.total = 0
        self.loaded = False
        self.virtual_size = Size(self.size.width, 1)
        self.refresh()

    # -- reloading -------------------------------------------------------------------------------
    def reload(self, view: View, text: str, as_of: datetime, *, keep: str | None = None) -> None:
        """Re-query the view; the highlighted case stays highlighted where it still belongs."""
        self.query_state = Query(view, text, as_of)
        self._generation += 1
        keep = keep if keep is not None else self.selected_ref
        self._selected_ref = keep
        self._reload(self._generation, self.query_state, keep, self.cursor)

    @work(thread=True, exclusive=True, exit_on_error=False, group="case-table-reload")
    def _reload(self, generation: int, query: Query, keep: str | None, cursor: int) -> None:
        session = getattr(self.app, "session", None)
        if session is None or query.as_of is None:
            return
        with session.db.connection_context():
            total = count(query.view, query.text, query.as_of)
            index = position(query.view, query.text, query.as_of, keep) if keep else None
            target = index if index is not None else min(cursor, max(0, total - 1))
            first = max(0, target // PAGE_SIZE - 1)
            pages = {
                n: page(query.view, query.text, query.as_of, n * PAGE_SIZE, PAGE_SIZE)
                for n in range(first, min(first + 3, total // PAGE_SIZE + 1))
            }
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(generation, total, index, pages, query.as_of))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        # Keep the highlighted case on the same screen line, so a refresh never jumps the view.
        screen_line = self.cursor - int(self.scroll_offset.y)
        self.total = message.total
        self._pages = OrderedDict(sorted(message.pages.items()))
        self._pending.clear()
        self.loaded = True
        if message.index is not None:
            self.cursor = message.index
        self.cursor = max(0, min(self.cursor, self.total - 1))
        self.virtual_size = Size(self.scrollable_content_region.width, self.total + 1)
        height = self._data_height()
        screen_line = max(0, min(screen_line, height - 1))
        top = max(0, min(self.cursor - screen_line, self.total - height))
        self.scroll_to(y=top, animate=False, immediate=True)
        self._selected_ref = self.selected_ref
        self.refresh()
        self.post_message(self.Counted(self.total, self.query_state.view, self.query_state.text))
        self.post_message(self.Highlighted(self.selected_ref))

    def _want_page(self, number: int) -> None:
        if number in self._pages or number in self._pending or not self.loaded:
            return
        self._pending.add(number)
        self._fetch_page(self._generation, self.query_state, number)

    @work(thread=True, exit_on_error=False, group="case-table-pages")
    def _fetch_page(self, generation: int, query: Query, number: int) -> None:
        session = getattr(self.app, "session", None)
        if session is None or query.as_of is None:
            return
        with session.db.connection_context():
            rows = page(query.view, query.text, query.as_of, number * PAGE_SIZE, PAGE_SIZE)
        self.post_message(self.PageLoaded(generation, number, rows))

    @on(PageLoaded)
    def _page_loaded(self, message: PageLoaded) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._pending.discard(message.number)
        self._pages[message.number] = message.rows
        while len(self._pages) > CACHED_PAGES:
            self._pages.popitem(last=False)
        self.refresh()
        if self._selected_ref is None or self.row_at(self.cursor) is not None:
            self.post_message(self.Highlighted(self.selected_ref))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self._pending.clear()  # so the rows are asked for again on the next draw
        report_failed_worker(self, event)

    # -- drawing ---------------------------------------------------------------------------------
    def _data_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self.total + 1)

    def _layout(self) -> list[Column]:
        width = self.scrollable_content_region.width
        # Laid out again whenever the width changes, wider as well as narrower: a terminal
        # widened after being narrow gets its procedure and agency columns back.
        if not self._columns or width != self._columns_width:
            self._columns = layout_columns(width)
            self._columns_width = width
        return self._columns

    def _line(self, cells: list[tuple[str, Style]], width: int, base: Style) -> Strip:
        segments = []
        for n, (text, style) in enumerate(cells):
            if n:
                segments.append(Segment(" ", base))
            segments.append(Segment(text, base + style))
        return Strip(segments).extend_cell_length(width, base).crop(0, width)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = self._layout()
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("case-table--header")
            return self._line([(_fit(c.title, c.width), header) for c in columns], width, base)
        index = int(self.scroll_offset.y) + y - 1
        if index >= self.total:
            if index == 0 and self.loaded:
                empty = self.get_component_rich_style("case-table--empty")
                return self._line([("No cases in this view.", empty)], width, base)
            return Strip.blank(width, base)
        row = self.row_at(index)
        if row is None:
            self._want_page(index // PAGE_SIZE)
            loading = self.get_component_rich_style("case-table--loading")
            return self._line([("…", loading)], width, base)
        as_of = self.query_state.as_of
        assert as_of is not None
        text = describe_row(row, as_of, self.calendar, self.stage_name)
        style = base
        if index == self.cursor:
            style = base + self.get_component_rich_style("case-table--cursor")
        flag_style = Style()
        for flag, component in FLAG_CLASSES:
            if flag in text.flags:
                flag_style = self.get_component_rich_style(component)
                break
        cells = []
        for column in columns:
            cell_style = flag_style if column.key in ("flags", "countdown") else Style()
            cells.append((fit_cell(column.key, text.cells[column.key], column.width), cell_style))
        return self._line(cells, width, style)

    # -- moving ----------------------------------------------------------------------------------
    def move_to(self, index: int) -> None:
        """Highlight the row at an index, scrolling it into view."""
        if self.total == 0:
            return
        index = max(0, min(index, self.total - 1))
        old = self.cursor
        self.cursor = index
        top = int(self.scroll_offset.y)
        height = self._data_height()
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)
        self.refresh()
        row = self.row_at(index)
        self._selected_ref = row.ref if row is not None else None
        if old != index or row is not None:
            self.post_message(self.Highlighted(self._selected_ref))

    def action_cursor_up(self) -> None:
        self.move_to(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_to(self.cursor + 1)

    def action_page_up(self) -> None:
        self.move_to(self.cursor - self._data_height())

    def action_page_down(self) -> None:
        self.move_to(self.cursor + self._data_height())

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(self.total - 1)

    def action_open(self) -> None:
        row = self.row_at(self.cursor)
        if row is not None:
            self.post_message(self.Opened(row.ref))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        self.move_to(int(self.scroll_offset.y) + event.y - 1)
        if event.chain >= 2:
            self.action_open()
