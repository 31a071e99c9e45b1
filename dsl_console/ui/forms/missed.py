"""Record why a stage did not keep its timescale."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Select, TextArea

from dsl_console.core.records import Event, EventKind
from dsl_console.errors import InputError
from dsl_console.services.session import Session
from dsl_console.ui.forms.base import CaseEventForm
from dsl_console.ui.forms.fields import FormField
from dsl_console.ui.forms.parsing import required_text


class TimescaleMissedForm(CaseEventForm):
    """Give the reason a stage missed its timescale (key m); the partnerships ask for it."""

    TITLE_TEXT = "Record why a timescale was missed"
    FIELD_ALIASES: ClassVar[dict[str, str]] = {"note": "note", "stage": "stage"}

    def stage_options(self) -> list[tuple[str, int]]:
        """The stages the case has been at, missed ones first marked as such."""
        as_of = self.current_moment()
        seen: dict[int, bool] = {}
        for visit in self.state.visits:
            seen[visit.stage] = seen.get(visit.stage, False) or visit.kept(as_of) is False
        return [
            (
                f"{n}  {self.procedure.stage(n).name}" + ("  (missed)" if missed else ""),
                n,
            )
            for n, missed in sorted(seen.items())
        ]

    def default_stage(self) -> int:
        """The first missed stage with no reason yet, else the current stage."""
        as_of = self.current_moment()
        for visit in self.state.visits:
            if visit.kept(as_of) is False and not visit.missed_reason:
                return visit.stage
        return self.state.stage

    def compose_fields(self) -> ComposeResult:
        yield FormField(
            "Stage",
            Select(
                self.stage_options(),
                value=self.default_stage(),
                allow_blank=False,
                id="stage",
                compact=True,
            ),
            name="stage",
        )
        yield FormField("Reason", TextArea(id="note", compact=True), name="note")
        yield from self.compose_when("Recorded")
        yield from self.compose_by()

    def events(self, session: Session) -> list[Event]:
        stage = self.query_one("#stage", Select).value
        if not isinstance(stage, int):
            raise InputError("stage: choose the stage that missed its timescale")
        note = required_text(self.query_one("#note", TextArea).text, "note", long=True)
        return [
            Event(
                at=self.typed_when(session),
                kind=EventKind.TIMESCALE_MISSED,
                stage=stage,
                by=self.typed_by(session),
                note=note,
            )
        ]
