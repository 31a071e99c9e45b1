"""Every change on the case screen, by key: the form, its messages in place, and what is written."""

from __future__ import annotations

import pytest
from console_kit import burst, notices, settle, wait_until
from test_case_screen import (
    ALL_CASES,
    STAGED,
    STAGED_REF,
    TOP_REF,
    open_form,
    open_screen,
    panel_text,
    save,
    screen_text,
    stored,
)
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, Input, Select, Static, TextArea

from dsl_console.core.records import Event, EventKind
from dsl_console.services.casebook import record_event
from dsl_console.ui.forms import base
from dsl_console.ui.forms.base import UNEXPECTED, FormScreen
from dsl_console.ui.forms.confirm import ConfirmScreen
from dsl_console.ui.screens.case_screen import CaseScreen

BEFORE = len(STAGED.events)


async def type_into(pilot: Pilot, selector: str, text: str) -> None:
    """Focus a control and type, key by key, as the user would."""
    pilot.app.screen.query_one(selector).focus()
    await pilot.pause()
    await pilot.press(*text)


async def back_on_case(pilot: Pilot) -> CaseScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CaseScreen), what="the case")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CaseScreen)
    return screen


# -- e: record an event ---------------------------------------------------------------------------
async def test_a_note_typed_and_saved_appears_under_the_current_stage(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        sweeps = app.sweep_count
        form = await open_form(pilot, "e")
        assert form.query_one("#kind", Select).value == "note"
        await type_into(pilot, "#note", "Rang the team manager")
        await save(pilot)
        screen = await back_on_case(pilot)
        stage3 = screen.query_one("#timeline").rows[2]
        assert ("Note", "jo.lead", "Rang the team manager") in [
            (e.label, e.by, e.detail) for e in stage3.events
        ]
        assert "23/11/2026 11:00  Note  by jo.lead" in panel_text(screen)
        last = stored(app).events[-1]
        assert (last.kind, last.note, last.by) == (
            EventKind.NOTE,
            "Rang the team manager",
            "jo.lead",
        )
        # The app was told: the list is refreshed and a sweep runs.
        await wait_until(pilot, lambda: app.sweep_count > sweeps, what="a sweep")


async def test_a_blank_note_is_refused_in_place_and_nothing_is_written(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "e")
        form.query_one("#kind", Select).value = "discussion"
        form.query_one("#by", Input).value = "Jo Lead"
        await type_into(pilot, "#note", "   ")
        await save(pilot)
        assert app.screen is form
        assert form.errors == {"note": "Required: please fill this in."}
        assert "✗ Required: please fill this in." in screen_text(app)
        assert form.query_one("#by", Input).value == "Jo Lead"  # what was typed stays
        assert form.query_one("#note", TextArea).has_focus
        assert len(stored(app).events) == BEFORE
        # Typing in the field takes its message away: it was about what was there before.
        await pilot.press("R")
        await settle(pilot)
        assert form.errors == {}
        assert "✗ Required" not in screen_text(app)


async def test_a_bad_or_future_time_is_refused_under_when(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "e")
        form.query_one("#note", TextArea).load_text("Meeting held.")
        when = form.query_one("#when", Input)
        when.value = "yesterday"
        await save(pilot)
        assert form.errors == {"when": "Not a date and time in the form DD/MM/YYYY HH:MM"}
        when.value = "2026-11-23 15:00"
        await save(pilot)
        assert form.errors == {"when": "Is in the future; record what has happened"}
        when.value = "2026-11-01 09:00"  # before the case was opened
        await save(pilot)
        assert form.errors == {
            "when": "Is before the case was opened (02/11/2026 09:00 London time)"
        }
        assert len(stored(app).events) == BEFORE
        when.value = "2026-11-23 10:30"
        await save(pilot)
        await back_on_case(pilot)
        assert stored(app).events[-1].note == "Meeting held."


async def test_notifying_the_iro_clears_the_iro_flag(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot)
        assert "[IRO] IRO notice due" in panel_text(screen)
        form = await open_form(pilot, "e")
        form.query_one("#kind", Select).value = "iro"
        await save(pilot)
        screen = await back_on_case(pilot)
        assert "[IRO] IRO notice due" not in panel_text(screen)
        assert "IRO notified  by jo.lead" in panel_text(screen)
        last = stored(app).events[-1]
        assert (last.kind, last.whom) == (EventKind.NOTIFIED, "iro")


async def test_escalating_the_risk_clears_the_immediate_risk(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot)
        assert "!! IMMEDIATE RISK" in panel_text(screen)
        form = await open_form(pilot, "e")
        form.query_one("#kind", Select).value = "risk-escalated"
        form.query_one("#note", TextArea).load_text("Referred to the front door by phone.")
        await save(pilot)
        screen = await back_on_case(pilot)
        assert "IMMEDIATE RISK" not in panel_text(screen)
        assert "[!!]" not in panel_text(screen)


async def test_raising_a_risk_and_notifying_the_partnership(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, TOP_REF)
        form = await open_form(pilot, "e")
        form.query_one("#kind", Select).value = "partnership"
        await save(pilot)
        await back_on_case(pilot)
        form = await open_form(pilot, "e")
        form.query_one("#kind", Select).value = "risk-raised"
        await save(pilot)
        screen = await back_on_case(pilot)
        text = panel_text(screen)
        assert "Partnership notified  by jo.lead" in text
        assert "!! IMMEDIATE RISK: escalate today, before 17:00" in text
        kinds = [e.kind for e in stored(app, TOP_REF).events[-2:]]
        assert kinds == [EventKind.NOTIFIED, EventKind.RISK_RAISED]


async def test_cancel_writes_nothing(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "e")
        form.query_one("#note", TextArea).load_text("Not wanted.")
        await pilot.press("escape", "y")  # asked first: something was typed
        await back_on_case(pilot)
        assert len(stored(app).events) == BEFORE


async def test_escape_on_a_typed_form_asks_before_throwing_it_away(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        # Nothing typed: Escape closes at once.
        await open_form(pilot, "e")
        await pilot.press("escape")
        await back_on_case(pilot)
        form = await open_form(pilot, "e")
        await type_into(pilot, "#note", "Rang the social worker twice")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Throw away what you have typed" in screen_text(app)
        # A second Escape (or n) keeps the form, and the text, as it was.
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#note", TextArea).text == "Rang the social worker twice"
        await pilot.press("escape", "y")
        await back_on_case(pilot)
        assert len(stored(app).events) == BEFORE


async def test_an_unexpected_failure_keeps_the_form_open_with_a_plain_message(
    make_app, monkeypatch
):
    def broken(*args: object) -> None:
        raise RuntimeError("Kit Example secret detail")

    monkeypatch.setattr(base, "record_events", broken)
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "e")
        form.query_one("#note", TextArea).load_text("Typed text survives.")
        await save(pilot)
        assert app.screen is form
        assert form.errors == {"": f"✗ {UNEXPECTED}"}
        assert "secret detail" not in screen_text(app)
        assert notices(app) == []  # said once, in place, not again as a toast
        assert form.query_one("#note", TextArea).text == "Typed text survives."
        assert not form.query_one("#save", Button).disabled  # may try again


# -- x: escalate ------------------------------------------------------------------------------------
async def test_escalation_offers_only_higher_stages_and_needs_a_note(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "x")
        stage = form.query_one("#stage", Select)
        assert [value for _label, value in stage._options if value != Select.NULL] == [4]
        await save(pilot)
        # Every field's message at once, not one per save.
        assert form.errors == {
            "stage": "Choose the stage to escalate to",
            "note": "Required: please fill this in.",
        }
        assert form.query_one("#stage", Select).has_focus  # the first of them
        stage.value = 4
        await save(pilot)
        assert form.errors == {"note": "Required: please fill this in."}
        assert len(stored(app).events) == BEFORE


async def test_escalating_with_the_iro_box_ticked_records_both_at_once(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "x")
        form.query_one("#stage", Select).value = 4
        await settle(pilot)
        assert form.query_one("#field-iro").display  # CP plan, IRO not yet told
        form.query_one("#note", TextArea).load_text("No agreement at stage 3.")
        form.query_one("#iro", Checkbox).value = True
        await save(pilot)
        screen = await back_on_case(pilot)
        text = panel_text(screen)
        assert "▶ Stage 4  LSCB Independent Chair  [current]" in text
        assert "[IRO] IRO notice due" not in text
        added = stored(app).events[BEFORE:]
        assert [(e.kind, e.stage, e.whom) for e in added] == [
            (EventKind.ESCALATED, 4, ""),
            (EventKind.NOTIFIED, None, "iro"),
        ]
        assert screen.query_one("#timeline").rows[2].status == "passed"


async def escalation_to_stage_4(pilot):  # type: ignore[no-untyped-def]
    """The case screen, then its escalate form filled in for stage 4 with a note, unsaved."""
    await open_screen(pilot)
    form = await open_form(pilot, "x")
    form.query_one("#stage", Select).value = 4
    form.query_one("#note", TextArea).load_text("No agreement at stage 3.")
    return form


async def test_escalating_without_the_iro_box_leaves_the_notice_due(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await escalation_to_stage_4(pilot)
        await save(pilot)
        screen = await back_on_case(pilot)
        assert "[IRO] IRO notice due" in panel_text(screen)
        assert [e.kind for e in stored(app).events[BEFORE:]] == [EventKind.ESCALATED]


async def test_the_iro_box_is_not_offered_without_a_cp_plan(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, "SCH-2026-003")
        form = await open_form(pilot, "x")
        form.query_one("#stage", Select).value = 2
        await settle(pilot)
        assert not form.query_one("#field-iro").display


async def test_at_the_last_stage_there_is_nothing_to_escalate_to(make_app):
    from dsl_console.ui.screens.case_screen import CaseCommands

    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot, TOP_REF)
        titles = [hit.text async for hit in CaseCommands(screen).discover()]
        assert "Escalate to a higher stage" not in titles and "Record an event" in titles
        await pilot.press("x")
        await settle(pilot)
        assert app.screen is screen  # no form opens, and it says why
        assert f"{TOP_REF} is at the last stage of its procedure: there is no higher stage." in (
            notices(app)
        )
        assert len(stored(app, TOP_REF).events) == 1


async def test_escalating_while_an_immediate_risk_is_outstanding_offers_to_record_it_too(
    make_app,
):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)  # STAGED: an immediate risk raised this morning
        form = await open_form(pilot, "x")
        assert form.query_one("#field-risk").display
        form.query_one("#stage", Select).value = 4
        form.query_one("#note", TextArea).load_text("Chair asked to intervene today.")
        form.query_one("#risk", Checkbox).value = True
        await save(pilot)
        screen = await back_on_case(pilot)
        assert "IMMEDIATE RISK" not in panel_text(screen)
        added = stored(app).events[BEFORE:]
        assert [e.kind for e in added] == [EventKind.ESCALATED, EventKind.RISK_ESCALATED]
        assert added[0].at == added[1].at
        # A case with no outstanding risk is not offered the box.
        await pilot.press("escape")
        await settle(pilot)
        await open_screen(pilot, "SCH-2026-003")
        form = await open_form(pilot, "x")
        assert not form.query_one("#field-risk").display


