"""The line that says DEMO at the top of every screen of the demo, forms and help included:
nobody should take its fictional cases for real ones, or type a real child into it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

DEMO_WORDS = "DEMO: fictional cases only"


class DemoMark(Static):
    """One line at the top of a screen, shown only in the demo."""

    DEFAULT_CSS = """
    DemoMark {
        dock: top;
        width: 100%;
        height: 1;
        content-align: center middle;
        background: $warning;
        color: $text;
        text-style: bold;
    }
    """


def demo_mark(app: object) -> ComposeResult:
    """The DEMO line, when the app runs the demo; nothing otherwise."""
    if getattr(app, "demo", False):
        yield DemoMark(DEMO_WORDS)
