"""Keystroke-to-repaint and open-a-case latencies in the real console, driven by Textual's Pilot.

Run as its own process by the benchmark (`python -m tests.bench.console_probe DB OUT.json`) so
the console starts fresh. The app is built by the same factory as the command line, unlocks
the benchmark's database at the real key-derivation cost, and is driven headless: Textual
composes and renders every update as it would for a terminal and skips only writing the bytes
out. A latency runs from the key press to the first screen update after the console has the
answer on its widgets (the list's count for the typed filter; the case read and shown).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.message import Message

from dsl_console.config import Config
from dsl_console.services.session import Credentials
from dsl_console.ui.app import DslConsoleApp, create_app
from dsl_console.ui.screens.case_screen import CaseScreen
from dsl_console.ui.widgets.case_table import CaseTable
from tests.bench.dataset import PASSPHRASE, USER
from tests.bench.runner import COLUMNS, ROWS, summary
from tests.bench.store_timings import FILTERS

WAIT = 30.0  # seconds before a step is given up as hung


class Watch:
    """When messages of interest were handled and when the screen was last updated."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, Message]] = []
        self.updates: list[float] = []

    def hook(self, message: Message) -> None:
        if isinstance(
            message,
            CaseTable.Counted | CaseTable.Loaded | CaseScreen.Loaded | CaseScreen.LoadFailed,
        ):
            self.seen.append((time.perf_counter(), message))

    def spy_on(self, app: DslConsoleApp) -> None:
        # Every compositor update reaches App._display (headless: rendered, then not written).
        display = app._display

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.updates.append(time.perf_counter())
            return display(*args, **kwargs)

        app._display = recorded  # type: ignore[method-assign]

    async def answered(self, since: float, wanted: Callable[[Message], bool]) -> float:
        """The moment of the first screen update after a wanted message handled since `since`."""
        deadline = time.perf_counter() + WAIT
        while time.perf_counter() < deadline:
            handled = [t for t, m in self.seen if t >= since and wanted(m)]
            if handled:
                painted = [t for t in self.updates if t >= handled[0]]
                if painted:
                    return painted[0]
            await asyncio.sleep(0.0005)
        raise SystemExit("bench: the console did not answer in time")


async def probe(db: Path, rounds: int) -> dict[str, Any]:
    watch = Watch()
    app = create_app(db, Config(), credentials=Credentials(USER, PASSPHRASE))
    watch.spy_on(app)
    found: dict[str, Any] = {}
    start = time.perf_counter()
    async with app.run_test(size=(COLUMNS, ROWS), message_hook=watch.hook) as pilot:
        await watch.answered(start, lambda m: isinstance(m, CaseTable.Counted))
        found["first_list_in_process"] = time.perf_counter() - start
        # Let the start-up sweep finish, as a DSL would be reading the list meanwhile.
        await app.workers.wait_for_complete()
        await pilot.pause()

        latencies: list[float] = []
        loaded: list[float] = []  # key press to the rows arriving from the worker
        for _ in range(rounds):
            for text in FILTERS:
                await pilot.press("slash")
                typed = ""
                for key in text:
                    typed += key
                    # The console filters on the text stripped of spaces at its ends.
                    wanted = typed.strip()
                    before = time.perf_counter()
                    await pilot.press("space" if key == " " else key)
                    shown = await watch.answered(
                        before,
                        lambda m, t=wanted: isinstance(m, CaseTable.Counted) and m.text == t,
                    )
                    latencies.append(shown - before)
                    arrived = [
                        t
                        for t, m in watch.seen
                        if before <= t <= shown and isinstance(m, CaseTable.Loaded)
                    ]
                    if arrived:
                        loaded.append(arrived[-1] - before)
                before = time.perf_counter()
                await pilot.press("escape")
                await watch.answered(
                    before, lambda m: isinstance(m, CaseTable.Counted) and m.text == ""
                )
                await app.workers.wait_for_complete()
        found["filter_keystroke"] = summary(latencies)
        found["filter_keystrokes"] = latencies
        found["filter_keystroke_rows_loaded"] = summary(loaded)

        # The same keystrokes while a sweep over every open case runs in its worker: the
        # background sweep must not delay typing.
        during: list[float] = []
        for _ in range(rounds):
            for text in FILTERS:
                await pilot.press("slash")
                typed = ""
                for key in text:
                    typed += key
                    wanted = typed.strip()
                    app.request_sweep()
                    before = time.perf_counter()
                    await pilot.press("space" if key == " " else key)
                    shown = await watch.answered(
                        before,
                        lambda m, t=wanted: isinstance(m, CaseTable.Counted) and m.text == t,
                    )
                    during.append(shown - before)
                before = time.perf_counter()
                await pilot.press("escape")
                await watch.answered(
                    before, lambda m: isinstance(m, CaseTable.Counted) and m.text == ""
                )
                await app.workers.wait_for_complete()
        found["filter_keystroke_during_sweep"] = summary(during)
        found["filter_keystrokes_during_sweep"] = during

        opens: list[float] = []
        for n in range(10 * rounds):
            await pilot.press("down")
            before = time.perf_counter()
            await pilot.press("enter")
            shown = await watch.answered(
                before, lambda m: isinstance(m, CaseScreen.Loaded | CaseScreen.LoadFailed)
            )
            if any(isinstance(m, CaseScreen.LoadFailed) for t, m in watch.seen if t >= before):
                raise SystemExit("bench: a case could not be opened")
            opens.append(shown - before)
            await pilot.press("escape")
            await pilot.pause()
            del n
        found["open_case"] = summary(opens)
    return found


def main() -> int:
    db, out = Path(sys.argv[1]), Path(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    out.write_text(json.dumps(asyncio.run(probe(db, rounds))), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
