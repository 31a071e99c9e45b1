"""The case screen: the stage timeline, the facts beside it, and who may change what.

The shared fixtures (STAGED, open_screen, screen_text, stored ...) are imported by the form
tests too.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from console_kit import (
    CASES,
    FAST_KDF,
    PASSPHRASE,
    USER,
    FakeClock,
    at,
    event,
    make_case,
    settle,
    unlocked,
    wait_until,
)
from textual.css.query import NoMatches
from textual.pilot import Pilot

from dsl_console.config import Config
from dsl_console.core.records import Case, EventKind, Professional
from dsl_console.services.accounts import add_account
from dsl_console.services.session import Credentials, open_session
from dsl_console.store.cases import load_case
from dsl_console.store.users import Role
from dsl_console.ui.app import DslConsoleApp, create_app
from dsl_console.ui.forms.base import FormScreen
from dsl_console.ui.screens.case_list import CaseListScreen
from dsl_console.ui.screens.case_screen import READ_ONLY_NOTE, CaseCommands, CaseScreen
from dsl_console.ui.widgets.timeline import MISSED, NOT_REACHED, SKIPPED

STAGED_REF = "SCH-2026-020"
# Liverpool, opened Mon 2 Nov: stage 1 due by day 2 (Tue 3 Nov 17:00) but left on 9 Nov (missed,
# reason recorded); escalated straight to stage 3 (stage 2 skipped); stage 3's due set by hand;
# two actions, one done; an immediate risk raised this morning; CP plan, IRO not yet told.
STAGED = make_case(
    STAGED_REF,
    "Kit Example",
    "2026-11-02 09:00",
    dob=date(2014, 5, 2),
    cp_plan=True,
    level_of_need="s47",
    reason="threshold",
    summary="Referral declined as below threshold; school disagrees.",
    professionals=(
        Professional(
            "Sam Worker (fictional)",
            "Social worker",
            "Children's social care",
            "sam.worker@example.org",
        ),
    ),
    events=(
        event(
            "2026-11-03 10:00",
            EventKind.DISCUSSION,
            by="Jo Lead",
            note="Spoke with the social worker; referral still declined.",
        ),
        event(
            "2026-11-05 16:00",
            EventKind.TIMESCALE_MISSED,
            stage=1,
            by="Jo Lead",
            note="Line manager on leave until Thursday.",
        ),
        event(
            "2026-11-09 09:30",
            EventKind.ESCALATED,
            stage=3,
            by="Jo Lead",
            note="Urgent: stage 2 skipped with the head teacher's agreement.",
        ),
        event(
            "2026-11-10 12:00",
            EventKind.ACTION,
            by="Jo Lead",
            whom="Jo Lead",
            due=at("2026-11-13 17:00"),
            note="Share the school's chronology",
        ),
        event("2026-11-12 15:00", EventKind.ACTION_DONE, action=1, by="Jo Lead"),
        event(
            "2026-11-16 11:00",
            EventKind.ACTION,
            by="Jo Lead",
            whom="Sam Worker (fictional)",
            due=at("2026-11-25 17:00"),
            note="Arrange a mediation meeting",
        ),
        event(
            "2026-11-18 14:00",
            EventKind.DEADLINE_SET,
            by="Jo Lead",
            due=at("2026-11-27 17:00"),
            note="LSCB representative asked for a week to consult.",
        ),
        event(
            "2026-11-23 09:15",
            EventKind.RISK_RAISED,
            by="Jo Lead",
            note="New concern reported this morning.",
        ),
    ),
)
# Gloucestershire at stage 4 (the last), no timescale trouble, nothing to escalate to.
TOP_REF = "SCH-2026-021"
TOP = make_case(
    TOP_REF,
    "Lux Sample",
    "2026-11-16 09:00",
    procedure="gloucestershire",
    dob=date(2016, 1, 20),
    events=(event("2026-11-17 09:00", EventKind.ESCALATED, stage=4, by="Jo Lead", note="Panel."),),
)
ALL_CASES: tuple[Case, ...] = (*CASES, STAGED, TOP)
READER, READER_PASSPHRASE = "ro.viewer", "another fictional passphrase"


def screen_text(app: DslConsoleApp) -> str:
    """Everything on the terminal, as the user reads it."""
    return "\n".join(strip.text.rstrip() for strip in app.screen._compositor.render_strips())


def panel_text(screen: CaseScreen) -> str:
    """The status, facts and timeline as plain text (whatever is scrolled into view)."""
    from dsl_console.ui.widgets.case_facts import case_status, facts_content
    from dsl_console.ui.widgets.timeline import stage_content

    assert screen.case and screen.procedure and screen.state
    session = screen.app.session  # type: ignore[attr-defined]
    as_of = screen.app.now()  # type: ignore[attr-defined]
    parts = [
        case_status(screen.case, screen.procedure, screen.state, session.calendar, as_of).plain,
        facts_content(screen.case, screen.procedure, screen.state, session.calendar, as_of).plain,
        *(stage_content(row).plain for row in screen.query_one("#timeline").rows),  # type: ignore[attr-defined]
    ]
    return "\n".join(parts)


async def list_ready(pilot: Pilot) -> CaseListScreen:
    """Wait for the unlocked case list (tolerating the moment before its table is composed)."""
    app = pilot.app

    def ready() -> bool:
        screen = app.screen
        if not isinstance(screen, CaseListScreen):
            return False
        try:
            return screen.table.loaded
        except NoMatches:
            return False

    await wait_until(pilot, ready, what="the case list")
    return await unlocked(pilot)


async def open_screen(pilot: Pilot, ref: str = STAGED_REF) -> CaseScreen:
    """Unlock, open a case from the list's app hook, and wait for it to be shown."""
    app = pilot.app
    await list_ready(pilot)
    app.open_case(ref)  # type: ignore[attr-defined]
    await wait_until(
        pilot,
        lambda: isinstance(app.screen, CaseScreen) and app.screen.case is not None,
        what="the case screen",
    )
    await settle(pilot)
    app.clear_notifications()  # the first sweep's notices are the list's business
    screen = app.screen
    assert isinstance(screen, CaseScreen)
    return screen


