"""The case list: urgency order, columns, quick views, filter, keys, help and the palette."""

from __future__ import annotations

from datetime import date

import pytest
from console_kit import (
    OPEN_ORDER,
    burst,
    make_case,
    settle,
    table_lines,
    unlocked,
    wait_until,
)
from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from dsl_console.ui.screens.case_list import CaseListScreen
from dsl_console.ui.screens.help import HelpScreen
from dsl_console.ui.widgets.case_table import PAGE_SIZE, CaseTable
from dsl_console.ui.widgets.flag_summary import FlagSummary


def summary(screen: CaseListScreen) -> str:
    return str(screen.query_one(FlagSummary).render())


def view_bar(screen: CaseListScreen) -> str:
    return str(screen.query_one("#view-bar").render())


async def test_open_cases_in_urgency_order_with_every_column(make_app):
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await unlocked(pilot)
        assert screen.table.visible_refs() == OPEN_ORDER
        lines = table_lines(screen.table)
        assert lines[0].split() == [
            "Ref",
            "Child",
            "(age)",
            "Procedure",
            "Stage",
            "Due",
            "Flags",
            "Other",
            "agency",
        ]
        by_ref = {line.split()[0]: line for line in lines[1:] if line}
        # Immediate risk: what to do and by when, the symbol, and the other agency.
        risk = by_ref["SCH-2026-001"]
        assert "Ada Example (12)" in risk
        assert "liverpool" in risk and "1 Attempt resolution" in risk
        assert "risk: escalate by 17:00" in risk and "!!" in risk
        assert "Children's social care" in risk
        assert (
            "overdue 2 working days" in by_ref["SCH-2026-002"] and " OD " in by_ref["SCH-2026-002"]
        )
        assert "due today 17:00" in by_ref["SCH-2026-003"] and " T " in by_ref["SCH-2026-003"]
        assert "3 working days" in by_ref["SCH-2026-004"]
        assert "2 Line managers" in by_ref["SCH-2026-007"] and "IRO" in by_ref["SCH-2026-007"]
        assert "no deadline set" in by_ref["SCH-2026-005"]
        # The header counts the flags in words and symbols.
        text = summary(screen)
        for part in ("!! 1 immediate risk", "OD 1 overdue", "T 1 due today", "IRO 1 IRO notice"):
            assert part in text
        assert "6 open" in text
        assert "6 cases" in view_bar(screen)


async def test_flags_are_coloured_as_well_as_symbolled(make_app):
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await unlocked(pilot)
        table = screen.table
        risk_line = table.render_line(1)  # the first case, at immediate risk
        plain_line = table.render_line(6)  # no deadline, no flag
        risk_styles = {seg.style for seg in risk_line if "!!" in seg.text}
        assert risk_styles and all(s is not None and s.color is not None for s in risk_styles)
        assert not any("!!" in seg.text for seg in plain_line)


