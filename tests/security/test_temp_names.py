"""Temporary files beside the key file, a backup and a restore are created under names nobody
can guess, exclusively: links planted in a shared folder under the names they once had (the
process id after a fixed suffix) are never written through."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from dsl_console.services.backups import make_backup
from dsl_console.store import keyslots
from tests.conftest import NOW
from tests.security.conftest import add_fictional_cases


def test_links_planted_under_the_old_temporary_names_are_never_followed(
    session_factory, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    victim = tmp_path / "someone-elses-file"
    victim.write_text("precious", encoding="utf-8")
    pid = os.getpid()
    planted = [
        shared / f"b.db.keys.tmp{pid}",
        shared / f".b.db.partial-{pid}",
    ]
    for link in planted:
        link.symlink_to(victim)
    session = session_factory()
    add_fictional_cases(session, "SCH-2026-001")
    out = make_backup(session, shared / "b.db")
    session.close()
    assert victim.read_text(encoding="utf-8") == "precious"
    assert all(link.is_symlink() for link in planted)  # left as they were, not replaced
    for path in (out, keyslots.keys_path(out)):
        assert not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) == 0o600
    # Nothing of ours is left behind under a temporary name.
    leftovers = {p.name for p in shared.iterdir()} - {"b.db", "b.db.keys"}
    assert leftovers == {link.name for link in planted}


def test_a_key_file_update_leaves_no_temporary_file_and_keeps_its_mode(new_db: Path) -> None:
    keys = keyslots.keys_path(new_db)
    keyslots.note_failure(keys, "someone", NOW)
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert [p.name for p in new_db.parent.iterdir() if ".tmp" in p.name] == []
