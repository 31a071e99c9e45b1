"""The sweep: every listed case's stage, due, duties and flags at a moment. `dsl-console check`
and the console's background worker both run `sweep`; there is no second code path.

A case is listed while it is open, or resolved with a duty still owed (contract section 6).
Cases whose history is wholly at or before the moment use the state cached in the database
(refreshed on every change); the rest are replayed from their events up to the moment, which is
how `--as-of` sees a case as it stood then.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from peewee import chunked

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import iso
from dsl_console.core.deadlines import Standing, case_state, days_left, flags_at
from dsl_console.core.duties import clock_for
from dsl_console.core.flags import RETENTION_REVIEW
from dsl_console.core.procedures import Duty, Procedure
from dsl_console.core.records import OPEN
from dsl_console.services.session import Session
from dsl_console.store.cases import load_case, owed_duties
from dsl_console.store.listing import STANDING_COLUMNS, retention_cutoff, standing_of
from dsl_console.store.models import ChildRow, Escalation, UtcField, utc_text


@dataclass(frozen=True)
class OwedDuty:
    """An outstanding duty as `check --json` lists it."""

    id: str
    what: str
    party: str
    arose_at: datetime | None
    due: datetime | None
    working_days_left: int | None
    soft: bool

    def to_json(self, text_of: Callable[[datetime | None], str | None] = iso) -> dict[str, object]:
        return {
            "id": self.id,
            "what": self.what,
            "party": self.party,
            "arose_at": text_of(self.arose_at),
            "due": text_of(self.due),
            "working_days_left": self.working_days_left,
            "soft": self.soft,
        }


@dataclass(frozen=True)
class CaseFlags:
    """One listed case as the sweep sees it."""

    ref: str
    procedure: str
    stage: int
    due: datetime | None
    working_days_left: int | None
    risk_due: datetime | None
    flags: tuple[str, ...]
    status: str = OPEN
    duties: tuple[OwedDuty, ...] = ()
    school_due: datetime | None = None  # the earliest of the stage's and the duties' dues

    def to_json(self, text_of: Callable[[datetime | None], str | None] = iso) -> dict[str, object]:
        """The case's entry in `check --json` (`text_of`: how moments are written; a sweep
        of 100,000 cases passes a remembering one, dues being few)."""
        return {
            "ref": self.ref,
            "procedure": self.procedure,
            "status": self.status,
            "stage": self.stage,
            "due": text_of(self.due),
            "working_days_left": self.working_days_left,
            "risk_due": text_of(self.risk_due),
            "flags": list(self.flags),
            "duties": [d.to_json(text_of) for d in self.duties],
        }


def remembering_iso() -> Callable[[datetime | None], str | None]:
    """`iso`, remembering each moment's text."""
    return _remembering(iso)


K = TypeVar("K")
V = TypeVar("V")

_COLUMNS = (
    Escalation.ref,
    Escalation.procedure,
    Escalation.procedure_version,
    *STANDING_COLUMNS,
    Escalation.last_event_at,
    Escalation.opened_at,
)

_STANDING = slice(3, 3 + len(STANDING_COLUMNS))  # where a row holds them

# (ref, procedure, version, standing, outstanding duties: empty unless asked for)
_Listed = tuple[str, str, str, Standing, tuple[OwedDuty, ...]]


def _rows(
    as_of: datetime, distrusted: Collection[str] = ()
) -> Iterator[tuple[tuple[Any, ...], bool]]:
    """The rows of every case that may be listed at the moment, each with whether its cached
    state can be used (its history lies wholly at or before the moment, and the state was not
    found to disagree with the events: `distrusted`, which are replayed whatever their cached
    columns say, listed or not)."""
    yield from _trusted_rows(as_of, distrusted)
    if distrusted:
        db = Escalation._meta.database
        as_of_text = utc_text(as_of)
        for refs in chunked(sorted(distrusted), 500):
            sql, params = Escalation.select(*_COLUMNS).where(Escalation.ref.in_(list(refs))).sql()
            for row in db.execute_sql(sql, params):
                if row[-1] <= as_of_text:
                    yield row, False


