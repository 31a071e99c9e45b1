"""The export screen: what to write (log, partnership form, analysis, everything), with a bar.

The fields are read on the UI thread (InputError "field: reason" shown under the field); the
export itself runs in a thread worker through `exporting.export_to`, the command line's own code
path, so it is audited the same way. The worker posts progress as cases are consumed and the
result line (written path and audit head) when done. A read-only account may export, as the
command line allows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, ProgressBar, Select, Static
from textual.worker import Worker, WorkerState

from dsl_console.core.clock import local_date
from dsl_console.core.deadlines import CaseState
from dsl_console.core.forms import DEFAULT_FORM, PARTNERSHIP_FORMS
from dsl_console.core.procedures import Procedure
from dsl_console.errors import ConsoleError, InputError
from dsl_console.services import exporting
from dsl_console.services.exports.target import TargetExists, check_target
from dsl_console.services.session import Session
from dsl_console.store.cases import load_case
from dsl_console.ui.forms.base import FormScreen
from dsl_console.ui.forms.confirm import ConfirmScreen
from dsl_console.ui.forms.fields import FormField, Tick
from dsl_console.ui.forms.host import host, session_of
from dsl_console.ui.forms.parsing import day_typed
from dsl_console.ui.widgets.demo_mark import demo_mark
from dsl_console.ui.widgets.keys_footer import KeysFooter

WHAT_OPTIONS = [
    ("Summary log", "log"),
    ("Partnership form", "report"),
    ("Yearly analysis", "analysis"),
    ("Everything as JSON", "json"),
]
FORMATS = {
    "log": ("csv", "xlsx"),
    "report": ("pdf",),
    "analysis": ("pdf", "csv"),
    "json": ("json",),
}
FORM_OPTIONS = [(form.menu, form.id) for form in PARTNERSHIP_FORMS.values()]
# Which fields each kind of export uses (the others are hidden).
FIELDS_OF = {
    "log": {"format", "from", "to", "initials"},
    "report": {"form", "ref"},
    "analysis": {"format", "year"},
    "json": set(),
}
OPTIONAL_FIELDS = ("format", "form", "ref", "from", "to", "year", "initials")
UNEXPECTED = "Not written: something unexpected went wrong. Try again."


def default_folder() -> Path:
    """The user's Documents folder if there is one, else their home folder."""
    home = Path.home()
    documents = home / "Documents"
    return documents if documents.is_dir() else home


def default_name(
    what: str, fmt: str, today: date, *, ref: str = "", form: str = "", year: str = ""
) -> str:
    """A file name saying what the export is and when it was made."""
    if what == "log":
        return f"escalation-log-{today}.{fmt}"
    if what == "report":
        return f"{ref or 'case'}-{form or 'form'}-{today}.pdf"
    if what == "analysis":
        return f"escalation-analysis-{year or today.year}.{fmt}"
    return f"dsl-console-export-{today}.json"


def form_for(procedure: Procedure, state: CaseState | None) -> str:
    """The partnership form to offer for a case: the one an owed duty names, else one its
    procedure's duties name (the last reached first), else the Liverpool report."""
    printable = set(PARTNERSHIP_FORMS)
    if state is not None:
        for status in state.outstanding():
            for form in status.duty.forms:
                if form in printable:
                    return form
        arisen = [d.duty for d in state.duties if d.arisen]
        for duty in reversed(arisen):
            for form in duty.forms:
                if form in printable:
                    return form
    for form in procedure.forms():
        if form in printable:
            return form
    return DEFAULT_FORM


@dataclass(frozen=True)
class ExportRequest:
    """The fields, read and checked: what `exporting.export_to` needs."""

    what: str
    out: Path
    fmt: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    initials: bool = False
    ref: str | None = None
    form: str | None = None
    year: int | None = None
    force: bool = False  # the user said yes to replacing an existing file


