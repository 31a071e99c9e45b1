"""The background sweep in the console: notices once per flag, flags as the clock moves, and
changes written by another process."""

from __future__ import annotations

from dataclasses import replace

from console_kit import (
    at,
    case_doc,
    in_another_process,
    make_case,
    notices,
    settle,
    table_lines,
    unlocked,
    wait_until,
)

from dsl_console.ui.screens.case_list import CaseListScreen
from dsl_console.ui.widgets.flag_summary import FlagSummary
from tests.conftest import process_running


def row_of(screen: CaseListScreen, ref: str) -> str:
    for line in table_lines(screen.table):
        if line.startswith(ref):
            return line
    raise AssertionError(f"{ref} is not on screen")


def header(screen: CaseListScreen) -> str:
    return str(screen.query_one(FlagSummary).render())


async def sweep(pilot) -> None:  # type: ignore[no-untyped-def]
    """What the sweep timer does, without waiting a minute for it.

    The clock has just been moved by hours or days; the DSL is taken to be at the keyboard
    meanwhile, or the idle lock (tested on its own) would cover the list.
    """
    pilot.app.note_activity()
    pilot.app.request_sweep()
    await settle(pilot)


async def test_new_flags_are_announced_once_with_what_to_do(make_app):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        shown = notices(app)
        assert (
            "SCH-2026-001: immediate risk: escalate today, before 17:00, using safeguarding "
            "procedures" in shown
        )
        # The rest, already counted in the header, are summed up rather than listed.
        assert any(
            n.startswith("3 more cases flagged (1 overdue, 1 due today, 1 IRO notice due)")
            for n in shown
        )
        assert not any("Ada Example" in n for n in shown)  # refs only, never names
        assert app.bell_count == 1
        await sweep(pilot)
        await sweep(pilot)
        assert notices(app) == shown
        assert app.bell_count == 1


async def test_flags_appear_and_clear_across_five_pm_midnight_and_the_weekend(make_app, clock):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        app.clear_notifications()

        # 17:01 Monday: the stage due at 17:00 is now overdue, and the same-day risk deadline
        # has passed, so the risk is announced again with the out-of-hours route.
        clock.set("2026-11-23 17:01")
        await sweep(pilot)
        shown = notices(app)
        assert any(n.startswith("SCH-2026-003: stage 1 overdue since 17:00") for n in shown)
        assert (
            "SCH-2026-001: immediate risk: escalate now: out of hours, call the emergency "
            "duty team or the police" in shown
        )
        assert app.bell_count == 2
        assert "overdue since 17:00" in row_of(screen, "SCH-2026-003")
        assert " OD " in row_of(screen, "SCH-2026-003")
        assert "OD 2 overdue" in header(screen) and "T 0 due today" in header(screen)

        # Just after midnight: Ada's stage 1 (by day 2) is due today; nothing else is new.
        app.clear_notifications()
        clock.set("2026-11-24 00:01")
        await sweep(pilot)
        assert notices(app) == [
            "SCH-2026-001: stage 1 due today 17:00: resolve, escalate or record the outcome today"
        ]
        assert "overdue 1 working day" in row_of(screen, "SCH-2026-003")

        # The risk is escalated from another console: the flag clears in place.
        app.clear_notifications()
        clock.set("2026-11-24 09:30")
        in_another_process(
            app.db_path,
            clock(),
            events=[("SCH-2026-001", {"at": clock().isoformat(), "kind": "risk-escalated"})],
        )
        await sweep(pilot)
        assert "!!" not in row_of(screen, "SCH-2026-001")
        assert "!! 0 immediate risk" in header(screen)
        assert notices(app) == []

        # Saturday: Thursday's and Friday's dues have passed over the weekend.
        clock.set("2026-11-28 10:00")
        await sweep(pilot)
        shown = notices(app)
        assert any(n.startswith("SCH-2026-004: stage 1 overdue 1 working day") for n in shown)
        assert any(n.startswith("SCH-2026-007: stage 2 overdue since 17:00") for n in shown)
        assert "overdue since 17:00" in row_of(screen, "SCH-2026-007")


