"""Import refuses bad input whole (exit 2, one line, nothing written); export json round-trips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dsl_console.cli import main
from tests.conftest import case_json, document

# The day after the default opening (Mon 16 Nov 2026): every imported moment is in the past.
EVENT = {"at": "2026-11-17T11:00:00+00:00", "kind": "escalated", "stage": 2, "note": "x"}


def case_count(capsys: pytest.CaptureFixture[str]) -> int:
    capsys.readouterr()
    main(["check", "--as-of", "2030-01-01T00:00:00+00:00", "--json"])
    return len(json.loads(capsys.readouterr().out)["cases"])


BAD = {
    "dob in the future": (
        case_json(child={"name": "Ada Example", "dob": "2031-01-01"}),
        "child.dob",
    ),
    "two-digit year": (case_json(child={"name": "Ada Example", "dob": "14-05-02"}), "child.dob"),
    "not a real date": (
        case_json(child={"name": "Ada Example", "dob": "2014-02-30"}),
        "not a real calendar date",
    ),
    "bad timestamp": (case_json(opened_at="16/11/2026 09:30"), "opened_at"),
    # Clocks went forward at 01:00 on Sun 29 Mar 2026: 01:30 that night never happened.
    "dst gap": (case_json(opened_at="2026-03-29T01:30:00"), "does not exist"),
    "events out of order": (
        case_json(
            events=[
                {"at": "2026-11-18T11:00:00+00:00", "kind": "note", "note": "a"},
                {"at": "2026-11-17T11:00:00+00:00", "kind": "note", "note": "b"},
            ]
        ),
        "time order",
    ),
    "event before opening": (
        case_json(events=[{"at": "2026-11-15T11:00:00+00:00", "kind": "note", "note": "a"}]),
        "before the case",
    ),
    "downward escalation": (
        case_json(
            events=[
                {**EVENT, "stage": 3},
                {"at": "2026-11-18T11:00:00+00:00", "kind": "escalated", "stage": 2, "note": "x"},
            ]
        ),
        "cannot go down",
    ),
    "stage beyond the procedure": (case_json(events=[{**EVENT, "stage": 5}]), "stages 1 to 4"),
    "escalated without stage": (
        case_json(events=[{k: v for k, v in EVENT.items() if k != "stage"}]),
        "needs a stage",
    ),
    "unknown procedure": (case_json(procedure="atlantis"), "not known"),
    "unknown kind": (case_json(events=[{**EVENT, "kind": "teleported"}]), "not a known kind"),
    "deadline-set without note": (
        case_json(
            events=[
                {
                    "at": "2026-11-17T11:00:00+00:00",
                    "kind": "deadline-set",
                    "due": "2026-11-20T12:00:00+00:00",
                }
            ]
        ),
        "note",
    ),
    "notified without whom": (
        case_json(events=[{"at": "2026-11-17T11:00:00+00:00", "kind": "notified"}]),
        "whom",
    ),
    "name too long": (case_json(child={"name": "A" * 201, "dob": "2014-05-02"}), "200"),
    "summary too long": (case_json(summary="x" * 20_001), "20,000"),
    "bad level of need": (case_json(level_of_need="high"), "level_of_need"),
    "missing ref": (case_json(ref=""), "ref"),
    "cp_plan not boolean": (case_json(cp_plan="yes"), "cp_plan"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_refused_whole(name, cli_env, tmp_path, capsys):
    bad, fragment = BAD[name]
    good = case_json("SCH-GOOD-1")
    path = tmp_path / "in.json"
    path.write_text(document(good, bad))  # the good case must not be written either
    capsys.readouterr()
    assert main(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert fragment in err
    assert case_count(capsys) == 0


def _in_the_future(field: str) -> dict:
    """Overrides putting `field` an hour after the real now, which import reads, whatever day
    the tests run; every other moment stays in the past."""
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    if field == "opened_at":
        return {"opened_at": soon}
    if field == "events[0].at":
        return {"events": [{"at": soon, "kind": "note", "note": "Planned."}]}
    return {"events": [{**EVENT, "recorded_at": soon}]}


@pytest.mark.parametrize(
    "field",
    ["opened_at", "events[0].at", "events[0].recorded_at"],
    ids=["opening in the future", "event in the future", "recorded in the future"],
)
def test_an_opening_or_event_in_the_future_is_refused(field, cli_env, tmp_path, capsys):
    # Contract section 6: opened_at is not in the future, and no event is; a case records what
    # has happened. The good case beside it must not be written either.
    path = tmp_path / "in.json"
    path.write_text(
        document(case_json("SCH-GOOD-1"), case_json("SCH-FUTURE", **_in_the_future(field)))
    )
    capsys.readouterr()
    assert main(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"case SCH-FUTURE: {field}: is in the future" in err
    assert case_count(capsys) == 0


def test_duplicate_refs_in_file_and_in_database(cli_env, tmp_path, capsys):
    path = tmp_path / "in.json"
    path.write_text(document(case_json(), case_json()))
    assert main(["import", str(path)]) == 2
    assert "appears twice" in capsys.readouterr().err
    path.write_text(document(case_json()))
    assert main(["import", str(path)]) == 0
    path.write_text(document(case_json("SCH-NEW"), case_json()))
    capsys.readouterr()
    assert main(["import", str(path)]) == 2
    assert "already in the database" in capsys.readouterr().err
    assert case_count(capsys) == 1


@pytest.mark.parametrize(
    "content,fragment",
    [
        (b"{not json", "not valid JSON"),
        (b'{"format": "other/1", "cases": []}', "format"),
        (b"\xff\xfe", "UTF-8"),
        (b"[]", "JSON object"),
        # Crafted: a number of 5,000 digits, half a UTF-16 pair on its own in a name.
        (b'{"format": "dsl-console/1", "cases": [], "x": ' + b"9" * 5000 + b"}", "too long"),
        (
            document(case_json(child={"name": "Ada \\ud800 Example", "dob": "2014-05-02"}))
            .encode()
            .replace(b"\\\\ud800", b"\\ud800"),
            "U+D800",
        ),
    ],
)
def test_malformed_documents(content, fragment, cli_env, tmp_path, capsys):
    path = tmp_path / "in.json"
    path.write_bytes(content)
    assert main(["import", str(path)]) == 2
    assert fragment in capsys.readouterr().err


def test_a_surrogate_pair_and_a_byte_order_mark_are_read_as_text(cli_env, tmp_path, capsys):
    # An emoji written as a pair of escapes is a character; Windows editors start a file
    # with a byte-order mark.
    text = document(case_json(child={"name": "Ada Example \\ud83d\\ude00", "dob": "2014-05-02"}))
    path = tmp_path / "in.json"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\\\\u", "\\u").encode())
    assert main(["import", str(path)]) == 0, capsys.readouterr().err


def test_an_xlsx_export_to_a_missing_folder_says_which_folder(cli_env, tmp_path, capsys):
    out = tmp_path / "no such folder" / "log.xlsx"
    assert main(["export", "log", "--format", "xlsx", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"the folder {out.parent} does not exist" in err
    assert "openpyxl" not in err


def test_missing_file_and_folder(cli_env, tmp_path, capsys):
    assert main(["import", str(tmp_path / "nope.json")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["import", str(tmp_path)]) == 2
    assert "folder" in capsys.readouterr().err


def test_export_import_export_round_trips(cli_env, tmp_path, capsys, monkeypatch):
    from tests.conftest import PASSPHRASE  # noqa: F401 - the same account creates the second db

    full = case_json(
        cp_plan=True,
        immediate_risk=True,
        child={"name": "Zoë Ó'Brien-Example", "dob": "2013-01-31", "address": "1 Example Road"},
        professionals=[
            {
                "name": "Sam Worker",
                "role": "Social worker",
                "agency": "Children's social care",
                "email": "sam@example.org",
            }
        ],
        events=[
            {"at": "2026-11-16T10:00:00+00:00", "kind": "risk-escalated", "note": "Police told."},
            {**EVENT, "by": "J. Smith"},
            {"at": "2026-11-17T12:00:00+00:00", "kind": "notified", "whom": "iro"},
            {
                "at": "2026-11-17T13:00:00+00:00",
                "kind": "action",
                "whom": "Sam Worker",
                "due": "2026-11-20T17:00:00+00:00",
                "note": "Share the assessment.",
            },
            {"at": "2026-11-18T13:00:00+00:00", "kind": "action-done", "action": 1},
            {
                "at": "2026-11-18T15:00:00+00:00",
                "kind": "resolved",
                "note": "Agreed.",
                "lessons": "Share early.",
                "method": "Meeting",
            },
        ],
    )
    src = tmp_path / "in.json"
    src.write_text(document(full, case_json("SCH-2026-015", procedure="newham")))
    assert main(["import", str(src)]) == 0
    first = tmp_path / "first.json"
    assert main(["export", "json", "--out", str(first)]) == 0
    monkeypatch.setenv("DSL_CONSOLE_DB", str(tmp_path / "second.db"))
    assert main(["import", str(first)]) == 0
    second = tmp_path / "second.json"
    assert main(["export", "json", "--out", str(second)]) == 0
    assert first.read_text() == second.read_text()
    doc = json.loads(first.read_text())
    assert doc["format"] == "dsl-console/1"
    assert [c["ref"] for c in doc["cases"]] == ["SCH-2026-014", "SCH-2026-015"]
    assert doc["cases"][0]["child"]["name"] == "Zoë Ó'Brien-Example"
    assert [e["kind"] for e in doc["cases"][0]["events"]][-1] == "resolved"


def test_cli_commands_do_not_import_textual(cli_env, tmp_path):
    code = (
        "import sys; from dsl_console.cli import main; "
        "status = main(['check', '--json']); "
        "sys.stdout.write('TEXTUAL' if any(m.startswith('textual') for m in sys.modules) else 'OK')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.endswith("OK"), out.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        ["check", "--as-of"],
        ["export", "log", "--format", "pdf"],
        ["audit", "show", "--limit", "-5"],
        ["audit", "show", "--limit", "0"],
        ["audit", "show", "--limit", "ten"],
    ],
)
def test_usage_errors_are_one_line(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("dsl-console: error:")


def test_help_shows_where_the_files_are_and_the_exit_statuses(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "conf"))
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"database  {tmp_path / 'data' / 'dsl-console' / 'cases.db'}" in out
    assert f"config    {tmp_path / 'conf' / 'dsl-console' / 'config.toml'}" in out
    assert "130 interrupted" in out and "2 any error" in out


def _commands(parser, path=()):  # type: ignore[no-untyped-def]
    import argparse

    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def test_every_command_s_help_says_what_it_does_and_what_each_option_is(capsys):
    from dsl_console.cli import build_parser

    for path, parser in _commands(build_parser()):
        with pytest.raises(SystemExit):
            main([*path, "--help"])
        out = capsys.readouterr().out
        assert parser.description and parser.description in " ".join(out.split()), path
        undescribed = [
            action.option_strings or action.dest
            for action in parser._actions
            if not action.help and action.dest not in ("help", "command", "what", "action")
        ]
        assert undescribed == [], (path, undescribed)


def test_missing_database_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DSL_CONSOLE_DB", str(tmp_path / "none.db"))
    assert main(["check"]) == 2
    assert "no database at" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content,key",
    [
        ('colour = "blue"\n', "colour"),
        ('nation = "FRA"\n', "nation"),
        ('end_of_working_day = "25:00"\n', "end_of_working_day"),
        ('closure_days = ["2026-02-30"]\n', "closure_days"),
        ("scan_seconds = 0\n", "scan_seconds"),
        ('lock_minutes = "five"\n', "lock_minutes"),
        ("school = \n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(content, key, cli_env, tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text(content)
    assert main(["--config", str(config), "check"]) == 2
    err = capsys.readouterr().err
    assert key in err and err.count("\n") == 1


def test_procedures_lists_every_shipped_procedure(capsys):
    assert main(["procedures"]) == 0
    out = capsys.readouterr().out
    for proc in ("liverpool", "gloucestershire", "newham", "st-helens", "city-hackney"):
        assert f"{proc}:" in out
    assert "by working day 23 of the case" in out
    assert "set by the Chair" in out


def test_user_procedure_from_config_folder(tmp_path, capsys):
    config = tmp_path / "conf" / "config.toml"
    (tmp_path / "conf" / "procedures").mkdir(parents=True)
    config.write_text('procedure = "example-town"\n')
    (tmp_path / "conf" / "procedures" / "example.toml").write_text(
        'id = "example-town"\nname = "Example Town SCP"\npartnership = "Example Town SCP"\n'
        'version = "2"\n'
        "effective = 2025-01-01\n"
        '[[stages]]\nnumber = 1\nname = "Talk"\ntimescale = { rule = "within", days = 2 }\n'
    )
    assert main(["--config", str(config), "procedures"]) == 0
    assert "example-town: Example Town SCP" in capsys.readouterr().out


def test_an_export_audits_the_login_then_the_export(cli_env, tmp_path, capsys):
    # The export's integrity check runs beside it and its login is written once it passes:
    # the trail still reads login, then export, and stays intact.
    src = tmp_path / "in.json"
    src.write_text(document(case_json()))
    assert main(["import", str(src)]) == 0
    out = tmp_path / "log.csv"
    assert main(["export", "log", "--format", "csv", "--out", str(out)]) == 0
    assert "SCH-2026-014" in out.read_text(encoding="utf-8-sig")
    capsys.readouterr()
    assert main(["audit", "show"]) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert header.split() == ["Entry", "When", "User", "Action", "Ref", "Hash", "Detail"]
    actions = [line.split()[4] for line in lines]
    # Newest first: this command's login, the export, the import's login and import.
    assert actions[1:5] == ["export", "login", "import", "login"]
    assert main(["audit", "verify"]) == 0


def test_a_default_procedure_that_is_not_known_names_the_key(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text('procedure = "atlantis"\n')
    assert main(["--config", str(config), "procedures"]) == 2
    err = capsys.readouterr().err
    assert "procedure" in err and "atlantis" in err and err.count("\n") == 1


def test_ctrl_c_exits_130_with_one_line(cli_env):
    # The installed command, waiting for an import on standard input, is sent SIGINT as a
    # terminal's Ctrl+C would: 130, one line, no traceback.
    import signal
    import time

    command = Path(sys.executable).parent / "dsl-console"
    if not command.exists():
        pytest.skip("dsl-console is not installed beside this interpreter")
    proc = subprocess.Popen(
        [str(command), "import", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)  # let it start and block on standard input
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert err.count("\n") == 1 and "interrupted" in err and "Traceback" not in err


def test_ctrl_c_while_the_command_loads_is_one_line_never_a_traceback(monkeypatch, capsys):
    # The command line's modules take tens of milliseconds to import; Ctrl+C landing in them
    # is caught by the entry point as it is once they run.
    import importlib.abc

    from dsl_console import launch

    class Interrupted(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):  # type: ignore[no-untyped-def]
            if name == "dsl_console.cli":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "dsl_console.cli")
    monkeypatch.setattr(sys, "meta_path", [Interrupted(), *sys.meta_path])
    assert launch.main() == 130
    err = capsys.readouterr().err
    assert err == "dsl-console: interrupted; nothing was left half-written\n"


def test_ctrl_c_at_any_moment_of_the_start_leaves_no_traceback_of_the_console(cli_env):
    # The installed command interrupted every few milliseconds of its start: whatever moment
    # it lands, no traceback passes through the console's modules. (The interpreter's own
    # first milliseconds, and the generated script's line importing the entry point, come
    # before any of them and are beyond it.)
    import signal
    import time

    command = Path(sys.executable).parent / "dsl-console"
    if not command.exists():
        pytest.skip("dsl-console is not installed beside this interpreter")
    for step in range(25):
        proc = subprocess.Popen(
            [str(command), "procedures"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(step * 0.004)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
        assert f"dsl_console{os.sep}" not in err, f"after {step * 4} ms: {err}"
        if proc.returncode == 130:
            assert err.count("\n") == 1 and "interrupted" in err


def test_a_voided_case_is_kept_in_json_but_left_out_of_the_log_and_analysis(
    cli_env, tmp_path, capsys
):
    voided = case_json(
        "SCH-2026-090",
        opened_at="2026-11-16T09:30:00+00:00",
        events=[{"at": "2026-11-16T09:40:00+00:00", "kind": "voided", "note": "Opened in error."}],
    )
    real = case_json("SCH-2026-091", opened_at="2026-11-16T10:00:00+00:00")
    source = tmp_path / "in.json"
    source.write_text(document(voided, real))
    assert main(["import", str(source)]) == 0
    log, doc, analysis = tmp_path / "log.csv", tmp_path / "all.json", tmp_path / "a.csv"
    assert main(["export", "log", "--format", "csv", "--out", str(log)]) == 0
    text = log.read_text(encoding="utf-8-sig")
    assert "SCH-2026-091" in text and "SCH-2026-090" not in text
    assert main(["export", "json", "--out", str(doc)]) == 0
    refs = [c["ref"] for c in json.loads(doc.read_text())["cases"]]
    assert refs == ["SCH-2026-090", "SCH-2026-091"]
    assert main(["export", "analysis", "--year", "2026", "--out", str(analysis)]) == 0
    assert '"Escalations opened","2026","1"' in analysis.read_text(encoding="utf-8-sig")
    # Nor does `check` list it: a voided case has no flags and no duties.
    capsys.readouterr()
    main(["check", "--json", "--as-of", "2026-11-17T10:00:00+00:00"])
    listed = [c["ref"] for c in json.loads(capsys.readouterr().out)["cases"]]
    assert listed == ["SCH-2026-091"]


def test_recorded_at_round_trips_through_export_and_import(cli_env, tmp_path, monkeypatch):
    late = case_json(
        "SCH-2026-092",
        opened_at="2026-11-16T09:30:00+00:00",
        events=[
            {
                "at": "2026-11-16T15:10:00+00:00",
                "recorded_at": "2026-11-16T20:20:00+00:00",
                "kind": "notified",
                "whom": "iro",
            },
            {"at": "2026-11-17T09:00:00+00:00", "kind": "note", "note": "On time."},
        ],
    )
    source = tmp_path / "in.json"
    source.write_text(document(late))
    assert main(["import", str(source)]) == 0
    first = tmp_path / "first.json"
    assert main(["export", "json", "--out", str(first)]) == 0
    events = json.loads(first.read_text())["cases"][0]["events"]
    assert events[0]["recorded_at"] == "2026-11-16T20:20:00+00:00"
    # Without one, an imported event was recorded when it happened.
    assert events[1]["recorded_at"] == "2026-11-17T09:00:00+00:00"
    monkeypatch.setenv("DSL_CONSOLE_DB", str(tmp_path / "second.db"))
    assert main(["import", str(first)]) == 0
    second = tmp_path / "second.json"
    assert main(["export", "json", "--out", str(second)]) == 0
    assert second.read_text() == first.read_text()


def test_an_amended_date_of_birth_after_the_opening_is_refused(cli_env, tmp_path, capsys):
    amended = case_json(
        "SCH-2026-093",
        opened_at="2026-01-10T09:30:00+00:00",
        events=[
            {
                "at": "2026-07-01T09:00:00+00:00",
                "kind": "amended",
                "field": "child.dob",
                "value": "2026-06-01",
                "note": "Typo.",
            }
        ],
    )
    source = tmp_path / "in.json"
    source.write_text(document(amended))
    assert main(["import", str(source)]) == 2
    err = capsys.readouterr().err
    assert "SCH-2026-093" in err and "value" in err and "date of birth" in err


class _Terminal:
    """Standard error as a terminal sees it: what was written, and isatty() true."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError("not a real terminal")


