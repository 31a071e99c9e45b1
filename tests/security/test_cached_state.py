"""The cached state of a case (stage, dues, open or not, listed or not) is derived from its
events; written directly in the database, with any account's key, it once hid a child at
immediate risk from `check` and the list for good, and `audit verify` said intact.

The attacks here are those direct writes. What a DSL relies on: `check` still flags the
child (and says the stored state was changed), `audit verify` names the cases, and the
console works their state out again from the events when it is unlocked, on the record.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsl_console.cli import main
from dsl_console.services.casebook import repair_stale_states
from dsl_console.store.cases import stale_states, suspect_states
from tests.conftest import NOW
from tests.security.conftest import add_fictional_cases, database_key, raw_connect

AT_RISK, CALM = "SCH-2026-101", "SCH-2026-102"


@pytest.fixture
def records(cli_env: Path, session_factory) -> Path:  # type: ignore[no-untyped-def]
    """A child at immediate risk and an ordinary open case."""
    session = session_factory()
    add_fictional_cases(session, AT_RISK, immediate_risk=True)
    add_fictional_cases(session, CALM)
    session.close()
    return cli_env


def write_directly(db: Path, *statements: str) -> None:
    """SQL with the database key, as anyone holding a passphrase and the file can."""
    conn = raw_connect(db, database_key(db))
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()


HIDING = {
    "the risk's due cleared": (
        f"UPDATE escalation SET risk_due_at = NULL, urgency = 2 WHERE ref = '{AT_RISK}'",
    ),
    "marked closed": (
        f"UPDATE escalation SET is_open = 0, is_live = 0, status = 'resolved' "
        f"WHERE ref = '{AT_RISK}'",
    ),
    "taken off the list": (f"UPDATE escalation SET is_live = 0 WHERE ref = '{AT_RISK}'",),
}


def check_json(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    capsys.readouterr()
    code = main(["check", "--json", "--as-of", NOW.isoformat()])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


@pytest.mark.parametrize("how", list(HIDING))
def test_check_still_flags_a_risk_hidden_in_the_cached_state(records, capsys, how):
    write_directly(records, *HIDING[how])
    code, report, err = check_json(capsys)
    flagged = {c["ref"]: c["flags"] for c in report["cases"]}
    assert code == 1
    assert "immediate-risk" in flagged[AT_RISK]
    assert "changed outside the console" in err and AT_RISK in err


def test_a_risk_that_was_never_raised_is_not_made_up_by_the_check(records, capsys):
    # The other way round: a due planted on a calm case is not believed either.
    write_directly(
        records,
        f"UPDATE escalation SET risk_due_at = '2026-11-23 17:00:00.000000' WHERE ref = '{CALM}'",
    )
    _, report, err = check_json(capsys)
    calm = next(c for c in report["cases"] if c["ref"] == CALM)
    assert "immediate-risk" not in calm["flags"] and CALM in err


def test_an_untouched_database_has_nothing_suspect_or_stale(records, session_factory):
    session = session_factory()
    with session.db.connection_context():
        assert suspect_states() == []
        assert stale_states(session.registry, session.calendar) == []


def test_audit_verify_names_a_due_moved_a_year_on(records, capsys):
    # A due moved later hides "overdue": no contradiction SQL can see cheaply, so verify
    # replays every case.
    write_directly(
        records,
        "UPDATE escalation SET due_at = '2027-11-23 17:00:00.000000', "
        f"school_due_at = '2027-11-23 17:00:00.000000' WHERE ref = '{CALM}'",
    )
    capsys.readouterr()
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("case records BROKEN: the stored state of 1 case(s)") and CALM in out


def test_the_console_s_check_after_unlocking_puts_the_state_right_on_the_record(
    records, session_factory, capsys
):
    write_directly(records, *HIDING["the risk's due cleared"], *HIDING["taken off the list"])
    session = session_factory()
    with session.db.connection_context():
        assert repair_stale_states(session) == [AT_RISK]
        assert stale_states(session.registry, session.calendar) == []
    session.close()
    code, report, err = check_json(capsys)
    assert code == 1
    assert "immediate-risk" in {c["ref"]: c["flags"] for c in report["cases"]}[AT_RISK]
    assert err == ""  # nothing disagrees any more
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0
    main(["audit", "show", "--limit", "5"])
    assert " repair " in capsys.readouterr().out


def _insert_event(conn, case_id: int, seq: int, at: str, kind: str) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        "INSERT INTO event (escalation_id, seq, at, kind, by, whom, note, lessons, method, "
        "recorded_at, recorded_by) VALUES (?, ?, ?, ?, '', '', 'Fictional.', '', '', ?, 'jo.lead')",
        (case_id, seq, at, kind, at),
    )


def test_histories_the_check_must_not_take_for_tampering(records, session_factory):
    # Histories an older release let in, or that only their order tells apart: a case resolved
    # while a risk was outstanding (refused only since), and a risk escalated then raised again
    # at one moment (still at risk). With the cache worked out by the engine itself, the SQL
    # check must find nothing suspect in them.
    from dsl_console.config import Config
    from dsl_console.core.procedures import load_registry
    from dsl_console.store.cases import refresh_all_states
    from dsl_console.store.database import open_database

    conn = raw_connect(records, database_key(records))
    ids = dict(conn.execute("SELECT ref, id FROM escalation").fetchall())
    _insert_event(conn, ids[AT_RISK], 10, "2026-11-17 10:00:00.000000", "resolved")
    moment = "2026-11-17 11:00:00.000000"
    _insert_event(conn, ids[CALM], 10, moment, "risk-raised")
    _insert_event(conn, ids[CALM], 11, moment, "risk-escalated")
    _insert_event(conn, ids[CALM], 12, moment, "risk-raised")
    conn.commit()
    conn.close()
    db = open_database(records, database_key(records))
    with db.atomic():
        refresh_all_states(load_registry(None), Config().calendar())
    db.close()
    session = session_factory()
    with session.db.connection_context():
        assert suspect_states() == []
        assert stale_states(session.registry, session.calendar) == []


def test_the_sql_check_agrees_with_the_engine_on_any_history(session_factory):
    # Property: with every cached state written by the engine itself, whatever the history
    # (risks raised at the opening or later, escalated and raised again at one moment, cases
    # escalated, resolved or voided, in any order of recording), nothing is suspect. The
    # histories skip the console's own rules on purpose: an older release let more in.
    import random
    from datetime import timedelta

    from dsl_console.core.records import Case, Child, Event, EventKind
    from dsl_console.store.cases import insert_cases

    rng = random.Random(2026)
    kinds = [
        (EventKind.RISK_RAISED, {}),
        (EventKind.RISK_ESCALATED, {"note": "Rang the duty team."}),
        (EventKind.ESCALATED, {"stage": 2}),
        (EventKind.ESCALATED, {"stage": 3}),
        (EventKind.NOTIFIED, {"whom": "iro"}),
        (EventKind.DISCUSSION, {"note": "Fictional."}),
        (EventKind.RESOLVED, {"note": "Agreed."}),
        (EventKind.VOIDED, {"note": "Opened in error."}),
    ]
    opened = NOW - timedelta(days=20)
    cases = []
    for n in range(300):
        moments = [opened + timedelta(hours=rng.choice([0, 1, 1, 2, 30, 31])) for _ in range(6)]
        events = tuple(
            Event(moment, kind, **fields)  # type: ignore[arg-type]
            for moment, (kind, fields) in zip(
                moments, (rng.choice(kinds) for _ in moments), strict=False
            )
            if rng.random() < 0.7
        )
        cases.append(
            Case(
                ref=f"SCH-P-{n:03d}",
                procedure=rng.choice(["liverpool", "gloucestershire", "newham"]),
                opened_at=opened,
                child=Child("Ada Example", NOW.date() - timedelta(days=4000)),
                other_agency="Children's social care",
                immediate_risk=rng.random() < 0.4,
                looked_after=rng.random() < 0.3,
                events=events,
            )
        )
    session = session_factory()
    with session.db.connection_context():
        session.write(
            lambda: insert_cases(
                cases, session.registry, session.calendar, now=None, user="jo.lead"
            )
        )
        assert suspect_states() == []
        assert stale_states(session.registry, session.calendar) == []


# -- the receipts that let `check` believe the cache (store/state_receipts.py) -------------------
MOVED_ON = (
    "UPDATE escalation SET due_at = '2027-11-23 17:00:00.000000', "
    "school_due_at = '2027-11-23 17:00:00.000000', sort_due = '2027-11-23 17:00:00.000000' "
    f"WHERE ref = '{CALM}'",
)


def flags_of(report: dict) -> dict[str, list[str]]:
    return {c["ref"]: c["flags"] for c in report["cases"]}


def assert_still_flagged(capsys: pytest.CaptureFixture[str], ref: str, flag: str) -> str:
    """`check` flags the case as its events say, and names it on stderr; what stderr said."""
    code, report, err = check_json(capsys)
    assert code == 1
    assert flag in flags_of(report)[ref]
    assert ref in err
    return err


def receipts(db: Path) -> int:
    conn = raw_connect(db, database_key(db))
    (count,) = conn.execute("SELECT count(*) FROM audit WHERE action = 'states-checked'").fetchone()
    conn.close()
    return count


def risk_raised_over_a_vouched_state(db: Path, session_factory, ref: str) -> tuple:  # type: ignore[no-untyped-def]
    """A check's receipt, then a risk raised on `ref` through the console: the stored state a
    receipt vouched for, as an attacker copies it beforehand to put back afterwards."""
    from dsl_console.core.records import Event
    from dsl_console.services.casebook import record_event
    from dsl_console.store.cases import STATE_COLUMNS

    assert main(["check", "--json", "--as-of", NOW.isoformat()]) in (0, 1)  # the receipt
    conn = raw_connect(db, database_key(db))
    columns = ", ".join(f'"{name}"' for name in STATE_COLUMNS)
    vouched = conn.execute(f"SELECT {columns} FROM escalation WHERE ref = ?", (ref,)).fetchone()
    conn.close()
    session = session_factory()
    record_event(session, ref, Event(at=NOW, kind="risk-raised", note="fictional"))
    session.close()
    return vouched


def put_back(conn, ref: str, vouched: tuple) -> None:  # type: ignore[no-untyped-def]
    """The vouched state written over the case's stored state again."""
    from dsl_console.store.cases import STATE_COLUMNS

    sets = ", ".join(f'"{name}" = ?' for name in STATE_COLUMNS)
    conn.execute(f"UPDATE escalation SET {sets} WHERE ref = ?", (*vouched, ref))


