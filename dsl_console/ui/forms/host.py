"""What the case screen and the forms need from the console app, and London-time wording.

The forms are pushed by the app (the case list, the case screen); they reach the session and
the app's hooks through this small protocol rather than importing the app module, so they can
be exercised inside any App that provides the same four members.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol, cast

from dsl_console.core.wording import stamp

__all__ = ["ConsoleHost", "day_text", "host", "input_moment", "session_of", "stamp"]
from dsl_console.errors import AccessError
from dsl_console.services.session import Session


class ConsoleHost(Protocol):
    """The members of DslConsoleApp the case screen and the forms rely on."""

    session: Session | None

    def now(self) -> datetime: ...

    def case_changed(self, ref: str = "") -> None: ...

    def open_case(self, ref: str) -> None: ...


def host(app: object) -> ConsoleHost:
    """The running app seen as a ConsoleHost."""
    return cast(ConsoleHost, app)


def session_of(app: object) -> Session:
    """The app's open session; refused (as an AccessError) while the console is locked."""
    session = host(app).session
    if session is None:
        raise AccessError("the console is locked: unlock it first")
    return session


def day_text(day: date | None) -> str:
    """A calendar date as dd/mm/yyyy."""
    return "" if day is None else f"{day:%d/%m/%Y}"


def input_moment(moment: datetime) -> str:
    """A moment as London local time, as the inputs show it: DD/MM/YYYY HH:MM."""
    return stamp(moment)
