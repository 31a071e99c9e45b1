"""What the case screen and a form look like, at 100x30 and 80x24, frozen at Mon 23 Nov 2026 11:00.

The case (fictional) is at stage 3 with stage 2 skipped, a missed timescale with its reason, a
deadline set by hand, two actions (one done), an outstanding immediate risk and the IRO notice
due. Update after a deliberate change with `pytest --snapshot-update` and look at the SVGs.
"""

from __future__ import annotations

import pytest
from console_kit import settle
from test_case_screen import ALL_CASES, open_form, open_screen
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

SIZES = [(100, 30), (80, 24)]


def still(pilot: Pilot) -> None:
    """No blinking cursor and no toasts: the picture depends only on what is shown."""
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    pilot.app.clear_notifications()


@pytest.mark.parametrize("size", SIZES, ids=["100x30", "80x24"])
def test_case_screen(snap_compare, make_app, size):
    async def show_case(pilot: Pilot) -> None:
        await open_screen(pilot)
        still(pilot)
        await settle(pilot)

    assert snap_compare(make_app(cases=ALL_CASES), terminal_size=size, run_before=show_case)


@pytest.mark.parametrize("size", SIZES, ids=["100x30", "80x24"])
def test_deadline_form_with_a_message_in_place(snap_compare, make_app, size):
    async def bad_deadline(pilot: Pilot) -> None:
        await open_screen(pilot)
        form = await open_form(pilot, "d")
        form.query_one("#due-date", Input).value = "2026-11-31"
        form.query_one("#note", TextArea).load_text("Chair asked for more time.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.errors == {"due-date": "2026-11-31 is not a real calendar date"}
        still(pilot)
        await settle(pilot)

    assert snap_compare(make_app(cases=ALL_CASES), terminal_size=size, run_before=bad_deadline)


def test_case_screen_in_the_light_theme(snap_compare, make_app):
    async def light(pilot: Pilot) -> None:
        await open_screen(pilot)
        pilot.app.theme = "textual-light"
        still(pilot)
        await settle(pilot)

    assert snap_compare(make_app(cases=ALL_CASES), terminal_size=(100, 30), run_before=light)
