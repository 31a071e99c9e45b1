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
