"""Procedures are data: shipped in the wheel, revised by version, added from the config folder.

Contract sections 1 (time), 2.1 (the procedure file) and 2.2 (duties). Every expected due below
is worked out by hand in the comment beside it: England, end of the working day 17:00 London
time. London is on BST (UTC+1) until 02:00 on Sun 25 Oct 2026 and on GMT (= UTC) after it; the
JSON carries UTC. The England bank holidays of 2026 that matter here: Mon 31 Aug (summer).
The calendars used (closure days of the config in brackets [..], weekends in (..)):

    Aug 2026: Wed 19  Thu 20  Fri 21 (Sat 22  Sun 23) Mon 24 ... Fri 28 (Sat 29  Sun 30)
              Mon 31 = bank holiday
    Oct 2026: Fri 23 (Sat 24  Sun 25 = clocks back) Mon 26  Tue 27  Wed 28  Thu 29
    Nov 2026: Mon 2  Tue 3  Wed 4  Thu 5  Fri 6 (Sat 7  Sun 8)
              Mon 9  Tue 10  Wed 11  Thu 12  Fri 13 (Sat 14  Sun 15)
              Mon 16  Tue 17  [Wed 18 closed]  Thu 19  Fri 20 (Sat 21  Sun 22)
              Mon 23  Tue 24  Wed 25  Thu 26  Fri 27 (Sat 28  Sun 29)  Mon 30
    Dec 2026: Tue 1  Wed 2  Thu 3  Fri 4 (Sat 5  Sun 6)  Mon 7  Tue 8  Wed 9

Every case opening and event is before 1 Dec 2026 (later ones would be refused as in the
future); `--as-of` may be any moment.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from copy import deepcopy
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from dsl_console.cli import main
from dsl_console.core.procedure_file import parse_procedure, parse_text
from dsl_console.core.procedures import load_registry
from dsl_console.errors import InputError
from tests.conftest import case_json, document

REVISED_LIVERPOOL = """
id = "liverpool"
name = "Liverpool SCB escalation policy (revised)"
partnership = "Liverpool Safeguarding Children Board"
version = "2"
effective = 2026-11-01

[[stages]]
number = 1
name = "Attempt resolution"
timescale = { rule = "by-day", days = 3 }

[[stages]]
number = 2
name = "Organisation safeguarding representative"
timescale = { rule = "by-day", days = 10 }

# Version 1's `iro_notice_from_stage = 1` is a duty now.
[[duties]]
id = "iro"
what = "Tell the IRO"
at = 1
when = "cp-plan-or-looked-after"
done_by = { kind = "notified", whom = "iro" }
"""


def use_config(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    procedures: dict[str, str],
    config: str = "",
) -> Path:
    """A config.toml (DSL_CONSOLE_CONFIG) with a procedures/ folder beside it."""
    conf = tmp_path / "conf"
    (conf / "procedures").mkdir(parents=True)
    (conf / "config.toml").write_text(config)
    for name, text in procedures.items():
        (conf / "procedures" / name).write_text(text)
    monkeypatch.setenv("DSL_CONSOLE_CONFIG", str(conf / "config.toml"))
    return conf


def check(capsys: pytest.CaptureFixture[str], as_of: str) -> dict:
    """`check --as-of T --json`, parsed."""
    capsys.readouterr()
    status = main(["check", "--as-of", as_of, "--json"])
    captured = capsys.readouterr()
    assert status in (0, 1), captured.err
    return json.loads(captured.out)


# -- the shipped procedures ----------------------------------------------------------------------
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
    assert registry.get("gloucestershire").deadline_set == "shorten-only"
    duties = {p.id: [d.id for d in p.duties] for p in registry.latest()}
    assert duties == {
        "city-hackney": [],
        "gloucestershire": ["iro", "gscb-email", "written-outcome"],
        "liverpool": ["iro", "appendix-2", "chair-email"],
        "newham": ["manager-discussion", "referral-form"],
        "st-helens": [
            "resolve-in-a-week",
            "team-manager-alert",
            "notice-to-service-manager",
            "notice-copy",
            "resolution-template",
        ],
    }
    assert all(p.partnership.strip() for p in registry.latest())


def test_cases_keep_the_version_they_were_opened_under(tmp_path, cli_env, monkeypatch, capsys):
    conf = use_config(tmp_path, monkeypatch, {"liverpool-v2.toml": REVISED_LIVERPOOL})
    registry = load_registry(conf / "procedures")
    assert registry.in_force("liverpool", date(2026, 10, 31)).version == "1"
    assert registry.in_force("liverpool", date(2026, 11, 1)).version == "2"
    assert [d.id for d in registry.get("liverpool", "2").duties] == ["iro"]
    src = tmp_path / "in.json"
    # Old case: opened Mon 19 Oct 2026 10:00 BST under version 1 (effective 2014): stage 1
    # by day 2: day 1 Mon 19, day 2 Tue 20 Oct; 17:00 BST = 16:00 UTC.
    # New case: opened Mon 2 Nov 2026 09:00 GMT under version 2 (effective 1 Nov 2026):
    # stage 1 by day 3: day 1 Mon 2, day 2 Tue 3, day 3 Wed 4 Nov, 17:00 GMT.
    src.write_text(
        document(
            case_json("OLD-1", opened_at="2026-10-19T09:00:00+00:00"),
            case_json("NEW-1", opened_at="2026-11-02T09:00:00+00:00"),
        )
    )
    assert main(["import", str(src)]) == 0
    result = check(capsys, "2026-11-02T10:00:00+00:00")
    due = {c["ref"]: c["due"] for c in result["cases"]}
    assert due == {"OLD-1": "2026-10-20T16:00:00+00:00", "NEW-1": "2026-11-04T17:00:00+00:00"}
    out = tmp_path / "all.json"
    assert main(["export", "json", "--out", str(out)]) == 0
    versions = {c["ref"]: c["procedure_version"] for c in json.loads(out.read_text())["cases"]}
    assert versions == {"OLD-1": "1", "NEW-1": "2"}


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


# -- a user's procedure using every key of sections 2.1 and 2.2 ----------------------------------
EVERY_KEY = """
id = "every-key"
name = "Every key of the procedure file"
partnership = "Example Safeguarding Partnership"
version = "3"
effective = 2020-01-01
source = "Example escalation policy, March 2020"
deadline_set = "shorten-only"

[[stages]]
number = 1
name = "Talk it through with the other worker"
short = "Talk"
holder = "Designated Safeguarding Lead"
optional = false
timescale = { rule = "by-day", days = 10 }