def test_an_overdue_case_is_still_overdue_to_check_with_its_due_moved_a_year_on(records, capsys):
    _, before, _ = check_json(capsys)
    assert "overdue" in flags_of(before)[CALM]
    write_directly(records, *MOVED_ON)
    code, report, err = check_json(capsys)
    assert code == 1
    assert "overdue" in flags_of(report)[CALM]
    assert "changed outside the console" in err and CALM in err


def test_a_check_vouches_once_for_what_it_replayed_and_again_only_after_a_change(
    records, session_factory, capsys
):
    check_json(capsys)
    assert receipts(records) == 1
    check_json(capsys)  # nothing changed: nothing replayed, nothing more recorded
    assert receipts(records) == 1
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-103")
    session.close()
    _, report, err = check_json(capsys)
    assert "SCH-2026-103" in flags_of(report) and err == ""
    assert receipts(records) == 2


def test_a_case_written_since_the_receipt_is_replayed_even_with_its_old_state_put_back(
    records, session_factory, capsys
):
    # The state vouched for, put back over a change made since: the receipt's digest matches
    # again, but the risk raised after it must still be seen.
    vouched = risk_raised_over_a_vouched_state(records, session_factory, CALM)
    conn = raw_connect(records, database_key(records))
    put_back(conn, CALM, vouched)
    conn.commit()
    conn.close()
    err = assert_still_flagged(capsys, CALM, "immediate-risk")
    assert "changed outside the console" in err