async def open_form(pilot: Pilot, key: str) -> FormScreen:
    """Press a case-screen key and wait for its form."""
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, FormScreen), what="a form")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, FormScreen)
    return screen


async def save(pilot: Pilot) -> None:
    """Press ctrl+s and wait for the write to finish."""
    await pilot.press("ctrl+s")
    await settle(pilot)


def stored(app: DslConsoleApp, ref: str = STAGED_REF) -> Case:
    """The case as the database holds it now."""
    assert app.session is not None
    with app.session.db.connection_context():
        return load_case(ref)


def reader_app(tmp_path: Path, clock: FakeClock, config: Config, make_app) -> DslConsoleApp:  # type: ignore[no-untyped-def]
    """The console for a read-only account on the seeded database."""
    make_app(cases=ALL_CASES)  # seeds tmp_path/cases.db
    path = tmp_path / "cases.db"
    session = open_session(path, config, Credentials(USER, PASSPHRASE), clock=clock)
    try:
        add_account(session, READER, Role.READ_ONLY, READER_PASSPHRASE, kdf_cost=FAST_KDF)
    finally:
        session.close()
    return create_app(
        path,
        config,
        clock=clock,
        credentials=Credentials(READER, READER_PASSPHRASE),
        kdf_cost=FAST_KDF,
    )


