"""Keys typed while the console starts: held, unseen, for the console.

Between the command and the console taking over the terminal (a third of a second or more:
the imports, the unlock), the terminal is still the shell's. What a hurried user types in
that moment was echoed there (a passphrase typed ahead stayed on the shell's screen after the
console had closed) and Ctrl+Q, taken as flow control, never reached the console. While the
console starts, the terminal echoes nothing and passes Ctrl+Q and Ctrl+S on as keys; what is
typed waits, unread, for the console. The terminal's own settings are put back when the
console ends, whatever the console restored before that.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def held_for_the_console() -> Iterator[None]:
    """Within: the terminal echoes no key and takes none as flow control (POSIX only)."""
    try:
        import termios
    except ImportError:  # not POSIX: the console's own driver is all there is
        yield
        return
    try:
        fd = sys.stdin.fileno()
        before = termios.tcgetattr(fd)
    except (OSError, ValueError, termios.error):  # not a terminal: nothing is echoed anyway
        yield
        return
    quiet = termios.tcgetattr(fd)
    quiet[3] &= ~(termios.ECHO | termios.ECHONL)  # local modes: no echo
    quiet[0] &= ~termios.IXON  # input modes: Ctrl+S and Ctrl+Q are keys, not XOFF and XON
    # TCSANOW rather than TCSAFLUSH: what was already typed is kept, for the console.
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        try:
            termios.tcsetattr(fd, termios.TCSANOW, before)
        except termios.error:
            pass
