"""A living record in the console: facts amended mid-case, professionals added and corrected,
entries made late, cases voided as opened in error, and the account holder's own name."""

from __future__ import annotations

from datetime import date

from console_kit import (
    CASES,
    FAST_KDF,
    PASSPHRASE,
    USER,
    event,
    make_case,
    notices,
    settle,
    wait_until,
)
from test_case_screen import ALL_CASES, open_form, open_screen, panel_text, save, stored
from test_forms_case_events import back_on_case, flags_now
from textual.widgets import Checkbox, Input, Select, TextArea

from dsl_console.core.records import EventKind, Professional, as_amended
from dsl_console.services.accounts import add_account
from dsl_console.services.session import Credentials, open_session
from dsl_console.store.users import Role
from dsl_console.ui.app import create_app
from dsl_console.ui.forms.confirm import ConfirmScreen
from dsl_console.ui.screens.case_list import CaseListScreen

STAGE_ONE_REF = "SCH-2026-003"  # Liverpool, stage 1 since Fri 20 Nov, no CP plan
# A risk ticked on the new-case form, the child's professionals named at the opening.
RISK_REF = "SCH-2026-040"
RISK_CASE = make_case(
    RISK_REF,
    "Ivy Example",
    "2026-11-19 09:00",
    immediate_risk=True,
    raised_by=Professional("Jo Lead", "DSL", "Example Primary School", "jo.lead@example.org"),
    professionals=(Professional("Sam Worker", "Social worker", "Children's social care"),),
    events=(
        event("2026-11-19 12:00", EventKind.RISK_ESCALATED, by="Jo Lead", note="Rang the MASH."),
        event("2026-11-20 16:00", EventKind.NOTE, by="Jo Lead", note="Chased the social worker."),
    ),
)
LIVING = (*ALL_CASES, RISK_CASE)


# -- c: amend a fact --------------------------------------------------------------------------------
async def test_a_cp_plan_amended_mid_case_starts_the_iro_duty_from_then(make_app, clock):
    app = make_app(cases=LIVING)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, STAGE_ONE_REF)
        assert "iro-notice" not in flags_now(screen)
        form = await open_form(pilot, "c")
        assert form.query_one("#fact", Select).value == "cp_plan"
        # The choice starts on the change: the child is not on a plan, so "Yes".
        assert form.query_one("#value-choice", Select).value is True
        await save(pilot)
        assert form.errors == {"note": "Required: please fill this in."}
        assert len(stored(app, STAGE_ONE_REF).events) == 0
        form.query_one("#note", TextArea).load_text("Made subject to a CP plan at conference.")
        form.query_one("#when", Input).value = "23/11/2026 10:30"
        await save(pilot)
        screen = await back_on_case(pilot)
        amended = stored(app, STAGE_ONE_REF).events[-1]
        assert (amended.kind, amended.field, amended.value) == (EventKind.AMENDED, "cp_plan", True)
        assert amended.by == USER  # no full name set: the login name, until one is
        # The duty starts at 10:30: the flag is up, and the facts say what changed and when.
        assert "iro-notice" in flags_now(screen)
        text = panel_text(screen)
        assert "[CPP] on a child protection plan" in text
        assert "amended on 23/11/2026 10:30 by jo.lead; before: no" in text
        assert "Amended: child protection plan" in text and "Was: no" in text


async def test_a_date_of_birth_after_the_opening_is_refused_under_the_value(make_app):
    app = make_app(cases=LIVING)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, STAGE_ONE_REF)
        form = await open_form(pilot, "c")
        form.query_one("#fact", Select).value = "child.dob"
        await settle(pilot)
        value = form.query_one("#value-text", Input)
        assert value.value == "09/09/2012"  # the date of birth as it stands, to correct
        value.value = "21/11/2026"  # the day after the opening
        form.query_one("#note", TextArea).load_text("Typed the wrong year.")
        await save(pilot)
        assert form.errors == {"value-text": "The child's date of birth is after the opening"}
        value.value = "09/09/2013"
        await save(pilot)
        await back_on_case(pilot)
        assert as_amended(stored(app, STAGE_ONE_REF)).child.dob == date(2013, 9, 9)


