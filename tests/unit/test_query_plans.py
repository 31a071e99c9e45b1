"""The hot queries are served by their indexes, so the console stays instant at 100,000 cases.

Each test runs the real store function, records every statement it sends to SQLite, and asks
SQLite how it would run each one (EXPLAIN QUERY PLAN). A plan that reads the whole escalation
or event table, or sorts the list in a temporary b-tree, is what makes a keystroke in the
filter or the sweep slow on a large database; `python -m tests.bench` measures the timings.

Without ANALYZE statistics SQLite's choice does not depend on how many rows the tables hold,
so the plans on this small database are the plans at 100,000 cases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from dsl_console.services.session import Session
from dsl_console.services.sweep import sweep
from dsl_console.store import cases as store_cases
from dsl_console.store import listing
from dsl_console.store.cases import iter_cases, load_case
from dsl_console.store.listing import View
from tests.conftest import NOW, seed_many

Plan = list[str]


@pytest.fixture
def session(session_factory: Callable[..., Session]) -> Session:
    """A database with the demo's cases and a few hundred more, open and resolved."""
    return seed_many(session_factory(), 300, seed=11, start=5000)


@contextmanager
def plans_of(session: Session) -> Iterator[list[tuple[str, Plan]]]:
    """Every statement run inside the block, with SQLite's plan for it."""
    db = session.db
    run = db.execute_sql
    seen: list[tuple[str, tuple[Any, ...]]] = []

    def spy(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        seen.append((sql, tuple(params or ())))
        return run(sql, params, *args, **kwargs)

    found: list[tuple[str, Plan]] = []
    db.execute_sql = spy  # type: ignore[method-assign]
    try:
        yield found
    finally:
        del db.execute_sql
    for sql, params in seen:
        if sql.lstrip().upper().startswith("SELECT"):
            rows = run("EXPLAIN QUERY PLAN " + sql, params).fetchall()
            found.append((sql, [str(row[3]) for row in rows]))


def full_scans(plan: Plan) -> list[str]:
    """Steps that read a whole table of cases, events or children, row by row."""
    return [
        step
        for step in plan
        if step.startswith("SCAN")
        and "USING" not in step
        and not any(
            word in step for word in ("CONSTANT ROW", "VIRTUAL TABLE", "VALUES", "(subquery-")
        )
    ]


def assert_indexed(found: list[tuple[str, Plan]], *, index: str, covering: bool = True) -> None:
    assert found, "the function ran no query"
    for sql, plan in found:
        assert not full_scans(plan), f"full scan in {plan} for {sql}"
        # A page's outer query sorts only the screenful its subquery chose, and a filter's
        # matches are joined in order from at most listing.FEW rows; anything else sorted in a
        # temporary b-tree means every matching case is read first.
        sorts = [step for step in plan if "TEMP B-TREE" in step]
        if not any("LIST SUBQUERY" in step for step in plan):
            assert all("group_concat" in step for step in sorts), f"sorts in memory: {plan}"
    wanted = f"COVERING INDEX {index}" if covering else f"INDEX {index}"
    steps = [step for _, plan in found for step in plan]
    assert any(wanted in step for step in steps), f"{index} not used: {steps}"


@pytest.mark.parametrize("text", ["", "ada", "SCH-0"])
@pytest.mark.parametrize("view", [View.OPEN, View.FLAGGED, View.OVERDUE, View.OWED])
def test_the_list_and_its_filter_read_only_the_list_index(session, view, text):
    with plans_of(session) as found:
        rows = listing.page(view, text, NOW, 64, 64)
        listing.count(view, text, NOW)
    assert_indexed(found, index="escalation_live")
    assert all(isinstance(row, listing.CaseRow) for row in rows)


@pytest.mark.parametrize("view", [View.RESOLVED, View.VOIDED])
@pytest.mark.parametrize("text", ["", "ada"])
def test_the_closed_views_read_the_latest_closed_first_index(session, text, view):
    with plans_of(session) as found:
        rows = listing.page(view, text, NOW, 0, 64)
        listing.count(view, text, NOW)
    assert_indexed(found, index="escalation_closed")
    # The latest resolved first, whenever each case was opened (a case opened early and
    # resolved late comes above one opened late and resolved early).
    closed = [row.resolved_at for row in rows]
    assert closed == sorted(closed, reverse=True)  # type: ignore[type-var]
    assert view == View.VOIDED or len(rows) > 10


def test_the_highlighted_resolved_case_is_found_in_resolution_order(session):
    rows = listing.page(View.RESOLVED, "", NOW, 0, 64)
    for index in (0, 7, len(rows) - 1):
        assert listing.position(View.RESOLVED, "", NOW, rows[index].ref) == index


def test_a_page_far_down_the_list_skips_in_the_index(session):
    # The page's ids come from the covering index; only the rows shown are read whole.
    with plans_of(session) as found:
        listing.page(View.OPEN, "", NOW, 200, 50)
    _, plan = found[0]
    assert any("COVERING INDEX escalation_live" in step for step in plan), plan
    assert any("INTEGER PRIMARY KEY" in step for step in plan), plan


def test_keeping_the_highlighted_case_counts_in_the_index(session):
    ref = listing.page(View.OPEN, "", NOW, 100, 1)[0].ref
    with plans_of(session) as found:
        where = listing.position(View.OPEN, "", NOW, ref)
    assert where == 100
    assert_indexed(found, index="escalation_live")


def test_flag_counts_read_only_the_list_index(session):
    with plans_of(session) as found:
        counts = listing.flag_counts(NOW)
    assert counts.open > 0
    assert_indexed(found, index="escalation_live")


@pytest.mark.parametrize("with_duties", [False, True])
def test_the_sweep_reads_listed_cases_from_the_list_index(session, with_duties):
    with plans_of(session) as found:
        flagged = sweep(session, NOW, with_duties=with_duties)
    assert flagged
    (live_plan,) = [plan for sql, plan in found if "last_event_at" in sql and "> ?" not in sql]
    assert any("COVERING INDEX escalation_live" in step for step in live_plan), live_plan
    # As of a past moment, cases whose history went on after it are replayed: found by the
    # moment of their last event.
    (later_plan,) = [plan for sql, plan in found if "last_event_at" in sql and "> ?" in sql]
    assert any("INDEX escalation_last_event" in step for step in later_plan), later_plan
    if with_duties:
        # `check` also reads the cached duties of the cases that owe any.
        (owed_plan,) = [plan for sql, plan in found if "duties" in sql]
        assert any("COVERING INDEX escalation_owed" in step for step in owed_plan), owed_plan
    # Records due for retention review: from the children's dates of birth to their cases.
    (review_plan,) = [plan for sql, plan in found if 'FROM "child"' in sql]
    assert any("child_dob" in step for step in review_plan), review_plan
    assert any("escalation_child_id" in step for step in review_plan), review_plan
    for _, plan in found:
        assert not full_scans(plan), plan


def test_the_sweep_as_of_the_past_stays_indexed(session):
    with plans_of(session) as found:
        sweep(session, NOW - timedelta(days=30))
    for sql, plan in found:
        assert not full_scans(plan), f"full scan in {plan} for {sql}"


def test_opening_a_case_reads_it_by_ref_and_its_events_by_case(session):
    ref = listing.page(View.OPEN, "", NOW, 0, 1)[0].ref
    with plans_of(session) as found:
        case = load_case(ref)
    assert case.ref == ref
    steps = [step for _, plan in found for step in plan]
    assert any("escalation_ref" in step for step in steps), steps
    assert any("event_escalation_id_seq" in step for step in steps), steps
    for _, plan in found:
        assert not full_scans(plan), plan


def test_the_export_reads_page_after_page_by_opening_order(session, monkeypatch):
    # Small pages, so the query that resumes after the last case runs too.
    monkeypatch.setattr(store_cases, "PAGE", 40)
    with plans_of(session) as found:
        total = sum(1 for _ in iter_cases())
    assert total > 40 * 3
    resumed = [plan for sql, plan in found if "escalation" in sql and "> (" in sql]
    assert resumed, "no page resumed after the last"
    for plan in resumed:
        # A seek to where the last page ended, not a walk from the first case again.
        assert any(step.startswith("SEARCH t1 USING INDEX escalation_opened") for step in plan), (
            plan
        )
    events = [plan for sql, plan in found if 'FROM "event"' in sql]
    assert events and all(
        any("event_escalation_id_seq" in step for step in plan) for plan in events
    )
    for _, plan in found:
        # The first page walks the opening-order index from its start, and stops at the limit.
        assert all("USING" in step for step in plan if step.startswith("SCAN t1")), (
            f"a table read whole: {plan}"
        )


def test_an_unlock_reads_only_the_grants_of_the_trail_through_their_index(session):
    # Every unlock replays the account grants (store/account_trail.py), however long the trail.
    from dsl_console.store.account_trail import trail_accounts

    with plans_of(session) as found:
        trail_accounts()
    ((_sql, plan),) = found
    assert any("audit_grants" in step for step in plan), plan
