"""Retention: cases whose child has passed their 25th birthday are listed for review, by ref
and date of birth only, in step with the console's retention view."""

from __future__ import annotations

from datetime import UTC, date, datetime

from dsl_console.services.retention import ReviewDue, due_for_review, review_date
from dsl_console.store.listing import View, count
from tests.conftest import NOW
from tests.security.conftest import CHILD_NAME, add_fictional_cases


def test_children_past_their_25th_birthday_are_listed_without_names(session_factory) -> None:
    session = session_factory()
    add_fictional_cases(session, "SCH-2001-001", child={"name": "Bea Example", "dob": "2000-05-01"})
    add_fictional_cases(session, "SCH-2001-002", child={"name": "Cal Example", "dob": "2001-11-24"})
    add_fictional_cases(session, "SCH-2001-003", child={"name": "Dee Example", "dob": "2001-11-23"})
    add_fictional_cases(session, "SCH-2026-004")  # Ada, born 2014: years to go

    due = due_for_review(session, NOW)  # Monday 23 November 2026

    assert due == [
        ReviewDue("SCH-2001-001", date(2000, 5, 1), date(2025, 5, 1)),
        ReviewDue("SCH-2001-003", date(2001, 11, 23), date(2026, 11, 23)),  # today
    ]
    assert count(View.RETENTION, "", NOW) == len(due)  # the console's quick view agrees
    assert all(CHILD_NAME not in repr(item) and "Example" not in repr(item) for item in due)
    ref, dob, review = due[0]  # plain tuples for whoever prints them
    assert (ref, dob, review) == ("SCH-2001-001", date(2000, 5, 1), date(2025, 5, 1))

    tomorrow = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert [d.ref for d in due_for_review(session, tomorrow)] == [
        "SCH-2001-001",
        "SCH-2001-003",
        "SCH-2001-002",
    ]


def test_a_leap_day_birthday_is_reviewed_on_1_march_in_a_common_year() -> None:
    assert review_date(date(2000, 2, 29)) == date(2025, 3, 1)
    assert review_date(date(2004, 2, 29)) == date(2029, 3, 1)
    assert review_date(date(2003, 2, 28)) == date(2028, 2, 28)


def test_a_leap_day_child_agrees_with_the_console_view(session_factory) -> None:
    session = session_factory()
    add_fictional_cases(session, "SCH-2000-229", child={"name": "Eve Example", "dob": "2000-02-29"})
    on_28th = datetime(2025, 2, 28, 12, 0, tzinfo=UTC)
    on_1st = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert due_for_review(session, on_28th) == [] and count(View.RETENTION, "", on_28th) == 0
    assert [d.ref for d in due_for_review(session, on_1st)] == ["SCH-2000-229"]
    assert count(View.RETENTION, "", on_1st) == 1
