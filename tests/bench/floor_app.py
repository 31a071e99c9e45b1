"""The floor: a bare Textual app showing a table of 50 rows, nothing else.

The console's first paint and memory are judged against this, started the same way in the
same pseudo-terminal, so the machine's own speed and noise cancel out of the comparison.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header

MARKER = "FLOOR-"
ROWS = 50


class FloorApp(App[None]):
    """A header, a 50-row table and a footer."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="table")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Ref", "Child (age)", "Stage", "Due", "Flags", "Other agency")
        for n in range(ROWS):
            table.add_row(
                f"{MARKER}{n:06d}",
                f"Ada Example ({n % 12 + 5})",
                "2 DSL to manager",
                "3 working days",
                "!",
                "Children's social care",
            )


if __name__ == "__main__":
    FloorApp().run()