def test_a_receipt_a_read_only_account_signs_for_a_moved_due_vouches_for_nothing(
    records, session_factory, capsys
):
    from dsl_console.config import Config
    from dsl_console.services import accounts
    from dsl_console.services.session import Credentials, open_session
    from dsl_console.store.audit import head
    from dsl_console.store.state_receipts import Receipt, block_digests, record_receipt
    from dsl_console.store.users import Role
    from tests.conftest import FAST_KDF

    reader = Credentials("sam.reader", "fictional reader passphrase")
    session = session_factory()
    accounts.add_account(session, reader.user, Role.READ_ONLY, reader.passphrase, kdf_cost=FAST_KDF)
    session.close()
    check_json(capsys)
    write_directly(records, *MOVED_ON)
    # The reader, with their own key and the console's own code, vouches for the moved due.
    own = open_session(records, Config(), reader, clock=lambda: NOW)
    with own.db.connection_context():
        forged = Receipt(head()[0], block_digests())
        own.write(lambda: record_receipt(NOW, reader.user, forged))
    own.close()
    err = assert_still_flagged(capsys, CALM, "overdue")
    # And the receipt itself is named, on every run, as no reader's to give.
    assert "sam.reader had a read-only account then, and could not vouch" in err


@pytest.mark.parametrize("also_the_entry", [False, True], ids=["listing", "listing-and-entry"])
def test_a_receipt_rewritten_for_a_moved_due_vouches_for_nothing(
    records, session_factory, capsys, also_the_entry
):
    from dsl_console.store.state_receipts import Receipt, block_digests

    check_json(capsys)
    write_directly(records, *MOVED_ON)
    session = session_factory()
    with session.db.connection_context():
        rewritten = Receipt(0, block_digests())
    session.close()
    statements = [f"UPDATE setting SET value = '{rewritten.listing()}' WHERE key = 'state_receipt'"]
    if also_the_entry:  # the signed entry's detail too (its hash and signature left as they were)
        conn = raw_connect(records, database_key(records))
        (detail,) = conn.execute(
            "SELECT detail FROM audit WHERE action = 'states-checked' ORDER BY id DESC"
        ).fetchone()
        conn.close()
        as_of = detail.split(",")[0].removeprefix("as of entry ")
        new_detail = Receipt(int(as_of), rewritten.blocks).detail()
        statements.append(
            f"UPDATE audit SET detail = '{new_detail}' WHERE action = 'states-checked'"
        )
        statements.insert(0, "DROP TRIGGER IF EXISTS audit_no_update")
    write_directly(records, *statements)
    assert_still_flagged(capsys, CALM, "overdue")


