"""Retention review: records are kept until the child's 25th birthday, then reviewed.

Lists cases by ref and date of birth only (no names), for a DSL to review, in the same terms
as the console's "retention" quick view (store.listing.View.RETENTION).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

from dsl_console.services.session import Session
from dsl_console.store.listing import RETENTION_YEARS, View, count, page


class ReviewDue(NamedTuple):
    """A case whose child has reached the retention review date."""

    ref: str
    child_dob: date
    review_date: date


def review_date(dob: date) -> date:
    """The 25th birthday; for 29 February, 1 March in a common year (the day it has passed)."""
    try:
        return dob.replace(year=dob.year + RETENTION_YEARS)
    except ValueError:
        return date(dob.year + RETENTION_YEARS, 3, 1)


def due_for_review(session: Session, as_of: datetime | None = None) -> list[ReviewDue]:
    """Every case whose child's review date is on or before `as_of`'s London date, oldest
    child first; refs and dates of birth only, so the list can be shown or printed safely."""
    as_of = as_of or session.now()
    total = count(View.RETENTION, "", as_of)
    rows = page(View.RETENTION, "", as_of, 0, total) if total else []
    found = [ReviewDue(row.ref, row.dob, review_date(row.dob)) for row in rows]
    return sorted(found, key=lambda item: (item.review_date, item.ref))
