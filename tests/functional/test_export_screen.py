"""The export screen: the summary log from the list, a partnership form from the case screen,
mistakes shown in place, and a progress bar that reaches its total."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from console_kit import CASES, burst, settle, unlocked, wait_until
from textual.pilot import Pilot
from textual.widgets import Input, ProgressBar, Select

from dsl_console.ui.screens.case_screen import CaseScreen
from dsl_console.ui.screens.export import ExportScreen


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder with a Documents folder, where exports are suggested."""
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    return home


async def open_export(pilot: Pilot) -> ExportScreen:
    """Press E and wait for the export screen."""
    await pilot.press("E")
    await wait_until(
        pilot, lambda: isinstance(pilot.app.screen, ExportScreen), what="the export screen"
    )
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ExportScreen)
    return screen


def held_exports(monkeypatch: pytest.MonkeyPatch, wait: float) -> threading.Event:
    """Hold every export back (up to `wait` seconds) until the event is set: a large export,
    as the DSL meets it."""
    from dsl_console.services import exporting

    release, real = threading.Event(), exporting.export_to

    def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        release.wait(wait)
        return real(*args, **kwargs)

    monkeypatch.setattr(exporting, "export_to", held)
    return release


async def export(pilot: Pilot, screen: ExportScreen) -> None:
    """Press ctrl+s and wait for the export worker and its messages."""
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_the_summary_log_exports_as_csv_from_the_list(make_app, home):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        screen = await open_export(pilot)
        out = Path(screen.query_one("#out", Input).value)
        assert out == home / "Documents" / "escalation-log-2026-11-23.csv"
        await export(pilot, screen)
        assert screen.errors == {}
        assert f"wrote {out} ({len(CASES)} cases); audit head" in screen.result_text
        assert any("audit head" in n.message for n in app._notifications)
        bar = screen.query_one("#export-progress", ProgressBar)
        assert bar.total == bar.progress == len(CASES)
    with out.open(newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    header = next(
        i for i, row in enumerate(rows) if row[0] == "Agency / School & Escalation Number"
    )
    assert len(rows) - header - 1 == len(CASES)


async def test_a_partnership_form_exports_from_the_case_screen(make_app, home):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        app.open_case("SCH-2026-003")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, CaseScreen) and app.screen.case is not None,
            what="the case screen",
        )
        screen = await open_export(pilot)
        assert screen.query_one("#what", Select).value == "report"
        assert screen.query_one("#ref", Input).value == "SCH-2026-003"
        assert screen.query_one("#form", Select).value == "liverpool"
        out = Path(screen.query_one("#out", Input).value)
        assert out.name == "SCH-2026-003-liverpool-2026-11-23.pdf"
        await export(pilot, screen)
        assert screen.errors == {}
        assert screen.result_text.startswith(f"✓ wrote {out}; audit head ")
    assert out.read_bytes().startswith(b"%PDF")


async def test_the_suggested_name_follows_kind_and_format_until_one_is_typed(make_app, home):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        screen = await open_export(pilot)
        out = screen.query_one("#out", Input)

        async def choose(field: str, value: str) -> str:
            screen.query_one(f"#{field}", Select).value = value
            await settle(pilot)
            return Path(out.value).name

        assert Path(out.value).name == "escalation-log-2026-11-23.csv"
        assert await choose("format", "xlsx") == "escalation-log-2026-11-23.xlsx"
        assert (await choose("what", "report")).endswith("-liverpool-2026-11-23.pdf")
        assert (await choose("what", "analysis")).startswith("escalation-analysis-2026.")
        assert await choose("what", "json") == "dsl-console-export-2026-11-23.json"
        # A name typed by the user is theirs: choosing again leaves it alone.
        out.value = str(home / "mine.csv")
        await settle(pilot)
        assert await choose("what", "log") == "mine.csv"


async def test_a_bad_date_range_is_shown_in_place_and_writes_nothing(make_app, home):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        screen = await open_export(pilot)
        out = Path(screen.query_one("#out", Input).value)
        screen.query_one("#from", Input).value = "2026-11-20"
        screen.query_one("#to", Input).value = "2026-11-01"
        await export(pilot, screen)
        assert "before" in screen.errors["to"]
        screen.query_one("#from", Input).value = "2026-13-01"
        await export(pilot, screen)
        assert "not a real calendar date" in screen.errors["from"]
        assert screen.result_text == ""
    assert not out.exists()


