"""This process's own protections, set before anything sensitive is in memory."""

from __future__ import annotations

import sys


def no_core_dumps() -> None:
    """A crash must not leave a file holding the key, the passphrase and children's names:
    no core file whatever the shell allows, and (Linux) not dumpable, which also keeps other
    processes of the same user from reading this one's memory or its /proc environ."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass  # not on this system (Windows): there is no core file to prevent
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
        except (OSError, AttributeError):
            pass


_PR_SET_DUMPABLE = 4  # <linux/prctl.h>
