"""Text planted in the database with control characters (written past the input rules, as an
older release or a direct write with a valid key could) never reaches the terminal as a control
sequence: the case list, the case screen and its forms draw it harmlessly, and the child at
immediate risk stays on the list."""

from __future__ import annotations

from console_kit import CASES, event, make_case, settle, unlocked
from test_case_screen import open_form, open_screen
from textual.pilot import Pilot

from dsl_console.core.records import EventKind, Professional

# What the review found a crafted import could do: erase a row and rewrite the flag line
# (CSI), set the clipboard and the window title (OSC), plant a link, ask the terminal to
# answer as if typed (DSR), and reorder text (a bidi override).
ATTACKS = (
    "\x1b[1A\x1b[2K",
    "\x1b[2J0 risk",
    "\x1b]52;c;ZXZpbA==\x07",
    "\x1b]0;title\x07",
    "\x1b]8;;https://example.invalid\x1b\\link\x1b]8;;\x1b\\",
    "\x1b[6n",
    "\x9b2J",
    "\u202egnp.exe",
)
PLANTED_REF = "SCH-2026-666"
PLANTED = make_case(
    PLANTED_REF,
    "Ada" + "".join(ATTACKS) + "Example",
    "2026-11-23 09:30",
    immediate_risk=True,
    other_agency="Social care" + ATTACKS[0],
    summary="Planted" + "".join(ATTACKS),
    professionals=(Professional("Sam" + ATTACKS[2], "Social worker" + ATTACKS[1]),),
    events=(event("2026-11-23 10:00", EventKind.NOTE, by="Jo" + ATTACKS[3], note=ATTACKS[4]),),
)


def drawn(pilot: Pilot) -> list[str]:
    """The text of every segment of the screen as it goes to the terminal."""
    strips = pilot.app.screen._compositor.render_strips()
    return [segment.text for strip in strips for segment in strip]


def assert_harmless(pilot: Pilot) -> None:
    for text in drawn(pilot):
        for code in text:
            assert not (
                ord(code) < 0x20 or 0x7F <= ord(code) <= 0x9F or code in "\u202a\u202e\u2066"
            ), f"control character U+{ord(code):04X} drawn"


async def test_a_planted_record_is_drawn_with_no_control_character(make_app):
    app = make_app(cases=(*CASES, PLANTED))
    async with app.run_test(size=(120, 40)) as pilot:
        listing = await unlocked(pilot)
        assert_harmless(pilot)
        # The row is still there, among the immediate risks, with the name's letters.
        assert PLANTED_REF in listing.table.visible_refs()[:2]
        assert any("Ada" in text for text in drawn(pilot))
        screen = await open_screen(pilot, PLANTED_REF)
        assert_harmless(pilot)
        assert screen.case is not None
        for key in ("c", "p", "e"):
            await open_form(pilot, key)
            assert_harmless(pilot)
            await pilot.press("escape")
            await settle(pilot)
        # The notices of the sweep (they name the ref and the child) are drawn harmlessly too.
        app.notify(f"{PLANTED.child.name}: escalate today")
        await settle(pilot)
        assert_harmless(pilot)
