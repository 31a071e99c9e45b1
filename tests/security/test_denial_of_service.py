"""Valid-looking input that once made every command slow: dues in the year 2999 (each sweep
counted working days one by one) are refused with a line naming the event, nothing imported."""

from __future__ import annotations

import json

from dsl_console.cli import main
from tests.conftest import NOW, case_json, document


def test_dues_years_ahead_are_refused_and_nothing_is_imported(cli_env, tmp_path, capsys) -> None:
    events = [
        {
            "at": NOW.isoformat(),
            "kind": "deadline-set",
            "due": f"2999-12-{1 + n % 28:02d}T17:00:00+00:00",
            "note": "Chair's date.",
        }
        for n in range(400)
    ]
    flood = tmp_path / "flood.json"
    flood.write_text(
        document(case_json("SCH-2026-900", opened_at="2026-11-02T09:00:00+00:00", events=events))
    )
    assert main(["import", str(flood)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "events[0].due: is more than ten years ahead" in err
    assert main(["check", "--json"]) in (0, 1)
    listed = json.loads(capsys.readouterr().out)
    assert "SCH-2026-900" not in [c["ref"] for c in listed["cases"]]


def test_a_huge_import_of_empty_objects_stays_within_a_few_times_its_size(tmp_path) -> None:
    # The attack: tens of megabytes of `{}` as cases. Parsed whole, each became a Python dict
    # (a 240 MB file took 5.9 GB); read one case at a time, the first is refused as it is read.
    # The command runs in a fresh process whose peak memory its parent reads back.
    import subprocess
    import sys

    from tests.security.conftest import cli_command

    flood = tmp_path / "flood.json"
    count = 20_000_000  # 60 MB
    with flood.open("w", encoding="utf-8") as out:
        out.write('{"format": "dsl-console/1", "cases": [')
        out.write("{}," * (count - 1) + "{}")
        out.write("]}")
    size_mb = flood.stat().st_size / 2**20
    measure = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stderr.write(done.stderr)\n"
    )
    env = {
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "DSL_CONSOLE_DB": str(tmp_path / "cases.db"),
        "DSL_CONSOLE_USER": "jo.lead",
        "DSL_CONSOLE_PASSPHRASE": "fictional flood passphrase",
    }
    done = subprocess.run(
        [sys.executable, "-c", measure, *cli_command(), "import", str(flood)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    code, peak_kib = (int(x) for x in done.stdout.split())
    assert code == 2 and done.stderr.count("\n") == 1 and "cases[0]" in done.stderr, done.stderr
    assert not (tmp_path / "cases.db").exists()  # nothing was created
    # The file's bytes and its text, beside the interpreter itself: not a parsed copy.
    assert peak_kib / 1024 < 150 + 3 * size_mb, (peak_kib, size_mb)
