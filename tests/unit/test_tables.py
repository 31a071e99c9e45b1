"""The command line's tables (`procedures`, `audit show`, `user list`) line up in a terminal
whatever the stored text holds."""

from __future__ import annotations

from rich.cells import cell_len

from dsl_console.tables import table


def test_columns_line_up_in_terminal_cells_with_wide_names_and_planted_controls():
    lines = table(
        ("User", "Role", "Notes"),
        [("jo.lead", "DSL", "you"), ("李小龍", "Deputy DSL", ""), ("mal\x1b[2K", "Read-only", "x")],
    )
    _header, *rows = lines
    # Each row's second column starts at the same terminal cell as the header's.
    starts = []
    for line, second in zip(lines, ("Role", "DSL", "Deputy DSL", "Read-only"), strict=True):
        starts.append(cell_len(line[: line.index(second)]))
    assert len(set(starts)) == 1, lines
    assert "\x1b" not in "\n".join(lines) and "mal\\x1b[2K" in rows[2]
    assert rows[1].rstrip() == rows[1]  # no trailing blanks for an empty last cell


def test_numbers_align_right():
    header, first, second = table(("Entry", "Action"), [(7, "login"), (1234, "export")], right={0})
    assert first.index("login") == second.index("export") == header.index("Action")
    assert first.startswith("    7") and second.startswith(" 1234")
