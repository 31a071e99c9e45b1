"""Void a case opened in error (DSL only): closed with no flags or duties, kept on record."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import TextArea

from dsl_console.core.records import Event, EventKind
from dsl_console.services.session import Session
from dsl_console.ui.forms.base import CaseEventForm
from dsl_console.ui.forms.fields import FormField
from dsl_console.ui.forms.parsing import required_text


class VoidForm(CaseEventForm):
    """Close a case opened in error (key V), with the reason, after a confirmation."""

    TITLE_TEXT = "Void a case opened in error"
    SAVE_LABEL = "Void…"

    def context_text(self) -> str:
        return (
            f"{super().context_text()}\n"
            "For a case that should never have been opened (a duplicate, the wrong child, a "
            "typing slip in a date). It leaves the lists, the Summary Log and the analysis; "
            "it stays in the database, the history and the JSON export, under view 7 (Voided)."
        )

    def compose_fields(self) -> ComposeResult:
        yield FormField(
            "Reason *",
            TextArea(id="note", compact=True),
            name="note",
            hint="Why the case was opened in error; the partnership may ask.",
        )
        yield from self.compose_when("Voided")
        yield from self.compose_by()

    def events(self, session: Session) -> list[Event]:
        note = required_text(self.query_one("#note", TextArea).text, "note", long=True)
        return [
            Event(
                at=self.typed_when(session),
                kind=EventKind.VOIDED,
                note=note,
                by=self.typed_by(session),
            )
        ]

    def confirmation(self) -> tuple[str, str]:
        return (
            f"Void {self.case.ref} as opened in error? It closes with no flags or duties "
            "and leaves the lists and the partnership exports. This cannot be undone.",
            "Void the case",
        )