# -- the timeline ----------------------------------------------------------------------------------
async def test_timeline_lists_every_stage_in_order_with_what_happened(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot)
        rows = screen.query_one("#timeline").rows  # type: ignore[attr-defined]
        assert [r.number for r in rows] == [1, 2, 3, 4]
        assert [r.status for r in rows] == ["passed", SKIPPED, "current", NOT_REACHED]
        stage1, stage2, stage3, _stage4 = rows
        assert stage1.visits[0].timescale == MISSED
        assert stage1.visits[0].missed_reason == "Line manager on leave until Thursday."
        assert stage3.visits[0].due_reason == "LSCB representative asked for a week to consult."
        assert not stage2.visits and not stage2.events
        text = panel_text(screen)
        for seen in (
            "✓ Stage 1  Attempt resolution (incl. line manager)  [passed]",
            "Entered 02/11/2026 09:00",
            "✗ missed its timescale: Line manager on leave until Thursday.",
            "03/11/2026 10:00  Discussion  by Jo Lead",
            "Spoke with the social worker; referral still declined.",
            "↷ Stage 2  Organisation safeguarding representative  [skipped]",
            "Skipped: the case was escalated past this stage.",
            "▶ Stage 3  LSCB safeguarding representative  [current]",
            "Entered 09/11/2026 09:30",
            "Due     27/11/2026 17:00  (deadline set: LSCB representative asked",
            "… timescale pending",
            "09/11/2026 09:30  Escalated to stage 3  by Jo Lead",
            "18/11/2026 14:00  Deadline set: due 27/11/2026 17:00  by Jo Lead",
            "Reason: LSCB representative asked for a week to consult.",
            "10/11/2026 12:00  Action 1 agreed  by Jo Lead",
            "12/11/2026 15:00  Action 1 done  by Jo Lead",
            "23/11/2026 09:15  Immediate risk raised  by Jo Lead",
            "· Stage 4  LSCB Independent Chair  [not reached]",
        ):
            assert seen in text, seen


async def test_facts_show_the_child_the_countdown_flags_and_risk_in_words(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot)
        text = panel_text(screen)
        for seen in (
            "SCH-2026-020  Kit Example",
            "Stage 3 LSCB rep: 4 working days  [!!] immediate risk  [IRO] IRO notice due",
            "[!!] immediate risk",
            "[IRO] IRO notice due",
            "!! IMMEDIATE RISK: escalate today, before 17:00, using safeguarding procedures",
            "DOB: 02/05/2014 (age 12)",
            "Level of need: Section 47 (child protection)",
            "Marks: [CPP] on a child protection plan",
            "Other agency: Children's social care",
            "• Sam Worker (fictional) (Social worker, Children's social care,",
            "Referral declined as below threshold; school disagrees.",
            "1. [x] done 12/11/2026 15:00 Share the school's chronology (Jo Lead, by 13/11/2026",
            "2. [ ] open Arrange a mediation meeting (Sam Worker (fictional), by 25/11/2026",
        ):
            assert seen in text, seen
        # What is on the terminal itself, not only in the widgets' content.
        visible = screen_text(app)
        assert "Kit Example" in visible and "[IRO] IRO notice due" in visible


async def test_a_narrow_terminal_puts_the_facts_above_the_timeline(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot)
        assert screen.has_class("-narrow")
        facts, timeline = screen.query_one("#facts"), screen.query_one("#timeline")
        assert facts.region.y < timeline.region.y
        assert facts.region.width == timeline.region.width
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_screen(pilot)
        facts, timeline = screen.query_one("#facts"), screen.query_one("#timeline")
        assert facts.region.y == timeline.region.y and facts.region.x < timeline.region.x


async def test_light_theme_reads_too(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        app.theme = "textual-light"
        await settle(pilot)
        assert "[!!] immediate risk" in screen_text(app)


async def test_the_countdown_moves_with_the_clock(make_app, clock):
    # Minutes only: moving the clock further would (rightly) trip the idle lock.
    clock.set("2026-11-23 16:58")
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot, "SCH-2026-003")
        assert "Stage 1 Attempt resolution: due today 17:00  [T] due today" in panel_text(screen)
        clock.advance(minutes=3)
        screen.redraw()  # what the screen's own timer does every 30 seconds
        await settle(pilot)
        text = panel_text(screen)
        assert "Stage 1 Attempt resolution: overdue since 17:00  [OD] overdue" in text
        assert "✗ missed its timescale: no reason recorded yet (key m)" in text


async def test_escape_goes_back_to_the_list(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CaseListScreen)


async def test_a_case_that_cannot_be_read_says_so(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await list_ready(pilot)
        app.open_case("SCH-2099-999")
        await wait_until(pilot, lambda: isinstance(app.screen, CaseScreen))
        await settle(pilot)
        assert "The case could not be read: no case with ref SCH-2099-999" in screen_text(app)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)  # nothing to change: no form