[[stages]]
number = 2
name = "Line managers"
holder = "Headteacher"
timescale = { rule = "within", days = 48, unit = "hours", from = "entry" }

[[stages]]
number = 3
name = "Senior managers"
optional = true
timescale = { rule = "within", days = 12, unit = "calendar-days", from = "opening" }

[[stages]]
number = 4
name = "Safeguarding leads"
timescale = { rule = "within", days = 2, unit = "working-days" }

[[stages]]
number = 5
name = "Service managers"
timescale = { rule = "same-day", from = "entry" }

[[stages]]
number = 6
name = "Independent Chair"
timescale = { rule = "chair" }

[[stages]]
number = 7
name = "Mediation"
timescale = { rule = "none" }

# `at = 1` is the default, written out below only because the parser refuses a duty without
# it today (see test_defaults_of_a_duty).
[[duties]]
id = "tell-iro"
what = "Tell the IRO"
at = 1
when = "cp-plan-or-looked-after"
done_by = { kind = "notified", whom = "IRO" }

[[duties]]
id = "their-reply"
what = "Wait for the social worker's written reply"
party = "other-agency"
at = 1
when = "agency:social-care"
due = { rule = "within", days = 3, unit = "working-days", from = "arising" }
done_by = { kind = "response" }
lapses = "resolution"

[[duties]]
id = "our-letter"
what = "Send our letter to the social worker"
party = "school"
at = 1
when = "agency:social-care"
due = { rule = "within", days = 3, from = "opening" }
done_by = [
    { kind = "notified", whom = "other-agency", form = "our-letter" },
    { kind = "escalated", stage = 3 },
]
lapses = "leaving-stage"

[[duties]]
id = "settle-soon"
what = "Aim to settle it within a working day"
at = 1
when = "always"
due = { rule = "within", days = 1, from = "entry" }
done_by = { kind = "resolved" }
soft = true

[[duties]]
id = "after-meeting"
what = "Record the outcome of the meeting the same working day"
at = 2
due = { rule = "same-day", from = "event:discussion,meeting" }
done_by = { kind = "outcome" }

[[duties]]
id = "police-call"
what = "Ring the police"
at = 1
when = "immediate-risk"
due = { rule = "within", days = 1, unit = "hours" }
done_by = { kind = "notified", whom = "police" }

[[duties]]
id = "partnership-form"
what = "Send the partnership form to the Business Manager"
at = 4
due = { rule = "within", days = 2, unit = "calendar-days", from = "entry" }
done_by = { kind = "notified", whom = "partnership", form = "example-form" }
lapses = "never"

[[duties]]
id = "closing-letter"
what = "Confirm the outcome in writing to the partnership"
at = "resolution"
due = { rule = "within", days = 5, unit = "working-days", from = "arising" }
done_by = { kind = "notified", whom = "partnership" }
lapses = "never"
"""

# Wed 18 Nov 2026 is a closure day of the school.
EVERY_KEY_CONFIG = 'procedure = "every-key"\nclosure_days = ["2026-11-18"]\n'


def test_every_key_is_read_as_written():
    proc = parse_text(EVERY_KEY, "every-key.toml")
    assert (proc.id, proc.version, proc.effective) == ("every-key", "3", date(2020, 1, 1))
    assert proc.partnership == "Example Safeguarding Partnership"
    assert proc.source == "Example escalation policy, March 2020"
    assert proc.shorten_only
    one, two, three = proc.stage(1), proc.stage(2), proc.stage(3)
    assert (one.short, one.holder, one.optional) == ("Talk", "Designated Safeguarding Lead", False)
    assert two.short == "Line managers"  # short defaults to the name
    assert (two.timescale.unit, two.timescale.days, two.timescale.anchor) == ("hours", 48, "entry")
    assert three.optional and three.timescale.anchor == "opening"
    assert proc.stage(4).timescale.anchor == "entry"  # the default
    assert [s.timescale.rule for s in proc.stages] == [
        "by-day",
        "within",
        "within",
        "within",
        "same-day",
        "chair",
        "none",
    ]
    duties = {d.id: d for d in proc.duties}
    assert list(duties) == [
        "tell-iro",
        "their-reply",
        "our-letter",
        "settle-soon",
        "after-meeting",
        "police-call",
        "partnership-form",
        "closing-letter",
    ]
    assert duties["tell-iro"].lapses == "resolution" and duties["tell-iro"].due is None
    assert duties["their-reply"].party == "other-agency"
    assert [d.kind for d in duties["our-letter"].done_by] == ["notified", "escalated"]
    assert duties["our-letter"].done_by[0].form == "our-letter"
    assert duties["our-letter"].done_by[1].stage == 3
    assert duties["after-meeting"].due.anchor == "event"
    assert duties["after-meeting"].due.events == ("discussion", "meeting")
    assert duties["settle-soon"].soft and not duties["our-letter"].soft
    assert duties["closing-letter"].at == "resolution"
    assert duties["closing-letter"].lapses == "never"


EVERY_KEY_CASES = (
    # Closure day, other agency, response-overdue, soft.
    dict(ref="CLOSE-1", opened_at="2026-11-16T10:00:00+00:00", other_agency_kind="social-care"),
    # The same, but the other agency replies and we send our letter.
    dict(
        ref="REPLY-1",
        opened_at="2026-11-16T10:00:00+00:00",
        other_agency_kind="social-care",
        events=[
            {"at": "2026-11-17T14:00:00+00:00", "kind": "response", "note": "They replied."},
            {
                "at": "2026-11-17T15:00:00+00:00",
                "kind": "notified",
                "whom": "Other-Agency",
                "form": "our-letter",
            },
        ],
    ),
    # Hours across the end of BST; an event-anchored due.
    dict(
        ref="DST-1",
        opened_at="2026-10-23T09:00:00+01:00",
        other_agency_kind="health",
        events=[
            {"at": "2026-10-24T10:00:00+01:00", "kind": "escalated", "stage": 2, "note": "No."},
            {"at": "2026-10-26T12:00:00+00:00", "kind": "note", "note": "Phoned; no answer."},
            {"at": "2026-10-27T18:00:00+00:00", "kind": "meeting", "note": "Met after school."},
            {"at": "2026-10-29T09:00:00+00:00", "kind": "discussion", "note": "Talked again."},
        ],
    ),
    # Calendar days landing on a Sunday.
    dict(
        ref="CAL-SUN",
        opened_at="2026-11-10T09:00:00+00:00",
        other_agency_kind="health",
        events=[{"at": "2026-11-11T10:00:00+00:00", "kind": "escalated", "stage": 3}],
    ),
    # Calendar days landing on the summer bank holiday.
    dict(
        ref="CAL-BH",
        opened_at="2026-08-19T09:00:00+01:00",
        other_agency_kind="health",
        events=[{"at": "2026-08-20T10:00:00+01:00", "kind": "escalated", "stage": 3}],
    ),
    # CP plan (IRO), a partnership form due on a Sunday, same-day from a Saturday.
    dict(
        ref="LEADS-1",
        opened_at="2026-11-09T09:00:00+00:00",
        other_agency_kind="police",
        cp_plan=True,
        events=[
            {"at": "2026-11-20T10:00:00+00:00", "kind": "escalated", "stage": 4},
            {"at": "2026-11-21T11:00:00+00:00", "kind": "escalated", "stage": 5},
        ],
    ),
    # Chair, none, and the duties of resolution.
    dict(
        ref="DONE-1",
        opened_at="2026-11-02T09:00:00+00:00",
        other_agency_kind="education",
        events=[
            {"at": "2026-11-03T10:00:00+00:00", "kind": "escalated", "stage": 6},
            {"at": "2026-11-04T10:00:00+00:00", "kind": "escalated", "stage": 7},
            {"at": "2026-11-05T15:00:00+00:00", "kind": "resolved", "note": "Agreed."},
        ],
    ),
    # An immediate risk at opening, escalated ten minutes later.
    dict(
        ref="RISK-1",
        opened_at="2026-11-26T16:30:00+00:00",
        other_agency_kind="health",
        immediate_risk=True,
        events=[{"at": "2026-11-26T16:40:00+00:00", "kind": "risk-escalated", "note": "999."}],
    ),
    # A deadline set by hand that shortens the stage (shorten-only accepts it).
    dict(
        ref="SHORT-1",
        opened_at="2026-11-16T09:00:00+00:00",
        other_agency_kind="health",
        events=[
            {
                "at": "2026-11-17T10:00:00+00:00",
                "kind": "deadline-set",
                "due": "2026-11-20T12:00:00+00:00",
                "note": "Child moves school on Friday.",
            }
        ],
    ),
)


def shown(result: dict, ref: str) -> tuple[dict, list[tuple]]:
    """A listed case's stage fields, and (id, arose_at, due, working_days_left) per duty."""
    (case,) = [c for c in result["cases"] if c["ref"] == ref]
    head = {k: case[k] for k in ("status", "stage", "due", "working_days_left", "risk_due")}
    head["flags"] = case["flags"]
    duties = [(d["id"], d["arose_at"], d["due"], d["working_days_left"]) for d in case["duties"]]
    return head, duties


