"""Resolve a case: the outcome, the method used and the lessons learned; asks before closing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Select, TextArea

from dsl_console.core.records import PARTNERSHIP_LEARNING, RESOLUTION_QUESTIONS, Event, EventKind
from dsl_console.services.session import Session
from dsl_console.ui.forms.base import CaseEventForm
from dsl_console.ui.forms.fields import FormField
from dsl_console.ui.forms.parsing import optional_text, required_text

# The partnership's yes / no questions, as the form's labels name them.
QUESTION_LABELS = {
    "staff_training": "Training",
    "new_protocol": "Protocol",
    "sub_group": "Sub group",
}


def _question_id(key: str) -> str:
    return "q-" + key.replace("_", "-")


class ResolveForm(CaseEventForm):
    """Close the case as resolved (key r), after a confirmation."""

    TITLE_TEXT = "Resolve the disagreement"
    SAVE_LABEL = "Resolve…"

    def compose_fields(self) -> ComposeResult:
        yield FormField("Outcome *", TextArea(id="note", compact=True), name="note")
        yield FormField(
            "Method",
            Input(placeholder="e.g. Mediation meeting", id="method", compact=True),
            name="method",
            hint="How it was resolved: discussion, meeting, mediation, panel…",
        )
        yield FormField(
            "Lessons",
            TextArea(id="lessons", compact=True),
            name="lessons",
            hint="The learning for your agency (the partnership forms ask for it).",
        )
        yield FormField(
            "Partnership",
            TextArea(id="learning", compact=True),
            name="learning",
            hint="Is there learning for the wider safeguarding partnership?",
        )
        for key, question in RESOLUTION_QUESTIONS.items():
            yield FormField(
                QUESTION_LABELS[key],
                Select(
                    [("Yes", True), ("No", False)],
                    prompt=f"{question}? (not answered)",
                    id=_question_id(key),
                    compact=True,
                ),
                name=_question_id(key),
            )
        yield from self.compose_when("Resolved")
        yield from self.compose_by()

    def events(self, session: Session) -> list[Event]:
        note = self.read(
            lambda: required_text(self.query_one("#note", TextArea).text, "note", long=True), ""
        )
        method = self.read(
            lambda: optional_text(self.query_one("#method", Input).value, "method"), ""
        )
        lessons = optional_text(self.query_one("#lessons", TextArea).text, "lessons", long=True)
        extras: dict[str, object] = {}
        learning = optional_text(self.query_one("#learning", TextArea).text, "learning", long=True)
        if learning:
            extras[PARTNERSHIP_LEARNING] = learning
        for key in RESOLUTION_QUESTIONS:
            answer = self.query_one(f"#{_question_id(key)}", Select).value
            if isinstance(answer, bool):
                extras[key] = answer
        return [
            Event(
                at=self.read(lambda: self.typed_when(session), session.now()),
                kind=EventKind.RESOLVED,
                by=self.read(lambda: self.typed_by(session), ""),
                note=note,
                method=method,
                lessons=lessons,
                value=extras or None,
            )
        ]

    def confirmation(self) -> tuple[str, str]:
        return (
            f"Close {self.case.ref} as resolved? The case leaves the open list; "
            "records can still be added.",
            "Resolve",
        )
