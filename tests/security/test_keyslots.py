"""Key slots: a wrong name costs the same work as a wrong passphrase; slots cannot be swapped
between users; a missing or damaged key file is named, not mistaken for a wrong passphrase."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsl_console.config import Config
from dsl_console.errors import AccessError, StoreError
from dsl_console.services.session import Credentials, open_session
from dsl_console.store import keyslots
from tests.conftest import FAST_KDF, NOW, PASSPHRASE, USER


def test_an_unknown_name_costs_a_key_derivation_too(monkeypatch: pytest.MonkeyPatch) -> None:
    key = keyslots.new_database_key()
    slots = [keyslots.make_slot(USER, PASSPHRASE, key, FAST_KDF)]
    calls: list[keyslots.KdfCost] = []
    real = keyslots._derive
    monkeypatch.setattr(keyslots, "_derive", lambda p, s, c: calls.append(c) or real(p, s, c))
    for name, passphrase in ((USER, "wrong passphrase"), ("nobody.known", PASSPHRASE)):
        with pytest.raises(AccessError, match="wrong user name or passphrase"):
            keyslots.unwrap(slots, name, passphrase)
    assert calls == [FAST_KDF, FAST_KDF]  # the same work either way: timing tells nothing


def test_a_slot_renamed_to_another_user_does_not_open() -> None:
    key = keyslots.new_database_key()
    slot = keyslots.make_slot("sam.reader", "fictional reader passphrase", key, FAST_KDF)
    swapped = {**slot, "user": USER}  # the name is bound into the encryption
    with pytest.raises(AccessError):
        keyslots.unwrap([swapped], USER, "fictional reader passphrase")


def test_a_missing_or_damaged_key_file_is_named(new_db: Path) -> None:
    keys = keyslots.keys_path(new_db)
    good = keys.read_bytes()
    keys.write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError, match=r"key file .* is damaged"):
        open_session(new_db, Config(), Credentials(USER, PASSPHRASE), clock=lambda: NOW)
    keys.unlink()
    with pytest.raises(StoreError, match=r"key file .* is missing"):
        open_session(new_db, Config(), Credentials(USER, PASSPHRASE), clock=lambda: NOW)
    keys.write_bytes(good)
    open_session(new_db, Config(), Credentials(USER, PASSPHRASE), clock=lambda: NOW).close()


def test_failure_notes_are_bounded(new_db: Path) -> None:
    keys = keyslots.keys_path(new_db)
    doc = json.loads(keys.read_text(encoding="utf-8"))
    doc["failures"] = [{"user": USER, "at": NOW.isoformat()}] * 998  # a flood of guesses
    keys.write_text(json.dumps(doc), encoding="utf-8")
    for _ in range(5):
        keyslots.note_failure(keys, USER, NOW)
    assert len(keyslots.pending_failures(keys, NOW).notes) == 1000
    assert keyslots.unwrap(keyslots.read_slots(keys), USER, PASSPHRASE)  # slots intact
