"""Duties and `check --json` v2 (`status`, `duties`) against hand-worked cases (contract §1-3, §6).

Each expected date is worked out by hand in the comment beside it. England, 17:00 end of day;
London is on GMT (= UTC) throughout November 2026, and November 2026 has no bank holiday.
The calendar used below:

    Mon 16  Tue 17  Wed 18  Thu 19  Fri 20  (Sat 21  Sun 22)
    Mon 23  Tue 24  Wed 25  Thu 26  Fri 27  (Sat 28  Sun 29)
    Mon 30  Tue 1 Dec ...

Every opening and event is before 1 Dec 2026 (the day these were written: later ones would be
refused as in the future); `--as-of` may be any moment.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsl_console.cli import main
from tests.conftest import case_json, document

CASE_FIELDS = ("status", "stage", "due", "working_days_left", "risk_due", "flags")
DUTY_FIELDS = ("id", "party", "arose_at", "due", "working_days_left", "soft")


def run_import(tmp_path: Path, *cases: dict) -> None:
    path = tmp_path / "in.json"
    path.write_text(document(*cases))
    assert main(["import", str(path)]) == 0


def refused_import(tmp_path: Path, capsys: pytest.CaptureFixture[str], *cases: dict) -> str:
    """Import that must be refused whole: exit 2, one line on stderr, nothing written."""
    path = tmp_path / "in.json"
    path.write_text(document(*cases))
    capsys.readouterr()
    assert main(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    _, result = check(capsys, "2030-01-01T00:00:00+00:00")
    assert result["cases"] == [], "a refused import must write nothing"
    return err


def check(capsys: pytest.CaptureFixture[str], as_of: str) -> tuple[int, dict]:
    capsys.readouterr()
    status = main(["check", "--as-of", as_of, "--json"])
    captured = capsys.readouterr()
    assert captured.out.strip(), f"check printed nothing (exit {status}): {captured.err}"
    return status, json.loads(captured.out)


def refs(result: dict) -> list[str]:
    return [c["ref"] for c in result["cases"]]


def entry(result: dict, ref: str) -> dict:
    found = [c for c in result["cases"] if c["ref"] == ref]
    assert len(found) == 1, f"{ref} not listed once"
    return found[0]


def view(result: dict, ref: str) -> dict:
    """The worked-out fields of one listed case (not the `what` wording)."""
    case = entry(result, ref)
    assert case["ref"] == ref
    return {name: case[name] for name in CASE_FIELDS}


def duties(result: dict, ref: str) -> list[dict]:
    """The case's outstanding duties, in order, without the `what` wording (checked non-empty)."""
    listed = entry(result, ref)["duties"]
    for duty in listed:
        assert isinstance(duty["what"], str) and duty["what"].strip(), duty
    return [{name: duty[name] for name in DUTY_FIELDS} for duty in listed]


def duty_ids(result: dict, ref: str) -> list[str]:
    return [duty["id"] for duty in entry(result, ref)["duties"]]


def duty(
    id_: str,
    arose_at: str,
    due: str | None = None,
    working_days_left: int | None = None,
    *,
    soft: bool = False,
    party: str = "school",
) -> dict:
    return {
        "id": id_,
        "party": party,
        "arose_at": arose_at,
        "due": due,
        "working_days_left": working_days_left,
        "soft": soft,
    }


def open_case(stage: int, due: str | None, left: int | None, flags: list[str]) -> dict:
    return {
        "status": "open",
        "stage": stage,
        "due": due,
        "working_days_left": left,
        "risk_due": None,
        "flags": flags,
    }


def resolved_case(stage: int, flags: list[str]) -> dict:
    # §6 v2: a resolved case is listed only while it has an outstanding duty, with `stage` its
    # last stage and `due` / `working_days_left` null.
    return {
        "status": "resolved",
        "stage": stage,
        "due": None,
        "working_days_left": None,
        "risk_due": None,
        "flags": flags,
    }


def event(at: str, kind: str, **fields: object) -> dict:
    return {"at": at, "kind": kind, **fields}


def escalated(at: str, stage: int) -> dict:
    return event(at, "escalated", stage=stage, by="J. Smith", note="No agreement reached.")


def notified(at: str, whom: str, form: str | None = None) -> dict:
    extra = {"form": form} if form is not None else {}
    return event(at, "notified", whom=whom, note="Sent.", **extra)


def resolved(at: str) -> dict:
    return event(at, "resolved", note="Agreed at a professionals' meeting.")


# 1 ------------------------------------------------------------------------------------------


