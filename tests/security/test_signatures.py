"""Audit signatures: anyone holding the database key (any account's passphrase gives it) can
append a correctly chained entry, with matching case rows, in anyone's name, using the console's
own code. A read-only account once resolved a child at immediate risk that way, in the DSL's
name, and the child left `check`. Each entry is now signed by its author's key, opened only by
their passphrase: the forgeries below are named by `audit verify`, by every `check`, and by the
console after unlocking, and a forged grant gives nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dsl_console.cli import main
from dsl_console.config import Config
from dsl_console.core.procedures import load_registry
from dsl_console.core.records import Event, EventKind
from dsl_console.errors import AccessError
from dsl_console.services import accounts
from dsl_console.services.casebook import _anchored, record_event
from dsl_console.services.session import Credentials, Session, open_session
from dsl_console.store import keyslots
from dsl_console.store.account_trail import KEY_DISAGREES, SIGNING_KEY, with_key
from dsl_console.store.cases import append_event
from dsl_console.store.database import open_database
from dsl_console.store.signing import Signer
from dsl_console.store.users import Role
from tests.conftest import FAST_KDF, NOW, PASSPHRASE, SCHEMA3_CREDENTIALS, USER
from tests.security.conftest import (
    add_fictional_cases,
    append_entry,
    audit_verify,
    database_key,
    raw_connect,
)

READER = Credentials("sam.reader", "fictional reader passphrase")
DEPUTY = Credentials("pat.deputy", "fictional deputy passphrase")
AT_RISK = "SCH-2026-201"


@pytest.fixture
def team(cli_env: Path, session_factory) -> Path:  # type: ignore[no-untyped-def]
    """A DSL, a deputy and a read-only account; a child at immediate risk."""
    session = session_factory()
    add_fictional_cases(session, AT_RISK, immediate_risk=True)
    accounts.add_account(session, READER.user, Role.READ_ONLY, READER.passphrase, kdf_cost=FAST_KDF)
    accounts.add_account(session, DEPUTY.user, Role.DEPUTY, DEPUTY.passphrase, kdf_cost=FAST_KDF)
    session.close()
    return cli_env


def forger(db_path: Path, creds: Credentials, *, as_user: str, role: Role) -> Session:
    """The console's own code run by `creds`' holder outside the console: the database opened
    with the key their passphrase gives, and a session made by hand in `as_user`'s name."""
    opened = keyslots.open_slot(
        keyslots.read_slots(keyslots.keys_path(db_path)), creds.user, creds.passphrase
    )
    db = open_database(db_path, opened.keys[0])
    db.signer = opened.signer  # their own signing key: the only one they have
    if opened.signer is not None and as_user != creds.user:
        db.signer = Signer(as_user, opened.signer.key)  # signing in another's name
    config = Config()
    return Session(
        path=db_path,
        config=config,
        registry=load_registry(config.procedures_dir),
        db=db,
        user=as_user,
        role=role,
        clock=lambda: NOW,
    )


def forge_resolution(db_path: Path, creds: Credentials, *, as_user: str, sign: bool = True) -> None:
    """Resolve the child's case in `as_user`'s name through the console's own store code,
    past the checks a form makes (the risk is never escalated): the event row, its audit
    entry, chain and content digest all as the console writes them."""
    session = forger(db_path, creds, as_user=as_user, role=Role.DSL)
    if not sign:
        session.db.signer = None
    event = Event(at=NOW - timedelta(hours=1), kind=EventKind.RESOLVED, note="Agreed by phone.")
    try:
        session.write(
            lambda: _anchored(
                session,
                "event:resolved",
                AT_RISK,
                "",
                lambda anchor: append_event(
                    AT_RISK,
                    event,
                    session.registry,
                    session.calendar,
                    now=NOW,
                    user=as_user,
                    anchor=anchor,
                ),
            )
        )
    finally:
        session.close()


def check_run(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, list[str]], str]:
    """`check --json`: each case listed with its flags, and what it said on stderr."""
    capsys.readouterr()
    main(["check", "--json", "--as-of", NOW.isoformat()])
    captured = capsys.readouterr()
    cases = json.loads(captured.out)["cases"]
    return {c["ref"]: c["flags"] for c in cases}, captured.err