async def test_bank_holidays_are_not_working_days(make_app, clock):
    # Opened on Christmas Eve (Thursday): day 1 is that day, day 2 is Tuesday 29 December,
    # after Christmas Day and the Boxing Day holiday moved to Monday 28th.
    clock.set("2026-12-24 10:00")
    case = make_case("SCH-2026-101", "Kit Example", "2026-12-24 09:00")
    app = make_app([case])
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        app.clear_notifications()

        clock.set("2026-12-25 12:00")
        await sweep(pilot)
        assert notices(app) == []
        assert "1 working day" in row_of(screen, "SCH-2026-101")

        # A child at immediate risk on a bank holiday: out of hours at once, and the bell.
        in_another_process(
            app.db_path,
            clock(),
            cases=[case_doc("SCH-2026-102", "Lux Sample", clock(), immediate_risk=True)],
        )
        await sweep(pilot)
        assert notices(app) == [
            "SCH-2026-102: immediate risk: escalate now: out of hours, call the emergency duty "
            "team or the police"
        ]
        assert app.bell_count == 1
        assert screen.table.visible_refs()[0] == "SCH-2026-102"

        app.clear_notifications()
        clock.set("2026-12-28 10:00")
        await sweep(pilot)
        assert notices(app) == []

        clock.set("2026-12-29 08:00")
        await sweep(pilot)
        assert notices(app) == [
            "SCH-2026-101: stage 1 due today 17:00: resolve, escalate or record the outcome today"
        ]
        assert " T " in row_of(screen, "SCH-2026-101")


async def test_a_case_added_by_another_process_shows_up_flagged_on_its_own(make_app, clock, config):
    # A one-second sweep period: nothing here asks for a sweep or presses a key.
    app = make_app(config=replace(config, scan_seconds=1))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        await pilot.press("down", "down", "down")
        assert screen.table.selected_ref == "SCH-2026-004"
        app.clear_notifications()
        bells = app.bell_count

        in_another_process(
            app.db_path,
            clock(),
            cases=[
                case_doc("SCH-2026-050", "Jude Sample", at("2026-11-23 10:55"), immediate_risk=True)
            ],
        )
        await wait_until(
            pilot,
            lambda: any(n.startswith("SCH-2026-050: immediate risk") for n in notices(app)),
            what="the new case's notice",
        )
        await settle(pilot)
        assert app.bell_count == bells + 1
        assert screen.table.visible_refs()[:2] == ["SCH-2026-001", "SCH-2026-050"]
        assert "!!" in row_of(screen, "SCH-2026-050")
        assert "!! 2 immediate risk" in str(screen.query_one(FlagSummary).render())
        # The highlight stayed on the case the user was on, though it moved down a row.
        assert screen.table.selected_ref == "SCH-2026-004"


async def test_many_new_risks_ring_once_and_are_not_a_wall_of_notices(make_app):
    cases = [
        make_case(f"SCH-2026-2{n:02d}", "Eli Sample", "2026-11-23 09:00", immediate_risk=True)
        for n in range(8)
    ]
    app = make_app(cases)
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        shown = notices(app)
        assert [n.split(":")[0] for n in shown[:5]] == [f"SCH-2026-2{n:02d}" for n in range(5)]
        assert shown[5].startswith("3 more cases flagged (3 immediate risk)")
        assert len(shown) == 6
        assert app.bell_count == 1


async def test_the_sweep_runs_in_a_process_of_its_own_that_locking_ends(make_app, monkeypatch):
    # A second of sweep work at 100,000 cases held the interpreter against typing when it ran
    # in a thread of the console; the process also holds the database key, so locking ends it.
    import os

    from dsl_console.services import sweep_process

    swept_here: list[object] = []
    monkeypatch.setattr(sweep_process, "sweep", lambda *args: swept_here.append(args))
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        shown = notices(app)
        assert any(n.startswith("SCH-2026-001: immediate risk") for n in shown)
        await sweep(pilot)
        assert notices(app) == shown  # still announced once, across sweeps in the process
        assert swept_here == []  # none of the sweeping happened in the console's process
        process = app.sweeper
        assert isinstance(process, sweep_process.SweepProcess) and process.pid is not None
        pid = process.pid
        assert pid != os.getpid() and process_running(pid)
        # Only the news crosses to the console, not what was announced for every case.
        assert app.last_sweep is not None and app.last_sweep.news.announced == {}

        await pilot.press("ctrl+l")
        await settle(pilot)
        await app.workers.wait_for_complete()
        assert app.sweeper is None
        assert not process_running(pid)


