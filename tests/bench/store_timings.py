"""In-process timings of the store and services the console and the CLI stand on: unlocking and
opening, the list's queries per filter keystroke, opening a case, the sweep and the export."""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from dsl_console.config import Config
from dsl_console.services.exports.summary_log import write_log
from dsl_console.services.session import Credentials, Session, open_session
from dsl_console.services.sweep import sweep
from dsl_console.store import keyslots, listing
from dsl_console.store.cases import iter_cases, load_case
from dsl_console.store.database import open_database
from dsl_console.store.listing import View
from tests.bench.dataset import PASSPHRASE, USER, Bench
from tests.bench.runner import summary

# What a DSL types into the filter, one keystroke at a time: a child's name, a ref, a miss.
FILTERS = ("ada example", "sch-0012", "zzz")
# The case table asks for up to three pages of this size around the cursor (widgets/case_table).
PAGE_SIZE = 64


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def prefixes(text: str) -> list[str]:
    """What the filter holds after each keystroke."""
    return [text[: n + 1] for n in range(len(text))]


def keystroke_queries(view: View, text: str, as_of: Any) -> None:
    """The store work one filter keystroke asks for: the count, where the highlighted case now
    is, and the pages on screen (as widgets/case_table.CaseTable._reload does)."""
    total = listing.count(view, text, as_of)
    first = listing.page(view, text, as_of, 0, 1)
    if first:
        listing.position(view, text, as_of, first[0].ref)
    for number in range(min(3, total // PAGE_SIZE + 1)):
        listing.page(view, text, as_of, number * PAGE_SIZE, PAGE_SIZE)


def measure(bench: Bench, *, export_rounds: int = 2) -> dict[str, Any]:
    """Every in-process figure, in seconds."""
    found: dict[str, Any] = {}
    slots = keyslots.read_slots(keyslots.keys_path(bench.db))
    # Unlocking at the real Argon2id cost of the slot the CLI wrote (RFC 9106, 64 MiB, t=3).
    unlock = [_timed(lambda: keyslots.unwrap(slots, USER, PASSPHRASE)) for _ in range(3)]
    found["unlock_argon2id"] = summary(unlock)
    key = keyslots.unwrap(slots, USER, PASSPHRASE)

    opened: list[float] = []
    checked: list[float] = []
    for _ in range(3):
        start = time.perf_counter()
        db = open_database(bench.db, key)
        opened.append(time.perf_counter() - start)
        checked.append(_timed(lambda d=db: d.execute_sql("PRAGMA quick_check").fetchall()))
        db.close()
    found["open_database"] = summary(opened)
    found["open_database_quick_check"] = summary(checked)

    session = open_session(bench.db, Config(), Credentials(USER, PASSPHRASE))
    try:
        found.update(_with_session(session, export_rounds))
    finally:
        session.close()
    return found


def _with_session(session: Session, export_rounds: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    as_of = session.now()
    found["open_cases"] = listing.count(View.OPEN, "", as_of)
    found["all_cases"] = sum(listing.count(v, "", as_of) for v in (View.OPEN, View.RESOLVED))

    # Filter keystrokes, store side, as a DSL types into a console that has drawn the list:
    # each keystroke asks at a new moment (the console's clock has moved on).
    keystroke_queries(View.OPEN, "", as_of)
    per_key: list[float] = []
    tick = 0
    for text in FILTERS:
        for typed in prefixes(text):
            tick += 1
            moment = as_of + timedelta(microseconds=tick)
            per_key.append(_timed(lambda t=typed, m=moment: keystroke_queries(View.OPEN, t, m)))
    found["filter_keystroke_store"] = summary(per_key)
    views: dict[str, float] = {}
    for view in View:
        views[str(view)] = max(
            _timed(lambda v=view, t=t: keystroke_queries(v, t, as_of)) for t in ("", "ada")
        )
    found["view_switch_store_worst"] = views
    found["flag_counts"] = summary([_timed(lambda: listing.flag_counts(as_of)) for _ in range(5)])

    refs = [row.ref for row in listing.page(View.OPEN, "", as_of, 0, 4000)]
    picked = random.Random(7).sample(refs, min(200, len(refs)))
    found["open_case_store"] = summary([_timed(lambda r=r: load_case(r)) for r in picked])

    sweeps = [_timed(lambda: sweep(session, as_of)) for _ in range(3)]
    found["sweep_in_process"] = summary(sweeps)
    found["sweep_cases"] = len(sweep(session, as_of))

    found["iter_cases_all"] = _timed(lambda: sum(1 for _ in iter_cases()))
    exports: list[float] = []
    rows = 0
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "log.csv"
        for _ in range(export_rounds):
            start = time.perf_counter()
            rows = write_log(
                iter_cases(),
                session.registry,
                session.calendar,
                school="Example Primary School",
                out=out,
                fmt="csv",
                as_of=as_of,
            )
            exports.append(time.perf_counter() - start)
        found["export_log_csv_bytes"] = out.stat().st_size
    found["export_log_csv_in_process"] = summary(exports)
    found["export_log_rows"] = rows
    return found