# -- d: set the stage deadline ----------------------------------------------------------------------
async def test_a_bad_date_past_date_or_missing_reason_is_refused_in_place(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "d")
        day, hour = form.query_one("#due-date", Input), form.query_one("#due-time", Input)
        assert hour.value == "17:00"
        await type_into(pilot, "#due-date", "2026-13-40")
        await save(pilot)
        assert form.errors == {
            "due-date": "2026-13-40 is not a real calendar date",
            "note": "Required: please fill this in.",
        }
        form.query_one("#note", TextArea).load_text("The Chair asked for a week.")
        day.value = "2026-11-20"
        await save(pilot)
        assert form.errors == {"due-date": "Must be later than when the deadline was set"}
        day.value, hour.value = "2026-12-04", "5pm"
        await save(pilot)
        assert form.errors == {"due-time": "Not a time in the form HH:MM (e.g. 17:00)"}
        day.value, hour.value = "2027-03-28", "01:30"  # clocks go forward
        await save(pilot)
        assert "does not exist in London" in form.errors["due-date"]
        day.value, hour.value = "2026-12-04", "17:00"
        form.query_one("#note", TextArea).load_text("")
        await save(pilot)
        assert form.errors == {"note": "Required: please fill this in."}
        assert len(stored(app).events) == BEFORE


