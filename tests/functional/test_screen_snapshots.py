"""Snapshots of every screen a user meets, at 80x24 and 120x40, frozen at Mon 23 Nov 2026 11:00.

The case list in each quick view, help, export, the new-case form (empty and refused in place),
every form of the case screen, the profile form, the lock and first-run screens, the error
dialog and the question before typed text is thrown away. The cases are fictional (ALL_CASES
and one voided case), the clock is the fixtures' frozen one, no cursor blinks and no toast is
on show unless the picture is about it.

Update them after an intended change with

    pytest tests/functional/test_screen_snapshots.py --snapshot-update

and look at every changed SVG in the report before committing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from console_kit import event, make_case, settle, unlocked, wait_until
from test_case_screen import ALL_CASES, STAGED_REF, open_form, open_screen
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from dsl_console.core.records import EventKind
from dsl_console.ui.error_dialog import ErrorDialog
from dsl_console.ui.forms.base import FormScreen
from dsl_console.ui.forms.confirm import ConfirmScreen
from dsl_console.ui.screens.export import ExportScreen
from dsl_console.ui.screens.help import HelpScreen
from dsl_console.ui.screens.unlock import UnlockMode, UnlockScreen

RunBefore = Callable[[Pilot], Awaitable[None]]

SIZES = [(80, 24), (120, 40)]
SIZE_IDS = ["80x24", "120x40"]
sizes = pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)

# Opened in error and voided, so that the Voided view has a row to show.
VOIDED = make_case(
    "SCH-2026-030",
    "Ivy Placeholder",
    "2026-11-19 09:00",
    events=(
        event(
            "2026-11-19 09:30",
            EventKind.VOIDED,
            by="Jo Lead",
            note="Opened in error: a duplicate of SCH-2026-003.",
        ),
    ),
)
SNAP_CASES = (*ALL_CASES, VOIDED)

VIEWS = {
    "1": "open",
    "2": "flagged",
    "3": "overdue",
    "4": "resolved",
    "5": "retention",
    "6": "owed",
    "7": "voided",
}
# The case screen's forms by key, on the staged case (CP plan at stage 3: a duty is owed, so
# "o" is offered; the test account is a DSL, so "V" is too).
CASE_FORMS = {
    "e": "record-event",
    "x": "escalate",
    "d": "deadline",
    "r": "resolve",
    "m": "timescale-missed",
    "a": "add-action",
    "A": "action-done",
    "c": "amend",
    "p": "professionals",
    "o": "duty-done",
    "V": "void",
}


# -- shared steps ---------------------------------------------------------------------------------
async def still(pilot: Pilot, *, keep_notices: bool = False) -> None:
    """No blinking cursor on any screen of the stack, no toasts, nothing left to run."""
    await settle(pilot)
    for screen in pilot.app.screen_stack:
        for widget in screen.query("Input, TextArea"):
            assert isinstance(widget, Input | TextArea)
            widget.cursor_blink = False
            if isinstance(widget, TextArea):
                # A TextArea caches its lines under a key that cannot tell "blink off" from
                # "blinking, cursor hidden just now": drop the cache, or a focused one shows
                # its cursor or not by the blink timer's phase (Textual 8.2).
                widget.notify_style_update()
                widget.refresh()
    if not keep_notices:
        pilot.app.clear_notifications()
    await settle(pilot)


async def wait_for(pilot: Pilot, kind: type, what: str) -> None:
    """Wait for a screen of `kind` to be on top."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, kind), what=what)
    await settle(pilot)


def on_list(*keys: str, then: type | None = None) -> RunBefore:
    """Unlock, press `keys` on the case list, wait for a `then` screen if given, keep still."""

    async def run_before(pilot: Pilot) -> None:
        await unlocked(pilot)
        pilot.app.clear_notifications()
        await pilot.press(*keys)
        if then is not None:
            await wait_for(pilot, then, then.__name__)
        await still(pilot)

    return run_before


def on_case(key: str) -> RunBefore:
    """Open the staged case and the form behind `key`."""

    async def run_before(pilot: Pilot) -> None:
        await open_screen(pilot, STAGED_REF)
        await open_form(pilot, key)
        await still(pilot)

    return run_before


# -- the case list --------------------------------------------------------------------------------
@sizes
@pytest.mark.parametrize("key", list(VIEWS), ids=list(VIEWS.values()))
def test_case_list_in_each_quick_view(snap_compare, make_app, key, size):
    assert snap_compare(make_app(cases=SNAP_CASES), terminal_size=size, run_before=on_list(key))