def test_st_helens_stage_1_opened_on_a_saturday_is_due_monday_and_the_week_target_is_soft(
    cli_env, tmp_path, capsys
):
    # Opened Sat 21 Nov 10:00 (GMT). Stage 1 is "same working day" as opening; for a stage
    # timescale (§1 v2) a Saturday is not a working day, so it is due at the end of the next
    # working day: Sun 22 is not one, Mon 23 is -> Mon 23 Nov 17:00, not at once.
    # Soft duty resolve-in-a-week: within 5 working days from opening; day 0 = Sat 21, then
    # Mon 23 (1), Tue 24 (2), Wed 25 (3), Thu 26 (4), Fri 27 (5) -> Fri 27 Nov 17:00.
    # Escalated to stage 2 (St Helens v2: timescale none) on Mon 23 11:00, so that from then only
    # the soft duty has a clock.
    run_import(
        tmp_path,
        case_json(
            "STH-SAT",
            procedure="st-helens",
            opened_at="2026-11-21T10:00:00+00:00",
            events=[escalated("2026-11-23T11:00:00+00:00", 2)],
        ),
    )
    week = "2026-11-27T17:00:00+00:00"
    # Sat 21 12:00: working days in (Sat 21, Mon 23] = Mon 23 -> 1; nothing due today.
    status, result = check(capsys, "2026-11-21T12:00:00+00:00")
    assert view(result, "STH-SAT") == open_case(1, "2026-11-23T17:00:00+00:00", 1, [])
    # Soft duty: working days in (Sat 21, Fri 27] = 23, 24, 25, 26, 27 -> 5.
    assert duties(result, "STH-SAT") == [
        duty("resolve-in-a-week", "2026-11-21T10:00:00+00:00", week, 5, soft=True)
    ]
    assert status == 0
    # Mon 23 10:00 (before the escalation): the stage is due later today -> due-today, 0 left.
    # Soft duty: (Mon 23, Fri 27] = 24, 25, 26, 27 -> 4.
    status, result = check(capsys, "2026-11-23T10:00:00+00:00")
    assert view(result, "STH-SAT") == open_case(1, "2026-11-23T17:00:00+00:00", 0, ["due-today"])
    assert duties(result, "STH-SAT") == [
        duty("resolve-in-a-week", "2026-11-21T10:00:00+00:00", week, 4, soft=True)
    ]
    assert status == 1
    # Mon 23 12:00, after the escalation: stage 2 has no timescale -> due null, no flags.
    status, result = check(capsys, "2026-11-23T12:00:00+00:00")
    assert view(result, "STH-SAT") == open_case(2, None, None, [])
    assert status == 0
    # Fri 27 16:00: the soft duty falls due later today, but a soft duty never raises due-today.
    # (Fri 27, Fri 27] is empty -> 0 left.
    status, result = check(capsys, "2026-11-27T16:00:00+00:00")
    assert view(result, "STH-SAT") == open_case(2, None, None, [])
    assert duties(result, "STH-SAT") == [
        duty("resolve-in-a-week", "2026-11-21T10:00:00+00:00", week, 0, soft=True)
    ]
    assert status == 0
    # Mon 30 10:00: the soft duty's due has passed (still outstanding: not resolved), yet no
    # overdue flag. Its working_days_left: Fri 27 is before Mon 30, so minus the working days
    # in (Fri 27, Mon 30] = Mon 30 -> -1.
    status, result = check(capsys, "2026-11-30T10:00:00+00:00")
    assert view(result, "STH-SAT") == open_case(2, None, None, [])
    assert duties(result, "STH-SAT") == [
        duty("resolve-in-a-week", "2026-11-21T10:00:00+00:00", week, -1, soft=True)
    ]
    assert status == 0


# 2 ------------------------------------------------------------------------------------------


def test_gloucestershire_shorten_only_refuses_a_later_deadline_and_takes_an_earlier_one(
    cli_env, tmp_path, capsys
):
    # Opened Mon 16 Nov 09:00 at stage 1: within 5 working days of entering (entry = opening):
    # day 0 = Mon 16, then 17, 18, 19, 20, 23 -> the stage's own due is Mon 23 Nov 17:00.
    # A deadline-set on Tue 17 for Wed 25 Nov 17:00 is later than that: refused (shorten-only).
    later = case_json(
        "GLO-LATE",
        procedure="gloucestershire",
        opened_at="2026-11-16T09:00:00+00:00",
        events=[
            event(
                "2026-11-17T10:00:00+00:00",
                "deadline-set",
                due="2026-11-25T17:00:00+00:00",
                note="The other worker asked for more time.",
            )
        ],
    )
    good = case_json("GLO-GOOD", procedure="gloucestershire", opened_at="2026-11-16T09:00:00+00:00")
    err = refused_import(tmp_path, capsys, good, later)
    assert "GLO-LATE" in err
    assert "due" in err or "deadline" in err

    # The same case with Fri 20 Nov 12:00 (earlier than Mon 23 17:00) is accepted; and one set
    # to exactly the stage's own due (Mon 23 17:00, not later) is accepted too.
    earlier = case_json(
        "GLO-EARLY",
        procedure="gloucestershire",
        opened_at="2026-11-16T09:00:00+00:00",
        events=[
            event(
                "2026-11-17T10:00:00+00:00",
                "deadline-set",
                due="2026-11-20T12:00:00+00:00",
                note="Agreed to settle it before the Friday visit.",
            )
        ],
    )
    equal = case_json(
        "GLO-EQUAL",
        procedure="gloucestershire",
        opened_at="2026-11-16T09:00:00+00:00",
        events=[
            event(
                "2026-11-17T10:00:00+00:00",
                "deadline-set",
                due="2026-11-23T17:00:00+00:00",
                note="Confirmed the stage's own date.",
            )
        ],
    )
    run_import(tmp_path, earlier, equal)
    # Mon 16 12:00, before the deadline-set: the stage's own due, (16, 23] = 17,18,19,20,23 -> 5.
    _, result = check(capsys, "2026-11-16T12:00:00+00:00")
    assert view(result, "GLO-EARLY") == open_case(1, "2026-11-23T17:00:00+00:00", 5, [])
    # Wed 18 09:00: the set due applies; working days in (Wed 18, Fri 20] = 19, 20 -> 2.
    status, result = check(capsys, "2026-11-18T09:00:00+00:00")
    assert view(result, "GLO-EARLY") == open_case(1, "2026-11-20T12:00:00+00:00", 2, [])
    assert duties(result, "GLO-EARLY") == []  # no CP plan, no duty at stage 1
    # (Wed 18, Mon 23] = 19, 20, 23 -> 3.
    assert view(result, "GLO-EQUAL") == open_case(1, "2026-11-23T17:00:00+00:00", 3, [])
    assert status == 0
    # Fri 20 11:00: due at noon today -> due-today, (20, 20] empty -> 0.
    _, result = check(capsys, "2026-11-20T11:00:00+00:00")
    assert view(result, "GLO-EARLY") == open_case(1, "2026-11-20T12:00:00+00:00", 0, ["due-today"])
    # Fri 20 13:00: past noon on the due's own date -> overdue, still 0 working days left.
    status, result = check(capsys, "2026-11-20T13:00:00+00:00")
    assert view(result, "GLO-EARLY") == open_case(1, "2026-11-20T12:00:00+00:00", 0, ["overdue"])
    assert status == 1


