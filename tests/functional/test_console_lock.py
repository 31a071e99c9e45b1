"""The idle lock: case data leaves the screen, the key leaves memory, unsaved work survives."""

from __future__ import annotations

from console_kit import PASSPHRASE, USER, notices, settle, table_lines, unlocked, wait_until
from test_case_screen import screen_text
from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from dsl_console.store import audit
from dsl_console.ui.screens.case_list import CaseListScreen
from dsl_console.ui.screens.unlock import UnlockMode, UnlockScreen
from dsl_console.ui.widgets.flag_summary import FlagSummary


class HalfWrittenNote(ModalScreen[None]):
    """Stands in for any form left open with unsaved text."""

    def compose(self) -> ComposeResult:
        yield Input(id="note")


def is_locked(app) -> bool:  # type: ignore[no-untyped-def]
    return isinstance(app.screen, UnlockScreen) and app.screen.mode == UnlockMode.LOCKED


def audit_actions(app) -> list[str]:  # type: ignore[no-untyped-def]
    with app.session.db.connection_context():
        return [line.action for line in audit.lines(limit=10)]


async def test_idle_lock_hides_cases_forgets_the_key_and_unlocks(make_app, clock):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        session = app.session
        held = session.db._key  # the key as SQLCipher takes it, in its buffer
        clock.advance(minutes=4, seconds=59)
        app.check_idle_lock()
        assert not is_locked(app)

        clock.advance(seconds=1)
        app.check_idle_lock()
        await settle(pilot)
        assert is_locked(app)
        assert app.session is None
        assert not session.db._key and held == bytes(len(held))  # the key's buffer wiped
        assert app.screen.query_one("#unlock-user", Input).value == USER
        # The account is shown as text, not in a box that looks as if it could be typed in.
        assert not app.screen.query_one("#unlock-user", Input).display
        assert f"User name: {USER}" in screen_text(app)
        # Nothing about any case remains on the list underneath or in a notification.
        assert screen.table.total == 0 and not screen.table._pages
        assert str(screen.query_one(FlagSummary).render()) == ""
        assert notices(app) == []
        # While locked, the sweep says nothing.
        clock.set("2026-11-23 17:30")
        app.request_sweep()
        await settle(pilot)
        assert notices(app) == []

        await pilot.press(*PASSPHRASE, "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CaseListScreen), what="the list")
        await settle(pilot)
        assert app.session is not None
        assert screen.table.visible_refs()[0] == "SCH-2026-001"
        assert audit_actions(app)[:2] == ["login", "lock"]


async def test_wrong_passphrase_keeps_it_locked(make_app, clock):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        app.action_lock()
        await settle(pilot)
        await pilot.press(*"not the passphrase", "enter")
        await wait_until(
            pilot,
            lambda: (
                "wrong user name or passphrase"
                in str(app.screen.query_one("#unlock-error", Static).render()).lower()
            ),
            what="the refusal",
        )
        assert is_locked(app) and app.session is None


async def test_unsaved_form_survives_the_lock(make_app, clock):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        form = HalfWrittenNote()
        await app.push_screen(form)
        await pilot.press(*"Called the duty social worker")
        clock.advance(minutes=6)
        app.check_idle_lock()
        await settle(pilot)
        assert is_locked(app)
        await pilot.press(*PASSPHRASE, "enter")
        await wait_until(pilot, lambda: app.screen is form, what="the form again")
        assert form.query_one("#note", Input).value == "Called the duty social worker"


async def test_key_presses_keep_it_unlocked_and_the_timer_locks_on_its_own(make_app, clock):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        clock.advance(minutes=4)
        await pilot.press("down")
        clock.advance(minutes=4)
        app.check_idle_lock()
        assert not is_locked(app)
        # Nobody touches anything: the idle timer notices by itself.
        clock.advance(minutes=2)
        await wait_until(pilot, lambda: is_locked(app), what="the idle lock")
        assert "SCH-2026" not in "".join(table_lines(screen.table))


async def test_lock_key(make_app):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert is_locked(app)


async def test_ctrl_l_locks_over_a_form_a_question_and_help_and_keeps_the_form(make_app):
    # A tmux walkthrough: Ctrl+L did nothing while a form was open (or a question, or help):
    # Textual looks no further than a modal screen for a key's binding.
    from test_case_screen import ALL_CASES, open_form, open_screen
    from textual.widgets import TextArea

    from dsl_console.ui.forms.confirm import ConfirmScreen

    app = make_app(cases=ALL_CASES)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_screen(pilot)
        form = await open_form(pilot, "e")
        form.query_one("#note", TextArea).focus()
        await pilot.press(*"Rang SW", "ctrl+l")
        await wait_until(pilot, lambda: is_locked(app), what="the lock over the form")
        assert "Rang SW" not in screen_text(app)
        await pilot.press(*PASSPHRASE, "enter")
        await wait_until(pilot, lambda: app.screen is form, what="the form again")
        assert form.query_one("#note", TextArea).text == "Rang SW"
        await pilot.press("escape")  # "Throw away what you have typed?"
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="a question")
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: is_locked(app), what="the lock over the question")


async def test_quitting_as_the_idle_lock_fires_ends_cleanly(make_app, clock):
    # The idle timer can fire in the same moment as Ctrl+Q: the lock screen is then taken down
    # before it has mounted, and the console must close without an error (CI once caught the
    # lock screen looking for its passphrase box after it had gone).
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        clock.advance(minutes=11)
        app.check_idle_lock()
        assert is_locked(app)
        app.exit()
    assert app.return_code in (0, None)
    assert not getattr(app, "_dsl_error_times", []), "an error dialog was raised while closing"
