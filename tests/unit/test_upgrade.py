"""A database made before duties (schema 3) opens with the corrected dues and flags.

The fixture was written by the previous release's own code (tests/fixtures/schema3); nothing
is run by hand between that release and this one.
"""

from __future__ import annotations

import json

import pytest

from dsl_console.cli import main


def check(capsys: pytest.CaptureFixture[str], as_of: str) -> dict[str, dict]:
    capsys.readouterr()
    assert main(["check", "--as-of", as_of, "--json"]) in (0, 1)
    return {c["ref"]: c for c in json.loads(capsys.readouterr().out)["cases"]}


def test_an_old_database_shows_the_corrected_dues_and_flags(old_db, capsys):
    # The old release, as of Thu 19 Nov 10:00, said: STH-EVE due at once (16 Nov 18:00) and
    # overdue; STH-OLD at stage 2 due Mon 23 Nov (a timescale St Helens' stage 2 does not
    # have); LIV-OLD at stage 3 with no flag (no report owed to the partnership).
    found = check(capsys, "2026-11-19T10:00:00+00:00")
    # St Helens stage 1 opened Mon 16 Nov 18:00, after hours: due the end of the next working
    # day, Tue 17 Nov 17:00; overdue on the 19th, (17 Nov, 19 Nov] = 18, 19: -2 working days.
    assert found["STH-EVE"]["due"] == "2026-11-17T17:00:00+00:00"
    assert found["STH-EVE"]["working_days_left"] == -2
    assert found["STH-EVE"]["flags"] == ["overdue"]
    # St Helens stage 2 has no timescale of its own; the week's target (within 5 working
    # days of opening on Mon 16 Nov: Mon 23 Nov 17:00) is a soft duty, listed, never flagged.
    assert found["STH-OLD"]["due"] is None
    assert found["STH-OLD"]["flags"] == []
    (week,) = found["STH-OLD"]["duties"]
    assert (week["id"], week["due"], week["soft"]) == (
        "resolve-in-a-week",
        "2026-11-23T17:00:00+00:00",
        True,
    )
    # Liverpool stage 3 reached on Wed 18 Nov 10:00: the Report to LSCB (Appendix 2) is owed.
    assert found["LIV-OLD"]["flags"] == ["partnership-notice"]
    assert [d["id"] for d in found["LIV-OLD"]["duties"]] == ["appendix-2"]
    assert found["LIV-OLD"]["duties"][0]["arose_at"] == "2026-11-18T10:00:00+00:00"


def test_an_old_database_still_verifies_after_the_upgrade(old_db, capsys):
    # The upgrade adds columns and recomputes the cached state; the records the old release
    # anchored in the audit trail must still match it.
    assert main(["check"]) in (0, 1)
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0
    assert "intact" in capsys.readouterr().out


@pytest.mark.parametrize("what", ["engine", "holidays"])
def test_a_change_of_engine_or_bank_holidays_refreshes_the_cache(old_db, capsys, monkeypatch, what):
    # A stale cached due (as a release with a wrong rule would have left it) is put right at
    # the next open once the engine's version moves, or the bank holidays do (a corrected
    # holiday, here one added in 2059, from a new release of the holidays library).
    from datetime import date

    from dsl_console import holiday_cache
    from dsl_console.config import Config
    from dsl_console.core import deadlines
    from dsl_console.services.session import Credentials, open_session

    check(capsys, "2026-11-19T10:00:00+00:00")  # upgrade and refresh once
    session = open_session(old_db, Config(), Credentials("jo.lead", "fictional test passphrase"))
    try:
        session.db.execute_sql(
            "UPDATE escalation SET due_at = '2027-01-01 17:00:00.000000', "
            "school_due_at = '2027-01-01 17:00:00.000000' WHERE ref = 'STH-EVE'"
        )
    finally:
        session.close()
    if what == "engine":
        monkeypatch.setattr(deadlines, "ENGINE_VERSION", deadlines.ENGINE_VERSION + 1)
    else:
        corrected = {
            nation: {**days, date(2059, 6, 2): "A corrected holiday"}
            for nation, days in holiday_cache._every_nation().items()
        }
        monkeypatch.setattr(holiday_cache, "_every_nation", lambda: corrected)
    found = check(capsys, "2026-11-19T09:00:00+00:00")
    assert found["STH-EVE"]["due"] == "2026-11-17T17:00:00+00:00"
