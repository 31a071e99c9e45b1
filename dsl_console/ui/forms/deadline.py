"""Set the current stage's deadline, with the reason (e.g. the Chair's timescale)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Input, TextArea

from dsl_console.core.clock import local_date
from dsl_console.core.records import Event, EventKind
from dsl_console.errors import InputError
from dsl_console.services.session import Session
from dsl_console.ui.forms.base import CaseEventForm
from dsl_console.ui.forms.fields import FormField
from dsl_console.ui.forms.host import stamp
from dsl_console.ui.forms.parsing import day_typed, due_typed, required_text


class DeadlineForm(CaseEventForm):
    """Give the current stage a due (key d); it lasts until the case leaves the stage."""

    TITLE_TEXT = "Set the stage deadline"
    SAVE_LABEL = "Set deadline"
    FIELD_ALIASES: ClassVar[dict[str, str]] = {"due": "due-date"}

    def context_text(self) -> str:
        current = stamp(self.state.due) if self.state.due else "no deadline set"
        return f"{super().context_text()}\nCurrent due: {current}"

    def compose_fields(self) -> ComposeResult:
        session = self.app_session
        end = session.config.end_of_working_day if session else None
        yield FormField(
            "Due date *",
            Input(placeholder="DD/MM/YYYY", id="due-date", compact=True),
            name="due-date",
            hint=f"London date; today is {local_date(self.current_moment()):%d/%m/%Y}",
        )
        yield FormField(
            "Due time",
            Input(f"{end:%H:%M}" if end else "17:00", id="due-time", compact=True),
            name="due-time",
            hint="HH:MM, London time",
        )
        yield FormField("Reason *", TextArea(id="note", compact=True), name="note")
        yield from self.compose_when("Set on")
        yield from self.compose_by()

    def confirmation(self) -> tuple[str, str] | None:
        """Ask when the due falls on a day the school is not working: a weekend, a bank
        holiday or a closure day is more often a slip than meant."""
        session = self.app_session
        try:
            day = day_typed(self.query_one("#due-date", Input).value, "due-date")
        except InputError:
            return None
        why = session.calendar.why_not_working(day) if session else ""
        if not why:
            return None
        return (
            f"{day:%A %d/%m/%Y} is not a working day ({why}). Set the deadline on it anyway?",
            "Set it on that day",
        )

    def events(self, session: Session) -> list[Event]:
        due = self.read(
            lambda: due_typed(
                self.query_one("#due-date", Input).value,
                self.query_one("#due-time", Input).value,
                "due-date",
                "due-time",
            ),
            None,
        )
        at = self.read(lambda: self.typed_when(session), session.now())
        note = self.read(
            lambda: required_text(self.query_one("#note", TextArea).text, "note", long=True), ""
        )
        by = self.read(lambda: self.typed_by(session), "")
        if due is not None and due <= at:
            raise InputError("must be later than when the deadline was set", field="due-date")
        return [Event(at=at, kind=EventKind.DEADLINE_SET, due=due, by=by, note=note)]