async def test_a_sweep_process_that_dies_is_reported_and_started_again(make_app, clock):
    import os
    import signal

    from dsl_console.services.sweep_process import SweepProcess

    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        process = app.sweeper
        assert isinstance(process, SweepProcess) and process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        app.clear_notifications()
        await sweep(pilot)
        shown = notices(app)
        assert any("the background sweep stopped unexpectedly" in n for n in shown), shown

        # The next sweep starts a new process, which sees a case added meanwhile.
        in_another_process(
            app.db_path,
            clock(),
            cases=[case_doc("SCH-2026-060", "Rue Sample", clock(), immediate_risk=True)],
        )
        await sweep(pilot)
        assert any(n.startswith("SCH-2026-060: immediate risk") for n in notices(app))
        assert process.pid is not None and process_running(process.pid)


async def test_where_no_process_can_start_the_sweep_runs_off_the_ui_thread(make_app, monkeypatch):
    import threading

    from dsl_console.services import helpers, sweep_process
    from dsl_console.services.announcing import FlagMemory

    def refused() -> None:
        raise OSError("no processes here")

    monkeypatch.setattr(helpers, "context", refused)
    on_ui_thread: list[bool] = []
    real = FlagMemory.compare

    def watched(self, results, as_of, calendar):  # type: ignore[no-untyped-def]
        on_ui_thread.append(threading.current_thread() is threading.main_thread())
        return real(self, results, as_of, calendar)

    monkeypatch.setattr(FlagMemory, "compare", watched)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        shown = notices(app)
        assert any(n.startswith("SCH-2026-001: immediate risk") for n in shown)
        assert not any("went wrong" in n for n in shown)
        await sweep(pilot)
        assert notices(app) == shown  # still announced once
        assert isinstance(app.sweeper, sweep_process.LocalSweeper)
        assert on_ui_thread and not any(on_ui_thread)
        # Only the flagged cases are remembered between sweeps, not every open case.
        remembered = app.last_sweep.news.announced
        assert "SCH-2026-001" in remembered and "SCH-2026-004" not in remembered


async def test_a_notice_goes_when_its_case_is_acted_on_and_ctrl_d_clears_the_rest(make_app):
    from dsl_console.core.records import Event, EventKind
    from dsl_console.services.casebook import record_event

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        risk = "SCH-2026-001: immediate risk: escalate today"
        assert any(n.startswith(risk) for n in notices(app))
        # The risk escalated (here from the console's own session): its notice goes at once,
        # not a minute later over the rows.
        assert app.session is not None
        with app.session.db.connection_context():
            record_event(
                app.session,
                "SCH-2026-001",
                Event(app.now(), EventKind.RISK_ESCALATED, by="Jo Lead", note="MASH told."),
            )
        app.case_changed("SCH-2026-001")
        await settle(pilot)
        assert not any(n.startswith(risk) for n in notices(app))
        assert notices(app)  # the summary of the others is still up
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert notices(app) == []
        # And the flags are still counted where they always are.
        assert "overdue" in header(app.screen)  # type: ignore[arg-type]


async def test_notices_sit_under_the_rows_never_over_them_at_80_by_24(make_app):
    from textual.widgets._toast import Toast

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await unlocked(pilot)
        bar = screen.notice_bar  # type: ignore[attr-defined]
        assert any(n.startswith("SCH-2026-001: immediate risk") for n in notices(app))
        assert not list(app.screen.query(Toast))  # nothing floats over the list
        table = screen.table  # type: ignore[attr-defined]
        assert table.region.bottom <= bar.region.y  # the rows end where the notices begin
        assert 0 < bar.region.height <= 5
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert not bar.display and notices(app) == []


async def test_a_risk_escalated_in_another_console_takes_its_notice_down(make_app, clock):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        risk = "SCH-2026-001: immediate risk"
        assert any(n.startswith(risk) for n in notices(app))
        in_another_process(
            app.db_path,
            clock(),
            events=[
                (
                    "SCH-2026-001",
                    {"at": clock().isoformat(), "kind": "risk-escalated", "note": "MASH told."},
                )
            ],
        )
        await sweep(pilot)
        assert not any(n.startswith(risk) for n in notices(app))