# 3 ------------------------------------------------------------------------------------------


def test_liverpool_appendix_2_from_stage_3_outlives_resolution_until_the_form_is_sent(
    cli_env, tmp_path, capsys
):
    # Opened Mon 16 Nov 09:00 (day 1 = Mon 16). Stage 3 is by day 16: 16(1) 17(2) 18(3) 19(4)
    # 20(5) 23(6) 24(7) 25(8) 26(9) 27(10) 30(11) 1 Dec(12) 2(13) 3(14) 4(15) Mon 7 Dec(16)
    # -> Mon 7 Dec 17:00. Appendix 2 arises at the escalation to stage 3 (Wed 18 10:00), has no
    # due, lapses never. A notified partnership with form "liverpool" at stage 1 (Mon 16, before
    # the duty arose) does not count: done_by must be at or after the arising.
    run_import(
        tmp_path,
        case_json(
            "LIV-3",
            opened_at="2026-11-16T09:00:00+00:00",
            events=[
                notified("2026-11-16T10:00:00+00:00", "partnership", "liverpool"),
                escalated("2026-11-17T10:00:00+00:00", 2),
                escalated("2026-11-18T10:00:00+00:00", 3),
                resolved("2026-11-24T15:00:00+00:00"),
                # No form, then the wrong form: neither discharges appendix-2.
                notified("2026-11-25T10:00:00+00:00", "partnership"),
                notified("2026-11-25T11:00:00+00:00", "partnership", "newham"),
                notified("2026-11-26T10:00:00+00:00", "partnership", "liverpool"),
            ],
        ),
    )
    appendix_2 = duty("appendix-2", "2026-11-18T10:00:00+00:00")
    stage_3_due = "2026-12-07T17:00:00+00:00"
    # Wed 18 09:00, at stage 2: no duty yet (the stage-1 notification discharged nothing).
    # Stage 2 by day 9 = Thu 26 Nov; (18, 26] = 19,20,23,24,25,26 -> 6.
    _, result = check(capsys, "2026-11-18T09:00:00+00:00")
    assert view(result, "LIV-3") == open_case(2, "2026-11-26T17:00:00+00:00", 6, [])
    assert duties(result, "LIV-3") == []
    # Wed 18 11:00: stage 3; (Wed 18, Mon 7 Dec] = 19,20,23,24,25,26,27,30,1,2,3,4,7 -> 13.
    status, result = check(capsys, "2026-11-18T11:00:00+00:00")
    assert view(result, "LIV-3") == open_case(3, stage_3_due, 13, ["partnership-notice"])
    assert duties(result, "LIV-3") == [appendix_2]
    assert status == 1
    # Mon 23 10:00, days later: still outstanding. (Mon 23, Mon 7 Dec] = 24,25,26,27,30,1,2,3,4,7
    # -> 10.
    _, result = check(capsys, "2026-11-23T10:00:00+00:00")
    assert view(result, "LIV-3") == open_case(3, stage_3_due, 10, ["partnership-notice"])
    assert duties(result, "LIV-3") == [appendix_2]
    # Tue 24 16:00, resolved at 15:00: still listed, as resolved, at its last stage (3).
    status, result = check(capsys, "2026-11-24T16:00:00+00:00")
    assert view(result, "LIV-3") == resolved_case(3, ["partnership-notice"])
    assert duties(result, "LIV-3") == [appendix_2]
    assert status == 1
    # Wed 25 12:00: notified partnership without a form (10:00) and with form newham (11:00):
    # appendix-2 needs form liverpool, so it is still outstanding.
    _, result = check(capsys, "2026-11-25T12:00:00+00:00")
    assert view(result, "LIV-3") == resolved_case(3, ["partnership-notice"])
    assert duties(result, "LIV-3") == [appendix_2]
    # Thu 26 11:00: the Appendix 2 went at 10:00 -> no outstanding duty, and a resolved case
    # without one is not listed at all.
    status, result = check(capsys, "2026-11-26T11:00:00+00:00")
    assert "LIV-3" not in refs(result)
    assert status == 0


