"""`dsl-console check --as-of T --json` against hand-worked cases (contract §1-3, §6).

Each expected date is worked out by hand in the comment beside it. England, 17:00 end of day.
Import refuses an opening or event after the real now, so every case here happened before
1 December 2026 (the default opening is Mon 16 Nov 2026 09:30); an --as-of may be any moment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dsl_console.cli import main
from tests.conftest import case_json, document


def run_import(tmp_path: Path, *cases: dict) -> None:
    path = tmp_path / "in.json"
    path.write_text(document(*cases))
    assert main(["import", str(path)]) == 0


def check(capsys: pytest.CaptureFixture[str], as_of: str) -> tuple[int, dict]:
    capsys.readouterr()
    status = main(["check", "--as-of", as_of, "--json"])
    return status, json.loads(capsys.readouterr().out)


def entry(result: dict, ref: str) -> dict:
    found = [c for c in result["cases"] if c["ref"] == ref]
    assert len(found) == 1, f"{ref} not listed once"
    return found[0]


def test_contract_example_liverpool_stage_2(cli_env, tmp_path, capsys):
    # Opened Fri 12 Dec 2025 (day 1). Escalated to stage 2 on Mon 15 Dec: stage 2 is due by
    # day 9 = Wed 24 Dec (12,15,16,17,18,19,22,23,24), 17:00 GMT, the eve of Christmas 2025.
    run_import(
        tmp_path,
        case_json(
            opened_at="2025-12-12T09:30:00+00:00",
            events=[
                {
                    "at": "2025-12-15T11:00:00+00:00",
                    "kind": "escalated",
                    "stage": 2,
                    "by": "J. Smith",
                    "note": "No agreement with the social worker.",
                },
            ],
        ),
    )
    status, result = check(capsys, "2025-12-24T10:00:00+00:00")
    assert result["as_of"] == "2025-12-24T10:00:00+00:00"
    assert entry(result, "SCH-2026-014") == {
        "ref": "SCH-2026-014",
        "procedure": "liverpool",
        "status": "open",
        "stage": 2,
        "due": "2025-12-24T17:00:00+00:00",
        "working_days_left": 0,
        "risk_due": None,
        "flags": ["due-today"],
        "duties": [],
    }
    assert status == 1
    # On Mon 15 Dec at noon: working days in (15 Dec, 24 Dec] = 16,17,18,19,22,23,24 = 7.
    status, result = check(capsys, "2025-12-15T12:00:00+00:00")
    assert entry(result, "SCH-2026-014")["working_days_left"] == 7
    assert entry(result, "SCH-2026-014")["flags"] == []
    assert status == 0
    # Mon 29 Dec 09:00: overdue; (24 Dec, 29 Dec] has one working day, the 29th (Thu 25 and
    # Fri 26 are Christmas Day and Boxing Day, 27 and 28 the weekend).
    _, result = check(capsys, "2025-12-29T09:00:00+00:00")
    assert entry(result, "SCH-2026-014")["working_days_left"] == -1
    assert entry(result, "SCH-2026-014")["flags"] == ["overdue"]


def test_as_of_leaves_out_later_events_and_later_cases(cli_env, tmp_path, capsys):
    run_import(
        tmp_path,
        case_json(
            events=[
                {"at": "2026-11-17T11:00:00+00:00", "kind": "escalated", "stage": 2, "note": "x"},
                {"at": "2026-11-18T15:00:00+00:00", "kind": "resolved", "note": "Agreed."},
            ]
        ),
        case_json("SCH-2026-020", opened_at="2026-11-20T09:00:00+00:00"),
    )
    # At Mon 16 Nov 12:00 the case is at stage 1 (by day 2 = Tue 17 Nov 17:00), 1 working day
    # left; the case opened on Fri 20 Nov is not yet listed.
    _, result = check(capsys, "2026-11-16T12:00:00+00:00")
    assert [c["ref"] for c in result["cases"]] == ["SCH-2026-014"]
    assert entry(result, "SCH-2026-014")["stage"] == 1
    assert entry(result, "SCH-2026-014")["due"] == "2026-11-17T17:00:00+00:00"
    assert entry(result, "SCH-2026-014")["working_days_left"] == 1
    # After the resolution on the 18th the case is no longer open; the later case is.
    status, result = check(capsys, "2026-11-20T10:00:00+00:00")
    assert [c["ref"] for c in result["cases"]] == ["SCH-2026-020"]
    assert status == 0


def test_immediate_risk_in_hours_then_escalated(cli_env, tmp_path, capsys):
    # Raised at opening, Mon 16 Nov 2026 09:30: same working day -> due 16 Nov 17:00.
    run_import(
        tmp_path,
        case_json(
            immediate_risk=True,
            events=[
                {
                    "at": "2026-11-16T12:00:00+00:00",
                    "kind": "risk-escalated",
                    "note": "Police informed.",
                },
            ],
        ),
    )
    status, result = check(capsys, "2026-11-16T10:00:00+00:00")
    case = entry(result, "SCH-2026-014")
    assert case["risk_due"] == "2026-11-16T17:00:00+00:00"
    assert case["flags"] == ["immediate-risk"]
    assert status == 1
    # Escalated at 12:00 the same day.
    _, result = check(capsys, "2026-11-16T12:30:00+00:00")
    assert entry(result, "SCH-2026-014")["risk_due"] is None
    assert "immediate-risk" not in entry(result, "SCH-2026-014")["flags"]


def test_risk_raised_out_of_hours_is_due_at_once(cli_env, tmp_path, capsys):
    # Raised Sat 21 Nov 2026 10:00: not a working day, so due at that moment (out of hours).
    run_import(
        tmp_path,
        case_json(
            events=[
                {"at": "2026-11-21T10:00:00+00:00", "kind": "risk-raised", "note": "Disclosure."},
            ]
        ),
    )
    _, result = check(capsys, "2026-11-21T10:05:00+00:00")
    case = entry(result, "SCH-2026-014")
    assert case["risk_due"] == "2026-11-21T10:00:00+00:00"
    assert case["flags"][0] == "immediate-risk"


def test_iro_notice_liverpool_from_stage_1_gloucestershire_from_stage_2(cli_env, tmp_path, capsys):
    # Both opened Mon 16 Nov 2026 09:30. LIV-1 tells the IRO on Tue 17 Nov; GLO-1 reaches
    # stage 2, where Gloucestershire's IRO duty arises, on Wed 18 Nov.
    run_import(
        tmp_path,
        case_json(
            "LIV-1",
            cp_plan=True,
            events=[
                {"at": "2026-11-17T09:00:00+00:00", "kind": "notified", "whom": "iro"},
            ],
        ),
        case_json(
            "GLO-1",
            procedure="gloucestershire",
            looked_after=True,
            events=[
                {"at": "2026-11-18T09:00:00+00:00", "kind": "escalated", "stage": 2, "note": "x"},
            ],
        ),
    )
    _, result = check(capsys, "2026-11-16T12:00:00+00:00")
    assert "iro-notice" in entry(result, "LIV-1")["flags"]
    assert "iro-notice" not in entry(result, "GLO-1")["flags"]
    _, result = check(capsys, "2026-11-18T12:00:00+00:00")
    assert "iro-notice" not in entry(result, "LIV-1")["flags"]
    assert "iro-notice" in entry(result, "GLO-1")["flags"]
    # Gloucestershire stage 2 entered Wed 18 Nov: within 5 working days = 19,20,23,24,25 -> 25 Nov.
    assert entry(result, "GLO-1")["due"] == "2026-11-25T17:00:00+00:00"


def test_newham_stage_without_timescale_then_deadline_set_then_stage_5(cli_env, tmp_path, capsys):
    # Opened Mon 16 Nov 2026; stage 4 (no timescale) on Tue 17 Nov, given a deadline of
    # Fri 20 Nov noon; stage 5 on Thu 19 Nov.
    run_import(
        tmp_path,
        case_json(
            "NEW-1",
            procedure="newham",
            events=[
                {
                    "at": "2026-11-17T10:00:00+00:00",
                    "kind": "escalated",
                    "stage": 4,
                    "note": "CP manager",
                },
                {
                    "at": "2026-11-17T11:00:00+00:00",
                    "kind": "deadline-set",
                    "due": "2026-11-20T12:00:00+00:00",
                    "note": "CP manager asked for Friday noon.",
                },
                {
                    "at": "2026-11-19T10:00:00+00:00",
                    "kind": "escalated",
                    "stage": 5,
                    "note": "Senior",
                },
            ],
        ),
    )
    _, result = check(capsys, "2026-11-17T10:30:00+00:00")
    assert entry(result, "NEW-1")["due"] is None
    assert entry(result, "NEW-1")["working_days_left"] is None
    assert entry(result, "NEW-1")["flags"] == []
    _, result = check(capsys, "2026-11-18T10:00:00+00:00")
    assert entry(result, "NEW-1")["due"] == "2026-11-20T12:00:00+00:00"
    # Stage 5 entered Thu 19 Nov: within 3 working days = 20, 23, 24 -> Tue 24 Nov 17:00; the
    # deadline set for stage 4 no longer applies.
    _, result = check(capsys, "2026-11-19T12:00:00+00:00")
    assert entry(result, "NEW-1")["due"] == "2026-11-24T17:00:00+00:00"


def test_st_helens_stage_1_opened_in_the_evening_is_due_next_working_day(cli_env, tmp_path, capsys):
    # Opened Mon 16 Nov 2026 18:00, after the end of the working day. A stage's "same working
    # day" (contract v2 section 1) is then the end of the next working day: Tue 17 Nov 17:00.
    # Only an immediate risk is due at once.
    run_import(
        tmp_path, case_json("STH-1", procedure="st-helens", opened_at="2026-11-16T18:00:00+00:00")
    )
    _, result = check(capsys, "2026-11-16T18:00:00+00:00")
    assert entry(result, "STH-1")["due"] == "2026-11-17T17:00:00+00:00"
    assert entry(result, "STH-1")["flags"] == []
    _, result = check(capsys, "2026-11-17T17:01:00+00:00")
    assert entry(result, "STH-1")["flags"] == ["overdue"]


def test_local_time_input_is_london_and_output_has_offset(cli_env, tmp_path, capsys):
    # Opened Tue 2 Jun 2026 09:00 London (BST, a working day after the Spring bank holiday of
    # 25 May) written without an offset, so 08:00Z. St Helens stage 1 is due the same working
    # day: 17:00 BST = 16:00Z, printed with its offset. The as-of is an hour after the opening.
    run_import(tmp_path, case_json("STH-2", procedure="st-helens", opened_at="2026-06-02T09:00:00"))
    _, result = check(capsys, "2026-06-02T10:00:00+01:00")
    assert entry(result, "STH-2")["due"] == "2026-06-02T16:00:00+00:00"


def test_scottish_school_uses_scottish_holidays(cli_env, tmp_path, capsys, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('nation = "SCT"\n')
    monkeypatch.setenv("DSL_CONSOLE_CONFIG", str(config))
    # Gloucestershire stage 1 within 5 working days of Wed 25 Nov 2026; Scotland keeps
    # Mon 30 Nov (St Andrew's Day): 26, 27 Nov, 1, 2, 3 Dec -> Thu 3 Dec 17:00.
    run_import(
        tmp_path,
        case_json("GLO-S", procedure="gloucestershire", opened_at="2026-11-25T10:00:00+00:00"),
    )
    _, result = check(capsys, "2026-11-26T09:00:00+00:00")
    assert entry(result, "GLO-S")["due"] == "2026-12-03T17:00:00+00:00"


def test_plain_check_names_refs_not_children(cli_env, tmp_path, capsys):
    run_import(tmp_path, case_json(immediate_risk=True))
    capsys.readouterr()
    # Raised at the opening, Mon 16 Nov 2026 09:30, and outstanding at 10:00.
    assert main(["check", "--as-of", "2026-11-16T10:00:00+00:00"]) == 1
    out = capsys.readouterr().out
    assert "SCH-2026-014" in out and "IMMEDIATE RISK" in out
    assert "Ada" not in out


def test_check_with_no_flags_exits_0(cli_env, capsys):
    assert main(["check", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cases"] == []


def test_retention_review_flag_for_a_record_past_the_25th_birthday(cli_env, tmp_path, capsys):
    # Born 23 Nov 2001: 25th birthday Mon 23 Nov 2026, the review date.
    run_import(
        tmp_path,
        case_json(
            "OLD-1",
            child={"name": "Ada Example", "dob": "2001-11-23"},
            opened_at="2026-11-16T09:00:00+00:00",
        ),
        case_json("NEW-1", opened_at="2026-11-16T09:00:00+00:00"),
    )
    _, result = check(capsys, "2026-11-22T09:00:00+00:00")
    assert "retention-review" not in entry(result, "OLD-1")["flags"]
    _, result = check(capsys, "2026-11-23T09:00:00+00:00")
    assert entry(result, "OLD-1")["flags"][-1] == "retention-review"
    assert "retention-review" not in entry(result, "NEW-1")["flags"]


def test_a_plain_date_as_of_is_the_end_of_that_days_working_hours(cli_env, tmp_path, capsys):
    # Gloucestershire stage 1 opened Mon 16 Nov 2026 10:00: due within 5 working days, Mon 23
    # Nov 17:00. "--as-of 2026-11-23" is 23 Nov 17:00 (the end of its working hours): due
    # today, not yet overdue, 0 working days left. "--as-of 2026-11-22" (a Sunday) is 22 Nov
    # 17:00 all the same: 1 working day left, in (22 Nov, 23 Nov].
    run_import(
        tmp_path,
        case_json("GLO-D", procedure="gloucestershire", opened_at="2026-11-16T10:00:00+00:00"),
    )
    _, result = check(capsys, "2026-11-23")
    assert result["as_of"] == "2026-11-23T17:00:00+00:00"
    assert entry(result, "GLO-D")["flags"] == ["due-today"]
    assert entry(result, "GLO-D")["working_days_left"] == 0
    _, result = check(capsys, "2026-11-22")
    assert result["as_of"] == "2026-11-22T17:00:00+00:00"
    assert entry(result, "GLO-D")["working_days_left"] == 1


def test_as_of_now_is_given_to_the_second(cli_env, capsys):
    # Without --as-of, the moment is the clock's: printed as the contract's example prints it.
    from datetime import UTC, datetime, timedelta

    capsys.readouterr()
    assert main(["check", "--json"]) in (0, 1)
    as_of = json.loads(capsys.readouterr().out)["as_of"]
    moment = datetime.fromisoformat(as_of)
    assert "." not in as_of and as_of.endswith("+00:00")
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=1)


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_check_read_only_in_part_still_exits_1_for_a_flagged_case(cli_env, tmp_path, json_output):
    # `check | head -1` or `check | true` under cron's pipefail: the reader went before the
    # output was written, and the broken pipe made check exit 0, "nothing flagged".
    import subprocess
    import sys

    command = Path(sys.executable).parent / "dsl-console"
    if not command.exists():
        pytest.skip("dsl-console is not installed beside this interpreter")
    run_import(tmp_path, case_json(immediate_risk=True))
    reader, writer = os.pipe()
    os.close(reader)  # nobody reads: the first write breaks the pipe
    try:
        done = subprocess.run(
            [str(command), "check", *(["--json"] if json_output else [])],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(writer)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


def test_a_date_written_as_the_forms_take_it_is_refused_with_the_form_check_takes(cli_env, capsys):
    # The console's forms take 25/11/2026; --as-of said only what a timestamp looks like.
    capsys.readouterr()
    assert main(["check", "--as-of", "25/11/2026"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "2026-11-25" in err and "end of that day" in err