async def test_a_deadline_set_moves_the_countdown_and_shows_its_reason(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "d")
        form.query_one("#due-date", Input).value = "2026-12-04"
        form.query_one("#note", TextArea).load_text("Chair set a new date.")
        await save(pilot)
        screen = await back_on_case(pilot)
        text = panel_text(screen)
        assert "Stage 3 LSCB rep: 9 working days" in text
        assert "Due     04/12/2026 17:00  (deadline set: Chair set a new date.)" in text
        last = stored(app).events[-1]
        assert last.kind == EventKind.DEADLINE_SET and last.note == "Chair set a new date."


async def question_on_saving(pilot: Pilot) -> str:
    """Save, and the words of the question asked before writing."""
    await save(pilot)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), what="a question")
    return str(pilot.app.screen.query_one("#confirm-question").render())


async def test_a_deadline_on_a_weekend_or_bank_holiday_is_questioned_naming_the_day(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "d")
        form.query_one("#note", TextArea).load_text("Chair set a new date.")
        form.query_one("#due-date", Input).value = "28/11/2026"
        question = await question_on_saving(pilot)
        assert "Saturday 28/11/2026 is not a working day (the weekend)" in question
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is form and len(stored(app).events) == BEFORE
        form.query_one("#due-date", Input).value = "25/12/2026"
        question = await question_on_saving(pilot)
        assert "Friday 25/12/2026 is not a working day (Christmas Day, a bank holiday)" in question
        await pilot.press("y")
        await back_on_case(pilot)
        last = stored(app).events[-1]
        assert last.kind == EventKind.DEADLINE_SET and last.due is not None
        assert last.due.date().isoformat() == "2026-12-25"
        # A working day is set without a question.
        form = await open_form(pilot, "d")
        form.query_one("#note", TextArea).load_text("Brought forward.")
        form.query_one("#due-date", Input).value = "04/12/2026"
        await save(pilot)
        await back_on_case(pilot)
        assert stored(app).events[-1].note == "Brought forward."


