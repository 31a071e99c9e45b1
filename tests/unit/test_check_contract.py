"""`dsl-console check --as-of T --json` against hand-worked cases (contract §1-3, §6).

Each expected date is worked out by hand in the comment beside it. England, 17:00 end of day.
"""

from __future__ import annotations

import json
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
    # Opened Mon 14 Dec 2026 (day 1). Escalated to stage 2 on Tue 15 Dec: stage 2 is due by
    # day 9 = Thu 24 Dec (14,15,16,17,18,21,22,23,24), 17:00 GMT.
    run_import(
        tmp_path,
        case_json(
            events=[
                {
                    "at": "2026-12-15T11:00:00+00:00",
                    "kind": "escalated",
                    "stage": 2,
                    "by": "J. Smith",
                    "note": "No agreement with the social worker.",
                },
            ]
        ),
    )
    status, result = check(capsys, "2026-12-24T10:00:00+00:00")
    assert result["as_of"] == "2026-12-24T10:00:00+00:00"
    assert entry(result, "SCH-2026-014") == {
        "ref": "SCH-2026-014",
        "procedure": "liverpool",
        "status": "open",
        "stage": 2,
        "due": "2026-12-24T17:00:00+00:00",
        "working_days_left": 0,
        "risk_due": None,
        "flags": ["due-today"],
        "duties": [],
    }
    assert status == 1
    # On Tue 15 Dec at noon: working days in (15 Dec, 24 Dec] = 16,17,18,21,22,23,24 = 7.
    status, result = check(capsys, "2026-12-15T12:00:00+00:00")
    assert entry(result, "SCH-2026-014")["working_days_left"] == 7
    assert entry(result, "SCH-2026-014")["flags"] == []
    assert status == 0
    # Tue 29 Dec 09:00: overdue; (24 Dec, 29 Dec] has one working day (25, 28 are holidays).
    _, result = check(capsys, "2026-12-29T09:00:00+00:00")
    assert entry(result, "SCH-2026-014")["working_days_left"] == -1
    assert entry(result, "SCH-2026-014")["flags"] == ["overdue"]


def test_as_of_leaves_out_later_events_and_later_cases(cli_env, tmp_path, capsys):
    run_import(
        tmp_path,
        case_json(
            events=[
                {"at": "2026-12-15T11:00:00+00:00", "kind": "escalated", "stage": 2, "note": "x"},
                {"at": "2026-12-16T15:00:00+00:00", "kind": "resolved", "note": "Agreed."},
            ]
        ),
        case_json("SCH-2026-020", opened_at="2026-12-18T09:00:00+00:00"),
    )
    # At 14 Dec 12:00 the case is at stage 1 (by day 2 = Tue 15 Dec 17:00), 1 working day left.
    _, result = check(capsys, "2026-12-14T12:00:00+00:00")
    assert [c["ref"] for c in result["cases"]] == ["SCH-2026-014"]
    assert entry(result, "SCH-2026-014")["stage"] == 1
    assert entry(result, "SCH-2026-014")["due"] == "2026-12-15T17:00:00+00:00"
    assert entry(result, "SCH-2026-014")["working_days_left"] == 1
    # After the resolution on the 16th the case is no longer open; the later case is.
    status, result = check(capsys, "2026-12-18T10:00:00+00:00")
    assert [c["ref"] for c in result["cases"]] == ["SCH-2026-020"]
    assert status == 0


def test_immediate_risk_in_hours_then_escalated(cli_env, tmp_path, capsys):
    # Raised at opening, Mon 14 Dec 09:30: same working day -> due 14 Dec 17:00.
    run_import(
        tmp_path,
        case_json(
            immediate_risk=True,
            events=[
                {
                    "at": "2026-12-14T12:00:00+00:00",
                    "kind": "risk-escalated",
                    "note": "Police informed.",
                },
            ],
        ),
    )
    status, result = check(capsys, "2026-12-14T10:00:00+00:00")
    case = entry(result, "SCH-2026-014")
    assert case["risk_due"] == "2026-12-14T17:00:00+00:00"
    assert case["flags"] == ["immediate-risk"]
    assert status == 1
    _, result = check(capsys, "2026-12-14T12:30:00+00:00")
    assert entry(result, "SCH-2026-014")["risk_due"] is None
    assert "immediate-risk" not in entry(result, "SCH-2026-014")["flags"]


def test_risk_raised_out_of_hours_is_due_at_once(cli_env, tmp_path, capsys):
    # Raised Sat 19 Dec 2026 10:00: not a working day, so due at that moment (out of hours).
    run_import(
        tmp_path,
        case_json(
            events=[
                {"at": "2026-12-19T10:00:00+00:00", "kind": "risk-raised", "note": "Disclosure."},
            ]
        ),
    )
    _, result = check(capsys, "2026-12-19T10:05:00+00:00")
    case = entry(result, "SCH-2026-014")
    assert case["risk_due"] == "2026-12-19T10:00:00+00:00"
    assert case["flags"][0] == "immediate-risk"


