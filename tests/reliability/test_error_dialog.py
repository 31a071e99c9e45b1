"""An exception in a handler, an action or a worker shows the error dialog; the console keeps
running and the form underneath keeps every character typed into it.

The guard is exercised on a small form screen built like the console's (ErrorGuard first in
its bases) inside an app that mixes in AppErrorGuard, and on the console itself.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Button, Input, Static, TextArea

from dsl_console.errors import StoreError
from dsl_console.ui.error_dialog import AppErrorGuard, ErrorDialog, ErrorGuard, error_line

PERSONAL = "Ada Example"  # must never reach the screen through an exception's text


class FormLike(ErrorGuard, Screen[None]):
    """A form with typed text and three ways to fail."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+b", "broken", "Broken")]

    def compose(self) -> ComposeResult:
        yield Input(id="name")
        yield TextArea(id="note")
        yield Button("Handler", id="handler")
        yield Button("Worker", id="worker")
        yield Button("Refused", id="refused")
        yield Button("Fine", id="fine")
        yield Static("", id="status")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "handler":
            raise KeyError(PERSONAL)
        if event.button.id == "worker":
            self.failing_write()
        elif event.button.id == "refused":
            raise StoreError("the disk is full (or failing); nothing was written")
        else:
            self.query_one("#status", Static).update("still answering")

    def action_broken(self) -> None:
        raise ValueError(f"bad date for {PERSONAL}")

    @work(thread=True, exclusive=True, exit_on_error=False, group="write")
    def failing_write(self) -> None:
        raise RuntimeError(f"cannot save the note about {PERSONAL}")


class GuardedApp(AppErrorGuard, App[None]):
    def on_mount(self) -> None:
        self.push_screen(FormLike())


async def _type_into_form(pilot) -> FormLike:  # type: ignore[no-untyped-def]
    screen = pilot.app.screen
    assert isinstance(screen, FormLike)
    screen.query_one("#name", Input).focus()
    await pilot.press(*"Ada E")
    screen.query_one("#note", TextArea).focus()
    await pilot.press(*"Rang", "enter", *"no")
    return screen


def _typed(screen: FormLike) -> tuple[str, str]:
    return screen.query_one("#name", Input).value, screen.query_one("#note", TextArea).text


async def _fail_and_recover(how: str, figures) -> str:  # type: ignore[no-untyped-def]
    app = GuardedApp()
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        screen = await _type_into_form(pilot)
        before = _typed(screen)
        if how == "binding":
            await pilot.press("ctrl+b")
        else:
            await pilot.click(f"#{how}")
        await app.workers.wait_for_complete()
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ErrorDialog), f"no error dialog after a failing {how}"
        shown = str(dialog.query_one("#error-message", Static).content)
        assert PERSONAL not in shown
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen and app.is_running
        assert _typed(screen) == before, "typed text was lost"
        # The form still answers: its handlers run and it takes more typing.
        await pilot.click("#fine")
        await pilot.pause()
        assert str(screen.query_one("#status", Static).content) == "still answering"
        screen.query_one("#name", Input).focus()
        await pilot.press("end", "!")
        assert _typed(screen)[0] == before[0] + "!"
    assert app.return_code in (None, 0)
    figures.add("console errors", **{"failures shown in a dialog": 1, "typed text lost": 0})
    return shown


def test_a_failing_handler_shows_the_dialog_and_keeps_the_form(figures) -> None:  # type: ignore[no-untyped-def]
    shown = asyncio.run(_fail_and_recover("handler", figures))
    assert "KeyError" in shown and "Nothing you typed has been lost" in shown


def test_a_failing_worker_shows_the_dialog_and_keeps_the_form(figures) -> None:  # type: ignore[no-untyped-def]
    assert "RuntimeError" in asyncio.run(_fail_and_recover("worker", figures))


