"""The whole-file integrity check runs after the case list is drawn, not before it; so does
the check of the case changes against their authors' signatures."""

from __future__ import annotations

from console_kit import OPEN_ORDER, PASSPHRASE, notices, settle, unlocked, wait_until
from textual.widgets import Static

from dsl_console.store.database import CipherDatabase
from dsl_console.ui.screens.unlock import UnlockMode, UnlockScreen
from dsl_console.ui.widgets.flag_summary import FlagSummary
from tests.conftest import USER
from tests.security.conftest import append_entry, database_key, raw_connect

DAMAGED = [("*** in database main ***\nPage 7: btreeInitPage() returns error code 11",)]


def text_of(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one(selector, Static).render())


async def test_a_healthy_database_is_checked_once_after_the_list_is_drawn(make_app, monkeypatch):
    checks: list[bool] = []
    real = CipherDatabase.quick_check

    def counted(db):  # type: ignore[no-untyped-def]
        # By the time the check runs, the list already shows its cases.
        checks.append(bool(app.case_list and app.case_list.table.visible_refs()))
        return real(db)

    app = make_app()  # seeded (and checked at creation) before the check is watched
    monkeypatch.setattr(CipherDatabase, "quick_check", counted)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        assert checks == [True]
        assert app.session is not None and app.screen is screen
        assert screen.table.visible_refs() == OPEN_ORDER


async def test_damage_found_after_first_paint_locks_with_one_line(make_app, monkeypatch):
    app = make_app()
    monkeypatch.setattr(CipherDatabase, "quick_check", lambda db: DAMAGED)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, UnlockScreen) and app.screen.mode == UnlockMode.LOCKED,
            what="the lock after the check",
        )
        await settle(pilot)
        assert app.session is None
        line = text_of(app, "#unlock-intro")
        assert line == (
            "The database cases.db failed its integrity check; it was left untouched for "
            "recovery (restore the latest backup with `dsl-console restore`)."
        )
        # Nothing about any case stays on the list underneath or in a notification.
        listed = app.case_list
        assert listed is not None and listed.table.total == 0
        assert str(listed.query_one(FlagSummary).render()) == ""
        assert notices(app) == []
        # Unlocking again checks the file first, and is refused with the same line.
        await pilot.press(*PASSPHRASE, "enter")
        await wait_until(
            pilot, lambda: "integrity" in text_of(app, "#unlock-error"), what="the refusal"
        )
        assert app.session is None
        assert text_of(app, "#unlock-error").startswith(
            "The database cases.db failed its integrity check"
        )


async def test_a_cached_state_changed_outside_the_console_is_put_right_and_said(make_app, tmp_path):
    # Written directly with the key: the child at immediate risk taken off the list. After
    # unlocking, the console replays every case, puts the state right and says so.
    from tests.security.conftest import database_key, raw_connect

    app = make_app()
    db = tmp_path / "cases.db"
    conn = raw_connect(db, database_key(db))
    conn.execute(
        "UPDATE escalation SET risk_due_at = NULL, is_live = 0, urgency = 3 "
        "WHERE ref = 'SCH-2026-001'"
    )
    conn.commit()
    conn.close()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await unlocked(pilot)
        await wait_until(
            pilot,
            lambda: any("did not match the history" in n for n in notices(app)),
            what="the correction's notice",
        )
        await wait_until(
            pilot,
            lambda: screen.table.visible_refs() == OPEN_ORDER,
            what="the child at risk back at the top of the list",
        )
        (said,) = [n for n in notices(app) if "did not match" in n]
        assert "SCH-2026-001" in said and "changed outside the console" in said


async def test_a_forged_case_change_is_said_after_unlocking(make_app, tmp_path):
    # Someone holding the database key appends a change to the cases in the DSL's name,
    # correctly chained but without the DSL's signature (tests/security/test_signatures.py).
    app = make_app()
    db = tmp_path / "cases.db"
    conn = raw_connect(db, database_key(db))
    append_entry(conn, USER, "event:resolved", "SCH-2026-001")
    conn.close()
    async with app.run_test(size=(120, 30)) as pilot:
        await unlocked(pilot)
        await wait_until(
            pilot,
            lambda: any("not made through the console" in n for n in notices(app)),
            what="the forged change said",
        )
        (said,) = [n for n in notices(app) if "not made through the console" in n]
        assert said.startswith("A change to the case records was not made through the console")
        assert said.endswith("Ctrl+D dismisses this.")
        assert f"in {USER}'s name, is not signed" in said
