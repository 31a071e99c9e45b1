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
from dsl_console.errors import InputError
from dsl_console.services.session import Session
from dsl_console.ui.forms.base import CaseEventForm
from dsl_console.ui.forms.fields import FormField
from dsl_console.ui.forms.host import input_moment
from dsl_console.ui.forms.parsing import moment_typed, optional_text

# Escalating and resolving have forms of their own (x and r): a duty they discharge is done
# there, not here.
RECORDABLE = frozenset(
    {EventKind.NOTIFIED, EventKind.RESPONSE, EventKind.MEETING, EventKind.DISCUSSION}
)


def discharge_of(status: DutyStatus) -> Discharge | None:
    """The first event of the duty's `done_by` that this form can record."""
    return next((d for d in status.duty.done_by if d.kind in RECORDABLE), None)


def recordable_duties(state: CaseState) -> list[DutyStatus]:
    """The outstanding duties this form can discharge, in the procedure's order."""
    return [d for d in state.outstanding() if discharge_of(d) is not None]


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
        session = self.app_session
        owed = recordable_duties(self.state)
        yield FormField(
            "Duty",
            Select(
                [(_label(d), d.duty.id) for d in owed],
                value=owed[0].duty.id if owed else Select.BLANK,
                allow_blank=not owed,
                id="duty",
                compact=True,
            ),
            name="duty",
            hint="What is recorded follows from the duty: whom, and the form sent.",
        )
        yield FormField(
            "When",
            Input(input_moment(self.current_moment()), id="when", compact=True),
            name="when",
            hint="London time, YYYY-MM-DD HH:MM",
        )
        yield FormField(
            "By", Input(session.user if session else "", id="by", compact=True), name="by"
        )
        yield FormField("Note", TextArea(id="note", compact=True), name="note")

    def events(self, session: Session) -> list[Event]:
        chosen = self.query_one("#duty", Select).value
        owed = {d.duty.id: d for d in recordable_duties(self.state)}
        if not isinstance(chosen, str) or chosen not in owed:
            raise InputError("duty: choose the duty that was done")
        discharge = discharge_of(owed[chosen])
        assert discharge is not None
        at = moment_typed(self.query_one("#when", Input).value, "when", not_after=session.now())
        by = optional_text(self.query_one("#by", Input).value, "by")
        note = optional_text(self.query_one("#note", TextArea).text, "note", long=True)
        return [
            Event(
                at=at,
                kind=discharge.kind,
                whom=discharge.whom,
                form=discharge.form,
                by=by,
                note=note or owed[chosen].duty.what,
            )
        ]


def _label(status: DutyStatus) -> str:
    discharge = discharge_of(status)
    what = discharge.describe() if discharge else status.duty.id
    return f"{status.duty.what[:48]} ({what})"
