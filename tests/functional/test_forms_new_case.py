"""Opening a new case from the list (key n): suggestions, messages in place, and the case shown."""

from __future__ import annotations

from console_kit import CASES, settle, wait_until
from test_case_screen import list_ready, panel_text, save, screen_text, stored
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select, TextArea

from dsl_console.errors import InputError
from dsl_console.store.cases import existing_refs
from dsl_console.ui.forms.confirm import ConfirmScreen
from dsl_console.ui.forms.new_case import NewCaseForm, next_free_ref
from dsl_console.ui.screens.case_list import CaseListScreen
from dsl_console.ui.screens.case_screen import CaseScreen


async def open_new_case(pilot: Pilot) -> NewCaseForm:
    await list_ready(pilot)
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, NewCaseForm), what="the form")
    form = pilot.app.screen
    assert isinstance(form, NewCaseForm)
    await wait_until(pilot, lambda: bool(form.query_one("#ref", Input).value), what="a ref")
    await settle(pilot)
    return form


def fill(form: NewCaseForm, **values: str) -> None:
    for widget_id, value in values.items():
        form.query_one(f"#{widget_id.replace('_', '-')}", Input).value = value


def good_form(form: NewCaseForm) -> None:
    fill(form, child_name="Nia Example", dob="2015-06-01", other_agency="Police")
    form.query_one("#reason", Select).value = "information-sharing"
    form.query_one("#level", Select).value = "s17"
    form.query_one("#summary", TextArea).load_text("Police did not share a callout.")


def test_the_next_free_ref_follows_the_highest_taken():
    assert next_free_ref(2026, set()) == "SCH-2026-001"
    assert next_free_ref(2026, {"SCH-2026-001", "SCH-2026-007"}) == "SCH-2026-008"


async def test_the_form_suggests_a_ref_and_defaults(make_app, config):
    app = make_app(cases=CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await open_new_case(pilot)
        assert form.query_one("#ref", Input).value == "SCH-2026-008"
        assert form.query_one("#procedure", Select).value == config.procedure
        assert form.query_one("#opened-at", Input).value == "23/11/2026 11:00"
        assert form.query_one("#level", Select).value == "unknown"


async def test_a_new_case_opens_on_its_screen_and_the_list_knows_it(make_app):
    app = make_app(cases=CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await open_new_case(pilot)
        good_form(form)
        form.query_one("#procedure", Select).value = "gloucestershire"
        form.query_one("#cp-plan", Checkbox).value = True
        form.query_one("#immediate-risk", Checkbox).value = True
        fill(form, pro_name="Pat Officer (fictional)", pro_role="Detective sergeant")
        await save(pilot)
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, CaseScreen) and app.screen.case is not None,
            what="the new case",
        )
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CaseScreen) and screen.ref == "SCH-2026-008"
        text = panel_text(screen)
        assert "SCH-2026-008  Nia Example  · Gloucestershire" in text
        assert "!! IMMEDIATE RISK: escalate today, before 17:00" in text
        assert "Marks: [CPP] on a child protection plan" in text
        assert "• Pat Officer (fictional) (Detective sergeant)" in text
        assert "Level of need: Section 17 (child in need)" in text
        case = stored(app, "SCH-2026-008")
        assert case.procedure == "gloucestershire" and case.immediate_risk and not case.events
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CaseListScreen)
        assert "SCH-2026-008" in app.screen.table.visible_refs()