async def test_a_stage_whose_timescale_the_chair_sets_prompts_for_it(make_app):
    from console_kit import event, make_case

    chair = make_case(
        "SCH-2026-030",
        "Ash Placeholder",
        "2026-11-16 09:00",
        procedure="newham",
        events=(event("2026-11-20 09:00", EventKind.ESCALATED, stage=6, by="Jo", note="Chair."),),
    )
    app = make_app(cases=(*ALL_CASES, chair))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot, "SCH-2026-030")
        text = panel_text(screen)
        assert "The Chair sets this stage's timescale: press d to record it" in text
        assert "set by the Chair, not yet recorded (d)" in text
        form = await open_form(pilot, "d")
        form.query_one("#due-date", Input).value = "04/12/2026"
        form.query_one("#note", TextArea).load_text("Chair gave ten days.")
        await save(pilot)
        screen = await back_on_case(pilot)
        assert "The Chair sets this stage's timescale" not in panel_text(screen)


# -- r: resolve -------------------------------------------------------------------------------------
async def test_resolving_needs_an_outcome_and_a_yes(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "r")
        await save(pilot)
        assert form.errors == {"note": "Required: please fill this in."}
        form.query_one("#note", TextArea).load_text("Strategy meeting agreed.")
        form.query_one("#method", Input).value = "Mediation meeting"
        form.query_one("#lessons", TextArea).load_text("Share the chronology early.")
        await save(pilot)
        # The case has an immediate risk outstanding: resolving it is refused, in place, before
        # any question.
        await wait_until(pilot, lambda: bool(form.errors), what="the refusal")
        assert app.screen is form
        assert "escalate the immediate risk first" in form.errors[""]
        assert len(stored(app).events) == BEFORE
        # Once the risk is recorded as escalated (here by another console), the same form
        # resolves the case, after a yes.
        with app.session.db.connection_context():
            record_event(
                app.session,
                STAGED_REF,
                Event(app.now(), EventKind.RISK_ESCALATED, by="Jo Lead", note="MASH told."),
            )
        await save(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is form  # said no: back on the form, nothing written
        assert len(stored(app).events) == BEFORE + 1
        await save(pilot)
        await pilot.press("y")
        screen = await back_on_case(pilot)
        text = panel_text(screen)
        assert "■ Stage 3  LSCB safeguarding representative  [resolved here]" in text
        assert "Outcome: Strategy meeting agreed." in text
        assert "Lessons: Share the chronology early." in text
        assert screen.check_action("escalate", ()) is None  # a closed case is not escalated
        last = stored(app).events[-1]
        assert (last.kind, last.method) == (EventKind.RESOLVED, "Mediation meeting")


async def resolve_form_with_an_outcome(pilot: Pilot) -> FormScreen:
    """The staged case's risk escalated (so it may be resolved), its resolve form open with
    an outcome typed and the cursor in it."""
    app = pilot.app
    await open_screen(pilot)
    with app.session.db.connection_context():
        record_event(
            app.session,
            STAGED_REF,
            Event(app.now(), EventKind.RISK_ESCALATED, by="Jo Lead", note="MASH told."),
        )
    form = await open_form(pilot, "r")
    note = form.query_one("#note", TextArea)
    note.load_text("Strategy meeting agreed.")
    note.focus()
    await pilot.pause()
    return form


async def test_ctrl_s_and_y_in_one_burst_answer_the_question_and_type_nothing(make_app):
    # A tmux walkthrough: "Ctrl+S y" in one burst on the resolve form typed the "y" into the
    # outcome while the form checked the case, and left the question up, unanswered.
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await resolve_form_with_an_outcome(pilot)
        burst(app, "ctrl+s", "y")
        await back_on_case(pilot)
        last = stored(app).events[-1]
        assert (last.kind, last.note) == (EventKind.RESOLVED, "Strategy meeting agreed.")


async def test_the_keys_after_a_question_s_yes_go_on_once_the_write_is_done(make_app):
    # A tmux walkthrough: "Ctrl+S y e Tab note Ctrl+S" in one burst resolved the case and
    # recorded no note: the keys after the "y" went into the form while it wrote, and were
    # lost when it closed.
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await resolve_form_with_an_outcome(pilot)
        burst(app, "ctrl+s", "y", "e", "tab", *"Sent the outcome", "ctrl+s")
        await wait_until(
            pilot, lambda: stored(app).events[-1].note == "Sent the outcome", what="the note"
        )
        resolved, noted = stored(app).events[-2:]
        assert (resolved.kind, resolved.note) == (EventKind.RESOLVED, "Strategy meeting agreed.")
        assert noted.kind == EventKind.NOTE
        await back_on_case(pilot)


async def test_keys_typed_after_a_refused_ctrl_s_are_dropped_not_typed(make_app):
    # The same burst on a form that refuses (no outcome): the "y" meant for a question is not
    # typed into the field the cursor was in; the console rings the bell instead.
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "r")
        method = form.query_one("#method", Input)
        method.value = "Mediation meeting"
        method.focus()
        await pilot.pause()
        bells = app.bell_count
        burst(app, "ctrl+s", "y")
        await wait_until(pilot, lambda: bool(form.errors), what="the refusal")
        await settle(pilot)
        assert form.errors == {"note": "Required: please fill this in."}
        assert method.value == "Mediation meeting"
        assert app.bell_count == bells + 1
        # The form takes keys again as typed: in the outcome, where the cursor now is.
        assert app.focused is form.query_one("#note", TextArea)
        await pilot.press(*"Agreed")
        assert form.query_one("#note", TextArea).text == "Agreed"