def test_liverpool_stage_4_adds_chair_email_discharged_by_any_partnership_notice(
    cli_env, tmp_path, capsys
):
    # Opened Mon 16 Nov 09:00, escalated straight to stage 4 on Tue 17 10:00 (skipping 2 and 3):
    # reaching stage 4 reaches "stage 3 or higher" too, so appendix-2 and chair-email both arise
    # at Tue 17 10:00, listed in the procedure's order. Stage 4 is by day 23: day 16 = Mon 7 Dec
    # (see above), then 8(17) 9(18) 10(19) 11(20) 14(21) 15(22) Wed 16 Dec(23) -> 16 Dec 17:00.
    run_import(
        tmp_path,
        case_json(
            "LIV-4",
            opened_at="2026-11-16T09:00:00+00:00",
            events=[
                escalated("2026-11-17T10:00:00+00:00", 4),
                # whom matched case-insensitively; no form: discharges chair-email only.
                notified("2026-11-18T10:00:00+00:00", "Partnership"),
                notified("2026-11-19T10:00:00+00:00", "partnership", "liverpool"),
            ],
        ),
    )
    stage_4_due = "2026-12-16T17:00:00+00:00"
    # Tue 17 11:00: (Tue 17 Nov, Wed 16 Dec] = 18,19,20,23,24,25,26,27,30,1,2,3,4,7,8,9,10,11,
    # 14,15,16 -> 21 working days.
    status, result = check(capsys, "2026-11-17T11:00:00+00:00")
    assert view(result, "LIV-4") == open_case(4, stage_4_due, 21, ["partnership-notice"])
    assert duties(result, "LIV-4") == [
        duty("appendix-2", "2026-11-17T10:00:00+00:00"),
        duty("chair-email", "2026-11-17T10:00:00+00:00"),
    ]
    assert status == 1
    # Wed 18 11:00: chair-email discharged by the formless notice; appendix-2 still wants the
    # liverpool form. (Wed 18, Wed 16 Dec] = 20 working days.
    _, result = check(capsys, "2026-11-18T11:00:00+00:00")
    assert view(result, "LIV-4") == open_case(4, stage_4_due, 20, ["partnership-notice"])
    assert duties(result, "LIV-4") == [duty("appendix-2", "2026-11-17T10:00:00+00:00")]
    # Thu 19 11:00: both sent; the case is open, so still listed, with no duty and no flag.
    # (Thu 19, Wed 16 Dec] = 19 working days.
    status, result = check(capsys, "2026-11-19T11:00:00+00:00")
    assert view(result, "LIV-4") == open_case(4, stage_4_due, 19, [])
    assert duties(result, "LIV-4") == []
    assert status == 0


# 4 ------------------------------------------------------------------------------------------


def test_liverpool_iro_notice_from_opening_and_from_a_cp_plan_made_mid_case(
    cli_env, tmp_path, capsys
):
    # LIV-CP: on a CP plan at opening (Mon 16 Nov 09:00): the iro duty arises at stage 1, i.e.
    # at the opening, until notified whom iro (Tue 17 09:00). Stage 1 by day 2: 16(1), Tue 17(2)
    # -> Tue 17 Nov 17:00.
    # LIV-LATE: no CP plan at opening; escalated to stage 2 on Tue 17 10:00 (by day 9: 16(1) 17
    # 18 19 20 23 24 25 Thu 26(9) -> Thu 26 Nov 17:00) so no stage-1 clock runs out; a CP plan
    # is made at Wed 18 14:00 (amended cp_plan true): the iro duty arises then.
    run_import(
        tmp_path,
        case_json(
            "LIV-CP",
            cp_plan=True,
            opened_at="2026-11-16T09:00:00+00:00",
            events=[notified("2026-11-17T09:00:00+00:00", "iro")],
        ),
        case_json(
            "LIV-LATE",
            opened_at="2026-11-16T09:00:00+00:00",
            events=[
                escalated("2026-11-17T10:00:00+00:00", 2),
                event(
                    "2026-11-18T14:00:00+00:00",
                    "amended",
                    field="cp_plan",
                    value=True,
                    note="Child made subject to a CP plan at conference.",
                ),
            ],
        ),
    )
    # Mon 16 10:00: LIV-CP stage 1 due Tue 17 (tomorrow, not today): (16, 17] -> 1 left.
    status, result = check(capsys, "2026-11-16T10:00:00+00:00")
    assert view(result, "LIV-CP") == open_case(1, "2026-11-17T17:00:00+00:00", 1, ["iro-notice"])
    assert duties(result, "LIV-CP") == [duty("iro", "2026-11-16T09:00:00+00:00")]
    assert view(result, "LIV-LATE")["flags"] == []
    assert duties(result, "LIV-LATE") == []
    assert status == 1
    # Tue 17 10:00: the IRO was told at 09:00 -> duty gone; the stage is due at 17:00 today.
    _, result = check(capsys, "2026-11-17T10:00:00+00:00")
    assert view(result, "LIV-CP") == open_case(1, "2026-11-17T17:00:00+00:00", 0, ["due-today"])
    assert duties(result, "LIV-CP") == []
    # Wed 18 13:59, a minute before the plan: no IRO duty for LIV-LATE.
    # Stage 2 due Thu 26: (Wed 18, Thu 26] = 19,20,23,24,25,26 -> 6.
    _, result = check(capsys, "2026-11-18T13:59:00+00:00")
    assert view(result, "LIV-LATE") == open_case(2, "2026-11-26T17:00:00+00:00", 6, [])
    assert duties(result, "LIV-LATE") == []
    # Wed 18 14:30: the plan was made at 14:00 -> iro arose at 14:00.
    _, result = check(capsys, "2026-11-18T14:30:00+00:00")
    assert view(result, "LIV-LATE") == open_case(2, "2026-11-26T17:00:00+00:00", 6, ["iro-notice"])
    assert duties(result, "LIV-LATE") == [duty("iro", "2026-11-18T14:00:00+00:00")]