async def test_a_date_of_birth_in_the_future_is_refused_under_dob(make_app):
    app = make_app(cases=CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await open_new_case(pilot)
        good_form(form)
        fill(form, dob="2027-01-01")
        await save(pilot)
        assert app.screen is form
        assert form.errors == {"dob": "2027-01-01 is not in the past"}
        assert "✗ 2027-01-01 is not in the past" in screen_text(app)
        fill(form, dob="June 2015")
        await save(pilot)
        assert form.errors == {"dob": "Not a date in the form DD/MM/YYYY"}
        fill(form, dob="31/06/2015")
        await save(pilot)
        assert form.errors == {"dob": "31/06/2015 is not a real calendar date"}
        assert form.query_one("#child-name", Input).value == "Nia Example"


async def test_a_duplicate_ref_is_refused_under_ref_and_nothing_is_written(make_app):
    app = make_app(cases=CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await open_new_case(pilot)
        good_form(form)
        fill(form, ref="SCH-2026-001")
        await save(pilot)
        assert app.screen is form
        assert form.errors == {"ref": "This ref is already in the database; choose another ref"}
        assert stored(app, "SCH-2026-001").child.name == "Ada Example"  # untouched


async def test_required_facts_and_professional_details_are_checked_in_place(make_app):
    app = make_app(cases=CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await open_new_case(pilot)
        await save(pilot)
        # Every missing fact at once, the cursor on the first.
        assert form.errors == {
            "child-name": "Required: please fill this in.",
            "dob": "Required: please fill this in.",
            "reason": "Choose the main reason for the disagreement",
        }
        assert form.query_one("#child-name", Input).has_focus
        fill(form, child_name="Nia Example", dob="2015-06-01")
        await save(pilot)
        assert form.errors == {"reason": "Choose the main reason for the disagreement"}
        form.query_one("#reason", Select).value = "threshold"
        fill(form, pro_role="Social worker")
        await save(pilot)
        assert form.errors == {"pro-name": "Give the professional's name, or clear their details"}
        fill(form, pro_role="", opened_at="2026-11-24 09:00")
        await save(pilot)
        assert form.errors == {"opened-at": "Is in the future; record what has happened"}
        fill(form, opened_at="2026-11-23 09:00", ref="")
        await save(pilot)
        assert form.errors == {"ref": "Required: please fill this in."}
        fill(form, ref="x" * 201)
        await save(pilot)
        assert form.errors == {"ref": "Is longer than 200 characters"}


async def test_a_service_refusal_is_mapped_to_its_field(make_app, monkeypatch):
    from dsl_console.ui.forms import new_case

    def refuse(session, case):  # type: ignore[no-untyped-def]
        raise InputError("contains a NUL character", field="child.name")

    monkeypatch.setattr(new_case, "open_case", refuse)
    app = make_app(cases=CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await open_new_case(pilot)
        good_form(form)
        await save(pilot)
        assert form.errors == {"child-name": "Contains a NUL character"}


async def test_a_read_only_account_cannot_open_the_form(tmp_path, clock, config, make_app):
    from test_case_screen import reader_app

    app = reader_app(tmp_path, clock, config, make_app)
    async with app.run_test(size=(100, 30)) as pilot:
        await list_ready(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CaseListScreen)
        # Pushed some other way, the write is refused in place.
        form = NewCaseForm()
        app.push_screen(form)
        await settle(pilot)
        good_form(form)
        fill(form, ref="SCH-2026-050")
        await save(pilot)
        assert app.screen is form
        assert "read-only account" in form.errors[""]


async def test_the_new_case_form_scrolls_at_80_by_24(make_app):
    app = make_app(cases=CASES)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_new_case(pilot)
        assert "Open a new escalation" in screen_text(app)
        form.query_one("#pro-email", Input).focus()
        await settle(pilot)
        # (The first sweep's notices, shown over the bottom right for a few seconds, would
        # hide what this looks for; they are another test's subject.)
        app.clear_notifications()
        await settle(pilot)
        text = screen_text(app)
        # The last field is scrolled into view, and the buttons never scroll away.
        assert "Email" in text and "Open case" in text and "Cancel" in text


async def test_after_a_refused_save_at_80_by_24_the_first_field_in_error_is_in_view(make_app):
    app = make_app(cases=CASES)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_new_case(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        name = form.query_one("#child-name", Input)
        assert name.has_focus
        text = screen_text(app)
        # Its label, box and message are on the screen, not only the next field's message.
        assert "Child name *" in text
        visible = form.query_one("#form-fields").region
        assert visible.contains_region(form.query_one("#field-child-name").region)


async def test_an_opening_before_the_childs_birth_is_refused_under_opened_at(make_app):
    # The morning's slip: opened 2014 for a child born 2015 was saved, overdue 3263 days.
    app = make_app(cases=CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await open_new_case(pilot)
        good_form(form)
        fill(form, opened_at="16/11/2014 09:30")
        await save(pilot)
        # First a question: the year is not the ref's, and the opening cannot be amended.
        assert isinstance(app.screen, ConfirmScreen)
        assert "Opened on 16/11/2014, under a 2026 ref: is the year right?" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is form
        assert form.errors == {"opened-at": "Is before the child's date of birth"}
        assert app.session is not None
        with app.session.db.connection_context():
            assert not existing_refs([form.query_one("#ref", Input).value])
        fill(form, opened_at="16/11/2026 09:30")
        await save(pilot)
        assert app.screen is not form


async def test_an_opening_years_back_is_asked_about_and_no_keeps_the_form(make_app):
    # Opened 2016 for a child born 2015 is a valid record, and a likely slip for 2026.
    app = make_app(cases=CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await open_new_case(pilot)
        good_form(form)
        ref = form.query_one("#ref", Input).value
        fill(form, opened_at="01/12/2016 10:00")
        await save(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#opened-at", Input).value == "01/12/2016 10:00"
        assert app.session is not None
        with app.session.db.connection_context():
            assert not existing_refs([ref])


async def test_the_agency_kind_follows_the_name_typed_until_chosen(make_app):
    app = make_app(cases=CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await open_new_case(pilot)
        kind = form.query_one("#other-agency-kind", Select)
        form.query_one("#other-agency", Input).focus()
        await pilot.press(*"Children's social care")
        await settle(pilot)
        assert form.query_one("#other-agency", Input).value == "Children's social care"
        assert kind.value == "social-care"
        form.query_one("#other-agency", Input).value = "Merseyside Police"
        await settle(pilot)
        assert kind.value == "police"
        # Chosen by hand, it stays whatever is typed next.
        kind.value = "health"
        await settle(pilot)
        form.query_one("#other-agency", Input).value = "Example Academy"
        await settle(pilot)
        assert kind.value == "health"


def test_an_agencys_name_suggests_its_kind():
    from dsl_console.core.records import agency_kind_for

    assert agency_kind_for("Children’s Social Care") == "social-care"
    assert agency_kind_for("MASH") == "social-care"
    assert agency_kind_for("Alder Hey Hospital (NHS)") == "health"
    assert agency_kind_for("School nursing") == "health"
    assert agency_kind_for("Early Help Hub at Example School") == "early-help"
    assert agency_kind_for("Example Primary School") == "education"
    assert agency_kind_for("Youth offending") is None
    assert agency_kind_for("Cheshire Constabulary") == "police"
    assert agency_kind_for("Mashed Potato Ltd") is None  # a clue is a word, not a part of one


async def test_enter_on_a_tick_box_goes_on_and_only_space_ticks_it(make_app):
    # A hurried DSL pressing Enter to move on through the form ticked "Immediate risk".
    app = make_app(cases=CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await open_new_case(pilot)
        risk = form.query_one("#immediate-risk", Checkbox)
        risk.focus()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert risk.value is False and app.focused is not risk
        risk.focus()
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        assert risk.value is True


async def test_letters_typed_on_the_list_before_n_stay_out_of_the_new_case(make_app):
    # A walkthrough typed a shell command into the console by mistake, in one burst: the
    # letters before "n" came back up from the list after "n" had opened the form, and were
    # taken for keys typed into its Ref box before it had focus. Those after "n" are the form's.
    from console_kit import burst

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await list_ready(pilot)
        burst(app, *"dsl-co", "n", *"sole")
        await wait_until(pilot, lambda: isinstance(app.screen, NewCaseForm), what="the form")
        await settle(pilot)
        assert app.screen.query_one("#ref", Input).value == "SCH-2026-008sole"
