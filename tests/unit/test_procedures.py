"""Procedures are data: shipped in the wheel, revised by version, added from the config folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from dsl_console.cli import main
from dsl_console.core.procedures import load_registry, parse_procedure
from dsl_console.errors import InputError
from tests.conftest import case_json, document

REVISED_LIVERPOOL = """
id = "liverpool"
name = "Liverpool SCB escalation policy (revised)"
version = "2"
effective = 2027-01-01
iro_notice_from_stage = 1
[[stages]]
number = 1
name = "Attempt resolution"
timescale = { rule = "by-day", days = 3 }
[[stages]]
number = 2
name = "Organisation safeguarding representative"
timescale = { rule = "by-day", days = 10 }
"""


def test_shipped_procedures_match_the_contract():
    registry = load_registry()
    assert registry.ids() == ["city-hackney", "gloucestershire", "liverpool", "newham", "st-helens"]
    stages = {p.id: [s.number for s in p.stages] for p in registry.latest()}
    assert stages == {
        "city-hackney": [1, 2, 3, 4, 5, 6],
        "gloucestershire": [1, 2, 3, 4],
        "liverpool": [1, 2, 3, 4],
        "newham": [1, 2, 3, 4, 5, 6],
        "st-helens": [1, 2, 3, 4, 5],
    }
    liverpool = registry.get("liverpool")
    assert [s.timescale.days for s in liverpool.stages] == [2, 9, 16, 23]
    assert registry.get("newham").stage(6).timescale.rule == "chair"


def test_cases_keep_the_version_they_were_opened_under(tmp_path, cli_env, monkeypatch, capsys):
    conf = tmp_path / "conf"
    (conf / "procedures").mkdir(parents=True)
    (conf / "config.toml").write_text("")
    (conf / "procedures" / "liverpool-v2.toml").write_text(REVISED_LIVERPOOL)
    monkeypatch.setenv("DSL_CONSOLE_CONFIG", str(conf / "config.toml"))
    registry = load_registry(conf / "procedures")
    assert registry.in_force("liverpool", date(2026, 12, 1)).version == "1"
    assert registry.in_force("liverpool", date(2027, 1, 4)).version == "2"
    src = tmp_path / "in.json"
    # Old case: opened Mon 14 Dec 2026 under version 1, stage 1 by day 2 = Tue 15 Dec.
    # New case: opened Mon 4 Jan 2027 under version 2, stage 1 by day 3 = Wed 6 Jan.
    src.write_text(
        document(case_json("OLD-1"), case_json("NEW-1", opened_at="2027-01-04T09:00:00+00:00"))
    )
    assert main(["import", str(src)]) == 0
    capsys.readouterr()
    main(["check", "--as-of", "2027-01-04T10:00:00+00:00", "--json"])
    due = {c["ref"]: c["due"] for c in json.loads(capsys.readouterr().out)["cases"]}
    assert due == {"OLD-1": "2026-12-15T17:00:00+00:00", "NEW-1": "2027-01-06T17:00:00+00:00"}
    out = tmp_path / "all.json"
    main(["export", "json", "--out", str(out)])
    versions = {c["ref"]: c["procedure_version"] for c in json.loads(out.read_text())["cases"]}
    assert versions == {"OLD-1": "1", "NEW-1": "2"}


@pytest.mark.parametrize(
    "mutation,fragment",
    [
        (lambda d: d.pop("id"), "id"),
        (lambda d: d.update(stages=[]), "numbered"),
        (lambda d: d["stages"][0].update(timescale={"rule": "fortnightly"}), "rule"),
        (lambda d: d["stages"][0].update(timescale={"rule": "within", "days": 0}), "days"),
        (lambda d: d.update(colour="blue"), "colour"),
    ],
)
def test_bad_procedure_files_name_the_fault(mutation, fragment):
    doc = {
        "id": "x",
        "name": "X",
        "version": "1",
        "effective": date(2025, 1, 1),
        "stages": [{"number": 1, "name": "Talk", "timescale": {"rule": "none"}}],
    }
    mutation(doc)
    with pytest.raises(InputError, match=fragment):
        parse_procedure(doc, "x.toml")


def test_installed_command_ships_its_procedures():
    # The console script beside this interpreter runs from the installed package, so this
    # proves the TOML files are inside the wheel, not only in the source tree.
    command = Path(sys.executable).parent / "dsl-console"
    if not command.exists():
        found = shutil.which("dsl-console")
        if found is None:
            pytest.skip("dsl-console is not installed")
        command = Path(found)
    out = subprocess.run(
        [str(command), "procedures"], capture_output=True, text=True, check=False, cwd="/"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("version 1") == 5
