"""Unlocking the console: credentials given, typed, wrong, and the first run."""

from __future__ import annotations

import gc
import sys

import pytest
from console_kit import FAST_KDF, OPEN_ORDER, PASSPHRASE, USER, settle, unlocked, wait_until
from textual.widgets import Input, Static

from dsl_console.store import audit
from dsl_console.ui.screens.unlock import UnlockMode, UnlockScreen


def error_text(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one("#unlock-error", Static).render()).lower()


async def unlock_screen_up(pilot, what: str, *, settled: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Wait for the unlock screen (and, unless told not to, for it to settle)."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, UnlockScreen), what=what)
    if settled:
        await settle(pilot)


async def test_given_credentials_open_straight_onto_the_list(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await unlocked(pilot)
        assert screen.table.visible_refs() == OPEN_ORDER
        assert app.session is not None and app.session.user == USER
        assert USER in app.sub_title and "Example Primary School" in app.sub_title


async def test_typed_user_and_passphrase_unlock(make_app):
    app = make_app(unlocked=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock_screen_up(pilot, "unlock", settled=False)
        assert app.screen.query_one("#unlock-user", Input).has_focus
        await pilot.press(*USER, "enter")  # enter moves on to the passphrase
        assert app.screen.query_one("#unlock-passphrase", Input).has_focus
        await pilot.press(*PASSPHRASE, "enter")
        screen = await unlocked(pilot)
        assert screen.table.visible_refs() == OPEN_ORDER


async def test_wrong_passphrase_is_refused_in_place(make_app):
    app = make_app(unlocked=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock_screen_up(pilot, "unlock", settled=False)
        await pilot.press(*USER, "enter", *"a wrong passphrase", "enter")
        await wait_until(
            pilot, lambda: "wrong user name or passphrase" in error_text(app), what="refusal"
        )
        assert app.session is None
        passphrase = app.screen.query_one("#unlock-passphrase", Input)
        assert passphrase.value == "" and passphrase.has_focus
        # A second try with the right one works.
        await pilot.press(*PASSPHRASE, "enter")
        await unlocked(pilot)


async def test_wrong_credentials_from_the_environment_fall_back_to_the_form(make_app, tmp_path):
    from dataclasses import replace

    app = make_app()
    app.credentials = replace(app.credentials, passphrase="not the passphrase at all")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot, lambda: "wrong user name or passphrase" in error_text(app), what="refusal"
        )
        assert isinstance(app.screen, UnlockScreen) and app.session is None


async def test_an_unlock_begun_before_the_console_opens_straight_onto_the_list(
    make_app, monkeypatch
):
    # `dsl-console` with credentials in its environment unlocks while the console is built.
    shown = []
    monkeypatch.setattr(UnlockScreen, "on_mount", lambda screen: shown.append(screen))
    app = make_app(early=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await unlocked(pilot)
        assert screen.table.visible_refs() == OPEN_ORDER
        # No unlock screen was drawn in between, and the account was unlocked once.
        assert shown == []
        with app.session.db.connection_context():
            assert [line.action for line in audit.lines(limit=10)].count("login") == 1


async def test_an_early_unlock_refused_shows_the_unlock_screen_with_why(
    make_app, tmp_path, clock, config
):
    from dsl_console.services.opening import Opener
    from dsl_console.services.session import Credentials
    from dsl_console.store.keyslots import keys_path, pending_failures
    from dsl_console.ui.app import create_app

    make_app()  # the seeded database
    path = tmp_path / "cases.db"
    wrong = Credentials(USER, "not the passphrase at all")
    app = create_app(
        path,
        config,
        clock=clock,
        credentials=wrong,
        kdf_cost=FAST_KDF,
        early=Opener(path, config, clock, FAST_KDF).begin(wrong),
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot, lambda: "wrong user name or passphrase" in error_text(app), what="refusal"
        )
        assert isinstance(app.screen, UnlockScreen) and app.session is None
        assert app.screen.query_one("#unlock-user", Input).value == USER
        # The refusal was the early attempt's: the screen did not try the same passphrase
        # again (each try is noted for the account holder).
        assert len(pending_failures(keys_path(path)).notes) == 1
        await pilot.press(*PASSPHRASE, "enter")
        await unlocked(pilot)


async def test_an_early_unlock_still_under_way_shows_unlocking_then_the_list(make_app, monkeypatch):
    import threading

    from dsl_console.services import opening

    # The cached states being brought up to date after an upgrade can take seconds at
    # 100,000 cases: the console says it is unlocking meanwhile, rather than show nothing.
    held = threading.Event()
    real = opening.open_session

    def slow_open(*args, **kwargs):  # type: ignore[no-untyped-def]
        held.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(opening, "open_session", slow_open)
    app = make_app(early=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock_screen_up(pilot, "unlocking", settled=False)
        assert "unlocking" in error_text(app)
        held.set()
        screen = await unlocked(pilot)
        assert screen.table.visible_refs() == OPEN_ORDER


@pytest.mark.parametrize("early", [True, False], ids=["begun-early", "on-the-unlock-screen"])
async def test_once_unlocked_nothing_in_the_console_holds_the_passphrase_given(
    make_app, tmp_path, clock, config, early
):
    """A passphrase from DSL_CONSOLE_PASSPHRASE or its file is the console's only until the
    unlock: a process that dumps or scans the console's memory later must not find it held.
    (The app once kept it for as long as it ran.)"""
    from dsl_console.services.opening import Opener
    from dsl_console.services.session import Credentials
    from dsl_console.ui.app import create_app

    make_app()  # the seeded database
    path = tmp_path / "cases.db"
    passphrase = "".join(list(PASSPHRASE))  # an object of this test's own, not the constant
    held_by_this_test = sys.getrefcount(passphrase)
    credentials = Credentials(USER, passphrase)
    app = create_app(
        path,
        config,
        clock=clock,
        credentials=credentials,
        kdf_cost=FAST_KDF,
        early=Opener(path, config, clock, FAST_KDF).begin(credentials) if early else None,
    )
    del credentials  # as `dsl-console` lets go once the console is built
    async with app.run_test(size=(100, 30)) as pilot:
        await unlocked(pilot)
        gc.collect()
        assert sys.getrefcount(passphrase) == held_by_this_test
        await pilot.press("ctrl+l")
        await unlock_screen_up(pilot, "the lock")
        gc.collect()
        assert sys.getrefcount(passphrase) == held_by_this_test


async def test_first_run_creates_the_first_dsl_account(make_app):
    app = make_app(seed_db=False, unlocked=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await unlock_screen_up(pilot, "first run", settled=False)
        assert app.screen.mode == UnlockMode.FIRST_RUN
        assert not app.db_path.exists()
        await pilot.press(*"sam.lead", "enter", *"short", "enter")
        assert "at least 10 characters" in error_text(app)
        passphrase = app.screen.query_one("#unlock-passphrase", Input)
        assert passphrase.has_focus
        passphrase.value = ""
        # Enter moves field to field, through who the DSL is, and creates from the last.
        await pilot.press(*"three random words", "enter", *"three random wordz", "enter")
        await pilot.press(*"Sam Lead", "enter", *"Designated Safeguarding Lead", "enter")
        await pilot.press("enter")
        assert "differ" in error_text(app)
        app.screen.query_one("#unlock-repeat", Input).value = ""
        app.screen.query_one("#unlock-repeat", Input).focus()
        await pilot.press(*"three random words", "enter", "enter", "enter")
        await pilot.press(*"sam.lead@school.example", "enter")
        screen = await unlocked(pilot)
        assert app.db_path.exists()
        assert app.session.user == "sam.lead" and app.session.can_write
        # The forms name the DSL by their full name from the first day.
        assert app.session.display_name == "Sam Lead"
        assert app.session.profile.job_title == "Designated Safeguarding Lead"
        assert app.session.profile.email == "sam.lead@school.example"
        assert screen.table.visible_refs() == []
        assert "No cases in this view." in screen.table.render_line(1).text


async def test_demo_shows_its_passphrase(make_app):
    app = make_app(unlocked=False, demo=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock_screen_up(pilot, "unlock")
        hint = str(app.screen.query_one("#unlock-hint", Static).render())
        assert '"demo passphrase"' in hint


async def test_quit_from_the_list_exits_zero(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlocked(pilot)
        await pilot.press("q")
    assert app.return_code == 0
    assert app.session is None


async def test_the_first_run_says_what_the_console_is_for_where_its_files_are_and_how_to_start(
    make_app,
):
    app = make_app(seed_db=False, unlocked=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock_screen_up(pilot, "first run")
        intro = str(app.screen.query_one("#unlock-intro", Static).render())
        assert "tracks the escalations your school makes to other agencies" in intro
        assert f"Database (created now, encrypted): {app.db_path}" in intro
        assert "Settings:" in intro
        assert "n opens a new case" in intro and "? lists every key" in intro
        # The box opens at its top on a short terminal: the explanation is what is seen first.
        assert app.screen.query_one("#unlock-title").region.y >= 0
        assert app.screen.query_one("#unlock-intro").region.height > 0


async def test_the_demo_says_demo_on_every_screen_and_the_real_console_never_does(make_app):
    from dsl_console.ui.widgets.demo_mark import DemoMark

    def marked() -> bool:
        return bool(pilot.app.screen.query(DemoMark))

    for demo in (True, False):
        app = make_app(demo=demo)
        async with app.run_test(size=(80, 24)) as pilot:
            await unlocked(pilot)
            seen = {"list": marked()}
            await pilot.press("question_mark")
            await settle(pilot)
            seen["help"] = marked()
            await pilot.press("escape", "E")
            await settle(pilot)
            seen["export"] = marked()
            await pilot.press("escape", "n")
            await settle(pilot)
            seen["new case"] = marked()
            await pilot.press("escape")
            await settle(pilot)
            app.open_case(OPEN_ORDER[0])  # type: ignore[attr-defined]
            await settle(pilot)
            seen["case"] = marked()
            await pilot.press("e")
            await settle(pilot)
            seen["a form"] = marked()
            assert seen == dict.fromkeys(seen, demo), (demo, seen)


async def test_on_a_server_the_login_name_is_offered_and_the_passphrase_still_asked(
    make_app, monkeypatch
):
    # Started through `sudo -u` from a DSL's own OS login (README: the DSL team).
    import pwd

    login = pwd.getpwnam("nobody")
    monkeypatch.setenv("SUDO_USER", login.pw_name)
    monkeypatch.setenv("SUDO_UID", str(login.pw_uid))
    app = make_app(unlocked=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock_screen_up(pilot, "unlock")
        assert app.screen.query_one("#unlock-user", Input).value == "nobody"
        assert app.screen.query_one("#unlock-passphrase", Input).has_focus
        assert app.session is None


async def test_a_user_name_given_alone_is_offered_and_the_passphrase_asked(
    make_app, tmp_path, clock, config
):
    # DSL_CONSOLE_USER without a passphrase (a shared login's profile sets the name).
    from dsl_console.ui.app import create_app

    make_app()  # the seeded database
    app = create_app(tmp_path / "cases.db", config, clock=clock, kdf_cost=FAST_KDF, user=USER)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock_screen_up(pilot, "unlock", settled=False)
        assert app.screen.query_one("#unlock-user", Input).value == USER
        assert app.screen.query_one("#unlock-passphrase", Input).has_focus
        await pilot.press(*PASSPHRASE, "enter")
        await unlocked(pilot)
