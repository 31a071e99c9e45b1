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
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.message import Message

from dsl_console.config import Config
from dsl_console.services.session import Credentials
from dsl_console.store.database import wipe_freed_memory
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
    # As `dsl-console` starts: SQLite's freed memory overwritten (commands._console_process).
    wipe_freed_memory()
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

        async def type_filters(
            before_each_key: Callable[[], None] | None = None,
        ) -> tuple[list[float], list[float]]:
            """Every filter typed key by key: each key press to its repaint, and to the rows
            arriving from the worker."""
            latencies: list[float] = []
            loaded: list[float] = []
            for _ in range(rounds):
                for text in FILTERS:
                    await pilot.press("slash")
                    typed = ""
                    for key in text:
                        typed += key
                        # The console filters on the text stripped of spaces at its ends.
                        wanted = typed.strip()
                        if before_each_key is not None:
                            before_each_key()
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
            return latencies, loaded

        latencies, loaded = await type_filters()
        found["filter_keystroke"] = summary(latencies)
        found["filter_keystrokes"] = latencies
        found["filter_keystroke_rows_loaded"] = summary(loaded)

        # The same keystrokes while a sweep over every open case runs in its worker: the
        # background sweep must not delay typing.
        during, _ = await type_filters(app.request_sweep)
        found["filter_keystroke_during_sweep"] = summary(during)
        found["filter_keystrokes_during_sweep"] = during

        # The same, the sweep worked out in a thread of the console's own process instead of
        # its helper process: whether the helper still earns its keep.
        from dsl_console.services.sweep_process import LocalSweeper

        helper, app.sweeper = app.sweeper, LocalSweeper(app.session)
        in_thread, _ = await type_filters(app.request_sweep)
        app.sweeper = helper
        found["filter_keystroke_during_thread_sweep"] = summary(in_thread)

        found.update(await other_process_writes(app, pilot, watch, db, rounds, type_filters))

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


async def other_process_writes(
    app: DslConsoleApp,
    pilot: Any,
    watch: Watch,
    db: Path,
    rounds: int,
    type_filters: Callable[..., Any],
) -> dict[str, Any]:
    """A second process writing, as another DSL's console would: from its commit to this
    console's list showing the new case and to the announcement of its immediate risk; then
    the filter keystrokes while it writes a case every second."""
    writer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bench.writer",
        str(db),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert writer.stdin is not None and writer.stdout is not None
    if (await writer.stdout.readline()).strip() != b"ready":
        raise SystemExit("bench: the writer did not start")
    announced: dict[str, float] = {}
    real_announce = app.announce

    def announce(ref: str, text: str, *, risk: bool, severity: str) -> None:
        announced.setdefault(ref, time.perf_counter())
        real_announce(ref, text, risk=risk, severity=severity)

    app.announce = announce  # type: ignore[method-assign]

    def total() -> int:
        counted = [m.total for _, m in watch.seen if isinstance(m, CaseTable.Counted)]
        return counted[-1] if counted else 0

    listed: list[float] = []
    flagged: list[float] = []
    jitter = random.Random(2026)
    run = time.time_ns()  # a database reused by --workdir keeps the cases of earlier runs
    for n in range(10 * rounds):
        ref = f"WRITE-{run}-{n:02d}"
        before = total()
        writer.stdin.write(f"case {ref}\n".encode())
        await writer.stdin.drain()
        committed = float((await writer.stdout.readline()).decode())
        shown = await watch.answered(
            committed, lambda m, b=before: isinstance(m, CaseTable.Counted) and m.total > b
        )
        listed.append(shown - committed)
        deadline = time.perf_counter() + WAIT
        while ref not in announced:
            if time.perf_counter() > deadline:
                raise SystemExit("bench: a new immediate risk was never announced")
            await asyncio.sleep(0.001)
        flagged.append(announced[ref] - committed)
        # Out of step with the console's look once a second, as real writes are.
        await asyncio.sleep(jitter.uniform(0.2, 1.2))
        await pilot.pause()

    writer.stdin.write(b"tick\n")
    await writer.stdin.drain()
    while_writing, _ = await type_filters()
    writer.stdin.write(b"stop\n")
    await writer.stdin.drain()
    await writer.stdout.readline()
    writer.stdin.close()
    await writer.wait()
    return {
        "write_to_list": summary(listed),
        "write_to_announcement": summary(flagged),
        "filter_keystroke_while_writing": summary(while_writing),
    }


def main() -> int:
    db, out = Path(sys.argv[1]), Path(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    out.write_text(json.dumps(asyncio.run(probe(db, rounds))), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