async def test_an_unknown_ref_and_a_missing_folder_are_shown_in_place(make_app, home):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        screen = await open_export(pilot)
        screen.query_one("#what", Select).value = "report"
        await pilot.pause()
        screen.query_one("#ref", Input).value = "SCH-1999-999"
        await export(pilot, screen)
        assert "No case with ref SCH-1999-999" in screen.errors["ref"]
        screen.query_one("#out", Input).value = str(home / "nowhere" / "form.pdf")
        await export(pilot, screen)
        assert "folder does not exist" in screen.errors["out"]
        assert not any((home / "Documents").iterdir())


async def test_the_progress_bar_reaches_the_total_of_a_date_range(make_app, home):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        screen = await open_export(pilot)
        screen.query_one("#from", Input).value = "2026-11-16"
        screen.query_one("#to", Input).value = "2026-11-23"
        await export(pilot, screen)
        in_range = [c for c in CASES if c.opened_at.date().isoformat() >= "2026-11-16"]
        bar = screen.query_one("#export-progress", ProgressBar)
        assert bar.total == bar.progress == len(in_range)
        assert f"({len(in_range)} cases)" in screen.result_text


async def test_an_existing_file_is_replaced_only_after_a_question_that_names_it(make_app, home):
    from dsl_console.ui.forms.confirm import ConfirmScreen

    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        screen = await open_export(pilot)
        out = Path(screen.query_one("#out", Input).value)
        out.write_text("kept\n")
        await export(pilot, screen)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        assert str(out) in app.screen.question  # type: ignore[attr-defined]
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen and out.read_text() == "kept\n"
        assert screen.result_text == f"Not written: {out} was left as it was."
        await export(pilot, screen)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        await pilot.press("y")
        await wait_until(pilot, lambda: bool(screen.result_text), what="the export")
        assert "Escalation" in out.read_text(encoding="utf-8-sig")
        # The same export straight again: while it asks, no finished bar from the last one.
        await export(pilot, screen)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        assert not screen.query_one("#export-progress", ProgressBar).display
        assert screen.result_text == ""


async def test_the_fields_a_form_will_print_blank_are_named_before_writing(make_app, home):
    from dsl_console.core.records import Event, EventKind
    from dsl_console.services.casebook import record_event

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await unlocked(pilot)
        app.open_case("SCH-2026-003")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, CaseScreen) and app.screen.case is not None,
            what="the case screen",
        )
        screen = await open_export(pilot)
        await wait_until(pilot, lambda: bool(screen.blank_note), what="the blank-fields note")
        note = screen.blank_note
        assert note.startswith("These fields will print blank")
        assert "Child's address" in note and "Concern" in note
        # Nothing is written by looking: the note comes before any export.
        assert not any((home / "Documents").iterdir())
        await pilot.press("escape")
        await settle(pilot)
        # The address added to the record, the note no longer names it.
        assert app.session is not None
        with app.session.db.connection_context():
            record_event(
                app.session,
                "SCH-2026-003",
                Event(
                    at=app.now(),
                    kind=EventKind.AMENDED,
                    field="child.address",
                    value="1 Example Street, Exampletown",
                    note="Given by the parent.",
                ),
            )
        screen = await open_export(pilot)
        await wait_until(pilot, lambda: bool(screen.blank_note), what="the blank-fields note")
        assert "Child's address" not in screen.blank_note
        assert "Concern" in screen.blank_note
        # Another form, another list.
        liverpool = screen.blank_note
        screen.query_one("#form", Select).value = "newham"
        await wait_until(
            pilot,
            lambda: bool(screen.blank_note) and screen.blank_note != liverpool,
            what="newham's note",
        )
        # A form the case's procedure does not use is said first, before what prints blank.
        first, blanks = screen.blank_note.split("\n")
        assert first == (
            "SCH-2026-003 follows the Liverpool SCB escalation policy, which does not use the "
            "NSCP Escalation Referral Form; it uses the Report to LSCB, Appendix 2."
        )
        assert blanks.startswith("These fields will print blank")


async def test_on_a_server_the_export_goes_to_the_dsl_s_outbox(
    make_app, tmp_path, monkeypatch, login
):
    import os
    import stat

    from dsl_console.config import Config

    outbox = tmp_path / "outbox" / login.pw_name
    outbox.mkdir(parents=True)
    os.chown(outbox, -1, login.pw_gid)
    outbox.chmod(0o2750)
    monkeypatch.setenv("SUDO_USER", login.pw_name)
    monkeypatch.setenv("SUDO_UID", str(login.pw_uid))
    app = make_app(config=Config(school="Example Primary School", outbox=tmp_path / "outbox"))
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        screen = await open_export(pilot)
        assert "outbox" in str(screen.query_one("#form-context").render())
        out = Path(screen.query_one("#out", Input).value)
        assert out == outbox / "escalation-log-2026-11-23.csv"
        await export(pilot, screen)
        assert screen.errors == {}
        assert f"sftp {login.pw_name}@" in screen.result_text
        # A path outside the outbox is refused in place, and nothing is written.
        field = screen.query_one("#out", Input)
        field.value = str(tmp_path / "elsewhere.csv")
        await export(pilot, screen)
        assert "outbox" in screen.errors.get("out", "")
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert not (tmp_path / "elsewhere.csv").exists()


