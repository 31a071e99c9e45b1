"""Add a professional to a case, correct one, or mark one no longer involved.

Each change is a `professional` event (records stay append-only): the person as they stand from
that moment, numbered as the case lists them, so the history keeps who was involved when.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Select, TextArea

from dsl_console.core.records import Event, EventKind, Professional, as_amended
from dsl_console.errors import InputError
from dsl_console.services.session import Session
from dsl_console.ui.forms.base import CaseEventForm
from dsl_console.ui.forms.fields import FormField, Tick
from dsl_console.ui.forms.parsing import optional_text, required_text

NEW = 0  # the "Who" choice for a professional not yet on the case
PARTS = ("name", "role", "agency", "email")


class ProfessionalForm(CaseEventForm):
    """The professionals of a case (key p): add one, correct one, or mark one no longer involved."""

    TITLE_TEXT = "Professionals involved"
    FIELD_ALIASES: ClassVar[dict[str, str]] = {
        "field": "who",
        "value.name": "pro-name",
        "value.role": "pro-role",
        "value.agency": "pro-agency",
        "value.email": "pro-email",
    }

    @property
    def people(self) -> tuple[Professional, ...]:
        """The case's professionals as they stand now, numbered from 1 in this order."""
        return as_amended(self.case).professionals

    def compose_fields(self) -> ComposeResult:
        options: list[tuple[str, int]] = [("A new professional", NEW)]
        for number, person in enumerate(self.people, start=1):
            gone = "" if person.involved else ", no longer involved"
            role = f" ({person.role}{gone})" if person.role or gone else ""
            options.append((f"{number}. {person.name}{role}", number))
        yield FormField(
            "Who",
            Select(options, value=NEW, allow_blank=False, id="who", compact=True),
            name="who",
        )
        for part, label, hint in (
            ("name", "Name *", ""),
            ("role", "Role", "e.g. Social worker, Team Manager, IRO"),
            ("agency", "Agency", "e.g. Children's social care"),
            ("email", "Email", ""),
        ):
            yield FormField(
                label, Input(id=f"pro-{part}", compact=True), name=f"pro-{part}", hint=hint
            )
        yield FormField(
            "Involved",
            Tick("Still involved in the case", value=True, id="involved", compact=True),
            name="involved",
            hint="Untick when they leave the case: they stay on its record.",
        )
        yield FormField(
            "Lead",
            Tick("The lead practitioner of the case", id="lead", compact=True),
            name="lead",
        )
        yield FormField("Note", TextArea(id="note", compact=True), name="note")
        yield from self.compose_when("From")
        yield from self.compose_by()

    @on(Select.Changed, "#who")
    def _who_chosen(self, event: Select.Changed) -> None:
        number = event.value if isinstance(event.value, int) else NEW
        person = self.people[number - 1] if number != NEW else Professional(name="")
        for part in PARTS:
            self.query_one(f"#pro-{part}", Input).value = getattr(person, part)
        self.query_one("#involved", Checkbox).value = person.involved
        self.query_one("#lead", Checkbox).value = person.lead

    def events(self, session: Session) -> list[Event]:
        number = self.query_one("#who", Select).value
        if not isinstance(number, int):
            raise InputError("choose a professional, or a new one", field="who")
        role, agency, email = (
            optional_text(self.query_one(f"#pro-{part}", Input).value, f"pro-{part}")
            for part in PARTS[1:]
        )
        person = Professional(
            name=required_text(self.query_one("#pro-name", Input).value, "pro-name"),
            role=role,
            agency=agency,
            email=email,
            involved=self.query_one("#involved", Checkbox).value,
            lead=self.query_one("#lead", Checkbox).value,
        )
        if number != NEW and person == self.people[number - 1]:
            raise InputError("nothing has changed for this professional", field="pro-name")
        if number == NEW and not person.involved:
            raise InputError("a new professional is involved; tick the box", field="involved")
        return [
            Event(
                at=self.typed_when(session),
                kind=EventKind.PROFESSIONAL,
                field="" if number == NEW else str(number),
                value=asdict(person),
                note=optional_text(self.query_one("#note", TextArea).text, "note", long=True),
                by=self.typed_by(session),
            )
        ]