# -- m: why a timescale was missed ------------------------------------------------------------------
async def test_recording_why_a_timescale_was_missed(make_app, clock):
    clock.set("2026-11-30 09:00")  # stage 3's due (27 Nov) has passed
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot)
        assert "no reason recorded yet (key m)" in panel_text(screen)
        form = await open_form(pilot, "m")
        stage = form.query_one("#stage", Select)
        assert stage.value == 3  # the missed stage with no reason yet
        labels = [str(label) for label, _value in stage._options]
        # Only the stages that missed: stage 1 (its reason recorded) and stage 3 (none yet).
        assert [value for _label, value in stage._options if value != Select.BLANK] == [1, 3]
        assert any("3  LSCB" in label and "(no reason yet)" in label for label in labels)
        assert not any("1  Attempt" in label and "(no reason yet)" in label for label in labels)
        await save(pilot)
        assert form.errors == {"note": "Required: please fill this in."}
        form.query_one("#note", TextArea).load_text("Mediation date moved by the other agency.")
        await save(pilot)
        screen = await back_on_case(pilot)
        assert "✗ missed its timescale: Mediation date moved by the other agency." in panel_text(
            screen
        )


async def test_a_case_that_kept_every_timescale_has_no_stage_to_explain(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot, "SCH-2026-004")  # Newham stage 1, due Thursday
        await pilot.press("m")
        await settle(pilot)
        # No form to fill in for nothing: the key says why, and the screen stays.
        assert app.screen is screen
        assert (
            "No stage of SCH-2026-004 has missed its timescale: there is nothing to explain."
            in notices(app)
        )
        assert stored(app, "SCH-2026-004").events == ()


