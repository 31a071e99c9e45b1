"""Aligned tables for the command line: `procedures`, `audit show`, `user list`.

Every cell is stored text and may hold anything a database written outside the console holds:
each is shown inert (core.terminal_text.safe) before it is measured, and measured in terminal
cells, so that a wide character does not push the columns after it out of line.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from rich.cells import cell_len

from dsl_console.core.terminal_text import safe

GAP = "  "


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    right: Collection[int] = (),
    indent: str = "",
) -> list[str]:
    """The rows as lines of aligned columns under a header line; columns in `right` (by
    index) aligned right, such as numbers; the last column is not padded."""
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

    return [line(headers), *(line(row) for row in shown)]