def test_liverpool_iro_duty_lapses_when_the_plan_ends_and_does_not_arise_again(
    cli_env, tmp_path, capsys
):
    # On a CP plan at opening (Mon 16 09:00): iro arises then. Escalated to stage 2 on Tue 17
    # 10:00 (due by day 9 = Thu 26 Nov 17:00). The plan ends on Wed 18 10:00 before the IRO was
    # told: the condition stops holding, so the duty lapses (§2.2 `when`). A new plan on Thu 19
    # 10:00 does not bring it back: a duty arises at most once.
    run_import(
        tmp_path,
        case_json(
            "LIV-END",
            cp_plan=True,
            opened_at="2026-11-16T09:00:00+00:00",
            events=[
                escalated("2026-11-17T10:00:00+00:00", 2),
                event(
                    "2026-11-18T10:00:00+00:00",
                    "amended",
                    field="cp_plan",
                    value=False,
                    note="CP plan ended at the review conference.",
                ),
                event(
                    "2026-11-19T10:00:00+00:00",
                    "amended",
                    field="cp_plan",
                    value=True,
                    note="Child made subject to a CP plan again.",
                ),
            ],
        ),
    )
    # Tue 17 11:00: still outstanding at stage 2 (lapses at resolution by default).
    # (Tue 17, Thu 26] = 18,19,20,23,24,25,26 -> 7.
    _, result = check(capsys, "2026-11-17T11:00:00+00:00")
    assert view(result, "LIV-END") == open_case(2, "2026-11-26T17:00:00+00:00", 7, ["iro-notice"])
    assert duties(result, "LIV-END") == [duty("iro", "2026-11-16T09:00:00+00:00")]
    # Wed 18 11:00: lapsed. (Wed 18, Thu 26] -> 6.
    _, result = check(capsys, "2026-11-18T11:00:00+00:00")
    assert view(result, "LIV-END") == open_case(2, "2026-11-26T17:00:00+00:00", 6, [])
    assert duties(result, "LIV-END") == []
    # Thu 19 11:00: on a plan again, but the duty does not arise a second time. (Thu 19, Thu 26]
    # = 20,23,24,25,26 -> 5.
    _, result = check(capsys, "2026-11-19T11:00:00+00:00")
    assert view(result, "LIV-END") == open_case(2, "2026-11-26T17:00:00+00:00", 5, [])
    assert duties(result, "LIV-END") == []


# 5 ------------------------------------------------------------------------------------------


def test_st_helens_resolution_template_arises_at_resolution_until_the_form_is_sent(
    cli_env, tmp_path, capsys
):
    # Opened Mon 16 Nov 09:00: stage 1 same working day -> Mon 16 17:00. Resolved at 15:00, so
    # resolve-in-a-week (done_by resolved) is discharged, and resolution-template arises at
    # 15:00, no due, lapses never (at = resolution).
    run_import(
        tmp_path,
        case_json(
            "STH-RES",
            procedure="st-helens",
            opened_at="2026-11-16T09:00:00+00:00",
            events=[
                resolved("2026-11-16T15:00:00+00:00"),
                # The wrong form first: st-helens-notice does not discharge the template.
                notified("2026-11-17T10:00:00+00:00", "partnership", "st-helens-notice"),
                notified("2026-11-18T10:00:00+00:00", "partnership", "st-helens-resolution"),
            ],
        ),
    )
    template = duty("resolution-template", "2026-11-16T15:00:00+00:00")
    # Mon 16 14:00, before the resolution: open at stage 1, due later today; the week target
    # (16 -> 17,18,19,20,23: Mon 23 17:00; (16, 23] -> 5 left) is the only duty.
    _, result = check(capsys, "2026-11-16T14:00:00+00:00")
    assert view(result, "STH-RES") == open_case(1, "2026-11-16T17:00:00+00:00", 0, ["due-today"])
    assert duties(result, "STH-RES") == [
        duty(
            "resolve-in-a-week",
            "2026-11-16T09:00:00+00:00",
            "2026-11-23T17:00:00+00:00",
            5,
            soft=True,
        )
    ]
    # Mon 16 16:00: resolved; listed because of the template.
    status, result = check(capsys, "2026-11-16T16:00:00+00:00")
    assert view(result, "STH-RES") == resolved_case(1, ["partnership-notice"])
    assert duties(result, "STH-RES") == [template]
    assert status == 1
    # Tue 17 12:00: the notice form went, not the resolution template -> unchanged.
    _, result = check(capsys, "2026-11-17T12:00:00+00:00")
    assert view(result, "STH-RES") == resolved_case(1, ["partnership-notice"])
    assert duties(result, "STH-RES") == [template]
    # Wed 18 11:00: the template went at 10:00 -> nothing outstanding, not listed.
    status, result = check(capsys, "2026-11-18T11:00:00+00:00")
    assert "STH-RES" not in refs(result)
    assert status == 0


