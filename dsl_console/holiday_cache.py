"""The UK's bank holidays as the holidays library gives them, kept as a copy in the user's cache
folder.

Importing the library and building a nation's holidays takes about 0.15 s (its country package
imports every country it knows), a sixth of the console's first paint and the same again for
every command. The dates of every nation, FIRST_YEAR to LAST_YEAR with their names, are
written once for each installed copy of the library and read back in a millisecond.

The copy is never the authority: it is keyed by the library's installed files (an upgrade
changes them, so the dates are built again), a copy that does not read back exactly as written
is rebuilt, and when the folder cannot be written the library is asked directly. Cached case
states are keyed by a digest of the days themselves (WorkingCalendar.fingerprint), so they
follow whichever days the calendar has. The file is trusted as config.toml is: both are the
user's own, private, and both can move a deadline.
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import tempfile
import time
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path

from dsl_console.core.calendar import FIRST_YEAR, LAST_YEAR, NATIONS, library_holidays
from dsl_console.paths import cache_dir, private_dir

FILE_NAME = "bank-holidays.json"
FORMAT = 1
# The library's files whose change means its dates may have changed.
_LIBRARY_FILES = ("version.py", "holiday_base.py", "countries/united_kingdom.py")
_MAX_BYTES = 256 * 1024
_MAX_NAME = 80
# A working copy this old was left by a process that was killed while writing it.
ABANDONED_AFTER_SECONDS = 60


def bank_holidays(nation: str) -> Mapping[date, str]:
    """A UK nation's bank holidays by date, with their names (a calendar's HolidaySource)."""
    copied = _every_nation().get(nation)
    return copied if copied is not None else library_holidays(nation)


@lru_cache(maxsize=1)
def _every_nation() -> dict[str, dict[date, str]]:
    key = library_key()
    if key is None:
        return {}
    path = cache_dir() / FILE_NAME
    copied = _read(path, key)
    if copied is not None:
        return copied
    built = {nation: library_holidays(nation) for nation in NATIONS}
    _write(path, key, built)
    return built


def library_key() -> str | None:
    """What identifies the installed holidays library, read from its files without importing
    it; None if it cannot be found (the library is then asked each time)."""
    spec = importlib.util.find_spec("holidays")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent
    parts = [str(folder), f"{FIRST_YEAR}-{LAST_YEAR}"]
    try:
        for name in _LIBRARY_FILES:
            info = (folder / name).stat()
            parts.append(f"{name}:{info.st_mtime_ns}:{info.st_size}")
    except OSError:
        return None
    return "|".join(parts)


def _read(path: Path, key: str) -> dict[str, dict[date, str]] | None:
    """The copy at `path` if it was made for `key` and reads back whole; else None."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_BYTES + 1)
        if len(raw) > _MAX_BYTES:
            return None
        doc = json.loads(raw)
        if doc.get("format") != FORMAT or doc.get("key") != key:
            return None
        found: dict[str, dict[date, str]] = {}
        for nation in NATIONS:
            days: dict[date, str] = {}
            for text, name in doc["nations"][nation]:
                day = date.fromisoformat(text)
                if not (FIRST_YEAR <= day.year <= LAST_YEAR and _plain(name)):
                    return None
                days[day] = name
            found[nation] = days
        return found
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _plain(name: object) -> bool:
    # A holiday's name is shown in the console and in messages: short, printable text only.
    return isinstance(name, str) and 0 < len(name) <= _MAX_NAME and name.isprintable()


def _write(path: Path, key: str, built: dict[str, dict[date, str]]) -> None:
    """Write the copy whole or not at all; a folder that cannot be written is no error."""
    doc = {
        "format": FORMAT,
        "key": key,
        "nations": {
            nation: [[day.isoformat(), name] for day, name in sorted(days.items())]
            for nation, days in built.items()
        },
    }
    try:
        folder = private_dir(path.parent)
        _remove_abandoned(folder)
        handle, temporary = tempfile.mkstemp(prefix=f".{FILE_NAME}.", dir=folder)
    except OSError:
        return
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(doc, out, ensure_ascii=True)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)


def _remove_abandoned(folder: Path) -> None:
    """Working copies a killed process left (never a link, never one still being written)."""
    now = time.time()
    for leftover in folder.glob(f".{FILE_NAME}.*"):
        try:
            info = leftover.lstat()
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > ABANDONED_AFTER_SECONDS:
                leftover.unlink()
        except OSError:
            continue