@sizes
def test_help_screen_over_the_case_list(snap_compare, make_app, size):
    run_before = on_list("question_mark", then=HelpScreen)
    assert snap_compare(make_app(cases=SNAP_CASES), terminal_size=size, run_before=run_before)


@sizes
def test_export_screen_from_the_case_list(snap_compare, make_app, monkeypatch, size):
    # The suggested file goes in the home folder: a fixed, fictional one keeps the picture still.
    monkeypatch.setenv("HOME", "/home/jo.lead")
    run_before = on_list("E", then=ExportScreen)
    assert snap_compare(make_app(cases=SNAP_CASES), terminal_size=size, run_before=run_before)


@sizes
def test_new_case_form_empty(snap_compare, make_app, size):
    run_before = on_list("n", then=FormScreen)
    assert snap_compare(make_app(cases=SNAP_CASES), terminal_size=size, run_before=run_before)


@sizes
def test_new_case_form_saved_empty_shows_its_messages_in_place(snap_compare, make_app, size):
    async def refused(pilot: Pilot) -> None:
        await on_list("n", then=FormScreen)(pilot)
        form = pilot.app.screen
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(form.errors), what="the messages")  # type: ignore[attr-defined]
        await still(pilot)

    assert snap_compare(make_app(cases=SNAP_CASES), terminal_size=size, run_before=refused)


# -- the case screen's forms ----------------------------------------------------------------------
@sizes
@pytest.mark.parametrize("key", list(CASE_FORMS), ids=list(CASE_FORMS.values()))
def test_case_screen_form(snap_compare, make_app, key, size):
    assert snap_compare(make_app(cases=SNAP_CASES), terminal_size=size, run_before=on_case(key))


@sizes
def test_profile_form(snap_compare, make_app, size):
    async def profile(pilot: Pilot) -> None:
        await open_screen(pilot, STAGED_REF)
        await pilot.app.run_action("app.profile")
        await wait_for(pilot, FormScreen, "the profile form")
        await still(pilot)

    assert snap_compare(make_app(cases=SNAP_CASES), terminal_size=size, run_before=profile)


@sizes
def test_confirm_before_throwing_away_typed_text(snap_compare, make_app, size):
    async def discard(pilot: Pilot) -> None:
        await open_screen(pilot, STAGED_REF)
        form = await open_form(pilot, "e")
        form.query_one("#note", TextArea).load_text("Rang the social worker; no answer.")
        await pilot.press("escape")
        await wait_for(pilot, ConfirmScreen, "the question")
        await still(pilot)

    assert snap_compare(make_app(cases=SNAP_CASES), terminal_size=size, run_before=discard)


# -- locking, the first run, and a failure --------------------------------------------------------
@sizes
def test_lock_screen(snap_compare, make_app, size):
    async def locked(pilot: Pilot) -> None:
        await unlocked(pilot)
        await pilot.press("ctrl+l")
        await wait_for(pilot, UnlockScreen, "the lock screen")
        assert pilot.app.screen.mode == UnlockMode.LOCKED  # type: ignore[attr-defined]
        await still(pilot)

    assert snap_compare(make_app(cases=SNAP_CASES), terminal_size=size, run_before=locked)


@sizes
def test_first_run_screen(snap_compare, make_app, tmp_path, monkeypatch, size):
    async def first_run(pilot: Pilot) -> None:
        await wait_for(pilot, UnlockScreen, "the first run")
        assert pilot.app.screen.mode == UnlockMode.FIRST_RUN  # type: ignore[attr-defined]
        await still(pilot)

    # The screen names the database it will create: a relative path keeps tmp_path out of it.
    monkeypatch.chdir(tmp_path)
    app = make_app(seed_db=False, unlocked=False, path=Path("cases.db"))
    assert snap_compare(app, terminal_size=size, run_before=first_run)


@sizes
def test_error_dialog_over_the_case_list(snap_compare, make_app, size):
    async def failed(pilot: Pilot) -> None:
        await unlocked(pilot)
        pilot.app.clear_notifications()
        pilot.app.call_later(lambda: 1 / 0)  # an app-level callback that raises
        await wait_for(pilot, ErrorDialog, "the error dialog")
        await still(pilot)

    assert snap_compare(make_app(cases=SNAP_CASES), terminal_size=size, run_before=failed)
