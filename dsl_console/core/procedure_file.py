"""Reading a procedure file (contract section 2.1 and 2.2): every key checked at every level.

An unknown key, a value of the wrong type or a number out of range is an error naming the file
and the key's path, e.g. `mine.toml: stages[1].timescale.unit: must be one of ...`, so that a
policy written down wrongly is never silently read another way.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dsl_console.core.procedures import (
    AGENCY_PREFIX,
    ALWAYS,
    CP_PLAN_OR_LOOKED_AFTER,
    DEADLINE_SET_RULES,
    IMMEDIATE_RISK,
    LAPSES,
    PARTIES,
    RESOLUTION,
    RULES,
    SCHOOL,
    UNITS,
    Discharge,
    Duty,
    Procedure,
    Stage,
    Timescale,
)
from dsl_console.core.records import AGENCY_KINDS, EventKind
from dsl_console.core.terminal_text import CONTROL
from dsl_console.errors import InputError

_ID = re.compile(r"^[a-z0-9-]+$")
MAX_DAYS, MAX_HOURS = 365, 720
MAX_STAGES, MAX_DUTIES = 20, 50
MAX_TEXT = 2_000
KINDS = tuple(k.value for k in EventKind)

_TOP = ("id", "name", "partnership", "version", "effective", "source", "deadline_set")
_TOP_TABLES = ("stages", "duties")
_STAGE = ("number", "name", "short", "holder", "optional", "timescale")
_TIMESCALE = ("rule", "days", "unit", "from")
_DUTY = ("id", "what", "party", "at", "when", "due", "done_by", "lapses", "soft")
_DONE_BY = ("kind", "whom", "form", "stage")


class _Reader:
    """Typed access to one table of the file, with the path of each key for errors."""

    def __init__(self, source: str, table: object, path: str, allowed: tuple[str, ...]) -> None:
        self.source, self.path = source, path
        if not isinstance(table, dict):
            raise self.error("", "must be a table")
        self.table: dict[str, Any] = table
        for key in table:
            if key not in allowed:
                raise self.error(key, f"is not a known key (known here: {', '.join(allowed)})")

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path and key else (self.path or key)

    def error(self, key: str, why: str) -> InputError:
        return InputError(f"{self.source}: {self.where(key)}: {why}")

    def has(self, key: str) -> bool:
        return key in self.table

    def text(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if value is None:
            raise self.error(key, "is required")
        if not isinstance(value, str):
            raise self.error(key, "must be a string")
        if len(value) > MAX_TEXT:
            raise self.error(key, f"is longer than {MAX_TEXT:,} characters")
        if CONTROL.search(value):
            raise self.error(key, "contains a control character")
        return value

    def ident(self, key: str, default: str | None = None) -> str:
        value = self.text(key, default)
        if not _ID.match(value):
            raise self.error(key, "must be lower-case letters, digits and dashes")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}")
        return value

    def flag(self, key: str) -> bool:
        value = self.table.get(key, False)
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def number(self, key: str, low: int, high: int) -> int:
        value = self.table.get(key)
        if value is None:
            raise self.error(key, "is required")
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, "must be a whole number")
        if not low <= value <= high:
            raise self.error(key, f"must be from {low} to {high}")
        return value


def _timescale(reader: _Reader, *, duty: bool) -> Timescale:
    """A stage's timescale, or with duty=True a duty's due."""
    rules = ("within", "same-day") if duty else RULES
    rule = reader.choice("rule", rules, "" if duty else "none")
    unit = reader.choice("unit", UNITS, "working-days")
    counted = rule in ("by-day", "within")
    if counted:
        high = MAX_HOURS if unit == "hours" else MAX_DAYS
        days = reader.number("days", 1, high)
    elif reader.has("days"):
        raise reader.error("days", f"is not used with rule {rule!r}")
    else:
        days = 0
    if reader.has("unit") and unit != "working-days" and rule != "within":
        raise reader.error("unit", f"only rule 'within' counts in {unit}")
    anchors = ("arising", "opening", "entry") if duty else ("opening", "entry")
    default = "arising" if duty else "entry"
    if not duty and rule in ("by-day", "none", "chair") and reader.has("from"):
        raise reader.error("from", f"is not used with rule {rule!r}")
    raw_from = reader.text("from", default)
    events: tuple[str, ...] = ()
    if duty and raw_from.startswith("event:"):
        events = tuple(k.strip() for k in raw_from[len("event:") :].split(","))
        for kind in events:
            if kind not in KINDS:
                raise reader.error("from", f"{kind!r} is not a kind of event ({', '.join(KINDS)})")
        anchor = "event"
    elif raw_from in anchors:
        anchor = raw_from
    else:
        extra = ", event:KIND[,KIND...]" if duty else ""
        raise reader.error("from", f"must be one of {', '.join(anchors)}{extra}")
    return Timescale(rule=rule, days=days, unit=unit, anchor=anchor, events=events)  # type: ignore[arg-type]


def _stage(reader: _Reader) -> Stage:
    name = reader.text("name")
    if not name.strip():
        raise reader.error("name", "is required")
    ts = reader.table.get("timescale", {"rule": "none"})
    timescale = _timescale(
        _Reader(reader.source, ts, reader.where("timescale"), _TIMESCALE), duty=False
    )
    return Stage(
        number=reader.number("number", 1, MAX_STAGES),
        name=name,
        short=reader.text("short", name),
        holder=reader.text("holder", ""),
        optional=reader.flag("optional"),
        timescale=timescale,
    )


def _discharge(reader: _Reader, stages: int) -> Discharge:
    kind = reader.choice("kind", KINDS, "")
    for key, only in (("whom", EventKind.NOTIFIED), ("form", EventKind.NOTIFIED)):
        if reader.has(key) and kind != only:
            raise reader.error(key, f"is only used with kind '{only}'")
    if reader.has("stage") and kind != EventKind.ESCALATED:
        raise reader.error("stage", "is only used with kind 'escalated'")
    whom = reader.text("whom", "")
    if reader.has("whom") and not whom.strip():
        raise reader.error("whom", "must not be blank")
    form = reader.ident("form") if reader.has("form") else ""
    stage = reader.number("stage", 1, stages) if reader.has("stage") else None
    return Discharge(kind=kind, whom=whom.strip(), form=form, stage=stage)


def _duty(reader: _Reader, stages: int) -> Duty:
    duty_id = reader.ident("id")
    what = reader.text("what")
    if not what.strip():
        raise reader.error("what", "is required")
    raw_at = reader.table.get("at", 1)
    if raw_at == RESOLUTION:
        at: int | str = RESOLUTION
    elif not reader.has("at"):
        at = 1
    elif isinstance(raw_at, int) and not isinstance(raw_at, bool):
        at = reader.number("at", 1, stages)
    else:
        raise reader.error("at", f'must be a stage number (1 to {stages}) or "resolution"')
    when = reader.text("when", ALWAYS)
    if when.startswith(AGENCY_PREFIX):
        if when[len(AGENCY_PREFIX) :] not in AGENCY_KINDS:
            raise reader.error("when", f"the agency kind must be one of {', '.join(AGENCY_KINDS)}")
    elif when not in (ALWAYS, CP_PLAN_OR_LOOKED_AFTER, IMMEDIATE_RISK):
        raise reader.error(
            "when",
            f"must be one of {ALWAYS}, {CP_PLAN_OR_LOOKED_AFTER}, {IMMEDIATE_RISK}, agency:KIND",
        )
    due = None
    if reader.has("due"):
        due = _timescale(
            _Reader(reader.source, reader.table["due"], reader.where("due"), _TIMESCALE),
            duty=True,
        )
    raw_done = reader.table.get("done_by")
    if raw_done is None:
        raise reader.error("done_by", "is required (the event that discharges the duty)")
    tables = raw_done if isinstance(raw_done, list) else [raw_done]
    if not tables:
        raise reader.error("done_by", "must name at least one event")
    where = reader.where("done_by")
    done_by = tuple(
        _discharge(
            _Reader(
                reader.source, t, f"{where}[{i}]" if isinstance(raw_done, list) else where, _DONE_BY
            ),
            stages,
        )
        for i, t in enumerate(tables)
    )
    if at == RESOLUTION:
        lapses = reader.choice("lapses", ("never",), "never")
    else:
        lapses = reader.choice("lapses", LAPSES, "resolution")
    return Duty(
        id=duty_id,
        what=what,
        done_by=done_by,
        party=reader.choice("party", PARTIES, SCHOOL),
        at=at,
        when=when,
        due=due,
        lapses=lapses,
        soft=reader.flag("soft"),
    )


def _table_list(reader: _Reader, key: str, limit: int) -> list[object]:
    raw = reader.table.get(key, [])
    if not isinstance(raw, list):
        raise reader.error(key, f"must be an array of tables ([[{key}]])")
    if len(raw) > limit:
        raise reader.error(key, f"has more than {limit} entries")
    return raw


def parse_procedure(doc: dict[str, object], source: str) -> Procedure:
    """Build a procedure from a parsed TOML document, naming the file and key at fault."""
    top = _Reader(source, doc, "", _TOP + _TOP_TABLES)
    proc_id = top.ident("id")
    name, partnership, version = top.text("name"), top.text("partnership"), top.text("version")
    for key, value in (("name", name), ("partnership", partnership), ("version", version)):
        if not value.strip():
            raise top.error(key, "is required")
    effective = doc.get("effective")
    if not isinstance(effective, date) or isinstance(effective, datetime):
        raise top.error("effective", "is required, as a TOML date such as 2024-04-01")
    raw_stages = _table_list(top, "stages", MAX_STAGES)
    stages = [
        _stage(_Reader(source, raw, f"stages[{i}]", _STAGE)) for i, raw in enumerate(raw_stages)
    ]
    if not stages or [s.number for s in stages] != list(range(1, len(stages) + 1)):
        raise top.error("stages", "must be numbered 1, 2, 3 ... in order")
    duties: list[Duty] = []
    for i, raw in enumerate(_table_list(top, "duties", MAX_DUTIES)):
        duty = _duty(_Reader(source, raw, f"duties[{i}]", _DUTY), len(stages))
        if any(d.id == duty.id for d in duties):
            raise InputError(f"{source}: duties[{i}].id: {duty.id!r} is used by another duty")
        duties.append(duty)
    return Procedure(
        id=proc_id,
        name=name,
        partnership=partnership,
        version=version,
        effective=effective,
        stages=tuple(stages),
        duties=tuple(duties),
        deadline_set=top.choice("deadline_set", DEADLINE_SET_RULES, "any"),
        source=top.text("source", ""),
        file=source,
    )


def parse_text(text: str, source: str) -> Procedure:
    """Parse a procedure file's text."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML ({exc})") from exc
    return parse_procedure(doc, source)


def load_file(path: Path) -> Procedure:
    """Load one procedure file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: cannot be read") from exc
    return parse_text(text, path.name)