async def test_escape_while_an_export_is_written_still_says_it_was_written(
    make_app, home, monkeypatch
):
    # A tmux walkthrough: Ctrl+S then Escape on a slower export (the yearly analysis) closed
    # the screen, the file was written and audited, and nothing said so: the DSL believed a
    # file of children's names had not been made. The console itself now says it was.
    going = held_exports(monkeypatch, 5)  # until the screen has gone
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        screen = await open_export(pilot)
        out = Path(screen.query_one("#out", Input).value)
        await pilot.press("ctrl+s", "escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ExportScreen), what="back")
        going.set()
        await wait_until(
            pilot,
            lambda: any(n.title == "Export written" for n in app._notifications),
            what="the notice that it was written",
        )
        assert out.exists()
        notice = next(n for n in app._notifications if n.title == "Export written")
        assert str(out) in notice.message


async def test_escape_while_an_export_is_refused_still_says_it_was_not_written(
    make_app, home, monkeypatch
):
    # The other half of the walkthrough's Ctrl+S then Escape: an export that fails once the
    # screen has gone (here its folder is removed meanwhile) said nothing at all.
    import shutil

    going = held_exports(monkeypatch, 5)
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        screen = await open_export(pilot)
        out = Path(screen.query_one("#out", Input).value)
        await pilot.press("ctrl+s", "escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ExportScreen), what="back")
        shutil.rmtree(out.parent)
        going.set()
        await wait_until(
            pilot,
            lambda: any(n.title == "Export not written" for n in app._notifications),
            what="the notice that it was not written",
        )
        assert not out.exists()
        assert not any(n.title == "Export written" for n in app._notifications)
        notice = next(n for n in app._notifications if n.title == "Export not written")
        assert notice.message.startswith("Not written: ") and notice.severity == "error"


async def test_the_last_export_s_line_goes_when_another_kind_is_chosen(make_app, home):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        screen = await open_export(pilot)
        await export(pilot, screen)
        await wait_until(pilot, lambda: bool(screen.result_text), what="the export")
        assert "escalation-log" in screen.result_text
        # The yearly analysis chosen next: the log's "wrote ..." would read as about it.
        screen.query_one("#what", Select).value = "analysis"
        await settle(pilot)
        assert screen.result_text == ""
        assert not screen.query_one("#export-progress", ProgressBar).display


async def test_a_key_typed_before_ctrl_s_never_answers_its_question(make_app, home):
    # A tmux walkthrough: "y Ctrl+S" in one burst replaced an existing file without the
    # question being seen: the "y", typed before the Ctrl+S, came back up from the export
    # screen once "Replace it?" was on top, and answered it.
    from dsl_console.ui.forms.confirm import ConfirmScreen

    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        screen = await open_export(pilot)
        out = Path(screen.query_one("#out", Input).value)
        out.write_text("kept\n")
        burst(app, "y", "ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert out.read_text() == "kept\n"
        # A "y" typed once it asks is the answer.
        await pilot.press("y")
        await wait_until(pilot, lambda: bool(screen.result_text), what="the export")
        assert "Escalation" in out.read_text(encoding="utf-8-sig")


async def test_a_second_ctrl_s_while_an_export_is_written_is_told_not_ignored(
    make_app, home, monkeypatch
):
    from textual.widgets import Button

    release = held_exports(monkeypatch, 20)
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await unlocked(pilot)
        screen = await open_export(pilot)
        out = Path(screen.query_one("#out", Input).value)
        await pilot.press("ctrl+s")
        save = screen.query_one("#save", Button)
        await wait_until(pilot, lambda: save.disabled, what="the export under way")
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: any("An export is being written" in n.message for n in app._notifications),
            what="the second Ctrl+S answered",
        )
        release.set()
        await wait_until(pilot, lambda: "wrote" in screen.result_text, what="the export")
        await settle(pilot)
        assert screen.result_text.count("wrote") == 1
    assert [p.name for p in (home / "Documents").iterdir()] == [out.name]
