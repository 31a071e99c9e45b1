"""The line of flag counts above the list, at the widths DSLs' terminals have."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from dsl_console.store.listing import FlagCounts
from dsl_console.ui.widgets.flag_summary import FlagSummary


class OneLine(App[None]):
    def compose(self) -> ComposeResult:
        yield FlagSummary()


async def shown(counts: FlagCounts, width: int) -> str:
    app = OneLine()
    async with app.run_test(size=(width, 3)) as pilot:
        line = app.query_one(FlagSummary)
        line.show_counts(counts)
        await pilot.pause()
        return str(line.render())


BUSY = FlagCounts(
    {"immediate-risk": 1, "overdue": 14, "due-today": 3, "iro-notice": 3, "partnership-notice": 12},
    open=45,
    owed=1,
)


@pytest.mark.parametrize("width", [80, 100, 140])
async def test_the_resolved_cases_owing_keep_their_word_at_every_width(width):
    # At 80 columns the line ended "1 resolved ow": the count had lost what it counts.
    text = await shown(BUSY, width)
    assert len(text) <= width - 2
    assert text.rstrip().endswith(("1 owing", "1 resolved owing"))
    assert "45 open" in text and "OD 14" in text
    assert "!! 1 risk" in text or "!! 1 immediate risk" in text  # never the symbol alone


async def test_with_nothing_flagged_a_narrow_line_says_so():
    # A fresh database at 60 columns showed a bare " │ 0 open".
    text = await shown(FlagCounts({}, open=0, owed=0), 60)
    assert text.strip() == "nothing flagged  │ 0 open"


@pytest.mark.parametrize("width", [50, 60])
async def test_below_60_columns_the_least_urgent_counts_go_whole_never_their_numbers(width):
    # A walkthrough at 60 columns saw "│ 40 open, 3" and, narrower, "P" with no number.
    text = await shown(BUSY, width)
    assert len(text) <= width - 2
    assert "!! 1 risk" in text and "45 open" in text
    assert text.rstrip().endswith("1 owing")
    assert "…" in text  # the counts left out are said to be
