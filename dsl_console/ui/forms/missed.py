"""Record why a stage did not keep its timescale."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Button, Select, TextArea

from dsl_console.core.deadlines import CaseState
from dsl_console.core.records import Event, EventKind
from dsl_console.errors import InputError
from dsl_console.services.session import Session
from dsl_console.ui.forms.base import CaseEventForm
from dsl_console.ui.forms.fields import FormField
from dsl_console.ui.forms.parsing import required_text


def missed_stages(state: CaseState, as_of: datetime) -> dict[int, bool]:
    """Each stage that missed its timescale by `as_of`, and whether it still has no reason."""
    missed: dict[int, bool] = {}
    for visit in state.visits:
        if visit.kept(as_of) is False:
            missed[visit.stage] = missed.get(visit.stage, False) or not visit.missed_reason
    return missed


class TimescaleMissedForm(CaseEventForm):
    """Give the reason a stage missed its timescale (key m); the partnerships ask for it."""

    TITLE_TEXT = "Record why a timescale was missed"
    FIELD_ALIASES: ClassVar[dict[str, str]] = {"note": "note", "stage": "stage"}

    def stage_options(self) -> list[tuple[str, int]]:
        """The stages that missed their timescale (as of now), those with no reason yet marked:
        a stage that kept it, or is still within it, has nothing to explain."""
        missed = missed_stages(self.state, self.current_moment())
        return [
            (
                f"{n}  {self.procedure.stage(n).name}"
                + ("  (no reason yet)" if unexplained else ""),
                n,
            )
            for n, unexplained in sorted(missed.items())
        ]

    def default_stage(self) -> int | None:
        """The first missed stage with no reason yet, else the first that missed."""
        options = self.stage_options()
        unexplained = [n for label, n in options if label.endswith("(no reason yet)")]
        missed = unexplained or [n for _label, n in options]
        return missed[0] if missed else None

    def context_text(self) -> str:
        text = super().context_text()
        if not self.stage_options():
            text += (
                "\nNo stage of this case has missed its timescale: there is nothing to explain "
                "(a stage still within its timescale, or one with none, cannot be late)."
            )
        return text

    def on_mount(self) -> None:
        if not self.stage_options():
            self.query_one("#save", Button).disabled = True

    def compose_fields(self) -> ComposeResult:
        yield FormField(
            "Stage",
            Select(
                self.stage_options(),
                value=self.default_stage() or Select.NULL,
                allow_blank=not self.stage_options(),
                prompt="No stage has missed its timescale",
                id="stage",
                compact=True,
            ),
            name="stage",
        )
        yield FormField("Reason *", TextArea(id="note", compact=True), name="note")
        yield from self.compose_when("Recorded")
        yield from self.compose_by()

    def events(self, session: Session) -> list[Event]:
        stage = self.query_one("#stage", Select).value
        if not isinstance(stage, int):
            raise InputError("choose the stage that missed its timescale", field="stage")
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
