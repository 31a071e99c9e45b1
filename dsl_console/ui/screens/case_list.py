"""The main screen: every case in urgency order, with quick views, a filter and flag counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Header, Input, Static
from textual.worker import Worker, get_current_worker

from dsl_console.store.listing import FlagCounts, View, flag_counts
from dsl_console.ui.error_dialog import ErrorGuard
from dsl_console.ui.failures import report_failed_worker
from dsl_console.ui.views import VIEW_HELP, VIEW_KEYS, VIEW_TITLES
from dsl_console.ui.widgets.case_table import CaseTable
from dsl_console.ui.widgets.demo_mark import demo_mark
from dsl_console.ui.widgets.flag_summary import FlagSummary
from dsl_console.ui.widgets.keys_footer import KeysFooter
from dsl_console.ui.widgets.notice_bar import NoticeBar


class ViewBar(Static):
    """The quick views with their keys; the current one marked in words as well as colour."""

    DEFAULT_CSS = """
    ViewBar { height: 1; padding: 0 1; color: $text-muted; }
    """

    _shown: tuple[View, int | None, str] | None = None

    def on_resize(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)

    def show(self, current: View, total: int | None, text: str) -> None:
        """Redraw for the current view and the number of cases it shows."""
        self._shown = (current, total, text)
        line = Text(no_wrap=True, overflow="ellipsis")
        # The count and the filter first: on a narrow terminal the last views are cut, never
        # how many cases are shown.
        if total is not None:
            line.append(f"{total} case{'' if total == 1 else 's'}", style="bold")
        if text:
            line.append(f' matching "{text}"')
        if total is not None or text:
            line.append("  ")
        # Spaced out where there is room; packed where there is not, so that at 80 columns
        # the last view (7 Voided) is not cut off.
        roomy = len(line.plain) + sum(len(VIEW_TITLES[v]) + 6 for v in VIEW_KEYS.values())
        pad = " " if roomy <= self.size.width - 2 or not self.size.width else ""
        for key, view in VIEW_KEYS.items():
            if view == current:
                line.append(f"[{key} {VIEW_TITLES[view]}]", style="bold reverse")
            else:
                line.append(f"{pad}{key} {VIEW_TITLES[view]}{pad}")
            line.append(" ")
        self.update(line)


class CaseListScreen(ErrorGuard, Screen[None]):
    """The case list: what needs doing first is at the top."""

    AUTO_FOCUS = "CaseTable"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash", "filter", "Filter", id="list.filter", tooltip="Filter by ref or child name"
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear",
            id="list.clear",
            tooltip="Clear the filter and return to the list",
        ),
        Binding("n", "app.new_case", "New case", id="list.new", tooltip="Open a new escalation"),
        # The views' keys are on the view bar above the list: the footer keeps the others.
        Binding(
            "1",
            "view('open')",
            "Open",
            id="list.view.open",
            show=False,
            tooltip=VIEW_HELP[View.OPEN],
        ),
        Binding(
            "2",
            "view('flagged')",
            "Flagged",
            id="list.view.flagged",
            show=False,
            tooltip=VIEW_HELP[View.FLAGGED],
        ),
        Binding(
            "3",
            "view('overdue')",
            "Overdue",
            id="list.view.overdue",
            show=False,
            tooltip=VIEW_HELP[View.OVERDUE],
        ),
        Binding(
            "4",
            "view('resolved')",
            "Resolved",
            id="list.view.resolved",
            show=False,
            tooltip=VIEW_HELP[View.RESOLVED],
        ),
        Binding(
            "5",
            "view('retention')",
            "Retention",
            id="list.view.retention",
            show=False,
            tooltip=VIEW_HELP[View.RETENTION],
        ),
        Binding(
            "6",
            "view('owed')",
            "Owed",
            id="list.view.owed",
            show=False,
            tooltip=VIEW_HELP[View.OWED],
        ),
        Binding(
            "7",
            "view('voided')",
            "Voided",
            id="list.view.voided",
            show=False,
            tooltip=VIEW_HELP[View.VOIDED],
        ),
        Binding(
            "E",
            "export",
            "Export",
            id="list.export",
            key_display="E",
            tooltip="Export the summary log, a partnership form, the analysis or everything",
        ),
        Binding("q", "app.quit", "Quit", id="list.quit", tooltip="Quit the console"),
    ]

    view: reactive[View] = reactive(View.OPEN, init=False)

    @dataclass
    class Counted(Message):
        """Fresh flag counts for the header line."""

        generation: int
        counts: FlagCounts

    def __init__(self) -> None:
        super().__init__(id="case-list")
        self._counts_generation = 0

    def compose(self) -> ComposeResult:
        session = self.app.session  # type: ignore[attr-defined]
        registry = session.registry

        def stage_name(procedure: str, version: str, stage: int) -> str:
            try:
                return registry.get(procedure, version or None).stage(stage).short
            except (KeyError, ValueError, LookupError):
                return ""

        yield Header()
        yield from demo_mark(self.app)
        yield FlagSummary(id="flag-summary")
        yield ViewBar(id="view-bar")
        yield Input(placeholder="Filter by ref or child name", id="filter", classes="hidden")
        yield CaseTable(calendar=session.calendar, stage_name=stage_name, id="cases")
        yield NoticeBar(id="notice-bar")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(ViewBar).show(self.view, None, "")
        self.refresh_cases()

    def on_screen_resume(self) -> None:
        # Back from a case or a form: what was announced meanwhile joins the notice bar.
        notices_to_bar = getattr(self.app, "notices_to_bar", None)
        if notices_to_bar is not None:
            notices_to_bar()

    def action_export(self) -> None:
        """Open the export screen (the summary log chosen)."""
        from dsl_console.ui.screens.export import ExportScreen

        self.app.push_screen(ExportScreen())

    @property
    def notice_bar(self) -> NoticeBar | None:
        """The notices about cases, in lines of their own under the rows; None while the screen
        has no children (not yet composed, or taken down as the console closes), when a
        sweep's news that arrives meanwhile is not the bar's."""
        try:
            return self.query_one(NoticeBar)
        except NoMatches:
            return None

    @property
    def table(self) -> CaseTable:
        """The case table."""
        return self.query_one(CaseTable)

    @property
    def filter_text(self) -> str:
        """What the user has typed in the filter."""
        return self.query_one("#filter", Input).value.strip()

    # -- refreshing ------------------------------------------------------------------------------
    def refresh_cases(self, keep: str | None = None, *, counts: bool = True) -> None:
        """Re-query the rows on screen and the flag counts, keeping the highlighted case.

        `counts=False` leaves the flag counts alone: they count every open case whatever the
        view or filter, so a keystroke or a change of view need not recount them.
        """
        app = self.app
        if getattr(app, "session", None) is None:
            return
        if not self.query(CaseTable):
            # Not composed yet (another console wrote in the moment between unlocking and
            # the list's first drawing): on_mount loads the rows itself.
            return
        as_of = app.now()  # type: ignore[attr-defined]
        self.table.reload(self.view, self.filter_text, as_of, keep=keep)
        if counts:
            self._counts_generation += 1
            self._count_flags(self._counts_generation, as_of)

    @work(thread=True, exclusive=True, exit_on_error=False, group="flag-counts")
    def _count_flags(self, generation: int, as_of) -> None:  # type: ignore[no-untyped-def]
        session = getattr(self.app, "session", None)
        if session is None:
            return
        with session.db.connection_context():
            counts = flag_counts(as_of)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Counted(generation, counts))

    @on(Counted)
    def _counted(self, message: Counted) -> None:
        # Counts taken before a lock arrive after it: they are dropped, not shown.
        if message.generation == self._counts_generation and self.app.session is not None:  # type: ignore[attr-defined]
            self.query_one(FlagSummary).show_counts(message.counts)

    @on(CaseTable.Counted)
    def _table_counted(self, message: CaseTable.Counted) -> None:
        self.query_one(ViewBar).show(message.view, message.total, message.text)

    @on(CaseTable.Opened)
    def _opened(self, message: CaseTable.Opened) -> None:
        self.app.open_case(message.ref)  # type: ignore[attr-defined]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_failed_worker(self, event)

    def forget_cases(self) -> None:
        """Drop every row from memory and screen (the idle lock)."""
        self._counts_generation += 1  # any count still on its way is stale
        self.table.clear()
        self.query_one(FlagSummary).clear_counts()

    # -- views and filter ------------------------------------------------------------------------
    def watch_view(self, view: View) -> None:
        self.query_one(ViewBar).show(view, None, self.filter_text)
        self.refresh_cases(counts=False)

    def action_view(self, name: str) -> None:
        """Switch to a quick view."""
        self.view = View(name)

    def action_filter(self) -> None:
        """Show the filter and type into it."""
        box = self.query_one("#filter", Input)
        box.remove_class("hidden")
        # Focus now, not after the queued keys: what is typed straight after / must land here.
        self.set_focus(box)

    def action_clear_filter(self) -> None:
        """Leave the filter: clear it if it has text, and go back to the list."""
        box = self.query_one("#filter", Input)
        had_text = bool(box.value)
        box.value = ""
        box.add_class("hidden")
        self.set_focus(self.table)
        if had_text:
            self.refresh_cases(counts=False)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.refresh_cases(counts=False)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        # Enter in the filter goes to the list, keeping the filter; enter again opens the case.
        self.set_focus(self.table)
