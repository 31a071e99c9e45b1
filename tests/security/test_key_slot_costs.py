"""A key slot's Argon2id settings come from the key file, which anyone who can write it may
change: too weak a setting is refused (a copied key file would be cheap to guess against), as
is one costly enough to hang every unlock, and a malformed slot gives one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsl_console.config import Config
from dsl_console.errors import StoreError
from dsl_console.services.session import Credentials, open_session
from dsl_console.store.keyslots import keys_path
from tests.conftest import PASSPHRASE, USER


def plant(db: Path, **kdf: object) -> None:
    path = keys_path(db)
    doc = json.loads(path.read_text())
    doc["slots"][0]["kdf"].update(kdf)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    "kdf",
    [
        {"time_cost": 1, "memory_kib": 8},  # 8 KiB: a guess costs nothing
        {"time_cost": 1, "memory_kib": 8192},  # below the least work
        {"time_cost": 2**31 - 1},  # hangs every unlock
        {"memory_kib": 4 * 1024 * 1024},  # 4 GiB
        {"parallelism": 0},
        {"time_cost": "3"},
        {"memory_kib": None},
        {"time_cost": True},
    ],
)
def test_a_slot_outside_the_safe_range_is_refused_at_once(new_db, kdf):
    plant(new_db, **kdf)
    # Refused before any key is derived (were it derived, t=2^31-1 would hang the test until
    # its timeout), for an unknown name too.
    for user in (USER, "nobody.here"):
        with pytest.raises(StoreError, match="key file"):
            open_session(new_db, Config(), Credentials(user, PASSPHRASE))


@pytest.mark.parametrize("slots", [[1, 2], ["jo"], [{"user": 5}], [None]])
def test_a_malformed_slot_gives_one_line(new_db, slots):
    path = keys_path(new_db)
    doc = json.loads(path.read_text())
    doc["slots"] = slots
    path.write_text(json.dumps(doc))
    with pytest.raises(StoreError, match="damaged"):
        open_session(new_db, Config(), Credentials(USER, PASSPHRASE))