async def test_narrow_terminal_drops_columns_but_keeps_meaning(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await unlocked(pilot)
        lines = table_lines(screen.table)
        assert "Procedure" not in lines[0] and "Other agency" not in lines[0]
        first = lines[1]
        assert first.startswith("SCH-2026-001") and "Ada Example (12)" in first
        assert "risk: escalate by 17:00" in first and "!!" in first
        assert all(len(line) <= 80 for line in lines)
        # Widened again, the columns come back.
        await pilot.resize_terminal(130, 30)
        await settle(pilot)
        header = table_lines(screen.table)[0]
        assert "Procedure" in header and "Other agency" in header


async def test_each_quick_view(make_app):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        expected = {
            "2": ["SCH-2026-001", "SCH-2026-002", "SCH-2026-003", "SCH-2026-007"],
            "3": ["SCH-2026-002"],
            "4": ["SCH-2026-006", "SCH-2016-001"],
            "5": ["SCH-2016-001"],
            "1": OPEN_ORDER,
        }
        for key, refs in expected.items():
            await pilot.press(key)
            await settle(pilot)
            assert screen.table.visible_refs() == refs, key
            assert f"{len(refs)} case" in view_bar(screen)
        await pilot.press("4")
        await settle(pilot)
        assert "resolved 10/11/2026" in table_lines(screen.table)[1]


async def test_filter_as_you_type_by_ref_or_name_and_escape_clears(make_app):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        await pilot.press("slash")
        box = screen.query_one("#filter", Input)
        assert box.has_focus and box.display
        await pilot.press(*"cara")
        await settle(pilot)
        assert screen.table.visible_refs() == ["SCH-2026-003"]
        assert 'matching "cara"' in view_bar(screen)
        await pilot.press(*"xyz")
        await settle(pilot)
        assert screen.table.visible_refs() == []
        assert "No cases in this view." in table_lines(screen.table)[1]
        await pilot.press("escape")
        await settle(pilot)
        assert not box.display and screen.table.has_focus
        assert screen.table.visible_refs() == OPEN_ORDER
        # By ref, with the filter kept while moving on to the list.
        await pilot.press("slash", *"2026-00", "5", "enter")
        await settle(pilot)
        assert screen.table.visible_refs() == ["SCH-2026-005"]
        assert screen.table.has_focus


async def test_keys_move_the_highlight_and_enter_opens_the_case(make_app):
    app = make_app()
    opened: list[str] = []
    app.open_case = opened.append  # type: ignore[method-assign]
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        table = screen.table
        assert table.selected_ref == "SCH-2026-001"
        await pilot.press("down", "down")
        assert table.selected_ref == "SCH-2026-003"
        await pilot.press("end")
        assert table.selected_ref == "SCH-2026-005"
        await pilot.press("home", "pagedown")
        assert table.selected_ref == "SCH-2026-005"
        await pilot.press("up", "enter")
        assert opened == ["SCH-2026-007"]


async def test_enter_opens_the_case_screen(make_app):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        from dsl_console.ui.screens.case_screen import CaseScreen

        assert isinstance(app.screen, CaseScreen)
        assert app.screen.ref == "SCH-2026-002"  # type: ignore[attr-defined]


async def test_help_lists_every_binding(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await unlocked(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        listed = {(k.key, k.description) for k in app.screen.keys}
        for key, words in [
            ("/", "Filter"),
            ("esc", "Clear"),
            ("n", "New case"),
            ("1", "Open"),
            ("2", "Flagged"),
            ("3", "Overdue"),
            ("4", "Resolved"),
            ("5", "Retention"),
            ("q", "Quit"),
            ("?", "Help"),
            ("^l", "Lock"),
            ("^p", "Commands"),
            ("⏎", "Open"),
            ("↑ k", "Up"),
            ("home", "First"),
            ("end", "Last"),
        ]:
            assert (key, words) in listed, (key, words)
        await pilot.press("escape")
        assert app.screen is screen


async def test_palette_goes_to_a_case_by_child_name(make_app):
    app = make_app()
    opened: list[str] = []
    app.open_case = opened.append  # type: ignore[method-assign]
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        await palette_offers(pilot, "Dev Test", "Go to case SCH-2026-004 (Dev Testcase)")
        await pilot.press("enter")
        await wait_until(pilot, lambda: opened == ["SCH-2026-004"], what="the case to open")


async def palette_offers(pilot, typed: str, hit: str) -> None:  # type: ignore[no-untyped-def]
    """Open the command palette, type, and wait until it offers the hit."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
    await pilot.press(*typed)
    palette = app.screen
    await wait_until(
        pilot,
        lambda: any(hit in str(o.hit.text) for o in palette.query_one(CommandList).options),
        what=f"{hit!r} for {typed!r}",
    )


@pytest.mark.parametrize("typed", ["Go to 004", "go to case SCH-2026-004", "Go to"])
async def test_palette_go_to_finds_the_case_whatever_comes_before_the_ref(make_app, typed):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        await palette_offers(pilot, typed, "Go to case SCH-2026-004 (Dev Testcase)")


async def test_the_palette_typed_in_one_burst_goes_to_the_case_typed_not_quit(make_app):
    # Ctrl+P, "go to 004", Enter, all at once (over SSH, or typed fast): Enter came while the
    # search for what was typed still ran, and chose the hit highlighted on opening: Quit.
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        burst(app, "ctrl+p", *"go to 004", "enter")
        await wait_until(pilot, lambda: getattr(app.screen, "ref", None) == "SCH-2026-004")
        await settle(pilot)
        assert app.is_running
        assert getattr(app.screen, "ref", None) == "SCH-2026-004"
        assert not CommandPalette.is_open(app)


async def test_a_letter_after_the_palette_s_enter_in_a_burst_leaves_the_choice_to_the_user(
    make_app,
):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        # "4" after the Enter makes the search one that has a case to go to.
        burst(app, "ctrl+p", *"go to 00", "enter", "4")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        await settle(pilot)
        for _ in range(10):
            await pilot.pause(0.05)  # the searches end; nothing is chosen for the user
        assert isinstance(app.screen, CommandPalette)
        assert app.screen.query_one(Input).value == "go to 004"


async def test_palette_switches_quick_view(make_app):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        await pilot.press(*"overdue cases")
        palette = app.screen

        def view_command_highlighted() -> bool:
            # Hits arrive and re-sort as the palette searches: wait until the top one is ours.
            commands = palette.query_one(CommandList)
            index = commands.highlighted
            return index is not None and "View: overdue cases" in str(
                commands.get_option_at_index(index).hit.text
            )

        await wait_until(pilot, view_command_highlighted, what="the view command")
        await settle(pilot)
        assert view_command_highlighted()
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen, what="the list")
        await settle(pilot)
        assert screen.table.visible_refs() == ["SCH-2026-002"]


async def test_large_list_holds_only_a_few_pages(make_app):
    cases = [
        make_case(f"BULK-{n:05d}", f"Ivo Example {n}", "2026-11-16 09:00", dob=date(2015, 1, 1))
        for n in range(PAGE_SIZE * 20)
    ]
    app = make_app(cases)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        table: CaseTable = screen.table
        assert table.total == PAGE_SIZE * 20
        assert len(table._pages) <= 3
        await pilot.press("end")
        await settle(pilot)
        assert table.selected_ref == f"BULK-{PAGE_SIZE * 20 - 1:05d}"
        assert table.visible_refs()[-1] == f"BULK-{PAGE_SIZE * 20 - 1:05d}"
        assert len(table._pages) <= 5


async def test_an_unexpected_failure_shows_one_line_and_keeps_the_console(make_app):
    from dsl_console.ui.error_dialog import ErrorDialog

    app = make_app()

    def broken(ref: str) -> None:
        raise RuntimeError(f"cannot show Ada Example ({ref})")

    app.open_case = broken  # type: ignore[method-assign]
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorDialog), what="the dialog")
        shown = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "Something unexpected went wrong" in shown and "Ada" not in shown
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen, what="the list again")
        assert screen.table.visible_refs() == OPEN_ORDER


async def test_a_failed_background_query_is_told_once_as_a_notice(make_app, monkeypatch):
    from dsl_console.errors import StoreError
    from dsl_console.ui.error_dialog import ErrorDialog
    from dsl_console.ui.screens import case_list

    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        app.clear_notifications()

        def busy(as_of):  # type: ignore[no-untyped-def]
            raise StoreError("the database is busy with another writer; try again in a moment")

        monkeypatch.setattr(case_list, "flag_counts", busy)
        screen.refresh_cases()
        await settle(pilot)
        assert [n.message for n in app._notifications] == [
            "Something went wrong: the database is busy with another writer; try again in a moment"
        ]
        assert not isinstance(app.screen, ErrorDialog)
        assert screen.table.visible_refs() == OPEN_ORDER


async def test_typing_a_filter_or_changing_view_keeps_the_flag_counts_without_recounting(
    make_app, monkeypatch
):
    # The counts cover every open case whatever the filter or view: recounting them on each
    # keystroke cost a query per key at 100,000 cases for a line that cannot change.
    from dsl_console.ui.screens import case_list

    calls: list[object] = []
    real = case_list.flag_counts

    def counting(as_of):  # type: ignore[no-untyped-def]
        calls.append(as_of)
        return real(as_of)

    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        before = summary(screen)
        monkeypatch.setattr(case_list, "flag_counts", counting)
        await pilot.press("slash", *"cara")
        await settle(pilot)
        assert screen.table.visible_refs() == ["SCH-2026-003"]
        await pilot.press("escape", "2")
        await settle(pilot)
        assert screen.table.visible_refs() == [
            "SCH-2026-001",
            "SCH-2026-002",
            "SCH-2026-003",
            "SCH-2026-007",
        ]
        assert calls == []
        assert summary(screen) == before
        # A change to the cases still recounts them.
        app.case_changed()
        await settle(pilot)
        assert len(calls) >= 1
        assert summary(screen) == before


async def test_start_up_objects_are_frozen_for_the_collector_and_thawed_on_quit(make_app):
    # The console's long-lived objects are kept out of the collector's full passes once the
    # list is up (keystrokes no longer wait on them), and handed back when the console ends.
    import gc

    app = make_app()
    assert gc.get_freeze_count() == 0
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        await wait_until(pilot, lambda: gc.get_freeze_count() > 0, what="the freeze")
        await pilot.press("slash", *"cara")  # and the console goes on filtering
        await settle(pilot)
        assert screen.table.visible_refs() == ["SCH-2026-003"]
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("width", [60, 70, 80, 100, 120, 160])
def test_the_flags_column_is_never_pushed_off_a_narrow_screen(width):
    from dsl_console.ui.widgets.case_table import layout_columns

    columns = layout_columns(width)
    assert columns[-1].key in ("flags", "agency") and "flags" in [c.key for c in columns]
    assert sum(c.width for c in columns) + len(columns) - 1 <= width


def test_a_cut_cell_keeps_the_age_and_the_number_of_days():
    from dsl_console.ui.widgets.case_table import fit_cell

    assert fit_cell("child", "Hana Placeholder-Smythe (10)", 20) == "Hana Placehold… (10)"
    assert fit_cell("countdown", "overdue 636 working days", 23).rstrip() == "overdue 636 wd"
    assert fit_cell("countdown", "duty overdue 339 working days", 17).rstrip() == (
        "duty late 339 wd"
    )
    assert fit_cell("countdown", "2 working days", 23).rstrip() == "2 working days"


async def test_every_view_key_is_on_the_view_bar_at_80_columns(make_app):
    from test_case_screen import screen_text

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        app.clear_notifications()
        await settle(pilot)
        bar = next(line for line in screen_text(app).splitlines() if "1 Open" in line)
        for shown in ("2 Flagged", "5 Retention", "6 Owed", "7 Voided"):
            assert shown in bar, bar
        # And every key of the list's own on its footer: Quit, Help and Lock were cut off.
        footer = screen_text(app).splitlines()[-1]
        for shown in ("Open", "/ Filter", "n New case", "E Export", "q Quit", "? Help", "^l Lock"):
            assert shown in footer, footer


async def test_keys_in_one_burst_on_the_list_act_in_the_order_typed(make_app):
    # "n Escape n Escape q" in one burst (over SSH: each Escape and the key after it arrive as
    # Alt+key): the first Escape was taken before "n" had opened its form, two forms were left
    # open and the console did not quit. In order: open, close, open, close, quit.

    from dsl_console.ui.forms.new_case import NewCaseForm

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlocked(pilot)
        burst(app, "n", "alt+n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewCaseForm), what="the form")
        await settle(pilot)
        assert sum(isinstance(s, NewCaseForm) for s in app.screen_stack) == 1
        burst(app, "alt+q")
        await wait_until(pilot, lambda: not app.is_running, what="the console to quit")
