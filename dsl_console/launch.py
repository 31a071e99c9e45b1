"""The `dsl-console` command's entry point: Ctrl+C is quiet from its first moment.

The command line's modules take tens of milliseconds to import, and a Ctrl+C landing in them
(a DSL pressing it as the command starts) once printed a Python traceback. They are imported
here, inside the same guard that `cli.main` keeps for the rest of the run. (Only the
interpreter's own first milliseconds, before any of this runs, are beyond it.) Keys typed
from its first step are held for the console (typeahead.py).
"""

from __future__ import annotations

import sys

INTERRUPTED = 130  # as cli.INTERRUPTED; not imported from there, which is what is guarded


def main() -> int:
    """Import the command line and run it; exit 130, with one line, if interrupted first."""
    try:
        # First of all (a few lines, no imports worth the name): keys typed from here on wait,
        # unseen, for the console.
        from dsl_console import typeahead

        typeahead.hold_from_the_start()
        from dsl_console.cli import main as run
    except KeyboardInterrupt:
        _let_go()
        sys.stderr.write("dsl-console: interrupted; nothing was left half-written\n")
        return INTERRUPTED
    try:
        return run()
    finally:
        _let_go()  # whatever ended the command, the terminal is the user's again


def _let_go() -> None:
    held = sys.modules.get("dsl_console.typeahead")  # absent if interrupted before its import
    try:
        if held is not None:
            held.let_go()
    except KeyboardInterrupt:
        pass  # a second Ctrl+C as it ends: the exit status already says interrupted