# 6 ------------------------------------------------------------------------------------------


def test_newham_manager_discussion_waits_for_the_discussion_then_is_due_next_working_day(
    cli_env, tmp_path, capsys
):
    # Opened Wed 18 Nov 09:00. Stage 1 within 3 working days of opening: 19, 20, 23 -> Mon 23
    # Nov 17:00. manager-discussion arises at stage 1 (the opening), soft, due within 1 working
    # day from the first discussion or meeting at or after it arose: the discussion on Fri 20
    # 14:00 -> day 0 = Fri 20, Sat/Sun not working days, 1st = Mon 23 -> Mon 23 Nov 17:00. The
    # meeting on Mon 23 09:00 is not the first, so it does not move the due. Escalated to stage
    # 2 on Mon 23 11:00: discharged (done_by escalated stage 2).
    run_import(
        tmp_path,
        case_json(
            "NEW-MD",
            procedure="newham",
            opened_at="2026-11-18T09:00:00+00:00",
            events=[
                event("2026-11-20T14:00:00+00:00", "discussion", note="No agreement."),
                event("2026-11-23T09:00:00+00:00", "meeting", note="Still no agreement."),
                escalated("2026-11-23T11:00:00+00:00", 2),
            ],
        ),
    )
    stage_1_due = "2026-11-23T17:00:00+00:00"
    arose = "2026-11-18T09:00:00+00:00"
    # Wed 18 10:00: no discussion yet -> the duty is listed with no due. (18, 23] = 19,20,23 -> 3.
    status, result = check(capsys, "2026-11-18T10:00:00+00:00")
    assert view(result, "NEW-MD") == open_case(1, stage_1_due, 3, [])
    assert duties(result, "NEW-MD") == [duty("manager-discussion", arose, soft=True)]
    assert status == 0
    # Fri 20 15:00: after the discussion. Duty (Fri 20, Mon 23] = Mon 23 -> 1; stage the same.
    _, result = check(capsys, "2026-11-20T15:00:00+00:00")
    assert view(result, "NEW-MD") == open_case(1, stage_1_due, 1, [])
    assert duties(result, "NEW-MD") == [
        duty("manager-discussion", arose, "2026-11-23T17:00:00+00:00", 1, soft=True)
    ]
    # Mon 23 10:00: the meeting at 09:00 leaves the due on Mon 23 17:00 (not Tue 24); the stage
    # is due later today -> due-today (from the stage; the soft duty raises nothing).
    _, result = check(capsys, "2026-11-23T10:00:00+00:00")
    assert view(result, "NEW-MD") == open_case(1, stage_1_due, 0, ["due-today"])
    assert duties(result, "NEW-MD") == [
        duty("manager-discussion", arose, "2026-11-23T17:00:00+00:00", 0, soft=True)
    ]
    # Mon 23 12:00: at stage 2 (within 1 working day of entering Mon 23 -> Tue 24 17:00, 1
    # left); the duty is discharged.
    status, result = check(capsys, "2026-11-23T12:00:00+00:00")
    assert view(result, "NEW-MD") == open_case(2, "2026-11-24T17:00:00+00:00", 1, [])
    assert duties(result, "NEW-MD") == []
    assert status == 0


# 7 ------------------------------------------------------------------------------------------


def _st_helens_stage_3(ref: str, kind: str, *later: dict) -> dict:
    # Opened Mon 16 Nov 09:00; stage 2 on Mon 16 11:00 (before stage 1's 17:00); stage 3 on
    # Tue 17 10:00.
    return case_json(
        ref,
        procedure="st-helens",
        opened_at="2026-11-16T09:00:00+00:00",
        other_agency_kind=kind,
        events=[
            escalated("2026-11-16T11:00:00+00:00", 2),
            escalated("2026-11-17T10:00:00+00:00", 3),
            *later,
        ],
    )


