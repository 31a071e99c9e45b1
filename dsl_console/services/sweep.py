"""The sweep: every open case's stage, due and flags at a moment. `dsl-console check` and the
console's background worker both run `sweep`; there is no second code path.

Cases whose history is wholly at or before the moment use the state cached in the database
(refreshed on every change); the rest are replayed from their events up to the moment, which is
how `--as-of` sees a case as it stood then.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from dsl_console.core.clock import iso
from dsl_console.core.deadlines import Standing, case_state, days_left, flags_at
from dsl_console.services.session import Session
from dsl_console.store.cases import load_case
from dsl_console.store.models import Escalation


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


def _standings(session: Session, as_of: datetime) -> Iterator[tuple[str, str, Standing]]:
    cols = (
        Escalation.ref,
        Escalation.procedure,
        Escalation.procedure_version,
        Escalation.stage,
        Escalation.due_at,
        Escalation.risk_due_at,
        Escalation.iro_notice,
        Escalation.resolved_at,
        Escalation.last_event_at,
    )
    query = (
        Escalation.select(*cols)
        .where(
            (Escalation.opened_at <= as_of)
            & ((Escalation.is_open == True) | (Escalation.resolved_at > as_of))  # noqa: E712
        )
        .tuples()
    )
    for ref, proc, version, stage, due, risk_due, iro, resolved, last in query.iterator():
        if last <= as_of:
            yield ref, proc, Standing(stage, due, risk_due, iro, resolved)
            continue
        case = load_case(ref)
        procedure = session.registry.get(proc, version or None)
        yield ref, proc, case_state(case, procedure, session.calendar, as_of).standing


def sweep(session: Session, as_of: datetime | None = None) -> list[CaseFlags]:
    """Every case open at the moment, most urgent first, with its flags."""
    as_of = as_of or session.now()
    found = []
    for ref, proc, standing in _standings(session, as_of):
        if standing.resolved_at is not None and standing.resolved_at <= as_of:
            continue
        found.append(
            CaseFlags(
                ref=ref,
                procedure=proc,
                stage=standing.stage,
                due=standing.due,
                working_days_left=days_left(standing, session.calendar, as_of),
                risk_due=standing.risk_due,
                flags=tuple(flags_at(standing, as_of)),
            )
        )
    found.sort(key=urgency_key)
    return found


def urgency_key(item: CaseFlags) -> tuple[object, ...]:
    """Outstanding risk first, then by due (overdue most late first), then no deadline."""
    if item.risk_due is not None:
        return (0, item.risk_due, item.ref)
    if item.due is not None:
        return (1, item.due, item.ref)
    return (2, datetime.max.isoformat(), item.ref)