def test_a_long_export_shows_a_bar_on_a_terminal_and_nothing_in_a_script(
    cli_env, tmp_path, capsys, monkeypatch
):
    from dsl_console import commands

    source = tmp_path / "in.json"
    source.write_text(
        document(
            *(case_json(f"SCH-{n:03d}", opened_at="2026-11-16T09:30:00+00:00") for n in range(30))
        )
    )
    assert main(["import", str(source)]) == 0
    monkeypatch.setattr(commands, "BAR_FROM", 10)  # as if 30 cases were many thousands
    capsys.readouterr()
    assert main(["export", "log", "--format", "csv", "--out", str(tmp_path / "quiet.csv")]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and quiet.out.startswith("wrote ")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["export", "log", "--format", "csv", "--out", str(tmp_path / "bar.csv")]) == 0
    shown = "".join(terminal.written)
    assert "exporting" in shown and "30/30" in shown
    assert capsys.readouterr().out.startswith("wrote ")  # the result line alone on stdout


def test_a_long_import_shows_its_reading_and_writing_on_a_terminal_and_nothing_in_a_script(
    cli_env, tmp_path, capsys, monkeypatch
):
    from dsl_console import commands
    from dsl_console.services import transfer
    from dsl_console.store import cases as stored

    monkeypatch.setattr(commands, "BAR_FROM", 10)  # as if 600 cases were many thousands
    monkeypatch.setattr(stored, "PROGRESS_EVERY", 50)
    monkeypatch.setattr(transfer, "READ_PROGRESS_EVERY", 50)

    def source(first: int) -> Path:
        path = tmp_path / f"in-{first}.json"
        path.write_text(
            document(
                *(
                    case_json(f"SCH-{n:04d}", opened_at="2026-11-16T09:30:00+00:00")
                    for n in range(first, first + 600)
                )
            )
        )
        return path

    capsys.readouterr()
    assert main(["import", str(source(0))]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and quiet.out == "imported 600 case(s)\n"
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["import", str(source(1000))]) == 0
    shown = "".join(terminal.written)
    # Reading, with an estimate of the total from how far into the file it has got, then
    # writing; the counts end exact.
    assert "reading" in shown and "600/600" in shown and "importing" in shown
    assert capsys.readouterr().out == "imported 600 case(s)\n"  # alone on stdout