def test_iro_notice_liverpool_from_stage_1_gloucestershire_from_stage_2(cli_env, tmp_path, capsys):
    run_import(
        tmp_path,
        case_json(
            "LIV-1",
            cp_plan=True,
            events=[
                {"at": "2026-12-15T09:00:00+00:00", "kind": "notified", "whom": "iro"},
            ],
        ),
        case_json(
            "GLO-1",
            procedure="gloucestershire",
            looked_after=True,
            events=[
                {"at": "2026-12-16T09:00:00+00:00", "kind": "escalated", "stage": 2, "note": "x"},
            ],
        ),
    )
    _, result = check(capsys, "2026-12-14T12:00:00+00:00")
    assert "iro-notice" in entry(result, "LIV-1")["flags"]
    assert "iro-notice" not in entry(result, "GLO-1")["flags"]
    _, result = check(capsys, "2026-12-16T12:00:00+00:00")
    assert "iro-notice" not in entry(result, "LIV-1")["flags"]
    assert "iro-notice" in entry(result, "GLO-1")["flags"]
    # Gloucestershire stage 2 entered Wed 16 Dec: within 5 working days = 17,18,21,22,23 -> 23 Dec.
    assert entry(result, "GLO-1")["due"] == "2026-12-23T17:00:00+00:00"


def test_newham_stage_without_timescale_then_deadline_set_then_stage_5(cli_env, tmp_path, capsys):
    run_import(
        tmp_path,
        case_json(
            "NEW-1",
            procedure="newham",
            events=[
                {
                    "at": "2026-12-15T10:00:00+00:00",
                    "kind": "escalated",
                    "stage": 4,
                    "note": "CP manager",
                },
                {
                    "at": "2026-12-15T11:00:00+00:00",
                    "kind": "deadline-set",
                    "due": "2026-12-18T12:00:00+00:00",
                    "note": "CP manager asked for Friday noon.",
                },
                {
                    "at": "2026-12-17T10:00:00+00:00",
                    "kind": "escalated",
                    "stage": 5,
                    "note": "Senior",
                },
            ],
        ),
    )
    _, result = check(capsys, "2026-12-15T10:30:00+00:00")
    assert entry(result, "NEW-1")["due"] is None
    assert entry(result, "NEW-1")["working_days_left"] is None
    assert entry(result, "NEW-1")["flags"] == []
    _, result = check(capsys, "2026-12-16T10:00:00+00:00")
    assert entry(result, "NEW-1")["due"] == "2026-12-18T12:00:00+00:00"
    # Stage 5 entered Thu 17 Dec: within 3 working days = 18, 21, 22 -> Tue 22 Dec 17:00; the
    # deadline set for stage 4 no longer applies.
    _, result = check(capsys, "2026-12-17T12:00:00+00:00")
    assert entry(result, "NEW-1")["due"] == "2026-12-22T17:00:00+00:00"


def test_st_helens_stage_1_opened_in_the_evening_is_due_next_working_day(cli_env, tmp_path, capsys):
    # Opened Mon 14 Dec 18:00, after the end of the working day. A stage's "same working day"
    # (contract v2 section 1) is then the end of the next working day: Tue 15 Dec 17:00. Only
    # an immediate risk is due at once.
    run_import(
        tmp_path, case_json("STH-1", procedure="st-helens", opened_at="2026-12-14T18:00:00+00:00")
    )
    _, result = check(capsys, "2026-12-14T18:00:00+00:00")
    assert entry(result, "STH-1")["due"] == "2026-12-15T17:00:00+00:00"
    assert entry(result, "STH-1")["flags"] == []
    _, result = check(capsys, "2026-12-15T17:01:00+00:00")
    assert entry(result, "STH-1")["flags"] == ["overdue"]


def test_local_time_input_is_london_and_output_has_offset(cli_env, tmp_path, capsys):
    # Opened Tue 1 Jun 2027 09:00 London (BST) written without an offset. St Helens stage 2 is
    # within 5 working days of opening; but stage 1 is same day: 17:00 BST = 16:00Z.
    run_import(tmp_path, case_json("STH-2", procedure="st-helens", opened_at="2027-06-01T09:00:00"))
    # The as-of is in the future relative to the case, which was opened "today" for the import.
    _, result = check(capsys, "2027-06-01T10:00:00+01:00")
    assert entry(result, "STH-2")["due"] == "2027-06-01T16:00:00+00:00"


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
    assert main(["check", "--as-of", "2026-12-14T10:00:00+00:00"]) == 1
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