class ExportScreen(FormScreen):
    """Choose an export, its format and range; write it with a progress bar."""

    # Its fields are settings for one export, not a record: Close never asks.
    ASK_BEFORE_DISCARDING = False

    DEFAULT_CSS = """
    ExportScreen #blank-note {
        display: none;
        color: $text-warning;
        padding-top: 1;
    }
    ExportScreen #export-progress {
        height: 1;
        margin-top: 1;
    }
    ExportScreen #export-result {
        display: none;
        color: $text-success;
        text-style: bold;
    }
    ExportScreen #export-result.-shown {
        display: block;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "cancel",
            "Close",
            id="export.close",
            tooltip="Close the export screen (an export under way still finishes)",
        ),
        Binding(
            "ctrl+s",
            "save",
            "Export",
            id="export.run",
            tooltip="Check the fields and write the export",
            priority=True,
        ),
    ]

    TITLE_TEXT = "Export for the partnership"
    SAVE_LABEL = "Export"

    @dataclass
    class Progressed(Message):
        """Cases consumed so far, out of the total."""

        done: int
        total: int

    @dataclass
    class Written(Message):
        """The export was written and audited; `line` names the file and the audit head."""

        line: str

    def __init__(self, *, what: str = "log", ref: str = "", form: str = "liverpool") -> None:
        super().__init__(id="export-screen")
        self.initial_what = what
        self.initial_ref = ref
        self.initial_form = form
        self._out_edited = False  # once the user types a path, it is no longer re-suggested
        # The last name suggested: Input.Changed arrives later as a message, so a change is
        # told from the user's typing by its value, not by a flag set around the assignment.
        self._suggested = ""

    def context_text(self) -> str:
        session = self.app_session
        if session is not None and session.outbox is not None:
            return (
                "Every export is recorded in the audit trail. On this server it goes to your "
                "outbox, for you to fetch with sftp; it is removed after a day."
            )
        return "Every export is recorded in the audit trail."

    @property
    def today(self) -> date:
        return local_date(host(self.app).now())

    def compose(self) -> ComposeResult:
        yield from demo_mark(self.app)
        with Vertical(id="dialog"):
            yield Static(self.TITLE_TEXT, id="form-title")
            yield Static(self.context_text(), id="form-context")
            with VerticalScroll(id="form-fields", can_focus=False):
                yield from self.compose_fields()
            # Plain text: a caution quotes the case's ref, which is never markup.
            yield Static("", id="blank-note", markup=False)
            yield ProgressBar(id="export-progress", show_eta=False)
            yield Static("", id="export-result")
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button(self.SAVE_LABEL, id="save", variant="primary", compact=True)
                yield Button("Close", id="cancel", compact=True)
        yield KeysFooter(compact=True)

    def compose_fields(self) -> ComposeResult:
        what = self.initial_what
        yield FormField(
            "Export",
            Select(WHAT_OPTIONS, value=what, allow_blank=False, id="what", compact=True),
            name="what",
        )
        formats = FORMATS[what]
        yield FormField(
            "Format",
            Select(
                [(f, f) for f in formats],
                value=formats[0],
                allow_blank=False,
                id="format",
                compact=True,
            ),
            name="format",
        )
        yield FormField(
            "Form",
            Select(
                FORM_OPTIONS, value=self.initial_form, allow_blank=False, id="form", compact=True
            ),
            name="form",
        )
        yield FormField("Case ref", Input(self.initial_ref, id="ref", compact=True), name="ref")
        yield FormField(
            "Opened from",
            Input(placeholder="DD/MM/YYYY (blank: from the first)", id="from", compact=True),
            name="from",
        )
        yield FormField(
            "Opened to",
            Input(placeholder="DD/MM/YYYY (blank: to today)", id="to", compact=True),
            name="to",
        )
        yield FormField("Year", Input(str(self.today.year), id="year", compact=True), name="year")
        yield FormField(
            "Names",
            Tick("Initials and age only (a log leaving school)", id="initials", compact=True),
            name="initials",
        )
        yield FormField("Save as", Input(id="out", compact=True), name="out")

    def on_mount(self) -> None:
        self.query_one("#export-progress", ProgressBar).display = False
        self._show_fields(self.initial_what)
        self._suggest_out()

    # -- fields follow the choice ---------------------------------------------------------------
    @property
    def what(self) -> str:
        value = self.query_one("#what", Select).value
        return value if isinstance(value, str) else "log"

    def _show_fields(self, what: str) -> None:
        used = FIELDS_OF[what]
        for name in OPTIONAL_FIELDS:
            self.query_one(f"#field-{name}", FormField).display = name in used
        self._check_blanks()

    # -- what a partnership form would print blank ------------------------------------------
    def _check_blanks(self) -> None:
        """Say, before anything is written, which of the form's fields the record leaves blank."""
        note = self.query_one("#blank-note", Static)
        ref = self.query_one("#ref", Input).value.strip()
        session = self.app_session
        if self.what != "report" or not ref or session is None:
            note.update("")
            note.display = False
            return
        self._find_blanks(session, ref, str(self.query_one("#form", Select).value))

    @work(thread=True, exclusive=True, exit_on_error=False, group="blanks")
    def _find_blanks(self, session: Session, ref: str, form: str) -> None:
        try:
            with session.db.connection_context():
                found = exporting.report_notes(session, ref, form)
        except ConsoleError:
            found = None  # no such case (yet): the export itself says so
        except Exception:  # a note only: the export must stay possible
            found = None
        notes = None
        if found is not None:
            notes = list(found.cautions)
            if found.blanks:
                notes.append(
                    "These fields will print blank (fill them in the case, or by hand): "
                    + ", ".join(found.blanks)
                )
        self.app.call_from_thread(self._show_blanks, ref, form, notes)

    def _show_blanks(self, ref: str, form: str, notes: list[str] | None) -> None:
        if (ref, form) != (
            self.query_one("#ref", Input).value.strip(),
            str(self.query_one("#form", Select).value),
        ):
            return  # typed on since: a newer check is on its way
        note = self.query_one("#blank-note", Static)
        note.display = bool(notes)
        # Each caution a sentence of its own: the case was voided, or the form is not its
        # procedure's; then the fields left blank.
        note.update("\n".join(f"{n[:1].upper()}{n[1:]}." for n in notes or ()))

    @property
    def blank_note(self) -> str:
        """The note on show before a report is written ('' if none): the cautions about the
        case and form, then the fields left blank. For tests."""
        note = self.query_one("#blank-note", Static)
        return str(note.content) if note.display else ""

    def _suggest_out(self) -> None:
        if self._out_edited:
            return
        fmt = self.query_one("#format", Select).value
        name = default_name(
            self.what,
            fmt if isinstance(fmt, str) else FORMATS[self.what][0],
            self.today,
            ref=self.query_one("#ref", Input).value.strip(),
            form=str(self.query_one("#form", Select).value),
            year=self.query_one("#year", Input).value.strip(),
        )
        session = self.app_session
        outbox = session.outbox if session is not None else None
        # In server mode the file can only go to the DSL's outbox, so that is what is offered.
        self._suggested = str((outbox.folder if outbox else default_folder()) / name)
        self.query_one("#out", Input).value = self._suggested

    def _clear_last_export(self) -> Static:
        """Hide the last export's line and bar (returned: the line, for the next one). Its
        "✓ wrote ..." stood under a different kind of export once that was chosen, and its
        full bar beside the question about the next one."""
        result = self.query_one("#export-result", Static)
        result.update("")
        result.remove_class("-shown")
        if not self.query_one("#save", Button).disabled:  # not while an export is running
            self.query_one("#export-progress", ProgressBar).display = False
        return result

    @on(Select.Changed, "#what")
    def _what_chosen(self, event: Select.Changed) -> None:
        if self.is_mounted:
            self._clear_last_export()
        what = self.what
        formats = FORMATS[what]
        fmt = self.query_one("#format", Select)
        fmt.set_options([(f, f) for f in formats])
        fmt.value = formats[0]
        self._show_fields(what)
        self._suggest_out()

    @on(Select.Changed, "#format")
    @on(Select.Changed, "#form")
    @on(Input.Changed, "#ref")
    @on(Input.Changed, "#year")
    def _detail_changed(self) -> None:
        self._suggest_out()
        self._check_blanks()

    @on(Input.Changed, "#out")
    def _out_typed(self, event: Input.Changed) -> None:
        if event.value != self._suggested:
            self._out_edited = True

    # -- reading the fields ---------------------------------------------------------------------
    def collect(self, session: Session) -> ExportRequest:
        """Read and check the fields (InputError naming the field)."""
        what = self.what
        raw_out = self.query_one("#out", Input).value.strip()
        if not raw_out:
            raise InputError("is required", field="out")
        out = Path(raw_out).expanduser()
        if session.outbox_refusal:
            raise InputError(session.outbox_refusal, field="out")
        if session.outbox is not None:
            out = session.outbox.place(out)
        if not out.parent.is_dir():
            raise InputError("that folder does not exist", field="out")
        if out.is_dir():
            raise InputError("that is a folder; give a file name", field="out")
        fmt_value = self.query_one("#format", Select).value
        fmt = fmt_value if isinstance(fmt_value, str) else None
        if what == "log":
            start = self._date("from")
            end = self._date("to")
            if start and end and end < start:
                raise InputError("is before the from date", field="to")
            return ExportRequest(
                what,
                out,
                fmt=fmt,
                date_from=start,
                date_to=end,
                initials=self.query_one("#initials", Checkbox).value,
            )
        if what == "report":
            ref = self.query_one("#ref", Input).value.strip()
            if not ref:
                raise InputError("is required", field="ref")
            form = self.query_one("#form", Select).value
            return ExportRequest(what, out, ref=ref, form=str(form))
        if what == "analysis":
            text = self.query_one("#year", Input).value.strip()
            if not (text.isdigit() and len(text) == 4):
                raise InputError("a four-digit year, such as 2026", field="year")
            return ExportRequest(what, out, fmt=fmt, year=int(text))
        return ExportRequest(what, out)

    def _date(self, name: str) -> date | None:
        text = self.query_one(f"#{name}", Input).value.strip()
        return day_typed(text, name) if text else None

    # -- exporting ------------------------------------------------------------------------------
    def action_save(self) -> None:
        """Check the fields; if they read well, export in a worker."""
        save = self.query_one("#save", Button)
        if save.disabled:
            # Pressed again while one is written (a hurried second Ctrl+S): said, not silent.
            self.app.bell()
            self.notify("An export is being written: wait for it to finish.", timeout=4)
            return
        self.save_asked()
        self.clear_errors()
        result = self._clear_last_export()
        try:
            session = session_of(self.app)
            request = self.collect(session)
            check_target(request.out, session.path)
        except TargetExists:
            question = f"{request.out} already exists.\n\nReplace it with this export?"

            def answered(yes: bool | None) -> None:
                if yes:
                    self._start(session, replace(request, force=True))
                else:
                    result.update(f"Not written: {request.out} was left as it was.")
                    result.add_class("-shown")

            self.app.push_screen(ConfirmScreen(question, yes="Replace"), answered)
            self.save_settled(refused=False)
            return
        except ConsoleError as exc:
            self.show_error(exc)
            self.save_settled(refused=True)
            return
        self._start(session, request)
        # The keys after Ctrl+S go on while the export is written (Escape leaves it running).
        self.save_settled(refused=False)

    def _start(self, session: Session, request: ExportRequest) -> None:
        save = self.query_one("#save", Button)
        save.disabled = True
        bar = self.query_one("#export-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.run_export(session, request)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def run_export(self, session: Session, request: ExportRequest) -> None:
        """Write the export (in a thread, on a connection of its own), posting progress."""
        app = self.app  # while this screen is up: once it is dismissed, it has no app

        def progress(done: int, total: int) -> None:
            self.post_message(self.Progressed(done, total))

        try:
            with session.db.connection_context():
                if request.ref:
                    try:
                        load_case(request.ref)
                    except InputError as exc:
                        raise InputError(exc.reason, field="ref") from None
                line = exporting.export_to(
                    session,
                    request.what,
                    request.out,
                    fmt=request.fmt,
                    date_from=request.date_from,
                    date_to=request.date_to,
                    initials=request.initials,
                    ref=request.ref,
                    form=request.form,
                    year=request.year,
                    progress=progress,
                    force=request.force,
                )
        except ConsoleError as exc:
            app.call_from_thread(self._say_refused, app, exc)
            return
        except OSError as exc:
            # The reason only (permission denied, disk full): never the file's contents.
            error = InputError(f"could not write the file ({exc.strerror})", field="out")
            app.call_from_thread(self._say_refused, app, error)
            return
        # Said by the console itself, not this screen: after Escape, the export goes on (a
        # file of children's names may still be written) and the screen is gone.
        app.call_from_thread(app.notify, line, title="Export written", timeout=10)
        self.post_message(self.Written(line))

    def _say_refused(self, app: App[object], error: ConsoleError) -> None:
        """Refused: in place while this screen is up; after Escape, by the console itself,
        or a DSL who left the export to finish would take it as written."""
        if self in app.screen_stack:
            self.post_message(self.Refused(error))
        else:
            reason = error.reason if isinstance(error, InputError) else str(error)
            app.notify(
                f"Not written: {reason}", title="Export not written", severity="error", timeout=15
            )

    @on(Progressed)
    def _progressed(self, message: Progressed) -> None:
        bar = self.query_one("#export-progress", ProgressBar)
        # An empty export is complete at once: show a full bar rather than an empty one.
        total = message.total or 1
        bar.update(total=total, progress=message.done if message.total else 1)

    @on(FormScreen.Refused)
    def _export_refused(self, message: FormScreen.Refused) -> None:
        message.stop()
        self.query_one("#save", Button).disabled = False
        self.query_one("#export-progress", ProgressBar).display = False
        self.show_error(message.error)

    @on(Written)
    def _written(self, message: Written) -> None:
        self.query_one("#save", Button).disabled = False
        result = self.query_one("#export-result", Static)
        result.update(f"✓ {message.line}")
        result.add_class("-shown")

    @property
    def result_text(self) -> str:
        """The success line on show ('' if none): for tests."""
        result = self.query_one("#export-result", Static)
        return str(result.content) if result.has_class("-shown") else ""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Anything but a ConsoleError is a bug; its text is not shown (it may quote a record).
        if event.worker.group == "export" and event.state == WorkerState.ERROR:
            self.query_one("#save", Button).disabled = False
            self.query_one("#export-progress", ProgressBar).display = False
            self.show_error(UNEXPECTED)
            event.stop()