async def test_viewing_a_case_is_audited(make_app):
    from dsl_console.store import audit

    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        assert app.session is not None
        with app.session.db.connection_context():
            lines = audit.lines(limit=5, ref=STAGED_REF)
        assert [line.action for line in lines][-1] == "case-viewed"


# -- keys and who may use them ---------------------------------------------------------------------
async def test_every_write_key_is_bound_with_an_id_and_a_tooltip(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot)
        bindings = {b.key: b for b in screen.BINDINGS}  # type: ignore[union-attr]
        for key in ("escape", "e", "x", "d", "r", "m", "a", "A", "o", "c", "p", "V", "E"):
            assert bindings[key].id and bindings[key].tooltip  # type: ignore[union-attr]
        # The footer keeps the everyday keys and help, at 80 columns too; help lists the rest.
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        for shown in (
            "esc Back",
            "e Event",
            "x Escalate",
            "r Resolve",
            "o Duty",
            "c Amend",
            "p People",
            "? Help",
            "^l Lock",  # the palette's entry gave way to it (Ctrl+P still opens the palette)
        ):
            assert shown in footer
        assert "palette" not in footer
        # With room for it, the palette's entry is back.
        await pilot.resize_terminal(120, 30)
        await settle(pilot)
        assert "^p palette" in screen_text(app).splitlines()[-1]


async def test_the_command_palette_offers_the_case_actions(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot)
        provider = CaseCommands(screen)
        titles = [hit.text async for hit in provider.discover()]
        assert "Escalate to a higher stage" in titles and "Mark an action done" in titles
        hits = [hit async for hit in provider.search("escalate")]
        assert hits
        await hits[0].command()  # type: ignore[misc]
        await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.TITLE_TEXT == "Escalate to a higher stage"


async def test_a_read_only_account_sees_the_keys_disabled_and_is_refused(
    tmp_path, clock, config, make_app
):
    app = reader_app(tmp_path, clock, config, make_app)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot)
        assert READ_ONLY_NOTE in screen_text(app).replace("\n ", " ")
        for action in ("record_event", "escalate", "set_deadline", "resolve", "add_action"):
            assert screen.check_action(action, ()) is None  # shown disabled in the footer
        for key in ("e", "x", "d", "r", "m", "a", "A"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen, key
        # Even a form reached some other way cannot write: the service refuses, in place.
        from dsl_console.ui.forms.record_event import RecordEventForm

        assert screen.case and screen.procedure and screen.state
        app.push_screen(RecordEventForm(screen.case, screen.procedure, screen.state))
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#note").load_text("Should not be saved.")  # type: ignore[attr-defined]
        await save(pilot)
        assert app.screen is form
        assert form.errors[""] == (
            "✗ Ro.viewer has a read-only account and cannot change records "
            "(a DSL or deputy account can)"
        )
        assert len(stored(app).events) == len(STAGED.events)
        # Nor does the command palette offer the changes.
        assert [hit async for hit in CaseCommands(screen).discover()] == []


async def test_a_resolved_case_keeps_only_the_record_keys(make_app):
    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot, "SCH-2026-006")
        assert screen.check_action("escalate", ()) is None
        assert screen.check_action("resolve", ()) is None
        assert screen.check_action("set_deadline", ()) is None
        assert screen.check_action("record_event", ()) is True
        assert "resolved 10/11/2026 15:00" in panel_text(screen)


async def test_locking_takes_the_case_off_the_screen_and_unlocking_brings_it_back(make_app):
    from dsl_console.ui.screens.unlock import UnlockScreen

    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, UnlockScreen), what="the lock")
        await settle(pilot)
        assert screen.case is None  # nothing about the child is held by the covered screen
        assert "Kit Example" not in str(screen.query_one("#facts").render())
        await pilot.press(*PASSPHRASE, "enter")
        await wait_until(
            pilot,
            lambda: app.screen is screen and screen.case is not None,
            what="the case again",
        )
        await settle(pilot)
        assert "Kit Example" in screen_text(app)