def test_st_helens_team_manager_alert_for_social_care_at_stage_3(cli_env, tmp_path, capsys):
    # team-manager-alert arises at the escalation to stage 3 (Tue 17 10:00) when the other
    # agency is social care; within 1 working day: day 0 = Tue 17, 1st = Wed 18 -> Wed 18 Nov
    # 17:00. Stage 3 has no timescale (v2). The week target: opened Mon 16 -> 17,18,19,20,23 ->
    # Mon 23 17:00, soft. Notified "Team-Manager" (case-insensitive) on Thu 19 11:00.
    run_import(
        tmp_path,
        _st_helens_stage_3(
            "STH-SC", "social-care", notified("2026-11-19T11:00:00+00:00", "Team-Manager")
        ),
        _st_helens_stage_3("STH-POL", "police"),
    )
    week = duty(
        "resolve-in-a-week", "2026-11-16T09:00:00+00:00", "2026-11-23T17:00:00+00:00", soft=True
    )
    alert_due = "2026-11-18T17:00:00+00:00"
    # Tue 17 11:00: week (17, 23] = 18,19,20,23 -> 4; alert (17, 18] -> 1. Nothing due today.
    status, result = check(capsys, "2026-11-17T11:00:00+00:00")
    assert view(result, "STH-SC") == open_case(3, None, None, [])
    assert duties(result, "STH-SC") == [
        {**week, "working_days_left": 4},
        duty("team-manager-alert", "2026-11-17T10:00:00+00:00", alert_due, 1),
    ]
    assert status == 0
    # Wed 18 10:00: the alert is due later today -> due-today. Week (18, 23] -> 3.
    _, result = check(capsys, "2026-11-18T10:00:00+00:00")
    assert view(result, "STH-SC") == open_case(3, None, None, ["due-today"])
    assert duties(result, "STH-SC") == [
        {**week, "working_days_left": 3},
        duty("team-manager-alert", "2026-11-17T10:00:00+00:00", alert_due, 0),
    ]
    # Thu 19 10:00: the alert's due has passed -> overdue, although the stage has no due.
    # Alert: Wed 18 before Thu 19 -> minus (18, 19] = -1. Week (19, 23] = 20, 23 -> 2.
    status, result = check(capsys, "2026-11-19T10:00:00+00:00")
    assert view(result, "STH-SC") == open_case(3, None, None, ["overdue"])
    assert duties(result, "STH-SC") == [
        {**week, "working_days_left": 2},
        duty("team-manager-alert", "2026-11-17T10:00:00+00:00", alert_due, -1),
    ]
    assert status == 1
    # The police case at the same moment: no alert duty (agency:social-care does not hold).
    assert view(result, "STH-POL") == open_case(3, None, None, [])
    assert duties(result, "STH-POL") == [{**week, "working_days_left": 2}]
    # Thu 19 12:00: the Team Manager was alerted at 11:00 -> discharged, no flag.
    status, result = check(capsys, "2026-11-19T12:00:00+00:00")
    assert view(result, "STH-SC") == open_case(3, None, None, [])
    assert duties(result, "STH-SC") == [{**week, "working_days_left": 2}]
    assert status == 0


def test_st_helens_team_manager_alert_lapses_on_leaving_stage_3(cli_env, tmp_path, capsys):
    # Social care, stage 3 on Tue 17 10:00 (alert due Wed 18 17:00, as above), then stage 4 on
    # Wed 18 10:00 before the alert was made: the alert lapses (leaving-stage). Stage 4's two
    # notice duties arise at Wed 18 10:00, within 5 working days: 19, 20, 23, 24, 25 -> Wed 25
    # Nov 17:00.
    run_import(
        tmp_path,
        _st_helens_stage_3("STH-LV", "social-care", escalated("2026-11-18T10:00:00+00:00", 4)),
    )
    notice_due = "2026-11-25T17:00:00+00:00"
    # Thu 19 10:00: no overdue (the lapsed alert no longer counts); notice-copy is discharged by
    # a notice to the partnership -> partnership-notice. Week (19, 23] -> 2; notices (19, 25]
    # = 20, 23, 24, 25 -> 4.
    _, result = check(capsys, "2026-11-19T10:00:00+00:00")
    assert view(result, "STH-LV") == open_case(4, None, None, ["partnership-notice"])
    assert duties(result, "STH-LV") == [
        duty(
            "resolve-in-a-week",
            "2026-11-16T09:00:00+00:00",
            "2026-11-23T17:00:00+00:00",
            2,
            soft=True,
        ),
        duty("notice-to-service-manager", "2026-11-18T10:00:00+00:00", notice_due, 4),
        duty("notice-copy", "2026-11-18T10:00:00+00:00", notice_due, 4),
    ]


# 8 ------------------------------------------------------------------------------------------


