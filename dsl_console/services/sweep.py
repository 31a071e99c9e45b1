"""The sweep: every open case's stage, due and flags at a moment. `dsl-console check` and the
console's background worker both run `sweep`; there is no second code path.

Cases whose history is wholly at or before the moment use the state cached in the database
(refreshed on every change); the rest are replayed from their events up to the moment, which is
how `--as-of` sees a case as it stood then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from dsl_console.core.clock import iso
from dsl_console.core.deadlines import Standing, case_state, days_left, flags_at
from dsl_console.services.session import Session
from dsl_console.store.cases import load_case
from dsl_console.store.listing import retention_cutoff
from dsl_console.store.models import ChildRow, Escalation, UtcField, utc_text


@dataclass(frozen=True)
class CaseFlags:
    """One open case as the sweep sees it."""

    ref: str
    procedure: str
    stage: int
    due: datetime | None
    working_days_left: int | None
    risk_due: datetime | None
    flags: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        """The case's entry in `check --json`."""
        return {
            "ref": self.ref,
            "procedure": self.procedure,
            "stage": self.stage,
            "due": iso(self.due),
            "working_days_left": self.working_days_left,
            "risk_due": iso(self.risk_due),
            "flags": list(self.flags),
        }


# Beyond the contract's four flags: the record has reached its retention review date.
FLAG_RETENTION_REVIEW = "retention-review"

_COLUMNS = (
    Escalation.ref,
    Escalation.procedure,
    Escalation.procedure_version,
    Escalation.stage,
    Escalation.due_at,
    Escalation.risk_due_at,
    Escalation.iro_notice,
    Escalation.last_event_at,
    Escalation.opened_at,
)


def _rows(as_of: datetime) -> Iterator[tuple[Any, ...]]:
    """(ref, procedure, version, stage, due, risk due, IRO notice, last event, resolved) as
    stored, for every case open at the moment."""
    # Two queries, each served by an index alone. Rows come straight from the cursor: Peewee's
    # per-row conversion was most of the cost of 40,000 open cases, and most rows only need
    # their text compared (fixed-width UTC text: text order is time order).
    db = Escalation._meta.database
    as_of_text = utc_text(as_of)
    # The cases open now. Only is_open is asked of SQLite, so that escalation_list, which holds
    # every column read, serves it: with opened_at in the query the planner seeks
    # escalation_newest instead and reads 40,000 table rows.
    sql, params = Escalation.select(*_COLUMNS).where(Escalation.is_open == True).sql()  # noqa: E712
    for *row, opened in db.execute_sql(sql, params):
        if opened <= as_of_text:
            yield (*row, None)
    # Cases resolved after the moment were still open then (only an --as-of in the past).
    sql, params = (
        Escalation.select(*_COLUMNS, Escalation.resolved_at)
        .where((Escalation.resolved_at > as_of) & (Escalation.opened_at <= as_of))
        .sql()
    )
    for *row, _opened, resolved in db.execute_sql(sql, params):
        yield (*row, resolved)


def _standings(session: Session, as_of: datetime) -> Iterator[tuple[str, str, Standing]]:
    moment = _moment_reader()
    as_of_text = utc_text(as_of)
    for ref, proc, version, stage, due, risk_due, iro, last, resolved in _rows(as_of):
        if last <= as_of_text:
            yield (
                ref,
                proc,
                Standing(stage, moment(due), moment(risk_due), bool(iro), moment(resolved)),
            )
            continue
        case = load_case(ref)
        procedure = session.registry.get(proc, version or None)
        yield ref, proc, case_state(case, procedure, session.calendar, as_of).standing


def _moment_reader() -> Callable[[str | None], datetime | None]:
    """Stored UTC text to a moment, remembered: dues fall on a few hundred distinct moments."""
    convert = UtcField().python_value
    seen: dict[str | None, datetime | None] = {None: None}

    def moment(text: str | None) -> datetime | None:
        found = seen.get(text, _UNSEEN)
        if found is _UNSEEN:
            found = seen[text] = convert(text)
        return found  # type: ignore[return-value]

    return moment


_UNSEEN = object()


def sweep(session: Session, as_of: datetime | None = None) -> list[CaseFlags]:
    """Every case open at the moment, most urgent first, with its flags."""
    as_of = as_of or session.now()
    calendar = session.calendar
    # Working days left and flags depend only on the due (the moment is fixed): computed once
    # per distinct standing rather than once per case.
    left: dict[datetime | None, int | None] = {}
    flagged: dict[Standing, tuple[str, ...]] = {}
    review = refs_for_review(as_of)
    found = []
    for ref, proc, standing in _standings(session, as_of):
        if standing.resolved_at is not None and standing.resolved_at <= as_of:
            continue
        if standing.due not in left:
            left[standing.due] = days_left(standing, calendar, as_of)
        flags = flagged.get(standing)
        if flags is None:
            flags = flagged[standing] = tuple(flags_at(standing, as_of))
        if ref in review:
            flags = (*flags, FLAG_RETENTION_REVIEW)
        found.append(
            CaseFlags(
                ref=ref,
                procedure=proc,
                stage=standing.stage,
                due=standing.due,
                working_days_left=left[standing.due],
                risk_due=standing.risk_due,
                flags=flags,
            )
        )
    found.sort(key=urgency_key)
    return found


def refs_for_review(as_of: datetime) -> set[str]:
    """Open cases whose child has reached the retention review date (DOB + 25 years)."""
    cutoff = retention_cutoff(as_of)
    # From the few children past the date (child_dob) to their cases (escalation_child_id).
    # Open or not is tested here, not in SQL: asked there, SQLite starts from the 40,000 open
    # cases instead and reads each one's row at 100,000 cases.
    children = ChildRow.select(ChildRow.id).where(ChildRow.dob <= cutoff)
    query = (
        Escalation.select(Escalation.ref, Escalation.is_open)
        .where(Escalation.child.in_(children))
        .tuples()
    )
    return {str(ref) for ref, is_open in cast(Iterable[tuple[Any, ...]], query) if is_open}


def urgency_key(item: CaseFlags) -> tuple[object, ...]:
    """Outstanding risk first, then by due (overdue most late first), then no deadline."""
    if item.risk_due is not None:
        return (0, item.risk_due, item.ref)
    if item.due is not None:
        return (1, item.due, item.ref)
    return (2, datetime.max.isoformat(), item.ref)