# -- a / A: actions ---------------------------------------------------------------------------------
async def test_adding_an_action_checks_what_owner_and_date(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "a")
        await save(pilot)
        assert form.errors == {
            "note": "Required: please fill this in.",
            "owner": "Required: please fill this in.",
        }
        form.query_one("#note", Input).value = "Send the referral form"
        await save(pilot)
        assert form.errors == {"owner": "Required: please fill this in."}
        form.query_one("#owner", Input).value = "Jo Lead"
        form.query_one("#by-when", Input).value = "Friday"
        await save(pilot)
        assert form.errors == {"by-when": "Not a date in the form DD/MM/YYYY"}
        form.query_one("#by-when", Input).value = "2026-11-02"
        await save(pilot)
        assert form.errors == {"by-when": "Is before today"}
        assert len(stored(app).events) == BEFORE
        form.query_one("#by-when", Input).value = "2026-11-27"
        await save(pilot)
        screen = await back_on_case(pilot)
        assert "3. [ ] open Send the referral form (Jo Lead, by 27/11/2026 17:00)" in panel_text(
            screen
        )


async def test_marking_an_action_done(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "A")
        action = form.query_one("#action", Select)
        assert action.value == 2  # the only open one, chosen already
        await save(pilot)
        screen = await back_on_case(pilot)
        assert "2. [x] done 23/11/2026 11:00 Arrange a mediation meeting" in panel_text(screen)
        last = stored(app).events[-1]
        assert (last.kind, last.action) == (EventKind.ACTION_DONE, 2)


async def test_with_no_open_action_there_is_nothing_to_mark_done(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, TOP_REF)
        form = await open_form(pilot, "A")
        assert "Every agreed action is already done" in screen_text(app)
        assert form.query_one("#save", Button).disabled


async def test_the_form_is_usable_at_80_by_24(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "x")
        text = screen_text(app)
        assert "Escalate to a higher stage" in text and "Cancel" in text
        assert "esc Cancel" in text and "^s Save" in text
        assert isinstance(form, FormScreen)
        assert STAGED_REF in text


async def test_a_form_opens_with_the_cursor_in_its_first_field(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "x")
        assert form.focused is form.query_one("#stage", Select)
        await pilot.press("enter", "down", "enter")  # open the list, take the first stage
        await settle(pilot)
        assert form.query_one("#stage", Select).value == 4
        await pilot.press("tab", *"Agreed with the head")  # the note follows the stage
        await save(pilot)
        screen = await back_on_case(pilot)
        assert stored(app).events[-1].note == "Agreed with the head"
        assert screen.state is not None and screen.state.stage == 4


# -- o: a duty done ---------------------------------------------------------------------------------
async def test_recording_an_owed_duty_done_discharges_it_and_clears_its_flag(make_app):
    # The staged Liverpool case is at stage 3 with a CP plan: the IRO and the Report to LSCB
    # (Appendix 2) are owed, and the partnership notice flag is up.
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot)
        assert "partnership-notice" in flags_now(screen)
        form = await open_form(pilot, "o")
        duty = form.query_one("#duty", Select)
        labels = [str(label) for label, _value in duty._options]
        appendix = next(v for (label, v) in duty._options if "Appendix 2" in str(label))
        assert any("form liverpool" in label for label in labels)
        duty.value = appendix
        # A time before the duty arose (stage 3 was reached on 09/11 09:30) is refused in
        # place: recorded then, the notice would not discharge it.
        form.query_one("#when", Input).value = "2026-11-05 10:00"
        await save(pilot)
        assert "before the duty arose" in form.errors["when"]
        assert len(stored(app).events) == BEFORE
        form.query_one("#when", Input).value = "2026-11-20 10:00"
        await save(pilot)
        screen = await back_on_case(pilot)
        last = stored(app).events[-1]
        assert (last.kind, last.whom, last.form) == (EventKind.NOTIFIED, "partnership", "liverpool")
        assert "partnership-notice" not in flags_now(screen)
        assert "✓ Duty done" in panel_text(screen)


def flags_now(screen: CaseScreen) -> list[str]:
    from dsl_console.core.deadlines import flags_at

    assert screen.state is not None
    return flags_at(screen.state.standing, screen.app.now())


