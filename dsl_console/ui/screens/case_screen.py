"""One case: its status, the child and case facts, and the stage timeline; every change by key.

The case is read in a thread worker (view_case, which audits the view). Each change opens a
modal form; the form writes in its own worker and hands back the updated case, which is shown
at once (no second read, so no second audit entry) after telling the app the case changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static
from textual.worker import Worker, WorkerState

from dsl_console.core.deadlines import CaseState, case_state
from dsl_console.core.forms import DEFAULT_FORM
from dsl_console.core.procedures import Procedure
from dsl_console.core.records import Case
from dsl_console.errors import ConsoleError
from dsl_console.services.casebook import view_case
from dsl_console.services.session import Session
from dsl_console.store.users import Role
from dsl_console.ui.error_dialog import ErrorGuard
from dsl_console.ui.forms.actions import ActionDoneForm, AddActionForm
from dsl_console.ui.forms.amend import AmendForm
from dsl_console.ui.forms.base import CaseEventForm
from dsl_console.ui.forms.deadline import DeadlineForm
from dsl_console.ui.forms.duty_done import DutyDoneForm, recordable_duties
from dsl_console.ui.forms.escalate import EscalateForm
from dsl_console.ui.forms.host import host
from dsl_console.ui.forms.missed import TimescaleMissedForm, missed_stages
from dsl_console.ui.forms.professional import ProfessionalForm
from dsl_console.ui.forms.record_event import RecordEventForm
from dsl_console.ui.forms.resolve import ResolveForm
from dsl_console.ui.forms.void import VoidForm
from dsl_console.ui.widgets.case_facts import CaseFacts, CaseStatus, case_status, facts_content
from dsl_console.ui.widgets.demo_mark import demo_mark
from dsl_console.ui.widgets.keys_footer import KeysFooter
from dsl_console.ui.widgets.timeline import (
    StageTimeline,
    after_resolution,
    build_timeline,
    resolution_content,
)

# Each write action: (form, title for the palette, help for the palette).
FORMS: dict[str, tuple[type[CaseEventForm], str, str]] = {
    "record_event": (
        RecordEventForm,
        "Record an event",
        "Note, discussion, meeting, outcome, IRO / partnership notified, risk raised / escalated",
    ),
    "escalate": (EscalateForm, "Escalate to a higher stage", "Choose the stage; needs a note"),
    "set_deadline": (DeadlineForm, "Set the stage deadline", "A due date and time, with reason"),
    "resolve": (ResolveForm, "Resolve the case", "Outcome, method and lessons learned"),
    "timescale_missed": (
        TimescaleMissedForm,
        "Record why a timescale was missed",
        "The stage and the reason",
    ),
    "duty_done": (
        DutyDoneForm,
        "Record a duty done",
        "An owed duty: the notification or reply that discharges it, with the form sent",
    ),
    "add_action": (AddActionForm, "Add an agreed action", "What, owner, by when"),
    "action_done": (ActionDoneForm, "Mark an action done", "Choose an open action"),
    "amend": (
        AmendForm,
        "Amend a case fact",
        "CP plan, looked after, DOB, name, address, other agency, level of need, concern…",
    ),
    "professionals": (
        ProfessionalForm,
        "Professionals involved",
        "Add a professional, correct one, or mark one no longer involved",
    ),
    "void": (VoidForm, "Void the case (opened in error)", "DSL only; needs the reason"),
}
# Actions that only an open case may take.
OPEN_ONLY = frozenset({"escalate", "set_deadline", "resolve", "void"})
# Actions only a DSL account may take.
DSL_ONLY = frozenset({"void"})
READ_ONLY_NOTE = (
    "Read-only account: you can read this case but not change it. "
    "The keys that change records are disabled."
)
REDRAW_SECONDS = 30  # countdowns and kept / pending move with the clock


class CaseCommands(Provider):
    """The case screen's changes in the command palette (those the account may make)."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        screen = self.screen
        if not isinstance(screen, CaseScreen):
            return []
        found: list[tuple[str, str, Callable[[], object]]] = []
        for action, (_form, title, help_text) in FORMS.items():
            if screen.allowed(action):
                found.append((title, help_text, partial(screen.run_action, action)))
        return found

    async def discover(self) -> Hits:
        for title, help_text, run in self._commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)


