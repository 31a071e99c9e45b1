"""Keys typed while the console starts: held, unseen, for the console.

Between the command and the console taking over the terminal (a third of a second or more:
the imports, the unlock), the terminal is still the shell's. What a hurried user types in
that moment was echoed there (a passphrase typed ahead stayed on the shell's screen after the
console had closed) and Ctrl+Q, taken as flow control, never reached the console. While the
console starts, the terminal echoes nothing and passes Ctrl+Q and Ctrl+S on as keys; what is
typed waits, unread, for the console. The terminal's own settings are put back when the
console ends, whatever the console restored before that.

The `dsl-console` command begins the hold as its very first step (`hold_from_the_start`),
before it imports the command line (70 ms, more on a busy server): a passphrase typed in that
moment was still echoed. A command that is not the console lets go as soon as it is known
(`let_go`), so its prompts echo as usual.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


class _Hold:
    """The terminal quiet (no echo, no flow control) until `end`; nothing if not a terminal."""

    def __init__(self) -> None:
        self._fd = -1
        self._before: list | None = None
        try:
            import termios
        except ImportError:  # not POSIX: the console's own driver is all there is
            return
        try:
            fd = sys.stdin.fileno()
            before = termios.tcgetattr(fd)
        except (OSError, ValueError, termios.error):  # not a terminal: nothing is echoed anyway
            return
        quiet = termios.tcgetattr(fd)
        quiet[3] &= ~(termios.ECHO | termios.ECHONL)  # local modes: no echo
        quiet[0] &= ~termios.IXON  # input modes: Ctrl+S and Ctrl+Q are keys, not XOFF and XON
        try:
            # TCSANOW rather than TCSAFLUSH: what was already typed is kept, for the console.
            termios.tcsetattr(fd, termios.TCSANOW, quiet)
        except termios.error:
            return
        self._fd, self._before = fd, before

    def end(self) -> None:
        """Put the terminal's own settings back (once; later calls do nothing)."""
        before, self._before = self._before, None
        if before is None:
            return
        import termios

        try:
            termios.tcsetattr(self._fd, termios.TCSANOW, before)
        except termios.error:
            pass


_early: _Hold | None = None


def hold_from_the_start() -> None:
    """The command's first step: hold typed keys until the console takes them or `let_go`."""
    global _early
    if _early is None:
        _early = _Hold()


def let_go() -> None:
    """End the hold begun at the start, if any: for a command that is not the console, and
    as the command ends, whatever happened before."""
    global _early
    hold, _early = _early, None
    if hold is not None:
        hold.end()


@contextmanager
def held_for_the_console() -> Iterator[None]:
    """Within: the terminal echoes no key and takes none as flow control (POSIX only). Takes
    over the hold begun at the start, if there is one."""
    global _early
    hold, _early = _early, None
    hold = hold or _Hold()
    try:
        yield
    finally:
        hold.end()
