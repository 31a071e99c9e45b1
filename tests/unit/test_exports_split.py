"""A large Escalation Summary Log built by two processes: the same file as one built alone,
every case exactly once, and nothing written when the helper fails."""

from __future__ import annotations

import os
import queue
import signal
from datetime import date
from pathlib import Path

import pytest

from dsl_console.errors import StoreError
from dsl_console.services import exporting, helpers
from dsl_console.services.casebook import import_cases
from dsl_console.services.demo import random_cases
from dsl_console.services.exports import split
from dsl_console.services.session import Session
from dsl_console.store.cases import iter_cases, iter_keyed_cases
from tests.conftest import NOW


@pytest.fixture
def session(session_factory) -> Session:  # type: ignore[no-untyped-def]
    session: Session = session_factory()
    cases = random_cases(NOW, session.registry, session.calendar, 300, seed=11, open_share=0.4)
    import_cases(session, list(cases))
    return session


def export_log(session: Session, out: Path, fmt: str = "csv", **options: object) -> str:
    with session.db.connection_context():
        return exporting.export_to(session, "log", out, fmt=fmt, **options)  # type: ignore[arg-type]


def test_the_two_shares_hold_every_case_once_in_opening_order(session):
    with session.db.connection_context():
        everything = [key for key, _ in iter_keyed_cases()]
        ours = [key for key, _ in iter_keyed_cases(part=split.OURS)]
        theirs = [key for key, _ in iter_keyed_cases(part=split.THEIRS)]
    assert len(everything) == 300
    assert ours and theirs and not set(ours) & set(theirs)
    assert sorted(ours + theirs) == everything == sorted(everything)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_log_built_with_a_helper_is_the_one_built_alone(session, tmp_path, monkeypatch, fmt):
    alone, shared = tmp_path / f"alone.{fmt}", tmp_path / f"shared.{fmt}"
    export_log(session, alone, fmt)  # 300 cases: below the size worth a helper
    started: list[object] = []
    real_start = helpers.start

    def counted(*args):  # type: ignore[no-untyped-def]
        started.append(args)
        return real_start(*args)

    monkeypatch.setattr(split, "SPLIT_FROM", 10)
    monkeypatch.setattr(helpers, "start", counted)
    monkeypatch.setattr(split, "CHUNK", 7)  # many chunks, and the last one short
    line = export_log(session, shared, fmt)
    assert len(started) == 1
    assert "(300 cases)" in line
    if fmt == "csv":
        assert shared.read_bytes() == alone.read_bytes()
    else:
        from openpyxl import load_workbook

        def cells(path: Path) -> list[tuple[object, ...]]:
            return list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))

        assert cells(shared) == cells(alone)
    assert oct(shared.stat().st_mode & 0o777) == "0o600"


def test_a_date_range_is_the_same_shared_or_not(session, tmp_path, monkeypatch):
    with session.db.connection_context():
        days = sorted({c.opened_at.date() for c in iter_cases()})
    start, end = days[len(days) // 4], days[len(days) // 2]
    alone, shared = tmp_path / "alone.csv", tmp_path / "shared.csv"
    export_log(session, alone, date_from=start, date_to=end)
    monkeypatch.setattr(split, "SPLIT_FROM", 1)
    export_log(session, shared, date_from=start, date_to=end)
    assert shared.read_bytes() == alone.read_bytes()
    assert len(alone.read_text(encoding="utf-8-sig").splitlines()) > 2


def test_where_no_helper_can_start_the_log_is_built_here(session, tmp_path, monkeypatch):
    alone = tmp_path / "alone.csv"
    export_log(session, alone)

    def refused() -> None:
        raise OSError("no processes here")

    monkeypatch.setattr(split, "SPLIT_FROM", 1)
    monkeypatch.setattr(helpers, "context", refused)
    here = tmp_path / "here.csv"
    export_log(session, here)
    assert here.read_bytes() == alone.read_bytes()


def test_a_helper_that_dies_leaves_no_file_and_says_so(session, tmp_path, monkeypatch):
    monkeypatch.setattr(split, "SPLIT_FROM", 1)
    monkeypatch.setattr(split, "CHUNK", 5)
    monkeypatch.setattr(split, "AHEAD", 1)
    real_start = helpers.start

    def killed_soon(*args):  # type: ignore[no-untyped-def]
        process, conn = real_start(*args)
        os.kill(process.pid, signal.SIGKILL)
        return process, conn

    monkeypatch.setattr(helpers, "start", killed_soon)
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(StoreError) as failed:
        export_log(session, folder / "log.csv")
    assert str(failed.value) == split.STOPPED
    assert list(folder.iterdir()) == []  # neither the log nor a temporary file


def test_the_date_range_keys_are_london_dates(session):
    # The shares filter by London date exactly as the whole does (an edge case of BST).
    with session.db.connection_context():
        whole = [k for k, _ in iter_keyed_cases(opened_from=date(2026, 1, 1))]
        parts = [
            k
            for p in (split.OURS, split.THEIRS)
            for k, _ in iter_keyed_cases(opened_from=date(2026, 1, 1), part=p)
        ]
    assert sorted(parts) == whole


class LateHelper:
    """A helper whose chunks come only after a few asks (as while a real one starts)."""

    def __init__(self, chunks: list[list[tuple[tuple[str, int], str]]], late: int) -> None:
        self.chunks, self.late, self.asked_early = list(chunks), late, 0

    def take(self, *, block: bool) -> list[tuple[tuple[str, int], str]] | None:
        if self.late and not block:
            self.late -= 1
            self.asked_early += 1
            raise queue.Empty
        return self.chunks.pop(0) if self.chunks else None


def test_rows_are_built_ahead_while_the_helper_is_late_and_merged_in_order():
    keys = [(f"2026-01-{day:02d}", n) for day in range(1, 29) for n in (1, 2, 3)]
    theirs = [(k, f"their {k}") for k in keys if k[1] != 2]
    ours = [(k, f"our {k}") for k in keys if k[1] == 2]
    built: list[tuple[str, int]] = []

    def our_rows():  # type: ignore[no-untyped-def]
        for key, row in ours:
            built.append(key)
            yield key, row

    helper = LateHelper([theirs[i : i + 4] for i in range(0, len(theirs), 4)], late=5)
    merged = split._merge(our_rows(), helper)  # type: ignore[arg-type]
    first = next(merged)
    # One of ours built for each ask that found nothing, instead of waiting.
    assert helper.asked_early == 5 and len(built) == 5
    rest = list(merged)
    assert [first, *rest] == [row for _, row in sorted(ours + theirs)]
