"""Text that a spreadsheet could run as a formula is made inert (OWASP CSV injection)."""

from __future__ import annotations

import pytest

from dsl_console.services.exports.cells import neutralise, neutralise_row, xlsx_text

# A leading blank no longer hides a formula: LibreOffice's "trim spaces" would bring it back.
PAYLOADS = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", " =1", "\u00a0=1"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_trigger_gets_a_leading_quote(payload: str):
    assert neutralise(payload) == "'" + payload
    assert neutralise_row([payload, "safe"]) == ["'" + payload, "safe"]


@pytest.mark.parametrize(
    "text", ["Ada Example", "", "SCH-2026-014", "Level 3 = agreed", "Zoë Ó'Brien-Example"]
)
def test_ordinary_text_is_left_alone(text: str):
    assert neutralise(text) == text


def test_xlsx_text_drops_what_xml_cannot_hold_then_neutralises():
    assert xlsx_text("\x00=1+1") == "'=1+1"
    assert xlsx_text("line one\nline two") == "line one\nline two"
