"""Accounts: adding, removing a user or changing a passphrase rewrites key slots only (the same
database key throughout), is DSL-only where it should be, and is audited without passphrases."""

from __future__ import annotations

import argparse
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from dsl_console import prompts
from dsl_console.commands import user_action
from dsl_console.config import Config
from dsl_console.errors import AccessError, InputError
from dsl_console.services import accounts
from dsl_console.services.session import Credentials, open_session
from dsl_console.store import audit, keyslots
from dsl_console.store.cases import load_case
from dsl_console.store.users import Role
from tests.conftest import FAST_KDF, NOW, PASSPHRASE, USER
from tests.security.conftest import add_fictional_cases, database_key, raw_connect

DEPUTY = Credentials("pat.deputy", "fictional deputy passphrase")
READER = Credentials("sam.reader", "fictional reader passphrase")


def unlocks(db: Path, creds: Credentials) -> bool:
    try:
        open_session(db, Config(), creds, clock=lambda: NOW).close()
    except AccessError:
        return False
    return True


def args(action: str, name: str | None = None, role: str = "deputy") -> argparse.Namespace:
    return argparse.Namespace(action=action, name=name, role=role)


def test_adding_changing_and_removing_never_re_encrypts(session_factory, new_db: Path) -> None:
    key = database_key(new_db)
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001")
    before = load_case("SCH-2026-001")
    salt = new_db.read_bytes()[:16]  # SQLCipher's per-file salt: a rekey or rebuild changes it

    accounts.add_account(session, DEPUTY.user, Role.DEPUTY, DEPUTY.passphrase, kdf_cost=FAST_KDF)
    accounts.change_passphrase(
        session, DEPUTY.user, "fictional second passphrase", kdf_cost=FAST_KDF
    )
    accounts.add_account(session, READER.user, Role.READ_ONLY, READER.passphrase, kdf_cost=FAST_KDF)
    accounts.remove_account(session, READER.user)
    assert load_case("SCH-2026-001") == before
    session.close()

    slots = keyslots.read_slots(keyslots.keys_path(new_db))
    assert keyslots.unwrap(slots, USER, PASSPHRASE) == key  # the old DSL's slot is untouched
    assert keyslots.unwrap(slots, DEPUTY.user, "fictional second passphrase") == key
    assert new_db.read_bytes()[:16] == salt
    conn = raw_connect(new_db, key)  # the original key still opens the file
    assert conn.execute("SELECT count(*) FROM escalation").fetchone() == (1,)
    conn.close()

    assert unlocks(new_db, Credentials(USER, PASSPHRASE))
    assert unlocks(new_db, Credentials(DEPUTY.user, "fictional second passphrase"))
    assert not unlocks(new_db, DEPUTY)  # the old passphrase stopped working
    assert not unlocks(new_db, READER)  # removed
    assert READER.user not in keyslots.slot_users(slots)


def test_each_change_is_audited_without_a_passphrase(session_factory) -> None:
    session = session_factory()
    accounts.add_account(session, DEPUTY.user, Role.DEPUTY, DEPUTY.passphrase, kdf_cost=FAST_KDF)
    accounts.change_passphrase(
        session, DEPUTY.user, "fictional second passphrase", kdf_cost=FAST_KDF
    )
    accounts.remove_account(session, DEPUTY.user)
    entries = list(audit.lines(limit=100))
    # A grant names the signing key it gives (a public key, hex), never a passphrase.
    actions = [(e.user, e.action, e.detail.split(" signing key ")[0]) for e in entries[:3]]
    assert actions == [
        (USER, "account-removed", DEPUTY.user),
        (USER, "passphrase-changed", DEPUTY.user),
        (USER, "account-added", f"{DEPUTY.user} (deputy)"),
    ]
    added, changed = entries[2].detail.split()[-1], entries[1].detail.split()[-1]
    assert len(added) == len(changed) == 64 and added != changed  # a new passphrase, a new key
    text = repr(entries)
    for secret in (PASSPHRASE, DEPUTY.passphrase, "fictional second passphrase"):
        assert secret not in text
    assert audit.verify()[1] is None


def test_only_a_dsl_manages_accounts(session_factory, new_db: Path) -> None:
    dsl = session_factory()
    accounts.add_account(dsl, DEPUTY.user, Role.DEPUTY, DEPUTY.passphrase, kdf_cost=FAST_KDF)
    accounts.add_account(dsl, READER.user, Role.READ_ONLY, READER.passphrase, kdf_cost=FAST_KDF)
    dsl.close()
    keys_before = keyslots.keys_path(new_db).read_bytes()
    for creds in (DEPUTY, READER):
        session = open_session(new_db, Config(), creds, clock=lambda: NOW)
        try:
            with pytest.raises(AccessError, match="only a DSL"):
                accounts.add_account(
                    session, "new.person", Role.DSL, "fictional new passphrase", kdf_cost=FAST_KDF
                )
            with pytest.raises(AccessError, match="only a DSL"):
                accounts.remove_account(session, USER)
            with pytest.raises(AccessError, match="only a DSL"):
                accounts.change_passphrase(session, USER, "fictional taken over", kdf_cost=FAST_KDF)
        finally:
            session.close()
    assert keyslots.keys_path(new_db).read_bytes() == keys_before


