"""The notice bar's last line, when notices do not fit: it counts the cases left out."""

from __future__ import annotations

from textual.app import App, ComposeResult

from dsl_console.ui.widgets.notice_bar import NoticeBar


class BarApp(App[None]):
    def compose(self) -> ComposeResult:
        yield NoticeBar(id="bar")


def last_line(bar: NoticeBar) -> str:
    return str(bar.render()).splitlines()[-1]


async def test_the_line_for_what_does_not_fit_counts_cases_not_notices():
    app = BarApp()
    async with app.run_test(size=(100, 20)) as pilot:
        bar = app.query_one(NoticeBar)
        for n in range(1, 5):
            bar.add(f"SCH-2026-00{n}", f"SCH-2026-00{n}: immediate risk", risk=True)
        # Two more about case 4 (a risk's and another's): still one case more, not three.
        bar.add("SCH-2026-004", "SCH-2026-004: stage 2 due today", risk=False)
        await pilot.pause()
        assert last_line(bar).startswith("2 more cases: view 2 lists them")
        bar.add("SCH-2026-005", "SCH-2026-005: stage 1 overdue", risk=False)
        await pilot.pause()
        assert last_line(bar).startswith("3 more cases: view 2 lists them")
        bar.withdraw("SCH-2026-004")
        await pilot.pause()
        assert last_line(bar).startswith("2 more cases: view 2 lists them")
        bar.withdraw("SCH-2026-005")
        await pilot.pause()
        assert last_line(bar).startswith("!! SCH-2026-003")  # all three fit: no line for more


async def test_notices_left_out_about_cases_shown_are_not_called_more_cases():
    app = BarApp()
    async with app.run_test(size=(100, 20)) as pilot:
        bar = app.query_one(NoticeBar)
        for n in (1, 2):
            bar.add(f"SCH-2026-00{n}", f"SCH-2026-00{n}: immediate risk", risk=True)
        bar.add("SCH-2026-001", "SCH-2026-001: stage 1 due today", risk=False)
        bar.add("SCH-2026-002", "SCH-2026-002: stage 1 due today", risk=False)
        await pilot.pause()
        assert last_line(bar).startswith("2 more notices about the cases above")
