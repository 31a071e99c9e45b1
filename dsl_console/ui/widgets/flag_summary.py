"""The line under the header that counts listed cases by flag: symbol, number and word."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import Static

from dsl_console.core.flags import STATE_FLAGS
from dsl_console.store.listing import FlagCounts
from dsl_console.ui.widgets import flag_style

PREFIX = "flag-summary"


# Always counted, at 0 too: what every procedure raises. The others (a partnership's form,
# another agency's reply) are counted once some case carries them.
ALWAYS_COUNTED = frozenset(f.id for f in STATE_FLAGS[:4])


def summary_parts(counts: FlagCounts, *, short: bool = False) -> list[tuple[str, str, int]]:
    """(flag id, '!! 1 immediate risk', count) for each flag counted, most urgent first."""
    return [
        (
            flag.id,
            f"{flag.symbol} {counts[flag.id]} {flag.short if short else flag.words}",
            counts[flag.id],
        )
        for flag in STATE_FLAGS
        if counts[flag.id] or flag.id in ALWAYS_COUNTED
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
        """Redraw with new counts; a non-zero count is coloured as well as worded. The words
        are shortened, then left to the symbols (as in the list's Flags column), until the
        line fits: cut, a count loses its meaning (at 80 columns "1 resolved owing" lost its
        "owing")."""
        self._counts = counts
        room = self.size.width - 2

        def width(parts: list[tuple[str, str, int]], total: str) -> int:
            return sum(len(words) + 3 for _flag, words, _n in parts) + len(total)

        for level in ("full", "short", "symbols"):
            parts, total = self._parts(counts, level)
            if width(parts, total) <= room:
                break
        # Narrower still (below about 60 columns): the least urgent counts go whole, with an
        # ellipsis for them, rather than lose their numbers to the cut.
        if width(parts, total) > room:
            kept = parts
            while len(kept) > 1 and width(kept, total) + 4 > room:  # 4: the ellipsis' part
                kept = kept[:-1]
            if len(kept) < len(parts):
                parts = [*kept, ("", "…", 0)]
        text = Text(no_wrap=True, overflow="ellipsis")
        for flag, words, number in parts:
            style = flag_style.component(PREFIX, flag) if number else "flag-summary--none"
            text.append(f" {words} ", style=self.get_component_rich_style(style))
            text.append(" ")
        text.append(total)
        self.update(text)

    @staticmethod
    def _parts(counts: FlagCounts, level: str) -> tuple[list[tuple[str, str, int]], str]:
        """The flags' parts and the closing total, worded at `level`."""
        owed = ""
        if counts.owed:
            owed = f", {counts.owed} {'resolved owing' if level == 'full' else 'owing'}"
        total = f"│ {counts.open} open{owed}"
        parts = summary_parts(counts, short=level != "full")
        if level != "full":
            # At a narrow width only the flags that some case carries.
            parts = [part for part in parts if part[2]]
        if level == "symbols":
            # The immediate risk keeps its word: the one count nobody must misread.
            parts = [
                (flag, words if flag == "immediate-risk" else " ".join(words.split()[:2]), n)
                for flag, words, n in parts
            ]
        if not parts:
            # Not a bare "│ 0 open": say that nothing is flagged.
            parts = [("", "nothing flagged", 0)]
        return parts, total