def stage(n: int, due: str | None, left: int | None, *flags: str, status: str = "open") -> dict:
    return {
        "status": status,
        "stage": n,
        "due": due,
        "working_days_left": left,
        "risk_due": None,
        "flags": list(flags),
    }


def test_every_key_through_import_and_check(tmp_path, cli_env, monkeypatch, capsys):
    use_config(tmp_path, monkeypatch, {"every-key.toml": EVERY_KEY}, EVERY_KEY_CONFIG)
    src = tmp_path / "in.json"
    src.write_text(document(*(case_json(procedure="every-key", **c) for c in EVERY_KEY_CASES)))
    assert main(["import", str(src)]) == 0, capsys.readouterr().err

    # `procedures` shows the user's procedure, its partnership, source and holders.
    capsys.readouterr()
    assert main(["procedures"]) == 0
    listing = capsys.readouterr().out
    for words in (
        "every-key: Every key of the procedure file (version 3",
        "Example Safeguarding Partnership",
        "Example escalation policy, March 2020",
        "Designated Safeguarding Lead",
    ):
        assert words in listing

    # ---- CLOSE-1: opened Mon 16 Nov 10:00 GMT, social care; Wed 18 Nov is a closure day.
    result = check(capsys, "2026-11-16T12:00:00+00:00")
    assert shown(result, "CLOSE-1") == (
        # Stage 1 by day 10, the closure not counted: 1 Mon 16, 2 Tue 17, (Wed 18 closed),
        # 3 Thu 19, 4 Fri 20, 5 Mon 23, 6 Tue 24, 7 Wed 25, 8 Thu 26, 9 Fri 27, 10 Mon 30.
        # Left at Mon 16: (16, 30] = 17, 19, 20, 23, 24, 25, 26, 27, 30 = 9.
        stage(1, "2026-11-30T17:00:00+00:00", 9),
        [
            # Other agency, 3 working days from arising (the opening), closures ignored:
            # Tue 17, Wed 18, Thu 19. Left: (16, 19] = 17, 18, 19 = 3 (the school's
            # calendar would say 2: the closure does not count for them).
            ("their-reply", "2026-11-16T10:00:00+00:00", "2026-11-19T17:00:00+00:00", 3),
            # School, 3 working days from opening, the closure skipped: Tue 17, Thu 19,
            # Fri 20 (not Thu 19). Left: (16, 20] = 17, 19, 20 = 3.
            ("our-letter", "2026-11-16T10:00:00+00:00", "2026-11-20T17:00:00+00:00", 3),
            # Soft, 1 working day from entry to stage 1 (the opening): Tue 17. Left 1.
            ("settle-soon", "2026-11-16T10:00:00+00:00", "2026-11-17T17:00:00+00:00", 1),
        ],
    )
    # Fri 20 Nov 10:00: their reply was due Thu 19 17:00 and has not come: response-overdue;
    # left -(19, 20] = -1. Our letter is due at 17:00 today: due-today, left 0. The soft
    # duty was due Tue 17 and is past, yet raises no overdue; its days left are the
    # school's, -(17, 20] = Thu 19, Fri 20 = -2 (Wed 18 closed). Stage: (20, 30] =
    # 23, 24, 25, 26, 27, 30 = 6.
    result = check(capsys, "2026-11-20T10:00:00+00:00")
    assert shown(result, "CLOSE-1") == (
        stage(1, "2026-11-30T17:00:00+00:00", 6, "due-today", "response-overdue"),
        [
            ("their-reply", "2026-11-16T10:00:00+00:00", "2026-11-19T17:00:00+00:00", -1),
            ("our-letter", "2026-11-16T10:00:00+00:00", "2026-11-20T17:00:00+00:00", 0),
            ("settle-soon", "2026-11-16T10:00:00+00:00", "2026-11-17T17:00:00+00:00", -2),
        ],
    )
    # Sat 21 Nov 09:00: our letter (Fri 20 17:00) is now overdue too. Left: -(20, 21] = 0
    # (Saturday is no working day); their reply -(19, 21] = -1 (Fri 20 only); the soft duty
    # -(17, 21] = Thu 19, Fri 20 = -2.
    result = check(capsys, "2026-11-21T09:00:00+00:00")
    head, duties = shown(result, "CLOSE-1")
    assert head["flags"] == ["overdue", "response-overdue"]
    assert [(d[0], d[3]) for d in duties] == [
        ("their-reply", -1),
        ("our-letter", 0),
        ("settle-soon", -2),
    ]

    # ---- REPLY-1: as CLOSE-1, but the reply came Tue 17 14:00 (a `response` discharges
    # their-reply) and our letter went Tue 17 15:00 ("Other-Agency" matches whom
    # case-insensitively, with the form named).
    # Tue 17 10:00, before either: the soft duty is due at 17:00 today, yet no due-today.
    result = check(capsys, "2026-11-17T10:00:00+00:00")
    head, duties = shown(result, "REPLY-1")
    assert head == stage(1, "2026-11-30T17:00:00+00:00", 8)  # (17, 30]: 9 less Tue 17
    assert [d[0] for d in duties] == ["their-reply", "our-letter", "settle-soon"]
    assert duties[2][3] == 0
    # Fri 20 10:00: both discharged; only the soft duty is owed; no flag at all.
    result = check(capsys, "2026-11-20T10:00:00+00:00")
    assert shown(result, "REPLY-1") == (
        stage(1, "2026-11-30T17:00:00+00:00", 6),
        [("settle-soon", "2026-11-16T10:00:00+00:00", "2026-11-17T17:00:00+00:00", -2)],
    )

    # ---- DST-1: opened Fri 23 Oct 09:00 BST (08:00 UTC); escalated to stage 2 on Sat 24 Oct
    # 10:00 BST (09:00 UTC). Stage 2 is within 48 hours of entry: absolute time, 09:00 UTC
    # on Mon 26 Oct, which is 09:00 GMT: the wall clock says 09:00, not 10:00, because the
    # clocks went back an hour at 02:00 on Sun 25.
    # The soft duty: 1 working day from entry to stage 1 (Fri 23): Mon 26, 17:00 GMT.
    # after-meeting arose on reaching stage 2 (Sat 24 09:00 UTC); it counts from the first
    # discussion or meeting, so it has no due until there is one (a note is neither).
    result = check(capsys, "2026-10-26T08:00:00+00:00")
    assert shown(result, "DST-1") == (
        stage(2, "2026-10-26T09:00:00+00:00", 0, "due-today"),
        [
            ("settle-soon", "2026-10-23T08:00:00+00:00", "2026-10-26T17:00:00+00:00", 0),
            ("after-meeting", "2026-10-24T09:00:00+00:00", None, None),
        ],
    )
    # Tue 27 17:30, after the note (Mon 26 12:00) and before the meeting: still no due.
    # Stage 2 overdue since Mon 09:00: left -(26, 27] = -1.
    result = check(capsys, "2026-10-27T17:30:00+00:00")
    head, duties = shown(result, "DST-1")
    assert head == stage(2, "2026-10-26T09:00:00+00:00", -1, "overdue")
    assert duties[1] == ("after-meeting", "2026-10-24T09:00:00+00:00", None, None)
    # Tue 27 18:30: the meeting was at 18:00, after the end of the working day, so the
    # same-day due is the end of the next working day, Wed 28 17:00 GMT. Left (27, 28] = 1.
    result = check(capsys, "2026-10-27T18:30:00+00:00")
    head, duties = shown(result, "DST-1")
    assert duties[1] == (
        "after-meeting",
        "2026-10-24T09:00:00+00:00",
        "2026-10-28T17:00:00+00:00",
        1,
    )
    # Thu 29 10:00: the discussion at 09:00 does not restart it (only the first event counts;
    # a restart would give Thu 29 17:00). Left -(28, 29] = -1.
    result = check(capsys, "2026-10-29T10:00:00+00:00")
    head, duties = shown(result, "DST-1")
    assert duties[1] == (
        "after-meeting",
        "2026-10-24T09:00:00+00:00",
        "2026-10-28T17:00:00+00:00",
        -1,
    )

    # ---- CAL-SUN: opened Tue 10 Nov 09:00 GMT, skipped to stage 3 (optional) on Wed 11 Nov.
    # Stage 3: 12 calendar days from the opening's date: 10 + 12 = Sun 22 Nov, at the
    # end-of-day time though it is a Sunday. Left at Thu 12: (12, 22] = Fri 13, Mon 16,
    # Tue 17, Thu 19, Fri 20 = 5 (Wed 18 closed; the stage is the school's clock).
    # The soft duty: 1 working day from Tue 10: Wed 11 17:00; left -(11, 12] = -1.
    result = check(capsys, "2026-11-12T12:00:00+00:00")
    assert shown(result, "CAL-SUN") == (
        stage(3, "2026-11-22T17:00:00+00:00", 5),
        [
            ("settle-soon", "2026-11-10T09:00:00+00:00", "2026-11-11T17:00:00+00:00", -1),
            ("after-meeting", "2026-11-11T10:00:00+00:00", None, None),
        ],
    )

    # ---- CAL-BH: opened Wed 19 Aug 09:00 BST (08:00 UTC), to stage 3 on Thu 20 Aug.
    # Stage 3: 19 Aug + 12 calendar days = Mon 31 Aug, the summer bank holiday, 17:00 BST =
    # 16:00 UTC. Left at Fri 28 Aug: (28, 31] = Sat 29, Sun 30, Mon 31 (holiday) = 0, but it
    # is not "later today" (the due's date is the 31st): no due-today.
    # The soft duty: 1 working day from Wed 19: Thu 20 Aug 17:00 BST = 16:00 UTC; left
    # -(20, 28] = Fri 21, Mon 24, Tue 25, Wed 26, Thu 27, Fri 28 = -6.
    result = check(capsys, "2026-08-28T12:00:00+01:00")
    assert shown(result, "CAL-BH") == (
        stage(3, "2026-08-31T16:00:00+00:00", 0),
        [
            ("settle-soon", "2026-08-19T08:00:00+00:00", "2026-08-20T16:00:00+00:00", -6),
            ("after-meeting", "2026-08-20T09:00:00+00:00", None, None),
        ],
    )
    # On the holiday itself, at 12:00 BST, the due is later today.
    assert shown(check(capsys, "2026-08-31T12:00:00+01:00"), "CAL-BH")[0]["flags"] == ["due-today"]

    # ---- LEADS-1: opened Mon 9 Nov 09:00 GMT, police, on a CP plan; to stage 4 on Fri 20 Nov
    # 10:00, to stage 5 on Sat 21 Nov 11:00.
    # Fri 20 12:00: stage 4 within 2 working days of entry: Mon 23, Tue 24, 17:00; left 2.
    # tell-iro arose at the opening (CP plan), no due: iro-notice.
    # settle-soon: 1 working day from Mon 9 = Tue 10; left -(10, 20] = 11, 12, 13, 16, 17,
    # 19, 20 = -7 (Wed 18 closed).
    # after-meeting arose on reaching stage 4 (past 2), no event yet.
    # partnership-form arose at stage 4 entry: 2 calendar days after Fri 20 = Sun 22 Nov,
    # 17:00; left (20, 22] = 0. Not today: no due-today. partnership-notice.
    result = check(capsys, "2026-11-20T12:00:00+00:00")
    assert shown(result, "LEADS-1") == (
        stage(4, "2026-11-24T17:00:00+00:00", 2, "iro-notice", "partnership-notice"),
        [
            ("tell-iro", "2026-11-09T09:00:00+00:00", None, None),
            ("settle-soon", "2026-11-09T09:00:00+00:00", "2026-11-10T17:00:00+00:00", -7),
            ("after-meeting", "2026-11-20T10:00:00+00:00", None, None),
            ("partnership-form", "2026-11-20T10:00:00+00:00", "2026-11-22T17:00:00+00:00", 0),
        ],
    )
    # Mon 23 09:00: stage 5 is same working day as entry, Sat 21 11:00: not a working day,
    # so the end of the next working day, Mon 23 17:00; left 0. The partnership form (Sun
    # 22 17:00) is overdue: left -(22, 23] = -1. Overdue outranks due-today.
    result = check(capsys, "2026-11-23T09:00:00+00:00")
    head, duties = shown(result, "LEADS-1")
    assert head == stage(
        5, "2026-11-23T17:00:00+00:00", 0, "overdue", "iro-notice", "partnership-notice"
    )
    assert duties[3] == (
        "partnership-form",
        "2026-11-20T10:00:00+00:00",
        "2026-11-22T17:00:00+00:00",
        -1,
    )

    # ---- DONE-1: opened Mon 2 Nov 09:00 GMT; skipped to stage 6 (chair) Tue 3 Nov 10:00, to
    # stage 7 (none) Wed 4 Nov 10:00, resolved Thu 5 Nov 15:00.
    # Tue 3 12:00: stage 6 is set by the Chair: no due. settle-soon: 1 working day from Mon 2
    # = Tue 3 17:00, later today, but soft: no due-today. partnership-form arose on reaching
    # stage 4 by the skip, counted from entry to stage 6 (Tue 3) + 2 calendar days = Thu 5
    # 17:00; left (3, 5] = 2.
    result = check(capsys, "2026-11-03T12:00:00+00:00")
    assert shown(result, "DONE-1") == (
        stage(6, None, None, "partnership-notice"),
        [
            ("settle-soon", "2026-11-02T09:00:00+00:00", "2026-11-03T17:00:00+00:00", 0),
            ("after-meeting", "2026-11-03T10:00:00+00:00", None, None),
            ("partnership-form", "2026-11-03T10:00:00+00:00", "2026-11-05T17:00:00+00:00", 2),
        ],
    )
    # Wed 4 12:00: stage 7 has no timescale either.
    assert shown(check(capsys, "2026-11-04T12:00:00+00:00"), "DONE-1")[0]["due"] is None
    # Fri 6 12:00, after the resolution: settle-soon was discharged by it (done_by resolved),
    # after-meeting lapsed with it (lapses resolution). The partnership form (lapses never)
    # is still owed and overdue since Thu 5 17:00: left -(5, 6] = -1. closing-letter arose
    # on resolution, Thu 5 15:00: 5 working days: Fri 6, Mon 9, Tue 10, Wed 11, Thu 12
    # 17:00; left (6, 12] = 9, 10, 11, 12 = 4. Listed as resolved, last stage 7.
    result = check(capsys, "2026-11-06T12:00:00+00:00")
    assert shown(result, "DONE-1") == (
        stage(7, None, None, "overdue", "partnership-notice", status="resolved"),
        [
            ("partnership-form", "2026-11-03T10:00:00+00:00", "2026-11-05T17:00:00+00:00", -1),
            ("closing-letter", "2026-11-05T15:00:00+00:00", "2026-11-12T17:00:00+00:00", 4),
        ],
    )

    # ---- RISK-1: opened Thu 26 Nov 16:30 GMT with an immediate risk; risk escalated 16:40.
    # Stage 1 by day 10: 1 Thu 26, 2 Fri 27, 3 Mon 30, 4 Tue 1, 5 Wed 2, 6 Thu 3, 7 Fri 4,
    # 8 Mon 7, 9 Tue 8, 10 Wed 9 Dec; left at Thu 26: 27, 30, 1, 2, 3, 4, 7, 8, 9 = 9.
    # 16:35: the risk is outstanding, raised 16:30 on a working day before 17:00: risk due
    # 17:00 today. police-call (when immediate-risk) arose at the opening: within 1 hour =
    # 17:30, later today: due-today. settle-soon: 1 working day from Thu 26 = Fri 27.
    result = check(capsys, "2026-11-26T16:35:00+00:00")
    head, duties = shown(result, "RISK-1")
    assert head == {
        **stage(1, "2026-12-09T17:00:00+00:00", 9, "immediate-risk", "due-today"),
        "risk_due": "2026-11-26T17:00:00+00:00",
    }
    assert duties == [
        ("settle-soon", "2026-11-26T16:30:00+00:00", "2026-11-27T17:00:00+00:00", 1),
        ("police-call", "2026-11-26T16:30:00+00:00", "2026-11-26T17:30:00+00:00", 0),
    ]
    # 17:45: the risk was escalated (no immediate-risk flag, no risk due), but the call to
    # the police is still owed: it arose because a risk was ever raised. Overdue since 17:30.
    result = check(capsys, "2026-11-26T17:45:00+00:00")
    head, duties = shown(result, "RISK-1")
    assert head == stage(1, "2026-12-09T17:00:00+00:00", 9, "overdue")
    assert duties[1] == ("police-call", "2026-11-26T16:30:00+00:00", "2026-11-26T17:30:00+00:00", 0)

    # ---- SHORT-1: opened Mon 16 Nov 09:00 GMT; stage 1's own due is Mon 30 Nov 17:00 (as
    # CLOSE-1); a deadline set on Tue 17 to Fri 20 12:00 shortens it and stands. Left at Tue
    # 17: (17, 20] = Thu 19, Fri 20 = 2 (Wed 18 closed).
    head, _ = shown(check(capsys, "2026-11-17T12:00:00+00:00"), "SHORT-1")
    assert head == stage(1, "2026-11-20T12:00:00+00:00", 2)

    # Under deadline_set = "shorten-only" a deadline later than the stage's own is refused
    # (stage 1's own due for an opening on Mon 16 Nov is Mon 30 Nov 17:00), all or nothing.
    late = case_json(
        "LATE-1",
        procedure="every-key",
        opened_at="2026-11-16T09:00:00+00:00",
        events=[
            {
                "at": "2026-11-17T10:00:00+00:00",
                "kind": "deadline-set",
                "due": "2026-12-15T17:00:00+00:00",
                "note": "Longer, please.",
            }
        ],
    )
    src.write_text(document(late))
    capsys.readouterr()
    assert main(["import", str(src)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "LATE-1" in err and "30/11/2026 17:00" in err and "shorten" in err, err
    assert "LATE-1" not in {c["ref"] for c in check(capsys, "2026-11-17T12:00:00+00:00")["cases"]}


# -- refusals of a bad procedure file --------------------------------------------------------------
def base_doc() -> dict[str, Any]:
    """A small valid procedure, as tomllib gives it: two stages and two duties.

    `at = 1` is written out although it is the default: omitting it is refused by the parser
    today (see test_defaults_of_a_duty), which would mask the fault each case aims at.
    """
    return {
        "id": "bad-file",
        "name": "Bad file",
        "partnership": "Example partnership",
        "version": "1",
        "effective": date(2025, 1, 1),
        "stages": [
            {"number": 1, "name": "Talk", "timescale": {"rule": "within", "days": 3}},
            {"number": 2, "name": "Managers", "timescale": {"rule": "none"}},
        ],
        "duties": [
            {
                "id": "tell",
                "at": 1,
                "what": "Tell the IRO",
                "due": {"rule": "within", "days": 2},
                "done_by": {"kind": "notified", "whom": "iro"},
            },
            {
                "id": "reply",
                "at": 1,
                "what": "Wait for their reply",
                "party": "other-agency",
                "done_by": [{"kind": "response"}, {"kind": "escalated", "stage": 2}],
            },
        ],
    }


Mutation = Callable[[dict[str, Any]], object]


def top(**changes: object) -> Mutation:
    return lambda d: d.update(changes)


def without(key: str) -> Mutation:
    return lambda d: d.pop(key)


def stage0(**changes: object) -> Mutation:
    return lambda d: d["stages"][0].update(changes)


def ts0(**changes: object) -> Mutation:
    """Replace stage 1's timescale with these keys."""
    return lambda d: d["stages"][0].update(timescale=changes)


def duty(i: int, **changes: object) -> Mutation:
    return lambda d: d["duties"][i].update(changes)


def due0(**changes: object) -> Mutation:
    """Replace the first duty's due with these keys."""
    return lambda d: d["duties"][0].update(due=changes)


def done0(**changes: object) -> Mutation:
    """Change the first duty's done_by table."""
    return lambda d: d["duties"][0]["done_by"].update(changes)


def done1(j: int, **changes: object) -> Mutation:
    """Change one table of the second duty's done_by list."""
    return lambda d: d["duties"][1]["done_by"][j].update(changes)


REFUSALS: list[tuple[str, Mutation, str]] = [
    # Unknown keys, at every level.
    ("unknown top", top(colour="blue"), "colour"),
    # Text that would act on the terminal `procedures` prints it in.
    ("escape in a name", top(name="Example\x1b[2J"), "name"),
    ("bidi override in a name", top(name="Example \u202eecnetsixe"), "name"),
    ("v1 iro_notice_from_stage", top(iro_notice_from_stage=1), "iro_notice_from_stage"),
    ("v1 report_from_stage", top(report_from_stage=3), "report_from_stage"),
    ("v1 notes", top(notes="old"), "notes"),
    ("unknown stage", stage0(colour="blue"), "stages[0].colour"),
    ("unknown stage hours", stage0(hours=4), "stages[0].hours"),
    ("unknown timescale", ts0(rule="within", days=3, hours=4), "stages[0].timescale.hours"),
    ("unknown duty", duty(0, colour="blue"), "duties[0].colour"),
    ("unknown due", due0(rule="within", days=2, hours=4), "duties[0].due.hours"),
    ("unknown done_by table", done0(colour="blue"), "duties[0].done_by.colour"),
    ("unknown done_by list", done1(1, colour="blue"), "duties[1].done_by[1].colour"),
    # Required keys.
    ("no id", without("id"), "id"),
    ("no name", without("name"), "name"),
    ("no partnership", without("partnership"), "partnership"),
    ("blank partnership", top(partnership="  "), "partnership"),
    ("no version", without("version"), "version"),
    ("no effective", without("effective"), "effective"),
    ("no stages", without("stages"), "stages"),
    ("no stage name", lambda d: d["stages"][1].pop("name"), "stages[1].name"),
    ("no stage number", lambda d: d["stages"][1].pop("number"), "stages[1].number"),
    ("no duty id", lambda d: d["duties"][0].pop("id"), "duties[0].id"),
    ("no duty what", lambda d: d["duties"][0].pop("what"), "duties[0].what"),
    ("no done_by", lambda d: d["duties"][0].pop("done_by"), "duties[0].done_by"),
    ("empty done_by", duty(0, done_by=[]), "duties[0].done_by"),
    ("no done_by kind", duty(0, done_by={"whom": "iro"}), "duties[0].done_by.kind"),
    ("within without days", ts0(rule="within"), "stages[0].timescale.days"),
    ("by-day without days", ts0(rule="by-day"), "stages[0].timescale.days"),
    ("due without rule", due0(days=2), "duties[0].due.rule"),
    # Wrong types: a string for a number.
    ("string stage number", stage0(number="1"), "stages[0].number"),
    ("string days", ts0(rule="within", days="3"), "stages[0].timescale.days"),
    ("string due days", due0(rule="within", days="2"), "duties[0].due.days"),
    ("string at", duty(0, at="2"), "duties[0].at"),
    ("string done_by stage", done1(1, stage="2"), "duties[1].done_by[1].stage"),
    # ... a number for a string.
    ("number name", top(name=5), "name"),
    ("number partnership", top(partnership=1), "partnership"),
    ("number version", top(version=2), "version"),
    ("number id", top(id=7), "id"),
    ("number source", top(source=2020), "source"),
    ("number deadline_set", top(deadline_set=1), "deadline_set"),
    ("number stage name", stage0(name=1), "stages[0].name"),
    ("number short", stage0(short=1), "stages[0].short"),
    ("number holder", stage0(holder=3), "stages[0].holder"),
    ("number rule", ts0(rule=1), "stages[0].timescale.rule"),
    ("number unit", ts0(rule="within", days=3, unit=5), "stages[0].timescale.unit"),
    ("number from", ts0(rule="within", days=3, **{"from": 1}), "stages[0].timescale.from"),
    ("number duty id", duty(0, id=1), "duties[0].id"),
    ("number what", duty(0, what=1), "duties[0].what"),
    ("number party", duty(0, party=1), "duties[0].party"),
    ("number when", duty(0, when=1), "duties[0].when"),
    ("number lapses", duty(0, lapses=1), "duties[0].lapses"),
    ("number whom", done0(whom=7), "duties[0].done_by.whom"),
    ("number form", done0(form=7), "duties[0].done_by.form"),
    ("number kind", done1(0, kind=7), "duties[1].done_by[0].kind"),
    # ... a bool for a whole number, and not a bool for a bool.
    ("bool stage number", stage0(number=True), "stages[0].number"),
    ("bool days", ts0(rule="within", days=True), "stages[0].timescale.days"),
    ("bool due days", due0(rule="within", days=True), "duties[0].due.days"),
    ("bool at", duty(0, at=True), "duties[0].at"),
    ("bool done_by stage", done1(1, stage=True), "duties[1].done_by[1].stage"),
    ("float days", ts0(rule="within", days=3.0), "stages[0].timescale.days"),
    ("string optional", stage0(optional="yes"), "stages[0].optional"),
    ("number soft", duty(0, soft=1), "duties[0].soft"),
    # ... a datetime (or a string) for the effective date.
    ("datetime effective", top(effective=datetime(2025, 1, 1, 9, 0)), "effective"),
    ("string effective", top(effective="2025-01-01"), "effective"),
    # ... a table for a list, a list for a table.
    ("table stages", top(stages={"number": 1, "name": "Talk"}), "stages"),
    ("table duties", top(duties={"id": "x", "what": "X", "done_by": {"kind": "note"}}), "duties"),
    ("list timescale", stage0(timescale=[{"rule": "none"}]), "stages[0].timescale"),
    ("list due", duty(0, due=[{"rule": "within", "days": 2}]), "duties[0].due"),
    ("string done_by", duty(0, done_by="notified"), "duties[0].done_by"),
    ("string in done_by list", duty(0, done_by=["notified"]), "duties[0].done_by[0]"),
    ("string stage", top(stages=["Talk"]), "stages[0]"),
    # Out of range.
    ("days 0", ts0(rule="within", days=0), "stages[0].timescale.days"),
    ("days 366", ts0(rule="within", days=366), "stages[0].timescale.days"),
    ("by-day 366", ts0(rule="by-day", days=366), "stages[0].timescale.days"),
    (
        "calendar 366",
        ts0(rule="within", days=366, unit="calendar-days"),
        "stages[0].timescale.days",
    ),
    ("hours 0", ts0(rule="within", days=0, unit="hours"), "stages[0].timescale.days"),
    ("hours 721", ts0(rule="within", days=721, unit="hours"), "stages[0].timescale.days"),
    ("due days 0", due0(rule="within", days=0), "duties[0].due.days"),
    ("due days 366", due0(rule="within", days=366), "duties[0].due.days"),
    ("due hours 721", due0(rule="within", days=721, unit="hours"), "duties[0].due.days"),
    ("negative days", ts0(rule="within", days=-1), "stages[0].timescale.days"),
    ("stages empty", top(stages=[]), "stages"),
    ("stage gap", lambda d: d["stages"][1].update(number=3), "stages"),
    ("stages from 2", lambda d: [s.update(number=s["number"] + 1) for s in d["stages"]], "stages"),
    ("stages out of order", lambda d: d["stages"].reverse(), "stages"),
    ("stage number 0", stage0(number=0), "stages[0].number"),
    ("at no such stage", duty(0, at=3), "duties[0].at"),
    ("at stage 0", duty(0, at=0), "duties[0].at"),
    ("at another word", duty(0, at="closing"), "duties[0].at"),
    ("done_by stage 3 of 2", done1(1, stage=3), "duties[1].done_by[1].stage"),
    # Misuse.
    ("days with none", ts0(rule="none", days=3), "stages[0].timescale.days"),
    ("days with same-day", ts0(rule="same-day", days=1), "stages[0].timescale.days"),
    ("days with chair", ts0(rule="chair", days=10), "stages[0].timescale.days"),
    ("days with due same-day", due0(rule="same-day", days=1), "duties[0].due.days"),
    (
        "from with by-day",
        ts0(rule="by-day", days=2, **{"from": "opening"}),
        "stages[0].timescale.from",
    ),
    ("from with none", ts0(rule="none", **{"from": "entry"}), "stages[0].timescale.from"),
    ("from with chair", ts0(rule="chair", **{"from": "entry"}), "stages[0].timescale.from"),
    (
        "stage from arising",
        ts0(rule="within", days=3, **{"from": "arising"}),
        "stages[0].timescale.from",
    ),
    (
        "stage from event",
        ts0(rule="within", days=3, **{"from": "event:meeting"}),
        "stages[0].timescale.from",
    ),
    ("hours with by-day", ts0(rule="by-day", days=2, unit="hours"), "stages[0].timescale.unit"),
    (
        "calendar with by-day",
        ts0(rule="by-day", days=2, unit="calendar-days"),
        "stages[0].timescale.unit",
    ),
    ("unknown unit", ts0(rule="within", days=2, unit="fortnights"), "stages[0].timescale.unit"),
    ("unknown rule", ts0(rule="fortnightly"), "stages[0].timescale.rule"),
    ("due rule by-day", due0(rule="by-day", days=2), "duties[0].due.rule"),
    ("due rule none", due0(rule="none"), "duties[0].due.rule"),
    ("due rule chair", due0(rule="chair"), "duties[0].due.rule"),
    ("due from nowhere", due0(rule="within", days=2, **{"from": "later"}), "duties[0].due.from"),
    (
        "event:KIND unknown",
        due0(rule="within", days=2, **{"from": "event:phone-call"}),
        "duties[0].due.from",
    ),
    (
        "event:KIND one unknown",
        due0(rule="same-day", **{"from": "event:meeting,phonecall"}),
        "duties[0].due.from",
    ),
    ("event: nothing", due0(rule="same-day", **{"from": "event:"}), "duties[0].due.from"),
    (
        "resolution lapses resolution",
        duty(0, at="resolution", lapses="resolution"),
        "duties[0].lapses",
    ),
    (
        "resolution lapses leaving-stage",
        duty(0, at="resolution", lapses="leaving-stage"),
        "duties[0].lapses",
    ),
    ("unknown lapses", duty(0, lapses="sometimes"), "duties[0].lapses"),
    ("whom on response", done1(0, whom="them"), "duties[1].done_by[0].whom"),
    ("whom on escalated", done1(1, whom="them"), "duties[1].done_by[1].whom"),
    ("form on response", done1(0, form="x"), "duties[1].done_by[0].form"),
    ("stage on notified", done0(stage=2), "duties[0].done_by.stage"),
    ("stage on response", done1(0, stage=2), "duties[1].done_by[0].stage"),
    ("blank whom", done0(whom="  "), "duties[0].done_by.whom"),
    ("bad form id", done0(form="Our Form"), "duties[0].done_by.form"),
    ("unknown event kind", done1(0, kind="phoned"), "duties[1].done_by[0].kind"),
    ("duplicate duty ids", duty(1, id="tell"), "duties[1].id"),
    ("agency martians", duty(0, when="agency:martians"), "duties[0].when"),
    ("unknown when", duty(0, when="sometimes"), "duties[0].when"),
    ("unknown party", duty(0, party="them"), "duties[0].party"),
    ("bad id", top(id="Bad File"), "id"),
    ("bad duty id", duty(0, id="Tell IRO"), "duties[0].id"),
    ("unknown deadline_set", top(deadline_set="longer"), "deadline_set"),
]


def test_base_doc_is_valid():
    proc = parse_procedure(base_doc(), "bad-file.toml")
    assert [d.id for d in proc.duties] == ["tell", "reply"]
    # The edges of the ranges are accepted.
    for timescale in (
        {"rule": "within", "days": 365},
        {"rule": "within", "days": 720, "unit": "hours"},
        {"rule": "by-day", "days": 1},
        {"rule": "same-day", "from": "opening"},
    ):
        doc = base_doc()
        doc["stages"][0]["timescale"] = timescale
        parse_procedure(doc, "bad-file.toml")


def test_defaults_of_a_duty():
    # Section 2.2: `at` defaults to stage 1, `party` to school, `when` to always, `lapses` to
    # resolution (never for at = "resolution"), `soft` to false, `due` to none (no clock);
    # a due's `from` defaults to arising, its `unit` to working days.
    doc = base_doc()
    doc["duties"] = [
        {"id": "plain", "what": "Do it", "done_by": {"kind": "note"}},
        {
            "id": "at-end",
            "what": "Write it up",
            "at": "resolution",
            "due": {"rule": "within", "days": 2},
            "done_by": {"kind": "note"},
        },
    ]
    plain, at_end = parse_procedure(doc, "bad-file.toml").duties
    assert (plain.at, plain.party, plain.when, plain.lapses, plain.soft, plain.due) == (
        1,
        "school",
        "always",
        "resolution",
        False,
        None,
    )
    assert at_end.lapses == "never"
    assert (at_end.due.anchor, at_end.due.unit) == ("arising", "working-days")


@pytest.mark.parametrize("mutation,key", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_bad_procedure_files_name_the_file_and_the_key(mutation: Mutation, key: str):
    doc = deepcopy(base_doc())
    mutation(doc)
    with pytest.raises(InputError) as raised:
        parse_procedure(doc, "bad-file.toml")
    message = str(raised.value)
    assert message.startswith("bad-file.toml: "), message
    assert key in message, message


def test_bad_toml_and_unknown_keys_through_the_file(tmp_path):
    # The same through the file: the TOML key `from` and the message's key path.
    from dsl_console.core.procedure_file import load_file

    path = tmp_path / "mine.toml"
    path.write_text(EVERY_KEY.replace('unit = "hours", from = "entry"', "hours = 48"))
    with pytest.raises(InputError, match=r"^mine\.toml: stages\[1\]\.timescale\.hours: "):
        load_file(path)
    path.write_text("id = ")
    with pytest.raises(InputError, match=r"^mine\.toml: "):
        load_file(path)


# -- the registry refuses clashes ----------------------------------------------------------------
LIVERPOOL_AGAIN = REVISED_LIVERPOOL.replace('version = "2"', 'version = "1"')


def test_a_user_file_repeating_a_shipped_version_is_refused(tmp_path, monkeypatch):
    conf = use_config(tmp_path, monkeypatch, {"my-liverpool.toml": LIVERPOOL_AGAIN})
    with pytest.raises(InputError, match=r"^my-liverpool\.toml: .*liverpool"):
        load_registry(conf / "procedures")


def test_a_revision_must_take_effect_later(tmp_path, monkeypatch):
    early = REVISED_LIVERPOOL.replace("effective = 2026-11-01", "effective = 2014-01-01")
    conf = use_config(tmp_path, monkeypatch, {"early.toml": early})
    with pytest.raises(InputError, match=r"^early\.toml: effective: "):
        load_registry(conf / "procedures")


def test_two_user_files_with_one_version_are_refused(tmp_path, monkeypatch):
    other = REVISED_LIVERPOOL.replace("(revised)", "(a copy)")
    conf = use_config(tmp_path, monkeypatch, {"a.toml": REVISED_LIVERPOOL, "b.toml": other})
    with pytest.raises(InputError, match=r"^b\.toml: .*a\.toml"):
        load_registry(conf / "procedures")


@pytest.mark.parametrize(
    "name,text,command",
    [
        ("my-liverpool.toml", LIVERPOOL_AGAIN, ["procedures"]),
        ("my-liverpool.toml", LIVERPOOL_AGAIN, ["check", "--json"]),
        ("typo.toml", EVERY_KEY.replace("soft = true", "soft = true\nsofte = 1"), ["procedures"]),
    ],
)
def test_the_cli_refuses_a_bad_user_procedure_in_one_line(
    tmp_path, cli_env, monkeypatch, capsys, name, text, command
):
    use_config(tmp_path, monkeypatch, {name: text})
    capsys.readouterr()
    assert main(command) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    assert name in captured.err and "Traceback" not in captured.err
