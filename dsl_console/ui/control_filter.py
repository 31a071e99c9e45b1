"""The last line of defence between stored text and the terminal: no control character in
anything the console draws reaches the terminal.

Input refuses control characters (core.validation), but a database may hold text written
before that rule or outside the console (a crafted import under an older release, a direct
write with a valid key). Textual passes such characters through to the terminal as they are,
where an ESC sequence can erase a row, rewrite the flag line, set the clipboard or answer for
the user. This filter runs over every line of every widget just before it is written: each
control character is dropped. They take no cells on screen, so the layout is unchanged; the
text stays in the database and in `export json` as it was, for a DSL to correct.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from dsl_console.core.terminal_text import CONTROL


class ControlCharacterFilter(LineFilter):
    """Drop every control character from the text of the segments drawn."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        del background
        out = segments
        for index, segment in enumerate(segments):
            # Textual's own control segments (cursor moves) carry no text and pass as they are.
            if segment.control is None and CONTROL.search(segment.text):
                if out is segments:
                    out = list(segments)
                out[index] = Segment(CONTROL.sub("", segment.text), segment.style)
        return out
