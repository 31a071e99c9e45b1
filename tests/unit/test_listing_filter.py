"""The case list's filter: the same cases, in the same order, however the store answers it,
and never a list that is out of date after a change, from this console or another one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import pytest

from dsl_console.core.records import Event, EventKind
from dsl_console.services.casebook import record_event
from dsl_console.services.demo import random_cases
from dsl_console.services.session import Session
from dsl_console.store import listing
from dsl_console.store.cases import insert_cases
from dsl_console.store.listing import View
from tests.conftest import NOW, seed_many

FILTERS = ["a", "ada", "Ada Ex", "SCH-00", "sch-0001", "%", "_", "zzz", "  ada  "]


@pytest.fixture
def session(session_factory: Callable[..., Session]) -> Session:
    return seed_many(session_factory(), 400, seed=5, start=7000)


def listed(view: View, text: str) -> tuple[int, list[str], list[int | None]]:
    """What the console would show: the count, every row page by page, and positions."""
    total = listing.count(view, text, NOW)
    refs: list[str] = []
    for offset in range(0, total + 64, 64):
        refs += [row.ref for row in listing.page(view, text, NOW, offset, 64)]
    where = [listing.position(view, text, NOW, ref) for ref in [*refs[:5], "NO-SUCH-REF"]]
    return total, refs, where


@pytest.mark.parametrize("view", list(View))
def test_a_filter_lists_the_same_cases_whichever_way_the_store_answers(session, view, monkeypatch):
    for text in FILTERS:
        kept = listed(view, text)
        # FEW = 0: no filter counts as selective, so every call scans as before.
        monkeypatch.setattr(listing, "FEW", 0)
        scanned = listed(view, text)
        monkeypatch.undo()
        assert kept == scanned, text
        total, refs, where = kept
        assert total == len(refs) == len(set(refs))
        assert where[:-1] == list(range(min(5, total))) and where[-1] is None


def test_the_filter_matches_ref_or_name_whatever_the_case_and_literally(session):
    names = {row.child_name for row in listing.page(View.OPEN, "ada", NOW, 0, 500)}
    assert names and all("ada" in name.lower() for name in names)
    assert listing.count(View.OPEN, "ADA", NOW) == listing.count(View.OPEN, "ada", NOW)
    # % and _ are letters to the filter, not wildcards: no ref or fictional name has them.
    assert listing.count(View.OPEN, "%", NOW) == listing.count(View.OPEN, "_", NOW) == 0


def test_a_new_event_shows_at_once_even_at_the_same_moment(session):
    # A frozen clock: the same view, text and moment before and after the change.
    # A case with no immediate risk outstanding: one with a risk may not be resolved.
    rows = [r for r in listing.page(View.OPEN, "sch-0070", NOW, 0, 64) if r.risk_due is None]
    assert rows
    ref = rows[0].ref
    before = listing.count(View.OPEN, "sch-0070", NOW)
    resolved = Event(NOW, EventKind.RESOLVED, by="Jo Lead", note="Agreed.", method="Meeting")
    record_event(session, ref, resolved)
    assert listing.count(View.OPEN, "sch-0070", NOW) == before - 1
    assert ref not in [r.ref for r in listing.page(View.OPEN, "sch-0070", NOW, 0, 64)]
    assert listing.position(View.OPEN, "sch-0070", NOW, ref) is None


def test_a_case_added_by_another_connection_shows_at_once(session):
    text = "sch-0070"
    before = listing.count(View.OPEN, text, NOW)
    template = listing.page(View.OPEN, text, NOW, 0, 1)[0]
    case = next(
        c
        for c in random_cases(NOW, session.registry, session.calendar, 400, seed=5, start=7000)
        if c.ref == template.ref
    )

    def other_console() -> None:
        # Another thread has its own connection, as another console or the CLI would.
        new = replace(case, ref="SCH-007099X")
        with session.db.connection_context():
            session.write(
                lambda: insert_cases(
                    [new], session.registry, session.calendar, now=NOW, user="jo.lead"
                )
            )

    writer = threading.Thread(target=other_console)
    writer.start()
    writer.join()
    assert listing.count(View.OPEN, text, NOW) == before + 1
    assert listing.position(View.OPEN, text, NOW, "SCH-007099X") is not None