# -- p: the professionals ---------------------------------------------------------------------------
async def test_a_second_professional_is_added_and_the_first_marked_no_longer_involved(make_app):
    app = make_app(cases=LIVING)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "p")
        form.query_one("#pro-role", Input).value = "Team Manager"
        await save(pilot)
        assert form.errors == {"pro-name": "Required: please fill this in."}
        form.query_one("#pro-name", Input).value = "Lee Manager"
        form.query_one("#pro-agency", Input).value = "Children's social care"
        form.query_one("#pro-email", Input).value = "lee.manager@example.org"
        await save(pilot)
        screen = await back_on_case(pilot)
        people = as_amended(stored(app)).professionals
        assert [p.name for p in people] == ["Sam Worker (fictional)", "Lee Manager"]
        assert "Lee Manager (Team Manager, Children's social care, lee.manager@" in panel_text(
            screen
        )
        # The first leaves the case: chosen, their details come up to correct; unticked.
        form = await open_form(pilot, "p")
        form.query_one("#who", Select).value = 1
        await settle(pilot)
        assert form.query_one("#pro-name", Input).value == "Sam Worker (fictional)"
        form.query_one("#involved", Checkbox).value = False
        await save(pilot)
        screen = await back_on_case(pilot)
        first = as_amended(stored(app)).professionals[0]
        assert first.name == "Sam Worker (fictional)" and not first.involved
        text = panel_text(screen)
        assert "Sam Worker (fictional) (Social worker" in text and "no longer involved" in text
        assert "No longer involved: Sam Worker (fictional)" in text
        # The entry says what the correction replaced.
        assert (
            "Was: Sam Worker (fictional), Social worker, Children's social care, "
            "sam.worker@example.org" in text
        )


# -- late entries -----------------------------------------------------------------------------------
async def test_an_event_dated_before_the_last_one_goes_in_its_place_marked_recorded_later(
    make_app, clock
):
    app = make_app(cases=LIVING)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, RISK_REF)
        form = await open_form(pilot, "e")
        form.query_one("#kind", Select).value = "iro"
        form.query_one("#when", Input).value = "20/11/2026 15:10"  # before the 16:00 note
        await save(pilot)
        screen = await back_on_case(pilot)
        events = stored(app, RISK_REF).events
        late = events[-1]
        assert (late.kind, late.whom) == (EventKind.NOTIFIED, "iro")
        assert late.recorded_at is not None and late.recorded_at > late.at
        rows = screen.query_one("#timeline").rows[0].events  # type: ignore[attr-defined]
        labels = [row.label for row in rows]
        # In time order: the IRO email sits before the note written after it.
        assert labels.index("IRO notified") < labels.index("Note")
        assert "recorded later, on 23/11/2026 11:00" in panel_text(screen)


async def test_a_late_escalation_that_would_break_the_stage_order_is_refused_naming_the_entry(
    make_app,
):
    app = make_app(cases=LIVING)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot)  # the staged case: escalated to stage 3 on 09/11 09:30
        before = len(stored(app).events)
        form = await open_form(pilot, "x")
        form.query_one("#stage", Select).value = 4
        form.query_one("#when", Input).value = "06/11/2026 10:00"
        form.query_one("#note", TextArea).load_text("Recorded late.")
        await save(pilot)
        assert form.errors["when"].startswith(
            "Conflicts with the later entry 'escalated' of 09/11/2026 09:30"
        )
        assert len(stored(app).events) == before


async def test_a_time_in_the_future_is_refused_under_when_on_every_form(make_app):
    app = make_app(cases=LIVING)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot)
        before = len(stored(app).events)
        # Each form's other required fields filled, so that When is what is refused.
        required = {
            "e": {"#note": "Rang the social worker."},
            "m": {"#note": "Chair on leave."},
            "a": {"#note": "Share the chronology", "#owner": "Jo Lead"},
            "c": {"#note": "Conference decision."},
            "p": {"#pro-name": "Lee Manager"},
        }
        for key, fields in required.items():
            form = await open_form(pilot, key)
            for selector, text in fields.items():
                control = form.query_one(selector)
                if isinstance(control, TextArea):
                    control.load_text(text)
                else:
                    control.value = text  # type: ignore[attr-defined]
            form.query_one("#when", Input).value = "24/11/2026 09:00"
            await save(pilot)
            assert form.errors.get("when") == "Is in the future; record what has happened", key
            await pilot.press("escape", "y")  # typed in: it asks before discarding
            await back_on_case(pilot)
        assert len(stored(app).events) == before


# -- risk at opening ----------------------------------------------------------------------------
async def test_a_risk_ticked_at_opening_shows_as_raised_at_the_opening_by_its_opener(make_app):
    app = make_app(cases=LIVING)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, RISK_REF)
        rows = screen.query_one("#timeline").rows[0].events  # type: ignore[attr-defined]
        first = rows[0]
        assert (first.label, first.by) == ("Immediate risk raised (at the opening)", "Jo Lead")
        assert "19/11/2026 09:00  Immediate risk raised (at the opening)  by Jo Lead" in (
            panel_text(screen)
        )


