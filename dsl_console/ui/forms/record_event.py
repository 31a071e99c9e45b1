"""Record an event on a case: a note, discussion, meeting, outcome, notification or risk step."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import Select, TextArea

from dsl_console.core.records import (
    IRO,
    OTHER_AGENCY,
    PARTNERSHIP,
    TEAM_MANAGER,
    Event,
    EventKind,
)
from dsl_console.errors import InputError
from dsl_console.services.session import Session
from dsl_console.ui.forms.base import CaseEventForm
from dsl_console.ui.forms.fields import FormField
from dsl_console.ui.forms.parsing import optional_text, required_text

# What the form offers: (label, choice) -> (event kind, whom).
CHOICES: dict[str, tuple[str, str, str]] = {
    "note": ("Note", EventKind.NOTE, ""),
    "discussion": ("Discussion", EventKind.DISCUSSION, ""),
    "meeting": ("Meeting", EventKind.MEETING, ""),
    "outcome": ("Outcome agreed", EventKind.OUTCOME, ""),
    "iro": ("IRO notified", EventKind.NOTIFIED, IRO),
    "partnership": ("Partnership notified", EventKind.NOTIFIED, PARTNERSHIP),
    "other-agency": ("Other agency notified", EventKind.NOTIFIED, OTHER_AGENCY),
    "team-manager": ("Team Manager alerted", EventKind.NOTIFIED, TEAM_MANAGER),
    "response": ("Other agency replied", EventKind.RESPONSE, ""),
    "risk-raised": ("Immediate risk raised", EventKind.RISK_RAISED, ""),
    "risk-escalated": ("Immediate risk escalated", EventKind.RISK_ESCALATED, ""),
}
# The records themselves are the point of these kinds, so their text may not be blank.
NOTE_REQUIRED = frozenset({"note", "discussion", "meeting", "outcome"})
FIRST_CHOICE = "note"  # what the form offers first: the most common record
# What a closed case may still take: what is sent or learnt after the end (contract section 6).
AFTER_RESOLUTION = ("note", "iro", "partnership", "other-agency", "team-manager", "response")


class RecordEventForm(CaseEventForm):
    """Append one record to the case's history (key e on the case screen)."""

    TITLE_TEXT = "Record an event"
    FIELD_ALIASES: ClassVar[dict[str, str]] = {"at": "when", "by": "by", "whom": "kind"}

    def compose_fields(self) -> ComposeResult:
        choices = AFTER_RESOLUTION if self.case.resolved else tuple(CHOICES)
        yield FormField(
            "What",
            Select(
                [(CHOICES[c][0], c) for c in choices],
                value=FIRST_CHOICE,
                allow_blank=False,
                id="kind",
                compact=True,
            ),
            name="kind",
        )
        yield from self.compose_when_by_note(note_required=FIRST_CHOICE in NOTE_REQUIRED)

    @on(Select.Changed, "#kind")
    def _kind_chosen(self, event: Select.Changed) -> None:
        # The Note is starred while what is chosen needs one (a note, a meeting's outcome);
        # unstarred, a DSL took it as optional, and was then told it was required.
        needed = isinstance(event.value, str) and event.value in NOTE_REQUIRED
        self.query_one("#field-note", FormField).relabel("Note *" if needed else "Note")

    def events(self, session: Session) -> list[Event]:
        choice = self.query_one("#kind", Select).value
        if not isinstance(choice, str) or choice not in CHOICES:
            raise InputError("choose what to record", field="kind")
        _label, kind, whom = CHOICES[choice]
        at = self.read(lambda: self.typed_when(session), session.now())
        by = self.read(lambda: self.typed_by(session), "")
        text = self.query_one("#note", TextArea).text
        note = self.read(
            lambda: (
                required_text(text, "note", long=True)
                if choice in NOTE_REQUIRED
                else optional_text(text, "note", long=True)
            ),
            "",
        )
        return [Event(at=at, kind=kind, by=by, whom=whom, note=note)]
