"""Amend a case fact from a moment on (a CP plan made mid-case, a corrected date of birth).

The opening facts are never rewritten: the amendment is a new `amended` event, with the reason,
and the engine uses each fact as it stood at the moment it evaluates (contract section 6).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Select, Static, TextArea

from dsl_console.core.records import (
    AGENCY_KINDS,
    AGENCY_LABELS,
    AMENDABLE_FIELDS,
    LEVEL_LABELS,
    REASONS,
    Case,
    Event,
    EventKind,
    as_amended,
)
from dsl_console.core.wording import fact_label, fact_value
from dsl_console.errors import ConsoleError, InputError
from dsl_console.services.session import Session
from dsl_console.ui.forms.base import CaseEventForm
from dsl_console.ui.forms.fields import FormField
from dsl_console.ui.forms.parsing import day_typed, optional_text, required_text

# Facts chosen from a list, with their choices (value, label).
CHOICES: dict[str, list[tuple[object, str]]] = {
    "cp_plan": [(True, "Yes: on a child protection plan"), (False, "No")],
    "looked_after": [(True, "Yes: looked after"), (False, "No")],
    "level_of_need": list(LEVEL_LABELS.items()),
    "reason": list(REASONS.items()),
    "other_agency_kind": [(kind, AGENCY_LABELS[kind]) for kind in AGENCY_KINDS],
}
# Facts that take several lines of text.
LONG_FACTS = frozenset({"child.address", "child.parents", "summary", "concern"})


def current_value(case: Case, field: str) -> object:
    """A fact as the case stands now (after its amendments)."""
    now = as_amended(case)
    if field.startswith("child."):
        value = getattr(now.child, field.removeprefix("child."))
        return value.isoformat() if field == "child.dob" else value
    return getattr(now, field)


def control_for(field: str) -> str:
    """The id of the control a fact's new value is typed or chosen in."""
    if field in CHOICES:
        return "value-choice"
    return "value-long" if field in LONG_FACTS else "value-text"


class AmendForm(CaseEventForm):
    """Change or correct one case fact from a moment on (key c), with the reason."""

    TITLE_TEXT = "Amend a case fact"
    SAVE_LABEL = "Amend"
    FIELD_ALIASES: ClassVar[dict[str, str]] = {"field": "fact"}

    def compose_fields(self) -> ComposeResult:
        yield FormField(
            "Fact",
            Select(
                [(fact_label(f).capitalize(), f) for f in AMENDABLE_FIELDS],
                value="cp_plan",
                allow_blank=False,
                id="fact",
                compact=True,
            ),
            name="fact",
            hint="The opening facts stay in the history; this changes the fact from then on.",
        )
        yield FormField("Now", Static("", id="now-value"), name="now")
        yield FormField("New value", Input(id="value-text", compact=True), name="value-text")
        yield FormField("New value", TextArea(id="value-long", compact=True), name="value-long")
        yield FormField(
            "New value",
            # Options of the first fact shown; each fact chosen sets its own.
            Select(
                [(label, option) for option, label in CHOICES["cp_plan"]],
                allow_blank=False,
                id="value-choice",
                compact=True,
            ),
            name="value-choice",
        )
        yield FormField("Why *", TextArea(id="note", compact=True), name="note")
        yield from self.compose_when("From")
        yield from self.compose_by()

    def on_mount(self) -> None:
        self._show_fact(self.chosen_fact)

    @property
    def chosen_fact(self) -> str:
        value = self.query_one("#fact", Select).value
        return value if isinstance(value, str) else "cp_plan"

    @on(Select.Changed, "#fact")
    def _fact_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._show_fact(event.value)

    def _show_fact(self, field: str) -> None:
        """Show the control for this fact, holding its current value to start from."""
        value = current_value(self.case, field)
        self.query_one("#now-value", Static).update(fact_value(field, value))
        shown = control_for(field)
        for control in ("value-text", "value-long", "value-choice"):
            self.query_one(f"#field-{control}", FormField).display = control == shown
        if shown == "value-choice":
            choice = self.query_one("#value-choice", Select)
            choice.set_options([(label, option) for option, label in CHOICES[field]])
            # Start on the other choice for yes / no: the change is why the form is open.
            start = (not value) if isinstance(value, bool) else value
            if any(option == start for option, _label in CHOICES[field]):
                choice.value = start
        elif shown == "value-long":
            self.query_one("#value-long", TextArea).load_text(str(value or ""))
        else:
            text = fact_value(field, value) if field == "child.dob" else str(value or "")
            self.query_one("#value-text", Input).value = text

    def show_error(self, error: ConsoleError | str, *, focus: bool = True) -> FormField | None:
        # The form shows which fact is meant; the service's "(for child.dob)" is for imports.
        if isinstance(error, InputError):
            reason = error.reason.removesuffix(f" (for {self.chosen_fact})")
            error = InputError(reason, field=error.field)
        return super().show_error(error, focus=focus)

    def field_for(self, prefix: str) -> FormField | None:
        # The services name the new value `value`: it is whichever control is on show.
        if prefix.removeprefix("event.").startswith("value"):
            return self.query_one(f"#field-{control_for(self.chosen_fact)}", FormField)
        return super().field_for(prefix)

    def new_value(self) -> object:
        field = self.chosen_fact
        shown = control_for(field)
        if shown == "value-choice":
            return self.query_one("#value-choice", Select).value
        if shown == "value-long":
            return optional_text(self.query_one("#value-long", TextArea).text, "value", long=True)
        text = self.query_one("#value-text", Input).value
        if field == "child.dob":
            return day_typed(text, "value").isoformat()
        if field == "child.name":
            return required_text(text, "value")
        return optional_text(text, "value")

    def events(self, session: Session) -> list[Event]:
        field = self.chosen_fact
        value = self.new_value()
        if value == current_value(self.case, field):
            raise InputError(
                f"is what the case already says ({fact_value(field, value)})", field="value"
            )
        note = required_text(self.query_one("#note", TextArea).text, "note", long=True)
        return [
            Event(
                at=self.typed_when(session),
                kind=EventKind.AMENDED,
                field=field,
                value=value,
                note=note,
                by=self.typed_by(session),
            )
        ]
