"""Spreadsheet text made inert: no exported cell can run as a formula (OWASP CSV injection).

Spreadsheets look past what a person does not see: LibreOffice's "trim spaces" drops leading
blanks, and a BOM, a zero-width space, a no-break space or a leading line break leave the
formula behind them live; full-width ＝＋－＠ are read as their ASCII forms. So the test is made
on the text with every such leading character stripped, and a cell that would start a formula
gets a leading single quote. CSV fields are all quoted (QUOTE_ALL), so a `;` inside a cell
cannot start a new cell when the file is opened with `;` as the separator.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from typing import Final

from dsl_console.core.terminal_text import BIDI

# OWASP "CSV Injection": a cell starting with one of these may be read as a formula by Excel,
# LibreOffice or Google Sheets; with their full-width forms, which some read the same way.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n") | frozenset("\uff1d\uff0b\uff0d\uff20")
QUOTING: Final = csv.QUOTE_ALL

# Characters XML 1.0 (and so XLSX) cannot hold; openpyxl refuses a cell containing one.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# The bidirectional overrides and isolates are refused on input, but a database written
# outside the console may hold them: exports leave them out (core.terminal_text.BIDI).


def _unseen(char: str) -> bool:
    """Whether a character is blank or invisible: spaces of every kind, controls, format."""
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def _first_seen(text: str) -> str:
    for char in text:
        if char in FORMULA_TRIGGERS:
            return char  # tab, CR and LF are triggers themselves
        if not _unseen(char):
            return char
    return ""


# A trigger just after something a spreadsheet may split a cell on (a `;`, `,`, tab or `|`
# when the file is opened with another separator, or a line break), blanks between.
_INNER = re.compile(
    r"([;,\t|\r\n])(?=[\s\u00a0\u200b-\u200f\u2028\u2029\u202f\u205f\u3000\ufeff]*"
    r"[=+\-@\uff1d\uff0b\uff0d\uff20])"
)


def _may_trigger(text: str) -> bool:
    # Cheaper than the pattern, which most cells then need not run.
    return "=" in text or "+" in text or "-" in text or "@" in text or not text.isascii()


def neutralise(text: str) -> str:
    """The text made inert: a leading single quote if a spreadsheet could take it for a
    formula, and one after any separator or line break that a formula would follow; any
    bidirectional override left out."""
    if not text.isascii():
        text = BIDI.sub("", text)
    first = text[:1]
    if not first:
        return text
    if _may_trigger(text) and _INNER.search(text):
        text = _INNER.sub(r"\1'", text)
    if first.isalnum():
        return text  # the common case: a letter or digit is seen first
    if _first_seen(text) in FORMULA_TRIGGERS:
        return "'" + text
    return text


def neutralise_row(row: list[str]) -> list[str]:
    """Every cell of a row neutralised."""
    return [neutralise(cell) for cell in row]


def xlsx_text(text: str) -> str:
    """Neutralised text that XLSX can store: characters XML forbids are dropped."""
    return neutralise(_XML_ILLEGAL.sub("", text))