def test_a_failing_key_action_shows_the_dialog_and_keeps_the_form(figures) -> None:  # type: ignore[no-untyped-def]
    assert "ValueError" in asyncio.run(_fail_and_recover("binding", figures))


def test_a_console_error_shows_its_own_line(figures) -> None:  # type: ignore[no-untyped-def]
    shown = asyncio.run(_fail_and_recover("refused", figures))
    assert shown == "the disk is full (or failing); nothing was written"


def test_the_line_never_quotes_an_unexpected_exception() -> None:
    assert PERSONAL not in error_line(KeyError(PERSONAL))
    assert error_line(StoreError("busy\n  try again")) == "busy try again"
    assert len(error_line(StoreError("x" * 5000))) <= 300


def test_the_console_itself_shows_the_dialog(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The console as the command line builds it (create_app) carries the guard."""
    from dsl_console.config import Config
    from dsl_console.ui.app import create_app

    async def run() -> None:
        app = create_app(tmp_path / "cases.db", Config())
        assert isinstance(app, AppErrorGuard), "the console's app is not guarded"
        async with app.run_test(size=(90, 30)) as pilot:
            await pilot.pause()
            app.call_later(lambda: 1 / 0)  # an app-level callback that raises
            await pilot.pause()
            await pilot.pause()
            assert isinstance(app.screen, ErrorDialog)
            assert "ZeroDivisionError" in str(
                app.screen.query_one("#error-message", Static).content
            )
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, ErrorDialog) and app.is_running

    asyncio.run(run())


def test_a_failing_save_button_in_a_real_form_keeps_the_form_working(
    tmp_path, monkeypatch, figures
) -> None:  # type: ignore[no-untyped-def]
    """The console's own event form: its Save button's handler fails once; the dialog shows,
    the form stays usable with the note still typed, and the next Ctrl+S saves it."""
    from reliability_kit import CREDENTIALS, FAST_KDF, case_json, fixed_clock, make_database

    from dsl_console.config import Config
    from dsl_console.store.cases import load_case
    from dsl_console.ui.app import create_app
    from dsl_console.ui.forms.record_event import RecordEventForm
    from dsl_console.ui.screens.case_screen import CaseScreen

    db = make_database(
        tmp_path / "cases.db", [case_json("ERR-1", opened_at="2026-11-02T09:00:00Z", events=[])]
    )
    real_events = RecordEventForm.events

    def broken(self, session):  # type: ignore[no-untyped-def]
        raise ValueError(PERSONAL)

    async def until(pilot, condition) -> None:  # type: ignore[no-untyped-def]
        for _ in range(200):
            if condition():
                return
            await pilot.pause(0.05)
        raise AssertionError("timed out")

    async def run() -> None:
        app = create_app(
            db, Config(), clock=fixed_clock, credentials=CREDENTIALS, kdf_cost=FAST_KDF
        )
        async with app.run_test(size=(100, 34)) as pilot:
            await until(pilot, lambda: app.session is not None)
            app.open_case("ERR-1")
            await until(pilot, lambda: isinstance(app.screen, CaseScreen) and app.screen.case)
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, RecordEventForm))
            form = app.screen
            form.query_one("#note", TextArea).load_text("Rang the team manager")
            monkeypatch.setattr(RecordEventForm, "events", broken)
            await pilot.click("#save")
            await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
            assert PERSONAL not in str(app.screen.query_one("#error-message", Static).content)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is form)
            assert form.query_one("#note", TextArea).text == "Rang the team manager"
            monkeypatch.setattr(RecordEventForm, "events", real_events)
            await pilot.click("#save")
            await until(pilot, lambda: isinstance(app.screen, CaseScreen))
            assert app.session is not None
            with app.session.db.connection_context():
                assert load_case("ERR-1").events[-1].note == "Rang the team manager"

    asyncio.run(run())
    figures.add("console errors", **{"failures shown in a dialog": 1, "typed text lost": 0})
