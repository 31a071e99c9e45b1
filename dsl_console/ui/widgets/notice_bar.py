"""The case list's notices, in lines of their own above the footer: never over the rows.

A notice about an immediate risk stays while the risk is outstanding (the app takes it down
when the case changes or a sweep no longer finds the risk); the others go after a short while.
ctrl+d takes every notice down. Immediate risks come first; what does not fit is counted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual.content import Content
from textual.widgets import Static

# Lines of notices shown at most; the table keeps the rest of the screen.
MAX_LINES = 3
# How long a notice that is not about an immediate risk stays, in seconds.
OTHER_SECONDS = 12.0


@dataclass(frozen=True)
class ShownNotice:
    """One line of the bar: the case it is about, the text, and when it goes (None: it stays
    until taken down)."""

    ref: str
    text: str
    risk: bool
    until: float | None


class NoticeBar(Static):
    """Notices about cases, one line each, above the footer (hidden when there are none)."""

    DEFAULT_CSS = """
    NoticeBar {
        height: auto;
        max-height: 4;
        padding: 0 1;
        background: $panel;
        border-top: hkey $warning 60%;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        display: none;
    }
    NoticeBar.-shown { display: block; }
    """

    def __init__(self, *, clock: object = time.monotonic, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self._clock = clock
        self._shown: list[ShownNotice] = []

    def on_mount(self) -> None:
        self.set_interval(1.0, self._expire, name="notice expiry")

    @property
    def notices(self) -> list[ShownNotice]:
        """What the bar holds now, in the order shown: immediate risks first, then the
        others, each in the order announced (the sweep announces the most urgent first)."""
        return [n for n in self._shown if n.risk] + [n for n in self._shown if not n.risk]

    def add(self, ref: str, text: str, *, risk: bool) -> None:
        """Show a notice; one about an immediate risk stays until taken down."""
        now: float = self._clock()  # type: ignore[operator]
        until = None if risk else now + OTHER_SECONDS
        # A newer notice about the same case replaces the older one: one line per case.
        kept = [n for n in self._shown if not (n.ref == ref and n.risk <= risk)]
        self._shown = [*kept, ShownNotice(ref, text, risk, until)]
        self._redraw()

    def withdraw(
        self, ref: str | None = None, *, risks_except: frozenset[str] | None = None
    ) -> None:
        """Take down the notices about a case (or every one, with no ref); with
        `risks_except`, the risk notices about any case not in it."""
        if risks_except is not None:
            self._shown = [n for n in self._shown if not n.risk or n.ref in risks_except]
        elif ref is None:
            self._shown = []
        else:
            self._shown = [n for n in self._shown if n.ref != ref]
        self._redraw()

    def _expire(self) -> None:
        now: float = self._clock()  # type: ignore[operator]
        left = [n for n in self._shown if n.until is None or n.until > now]
        if len(left) != len(self._shown):
            self._shown = left
            self._redraw()

    def _redraw(self) -> None:
        self.set_class(bool(self._shown), "-shown")
        if not self._shown:
            self.update("")
            return
        ordered = self.notices
        room = MAX_LINES if len(ordered) <= MAX_LINES else MAX_LINES - 1
        lines = [
            Content.styled("!! " + n.text, "$text-error bold")
            if n.risk
            else Content.styled("•  " + n.text, "$text-warning")
            for n in ordered[:room]
        ]
        hidden = ordered[room:]
        if hidden:
            lines.append(
                Content.styled(f"{_more(hidden, ordered[:room])} · ctrl+d dismisses", "dim")
            )
        else:
            lines[0] = Content.assemble(lines[0], ("  ctrl+d dismisses", "dim"))
        self.update(Content("\n").join(lines))


def _more(hidden: list[ShownNotice], shown: list[ShownNotice]) -> str:
    """The line that stands for the notices left out: the cases they are about, since that
    is what the DSL has to see to (a case may have a risk notice and another; view 2 lists
    every flagged case)."""
    cases = {n.ref for n in hidden} - {n.ref for n in shown}
    if not cases:
        more = len(hidden)
        return f"{more} more notice{'s' if more > 1 else ''} about the cases above"
    return f"{len(cases)} more case{'s' if len(cases) > 1 else ''}: view 2 lists them"
