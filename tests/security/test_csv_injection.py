"""Formula neutralising holds when the log is opened the ways a spreadsheet really opens it:
`;` as the separator, "trim spaces", full-width forms read as ASCII, invisible characters
skipped. Each payload goes in as a case's text through import and comes out of
`dsl-console export log --format csv`."""

from __future__ import annotations

import csv
import io
import unicodedata

import pytest

from dsl_console.cli import main
from tests.conftest import case_json, document

PAYLOADS = [
    '=HYPERLINK("http://example.invalid","x")',
    " =1+1",  # leading space, with "trim spaces"
    "\u00a0=1+1",  # no-break space
    "\u200b=1+1",  # zero-width space
    "\ufeff=1+1",  # byte-order mark
    "\n=1+1",  # leading line break
    "\t=1+1",
    "\uff1d1+1",  # full-width equals sign
    "\uff0b1+1",
    "\uff0d1+1",
    "\uff20SUM(A1)",
    "harmless;=1+1",  # a cell of its own when opened with ; as the separator
    "harmless, =1+1",
    "@SUM(A1:A2)",
    "+44 20 7946 0000",
    "-2+3",
]
TRIGGERS = "=+-@"


def spreadsheet_cells(text: str, separator: str) -> list[str]:
    """Every cell as LibreOffice would read it: split on the separator, quotes honoured,
    spaces trimmed (every kind, invisible ones too), full-width forms folded to ASCII."""
    cells = []
    for row in csv.reader(io.StringIO(text), delimiter=separator):
        cells.extend(_trim(unicodedata.normalize("NFKC", cell)) for cell in row)
    return cells


def _blank(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def _trim(text: str) -> str:
    start = 0
    while start < len(text) and _blank(text[start]):
        start += 1
    return text[start:]


@pytest.mark.parametrize("separator", [",", ";"])
def test_no_exported_cell_can_start_a_formula(cli_env, tmp_path, separator):
    cases = [
        case_json(
            f"SCH-2026-{i:03d}",
            opened_at="2026-11-16T09:30:00+00:00",
            summary=payload,
            other_agency=payload.replace("\n", " ").replace("\t", " "),
        )
        for i, payload in enumerate(PAYLOADS)
    ]
    source = tmp_path / "in.json"
    source.write_text(document(*cases))
    assert main(["import", str(source)]) == 0
    out = tmp_path / "log.csv"
    assert main(["export", "log", "--format", "csv", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8-sig")
    live = [c for c in spreadsheet_cells(text, separator) if c and c[0] in TRIGGERS]
    assert live == []
    # The text itself is all there, a quote before each would-be formula: nothing was lost.
    assert "harmless;'=1+1" in text and "'\uff1d1+1" in text


def test_the_leading_quote_is_the_only_change(cli_env, tmp_path):
    # Read back as the csv module does (comma, no trimming): the quote is the only change.
    source = tmp_path / "in.json"
    source.write_text(
        document(case_json("SCH-2026-001", opened_at="2026-11-16T09:30:00+00:00", summary=" =1"))
    )
    assert main(["import", str(source)]) == 0
    out = tmp_path / "log.csv"
    assert main(["export", "log", "--format", "csv", "--out", str(out)]) == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
    assert any("' =1" in row for row in rows)


def test_a_stored_bidirectional_override_is_left_out_of_the_logs_and_forms(cli_env, tmp_path):
    # Import refuses U+202E; one written into the database with the key would show the
    # summary backwards in the partnership's spreadsheet, and on its form.
    import openpyxl
    import pypdf

    from dsl_console.config import Config
    from dsl_console.services.session import Credentials, open_session
    from tests.conftest import PASSPHRASE, USER

    source = tmp_path / "in.json"
    source.write_text(
        document(case_json("SCH-2026-001", opened_at="2026-11-16T09:30:00+00:00", summary="x"))
    )
    assert main(["import", str(source)]) == 0
    session = open_session(cli_env, Config(), Credentials(USER, PASSPHRASE))
    try:
        session.db.execute_sql(
            "UPDATE escalation SET summary = ?", ("Agreed \u202eno action\u202c today.",)
        )
    finally:
        session.close()
    csv_out, xlsx_out = tmp_path / "log.csv", tmp_path / "log.xlsx"
    assert main(["export", "log", "--format", "csv", "--out", str(csv_out)]) == 0
    assert main(["export", "log", "--format", "xlsx", "--out", str(xlsx_out)]) == 0
    pdf_out = tmp_path / "form.pdf"
    assert (
        main(["export", "report", "SCH-2026-001", "--form", "liverpool", "--out", str(pdf_out)])
        == 0
    )
    text = csv_out.read_text(encoding="utf-8-sig")
    sheet = openpyxl.load_workbook(xlsx_out, read_only=True).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c]
    form = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(pdf_out).pages).split())
    for found in (text, " ".join(cells), form):
        assert "\u202e" not in found and "\u202c" not in found
        assert "Agreed no action today." in found
