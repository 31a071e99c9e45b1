"""Case records edited outside the console are caught: each change's audit entry carries a
digest of the rows it wrote, so `audit verify` names the change whose records no longer match."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl_console.cli import main
from dsl_console.core.records import Event, EventKind
from dsl_console.services.casebook import record_event
from tests.conftest import NOW
from tests.security.conftest import add_fictional_cases, audit_verify, database_key, raw_connect


@pytest.fixture
def records(cli_env: Path, session_factory) -> Path:  # type: ignore[no-untyped-def]
    """Two imported cases, then a discussion recorded on one of them."""
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001", "SCH-2026-002")
    record_event(
        session,
        "SCH-2026-001",
        Event(NOW, EventKind.DISCUSSION, by="Jo Lead", note="Discussed with the social worker."),
    )
    session.close()
    return cli_env


def attack(db: Path, *statements: str) -> None:
    """Change rows with the key, as someone with the file and a passphrase could, leaving the
    append-only guards in place afterwards so only the content gives them away."""
    conn = raw_connect(db, database_key(db))
    conn.execute("DROP TRIGGER IF EXISTS event_no_update")
    conn.execute("DROP TRIGGER IF EXISTS event_no_delete")
    for sql in statements:
        conn.execute(sql)
    conn.execute(
        "CREATE TRIGGER event_no_update BEFORE UPDATE ON event "
        "BEGIN SELECT RAISE(ABORT, 'event entries are append-only'); END"
    )
    conn.execute(
        "CREATE TRIGGER event_no_delete BEFORE DELETE ON event "
        "BEGIN SELECT RAISE(ABORT, 'event entries are append-only'); END"
    )
    conn.close()


def test_untouched_records_verify(records: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = audit_verify(capsys)
    assert code == 0
    assert "case records match the 2 changes that wrote them" in out


def test_a_cached_state_worked_out_again_is_not_tampering(
    records: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The stage, due and flags columns are derived and may be recomputed at any time: put
    # back from the events, they verify (changed any other way, they do not:
    # test_cached_state.py).
    attack(records, "UPDATE escalation SET due_at = NULL, urgency = 2")
    assert audit_verify(capsys)[0] == 1
    from dsl_console.config import Config
    from dsl_console.core.procedures import load_registry
    from dsl_console.store.cases import refresh_all_states
    from dsl_console.store.database import open_database

    db = open_database(records, database_key(records))
    with db.atomic():
        refresh_all_states(load_registry(None), Config().calendar())
    db.close()
    assert audit_verify(capsys)[0] == 0


TAMPERING = {
    "an event's note rewritten": (
        "UPDATE event SET note = 'Nothing was discussed.' WHERE kind = 'discussion'",
    ),
    "an event's time moved": (
        "UPDATE event SET at = '2026-01-01 09:00:00.000000' WHERE kind = 'discussion'",
    ),
    "an imported event deleted": ("DELETE FROM event WHERE id = 1",),
    "a case's summary rewritten": ("UPDATE escalation SET summary = 'No concern.' WHERE id = 1",),
    "a child's date of birth changed": ("UPDATE child SET dob = '2010-01-01'",),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_edited_records_are_named(
    records: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    attack(records, *TAMPERING[how])
    code, out = audit_verify(capsys)
    assert code == 1
    assert out.startswith("case records BROKEN at entry "), out
    assert "changed, added to or removed outside the console" in out


def test_an_event_slipped_in_is_named(records: Path, capsys: pytest.CaptureFixture[str]) -> None:
    attack(
        records,
        "INSERT INTO event (escalation_id, seq, at, kind, by, whom, note, lessons, method, "
        "recorded_at, recorded_by) VALUES (1, 99, '2026-11-23 12:00:00.000000', 'resolved', "
        "'', '', 'Agreed.', '', '', '2026-11-23 12:00:00.000000', 'jo.lead')",
    )
    code, out = audit_verify(capsys)
    assert code == 1
    assert "added outside the console" in out


def test_a_digest_smuggled_in_through_a_file_name_vouches_for_nothing(
    records: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # A deputy names a backup "... content=<digest>", then slips in event rows stamped with
    # that entry's id whose digest is the one smuggled in: the trail must not vouch for them.
    from dsl_console.store import anchoring, audit
    from dsl_console.store.database import open_database

    db = open_database(records, database_key(records))
    next_id = audit.head()[0] + 2  # the backup's entry, after its login's
    db.close()
    conn = raw_connect(records, database_key(records))
    conn.execute(
        "INSERT INTO event (escalation_id, seq, at, kind, by, whom, note, lessons, method, "
        "recorded_at, recorded_by, anchor) VALUES (1, 99, '2026-11-23 12:00:00.000000', "
        "'resolved', '', '', 'Agreed.', '', '', '2026-11-23 12:00:00.000000', 'jo.lead', ?)",
        (next_id,),
    )
    conn.commit()
    conn.close()
    db = open_database(records, database_key(records))
    forged = anchoring.content_digest(next_id)
    db.close()
    capsys.readouterr()
    assert main(["backup", "--out", str(tmp_path / f"b content={forged}")]) == 0
    db = open_database(records, database_key(records))
    assert [line.action for line in audit.lines(limit=1)] == ["backup"]
    assert audit.head()[0] == next_id
    db.close()
    code, out = audit_verify(capsys)
    assert code == 1 and "does not record the rows that name it" in out
