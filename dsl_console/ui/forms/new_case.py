"""Open a new escalation case (key n on the case list)."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import partial
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, Select, TextArea

from dsl_console.core.clock import local_date
from dsl_console.core.records import (
    AGENCY_KINDS,
    AGENCY_LABELS,
    LEVEL_LABELS,
    REASONS,
    Case,
    Child,
    LevelOfNeed,
    Professional,
    agency_kind_for,
)
from dsl_console.errors import ConsoleError, InputError
from dsl_console.services.casebook import open_case, refs_in_use
from dsl_console.services.exporting import completed_by
from dsl_console.services.session import Session
from dsl_console.ui.forms.base import FormScreen
from dsl_console.ui.forms.fields import FormField, Tick
from dsl_console.ui.forms.host import host, input_moment
from dsl_console.ui.forms.parsing import (
    dob_typed,
    moment_typed,
    optional_text,
    required_text,
)

REF_SPAN = 999  # SCH-YYYY-001 .. SCH-YYYY-999


def ref_candidates(year: int) -> list[str]:
    """Every ref of the school's yearly series, in order."""
    return [f"SCH-{year}-{n:03d}" for n in range(1, REF_SPAN + 1)]


def next_free_ref(year: int, taken: set[str]) -> str:
    """The ref after the highest one taken this year (the first one if none is)."""
    candidates = ref_candidates(year)
    used = [i for i, ref in enumerate(candidates) if ref in taken]
    start = used[-1] + 1 if used else 0
    for ref in candidates[start:]:
        if ref not in taken:
            return ref
    return next((ref for ref in candidates if ref not in taken), f"SCH-{year}-")


