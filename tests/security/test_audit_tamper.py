"""The audit trail: an attacker with the key and the file (triggers dropped first, as they
would) cannot change, delete or reorder an entry without `audit verify` naming it; rewriting the
whole chain is caught by an exported head."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dsl_console.cli import main
from dsl_console.store import audit
from dsl_console.store.account_trail import KEY_DISAGREES
from dsl_console.store.audit import audit_head_line, entry_hash
from tests.security.conftest import (
    add_fictional_cases,
    audit_verify,
    database_key,
    raw_connect,
    rebuild_trail,
)


@pytest.fixture
def trail(cli_env: Path, session_factory) -> Path:  # type: ignore[no-untyped-def]
    """A database with a few audit entries (creation, import, views), closed again."""
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001", "SCH-2026-002")
    session.audit("case-viewed", "SCH-2026-001")
    session.audit("case-viewed", "SCH-2026-002")
    session.close()
    return cli_env


def tamper(db: Path, *statements: str) -> None:
    conn = raw_connect(db, database_key(db))
    for table in ("audit",):
        conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    for sql in statements:
        conn.execute(sql)
    conn.close()


def test_an_intact_trail_verifies(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = audit_verify(capsys)
    assert code == 0
    assert out.startswith("audit trail intact: ")


def test_the_triggers_refuse_changes_through_sql(trail: Path) -> None:
    conn = raw_connect(trail, database_key(trail))
    for sql in ("UPDATE audit SET user = 'someone' WHERE id = 2", "DELETE FROM audit WHERE id = 2"):
        with pytest.raises(Exception, match="append-only"):
            conn.execute(sql)
    conn.close()


TAMPERING: dict[str, tuple[tuple[str, ...], int, str]] = {
    "a changed entry": (("UPDATE audit SET user = 'someone.else' WHERE id = 3",), 3, "changed"),
    "a changed time": (
        ("UPDATE audit SET at = '2026-01-01 00:00:00.000000' WHERE id = 4",),
        4,
        "changed",
    ),
    "a deleted entry": (("DELETE FROM audit WHERE id = 3",), 3, "missing"),
    "two entries swapped": (
        (
            "UPDATE audit SET id = 1000 WHERE id = 3",
            "UPDATE audit SET id = 3 WHERE id = 4",
            "UPDATE audit SET id = 4 WHERE id = 1000",
        ),
        3,
        "",
    ),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_is_named_by_audit_verify(
    trail: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    statements, broken, word = TAMPERING[how]
    tamper(trail, *statements)
    code, out = audit_verify(capsys)
    assert code == 1
    assert out.startswith(f"audit trail BROKEN at entry {broken}:"), out
    assert word in out


def test_recomputing_one_entry_breaks_the_next(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A careful attacker recomputes the changed entry's own hash: the next entry still points
    # at the old one.
    conn = raw_connect(trail, database_key(trail))
    row = conn.execute(
        "SELECT id, at, user, action, ref, detail, prev_hash FROM audit WHERE id = 3"
    ).fetchone()
    forged = entry_hash(row[0], row[1], "someone.else", row[3], row[4], row[5], row[6])
    conn.close()
    tamper(trail, f"UPDATE audit SET user = 'someone.else', hash = '{forged}' WHERE id = 3")
    code, out = audit_verify(capsys)
    assert code == 1
    assert out.startswith("audit trail BROKEN at entry 4:"), out


def test_a_rewritten_chain_no_longer_matches_an_exported_head(
    trail: Path, session_factory: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    session = session_factory()
    exported = audit_head_line()  # what an export printed at the time
    session.close()
    entry_id, prefix = exported.removeprefix("audit head ").split(":")
    # The attacker backdates entry 3 and rebuilds every hash after it...
    conn = raw_connect(trail, database_key(trail))
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET at = '2026-01-05 09:00:00.000000' WHERE id = 3")
    rebuild_trail(conn)
    # Left dropped, the missing guard alone gives the attacker away:
    code, out = audit_verify(capsys)
    assert code == 1 and "audit_no_update was removed" in out
    # ...and the DSL's signature on entry 3 no longer matches it:
    conn.execute(audit.APPEND_ONLY_TRIGGERS["audit_no_update"])
    code, out = audit_verify(capsys)
    assert code == 1
    assert "entry 3 was not signed by jo.lead's signing key" in out, out
    # So they sign every entry again with a key of their own, named in the first DSL's grant
    # in place of the DSL's, and put the guard back. The chain holds together...
    conn.execute("DROP TRIGGER audit_no_update")
    rebuild_trail(conn, forger=Ed25519PrivateKey.generate())
    conn.execute(audit.APPEND_ONLY_TRIGGERS["audit_no_update"])
    conn.close()
    # ...but the DSL's next unlock says the trail holds a key that is not theirs...
    session = session_factory()
    try:
        assert session.account_notice == KEY_DISAGREES
        forged_from = session.db.execute_sql("SELECT max(id) FROM audit").fetchone()[0]
    finally:
        session.close()
    # ...and from that unlock on, what they sign no longer matches the key on record...
    code, out = audit_verify(capsys)
    assert code == 1
    assert f"entry {forged_from} was not signed by jo.lead's signing key on record" in out
    # ...and the entry the export named carries another hash, in `audit show`.
    main(["audit", "show", "--limit", "1000"])
    shown = capsys.readouterr().out
    line = next(x for x in shown.splitlines() if x.split()[0] == entry_id)
    assert prefix not in line


def test_the_head_line_matches_verify(
    trail: Path, session_factory: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    session = session_factory()
    line = audit_head_line()
    session.close()
    assert line.isascii()
    entry_id, prefix = line.removeprefix("audit head ").split(":")
    assert len(prefix) == 16
    main(["audit", "show", "--limit", "1000"])
    shown = capsys.readouterr().out
    assert any(x.split()[0] == entry_id and prefix in x for x in shown.splitlines())


def test_audit_entries_hold_no_names_concerns_or_passphrases(trail: Path) -> None:
    from tests.conftest import PASSPHRASE
    from tests.security.conftest import CHILD_NAME, SUMMARY

    conn = raw_connect(trail, database_key(trail))
    text = repr(conn.execute("SELECT * FROM audit").fetchall())
    conn.close()
    for secret in (PASSPHRASE, CHILD_NAME, SUMMARY):
        assert secret not in text


@pytest.mark.parametrize(
    ("statements", "said"),
    [
        (
            # A guard replaced by a no-op of the same name: the name alone looks intact.
            [
                "DROP TRIGGER audit_no_update",
                "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT 1; END",
            ],
            "the append-only guard audit_no_update was replaced outside the console",
        ),
        (
            # A planted trigger that quietly undoes every risk recorded from now on.
            [
                "CREATE TRIGGER hide_risks AFTER INSERT ON event "
                "BEGIN UPDATE escalation SET risk_due_at = NULL; END"
            ],
            "a trigger hide_risks was added outside the console",
        ),
        (["CREATE VIEW quiet AS SELECT ref FROM escalation"], "a view quiet was added"),
    ],
    ids=["no-op guard", "planted trigger", "planted view"],
)
def test_a_schema_object_the_console_did_not_make_breaks_verify(
    trail: Path, capsys: pytest.CaptureFixture[str], statements: list[str], said: str
) -> None:
    conn = raw_connect(trail, database_key(trail))
    for statement in statements:
        conn.execute(statement)
    conn.close()
    code, out = audit_verify(capsys)
    assert code == 1 and out.startswith("audit trail BROKEN: ") and said in out
