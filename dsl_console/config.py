"""The config file (contract section 5): load, validate, defaults. Every key is optional."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from dsl_console.core.calendar import NATIONS, WorkingCalendar, calendar_from
from dsl_console.errors import InputError
from dsl_console.holiday_cache import bank_holidays

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Config:
    """The school's settings."""

    school: str = ""
    procedure: str = "liverpool"
    nation: str = "ENG"
    end_of_working_day: time = time(17, 0)
    closure_days: tuple[date, ...] = ()
    scan_seconds: int = 60
    lock_minutes: int = 5
    # Server mode (README: the DSL team): the folder of each DSL's export outbox, one folder
    # per OS login beneath it. None: exports go where the user says.
    outbox: Path | None = None
    source: Path | None = field(default=None, compare=False)

    def calendar(self) -> WorkingCalendar:
        """The working-day calendar these settings describe."""
        return calendar_from(
            self.nation, self.end_of_working_day, self.closure_days, holidays=bank_holidays
        )

    @property
    def procedures_dir(self) -> Path | None:
        """The folder of user-added procedures: procedures/ beside the config file."""
        return None if self.source is None else self.source.parent / "procedures"


def _bad(key: str, why: str) -> InputError:
    return InputError(f"config: {key} {why}")


# Every key config.toml may hold (the README's configuration section describes each).
SETTINGS = (
    "school",
    "procedure",
    "nation",
    "end_of_working_day",
    "closure_days",
    "scan_seconds",
    "lock_minutes",
    "outbox",
)


def parse_config(doc: dict[str, object], source: Path | None = None) -> Config:
    """Validate a parsed config document; an unknown key or a bad value names the key."""
    for key in doc:
        if key not in SETTINGS:
            raise _bad(key, "is not a known setting")
    values: dict[str, object] = {}
    if "school" in doc:
        school = doc["school"]
        if not isinstance(school, str) or len(school) > 200:
            raise _bad("school", "must be text of at most 200 characters")
        values["school"] = school
    if "procedure" in doc:
        proc = doc["procedure"]
        if not isinstance(proc, str) or not proc:
            raise _bad("procedure", 'must be a procedure id such as "liverpool"')
        values["procedure"] = proc
    if "nation" in doc:
        nation = doc["nation"]
        if nation not in NATIONS:
            raise _bad("nation", f"must be one of {', '.join(NATIONS)}")
        values["nation"] = nation
    if "end_of_working_day" in doc:
        raw = doc["end_of_working_day"]
        if isinstance(raw, time):
            values["end_of_working_day"] = raw.replace(second=0, microsecond=0)
        elif isinstance(raw, str) and (m := _HHMM.match(raw)):
            values["end_of_working_day"] = time(int(m.group(1)), int(m.group(2)))
        else:
            raise _bad("end_of_working_day", 'must be a time such as "17:00"')
    if "closure_days" in doc:
        raw_days = doc["closure_days"]
        if not isinstance(raw_days, list):
            raise _bad("closure_days", 'must be a list of dates such as ["2026-12-24"]')
        days: list[date] = []
        for item in raw_days:
            if isinstance(item, date):
                days.append(item)
                continue
            try:
                days.append(date.fromisoformat(item) if isinstance(item, str) else None)  # type: ignore[arg-type]
            except (ValueError, TypeError):
                raise _bad(
                    "closure_days", f"has {item!r}, which is not a date YYYY-MM-DD"
                ) from None
            if days[-1] is None:
                raise _bad("closure_days", f"has {item!r}, which is not a date YYYY-MM-DD")
        values["closure_days"] = tuple(sorted(set(days)))
    for key, low, high in (("scan_seconds", 1, 86400), ("lock_minutes", 1, 1440)):
        if key in doc:
            raw_n = doc[key]
            if not isinstance(raw_n, int) or isinstance(raw_n, bool) or not low <= raw_n <= high:
                raise _bad(key, f"must be a whole number from {low} to {high}")
            values[key] = raw_n
    if "outbox" in doc:
        raw_outbox = doc["outbox"]
        if not isinstance(raw_outbox, str) or not Path(raw_outbox).is_absolute():
            raise _bad(
                "outbox", 'must be the full path of a folder, such as "/srv/dsl-console/outbox"'
            )
        values["outbox"] = Path(raw_outbox)
    return Config(source=source, **values)  # type: ignore[arg-type]


def load_config(path: Path, *, must_exist: bool) -> Config:
    """Read the config file; a missing default file gives the defaults."""
    if not path.exists():
        if must_exist:
            raise InputError(f"config: {path} does not exist")
        return Config(source=path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise InputError(f"config: {path} cannot be read") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"config: {path.name} is not valid TOML ({exc})") from None
    return parse_config(doc, path)