async def test_resolving_with_the_risk_outstanding_is_refused_and_nothing_is_written(make_app):
    app = make_app(cases=LIVING)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, "SCH-2026-001")  # risk ticked at opening, not yet escalated
        form = await open_form(pilot, "r")
        form.query_one("#note", TextArea).load_text("Agreed.")
        await save(pilot)
        # Refused in place before any "are you sure?", saying what to do, in plain words.
        assert app.screen is form
        foot = form.errors[""]
        assert foot.startswith("✗ An immediate risk is outstanding: escalate the immediate risk")
        assert "On the case screen: e, then 'Immediate risk escalated'." in foot
        assert "event." not in foot.lower()
        assert stored(app, "SCH-2026-001").events == ()


# -- V: void ------------------------------------------------------------------------------------
async def test_a_case_opened_in_error_is_voided_after_asking_and_moves_to_the_voided_view(
    make_app,
):
    app = make_app(cases=LIVING)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, "SCH-2026-002")
        form = await open_form(pilot, "V")
        await save(pilot)
        assert form.errors == {"note": "Required: please fill this in."}
        form.query_one("#note", TextArea).load_text("Duplicate of SCH-2026-003.")
        await save(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        screen = await back_on_case(pilot)
        assert stored(app, "SCH-2026-002").events[-1].kind == EventKind.VOIDED
        assert flags_now(screen) == []
        assert "voided" in panel_text(screen)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, CaseListScreen), what="list")
        await settle(pilot)
        listing = app.screen
        assert isinstance(listing, CaseListScreen)
        assert "SCH-2026-002" not in listing.table.visible_refs()
        await pilot.press("7")
        await wait_until(
            pilot, lambda: listing.table.visible_refs() == ["SCH-2026-002"], what="voided view"
        )


async def test_only_a_dsl_may_void_a_case(make_app, tmp_path, clock, config):
    make_app(cases=LIVING)  # seeds the database
    path = tmp_path / "cases.db"
    session = open_session(path, config, Credentials(USER, PASSPHRASE), clock=clock)
    try:
        add_account(session, "deputy.one", Role.DEPUTY, "a deputy's passphrase", kdf_cost=FAST_KDF)
    finally:
        session.close()
    app = create_app(
        path,
        config,
        clock=clock,
        credentials=Credentials("deputy.one", "a deputy's passphrase"),
        kdf_cost=FAST_KDF,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "SCH-2026-002")
        await pilot.press("V")
        await settle(pilot)
        assert app.screen is screen  # no form
        assert "Only a DSL account can void a case." in notices(app)
        assert stored(app, "SCH-2026-002").events == ()


# -- the account holder's name --------------------------------------------------------------------
async def test_a_profile_set_in_the_console_names_what_its_holder_records(make_app):
    app = make_app(cases=CASES)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, STAGE_ONE_REF)
        await app.run_action("app.profile")
        await settle(pilot)
        form = app.screen
        form.query_one("#full-name", Input).value = "Jo Lead"
        form.query_one("#job-title", Input).value = "Designated Safeguarding Lead"
        form.query_one("#email", Input).value = "jo.lead@example.org"
        await save(pilot)
        await back_on_case(pilot)
        assert app.session.display_name == "Jo Lead"
        form = await open_form(pilot, "e")
        assert form.query_one("#by", Input).value == "Jo Lead"
        form.query_one("#note", TextArea).load_text("Rang the social worker.")
        await save(pilot)
        await back_on_case(pilot)
        last = stored(app, STAGE_ONE_REF).events[-1]
        assert last.by == "Jo Lead"


async def test_a_resolution_records_the_learning_for_the_partnership_and_its_answers(make_app):
    app = make_app(cases=LIVING)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, STAGE_ONE_REF)
        form = await open_form(pilot, "r")
        form.query_one("#note", TextArea).load_text("Strategy meeting agreed.")
        form.query_one("#lessons", TextArea).load_text("Share the threshold guidance.")
        form.query_one("#learning", TextArea).load_text("Raise thresholds at the sub group.")
        form.query_one("#q-staff-training", Select).value = True
        form.query_one("#q-sub-group", Select).value = False
        await save(pilot)
        await pilot.press("y")
        await back_on_case(pilot)
        resolved = stored(app, STAGE_ONE_REF).events[-1]
        assert resolved.kind == EventKind.RESOLVED
        assert resolved.value == {
            "learning": "Raise thresholds at the sub group.",
            "staff_training": True,
            "sub_group": False,
        }


async def test_a_professional_is_marked_the_lead_practitioner(make_app):
    app = make_app(cases=LIVING)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "p")
        form.query_one("#who", Select).value = 1
        await settle(pilot)
        assert form.query_one("#lead", Checkbox).value is False
        form.query_one("#lead", Checkbox).value = True
        await save(pilot)
        await back_on_case(pilot)
        assert as_amended(stored(app)).professionals[0].lead
