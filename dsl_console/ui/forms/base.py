"""The modal form every write goes through: fields with in-place messages, a worker that writes.

A form reads its fields on the UI thread (pure parsing, an InputError naming its field on bad
input), then writes in a thread worker. A refusal from the services (InputError, AccessError,
StoreError) comes back as a message with the error itself, and is shown next to the field its
`field` names, or at the foot of the form; the form stays open with everything typed still in it. Nothing raised by a write
ever reaches the user as a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, Static, TextArea
from textual.worker import Worker, WorkerState

from dsl_console.core.deadlines import CaseState
from dsl_console.core.procedures import Procedure
from dsl_console.core.records import Case, Event
from dsl_console.core.validation import check_addition
from dsl_console.errors import ConsoleError, InputError
from dsl_console.services.casebook import record_events
from dsl_console.services.session import Session
from dsl_console.store.cases import load_case
from dsl_console.ui.error_dialog import ErrorGuard
from dsl_console.ui.forms.confirm import ConfirmScreen
from dsl_console.ui.forms.fields import FormField, humanise
from dsl_console.ui.forms.host import host, input_moment, session_of
from dsl_console.ui.forms.parsing import moment_typed, optional_text
from dsl_console.ui.messages import SaveSettled
from dsl_console.ui.widgets.demo_mark import demo_mark
from dsl_console.ui.widgets.keys_footer import KeysFooter

T = TypeVar("T")

# The refusal to close a case while an immediate risk is outstanding (core.validation).
RISK_FIRST = "escalate the immediate risk first"
UNEXPECTED = "Not saved: something unexpected went wrong, and nothing was changed. Try again."


class FormScreen(ErrorGuard, ModalScreen[Any]):
    """A modal form: a title, fields, a foot line for messages no field owns, Save / Cancel."""

    DEFAULT_CSS = """
    FormScreen {
        align: center middle;
    }
    FormScreen > #dialog {
        width: 84;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    FormScreen #form-title {
        text-style: bold;
        width: 1fr;
        padding-bottom: 1;
    }
    FormScreen #form-context {
        color: $text-muted;
        padding-bottom: 1;
    }
    /* The fields scroll; the title, the foot message and the buttons always stay in view,
       down to an 80x24 terminal. */
    FormScreen #form-fields {
        height: auto;
        max-height: 55vh;
    }
    FormScreen #form-error {
        display: none;
        color: $text-error;
        text-style: bold;
    }
    FormScreen #form-error.-shown {
        display: block;
    }
    FormScreen #form-buttons {
        height: auto;
        align-horizontal: right;
    }
    FormScreen #form-buttons Button {
        margin-left: 2;
    }
    FormScreen Input, FormScreen Select, FormScreen TextArea {
        width: 1fr;
    }
    /* Compact controls have no border: a tint shows where to type, focus a stronger one. */
    FormScreen Input, FormScreen TextArea, FormScreen SelectCurrent {
        background: $boost;
    }
    FormScreen Input:focus, FormScreen TextArea:focus {
        background: $primary 25%;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="form.cancel",
            tooltip="Close the form without saving anything",
        ),
        Binding(
            "ctrl+s",
            "save",
            "Save",
            id="form.save",
            tooltip="Check the form and save it",
            priority=True,
        ),
    ]

    # The first field has the cursor when the form opens.
    AUTO_FOCUS = "#form-fields *"
    TITLE_TEXT = "Form"
    SAVE_LABEL = "Save"
    # Error prefixes (as the services name fields) that belong to a field of a different name.
    FIELD_ALIASES: ClassVar[dict[str, str]] = {}
    # Escape or Cancel on a form with something typed in it asks before throwing it away.
    ASK_BEFORE_DISCARDING = True
    _baseline: dict[str, object] | None = None
    _keys_came = False  # a key has been typed into the form (keys_arrive)
    _save_unsettled = False  # a save asked for, its outcome not yet shown (save_asked)

    @dataclass
    class Saved(Message):
        """The write succeeded; `result` is what the form dismisses with."""

        result: Any

    @dataclass
    class Checked(Message):
        """What was typed passed the precheck: ask to confirm, then write."""

        session: Session
        collected: Any

    @dataclass
    class Refused(Message):
        """The write was refused: the error to show in place (next to the field it names)."""

        error: ConsoleError

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gathered: list[ConsoleError] = []  # per save: the errors of the fields read wrong

    def compose(self) -> ComposeResult:
        yield from demo_mark(self.app)
        with Vertical(id="dialog"):
            yield Static(self.TITLE_TEXT, id="form-title")
            context = self.context_text()
            if context:
                yield Static(context, id="form-context")
            # Not focusable itself: tab goes field to field, each scrolled into view.
            with VerticalScroll(id="form-fields", can_focus=False):
                yield from self.compose_fields()
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button(self.SAVE_LABEL, id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeysFooter(compact=True)

    @property
    def app_session(self) -> Session | None:
        """The app's session (None while locked), for defaults shown in the fields."""
        return host(self.app).session

    def current_moment(self) -> datetime:
        """Now, from the app's injected clock."""
        return host(self.app).now()

    # -- what each form supplies -------------------------------------------------------------
    def context_text(self) -> str:
        """A line under the title saying what the form changes."""
        return ""

    def compose_fields(self) -> ComposeResult:
        """The form's FormFields."""
        yield from ()

    def collect(self, session: Session) -> Any:
        """Read the fields into what `write` needs; an InputError naming its field if bad."""
        raise NotImplementedError

    def write(self, session: Session, collected: Any) -> Any:
        """Do the change (runs in a thread worker); its return value is the form's result."""
        raise NotImplementedError

    def confirmation(self) -> tuple[str, str] | None:
        """(question, yes-button label) to ask before writing, for a change that closes or
        removes something; None to write at once."""
        return None

    def after_saved(self, result: Any) -> None:
        """Called on the UI thread after a successful write, once the form is dismissed."""

    # -- messages in place --------------------------------------------------------------------
    def field_for(self, prefix: str) -> FormField | None:
        """The field a service's error prefix names, if the form has it."""
        name = prefix.removeprefix("event.")
        # An event's `at` is the When field of every form that has one.
        name = self.FIELD_ALIASES.get(name, "when" if name == "at" else name)
        # Compared by id rather than by selector: a prefix may be any text ("case SCH-1").
        for field in self.query(FormField):
            if field.id == f"field-{name}":
                return field
        return None

    def read(self, reading: Callable[[], T], instead: T) -> T:
        """One field read by `reading`; if it is wrong, its message is kept to show with every
        other field's (rather than one at a time, save after save) and `instead` is used."""
        try:
            return reading()
        except InputError as exc:
            self._gathered.append(exc)
            return instead

    def show_error(self, error: ConsoleError | str, *, focus: bool = True) -> FormField | None:
        """Show a refusal next to the field it names (with the cursor there, unless `focus` is
        False), else at the foot of the form; the field, if it has one."""
        named = error.field if isinstance(error, InputError) else ""
        reason = error.reason if isinstance(error, InputError) else str(error)
        field = self.field_for(named) if named else None
        if field is not None:
            field.show_error(reason)
            if focus:
                self.bring_into_view(field)
            return field
        message = str(error)
        # A field this form does not have (event.kind: …) is named in the service's terms:
        # the reason alone reads as a sentence.
        if named and re.fullmatch(r"(event|later)\.[a-z_.]+", named):
            message = reason
        if RISK_FIRST in message:
            message = (
                message.rstrip(".") + ". On the case screen: e, then 'Immediate risk escalated'."
            )
        foot = self.query_one("#form-error", Static)
        shown = str(foot.content) if foot.has_class("-shown") else ""
        line = f"✗ {humanise(message)}"
        foot.update(f"{line}\n{shown}" if shown and shown != line else line)
        foot.add_class("-shown")
        return None

    def bring_into_view(self, field: FormField) -> None:
        """The cursor in a field, and the field, label and message, scrolled into view once
        the messages have been laid out (scrolled to before, it was pushed out of view)."""
        field.control.focus(scroll_visible=False)
        self.call_after_refresh(field.scroll_visible, animate=False)

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _edited(self, event: Message) -> None:
        # A message under a field goes once the field is edited: it was about the old value.
        control = getattr(event, "control", None)
        if control is None:
            return
        for ancestor in control.ancestors:
            if isinstance(ancestor, FormField):
                # Compared, not assumed: a change typed just before the save arrives after it.
                if ancestor.edited_since_error():
                    ancestor.clear_error()
                return

    def clear_errors(self) -> None:
        """Hide every message before a new attempt."""
        for field in self.query(FormField):
            field.clear_error()
        foot = self.query_one("#form-error", Static)
        foot.update("")
        foot.remove_class("-shown")

    @property
    def errors(self) -> dict[str, str]:
        """The messages on show, by field name ('' for the foot line): for tests."""
        shown = {
            (field.id or "").removeprefix("field-"): field.error_text
            for field in self.query(FormField)
            if field.error_text
        }
        foot = self.query_one("#form-error", Static)
        if foot.has_class("-shown"):
            shown[""] = str(foot.content)
        return shown

    # -- leaving without saving ---------------------------------------------------------------
    def on_mount(self) -> None:
        # Runs after the form's own on_mount (Textual calls each class's in turn): what the
        # fields hold once drawn is what the form starts with, not something typed.
        self.call_after_refresh(self._drawn)

    def _drawn(self) -> None:
        if not self._keys_came:
            self.remember_values()

    def keys_arrive(self) -> None:
        """The first key typed into this form is about to be handled (the app says so): what
        the fields hold before it is where the form starts, if it has not been taken yet. In
        one burst ("e, Tab, a note") the keys came before the form was drawn, the note was
        taken as the starting point, and Escape then threw it away without asking. Once the
        form has been drawn its starting point is already taken, and stays: what was put in
        the fields since (by the user, or by a test) is not where the form started."""
        if not self._keys_came:
            self._keys_came = True
            if self._baseline is None:
                self.remember_values()

    def remember_values(self) -> None:
        """Take the fields as they are now as the form's starting point (e.g. after a default
        arrives from a worker), so that only what the user changes counts as typed."""
        self._baseline = self._values()

    def remember_value(self, control_id: str, value: object) -> None:
        """One field's default filled in late (by a worker): not something the user typed."""
        if self._baseline is not None:
            self._baseline[control_id] = value

    def _values(self) -> dict[str, object]:
        values: dict[str, object] = {}
        for area in self.query("#form-fields TextArea").results(TextArea):
            values[area.id or ""] = area.text
        for box in self.query("#form-fields Input").results(Input):
            values[box.id or ""] = box.value
        for choice in self.query("#form-fields Select").results(Select):
            values[choice.id or ""] = choice.value
        for tick in self.query("#form-fields Checkbox").results(Checkbox):
            values[tick.id or ""] = tick.value
        return values

    @property
    def has_typed(self) -> bool:
        """Whether anything was typed or chosen since the form opened."""
        return self._baseline is not None and self._values() != self._baseline

    def action_cancel(self) -> None:
        """Close without saving; ask first when something has been typed."""
        if not (self.ASK_BEFORE_DISCARDING and self.has_typed):
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen(
                "Throw away what you have typed in this form? Nothing of it has been saved.",
                yes="Discard",
                no="Keep editing",
            ),
            answered,
        )

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    # -- saving -------------------------------------------------------------------------------

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    # -- the keys typed after Ctrl+S ------------------------------------------------------------
    @property
    def save_unsettled(self) -> bool:
        """A save was asked for and has not yet led anywhere the user can see."""
        return self._save_unsettled

    def save_asked(self) -> None:
        """Ctrl+S has come (its action may run later, behind the keys typed before it): the
        keys after it wait (in the app) until save_settled. In one burst, "Ctrl+S y" on the
        resolve form typed the "y" into the note while the form checked the case, before
        its question ("Resolve this case?") was up to take it."""
        if not self.query_one("#save", Button).disabled:  # not while a save is under way
            self._save_unsettled = True

    def save_settled(self, *, refused: bool) -> None:
        """The save has led somewhere: the keys after it go on (to the screen left once the
        form has closed, back to the form after a no to its question, or, on the export
        screen, to its question), or, `refused`, are dropped, typed blind into a form that
        now shows what is wrong with it."""
        if self._save_unsettled:
            self._save_unsettled = False
            self.app.post_message(SaveSettled(refused))

    def action_save(self) -> None:
        """Check the fields; if they read well, write in a worker."""
        save = self.query_one("#save", Button)
        if save.disabled:
            return
        self.save_asked()
        self.clear_errors()
        self._gathered = []
        try:
            session = session_of(self.app)
            collected = self.collect(session)
        except ConsoleError as exc:
            self._gathered.append(exc)
        if self._gathered:
            # Every field's message at once, the cursor on the first.
            shown = [self.show_error(error, focus=False) for error in self._gathered]
            first = next((field for field in shown if field is not None), None)
            if first is not None:
                self.bring_into_view(first)
            self.save_settled(refused=True)
            return
        save.disabled = True
        if self.confirmation() is None:
            self._write(session, collected)
        else:
            self._precheck(session, collected)

    def precheck(self, session: Session, collected: Any) -> None:
        """Refuse (ConsoleError) what the write would refuse, before asking to confirm it."""

    @work(thread=True, exclusive=True, exit_on_error=False, group="form-write")
    def _precheck(self, session: Session, collected: Any) -> None:
        try:
            with session.db.connection_context():
                self.precheck(session, collected)
        except ConsoleError as exc:
            self.post_message(self.Refused(exc))
            return
        self.post_message(self.Checked(session, collected))

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        asked = self.confirmation()
        assert asked is not None  # only a form that asks is prechecked
        question, yes = asked
        save = self.query_one("#save", Button)

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._write(message.session, message.collected)  # settles when written
            else:
                save.disabled = False
                self.save_settled(refused=False)

        # The save stays unsettled under its question: the question takes the keys while it
        # is up (only the screen on top holds them back), and once answered yes the keys
        # after the answer wait here for the write, then go to the screen left. They had
        # gone into the form while it wrote, and were lost when it closed ("C-s y e Tab
        # note C-s" on the resolve form resolved the case and recorded no note).
        self.app.push_screen(ConfirmScreen(question, yes=yes), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="form-write")
    def _write(self, session: Session, collected: Any) -> None:
        try:
            # A connection of the worker's own, closed when the write is done.
            with session.db.connection_context():
                result = self.write(session, collected)
        except ConsoleError as exc:
            self.post_message(self.Refused(exc))
            return
        self.post_message(self.Saved(result))

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.query_one("#save", Button).disabled = False
        self.show_error(message.error)
        self.save_settled(refused=True)

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.save_settled(refused=False)
        self.dismiss(message.result)
        self.after_saved(message.result)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Anything but a ConsoleError is a bug; it is not shown (it may quote personal data).
        if event.worker.group == "form-write" and event.state == WorkerState.ERROR:
            self.query_one("#save", Button).disabled = False
            self.show_error(UNEXPECTED)
            self.save_settled(refused=True)
            event.stop()  # told in place; the app's catch-all need not say it again


