"""Stored text made safe to print to a terminal: no byte of it can act as a control sequence.

Input refuses control characters (core.validation), but a database may hold text written
before that rule or outside the console; whatever reaches a terminal goes through `safe`.
"""

from __future__ import annotations

import re

# The bidirectional embeddings, overrides and isolates, as a character class's range: they
# reorder what follows them (a name or a ref shown backwards), on screen, in a cell, on a form.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
BIDI = re.compile(f"[{BIDI_CONTROLS}]")
# C0 and C1 controls, DEL, and the bidirectional ones.
CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI_CONTROLS}]")


def safe(text: str) -> str:
    """The text with every control character shown as a visible escape such as \\x1b."""
    return CONTROL.sub(_visible, text)


def _visible(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
