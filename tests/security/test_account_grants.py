"""Accounts as the audit trail granted them. With the database key (any account's passphrase
gives it), the `user` table can be written outside the console: a role raised, an account row
and a key slot of one's own added, a grant entry appended under one's own name. None of these
gives what the console's own account management did not: the trail's grant is the role an
unlock gets, and `audit verify` names each change."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl_console.config import Config
from dsl_console.errors import AccessError
from dsl_console.services import accounts
from dsl_console.services.session import Credentials, open_session
from dsl_console.store import audit, keyslots
from dsl_console.store.users import Role
from tests.conftest import FAST_KDF, NOW
from tests.security.conftest import audit_verify, database_key, raw_connect

READER = Credentials("sam.reader", "fictional reader passphrase")
MALLORY = Credentials("mal.intruder", "fictional intruder passphrase")


@pytest.fixture
def with_reader(session_factory, new_db: Path) -> Path:
    session = session_factory()
    accounts.add_account(session, READER.user, Role.READ_ONLY, READER.passphrase, kdf_cost=FAST_KDF)
    session.close()
    return new_db


def plant_slot_and_unlock(db: Path, creds: Credentials, key: bytes) -> None:
    """Give `creds` a key slot of the database key, as anyone holding it can, and try it."""
    slot = keyslots.make_slot(creds.user, creds.passphrase, key, FAST_KDF)
    keyslots.update_slots(keyslots.keys_path(db), lambda slots: keyslots.replace_slot(slots, slot))
    with pytest.raises(AccessError, match="added outside the console"):
        open_session(db, Config(), creds, clock=lambda: NOW)


def test_a_role_raised_in_the_table_unlocks_as_the_role_granted(with_reader, cli_env, capsys):
    key = database_key(with_reader, READER.user, READER.passphrase)  # the reader's own key
    conn = raw_connect(with_reader, key)
    conn.execute("UPDATE user SET role = 'dsl' WHERE name = ?", (READER.user,))
    conn.close()
    session = open_session(with_reader, Config(), READER, clock=lambda: NOW)
    try:
        assert session.role == Role.READ_ONLY and not session.can_write
        assert "changed outside the console" in session.account_notice
        with pytest.raises(AccessError, match="only a DSL"):
            accounts.add_account(
                session, MALLORY.user, Role.DSL, MALLORY.passphrase, kdf_cost=FAST_KDF
            )
    finally:
        session.close()
    code, out = audit_verify(capsys)
    assert code == 1
    assert f"account {READER.user}'s role was changed outside the console" in out


def test_an_account_inserted_directly_cannot_unlock(with_reader, cli_env, capsys):
    key = database_key(with_reader, READER.user, READER.passphrase)
    conn = raw_connect(with_reader, key)
    conn.execute(
        "INSERT INTO user (name, role, created_at) VALUES (?, 'dsl', '2026-11-20 09:00:00.000000')",
        (MALLORY.user,),
    )
    conn.close()
    plant_slot_and_unlock(with_reader, MALLORY, key)
    code, out = audit_verify(capsys)
    assert code == 1 and f"account {MALLORY.user} was added outside the console" in out


def test_a_grant_appended_by_a_reader_in_their_own_name_grants_nothing(
    with_reader, cli_env, capsys
):
    # The reader writes a correctly chained "account-added" entry, the row and a key slot:
    # the chain is intact, but a read-only account never could grant an account.
    key = database_key(with_reader, READER.user, READER.passphrase)
    session = open_session(with_reader, Config(), READER, clock=lambda: NOW)
    try:
        with session.db.connection_context(), session.db.atomic():
            audit.record(NOW, READER.user, "account-added", detail=f"{MALLORY.user} (dsl)")
            session.db.execute_sql(
                "INSERT INTO user (name, role, created_at) VALUES (?, 'dsl', ?)",
                (MALLORY.user, "2026-11-20 09:00:00.000000"),
            )
    finally:
        session.close()
    plant_slot_and_unlock(with_reader, MALLORY, key)
    code, out = audit_verify(capsys)
    assert code == 1
    assert f"{READER.user} was not a DSL then, and could not add an account" in out


def test_a_dsl_demoted_in_the_table_keeps_the_role_granted(with_reader, credentials):
    key = database_key(with_reader)
    conn = raw_connect(with_reader, key)
    conn.execute("UPDATE user SET role = 'read-only' WHERE name = ?", (credentials.user,))
    conn.close()
    session = open_session(with_reader, Config(), credentials, clock=lambda: NOW)
    try:
        assert session.role == Role.DSL
        assert "you are unlocked as dsl" in session.account_notice
    finally:
        session.close()


def test_accounts_managed_in_the_console_verify_intact(
    with_reader, session_factory, cli_env, capsys
):
    session = session_factory()
    accounts.add_account(session, MALLORY.user, Role.DEPUTY, MALLORY.passphrase, kdf_cost=FAST_KDF)
    accounts.remove_account(session, READER.user)
    session.close()
    deputy = open_session(with_reader, Config(), MALLORY, clock=lambda: NOW)
    try:
        assert deputy.role == Role.DEPUTY and deputy.account_notice == ""
    finally:
        deputy.close()
    code, out = audit_verify(capsys)
    assert code == 0, out