class CaseEventForm(FormScreen):
    """A form that appends events to one case, shown over that case's screen."""

    def __init__(self, case: Case, procedure: Procedure, state: CaseState) -> None:
        super().__init__()
        self.case = case
        self.procedure = procedure
        self.state = state

    @property
    def ref(self) -> str:
        return self.case.ref

    def context_text(self) -> str:
        stage = self.procedure.stage(self.state.stage)
        return f"{self.case.ref} · {self.case.child.name} · stage {stage.number} {stage.name}"

    def compose_when(self, label: str = "When") -> ComposeResult:
        """When it happened (id when): now by default; earlier for an entry made late."""
        yield FormField(
            label,
            Input(input_moment(self.current_moment()), id="when", compact=True),
            name="when",
            hint="London time, DD/MM/YYYY HH:MM; earlier for an entry made late",
        )

    def compose_by(self) -> ComposeResult:
        """Who did it (id by): the account holder's full name by default."""
        session = self.app_session
        yield FormField(
            "By", Input(session.display_name if session else "", id="by", compact=True), name="by"
        )

    def compose_when_by_note(self, *, note_required: bool = False) -> ComposeResult:
        """The Note, When and By fields most events take (ids note, when, by): the note first,
        as the one always typed; When and By hold what is usually right already."""
        label = "Note *" if note_required else "Note"
        yield FormField(label, TextArea(id="note", compact=True), name="note")
        yield from self.compose_when()
        yield from self.compose_by()

    def typed_when(self, session: Session) -> datetime:
        """The When field's moment: not in the future (the history judges the rest)."""
        return moment_typed(self.query_one("#when", Input).value, "when", not_after=session.now())

    def typed_by(self, session: Session) -> str:
        """The By field, or the account holder's name where the form has none."""
        found = self.query("#by")
        if not found:
            return session.display_name
        return optional_text(self.query_one("#by", Input).value, "by")

    def events(self, session: Session) -> list[Event]:
        """The events the form's fields describe; an InputError naming its field if bad."""
        raise NotImplementedError

    def collect(self, session: Session) -> list[Event]:
        events = self.events(session)
        if not events:
            raise InputError("nothing to record")
        return events

    def precheck(self, session: Session, collected: Any) -> None:
        """The history's rules over the case as stored now, as the write will judge them (the
        same function): a refusal is shown in place before any "are you sure?"."""
        case = load_case(self.case.ref)
        for event in collected:
            check_addition(case, event, self.procedure, session.now(), session.calendar)
            case = replace(case, events=(*case.events, event))

    def write(self, session: Session, collected: Any) -> Case:
        return record_events(session, self.case.ref, collected)
