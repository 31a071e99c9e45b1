"""The flags a case can carry (contract section 6), each defined once.

The list's symbols and colours, the header's counts, the sweep's announcements, help and the
case screen all read these definitions; adding a flag is adding one here (and, where the
engine raises it, one line in `deadlines.flags_at` and its cached column in the store).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flag:
    """One flag: its id in `check`, how it is shown, how serious it is and what to do."""

    id: str
    symbol: str  # shown beside the colour, so meaning never rests on colour alone
    words: str  # in sentences: "3 overdue"
    short: str  # in the header at narrow widths
    severity: str  # error, warning or information: how an announcement of it is shown
    advice: str  # what to do now, in words a DSL acts on
    component: str  # the style name suffix in the list and header (case-table--<component>)
    tone: str = "notice"  # how strongly it is coloured: alarm, error, warning, notice, quiet


IMMEDIATE_RISK = Flag(
    "immediate-risk",
    "!!",
    "immediate risk",
    "risk",
    "error",
    "escalate the immediate risk the same working day using safeguarding procedures",
    "risk",
    "alarm",
)
OVERDUE = Flag(
    "overdue",
    "OD",
    "overdue",
    "overdue",
    "error",
    "a stage or a duty is past its due: act on it or record why the timescale was missed",
    "overdue",
    "error",
)
DUE_TODAY = Flag(
    "due-today",
    "T",
    "due today",
    "today",
    "warning",
    "a stage or a duty falls due later today",
    "due-today",
    "warning",
)
IRO_NOTICE = Flag(
    "iro-notice",
    "IRO",
    "IRO notice due",
    "notice",
    "warning",
    "tell the child's Independent Reviewing Officer, then record it",
    "iro",
)
PARTNERSHIP_NOTICE = Flag(
    "partnership-notice",
    "P",
    "partnership report due",
    "report",
    "warning",
    "send the partnership the form or email its procedure asks for, then record it",
    "partnership",
)
RESPONSE_OVERDUE = Flag(
    "response-overdue",
    "R!",
    "reply overdue",
    "reply",
    "warning",
    "the other agency has not replied in time: chase them",
    "response",
)
RETENTION_REVIEW = Flag(
    "retention-review",
    "RR",
    "retention review due",
    "review",
    "information",
    "the child is 25: review whether the record is still kept",
    "retention",
    "quiet",
)

# In the contract's order, which is the order flags are listed in everywhere.
FLAGS: tuple[Flag, ...] = (
    IMMEDIATE_RISK,
    OVERDUE,
    DUE_TODAY,
    IRO_NOTICE,
    PARTNERSHIP_NOTICE,
    RESPONSE_OVERDUE,
    RETENTION_REVIEW,
)
BY_ID: dict[str, Flag] = {f.id: f for f in FLAGS}
# The flags the sweep raises from a case's state (retention review comes from the child's age
# and has a quick view of its own rather than a count or an announcement).
STATE_FLAGS: tuple[Flag, ...] = FLAGS[:-1]


def ordered(ids: set[str] | frozenset[str] | tuple[str, ...] | list[str]) -> list[Flag]:
    """The flags with these ids, in the fixed order."""
    return [f for f in FLAGS if f.id in ids]
