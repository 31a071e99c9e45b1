"""Escalate a case to a higher stage, with a note, and in the same step the IRO notice where it
is due and the outstanding immediate risk, where there is one."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Checkbox, Select, TextArea

from dsl_console.core.deadlines import case_state
from dsl_console.core.records import IRO, Event, EventKind
from dsl_console.errors import InputError
from dsl_console.services.session import Session
from dsl_console.ui.forms.base import CaseEventForm
from dsl_console.ui.forms.fields import FormField, Tick
from dsl_console.ui.forms.parsing import required_text


class EscalateForm(CaseEventForm):
    """Move the case up to a higher stage (key x); stages below or at the current one are
    never offered, since escalation may skip stages but never go down."""

    TITLE_TEXT = "Escalate to a higher stage"
    SAVE_LABEL = "Escalate"
    FIELD_ALIASES: ClassVar[dict[str, str]] = {"at": "when"}

    @property
    def higher_stages(self) -> list[tuple[str, int]]:
        """(label, number) of every stage above the current one."""
        return [
            (f"{s.number}  {s.name}", s.number)
            for s in self.procedure.stages
            if s.number > self.state.stage
        ]

    def iro_offered(self, stage: int | None) -> bool:
        """Whether telling the IRO is owed once this escalation is made: the procedure's own
        IRO duty, replayed with the escalation in place (child on a plan or looked after, the
        duty's stage reached, the IRO not yet told)."""
        case = self.case
        if stage is not None:
            last = max((e.at for e in case.events), default=case.opened_at)
            probe = Event(at=last, kind=EventKind.ESCALATED, stage=stage)
            case = replace(case, events=(*case.events, probe))
        state = case_state(case, self.procedure, self.app.session.calendar)  # type: ignore[attr-defined]
        return any(d.duty.notifies(IRO) for d in state.outstanding())

    def context_text(self) -> str:
        text = super().context_text()
        if not self.higher_stages:
            text += "\nThe case is at the last stage of its procedure: there is no higher stage."
        return text

    def compose_fields(self) -> ComposeResult:
        options = self.higher_stages
        yield FormField(
            "To stage *",
            Select(options, prompt="Choose a higher stage", id="stage", compact=True),
            name="stage",
            hint="Stages may be skipped; escalation never goes down.",
        )
        yield from self.compose_when_by_note(note_required=True)
        iro = FormField(
            "IRO",
            Tick("Record that the IRO has been notified now", id="iro", compact=True),
            name="iro",
            hint="Child on a CP plan / looked after: the IRO must be told.",
        )
        iro.display = self.iro_offered(None)
        yield iro
        # Escalating the stage is often how the risk is escalated: offer to record both at
        # once, so the header does not go on saying "escalate now" after the DSL has.
        risk = FormField(
            "Immediate risk",
            Tick("Record the immediate risk as escalated now", id="risk", compact=True),
            name="risk",
            hint="An immediate risk is outstanding: it must be escalated today.",
        )
        risk.display = self.state.risk_raised_at is not None
        yield risk

    def on_mount(self) -> None:
        if not self.higher_stages:
            self.query_one("#save", Button).disabled = True

    @on(Select.Changed, "#stage")
    def _stage_chosen(self, event: Select.Changed) -> None:
        stage = event.value if isinstance(event.value, int) else None
        self.query_one("#field-iro", FormField).display = self.iro_offered(stage)

    def _stage(self) -> int:
        value = self.query_one("#stage", Select).value
        if not isinstance(value, int):
            raise InputError("choose the stage to escalate to", field="stage")
        if value <= self.state.stage:
            raise InputError(f"escalation must go above stage {self.state.stage}", field="stage")
        return value

    def events(self, session: Session) -> list[Event]:
        value = self.read(self._stage, self.state.stage + 1)
        at = self.read(lambda: self.typed_when(session), session.now())
        by = self.read(lambda: self.typed_by(session), "")
        note = self.read(
            lambda: required_text(self.query_one("#note", TextArea).text, "note", long=True), ""
        )
        events = [Event(at=at, kind=EventKind.ESCALATED, stage=value, by=by, note=note)]
        if self.iro_offered(value) and self.query_one("#iro", Checkbox).value:
            events.append(
                Event(
                    at=at,
                    kind=EventKind.NOTIFIED,
                    whom=IRO,
                    by=by,
                    note=f"IRO notified on escalation to stage {value}.",
                )
            )
        if self.state.risk_raised_at is not None and self.query_one("#risk", Checkbox).value:
            events.append(
                Event(
                    at=at,
                    kind=EventKind.RISK_ESCALATED,
                    by=by,
                    note=f"Immediate risk escalated with the escalation to stage {value}.",
                )
            )
        return events