async def test_a_long_note_wraps_under_its_indent_in_the_timeline_at_80_columns(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(80, 50)) as pilot:
        await open_screen(pilot)
        await open_form(pilot, "e")
        note = (
            "Spoke to the duty social worker about the missed strategy meeting and asked "
            "for the written timeline by Friday"
        )
        await type_into(pilot, "#note", note)
        await save(pilot)
        screen = await back_on_case(pilot)
        await settle(pilot)
        (block,) = [
            b
            for b in screen.query_one("#timeline").query_children(".stage").results(Static)
            if "Spoke to the duty" in str(b.content)
        ]
        assert block.size.width < 80
        lines = str(block.content).splitlines()
        at = next(i for i, line in enumerate(lines) if "Spoke to the duty" in line)
        note_lines = lines[at : at + 2]
        # The note's second line starts under its first, not back at the block's edge, and no
        # line is longer than the block has room for (the terminal would wrap it to column 0).
        assert [line[:5] for line in note_lines] == ["    S", "    " + note_lines[1][4]]
        assert note_lines[1].rstrip().endswith("by Friday")
        assert all(len(line) <= block.size.width - 2 for line in note_lines)


def test_a_long_action_is_cut_at_a_word_in_the_mark_done_picker() -> None:
    from dsl_console.core.wording import shortened

    text = "Chase the social care team manager for the written outcome of the strategy meeting"
    cut = shortened(text, 60)
    assert cut == "Chase the social care team manager for the written outcome …"
    assert len(cut) <= 60 and text.startswith(cut.removesuffix(" …"))
    assert shortened("Short one", 60) == "Short one"


async def test_an_escalation_made_meanwhile_in_another_console_is_named_and_the_form_kept(
    make_app,
):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await escalation_to_stage_4(pilot)
        # Another DSL escalates the same case to stage 4 while this form is open.
        with app.session.db.connection_context():
            record_event(
                app.session,
                STAGED_REF,
                Event(app.now(), EventKind.ESCALATED, stage=4, by="Kim Other", note="Chair."),
            )
        await save(pilot)
        await wait_until(pilot, lambda: bool(form.errors), what="the refusal")
        assert app.screen is form
        assert form.errors["stage"] == (
            "The case is already at stage 4 (escalated to stage 4 by Kim Other, at "
            "23/11/2026 11:00)"
        )
        assert form.query_one("#note", TextArea).text == "No agreement at stage 3."
        assert [e.kind for e in stored(app).events[BEFORE:]] == [EventKind.ESCALATED]


async def test_escape_and_a_key_in_one_burst_act_as_typed(make_app):
    # Escape then y, arriving together (over SSH), reach the console as the bytes of Alt+y:
    # the y was typed into the note and the form stayed. Each now acts in turn.
    from textual import events

    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "e")
        await type_into(pilot, "#note", "Spoke to SW")
        app.post_message(events.Key("alt+y", "y"))  # as the terminal parser reads ESC y
        # Escape asked "Throw away what you have typed?" and y said yes: the form is gone,
        # nothing was recorded, and no "y" went anywhere.
        await back_on_case(pilot)
        assert form not in app.screen_stack
        assert len(stored(app).events) == BEFORE
        # Escape then n, the same way: the form stays, its text as typed.
        form = await open_form(pilot, "e")
        await type_into(pilot, "#note", "Spoke to SW")
        app.post_message(events.Key("alt+n", "n"))
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#note", TextArea).text == "Spoke to SW"


async def test_text_and_ctrl_s_in_one_burst_save_the_text(make_app):
    # A note typed and Ctrl+S pressed in one burst (over SSH, from a text expander) arrive
    # together: Ctrl+S, a priority binding, ran before the note box had taken the text, and
    # the form saved without it, or found it empty. It now waits behind the text.

    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        await open_form(pilot, "e")
        app.screen.query_one("#note", TextArea).focus()
        await pilot.pause()
        burst(app, *"Spoke to SW", "ctrl+s")
        await back_on_case(pilot)
        assert stored(app).events[-1].note == "Spoke to SW"


async def test_opening_a_form_and_typing_in_one_burst_types_into_the_form(make_app):
    # "e, Tab, a note, Ctrl+S" in one burst: the Tab and the note's letters reached the case
    # screen before its form was up, and its keys opened other forms (r: resolve, o: duty
    # done, e: another record form); the note was lost. They now wait for the form.

    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        case_screen = await open_screen(pilot)
        burst(app, "e", "tab", *"Rang SW", "ctrl+s")
        await back_on_case(pilot)
        assert app.screen is case_screen and len(app.screen_stack) == 3
        assert stored(app).events[-1].note == "Rang SW"


