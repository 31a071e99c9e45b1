"""Record that an owed duty was done (key o on the case screen): the event that discharges it,
filled in from the duty (whom, the form sent), with when, by whom and a note."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Input, Select, TextArea

from dsl_console.core.deadlines import CaseState
from dsl_console.core.duties import DutyStatus
from dsl_console.core.procedures import Discharge
from dsl_console.core.records import Event, EventKind
from dsl_console.core.wording import shortened
from dsl_console.errors import InputError
from dsl_console.services.session import Session
from dsl_console.ui.forms.base import CaseEventForm
from dsl_console.ui.forms.fields import FormField
from dsl_console.ui.forms.host import stamp
from dsl_console.ui.forms.parsing import optional_text

# Escalating and resolving have forms of their own (x and r): a duty they discharge is done
# there, not here.
RECORDABLE = frozenset(
    {EventKind.NOTIFIED, EventKind.RESPONSE, EventKind.MEETING, EventKind.DISCUSSION}
)


def discharges_of(status: DutyStatus) -> list[Discharge]:
    """The events of the duty's `done_by` that this form can record (a notification needs
    someone notified: one a procedure leaves open is recorded with `e`)."""
    return [
        d
        for d in status.duty.done_by
        if d.kind in RECORDABLE and (d.kind != EventKind.NOTIFIED or d.whom)
    ]


def choices(state: CaseState) -> list[tuple[str, DutyStatus, Discharge]]:
    """(value, duty, discharge) for every way this form can discharge an owed duty."""
    return [
        (f"{status.duty.id}#{n}", status, discharge)
        for status in state.outstanding()
        for n, discharge in enumerate(discharges_of(status))
    ]


def recordable_duties(state: CaseState) -> list[DutyStatus]:
    """The outstanding duties this form can discharge, in the procedure's order."""
    return [d for d in state.outstanding() if discharges_of(d)]


class DutyDoneForm(CaseEventForm):
    """Choose an owed duty and record the notification (or reply) that discharges it."""

    TITLE_TEXT = "Record a duty done"
    SAVE_LABEL = "Record"
    FIELD_ALIASES: ClassVar[dict[str, str]] = {
        "at": "when",
        "by": "by",
        "whom": "duty",
        "form": "duty",
    }

    def compose_fields(self) -> ComposeResult:
        owed = choices(self.state)
        yield FormField(
            "Duty",
            Select(
                [(_label(status, discharge), value) for value, status, discharge in owed],
                value=owed[0][0] if owed else Select.BLANK,
                allow_blank=not owed,
                id="duty",
                compact=True,
            ),
            name="duty",
            hint="What is recorded follows from the duty: whom, and the form sent.",
        )
        yield from self.compose_when_by_note()

    def events(self, session: Session) -> list[Event]:
        chosen = self.query_one("#duty", Select).value
        owed = {value: (status, discharge) for value, status, discharge in choices(self.state)}
        if not isinstance(chosen, str) or chosen not in owed:
            raise InputError("choose the duty that was done", field="duty")
        status, discharge = owed[chosen]
        at = self.typed_when(session)
        if status.arose_at is not None and at < status.arose_at:
            # Recorded then, it would not discharge the duty, which would stay owed.
            raise InputError(
                f"is before the duty arose ({stamp(status.arose_at)}); "
                "a duty is done by what happens once it is owed",
                field="when",
            )
        by = optional_text(self.query_one("#by", Input).value, "by")
        note = optional_text(self.query_one("#note", TextArea).text, "note", long=True)
        return [
            Event(
                at=at,
                kind=discharge.kind,
                whom=discharge.whom,
                form=discharge.form,
                by=by,
                note=note or status.duty.what,
            )
        ]


def _label(status: DutyStatus, discharge: Discharge) -> str:
    # Cut at a word, visibly: a duty's words cut mid-word read as another duty.
    return f"{shortened(status.duty.what, 56)} ({discharge.describe()})"
