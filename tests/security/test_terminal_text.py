"""Stored text never reaches the terminal as a control sequence: refused on input, and
rendered inert when the command line prints what a database already holds."""

from __future__ import annotations

import pytest

from dsl_console.cli import main
from dsl_console.config import Config
from dsl_console.services.session import Credentials, open_session
from tests.conftest import PASSPHRASE, USER, case_json, document

ERASE_ROW = "\x1b[1A\x1b[2K"  # cursor up, erase the line: hides the row above
OSC52 = "\x1b]52;c;ZXZpbA==\x07"  # writes the clipboard
BIDI = "\u202e"


@pytest.mark.parametrize("payload", [ERASE_ROW, OSC52, BIDI, "\x9b2J", "a\x00b"])
@pytest.mark.parametrize("field", ["ref", "name", "summary", "note"])
def test_control_characters_are_refused_on_import_naming_the_field(
    cli_env, tmp_path, capsys, payload, field
):
    case = case_json("SCH-2026-001", opened_at="2026-11-16T09:30:00+00:00")
    if field == "ref":
        case["ref"] = "SCH" + payload
    elif field == "name":
        case["child"] = {"name": "Ada" + payload, "dob": "2014-05-02"}
    elif field == "summary":
        case["summary"] = "Declined." + payload
    else:
        case["events"] = [
            {"at": "2026-11-16T10:00:00+00:00", "kind": "note", "note": "x" + payload}
        ]
    source = tmp_path / "in.json"
    source.write_text(document(case))
    assert main(["import", str(source)]) == 2
    err = capsys.readouterr().err
    assert "control character" in err and err.count("\n") == 1
    assert "\x1b" not in err and BIDI not in err


def import_a_case_at_risk(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SCH-2026-001, at immediate risk, imported as a DSL would."""
    source = tmp_path / "in.json"
    source.write_text(
        document(
            case_json("SCH-2026-001", opened_at="2026-11-16T09:30:00+00:00", immediate_risk=True)
        )
    )
    assert main(["import", str(source)]) == 0


def test_a_ref_planted_in_the_database_is_printed_inert_by_check(cli_env, tmp_path, capsys):
    import_a_case_at_risk(tmp_path)
    # Written with the key, outside the console: a ref that would erase the line above it.
    session = open_session(cli_env, Config(), Credentials(USER, PASSPHRASE))
    try:
        session.db.execute_sql(
            "UPDATE escalation SET ref = ? WHERE ref = 'SCH-2026-001'", ("SCH" + ERASE_ROW,)
        )
    finally:
        session.close()
    capsys.readouterr()
    assert main(["check", "--as-of", "2026-11-16T10:00:00+00:00"]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "SCH\\x1b[1A\\x1b[2K" in out and "IMMEDIATE RISK" in out
    main(["audit", "show"])
    assert "\x1b" not in capsys.readouterr().out


def test_check_json_and_user_list_print_planted_text_inert(cli_env, tmp_path, capsys):
    import json

    import_a_case_at_risk(tmp_path)
    planted_ref = "SCH" + BIDI + "\x9b2J" + "\x85"  # a reversal, a C1 erase, a C1 newline
    session = open_session(cli_env, Config(), Credentials(USER, PASSPHRASE))
    try:
        session.db.execute_sql(
            "UPDATE escalation SET ref = ? WHERE ref = 'SCH-2026-001'", (planted_ref,)
        )
        session.db.execute_sql(
            "INSERT INTO user (name, role, created_at) SELECT ?, role, created_at FROM user"
            " WHERE name = ?",
            (USER + OSC52, USER),
        )
    finally:
        session.close()
    capsys.readouterr()
    assert main(["check", "--json", "--as-of", "2026-11-16T10:00:00+00:00"]) == 1
    out = capsys.readouterr().out
    assert not any(c in out for c in (BIDI, "\x9b", "\x85", "\x1b"))
    # Escaped as JSON, so a program reading it gets the stored ref back unchanged.
    refs = [case["ref"] for case in json.loads(out)["cases"]]
    assert planted_ref in refs
    main(["user", "list"])
    listed = capsys.readouterr().out
    assert "\x1b" not in listed and "\\x1b]52;c;" in listed
