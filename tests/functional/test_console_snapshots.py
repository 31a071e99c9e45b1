"""Snapshots of the console's main screens: fictional cases, a frozen clock, no cursor blink.

Update them after an intended change with `pytest tests/functional --snapshot-update` and
look at the report before committing.
"""

from __future__ import annotations

from console_kit import settle, unlocked, wait_until
from textual.widgets import Input

from dsl_console.ui.screens.unlock import UnlockScreen


async def _list_ready(pilot) -> None:  # type: ignore[no-untyped-def]
    await unlocked(pilot)
    # Toasts time out on the wall clock: take them away so the picture is the list alone.
    pilot.app.clear_notifications()
    await pilot.pause()


async def _list_ready_light(pilot) -> None:  # type: ignore[no-untyped-def]
    pilot.app.theme = "textual-light"
    await _list_ready(pilot)


async def _unlock_ready(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, UnlockScreen), what="unlock")
    for box in app.screen.query(Input):
        box.cursor_blink = False
    await settle(pilot)


def test_case_list_80x24(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_list_ready)


def test_case_list_120x30(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(120, 30), run_before=_list_ready)


def test_case_list_light_theme_120x30(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(120, 30), run_before=_list_ready_light)


def test_unlock_screen_demo_80x24(snap_compare, make_app):
    app = make_app(unlocked=False, demo=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_unlock_ready)
