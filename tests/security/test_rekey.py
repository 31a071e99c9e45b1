"""Removing an account re-encrypts the database. Key slots once held the one database key
wrapped by each passphrase, so a removed account's slot in any old copy of the key file (or
the raw key once taken from it) still opened the live database in any SQLCipher tool. Now
each slot opens the account's own key pair, the database key is sealed to every public key,
and `user remove` (or `user rekey`) seals a new key to those who remain and re-encrypts."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest
from sqlcipher3 import dbapi2 as sqlcipher

from dsl_console.commands import user_action
from dsl_console.config import Config
from dsl_console.errors import AccessError, StoreError
from dsl_console.services import accounts
from dsl_console.services.session import Credentials, open_session
from dsl_console.store import audit, keyslots
from dsl_console.store.cases import load_case
from dsl_console.store.users import Role
from tests.conftest import FAST_KDF, NOW
from tests.security.conftest import add_fictional_cases, audit_verify, raw_connect
from tests.security.test_accounts import DEPUTY, READER, unlocks


def opens(db: Path, key: bytes) -> bool:
    """Whether the raw key opens the file, as another SQLCipher tool would try it."""
    conn = raw_connect(db, key)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlcipher.DatabaseError:
        return False
    finally:
        conn.close()


@pytest.fixture
def team(session_factory, new_db: Path) -> Path:
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001")
    for creds, role in ((DEPUTY, Role.DEPUTY), (READER, Role.READ_ONLY)):
        accounts.add_account(session, creds.user, role, creds.passphrase, kdf_cost=FAST_KDF)
    session.close()
    return new_db


def test_a_removed_account_s_old_key_file_opens_nothing(team, session_factory, cli_env, capsys):
    keys = keyslots.keys_path(team)
    kept = team.parent / "kept.keys"
    shutil.copy(keys, kept)  # the deputy keeps a copy of the key file before leaving
    old_key = keyslots.unwrap(keyslots.read_slots(kept), DEPUTY.user, DEPUTY.passphrase)
    session = session_factory()
    before = load_case("SCH-2026-001")
    line = user_action(session, argparse.Namespace(action="remove", name=DEPUTY.user))
    assert "re-encrypted under a new key" in line
    session.close()
    assert not opens(team, old_key)
    # Those who remain unlock as before, and the records are all there and intact.
    assert unlocks(team, READER) and not unlocks(team, DEPUTY)
    session = session_factory()
    try:
        with session.db.connection_context():
            assert load_case("SCH-2026-001") == before
            assert "database-rekeyed" in [line.action for line in audit.lines(limit=5)]
    finally:
        session.close()
    assert opens(team, keyslots.unwrap(keyslots.read_slots(keys), READER.user, READER.passphrase))
    assert "previous" not in keys.read_text()  # nothing of the old key is left in the file
    code, out = audit_verify(capsys)
    assert code == 0, out


def test_a_rekey_waits_for_a_console_that_has_the_database_open(team, session_factory):
    keys = keyslots.keys_path(team)
    before = keys.read_bytes()
    key = keyslots.unwrap(keyslots.read_slots(keys), DEPUTY.user, DEPUTY.passphrase)
    console = open_session(team, Config(), READER, clock=lambda: NOW)
    session = session_factory()
    try:
        with console.db.connection_context():
            console.db.execute_sql("SELECT count(*) FROM escalation")  # a console reading
            with pytest.raises(StoreError, match="open in a console"):
                accounts.rekey(session, "asked for")
    finally:
        console.close()
        session.close()
    assert json.loads(keys.read_bytes()) == json.loads(before)
    assert opens(team, key) and unlocks(team, DEPUTY)


@pytest.mark.parametrize("cut_after", ["the new keys were written", "the file was re-encrypted"])
def test_a_rekey_cut_short_leaves_everyone_able_to_unlock(team, session_factory, cut_after):
    # A kill between the steps: the key file holds both keys until the end.
    keys = keyslots.keys_path(team)
    new_key = keyslots.new_database_key()
    keyslots.update_slots(
        keys, lambda slots: [keyslots.reseal(s, new_key, keep_previous=True) for s in slots]
    )
    if cut_after == "the file was re-encrypted":
        session = session_factory()
        session.db.rekey(new_key)
        session.close()
    for creds in (DEPUTY, READER):
        session = open_session(team, Config(), creds, clock=lambda: NOW)
        try:
            with session.db.connection_context():
                assert load_case("SCH-2026-001").ref == "SCH-2026-001"
        finally:
            session.close()


def test_a_slot_from_before_key_pairs_unlocks_and_is_rewritten(team, session_factory):
    keys = keyslots.keys_path(team)
    db_key = keyslots.unwrap(keyslots.read_slots(keys), READER.user, READER.passphrase)
    legacy = _legacy_slot(READER, db_key)
    keyslots.update_slots(keys, lambda slots: keyslots.replace_slot(slots, legacy))
    session = session_factory()
    with pytest.raises(AccessError, match=f"{READER.user} must unlock once"):
        accounts.rekey(session, "asked for")
    session.close()
    assert unlocks(team, READER)
    mine = next(s for s in keyslots.read_slots(keys) if s["user"] == READER.user)
    assert keyslots.resealable(mine) and "wrapped" not in mine
    session = session_factory()
    accounts.rekey(session, "asked for")
    session.close()
    assert unlocks(team, READER) and not opens(team, db_key)


def _legacy_slot(creds: Credentials, db_key: bytes) -> dict:
    """A slot as the first release wrote it: the database key wrapped by the passphrase's
    key-encryption key itself."""
    import base64
    import secrets
    from dataclasses import asdict

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    kek = keyslots._derive(creds.passphrase, salt, FAST_KDF)
    wrapped = AESGCM(kek).encrypt(nonce, db_key, creds.user.encode("utf-8"))

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    kdf = {"name": "argon2id", **asdict(FAST_KDF)}
    return {
        "user": creds.user,
        "salt": b64(salt),
        "nonce": b64(nonce),
        "wrapped": b64(wrapped),
        "kdf": kdf,
    }


def test_a_removal_that_could_not_re_encrypt_is_owed_until_it_is_done(team, session_factory):
    from dsl_console.services.doctor import database_problems

    keys = keyslots.keys_path(team)
    console = open_session(team, Config(), READER, clock=lambda: NOW)  # a console is open
    session = session_factory()
    try:
        with console.db.connection_context():
            console.db.execute_sql("SELECT count(*) FROM escalation")
            line = user_action(session, argparse.Namespace(action="remove", name=DEPUTY.user))
    finally:
        console.close()
    assert "not yet re-encrypted" in line and "dsl-console user rekey" in line
    # Said until done: in the account list, by doctor, and when a DSL unlocks.
    owed = "the database key is still to be replaced (pat.deputy was removed)"
    assert owed in user_action(session, argparse.Namespace(action="list"))
    assert any(owed in problem for problem in database_problems(team))
    assert owed in accounts.rekey_reminder(session)
    session.close()
    session = session_factory()
    accounts.rekey(session, "asked for")
    assert "still to be replaced" not in user_action(session, argparse.Namespace(action="list"))
    assert accounts.rekey_reminder(session) == ""
    session.close()
    assert not any("still to be replaced" in p for p in database_problems(team))
    assert "rekey_owed" not in keys.read_text()


def test_an_old_key_file_put_back_is_named_and_not_blamed_on_the_database(team, session_factory):
    keys = keyslots.keys_path(team)
    kept = team.parent / "kept.keys"
    shutil.copy(keys, kept)
    session = session_factory()
    accounts.rekey(session, "asked for")
    session.close()
    shutil.copy(keys, team.parent / "current.keys")
    shutil.copy(kept, keys)  # someone restores the key file alone, from an old copy
    with pytest.raises(StoreError) as refused:
        open_session(team, Config(), READER, clock=lambda: NOW)
    message = str(refused.value)
    assert "the key file is not the one that belongs to it" in message
    assert "put back the key file that belongs to it" in message
    shutil.copy(team.parent / "current.keys", keys)
    assert unlocks(team, READER)