def test_anyone_may_change_their_own_passphrase(session_factory, new_db: Path) -> None:
    dsl = session_factory()
    accounts.add_account(dsl, READER.user, Role.READ_ONLY, READER.passphrase, kdf_cost=FAST_KDF)
    dsl.close()
    session = open_session(new_db, Config(), READER, clock=lambda: NOW)
    try:
        accounts.change_passphrase(
            session, READER.user, "fictional reader renewed", kdf_cost=FAST_KDF
        )
    finally:
        session.close()
    assert unlocks(new_db, Credentials(READER.user, "fictional reader renewed"))
    assert not unlocks(new_db, READER)


def test_the_last_dsl_cannot_be_removed(session_factory) -> None:
    session = session_factory()
    with pytest.raises(AccessError, match="last DSL"):
        accounts.remove_account(session, USER)
    accounts.add_account(session, "kim.second", Role.DSL, "fictional second dsl", kdf_cost=FAST_KDF)
    accounts.remove_account(session, USER)  # now there is another DSL
    assert [a.name for a in accounts.list_accounts(session)] == ["kim.second"]


def test_weak_duplicate_or_unknown_is_refused_before_any_change(
    session_factory, new_db: Path
) -> None:
    session = session_factory()
    keys_before = keyslots.keys_path(new_db).read_bytes()
    with pytest.raises(InputError, match="passphrase"):
        accounts.add_account(session, DEPUTY.user, Role.DEPUTY, "short", kdf_cost=FAST_KDF)
    with pytest.raises(InputError, match="already exists"):
        accounts.add_account(session, USER, Role.DEPUTY, DEPUTY.passphrase, kdf_cost=FAST_KDF)
    with pytest.raises(InputError, match="no user"):
        accounts.remove_account(session, "nobody.here")
    with pytest.raises(InputError, match="no user"):
        accounts.change_passphrase(session, "nobody.here", DEPUTY.passphrase, kdf_cost=FAST_KDF)
    assert keyslots.keys_path(new_db).read_bytes() == keys_before


def test_run_takes_the_new_passphrase_from_the_environment(
    session_factory, new_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = session_factory()
    with pytest.raises(AccessError, match="DSL_CONSOLE_NEW_PASSPHRASE"):
        user_action(session, args("add", DEPUTY.user), kdf_cost=FAST_KDF)
    monkeypatch.setenv(prompts.ENV_NEW_PASSPHRASE, DEPUTY.passphrase)
    message = user_action(session, args("add", DEPUTY.user), kdf_cost=FAST_KDF)
    assert message.startswith(f"added {DEPUTY.user} (Deputy DSL)")
    listing = user_action(session, args("list"))
    header, *rows = listing.splitlines()
    assert header.split() == ["User", "Role", "Since", "Notes", "Who"]
    assert any(row.split()[0] == USER and row.endswith("you") for row in rows)
    assert any(row.split()[0] == DEPUTY.user and "Deputy DSL" in row for row in rows)
    assert DEPUTY.passphrase not in message + listing
    session.close()
    assert unlocks(new_db, DEPUTY)


def test_the_terminal_asks_twice_and_refuses_a_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["fictional first answer", "fictional other answer"])
    monkeypatch.setattr(prompts, "getpass", lambda prompt: next(answers))
    with pytest.raises(InputError, match="differ"):
        prompts.new_passphrase("pat.deputy", interactive=True)
    answers = iter(["fictional same answer", "fictional same answer"])
    assert prompts.new_passphrase("pat.deputy", interactive=True) == "fictional same answer"


def test_a_name_typed_as_passphrase_is_not_kept(session_factory, new_db: Path) -> None:
    # People type their passphrase into the name field: it must not reach the key file or audit.
    with pytest.raises(AccessError):
        open_session(new_db, Config(), Credentials(PASSPHRASE, PASSPHRASE), clock=lambda: NOW)
    with pytest.raises(AccessError):
        open_session(new_db, Config(), Credentials(USER, "not it at all"), clock=lambda: NOW)
    assert PASSPHRASE not in keyslots.keys_path(new_db).read_text(encoding="utf-8")
    session = session_factory(NOW + timedelta(minutes=5))
    failed = [e for e in audit.lines(limit=10) if e.action == "login-failed"]
    assert sorted(e.user for e in failed) == ["(unknown name)", USER]
    assert "failures" not in keyslots.keys_path(new_db).read_text(encoding="utf-8")
    session.close()


def test_slot_changes_and_failure_notes_do_not_lose_each_other(
    session_factory, new_db: Path
) -> None:
    # A failed unlock noted by another process while a DSL adds an account must not drop the
    # new slot (both rewrite the key file).
    session = session_factory()
    keys = keyslots.keys_path(new_db)
    stop = threading.Event()

    def guesser() -> None:
        while not stop.is_set():
            keyslots.note_failure(keys, USER, NOW)

    thread = threading.Thread(target=guesser)
    thread.start()
    try:
        for i in range(5):
            accounts.add_account(
                session, f"user.{i}", Role.DEPUTY, f"fictional passphrase {i}", kdf_cost=FAST_KDF
            )
    finally:
        stop.set()
        thread.join()
    session.close()
    users_with_slots = keyslots.slot_users(keyslots.read_slots(keys))
    assert {f"user.{i}" for i in range(5)} <= set(users_with_slots)


def test_the_session_key_is_wiped_on_close(session_factory, new_db: Path) -> None:
    session = session_factory()
    assert session.database_key == database_key(new_db)
    session.close()
    with pytest.raises(AccessError, match="locked"):
        _ = session.database_key