def document_warnings(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """`check --json`'s own warnings, for a script that reads only the JSON."""
    capsys.readouterr()
    main(["check", "--json", "--as-of", NOW.isoformat()])
    return list(json.loads(capsys.readouterr().out).get("warnings", []))


def test_the_trail_of_a_team_at_work_verifies(team, capsys):
    session = open_session(team, Config(), DEPUTY, clock=lambda: NOW)
    record_event(session, AT_RISK, Event(at=NOW, kind=EventKind.NOTE, note="Called the team."))
    session.close()
    accounts.change_passphrase(
        open_session(team, Config(), READER, clock=lambda: NOW),
        READER.user,
        "fictional new reader passphrase",
        kdf_cost=FAST_KDF,
    )
    code, out = audit_verify(capsys)
    assert code == 0, out
    flagged, warning = check_run(capsys)
    assert "immediate-risk" in flagged[AT_RISK] and warning == ""
    assert document_warnings(capsys) == []  # no "warnings" key at all when there are none
    conn = raw_connect(team, database_key(team))
    unsigned = conn.execute("SELECT count(*) FROM audit WHERE signature = ''").fetchone()[0]
    conn.close()
    assert unsigned == 0  # every entry, the first DSL's creation included, is signed


@pytest.mark.parametrize("signed", ["unsigned", "signed with the reader's own key"])
def test_a_resolution_forged_in_the_dsl_s_name_is_named_everywhere(team, capsys, signed):
    # The read-only account resolves the child's case in the DSL's name: rows, digest and
    # chain all as the console writes them.
    forge_resolution(team, READER, as_user=USER, sign=signed != "unsigned")
    code, out = audit_verify(capsys)
    assert code == 1
    why = (
        f"in {USER}'s name, is not signed"
        if signed == "unsigned"
        else f"was not signed by {USER}'s signing key on record"
    )
    assert why in out, out
    # `check` judges the child's case without the forged resolution: still at immediate
    # risk, and it says why.
    flagged, warning = check_run(capsys)
    assert "immediate-risk" in flagged[AT_RISK]
    assert "a change to the case records that the console did not make" in warning
    assert f"This check leaves that change out of {AT_RISK}" in warning
    assert document_warnings(capsys) == [warning.removeprefix("warning: ").strip()]


def test_a_reader_s_own_signed_case_change_is_beyond_their_role(team, capsys):
    forge_resolution(team, READER, as_user=READER.user)  # signed, in their own name
    code, out = audit_verify(capsys)
    assert code == 1
    assert f"{READER.user} had a read-only account then, and could not change the case" in out
    flagged, warning = check_run(capsys)
    # They did make it, with their own key: the line says what was wrong with it instead.
    assert "the console did not make and would not allow" in warning
    assert f"{READER.user} had a read-only account then" in warning
    assert "immediate-risk" in flagged[AT_RISK]


def test_a_grant_in_the_dsl_s_name_gives_nothing(team, capsys):
    # The reader writes the row, a key slot and a grant in the DSL's name, signed with the
    # only key they have: the new account cannot unlock, and verify names the entry.
    mallory = Credentials("mal.intruder", "fictional intruder passphrase")
    key = database_key(team, READER.user, READER.passphrase)
    slot = keyslots.make_slot(mallory.user, mallory.passphrase, key, FAST_KDF)
    keyslots.update_slots(keyslots.keys_path(team), lambda s: keyslots.replace_slot(s, slot))
    opened = keyslots.open_slot(
        keyslots.read_slots(keyslots.keys_path(team)), READER.user, READER.passphrase
    )
    assert opened.signer is not None
    conn = raw_connect(team, key)
    conn.execute(
        "INSERT INTO user (name, role, created_at) VALUES (?, 'dsl', '2026-11-20 09:00:00.000000')",
        (mallory.user,),
    )
    entry = append_entry(
        conn,
        USER,
        "account-added",
        detail=with_key(f"{mallory.user} (dsl)", slot["verify"]),
        signer=Signer(USER, opened.signer.key),
    )
    conn.close()
    with pytest.raises(AccessError, match="added outside the console"):
        open_session(team, Config(), mallory, clock=lambda: NOW)
    code, out = audit_verify(capsys)
    assert code == 1
    assert f"entry {entry} was not signed by {USER}'s signing key on record" in out


def test_a_signing_key_put_on_record_for_the_dsl_is_refused(team, capsys):
    # With the DSL's key replaced on the record, the reader could sign in the DSL's name: a
    # passphrase change in the DSL's name, signed with the reader's key, is not counted.
    key = database_key(team, READER.user, READER.passphrase)
    reader = keyslots.open_slot(
        keyslots.read_slots(keyslots.keys_path(team)), READER.user, READER.passphrase
    ).signer
    assert reader is not None
    conn = raw_connect(team, key)
    append_entry(
        conn, USER, "passphrase-changed", detail=with_key(USER, reader.public), signer=reader
    )
    append_entry(conn, USER, SIGNING_KEY, detail=reader.public, signer=Signer(USER, reader.key))
    conn.close()
    session = open_session(team, Config(), Credentials(USER, PASSPHRASE), clock=lambda: NOW)
    try:
        assert session.account_notice == ""  # the DSL's own key is still the one on record
    finally:
        session.close()
    code, out = audit_verify(capsys)
    assert code == 1 and "signed by" in out


OLD = SCHEMA3_CREDENTIALS


def test_an_old_database_puts_each_key_on_record_at_its_first_unlock(old_db, capsys):
    open_session(old_db, Config(), OLD, clock=lambda: NOW).close()
    open_session(old_db, Config(), OLD, clock=lambda: NOW).close()
    conn = raw_connect(old_db, database_key(old_db, OLD.user, OLD.passphrase))
    recorded = conn.execute(
        "SELECT count(*) FROM audit WHERE action = ? AND user = ?", (SIGNING_KEY, OLD.user)
    ).fetchone()[0]
    unsigned_since = conn.execute(
        "SELECT count(*) FROM audit WHERE signature = '' AND id >= "
        "(SELECT id FROM audit WHERE action = ?)",
        (SIGNING_KEY,),
    ).fetchone()[0]
    conn.close()
    assert recorded == 1 and unsigned_since == 0  # once, and signed from then on
    code, out = audit_verify(capsys)
    assert code == 0, out


def test_a_key_planted_before_an_old_account_s_first_unlock_is_said_at_it(old_db):
    # Before the DSL's first unlock with this version, someone with the key puts a signing
    # key of their own on record in the DSL's name (the one window signatures leave).
    planted = Signer(OLD.user, Ed25519PrivateKey.generate())
    key = database_key(old_db, OLD.user, OLD.passphrase)
    open_database(old_db, key).close()  # this version's schema, as any unlock would make it
    conn = raw_connect(old_db, key)
    append_entry(conn, OLD.user, SIGNING_KEY, detail=planted.public, signer=planted)
    conn.close()
    session = open_session(old_db, Config(), OLD, clock=lambda: NOW)
    try:
        assert session.account_notice == KEY_DISAGREES
    finally:
        session.close()


def test_locking_drops_the_signing_key(session_factory):
    session = session_factory()
    db = session.db
    assert db.signer is not None and db.signer.name == USER
    session.close()
    assert db.signer is None