def _trusted_rows(
    as_of: datetime, distrusted: Collection[str]
) -> Iterator[tuple[tuple[Any, ...], bool]]:
    # Rows come straight from the cursor: Peewee's per-row conversion was most of the cost of
    # 40,000 open cases, and most rows only need their text compared (fixed-width UTC text:
    # text order is time order).
    db = Escalation._meta.database
    as_of_text = utc_text(as_of)
    # The cases listed now. Only is_live is asked of SQLite, so that escalation_live, which
    # holds every column read, serves it.
    sql, params = Escalation.select(*_COLUMNS).where(Escalation.is_live == True).sql()  # noqa: E712
    for row in db.execute_sql(sql, params):
        if row[-1] <= as_of_text and row[0] not in distrusted:
            yield row, row[-2] <= as_of_text
    # Cases not listed now whose history goes on after the moment (resolved, voided or a duty
    # discharged since): as they stood then they may have been (only an --as-of in the past).
    # Only the moment is asked of SQLite, so that it seeks escalation_last_event to the few
    # cases whose history goes on after it; the live ones, listed above, are skipped here.
    sql, params = (
        Escalation.select(*_COLUMNS, Escalation.is_live)
        .where((Escalation.last_event_at > as_of) & (Escalation.opened_at <= as_of))
        .sql()
    )
    for *row, live in db.execute_sql(sql, params):
        if not live and row[0] not in distrusted:
            yield tuple(row), False


def _listed(
    session: Session,
    as_of: datetime,
    with_duties: bool,
    distrusted: Collection[str],
    forged: Collection[int] = (),
) -> Iterator[_Listed]:
    moment = _moment_reader()
    owed = _owed_reader(session, as_of) if with_duties else None
    make = _duty_maker(session.calendar, as_of)
    # Cases share their standings (a few thousand distinct among 40,000 open): each is built
    # once from its columns' stored text.
    standings: dict[tuple[Any, ...], Standing] = {}
    for row, cached in _rows(as_of, distrusted):
        ref, proc, version = row[:3]
        if cached:
            columns = row[_STANDING]
            standing = standings.get(columns)
            if standing is None:
                standing = standings[columns] = standing_of(columns, moment)
            duties = owed(ref, proc, version) if owed and standing.owes else ()
            yield ref, proc, version, standing, duties
            continue
        case = load_case(ref, without=forged)
        procedure = session.registry.get(proc, version or None)
        state = case_state(case, procedure, session.calendar, as_of)
        duties = tuple(
            make(procedure, d.duty.id, d.arose_at, d.due)
            for d in (state.outstanding() if with_duties else ())
        )
        yield ref, proc, version, state.standing, duties


def _owed_reader(
    session: Session, as_of: datetime
) -> Callable[[str, str, str], tuple[OwedDuty, ...]]:
    """The cached outstanding duties of the cases that owe any, read in one query."""
    db = Escalation._meta.database
    # The partial index holds exactly these rows and columns (20,000 owing cases read from it
    # in 0.02 s, against 0.25 s from their rows). SQLite matches a partial index only to
    # literal terms, and prefers the list's index unless told.
    cached = dict(
        db.execute_sql(
            "SELECT ref, duties FROM escalation INDEXED BY escalation_owed "
            "WHERE is_live = 1 AND owes = 1"
        ).fetchall()
    )
    moment = _moment_reader()
    make = _duty_maker(session.calendar, as_of)

    def owed(ref: str, proc: str, version: str) -> tuple[OwedDuty, ...]:
        procedure = session.registry.get(proc, version or None)
        return tuple(
            make(procedure, duty_id, moment(arose), moment(due))
            for duty_id, arose, due in owed_duties(cached.get(ref) or "")
        )

    return owed


