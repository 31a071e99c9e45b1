"""Property-based fuzzing of the console's forms through Pilot: whatever is typed, Ctrl+S either
saves exactly what was typed, or refuses in place with everything typed still there and nothing
written. The console never stops, and no exception escapes to Textual.

One console (built by create_app, as the command line builds it) serves every example:
hypothesis drives it through a long-lived event loop, so each example costs one form, not one
app start.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from hypothesis import Phase, given
from hypothesis import strategies as st
from reliability_kit import (
    CREDENTIALS,
    FAST_KDF,
    case_json,
    fixed_clock,
    fuzz_settings,
    health,
    make_database,
    session_on,
)
from textual.pilot import Pilot
from textual.widgets import Input, Select, TextArea

from dsl_console.config import Config
from dsl_console.store.cases import load_case
from dsl_console.store.models import Escalation
from dsl_console.ui.app import DslConsoleApp, create_app
from dsl_console.ui.forms.base import FormScreen
from dsl_console.ui.forms.confirm import ConfirmScreen
from dsl_console.ui.forms.new_case import NewCaseForm
from dsl_console.ui.forms.record_event import CHOICES, RecordEventForm
from dsl_console.ui.screens.case_list import CaseListScreen
from dsl_console.ui.screens.case_screen import CaseScreen

REF = "FORM-1"

TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "Ada Example",
            "[bold]markup[/bold]",
            "[",
            "[/]",
            "[link=x]y",
            "\x00",
            "tab\there",
            "two\nlines",
            "x" * 201,
            "é" * 50,
            "\u202eright-to-left",
            "🙂 emoji",
        ]
    ),
)
LONG_TEXT = TEXT | st.sampled_from(["y" * 20_001, "Note. " * 3000, "line\n" * 500])
MOMENT_TEXT = st.one_of(
    st.sampled_from(
        [
            "2026-11-23 10:00",
            "2026-11-23 11:00",
            "2026-11-23 11:01",
            "2026-11-22 09:00",
            "2026-03-29 01:30",
            "2026-10-25 01:30",
            "0999-01-01 00:00",
            "9999-12-31 23:59",
            "2026-02-30 10:00",
            "2026-11-23",
            "23/11/2026 10:00",
            "2026-11-23T10:00",
            "2026-11-23 10:00+05:00",
            "2026-11-23 10:00Z",
            "now",
            "",
        ]
    ),
    st.text(max_size=20),
)
DATE_TEXT = st.one_of(
    st.sampled_from(
        ["2014-05-02", "2026-11-24", "1899-12-31", "0999-01-01", "2014-02-30", "02/05/2014", ""]
    ),
    st.text(max_size=12),
)


def form_fuzz_settings(default: int) -> Any:
    # No shrinking: after a failure the console may be in any state, and a shrink run against
    # it would only report that state; the failing example is printed as found.
    return fuzz_settings(
        default, phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False
    )


async def _until(pilot: Pilot, condition: Callable[[], bool], what: str) -> None:
    for _ in range(400):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def _settle(pilot: Pilot) -> None:
    for _ in range(50):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in pilot.app.workers):
            return


def _stored(app: DslConsoleApp, ref: str) -> Any:
    assert app.session is not None
    with app.session.db.connection_context():
        return load_case(ref)


def _case_count(app: DslConsoleApp) -> int:
    assert app.session is not None
    with app.session.db.connection_context():
        return Escalation.select().count()


class Driver:
    """The console, running in this thread's event loop, driven from hypothesis's thread: each
    example is handed to the loop as a task in the console's own context and waited for."""

    def __init__(self, app: DslConsoleApp, pilot: Pilot) -> None:
        self.app, self.pilot = app, pilot
        self.loop = asyncio.get_running_loop()
        # Textual keeps the active app in context variables: run every example inside them.
        self.context = contextvars.copy_context()
        self.seen: Counter[str] = Counter()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def finished(task: asyncio.Task[Any]) -> None:
            if task.cancelled():
                done.cancel()
            elif task.exception() is not None:
                done.set_exception(task.exception())  # type: ignore[arg-type]
            else:
                done.set_result(task.result())

        def start() -> None:
            task = self.loop.create_task(coro, context=self.context)
            task.add_done_callback(finished)

        self.loop.call_soon_threadsafe(start)
        # Bounded: a console that stopped would otherwise leave the test waiting for ever.
        return done.result(timeout=90)

    def check_alive(self) -> None:
        assert self.app.is_running, "the console stopped"
        assert self.app._exception is None, f"an exception reached Textual: {self.app._exception!r}"


def _form_values(form: FormScreen) -> dict[str, str]:
    """Everything typed into a form, by control id."""
    values = {f"#{w.id}": w.value for w in form.query(Input)}
    values.update({f"#{w.id}": w.text for w in form.query(TextArea)})
    return values


async def _save_and_judge(driver: Driver, form: FormScreen) -> dict[str, str] | None:
    """Ctrl+S; what the form held when saved, or None if refused. A refusal must be shown in place, typed text intact (the form
    then stays open for the next example, as it would for a user correcting it)."""
    pilot, app = driver.pilot, driver.app
    typed = _form_values(form)
    await pilot.press("ctrl+s")
    await _settle(pilot)
    driver.check_alive()
    if app.screen is form:
        assert form.errors, "the form neither saved nor said why"
        assert all("Traceback" not in e for e in form.errors.values())
        assert _form_values(form) == typed, "a refusal changed what was typed"
        driver.seen["refused in place, text kept"] += 1
        return None
    driver.seen["saved"] += 1
    return typed


