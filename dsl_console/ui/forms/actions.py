"""Agree an action (what, owner, by when) and mark an agreed action done."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Button, Input, Select, TextArea

from dsl_console.core.records import Event, EventKind, actions_of
from dsl_console.core.wording import shortened
from dsl_console.errors import InputError
from dsl_console.services.session import Session
from dsl_console.ui.forms.base import CaseEventForm
from dsl_console.ui.forms.fields import FormField
from dsl_console.ui.forms.parsing import day_typed, not_before_today, optional_text, required_text


class AddActionForm(CaseEventForm):
    """Record an agreed action (key a): what, who owns it, and by when."""

    TITLE_TEXT = "Add an agreed action"
    SAVE_LABEL = "Add action"
    FIELD_ALIASES: ClassVar[dict[str, str]] = {"whom": "owner", "due": "by-when"}

    def compose_fields(self) -> ComposeResult:
        yield FormField("What *", Input(id="note", compact=True), name="note")
        yield FormField("Owner *", Input(id="owner", compact=True), name="owner")
        yield FormField(
            "By when",
            Input(placeholder="DD/MM/YYYY (optional)", id="by-when", compact=True),
            name="by-when",
            hint="Due at the end of that working day",
        )
        yield from self.compose_when("Agreed")
        yield from self.compose_by()

    def events(self, session: Session) -> list[Event]:
        note = self.read(
            lambda: required_text(self.query_one("#note", Input).value, "note", long=True), ""
        )
        owner = self.read(lambda: required_text(self.query_one("#owner", Input).value, "owner"), "")
        typed = self.query_one("#by-when", Input).value.strip()
        due = None
        if typed:
            day = self.read(
                lambda: not_before_today(day_typed(typed, "by-when"), session.now(), "by-when"),
                None,
            )
            due = session.calendar.end_of(day) if day is not None else None
        return [
            Event(
                at=self.read(lambda: self.typed_when(session), session.now()),
                kind=EventKind.ACTION,
                by=self.read(lambda: self.typed_by(session), ""),
                whom=owner,
                due=due,
                note=note,
            )
        ]


class ActionDoneForm(CaseEventForm):
    """Mark an agreed action done (key A), with an optional note."""

    TITLE_TEXT = "Mark an action done"
    SAVE_LABEL = "Mark done"
    FIELD_ALIASES: ClassVar[dict[str, str]] = {"action": "action"}

    def open_actions(self) -> list[tuple[str, int]]:
        """(label, number) of every action not yet done."""
        return [
            (f"{n}. {shortened(action.note, 60)} ({action.whom or 'no owner'})", n)
            for n, action, done in actions_of(self.case)
            if done is None
        ]

    def context_text(self) -> str:
        text = super().context_text()
        if not self.open_actions():
            text += "\nEvery agreed action is already done (key a adds a new one)."
        return text

    def compose_fields(self) -> ComposeResult:
        options = self.open_actions()
        yield FormField(
            "Action",
            Select(
                options,
                prompt="Choose an open action",
                value=options[0][1] if len(options) == 1 else Select.NULL,
                id="action",
                compact=True,
            ),
            name="action",
        )
        yield FormField("Note", TextArea(id="note", compact=True), name="note")
        yield from self.compose_when("Done")
        yield from self.compose_by()

    def on_mount(self) -> None:
        if not self.open_actions():
            self.query_one("#save", Button).disabled = True

    def events(self, session: Session) -> list[Event]:
        number = self.query_one("#action", Select).value
        if not isinstance(number, int):
            raise InputError("choose the action that is done", field="action")
        note = optional_text(self.query_one("#note", TextArea).text, "note", long=True)
        return [
            Event(
                at=self.typed_when(session),
                kind=EventKind.ACTION_DONE,
                action=number,
                by=self.typed_by(session),
                note=note,
            )
        ]
