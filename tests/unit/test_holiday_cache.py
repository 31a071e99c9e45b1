"""The bank holidays' copy in the user's cache folder: the library's days exactly, private,
rebuilt whenever it is not the copy the console wrote for the installed library."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import date, time

import pytest

from dsl_console import holiday_cache
from dsl_console.config import Config
from dsl_console.core.calendar import NATIONS, calendar_from, library_holidays
from dsl_console.paths import cache_dir


@pytest.fixture(autouse=True)
def fresh_copy():
    """Each test reads its own (private home's) cache folder, not a copy kept in memory."""
    holiday_cache._every_nation.cache_clear()
    yield
    holiday_cache._every_nation.cache_clear()


def copy_path():
    return cache_dir() / holiday_cache.FILE_NAME


def test_the_copy_gives_the_librarys_days_and_names_for_every_nation():
    for nation in NATIONS:
        assert dict(holiday_cache.bank_holidays(nation)) == library_holidays(nation)
    holiday_cache._every_nation.cache_clear()  # now read back from the file
    for nation in NATIONS:
        assert dict(holiday_cache.bank_holidays(nation)) == library_holidays(nation)
    calendar = Config(nation="SCT").calendar()
    assert calendar.why_not_working(date(2026, 1, 2)) == "New Year Holiday, a bank holiday"
    assert calendar.fingerprint() == calendar_from("SCT", time(17, 0), ()).fingerprint()


def test_the_copy_is_private_to_the_user():
    holiday_cache.bank_holidays("ENG")
    path = copy_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # No working file is left beside it.
    assert [p.name for p in path.parent.iterdir()] == [holiday_cache.FILE_NAME]


def test_a_second_start_reads_the_copy_without_the_library(private_home):
    # What the copy is for: a command's start-up no longer imports the holidays library
    # (0.15 s). The first start writes it; the second does not import the library at all.
    probe = (
        "import sys\n"
        "from dsl_console.config import Config\n"
        "calendar = Config().calendar()\n"
        "assert not calendar.is_working_day(__import__('datetime').date(2026, 12, 25))\n"
        "print('holidays' in sys.modules)\n"
    )
    env = {**os.environ, "HOME": str(private_home)}
    env.pop("XDG_CACHE_HOME", None)
    runs = [
        subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs == ["True", "False"]


@pytest.mark.parametrize(
    "damage",
    [
        "another library",
        "a name with a control sequence",
        "a day moved out of range",
        "cut short",
        "not json",
        "a day removed and the key kept",
    ],
)
def test_a_copy_that_is_not_the_consoles_own_is_rebuilt(damage):
    holiday_cache.bank_holidays("ENG")
    path = copy_path()
    doc = json.loads(path.read_text(encoding="utf-8"))
    eng = doc["nations"]["ENG"]
    if damage == "another library":
        doc["key"] = "somewhere else|2000-2060"
        eng.append(["2026-11-16", "Planted holiday"])
    elif damage == "a name with a control sequence":
        eng[0][1] = "New Year\x1b]0;owned\x07"
    elif damage == "a day moved out of range":
        eng[0][0] = "1899-01-01"
    text = json.dumps(doc)
    if damage == "cut short":
        text = text[: len(text) // 2]
    elif damage == "not json":
        text = "\x00" * 100
    elif damage == "a day removed and the key kept":
        # Written with the right key, which anyone who can write this user's files can: the
        # copy is trusted as config.toml is (README), and its days are what the fingerprint
        # of cached states follows. It is still read as the user's own.
        doc["nations"]["ENG"] = [d for d in eng if d[0] != "2026-12-25"]
        text = json.dumps(doc)
    path.write_text(text, encoding="utf-8")
    holiday_cache._every_nation.cache_clear()
    days = holiday_cache.bank_holidays("ENG")
    if damage == "a day removed and the key kept":
        assert date(2026, 12, 25) not in days
        calendar = calendar_from("ENG", time(17, 0), (), holiday_cache.bank_holidays)
        assert calendar.fingerprint() != calendar_from("ENG", time(17, 0), ()).fingerprint()
        return
    assert dict(days) == library_holidays("ENG")
    assert date(2026, 11, 16) not in days
    # And the copy on disk is the library's again.
    rewritten = json.loads(path.read_text(encoding="utf-8"))
    assert rewritten["key"] == holiday_cache.library_key()
    assert all(name.isprintable() for _, name in rewritten["nations"]["ENG"])


def test_a_cache_folder_that_cannot_be_written_only_costs_time(private_home, monkeypatch):
    blocked = private_home / "blocked"
    blocked.write_text("a file where the cache folder would be", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert dict(holiday_cache.bank_holidays("WLS")) == library_holidays("WLS")
    assert Config(nation="WLS").calendar().is_working_day(date(2026, 12, 24))


def test_a_planted_link_in_place_of_the_copy_is_replaced_not_followed(private_home):
    target = private_home / "someone-elses-file"
    target.write_text("untouched", encoding="utf-8")
    folder = cache_dir()
    folder.mkdir(parents=True, mode=0o700)
    copy_path().symlink_to(target)
    holiday_cache.bank_holidays("ENG")
    assert target.read_text(encoding="utf-8") == "untouched"
    assert not copy_path().is_symlink()


def test_a_working_copy_left_by_a_killed_process_is_removed_at_the_next_write(private_home):
    folder = cache_dir()
    folder.mkdir(parents=True, mode=0o700)
    left = folder / f".{holiday_cache.FILE_NAME}.k1ll3d"
    left.write_text('{"format": 1, "nations": {"ENG": [["2026-', encoding="utf-8")
    old = left.stat().st_mtime - holiday_cache.ABANDONED_AFTER_SECONDS - 5
    os.utime(left, (old, old))
    being_written = folder / f".{holiday_cache.FILE_NAME}.n0w"  # another process, just now
    being_written.write_text("{", encoding="utf-8")
    holiday_cache.bank_holidays("ENG")
    assert not left.exists() and being_written.exists()
    assert copy_path().exists()