async def test_a_notice_raised_over_a_case_moves_under_the_rows_back_on_the_list(make_app):
    from textual.widgets._toast import Toast

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await unlocked(pilot)
        app.clear_notifications()
        app.open_case("SCH-2026-004")
        await settle(pilot)
        app.announce(
            "SCH-2026-004", "SCH-2026-004: stage 1 due today", risk=False, severity="warning"
        )
        await settle(pilot)
        assert app._notifications  # over the case screen: a toast
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert not list(app.screen.query(Toast)) and not app._notifications
        assert [n.text for n in screen.notice_bar.notices] == ["SCH-2026-004: stage 1 due today"]


async def test_a_risk_written_by_another_process_shows_within_seconds_without_a_sweep_timer(
    make_app, clock
):
    # The minute's sweep is not what brings another DSL's change in: the console notices the
    # write (SQLite's data_version) and sweeps at once.
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        assert app.config.scan_seconds >= 60  # the sweep timer would take a minute
        app.clear_notifications()
        in_another_process(
            app.db_path,
            clock(),
            cases=[case_doc("SCH-2026-070", "Rue Sample", clock(), immediate_risk=True)],
        )
        await wait_until(
            pilot,
            lambda: any(n.startswith("SCH-2026-070: immediate risk") for n in notices(app)),
            what="the other process's risk announced",
            timeout=10,
        )
        assert "SCH-2026-070" in app.case_list.table.visible_refs()  # type: ignore[union-attr]


async def test_a_risk_hidden_in_the_stored_state_stays_announced_and_is_put_right(make_app, clock):
    # Security: a write outside the console, with the key, clears the stored risk of the
    # child at immediate risk and takes the case off the list. The console's next sweep
    # judges it from its events, as `check` does: the risk stays announced, and the stored
    # state is worked out again on the record, without waiting for the hourly replay.
    from dsl_console.store import audit
    from dsl_console.store.cases import suspect_states

    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        risk = "SCH-2026-001: immediate risk: escalate today"
        await wait_until(pilot, lambda: any(n.startswith(risk) for n in notices(app)), what="risk")
        session = app.session
        with session.db.connection_context():
            session.db.execute_sql(
                "UPDATE escalation SET risk_due_at = NULL, is_live = 0, urgency = 2 "
                "WHERE ref = 'SCH-2026-001'"
            )
        clock.advance(minutes=2)  # the next sweep looks for stored states again
        await sweep(pilot)
        await wait_until(
            pilot,
            lambda: any("did not match the history recorded" in n for n in notices(app)),
            what="the correction",
        )
        assert any(n.startswith(risk) for n in notices(app))
        await settle(pilot)
        assert any(line.startswith("SCH-2026-001") for line in table_lines(screen.table))
        with session.db.connection_context():
            assert suspect_states() == []
            assert "repair" in [line.action for line in audit.lines(limit=3)]


async def test_after_unlocking_again_the_flags_are_summed_up_as_at_the_first_unlock(make_app):
    # A walkthrough re-unlocked with a form open: every flagged case came back as a toast of
    # its own, covering the form, where the first unlock had summed them up.
    from console_kit import PASSPHRASE
    from textual.widgets import Input

    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        first = notices(app)
        app.clear_notifications()
        await pilot.press("ctrl+l")
        await settle(pilot)
        app.screen.query_one("#unlock-passphrase", Input).value = PASSPHRASE
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(notices(app)), what="the sweep after unlocking")
        await settle(pilot)
        again = notices(app)
        assert sorted(again) == sorted(first)
        assert any(n.startswith("3 more cases flagged") for n in again)


async def test_a_sweep_s_news_arriving_as_the_list_is_taken_down_is_not_a_crash(make_app):
    # Once the first sweep's answer came in 0.02 s, a CI run caught it arriving as the console
    # closed: the list had no notice bar any more, and the news handler failed on that.
    from dsl_console.ui.messages import SweepFinished

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await unlocked(pilot)
        swept = app.last_sweep
        assert swept is not None and swept.news.notices
        count = app.sweep_count
        await screen.remove_children()  # the list taken down, as at closing
        app.post_message(SweepFinished(swept.as_of, swept.news))
        await wait_until(pilot, lambda: app.sweep_count == count + 1, what="the news handled")
        await settle(pilot)
        # Its notices are not lost: with no bar to hold them, they are toasts.
        assert any("immediate risk" in n.message for n in app._notifications)