def _duty_maker(
    calendar: WorkingCalendar, as_of: datetime
) -> Callable[[Procedure, str, datetime | None, datetime | None], OwedDuty]:
    """OwedDuty from a duty's id and moments; the duty and its clock looked up once per
    procedure, working days left once per due (72,000 duties share a few hundred dues)."""
    duties: dict[tuple[str, str, str], tuple[Duty, WorkingCalendar]] = {}
    left: dict[tuple[int, datetime], int] = {}

    def make(
        procedure: Procedure, duty_id: str, arose_at: datetime | None, due: datetime | None
    ) -> OwedDuty:
        key = (procedure.id, procedure.version, duty_id)
        found = duties.get(key)
        if found is None:
            duty = procedure.duty(duty_id)
            found = duties[key] = (duty, clock_for(duty, calendar))
        duty, clock = found
        days = None
        if due is not None:
            memo = (id(clock), due)
            days = left.get(memo)
            if days is None:
                days = left[memo] = clock.working_days_left(as_of, due)
        return OwedDuty(duty.id, duty.what, duty.party, arose_at, due, days, duty.soft)

    return make


def _moment_reader() -> Callable[[str | None], datetime | None]:
    """Stored UTC text to a moment, remembered: dues fall on a few hundred distinct moments."""
    return _remembering(UtcField().python_value)


def _remembering(convert: Callable[[K], V]) -> Callable[[K], V]:
    """`convert`, each answer kept: a sweep converts the same few hundred dues thousands of
    times. None converts to None."""
    seen: dict[K, V] = {}

    def remembered(value: K) -> V:
        if value is None:
            return None  # type: ignore[return-value]
        found = seen.get(value, _UNSEEN)
        if found is _UNSEEN:
            found = seen[value] = convert(value)
        return found  # type: ignore[return-value]

    return remembered


_UNSEEN: Any = object()


def sweep(
    session: Session,
    as_of: datetime | None = None,
    *,
    with_duties: bool = False,
    distrusted: Collection[str] = (),
    forged: Collection[int] = (),
) -> list[CaseFlags]:
    """Every case listed at the moment, most urgent first, with its flags (and, when asked,
    its outstanding duties, which `check` prints and the console's sweep does not need).
    `distrusted`: cases whose cached state was found to disagree with their events
    (store.cases.stale_states), judged from the events alone, less any written by the audit
    entries `forged` (changes their authors did not make: store.account_trail)."""
    as_of = as_of or session.now()
    calendar = session.calendar
    # Working days left and flags depend only on the standing (the moment is fixed): computed
    # once per distinct one rather than once per case.
    left: dict[datetime | None, int | None] = {}
    flagged: dict[Standing, tuple[str, ...]] = {}
    review = refs_for_review(as_of)
    found = []
    for ref, proc, _version, standing, duties in _listed(
        session, as_of, with_duties, frozenset(distrusted), frozenset(forged)
    ):
        if not standing.listed:
            continue
        if standing.due not in left:
            left[standing.due] = days_left(standing, calendar, as_of)
        flags = flagged.get(standing)
        if flags is None:
            flags = flagged[standing] = tuple(flags_at(standing, as_of))
        if ref in review and standing.status == OPEN:
            flags = (*flags, RETENTION_REVIEW.id)
        found.append(
            CaseFlags(
                ref=ref,
                procedure=proc,
                stage=standing.stage,
                due=standing.due,
                working_days_left=left[standing.due],
                risk_due=standing.risk_due,
                flags=flags,
                status=standing.status,
                duties=duties,
                school_due=standing.school_due,
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
    """The case list's order: outstanding risk first, then by the earliest due the school must
    meet, the stage's or a duty's (overdue most late first), then no deadline."""
    if item.risk_due is not None:
        return (0, item.risk_due, item.ref)
    if item.school_due is not None:
        return (1, item.school_due, item.ref)
    return (2, datetime.max.isoformat(), item.ref)