# -- the second review's attacks on the receipts ---------------------------------------------------
def test_a_nul_after_a_status_is_not_taken_for_the_status_vouched_for(records, capsys):
    # SQLite's quote() stops at a NUL: 'open' and 'open' + NUL once digested the same, and
    # Python, reading the second, left the child at risk off the list.
    check_json(capsys)
    write_directly(
        records, f"UPDATE escalation SET status = 'open' || char(0) WHERE ref = '{AT_RISK}'"
    )
    code, report, err = check_json(capsys)
    assert code == 1
    assert "immediate-risk" in flags_of(report)[AT_RISK]
    assert "changed outside the console" in err and AT_RISK in err


def test_a_trigger_planted_to_move_a_due_as_check_writes_is_named_and_believes_nothing(
    records, capsys
):
    # The trap the review set: the check's own login puts the true due back (so a replay
    # agrees), and its receipt moves it on just before the flags are read.
    check_json(capsys)
    true_due = "2026-11-17 17:00:00.000000"
    write_directly(
        records,
        "CREATE TRIGGER zz_login AFTER INSERT ON audit WHEN NEW.action = 'login' BEGIN "
        f"UPDATE escalation SET due_at = '{true_due}' WHERE ref = '{CALM}'; END",
        "CREATE TRIGGER zz_receipt AFTER INSERT ON audit WHEN NEW.action = 'states-checked' "
        f"BEGIN {MOVED_ON[0]}; END",
    )
    for _ in range(2):
        code, report, err = check_json(capsys)
        assert code == 1
        assert "overdue" in flags_of(report)[CALM]
        assert "a trigger zz_login was added outside the console (and 1 more)" in err
    assert receipts(records) == 1  # nothing vouched for while the schema is not the console's