def test_st_helens_stage_4_notice_copy_survives_resolution_the_service_manager_notice_lapses(
    cli_env, tmp_path, capsys
):
    # Opened Mon 16 Nov 09:00 (other agency: "other"), escalated straight to stage 4 on Tue 17
    # 10:00 (no team-manager alert: not social care). notice-to-service-manager and notice-copy
    # arise at Tue 17 10:00, within 5 working days: 18, 19, 20, 23, 24 -> Tue 24 Nov 17:00.
    # Resolved Thu 19 10:00: the week target is discharged (done_by resolved), the service
    # manager notice lapses (default: at resolution), notice-copy (lapses never) stays, and the
    # resolution template arises at Thu 19 10:00.
    run_import(
        tmp_path,
        case_json(
            "STH-4",
            procedure="st-helens",
            opened_at="2026-11-16T09:00:00+00:00",
            events=[
                escalated("2026-11-17T10:00:00+00:00", 4),
                resolved("2026-11-19T10:00:00+00:00"),
                notified("2026-11-25T11:00:00+00:00", "partnership", "st-helens-notice"),
            ],
        ),
    )
    notice_due = "2026-11-24T17:00:00+00:00"
    template = duty("resolution-template", "2026-11-19T10:00:00+00:00")
    # Tue 17 11:00: stage 4 has no timescale. Week (17, 23] -> 4; notices (17, 24] -> 5.
    status, result = check(capsys, "2026-11-17T11:00:00+00:00")
    assert view(result, "STH-4") == open_case(4, None, None, ["partnership-notice"])
    assert duties(result, "STH-4") == [
        duty(
            "resolve-in-a-week",
            "2026-11-16T09:00:00+00:00",
            "2026-11-23T17:00:00+00:00",
            4,
            soft=True,
        ),
        duty("notice-to-service-manager", "2026-11-17T10:00:00+00:00", notice_due, 5),
        duty("notice-copy", "2026-11-17T10:00:00+00:00", notice_due, 5),
    ]
    assert status == 1
    # Thu 19 11:00: resolved. notice-copy (19, 24] = 20, 23, 24 -> 3.
    _, result = check(capsys, "2026-11-19T11:00:00+00:00")
    assert view(result, "STH-4") == resolved_case(4, ["partnership-notice"])
    assert duties(result, "STH-4") == [
        duty("notice-copy", "2026-11-17T10:00:00+00:00", notice_due, 3),
        template,
    ]
    # Tue 24 10:00: notice-copy (a school duty, not soft) is due later today -> due-today, even
    # on a resolved case; 0 left.
    _, result = check(capsys, "2026-11-24T10:00:00+00:00")
    assert view(result, "STH-4") == resolved_case(4, ["due-today", "partnership-notice"])
    assert duties(result, "STH-4") == [
        duty("notice-copy", "2026-11-17T10:00:00+00:00", notice_due, 0),
        template,
    ]
    # Wed 25 10:00: its due has passed -> overdue; minus (Tue 24, Wed 25] -> -1.
    status, result = check(capsys, "2026-11-25T10:00:00+00:00")
    assert view(result, "STH-4") == resolved_case(4, ["overdue", "partnership-notice"])
    assert duties(result, "STH-4") == [
        duty("notice-copy", "2026-11-17T10:00:00+00:00", notice_due, -1),
        template,
    ]
    assert status == 1
    # Wed 25 12:00: the notice copy went at 11:00 (form st-helens-notice): notice-copy is done;
    # that form does not discharge the resolution template, which keeps the case listed.
    _, result = check(capsys, "2026-11-25T12:00:00+00:00")
    assert view(result, "STH-4") == resolved_case(4, ["partnership-notice"])
    assert duties(result, "STH-4") == [template]


# 9 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "events",
    [
        # Stage 2 on Tue 17, then "stage 2" again on Wed 18: the stage it is already at.
        [escalated("2026-11-17T10:00:00+00:00", 2), escalated("2026-11-18T10:00:00+00:00", 2)],
        # A case opens at stage 1, so escalating to stage 1 goes nowhere.
        [escalated("2026-11-16T10:00:00+00:00", 1)],
    ],
    ids=["again-to-2", "to-1-at-opening"],
)
def test_escalating_to_the_current_stage_is_refused(events, cli_env, tmp_path, capsys):
    good = case_json("LIV-GOOD", opened_at="2026-11-16T09:00:00+00:00")
    bad = case_json("LIV-SAME", opened_at="2026-11-16T09:00:00+00:00", events=events)
    err = refused_import(tmp_path, capsys, good, bad)
    assert "LIV-SAME" in err
    assert "stage" in err


# 10 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at_opening", "events"),
    [
        # Raised at opening (Mon 16 09:00), never escalated, resolved at 15:00.
        (True, [resolved("2026-11-16T15:00:00+00:00")]),
        # Raised by an event on Mon 16 10:00; resolved at 15:00 with it outstanding.
        (
            False,
            [
                event("2026-11-16T10:00:00+00:00", "risk-raised", note="Disclosure."),
                resolved("2026-11-16T15:00:00+00:00"),
            ],
        ),
        # Escalated, raised again, then resolved: the second raise is outstanding.
        (
            True,
            [
                event("2026-11-16T10:00:00+00:00", "risk-escalated", note="Police informed."),
                event("2026-11-16T11:00:00+00:00", "risk-raised", note="Further disclosure."),
                resolved("2026-11-16T15:00:00+00:00"),
            ],
        ),
        # Voided while the risk is outstanding is refused alike (§3 v2).
        (True, [event("2026-11-16T15:00:00+00:00", "voided", note="Opened in error.")]),
    ],
    ids=["raised-at-opening", "raised-by-event", "raised-again", "voided"],
)
def test_closing_a_case_with_an_outstanding_immediate_risk_is_refused(
    at_opening, events, cli_env, tmp_path, capsys
):
    good = case_json("LIV-GOOD", opened_at="2026-11-16T09:00:00+00:00")
    bad = case_json(
        "LIV-RISK",
        opened_at="2026-11-16T09:00:00+00:00",
        immediate_risk=at_opening,
        events=events,
    )
    err = refused_import(tmp_path, capsys, good, bad)
    assert "LIV-RISK" in err
    assert "risk" in err.lower()


def test_closing_a_case_after_the_risk_is_escalated_is_accepted(cli_env, tmp_path, capsys):
    # Raised at opening (Mon 16 09:00), escalated 10:00, resolved 15:00: accepted. Liverpool has
    # no duty at resolution and no duty arose (stage 1, no CP plan), so the resolved case is
    # not listed.
    run_import(
        tmp_path,
        case_json(
            "LIV-OK",
            opened_at="2026-11-16T09:00:00+00:00",
            immediate_risk=True,
            events=[
                event("2026-11-16T10:00:00+00:00", "risk-escalated", note="Police informed."),
                resolved("2026-11-16T15:00:00+00:00"),
            ],
        ),
    )
    status, result = check(capsys, "2026-11-16T16:00:00+00:00")
    assert "LIV-OK" not in refs(result)
    assert status == 0