async def _event_example(driver: Driver, choice: str, when: str, by: str, note: str) -> None:
    pilot, app = driver.pilot, driver.app
    if isinstance(app.screen, CaseListScreen):
        app.open_case(REF)
        await _until(pilot, lambda: isinstance(app.screen, CaseScreen), "the case screen")
        await _settle(pilot)
    if isinstance(app.screen, CaseScreen):
        await pilot.press("e")
        await _until(pilot, lambda: isinstance(app.screen, RecordEventForm), "the event form")
    form = app.screen
    assert isinstance(form, RecordEventForm)
    before = _stored(app, REF).events
    kinds = form.query_one("#kind", Select)
    if choice in {value for _, value in kinds._options}:
        kinds.value = choice
    form.query_one("#when", Input).value = when
    form.query_one("#by", Input).value = by
    form.query_one("#note", TextArea).load_text(note)
    await pilot.pause()
    saved = await _save_and_judge(driver, form)
    after = _stored(app, REF).events
    if saved is None:
        assert after == before, "a refused form wrote something"
        return
    assert len(after) == len(before) + 1
    # Exactly what the fields held (a TextArea reads some control characters as line breaks).
    assert after[-1].note == saved["#note"].strip() and after[-1].by == saved["#by"].strip()


async def _new_case_example(driver: Driver, values: dict[str, str], serial: int) -> None:
    pilot, app = driver.pilot, driver.app
    for _ in range(10):
        if isinstance(app.screen, (CaseListScreen, NewCaseForm)):
            break
        # Back from the event form, or from a case just opened. An event form left refused
        # still holds what was typed, and asks before discarding it: yes (Escape there would
        # answer no, and the form would stay).
        await pilot.press("y" if isinstance(app.screen, ConfirmScreen) else "escape")
        await _settle(pilot)
    else:
        raise AssertionError(f"could not get back to the case list from {app.screen!r}")
    if isinstance(app.screen, CaseListScreen):
        await pilot.press("n")
        await _until(pilot, lambda: isinstance(app.screen, NewCaseForm), "the new-case form")
        await _settle(pilot)
    form = app.screen
    assert isinstance(form, NewCaseForm)
    before = _case_count(app)
    for widget_id, value in values.items():
        if widget_id == "summary":
            form.query_one("#summary", TextArea).load_text(value)
        else:
            form.query_one(f"#{widget_id}", Input).value = value.replace("{n}", str(serial))
    form.query_one("#reason", Select).value = "threshold"
    await pilot.pause()
    saved = await _save_and_judge(driver, form)
    if saved is None:
        assert _case_count(app) == before, "a refused new case was written"
        return
    assert _case_count(app) == before + 1
    stored = _stored(app, saved["#ref"].strip())
    assert stored.child.name == saved["#child-name"].strip()
    assert stored.summary == saved["#summary"].strip()


def mostly(
    good: st.SearchStrategy[str], other: st.SearchStrategy[str], odds: int = 2
) -> st.SearchStrategy[str]:
    """`odds` times in `odds + 1` a value that should pass, so saving is exercised too."""
    return st.one_of(*[good] * odds, other)


def test_fuzz_the_console_forms(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    db = make_database(
        tmp_path / "cases.db", [case_json(REF, opened_at="2026-11-02T09:00:00Z", events=[])]
    )
    serial = iter(range(10**9))

    def properties(driver: Driver) -> None:
        @form_fuzz_settings(40)
        @given(
            choice=st.sampled_from(list(CHOICES)),
            when=mostly(st.sampled_from(["2026-11-23 11:00", " 2026-11-23 11:00 "]), MOMENT_TEXT),
            by=mostly(st.sampled_from(["", "B. Lead", "Jo"]), TEXT),
            note=mostly(st.sampled_from(["Rang the team.", "Meeting held."]), LONG_TEXT),
        )
        def event_form(choice: str, when: str, by: str, note: str) -> None:
            driver.run(_event_example(driver, choice, when, by, note))

        @form_fuzz_settings(25)
        @given(
            values=st.fixed_dictionaries(
                {
                    "ref": mostly(
                        st.just("FZ-{n}"), st.sampled_from([REF, "", "[x]{n}"]) | TEXT, odds=6
                    ),
                    "opened-at": mostly(st.just("2026-11-20 09:00"), MOMENT_TEXT, odds=6),
                    "child-name": mostly(st.just("Nia Example"), TEXT, odds=6),
                    "dob": mostly(st.just("2014-05-02"), DATE_TEXT, odds=6),
                    "other-agency": mostly(st.just("Police"), TEXT, odds=6),
                    "pro-name": mostly(st.just(""), TEXT, odds=6),
                    "pro-email": mostly(st.just(""), TEXT, odds=6),
                    "summary": mostly(st.just("Fictional summary."), LONG_TEXT, odds=6),
                }
            )
        )
        def new_case_form(values: dict[str, str]) -> None:
            driver.run(_new_case_example(driver, values, next(serial)))

        event_form()
        new_case_form()

    async def console() -> Counter[str]:
        app = create_app(
            db, Config(), clock=fixed_clock, credentials=CREDENTIALS, kdf_cost=FAST_KDF
        )
        async with app.run_test(size=(90, 30)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, CaseListScreen), "the case list")
            await _settle(pilot)
            driver = Driver(app, pilot)
            await asyncio.to_thread(properties, driver)
            driver.check_alive()
            return driver.seen

    seen = asyncio.run(console())
    with session_on(db) as session:
        found = health(session)
        assert found.integrity == "ok" and not found.audit_break
    figures.add(
        "fuzzing",
        **{
            "console form submissions": sum(seen.values()),
            "forms: saved exactly as typed": seen["saved"],
            "forms: refused in place, text kept": seen["refused in place, text kept"],
            "unexpected exceptions": 0,
        },
    )
