"""Resolve a case: the outcome, the method used and the lessons learned; asks before closing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, TextArea

from dsl_console.core.records import Event, EventKind
from dsl_console.services.session import Session
from dsl_console.ui.forms.base import CaseEventForm
from dsl_console.ui.forms.fields import FormField
from dsl_console.ui.forms.parsing import optional_text, required_text


class ResolveForm(CaseEventForm):
    """Close the case as resolved (key r), after a confirmation."""

    TITLE_TEXT = "Resolve the disagreement"
    SAVE_LABEL = "Resolve…"

    def compose_fields(self) -> ComposeResult:
        yield FormField("Outcome", TextArea(id="note", compact=True), name="note")
        yield FormField(
            "Method",
            Input(placeholder="e.g. Mediation meeting", id="method", compact=True),
            name="method",
            hint="How it was resolved: discussion, meeting, mediation, panel…",
        )
        yield FormField("Lessons", TextArea(id="lessons", compact=True), name="lessons")
        yield from self.compose_when("Resolved")
        yield from self.compose_by()

    def events(self, session: Session) -> list[Event]:
        note = required_text(self.query_one("#note", TextArea).text, "note", long=True)
        method = optional_text(self.query_one("#method", Input).value, "method")
        lessons = optional_text(self.query_one("#lessons", TextArea).text, "lessons", long=True)
        return [
            Event(
                at=self.typed_when(session),
                kind=EventKind.RESOLVED,
                by=self.typed_by(session),
                note=note,
                method=method,
                lessons=lessons,
            )
        ]

    def confirmation(self) -> tuple[str, str]:
        return (
            f"Close {self.case.ref} as resolved? The case leaves the open list; "
            "records can still be added.",
            "Resolve",
        )