class CaseScreen(ErrorGuard, Screen[None]):
    """One case's facts and stage timeline, with a key for every kind of change."""

    COMMANDS: ClassVar = {CaseCommands}
    # Facts beside the timeline from 100 columns, above it below that. (Textual types this as
    # an instance variable, so it cannot be annotated ClassVar here.)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012

    DEFAULT_CSS = """
    CaseScreen #case-body {
        height: 1fr;
    }
    CaseScreen.-wide #case-body {
        layout: horizontal;
    }
    CaseScreen.-wide CaseFacts {
        width: 44;
        border-right: vkey $foreground 20%;
    }
    CaseScreen.-wide #case-record {
        width: 1fr;
    }
    CaseScreen #case-record {
        height: auto;
    }
    CaseScreen #after-resolution {
        height: auto;
        padding: 0 1;
        margin-bottom: 1;
        border-left: outer $success;
    }
    CaseScreen.-narrow CaseFacts {
        border-bottom: hkey $foreground 20%;
        margin-bottom: 1;
    }
    CaseScreen #read-only {
        display: none;
        padding: 0 1;
        background: $warning 20%;
        color: $text;
        text-style: bold;
    }
    CaseScreen.-read-only #read-only {
        display: block;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="case.back", tooltip="Back to the case list"),
        Binding(
            "e",
            "record_event",
            "Event",
            id="case.record-event",
            tooltip="Record a note, discussion, meeting, outcome, notification or risk step",
        ),
        Binding(
            "x",
            "escalate",
            "Escalate",
            id="case.escalate",
            tooltip="Escalate to a higher stage (with the IRO notice where due)",
        ),
        Binding(
            "d",
            "set_deadline",
            "Due",
            id="case.set-deadline",
            show=False,  # in help (?): the footer keeps the keys of every day
            tooltip="Set the current stage's due, with the reason",
        ),
        Binding(
            "r",
            "resolve",
            "Resolve",
            id="case.resolve",
            tooltip="Resolve: outcome, method, lessons learned (asks to confirm)",
        ),
        Binding(
            "m",
            "timescale_missed",
            "Missed",
            id="case.timescale-missed",
            show=False,  # in help (?): the footer keeps the keys of every day
            tooltip="Record why a stage missed its timescale",
        ),
        Binding(
            "o",
            "duty_done",
            "Duty",
            id="case.duty-done",
            tooltip="Record that an owed duty was done (IRO told, form sent, reply received)",
        ),
        Binding(
            "a",
            "add_action",
            "Action",
            id="case.add-action",
            show=False,  # in help (?): the footer keeps the keys of every day
            tooltip="Add an agreed action",
        ),
        Binding(
            "A",
            "action_done",
            "Done",
            id="case.action-done",
            show=False,  # in help (?): the footer keeps the keys of every day
            key_display="A",
            tooltip="Mark an agreed action done",
        ),
        Binding("c", "amend", "Amend", id="case.amend", tooltip="Amend a case fact from a moment"),
        Binding(
            "p",
            "professionals",
            "People",
            id="case.professionals",
            tooltip="Add, correct or mark no longer involved a professional",
        ),
        Binding(
            "V",
            "void",
            "Void",
            id="case.void",
            key_display="V",
            show=False,  # listed in help (?): rare, DSL only, and asks to confirm
            tooltip="Void a case opened in error (DSL only)",
        ),
        Binding(
            "E",
            "export",
            "Export",
            id="case.export",
            key_display="E",
            show=False,  # listed in help (?): the footer is full with the case's own keys
            tooltip="Export this case's partnership form (or another export)",
        ),
    ]

    @dataclass
    class Loaded(Message):
        """The case was read (and the view audited)."""

        case: Case
        procedure: Procedure

    @dataclass
    class LoadFailed(Message):
        """The case could not be read; `reason` is safe to show."""

        reason: str

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref
        self.case: Case | None = None
        self.procedure: Procedure | None = None
        self.state: CaseState | None = None
        self._loading = False
        self._failed = False

    # -- layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield from demo_mark(self.app)
        yield CaseStatus(f"{self.ref}: loading…", id="status")
        yield Static(READ_ONLY_NOTE, id="read-only")
        with VerticalScroll(id="case-body"):
            yield CaseFacts("", id="facts")
            with Vertical(id="case-record"):
                yield StageTimeline(id="timeline")
                yield Static("", id="after-resolution", classes="stage")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#case-body").focus()
        self.set_interval(REDRAW_SECONDS, self.redraw)

    def on_screen_resume(self) -> None:
        # Shown for the first time, or again after the idle lock: read the case if not on show.
        session = self.app_session
        if session is None:
            self.query_one("#status", CaseStatus).update("The console is locked.")
            return
        self.set_class(not session.can_write, "-read-only")
        if self.case is None and not self._loading and not self._failed:
            self.load(session)

    def on_screen_suspend(self) -> None:
        # Covered by the lock screen (the session is gone): take the case off this screen too.
        if self.app_session is None:
            self.forget_case()

    def forget_case(self) -> None:
        """Drop the case's details from the screen and from memory (the console locked)."""
        self.case = self.procedure = self.state = None
        self.query_one("#status", CaseStatus).update(f"{self.ref}: locked")
        self.query_one("#facts", CaseFacts).update("")
        self.query_one("#timeline", StageTimeline).show_message("")
        self.query_one("#after-resolution", Static).update("")
        self.refresh_bindings()

    @property
    def app_session(self) -> Session | None:
        """The app's session; None while the console is locked."""
        return host(self.app).session

    # -- reading --------------------------------------------------------------------------------
    def load(self, session: Session) -> None:
        """Read the case afresh (audited as a view)."""
        self._loading = True
        self._load(session, self.ref)

    @work(thread=True, exclusive=True, exit_on_error=False, group="case-load")
    def _load(self, session: Session, ref: str) -> None:
        try:
            with session.db.connection_context():
                case = view_case(session, ref)
            procedure = session.registry.get(case.procedure, case.procedure_version or None)
        except ConsoleError as exc:
            self.post_message(self.LoadFailed(str(exc)))
            return
        except KeyError:
            self.post_message(self.LoadFailed("this case's procedure is not known here"))
            return
        self.post_message(self.Loaded(case, procedure))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self._loading = False
        self.show_case(message.case, message.procedure)

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        self._loading, self._failed = False, True
        self.query_one("#status", CaseStatus).update(f"{self.ref}: cannot be shown")
        self.query_one("#facts", CaseFacts).display = False
        self.query_one("#timeline", StageTimeline).show_message(
            f"✗ The case could not be read: {message.reason}"
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # An unexpected failure: say so without its text (it could quote a record).
        if event.worker.group == "case-load" and event.state == WorkerState.ERROR:
            self.post_message(self.LoadFailed("an unexpected error"))
            event.stop()

    def show_case(self, case: Case, procedure: Procedure | None = None) -> None:
        """Show this version of the case (after a load or a write)."""
        session = self.app_session
        procedure = procedure or self.procedure
        if session is None or procedure is None:
            return
        self.case, self.procedure = case, procedure
        self.state = case_state(case, procedure, session.calendar)
        self.redraw()
        self.refresh_bindings()

    def redraw(self) -> None:
        """Draw the case as of now (countdowns and pending timescales move with the clock)."""
        session = self.app_session
        case, procedure, state = self.case, self.procedure, self.state
        if session is None or case is None or procedure is None or state is None:
            return
        as_of = host(self.app).now()
        calendar = session.calendar
        self.query_one("#status", CaseStatus).update(
            case_status(case, procedure, state, calendar, as_of)
        )
        self.query_one("#facts", CaseFacts).update(
            facts_content(case, procedure, state, calendar, as_of)
        )
        self.query_one("#timeline", StageTimeline).show(
            build_timeline(case, procedure, state, as_of)
        )
        after = after_resolution(state, as_of)
        block = self.query_one("#after-resolution", Static)
        block.display = bool(after)
        block.update(resolution_content(after) if after else "")

    # -- changing -------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Write keys are shown disabled until the case is loaded, for a read-only account,
        and (for escalate / deadline / resolve) once the case is resolved."""
        if action not in FORMS:
            return True
        session = self.app_session
        if session is None or not session.can_write or self.case is None:
            return None
        if action in OPEN_ONLY and (self.case.resolved or self.case.voided):
            return None
        if action == "duty_done" and (self.state is None or not recordable_duties(self.state)):
            return None
        if action == "escalate" and self.at_last_stage:
            return None
        if action == "timescale_missed" and not self.missed_any:
            return None
        return True

    @property
    def missed_any(self) -> bool:
        """Whether any stage has missed its timescale (so there is something to explain)."""
        return self.state is not None and bool(missed_stages(self.state, host(self.app).now()))

    @property
    def at_last_stage(self) -> bool:
        """Whether the case stands at its procedure's last stage: there is no higher one."""
        if self.state is None or self.procedure is None:
            return False
        return self.state.stage >= self.procedure.last_stage

    def refusal(self, action: str) -> str:
        """Why a write key does nothing here, in a sentence."""
        session = self.app_session
        if session is None or not session.can_write:
            return READ_ONLY_NOTE
        if self.case is None:
            return "The case is still loading."
        if action in OPEN_ONLY and (self.case.resolved or self.case.voided):
            return f"{self.ref} is closed ({'voided' if self.case.voided else 'resolved'})."
        if action in DSL_ONLY and session.role != Role.DSL:
            return "Only a DSL account can void a case."
        if action == "duty_done":
            return "No duty is owed on this case."
        if action == "escalate" and self.at_last_stage:
            return f"{self.ref} is at the last stage of its procedure: there is no higher stage."
        if action == "timescale_missed":
            return f"No stage of {self.ref} has missed its timescale: there is nothing to explain."
        return READ_ONLY_NOTE

    def allowed(self, action: str) -> bool:
        """Whether this account may take the action now. A DSL-only key stays live for a
        deputy, so that pressing it says why nothing opens."""
        if self.check_action(action, ()) is not True:
            return False
        session = self.app_session
        return action not in DSL_ONLY or (session is not None and session.role == Role.DSL)

    def on_key(self, event: events.Key) -> None:
        """A write key that is dimmed (a closed case, the last stage, a read-only account, no
        duty owed) says why instead of doing nothing: Textual skips a disabled binding and
        the key arrives here."""
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if binding.action in FORMS and not self.allowed(binding.action):
                event.stop()
                self.notify(self.refusal(binding.action), severity="warning", timeout=8)
                return

    def open_form(self, action: str) -> None:
        """Push the form for one of the write actions over this screen."""
        if not self.allowed(action):
            self.notify(self.refusal(action), severity="warning", timeout=8)
            return
        assert self.case is not None and self.procedure is not None and self.state is not None
        form_class = FORMS[action][0]
        self.app.push_screen(form_class(self.case, self.procedure, self.state), self._form_done)

    def _form_done(self, result: Case | None) -> None:
        if result is None:
            return  # cancelled: nothing was written
        host(self.app).case_changed(self.ref)
        self.show_case(result)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_export(self) -> None:
        """Open the export screen with this case's partnership form chosen."""
        from dsl_console.ui.screens.export import ExportScreen, form_for

        procedure = self.procedure
        form = form_for(procedure, self.state) if procedure is not None else DEFAULT_FORM
        self.app.push_screen(ExportScreen(what="report", ref=self.ref, form=form))


# Each write action's key runs `action_<name>`, which opens its form: one method per entry of
# FORMS, made here so that a form added to FORMS needs no method of its own.
def _opener(action: str) -> Callable[[CaseScreen], None]:
    def open_it(screen: CaseScreen) -> None:
        screen.open_form(action)

    open_it.__name__ = f"action_{action}"
    open_it.__doc__ = f"Open the form: {FORMS[action][1].lower()}."
    return open_it


for _action in FORMS:
    setattr(CaseScreen, f"action_{_action}", _opener(_action))
