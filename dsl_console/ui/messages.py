"""App-wide messages: the results that thread workers post back to the UI thread.

Widget-local messages live in the widget that posts them; only those several screens care
about live here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.message import Message

from dsl_console.services.announcing import SweepNews
from dsl_console.services.session import Session


@dataclass
class SweepFinished(Message):
    """A background sweep ran at `as_of`: its notices, worked out beside the sweep.

    Only the news comes here, never the sweep's result for every open case (41,000 objects at
    100,000 cases): kept, they made each full garbage collection slow enough to delay a
    keystroke.
    """

    as_of: datetime
    news: SweepNews


@dataclass
class CasesChanged(Message):
    """Cases were written (by this console or noticed from another process): re-query."""

    ref: str = ""


@dataclass
class StatesRepaired(Message):
    """The check after unlocking found these cases' cached states disagreeing with their
    events (written outside the console) and recomputed them."""

    session: Session
    refs: tuple[str, ...]


@dataclass
class CaseChangeForged(Message):
    """The check after unlocking found a change to the case records in the audit trail that
    its author did not sign or was not allowed to make (store/account_trail.py)."""

    session: Session
    why: str


@dataclass
class IntegrityFailed(Message):
    """The whole-file check run after the list was drawn found `session`'s database damaged."""

    session: Session


@dataclass
class SaveSettled(Message):
    """A form's save, asked for with Ctrl+S, has led somewhere the user can see: the form
    closed, a no to its question, an export started or asked about (`refused` False), or a
    message in place (True). The keys typed after the Ctrl+S waited for this
    (DslConsoleApp._keys_after_save)."""

    refused: bool