def test_an_import_that_creates_the_database_says_who_its_first_dsl_is(
    tmp_path, capsys, monkeypatch
):
    from tests.conftest import PASSPHRASE, USER

    db = tmp_path / "new" / "cases.db"
    monkeypatch.setenv("DSL_CONSOLE_DB", str(db))
    monkeypatch.setenv("DSL_CONSOLE_USER", USER)
    monkeypatch.setenv("DSL_CONSOLE_PASSPHRASE", PASSPHRASE)
    source = tmp_path / "in.json"
    source.write_text(document(case_json()))
    capsys.readouterr()
    assert main(["import", str(source)]) == 0
    first = capsys.readouterr()
    assert first.out == "imported 1 case(s)\n"
    assert first.err == f"created the database {db} with {USER} as its first DSL account\n"
    source.write_text(document(case_json("SCH-2026-015")))
    assert main(["import", str(source)]) == 0
    assert capsys.readouterr().err == ""  # only the first time


def test_audit_show_shortens_digests_and_keys_unless_asked_for_them_in_full(cli_env, capsys):
    capsys.readouterr()
    assert main(["audit", "show"]) == 0
    shown = capsys.readouterr().out
    created = next(line for line in shown.splitlines() if "account-created" in line)
    assert created.endswith("...") and len(created) < 120
    assert main(["audit", "show", "--full"]) == 0
    full = next(line for line in capsys.readouterr().out.splitlines() if "account-created" in line)
    key = full.split()[-1]
    assert len(key) == 64 and created.split()[-1] == key[:16] + "..."
