"""The line under the header that counts listed cases by flag: symbol, number and word."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import Static

from dsl_console.core.flags import STATE_FLAGS
from dsl_console.store.listing import FlagCounts
from dsl_console.ui.widgets import flag_style

NARROW = 96
PREFIX = "flag-summary"


def summary_parts(counts: FlagCounts, *, short: bool = False) -> list[tuple[str, str, int]]:
    """(flag id, '!! 1 immediate risk', count) for each flag, most urgent first."""
    return [
        (
            flag.id,
            f"{flag.symbol} {counts[flag.id]} {flag.short if short else flag.words}",
            counts[flag.id],
        )
        for flag in STATE_FLAGS
    ]


class FlagSummary(Static):
    """Counts of flagged cases (open, or resolved and still owing), refreshed with the list."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {*flag_style.components(PREFIX), "flag-summary--none"}

    DEFAULT_CSS = """
    FlagSummary { height: 1; padding: 0 1; background: $panel; color: $text; }
    FlagSummary > .flag-summary--none { color: $text-muted; }
    """ + flag_style.css("FlagSummary", PREFIX)

    _counts: FlagCounts | None = None

    def on_resize(self) -> None:
        if self._counts is not None:
            self.show_counts(self._counts)

    def clear_counts(self) -> None:
        """Show nothing (the idle lock)."""
        self._counts = None
        self.update("")

    def show_counts(self, counts: FlagCounts) -> None:
        """Redraw with new counts; a non-zero count is coloured as well as worded."""
        text = Text(no_wrap=True, overflow="ellipsis")
        self._counts = counts
        short = self.size.width < NARROW
        for flag, words, number in summary_parts(counts, short=short):
            if not number and short:
                continue  # at a narrow width only the flags that some case carries
            style = flag_style.component(PREFIX, flag) if number else "flag-summary--none"
            text.append(f" {words} ", style=self.get_component_rich_style(style))
            text.append(" ")
        owed = f", {counts.owed} resolved owing" if counts.owed else ""
        text.append(f"│ {counts.open} open{owed}")
        self.update(text)
