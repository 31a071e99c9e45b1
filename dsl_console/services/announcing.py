"""What the console says after a sweep: new flags as notices, each announced once until it
changes, and whether the case list needs redrawing.

The sweep itself is `services.sweep.sweep`, the code `dsl-console check` runs; this module
only compares its results with what was announced before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.flags import (
    BY_ID,
    DUE_TODAY,
    IMMEDIATE_RISK,
    OVERDUE,
    RETENTION_REVIEW,
    STATE_FLAGS,
)
from dsl_console.core.wording import countdown, risk_instruction
from dsl_console.services.sweep import CaseFlags

# More new flags than this in one sweep (the first one after unlocking, say) are summed up in
# one notice rather than a wall of them.
MAX_NOTICES = 5
# After unlocking, up to this many flagged cases are named one by one; more are summed up.
FEW_AT_UNLOCK = 2


@dataclass(frozen=True)
class Notice:
    """What to tell the user about one case: the ref and what to do now (never a name)."""

    ref: str
    text: str
    severity: str  # "error", "warning" or "information", as Textual's notify takes it
    bell: bool
    flags: tuple[str, ...]  # the flags newly raised, most urgent first


def instruction(item: CaseFlags, flag: str, as_of: datetime, calendar: WorkingCalendar) -> str:
    """What to do now about one flag on one case."""
    if flag == IMMEDIATE_RISK.id and item.risk_due is not None:
        return f"immediate risk: {risk_instruction(item.risk_due, as_of, calendar)}"
    stage_drives = item.due is not None and item.school_due == item.due
    if flag in (OVERDUE.id, DUE_TODAY.id) and not stage_drives:
        late = "is overdue" if flag == OVERDUE.id else "falls due today"
        return f"a duty {late}: open the case to see it and record what was done"
    when = countdown(item.due, item.working_days_left, as_of)
    if flag == OVERDUE.id:
        return (
            f"stage {item.stage} {when}: escalate to the next stage or record why the "
            "timescale was missed"
        )
    if flag == DUE_TODAY.id:
        return f"stage {item.stage} {when}: resolve, escalate or record the outcome today"
    return f"{BY_ID[flag].words}: {BY_ID[flag].advice}"


LATE_RISK = IMMEDIATE_RISK.id + "@late"
_RANK = {"error": 0, "warning": 1, "information": 2}


def _tokens(item: CaseFlags, as_of: datetime) -> frozenset[str]:
    # A risk whose same-day deadline has passed is announced again: what to do has changed
    # (out of hours, the emergency duty team or the police).
    late = item.risk_due is not None and item.risk_due <= as_of
    return frozenset(LATE_RISK if f == IMMEDIATE_RISK.id and late else f for f in item.flags)


@dataclass(frozen=True)
class SweepNews:
    """What one sweep means for the user: its notices, the flags they leave announced, and a
    digest of what the case list shows (unchanged digest: nothing to redraw).

    Only flagged cases are in `announced` (a case without one needs no entry). A sweep run in
    its own process keeps `announced` there and sends the news without it.
    """

    notices: list[Notice]
    announced: dict[str, frozenset[str]] = field(repr=False)
    digest: str = ""
    number: int = 0  # which sweep of its sweeper, for accepting news sent without `announced`
    # The refs with an immediate risk outstanding: few, so sent with the news everywhere; a
    # risk notice still shown about any other case is no longer true and is taken down.
    at_risk: frozenset[str] = frozenset()
    # The refs whose cached state the sweeper has just found contradicting their events
    # (written outside the console), for the console to put right on the record; judged from
    # their events by this sweep and the next, until the sweeper looks again.
    suspect: frozenset[str] = frozenset()


class FlagMemory:
    """Which flags have been announced for each case, so each is announced once.

    `compare` only reads the memory, so it runs beside the sweep, off the UI thread (about half
    a second at 100,000 cases); the console calls `accept` once it has shown the notices, so a
    sweep whose notices were never shown (the console locked meanwhile) announces nothing.
    """

    def __init__(self) -> None:
        self._announced: dict[str, frozenset[str]] = {}

    def compare(
        self, results: Iterable[CaseFlags], as_of: datetime, calendar: WorkingCalendar
    ) -> SweepNews:
        """Notices for the flags that are new since the last accepted sweep, most urgent first.

        A flag that clears is forgotten, so if it comes back it is announced again.
        """
        announced = self._announced  # one reference: `accept` replaces it, never mutates it
        notices = []
        seen: dict[str, frozenset[str]] = {}
        shared: dict[frozenset[str], frozenset[str]] = {}  # one set object per combination
        listed = hashlib.blake2b(digest_size=16)
        at_risk: set[str] = set()
        for item in results:
            # What the list shows of the case changes only with its flags or its countdown.
            # (The earliest due moves the list's order and its Due column, the stage's or a
            # duty's; days left to it are what the countdown shows.)
            shown = item.school_due and calendar.working_days_left(as_of, item.school_due)
            if not item.flags:
                listed.update(f"{item.ref}|{item.working_days_left}|{shown}\n".encode())
                continue
            tokens = _tokens(item, as_of)
            if IMMEDIATE_RISK.id in item.flags:
                at_risk.add(item.ref)
            listed.update(
                f"{item.ref}|{sorted(tokens)}|{item.working_days_left}|{shown}\n".encode()
            )
            seen[item.ref] = shared.setdefault(tokens, tokens)
            new = tokens - announced.get(item.ref, frozenset())
            if not new:
                continue
            new_flags = {IMMEDIATE_RISK.id if t == LATE_RISK else t for t in new}
            # Retention review has its own quick view; it is not announced.
            ordered = [f for f in STATE_FLAGS if f.id in new_flags and f is not RETENTION_REVIEW]
            if not ordered:
                continue
            text = f"{item.ref}: " + "; ".join(
                instruction(item, f.id, as_of, calendar) for f in ordered
            )
            risk = IMMEDIATE_RISK.id in new_flags
            severity = min((f.severity for f in ordered), key=_RANK.__getitem__)
            notices.append(Notice(item.ref, text, severity, risk, tuple(f.id for f in ordered)))
        return SweepNews(notices, seen, listed.hexdigest(), at_risk=frozenset(at_risk))

    def accept(self, news: SweepNews) -> None:
        """Remember the flags of a sweep whose notices have been shown."""
        self._announced = news.announced


def condense(notices: list[Notice], *, first: bool = False) -> tuple[list[Notice], str]:
    """The notices to show one by one, and a one-line summary of the rest ("" when none).

    Immediate risks come first, up to MAX_NOTICES of them. After unlocking (`first`), other
    flags are summed up unless there are only a few, since the list's header already counts
    them; later, the room left under MAX_NOTICES is filled with them.
    """
    risks = [n for n in notices if n.bell]
    others = [n for n in notices if not n.bell]
    shown = risks[:MAX_NOTICES]
    room = MAX_NOTICES - len(shown)
    if first and len(others) > FEW_AT_UNLOCK:
        room = 0
    shown += others[:room]
    rest = risks[len(shown) :] if len(risks) > MAX_NOTICES else []
    rest += others[room:]
    if not rest:
        return shown, ""
    counts = {flag: sum(flag.id in n.flags for n in rest) for flag in STATE_FLAGS}
    words = ", ".join(f"{n} {flag.words}" for flag, n in counts.items() if n)
    cases = (
        f"{len(rest)} more case{'' if len(rest) == 1 else 's'}"
        if shown
        else (f"{len(rest)} case{'' if len(rest) == 1 else 's'}")
    )
    return shown, f"{cases} flagged ({words}): press 2 on the case list for the flagged view"