def test_a_due_moved_between_the_replay_and_the_flags_is_not_seen(records, capsys, monkeypatch):
    # The replay and the flags are read as of one moment: a write landing between them (the
    # review raced one in) changes neither.
    import dsl_console.services.sweep as sweeping

    check_json(capsys)
    real = sweeping.sweep

    def raced(*args, **kwargs):  # type: ignore[no-untyped-def]
        write_directly(records, *MOVED_ON)
        return real(*args, **kwargs)

    monkeypatch.setattr(sweeping, "sweep", raced)
    code, report, _ = check_json(capsys)
    assert code == 1
    assert "overdue" in flags_of(report)[CALM]
    monkeypatch.setattr(sweeping, "sweep", real)
    _, report, err = check_json(capsys)  # and the next check sees the move for what it is
    assert "overdue" in flags_of(report)[CALM] and CALM in err


def test_a_change_is_replayed_even_with_its_events_anchored_to_an_old_entry(
    records, session_factory, capsys
):
    # The risk raised after a receipt, hidden by putting the old state back and stamping the
    # new event with an entry from before the receipt: its row is still newer than the receipt.
    from dsl_console.store.audit import APPEND_ONLY_TRIGGERS

    conn = raw_connect(records, database_key(records))
    (old_anchor,) = conn.execute("SELECT anchor FROM escalation WHERE ref = ?", (CALM,)).fetchone()
    conn.close()
    vouched = risk_raised_over_a_vouched_state(records, session_factory, CALM)
    conn = raw_connect(records, database_key(records))
    conn.execute("DROP TRIGGER event_no_update")
    conn.execute(
        "UPDATE event SET anchor = ? WHERE escalation_id = "
        "(SELECT id FROM escalation WHERE ref = ?)",
        (old_anchor, CALM),
    )
    conn.execute(APPEND_ONLY_TRIGGERS["event_no_update"])  # the guard put back as it was
    put_back(conn, CALM, vouched)
    conn.commit()
    conn.close()
    err = assert_still_flagged(capsys, CALM, "immediate-risk")
    assert "changed outside the console" in err


def test_a_change_is_replayed_even_with_its_event_moved_under_the_receipts_watermark(
    records, session_factory, capsys
):
    # The same, with the new event's anchor and id both made old: moved to id -1, below the
    # highest event id the receipt saw, so that nothing looks newer than the receipt. The
    # rows under the watermark no longer number what the receipt counted.
    from dsl_console.store.audit import APPEND_ONLY_TRIGGERS

    conn = raw_connect(records, database_key(records))
    (old_anchor,) = conn.execute("SELECT anchor FROM escalation WHERE ref = ?", (CALM,)).fetchone()
    conn.close()
    vouched = risk_raised_over_a_vouched_state(records, session_factory, CALM)
    conn = raw_connect(records, database_key(records))
    conn.execute("DROP TRIGGER event_no_update")
    conn.execute(
        "UPDATE event SET anchor = ?, id = -1 WHERE id = (SELECT max(id) FROM event)",
        (old_anchor,),
    )
    conn.execute(APPEND_ONLY_TRIGGERS["event_no_update"])
    put_back(conn, CALM, vouched)
    conn.commit()
    conn.close()
    err = assert_still_flagged(capsys, CALM, "immediate-risk")
    assert "changed outside the console" in err


