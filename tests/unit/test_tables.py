"""The command line's tables (`procedures`, `audit show`, `user list`) line up in a terminal
whatever the stored text holds."""

from __future__ import annotations

from rich.cells import cell_len

from dsl_console.tables import paragraph, table


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


def test_at_80_columns_a_long_last_column_wraps_under_itself():
    detail = "export log csv to /home/jo/Documents/summary-log.csv (41 cases) content=ab12cd34"
    header, first, *more = table(
        ("Entry", "When", "User", "Action", "Detail"),
        [(12, "02/12/2026 09:30", "jo.lead", "export", detail)],
        right={0},
        width=80,
    )
    start = header.index("Detail")
    assert all(cell_len(line) <= 80 for line in (header, first, *more))
    assert more and all(line[:start].strip() == "" for line in more)  # under its own column
    assert " ".join([first[start:], *(line[start:] for line in more)]) == detail  # all of it


def test_to_a_file_or_pipe_each_row_stays_one_line():
    long = "x " * 100
    lines = table(("Entry", "Detail"), [(1, long)], width=None)
    assert len(lines) == 2 and lines[1].endswith(long.strip())


def test_with_no_room_beside_the_others_the_last_column_goes_under_its_row_named():
    header, *rows = table(
        ("Stage", "Name", "Timescale", "Held by"),
        [
            (
                1,
                "Discuss with the other worker",
                "within 5 working days of entering the stage",
                "Practitioner and the other worker (may consult own supervisor)",
            )
        ],
        right={0},
        indent="  ",
        width=80,
    )
    assert "Held by" not in header and header.rstrip().endswith("Timescale")
    assert all(cell_len(line) <= 80 for line in (header, *rows))
    # The timescale, too long beside the name, wraps under its own column.
    at = header.index("Timescale")
    timescale = [line[at:] for line in rows if not line.lstrip().startswith("Held by")]
    assert " ".join(timescale) == "within 5 working days of entering the stage"
    held = [line for line in rows if line.lstrip().startswith("Held by")]
    assert held[0].startswith(" " * 9 + "Held by: Practitioner")  # from the second column


def at_80_columns(*args: str) -> tuple[int, list[str]]:
    """Run the command with its standard output an 80-column terminal, as a DSL reads it:
    its exit status and the lines it printed."""
    import os
    import pty
    import subprocess
    import sys

    controller, terminal = pty.openpty()
    env = {**os.environ, "COLUMNS": "80", "LINES": "24"}
    child = subprocess.Popen(
        [sys.executable, "-m", "dsl_console", *args],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(terminal)
    out = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal's other end closed
            break
        if not chunk:
            break
        out += chunk
    status = child.wait(timeout=60)
    os.close(controller)
    assert status in (0, 1), child.stderr.read() if child.stderr else ""
    return status, out.decode("utf-8").replace("\r\n", "\n").splitlines()


def test_procedures_in_an_80_column_terminal_keeps_every_line_within_it():
    # Every line fits, and the stages' holders come under their stage, named.
    status, lines = at_80_columns("procedures")
    assert status == 0
    assert "Held by: " in "\n".join(lines)
    assert max(cell_len(line) for line in lines) <= 80


def test_check_in_an_80_column_terminal_wraps_between_words(cli_env, tmp_path):
    # The terminal's own wrap cut "IMMEDIATE RISK" and a ref in two: each line now wraps
    # between words, what follows indented under its case.
    from dsl_console.cli import main
    from tests.conftest import case_json, document

    source = tmp_path / "in.json"
    cases = [case_json(f"SCH-2026-{n:03d}", immediate_risk=True, cp_plan=True) for n in range(1, 4)]
    source.write_text(document(*cases))
    assert main(["import", str(source)]) == 0
    status, lines = at_80_columns("check")
    assert status == 1
    assert max(cell_len(line) for line in lines) <= 80
    text = " ".join(line.strip() for line in lines)
    assert "IMMEDIATE RISK:" in text and "3 flagged" in text
    for n in range(1, 4):
        case_lines = [line for line in lines if line.startswith(f"  SCH-2026-{n:03d}  ")]
        assert len(case_lines) == 1  # the ref whole, at the start of its own line
    assert any(line.startswith("    ") and not line.startswith("      owed") for line in lines)


def test_a_ref_is_never_broken_at_its_hyphens():
    refs = " ".join(f"SCH-2026-{n:03d}" for n in range(1, 12))
    lines = paragraph(f"cases changed outside the console: {refs}", hang="  ", width=40)
    assert len(lines) > 1
    words = " ".join(lines).split()
    assert all(w.count("-") == 2 for w in words if w.startswith("SCH"))
    assert len([w for w in words if w.startswith("SCH")]) == 11
