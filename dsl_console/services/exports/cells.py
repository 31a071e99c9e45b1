"""Spreadsheet text made inert: no exported cell can run as a formula (OWASP CSV injection)."""

from __future__ import annotations

import re

# OWASP "CSV Injection": a cell starting with one of these may be read as a formula by Excel,
# LibreOffice or Google Sheets (tab and carriage return hide the real first character).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Characters XML 1.0 (and so XLSX) cannot hold; openpyxl refuses a cell containing one.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def neutralise(text: str) -> str:
    """The text with a leading single quote if a spreadsheet could take it for a formula."""
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def neutralise_row(row: list[str]) -> list[str]:
    """Every cell of a row neutralised (inlined: it runs for every row of a large log)."""
    return ["'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell for cell in row]


def xlsx_text(text: str) -> str:
    """Neutralised text that XLSX can store: characters XML forbids are dropped."""
    return neutralise(_XML_ILLEGAL.sub("", text))