@pytest.mark.parametrize("as_of", ["ahead of it", "just before it"])
def test_a_removed_deputy_s_old_key_cannot_vouch_by_rewriting_an_old_entry(
    records, session_factory, capsys, as_of
):
    # The review's forgery: a deputy, removed since, kept a copy of the key file from when
    # they were one. Their old key signs a receipt for a moved due, written over an entry of
    # theirs from that time (when their role could vouch), its hash remade.
    from dsl_console.config import Config
    from dsl_console.services import accounts
    from dsl_console.services.session import Credentials, open_session
    from dsl_console.store import keyslots
    from dsl_console.store.audit import APPEND_ONLY_TRIGGERS, entry_hash
    from dsl_console.store.signing import Signer
    from dsl_console.store.state_receipts import Receipt, Watermark, block_digests
    from dsl_console.store.users import Role
    from tests.conftest import FAST_KDF

    deputy = Credentials("dee.deputy", "fictional deputy passphrase")
    session = session_factory()
    accounts.add_account(session, deputy.user, Role.DEPUTY, deputy.passphrase, kdf_cost=FAST_KDF)
    session.close()
    open_session(records, Config(), deputy, clock=lambda: NOW).close()  # their login entry
    kept = keyslots.read_slots(keyslots.keys_path(records))  # the copy they keep
    session = session_factory()
    accounts.remove_account(session, deputy.user)
    session.close()
    check_json(capsys)
    write_directly(records, *MOVED_ON)
    old_key = keyslots.open_slot(kept, deputy.user, deputy.passphrase).signer.key
    session = session_factory()
    with session.db.connection_context():
        blocks = block_digests()  # the moved due's, as the forger makes them
    session.close()
    conn = raw_connect(records, database_key(records))
    victim, at, ref, prev = conn.execute(
        "SELECT id, at, ref, prev_hash FROM audit WHERE user = ? AND action = 'login'",
        (deputy.user,),
    ).fetchone()
    marks = [  # the watermarks as they are: nothing looks newer than the receipt
        Watermark(*conn.execute(f"SELECT ifnull(max(id), 0), count(*) FROM {table}").fetchone())
        for table in ("escalation", "event")
    ]
    forged = Receipt(victim + 10**6 if as_of == "ahead of it" else victim - 1, blocks, *marks)
    digest = entry_hash(victim, at, deputy.user, "states-checked", ref, forged.detail(), prev)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute(
        "UPDATE audit SET action = 'states-checked', detail = ?, hash = ?, signer = ?, "
        "signature = ? WHERE id = ?",
        (forged.detail(), digest, deputy.user, Signer(deputy.user, old_key).sign(digest), victim),
    )
    # The receipts after it renamed, so that theirs is the newest; the listing swapped.
    conn.execute(
        "UPDATE audit SET action = 'login' WHERE action = 'states-checked' AND id > ?", (victim,)
    )
    conn.execute("UPDATE setting SET value = ? WHERE key = 'state_receipt'", (forged.listing(),))
    conn.execute(APPEND_ONLY_TRIGGERS["audit_no_update"])  # the guard put back as it was
    conn.commit()
    conn.close()
    assert_still_flagged(capsys, CALM, "overdue")


def test_a_case_deleted_outside_the_console_is_said_though_it_cannot_be_listed(records, capsys):
    check_json(capsys)
    write_directly(
        records, "PRAGMA foreign_keys = OFF", f"DELETE FROM escalation WHERE ref = '{AT_RISK}'"
    )
    code, report, err = check_json(capsys)
    assert AT_RISK not in flags_of(report)
    assert "1 case(s) were deleted outside the console" in err
    assert code == 1  # the calm case is still overdue


def test_an_index_rebuilt_to_hide_a_child_at_risk_is_found_by_audit_verify(records, capsys):
    # The review's quietest attack: the list's covering index swapped, through
    # writable_schema, for one built from a copy of the table without the child at risk.
    # `check` reads through that index; the quick check at open counts entries only.
    conn = raw_connect(records, database_key(records))
    live = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'escalation_live'").fetchone()[
        0
    ]
    table = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'escalation'").fetchone()[0]
    conn.execute(table.replace('"escalation"', '"fake"', 1))
    conn.execute("INSERT INTO fake SELECT * FROM escalation")
    conn.execute(f"UPDATE fake SET is_live = 0 WHERE ref = '{AT_RISK}'")
    conn.execute(f"CREATE INDEX evil ON fake {live[live.index('(') :]}")
    conn.execute("DROP INDEX escalation_live")
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET name = 'escalation_live', tbl_name = 'escalation', sql = ? "
        "WHERE name = 'evil'",
        (live,),
    )
    conn.execute("PRAGMA writable_schema = OFF")
    conn.commit()
    conn.close()
    conn = raw_connect(records, database_key(records))
    conn.execute("DROP TABLE fake")
    conn.commit()
    conn.close()
    capsys.readouterr()
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("database BROKEN:") and "escalation_live" in out