class NewCaseForm(FormScreen):
    """The facts of a new escalation; on success the case screen opens on it."""

    _kind_chosen = False  # the user chose the agency's kind: typing no longer moves it
    _kinds_suggested = 0  # changes of the kind made by typing, whose messages are to come
    TITLE_TEXT = "Open a new escalation"
    SAVE_LABEL = "Open case"
    FIELD_ALIASES: ClassVar[dict[str, str]] = {
        "child.name": "child-name",
        "child.dob": "dob",
        "opened_at": "opened-at",
        "other_agency": "other-agency",
        "other_agency_kind": "other-agency-kind",
        "level_of_need": "level",
        "professionals.name": "pro-name",
        "professionals.role": "pro-role",
        "professionals.agency": "pro-agency",
        "professionals.email": "pro-email",
    }

    def context_text(self) -> str:
        return "Fields marked * are required. Ctrl+S saves, Escape cancels."

    def compose_fields(self) -> ComposeResult:
        session = self.app_session
        procedures = session.registry.latest() if session else []
        default = session.config.procedure if session else ""
        ids = [p.id for p in procedures]
        yield FormField(
            "Ref *",
            Input(id="ref", compact=True),
            name="ref",
            hint="Suggested: the next free number this year",
        )
        yield FormField(
            "Procedure *",
            Select(
                [(f"{p.name} ({p.id})", p.id) for p in procedures],
                value=default if default in ids else (ids[0] if ids else Select.NULL),
                allow_blank=not ids,
                id="procedure",
                compact=True,
            ),
            name="procedure",
        )
        yield FormField(
            "Opened at *",
            Input(input_moment(self.current_moment()), id="opened-at", compact=True),
            name="opened-at",
            hint="London time, DD/MM/YYYY HH:MM",
        )
        yield FormField("Child name *", Input(id="child-name", compact=True), name="child-name")
        yield FormField(
            "DOB *", Input(placeholder="DD/MM/YYYY", id="dob", compact=True), name="dob"
        )
        yield FormField("Other agency", Input(id="other-agency", compact=True), name="other-agency")
        yield FormField(
            "Agency kind",
            Select(
                [(AGENCY_LABELS[kind].capitalize(), kind) for kind in AGENCY_KINDS],
                value="other",
                allow_blank=False,
                id="other-agency-kind",
                compact=True,
            ),
            name="other-agency-kind",
            hint="Which agency made the decision the school disagrees with.",
        )
        yield FormField(
            "Level of need",
            Select(
                [(label, value) for value, label in LEVEL_LABELS.items()],
                value=LevelOfNeed.UNKNOWN.value,
                allow_blank=False,
                id="level",
                compact=True,
            ),
            name="level",
        )
        marks = Horizontal(
            Tick("CP plan", id="cp-plan", compact=True),
            Tick("Looked after", id="looked-after", compact=True),
            Tick("Immediate risk", id="immediate-risk", compact=True),
            id="marks",
        )
        marks.styles.height = "auto"
        yield FormField(
            "Marks",
            marks,
            name="marks",
            hint="Immediate risk: escalate the same working day (safeguarding procedures).",
        )
        yield FormField(
            "Reason *",
            Select(
                [(label, value) for value, label in REASONS.items()],
                prompt="Choose the main reason",
                id="reason",
                compact=True,
            ),
            name="reason",
        )
        yield FormField("Summary", TextArea(id="summary", compact=True), name="summary")
        yield FormField(
            "Concern",
            TextArea(id="concern", compact=True),
            name="concern",
            hint="The concern for the child's welfare, as the Summary Log reports it.",
        )
        yield FormField(
            "Professional",
            Input(placeholder="Name (optional)", id="pro-name", compact=True),
            name="pro-name",
            hint="One professional of the other agency; key p on the case adds more.",
        )
        yield FormField("Role", Input(id="pro-role", compact=True), name="pro-role")
        yield FormField("Agency", Input(id="pro-agency", compact=True), name="pro-agency")
        yield FormField("Email", Input(id="pro-email", compact=True), name="pro-email")

    @on(Input.Changed, "#other-agency")
    def _agency_typed(self, event: Input.Changed) -> None:
        # The kind follows the name typed until the user chooses one themselves.
        if self._kind_chosen:
            return
        kind = agency_kind_for(event.value) or "other"
        choice = self.query_one("#other-agency-kind", Select)
        if choice.value != kind:
            self._kinds_suggested += 1
            choice.value = kind

    @on(Select.Changed, "#other-agency-kind")
    def _kind_changed(self) -> None:
        if self._kinds_suggested:
            self._kinds_suggested -= 1
        elif self._baseline is not None:  # not the form setting itself up
            self._kind_chosen = True

    def on_mount(self) -> None:
        self.query_one("#ref", Input).focus()
        session = self.app_session
        if session is not None:
            self._suggest_ref(session, local_date(self.current_moment()).year)

    @work(thread=True, exclusive=True, exit_on_error=False, group="suggest-ref")
    def _suggest_ref(self, session: Session, year: int) -> None:
        with session.db.connection_context():
            taken = refs_in_use(ref_candidates(year))
        ref = next_free_ref(year, taken)
        self.app.call_from_thread(self._fill_ref, ref)

    def _fill_ref(self, ref: str) -> None:
        field = self.query_one("#ref", Input)
        if not field.value:  # never overwrite what the user has started typing
            field.value = ref
            field.cursor_position = len(ref)
            self.remember_value("ref", ref)

    def _text(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def collect(self, session: Session) -> Case:
        now = session.now()
        read = self.read
        ref = read(lambda: required_text(self._text("ref"), "ref"), "")
        procedure = read(lambda: self._procedure(session), "")
        opened_at = read(
            lambda: moment_typed(self._text("opened-at"), "opened-at", not_after=now), now
        )
        name = read(lambda: required_text(self._text("child-name"), "child-name"), "")
        dob = read(lambda: dob_typed(self._text("dob"), "dob", local_date(now)), local_date(now))
        reason = read(self._reason, "")
        level = self.query_one("#level", Select).value
        person = [
            read(partial(optional_text, self._text(f"pro-{part}"), f"pro-{part}"), "")
            for part in ("name", "role", "agency", "email")
        ]
        if any(person[1:]) and not person[0]:
            raise InputError(
                "give the professional's name, or clear their details", field="pro-name"
            )
        name_, role, agency, email = person
        professionals = (Professional(name_, role, agency, email),) if name_ else ()
        return Case(
            ref=ref,
            procedure=procedure,
            opened_at=opened_at,
            child=Child(name=name, dob=dob),
            other_agency=optional_text(self._text("other-agency"), "other-agency"),
            other_agency_kind=str(self.query_one("#other-agency-kind", Select).value),
            level_of_need=str(level) if isinstance(level, str) else LevelOfNeed.UNKNOWN,
            cp_plan=self.query_one("#cp-plan", Checkbox).value,
            looked_after=self.query_one("#looked-after", Checkbox).value,
            immediate_risk=self.query_one("#immediate-risk", Checkbox).value,
            reason=reason,
            summary=optional_text(self.query_one("#summary", TextArea).text, "summary", long=True),
            concern=optional_text(self.query_one("#concern", TextArea).text, "concern", long=True),
            professionals=professionals,
            # The professional escalating is the account holder opening the case, named as
            # the forms name them (exporting.completed_by): never by a login name.
            raised_by=completed_by(session),
        )

    def _procedure(self, session: Session) -> str:
        procedure = self.query_one("#procedure", Select).value
        if not isinstance(procedure, str) or procedure not in session.registry:
            raise InputError("choose a procedure", field="procedure")
        return procedure

    def _reason(self) -> str:
        reason = self.query_one("#reason", Select).value
        if not isinstance(reason, str):
            raise InputError("choose the main reason for the disagreement", field="reason")
        return reason

    def confirmation(self) -> tuple[str, str] | None:
        """Ask when the opening is over a year ago, or in another year than its ref says: the
        opening cannot be amended later (a case opened in error can only be voided)."""
        try:
            opened = moment_typed(self._text("opened-at"), "opened-at")
        except InputError:
            return None
        day = local_date(opened)
        year_of_ref = re.search(r"\b(19|20)\d\d\b", self._text("ref"))
        long_ago = self.current_moment() - opened > timedelta(days=365)
        other_year = year_of_ref is not None and int(year_of_ref.group()) != day.year
        if not (long_ago or other_year):
            return None
        why = (
            f"under a {year_of_ref.group()} ref"
            if other_year and year_of_ref
            else "over a year ago"
        )
        return (
            f"Opened on {day:%d/%m/%Y}, {why}: is the year right? The opening cannot be amended "
            "afterwards; a case opened in error can only be voided.",
            "Open the case",
        )

    def write(self, session: Session, collected: Case) -> str:  # type: ignore[override]
        try:
            return open_case(session, collected).ref
        except KeyError:
            # The registry names no such procedure (it was removed while the form was open).
            raise InputError("is no longer known; choose another", field="procedure") from None

    def show_error(self, error: ConsoleError | str, *, focus: bool = True) -> FormField | None:
        # The store names a clash by case ("case SCH-2026-001: ref is already ..."): put it
        # under the ref.
        if (
            isinstance(error, InputError)
            and error.field.startswith("case ")
            and error.reason.startswith("ref ")
        ):
            error = InputError(f"this {error.reason}; choose another ref", field="ref")
        return super().show_error(error, focus=focus)

    def after_saved(self, result: object) -> None:
        ref = str(result)
        console = host(self.app)
        console.case_changed(ref)
        console.open_case(ref)
