"""Aligned tables for the command line: `procedures`, `audit show`, `user list`.

Every cell is stored text and may hold anything a database written outside the console holds:
each is shown inert (core.terminal_text.safe) before it is measured, and measured in terminal
cells, so that a wide character does not push the columns after it out of line.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from collections.abc import Collection, Iterable, Sequence

from rich.cells import cell_len

from dsl_console.core.terminal_text import safe

GAP = "  "
# The last column is wrapped to the terminal only when this much room is left for it.
MIN_LAST = 24


def terminal_width() -> int | None:
    """The width of the terminal the output goes to, or None when it goes to a file or a pipe
    (a script reads whole lines)."""
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def _wrap(
    text: str, width: int, initial_indent: str = "", subsequent_indent: str = ""
) -> list[str]:
    # Never at a hyphen: a ref (SCH-2026-001) or a date must stay whole on its line.
    return textwrap.wrap(
        text,
        width,
        initial_indent=initial_indent,
        subsequent_indent=subsequent_indent,
        break_on_hyphens=False,
        break_long_words=False,
    )


def paragraph(
    text: str, *, indent: str = "", hang: str = "", width: int | None = None
) -> list[str]:
    """A line of stored text shown inert: as one line, or, given a `width`, wrapped to it with
    the lines after the first indented by `hang` more."""
    shown = safe(text)
    if width is None or cell_len(indent + shown) <= width:
        return [indent + shown]
    return _wrap(
        shown,
        max(width, len(indent + hang) + MIN_LAST),
        initial_indent=indent,
        subsequent_indent=indent + hang,
    ) or [indent]


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    right: Collection[int] = (),
    indent: str = "",
    width: int | None = None,
) -> list[str]:
    """The rows as lines of aligned columns under a header line; columns in `right` (by
    index) aligned right, such as numbers; the last column is not padded. Given a `width`
    (terminal_width) that a line would run past, the last column is wrapped under where it
    starts, or, with too little room left beside the others, put under each row as
    "Header: text", so that the columns before it stay readable at 80 columns."""
    shown = [[safe(str(cell)) for cell in row] for row in rows]
    widths = [
        max([cell_len(header)] + [cell_len(row[i]) for row in shown])
        for i, header in enumerate(headers)
    ]
    last = len(headers) - 1

    def line(cells: Sequence[str]) -> str:
        parts = []
        for i, cell in enumerate(cells):
            room = widths[i] - cell_len(cell)
            if i in right:
                parts.append(" " * room + cell)
            else:
                parts.append(cell if i == last else cell + " " * room)
        return (indent + GAP.join(parts)).rstrip()

    if width is None or all(cell_len(line(cells)) <= width for cells in (headers, *shown)):
        return [line(headers), *(line(row) for row in shown)]

    def room_for(count: int) -> int:
        # The cells left for column `count - 1` once the columns before it are laid out.
        return width - cell_len(indent) - sum(widths[: count - 1]) - len(GAP) * (count - 1)

    def beside(count: int, row: Sequence[str]) -> list[str]:
        # The first `count` columns of a row, the last of them wrapped where it starts.
        at = width - room_for(count)
        first, *more = _wrap(row[count - 1], room_for(count)) or [""]
        return [line([*row[: count - 1], first]), *(" " * at + part for part in more)]

    if room_for(len(headers)) >= MIN_LAST:
        # Room beside the other columns: the last one wrapped there, under its header.
        return [line(headers), *(part for row in shown for part in beside(len(headers), row))]
    # No room: the last column goes under each row, named, from where the second column
    # starts; the one before it, now the last beside, is wrapped if it still runs past.
    under = cell_len(indent) + widths[0] + len(GAP)
    kept = len(headers) - 1
    lines = [line(headers[:kept])]
    for row in shown:
        if cell_len(line(row[:kept])) <= width or room_for(kept) < MIN_LAST:
            lines.append(line(row[:kept]))
        else:
            lines.extend(beside(kept, row))
        if row[last]:
            lines.extend(
                _wrap(
                    f"{headers[last]}: {row[last]}",
                    max(width, under + MIN_LAST),
                    initial_indent=" " * under,
                    subsequent_indent=" " * (under + 2),
                )
            )
    return lines
