"""The line under the header that counts open cases by flag: symbol, number and word."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import Static

from dsl_console.core.deadlines import (
    FLAG_DUE_TODAY,
    FLAG_IMMEDIATE_RISK,
    FLAG_IRO_NOTICE,
    FLAG_OVERDUE,
)
from dsl_console.core.wording import FLAG_SYMBOLS, FLAG_WORDS
from dsl_console.store.listing import FlagCounts

# Shorter words for a narrow terminal; the symbols stay the same.
SHORT_WORDS = {
    FLAG_IMMEDIATE_RISK: "risk",
    FLAG_OVERDUE: "overdue",
    FLAG_DUE_TODAY: "today",
    FLAG_IRO_NOTICE: "notice",
}
NARROW = 96


def summary_parts(counts: FlagCounts, *, short: bool = False) -> list[tuple[str, str, int]]:
    """(flag, '!! 1 immediate risk', count) for each flag, most urgent first."""
    words = SHORT_WORDS if short else FLAG_WORDS
    numbers = (
        (FLAG_IMMEDIATE_RISK, counts.immediate_risk),
        (FLAG_OVERDUE, counts.overdue),
        (FLAG_DUE_TODAY, counts.due_today),
        (FLAG_IRO_NOTICE, counts.iro_notice),
    )
    return [(flag, f"{FLAG_SYMBOLS[flag]} {n} {words[flag]}", n) for flag, n in numbers]


class FlagSummary(Static):
    """Counts of flagged open cases, refreshed with the list."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "flag-summary--risk",
        "flag-summary--overdue",
        "flag-summary--due-today",
        "flag-summary--iro",
        "flag-summary--none",
    }

    DEFAULT_CSS = """
    FlagSummary { height: 1; padding: 0 1; background: $panel; color: $text; }
    FlagSummary > .flag-summary--risk { color: $text-error; text-style: bold reverse; }
    FlagSummary > .flag-summary--overdue { color: $text-error; text-style: bold; }
    FlagSummary > .flag-summary--due-today { color: $text-warning; text-style: bold; }
    FlagSummary > .flag-summary--iro { color: $text-primary; text-style: bold; }
    FlagSummary > .flag-summary--none { color: $text-muted; }
    """

    STYLE_OF: ClassVar[dict[str, str]] = {
        FLAG_IMMEDIATE_RISK: "flag-summary--risk",
        FLAG_OVERDUE: "flag-summary--overdue",
        FLAG_DUE_TODAY: "flag-summary--due-today",
        FLAG_IRO_NOTICE: "flag-summary--iro",
    }

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
        for flag, words, number in summary_parts(counts, short=self.size.width < NARROW):
            component = self.STYLE_OF[flag] if number else "flag-summary--none"
            text.append(f" {words} ", style=self.get_component_rich_style(component))
            text.append(" ")
        text.append(f"│ {counts.open} open")
        self.update(text)