async def test_a_choice_a_note_and_ctrl_s_in_one_burst_save_both_whole(make_app, monkeypatch):
    # A tmux walkthrough, "e", then in one burst: Enter (open the list), Down, Enter (choose),
    # Tab, the note, Ctrl+S. Textual hands the choice to the dropdown in messages and gives it
    # focus back later still: the note was saved cut short, the rest typed into the dropdown
    # or run as the case screen's keys. Here the hand-over is slowed, as a busy terminal's
    # was, so that every key of the burst comes before it lands.
    from textual.widgets._select import SelectOverlay

    real = SelectOverlay.on_option_list_option_selected

    def slow(overlay, event):  # type: ignore[no-untyped-def]
        overlay.set_timer(0.15, lambda: real(overlay, event))

    monkeypatch.setattr(SelectOverlay, "on_option_list_option_selected", slow)
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        case_screen = await open_screen(pilot)
        await open_form(pilot, "e")
        note = "Discussion with the social worker about the plan and the next visit."
        burst(app, "enter", "down", "enter", "tab", *note, "ctrl+s")
        await back_on_case(pilot)
        await settle(pilot)
        assert app.screen is case_screen
        event = stored(app).events[-1]
        assert (event.kind, event.note) == (EventKind.DISCUSSION, note)


async def test_ctrl_q_on_a_typed_form_asks_before_throwing_it_away(make_app):
    # A walkthrough's Ctrl+Q in a half-typed note quit at once, the note lost.
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "e")
        await type_into(pilot, "#note", "Half typed note")
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Quit and throw away what you have typed" in screen_text(app)
        await pilot.press("escape")  # keep editing: the form and its text as they were
        await settle(pilot)
        assert app.screen is form and app.is_running
        assert form.query_one("#note", TextArea).text == "Half typed note"
        await pilot.press("ctrl+q", "y")
        await wait_until(pilot, lambda: not app.is_running, what="the console to quit")


@pytest.mark.parametrize("leave", ["escape", "ctrl+q"])
async def test_a_note_typed_in_the_burst_that_opens_its_form_is_asked_about_before_it_goes(
    make_app, leave
):
    # A tmux walkthrough: "e, Tab, a note" in one burst, then Escape, closed the form and
    # threw the note away without asking (Ctrl+Q quit the same way): the form took what its
    # fields held once drawn, the note by then, as where it started, so nothing counted as
    # typed.
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        burst(app, "e", "tab", *"Rang SW")
        await settle(pilot)
        await pilot.press(leave)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="a question")
        assert "hrow away what you have typed" in screen_text(app)  # Throw, or Quit and throw
        await pilot.press("escape")  # keep editing
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.query_one("#note", TextArea).text == "Rang SW"


async def test_a_form_opened_and_left_in_one_burst_closes_without_a_question(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        case_screen = await open_screen(pilot)
        for key in ("e", "x", "r", "a"):
            burst(app, key, "escape")
            await settle(pilot)
            assert app.screen is case_screen, key


async def test_a_note_and_escape_in_one_burst_ask_before_the_note_goes(make_app):
    # A tmux walkthrough: a note's letters and Escape in one burst closed the form before the
    # letters had landed in the note, so nothing counted as typed and nothing was asked.
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "e")
        form.query_one("#note", TextArea).focus()
        await pilot.pause()
        burst(app, *"Rang SW", "escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="a question")
        await pilot.press("escape")  # keep editing
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#note", TextArea).text == "Rang SW"


async def test_the_note_is_starred_while_what_is_recorded_needs_one(make_app):
    # A walkthrough: the event form's Note was not starred, and saving a plain note without
    # one was then refused as required.
    from textual.widgets import Label

    from dsl_console.ui.forms.fields import FormField

    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "e")

        def note_label() -> str:
            field = form.query_one("#field-note", FormField)
            return str(field.query_one(Label).render())

        assert note_label() == "Note *"
        form.query_one("#kind", Select).value = "iro"
        await settle(pilot)
        assert note_label() == "Note"
        form.query_one("#kind", Select).value = "note"
        await settle(pilot)
        assert note_label() == "Note *"
