"""Escalation procedures as data: stages, timescales, versions, loaded from TOML files."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Literal, cast

from dsl_console.errors import InputError

Rule = Literal["by-day", "within", "same-day", "none", "chair"]
Anchor = Literal["opening", "entry"]
RULES: tuple[str, ...] = ("by-day", "within", "same-day", "none", "chair")


@dataclass(frozen=True)
class Timescale:
    """When a stage falls due: a rule, a number of working days, and what it counts from."""

    rule: Rule = "none"
    days: int = 0
    anchor: Anchor = "entry"

    def describe(self) -> str:
        """The timescale in words, as the procedure states it."""
        if self.rule == "by-day":
            return f"by working day {self.days} of the case"
        if self.rule == "within":
            plural = "s" if self.days != 1 else ""
            of = "opening" if self.anchor == "opening" else "entering the stage"
            return f"within {self.days} working day{plural} of {of}"
        if self.rule == "same-day":
            of = "opening" if self.anchor == "opening" else "entering the stage"
            return f"same working day as {of}"
        if self.rule == "chair":
            return "set by the Chair"
        return "none"


@dataclass(frozen=True)
class Stage:
    """One stage of a procedure."""

    number: int
    name: str
    short: str
    timescale: Timescale
    holder: str = ""


@dataclass(frozen=True)
class Procedure:
    """A partnership's escalation procedure, at one version."""

    id: str
    name: str
    partnership: str
    version: str
    effective: date
    stages: tuple[Stage, ...]
    iro_notice_from_stage: int | None = None
    report_from_stage: int | None = None
    notes: str = ""
    source: str = field(default="", compare=False)

    def stage(self, number: int) -> Stage:
        """The stage with this number."""
        for stage in self.stages:
            if stage.number == number:
                return stage
        raise KeyError(number)

    def has_stage(self, number: int) -> bool:
        """Whether the procedure has a stage with this number."""
        return any(s.number == number for s in self.stages)

    @property
    def last_stage(self) -> int:
        """The highest stage number."""
        return self.stages[-1].number


class ProcedureRegistry:
    """Every procedure known, every version of each."""

    def __init__(self, procedures: Iterable[Procedure]) -> None:
        self._by_id: dict[str, list[Procedure]] = {}
        for proc in procedures:
            versions = self._by_id.setdefault(proc.id, [])
            versions[:] = [p for p in versions if p.version != proc.version]  # later file wins
            versions.append(proc)
        for versions in self._by_id.values():
            versions.sort(key=lambda p: (p.effective, p.version))

    def ids(self) -> list[str]:
        """Procedure ids, sorted."""
        return sorted(self._by_id)

    def __contains__(self, proc_id: object) -> bool:
        return proc_id in self._by_id

    def latest(self) -> list[Procedure]:
        """The newest version of each procedure, by id."""
        return [self._by_id[i][-1] for i in self.ids()]

    def get(self, proc_id: str, version: str | None = None) -> Procedure:
        """A procedure by id, at a version (the newest when none is given)."""
        versions = self._by_id.get(proc_id)
        if not versions:
            raise KeyError(proc_id)
        if version is None:
            return versions[-1]
        for proc in versions:
            if proc.version == version:
                return proc
        raise KeyError(f"{proc_id}@{version}")

    def in_force(self, proc_id: str, on: date) -> Procedure:
        """The version in force on a date: the newest effective on or before it."""
        versions = self._by_id.get(proc_id)
        if not versions:
            raise KeyError(proc_id)
        chosen = versions[0]
        for proc in versions:
            if proc.effective <= on:
                chosen = proc
        return chosen


def parse_procedure(doc: dict[str, object], source: str) -> Procedure:
    """Build a procedure from a parsed TOML document, naming the field at fault."""

    def need(table: dict[str, object], key: str, kind: type, where: str) -> object:
        value = table.get(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise InputError(f"{source}: {where}{key} is missing or not a {kind.__name__}")
        return value

    allowed = {
        "id",
        "name",
        "partnership",
        "version",
        "effective",
        "stages",
        "iro_notice_from_stage",
        "report_from_stage",
        "notes",
    }
    unknown = set(doc) - allowed
    if unknown:
        raise InputError(f"{source}: unknown key {sorted(unknown)[0]!r}")
    proc_id = str(need(doc, "id", str, ""))
    effective = doc.get("effective")
    if not isinstance(effective, date):
        raise InputError(f"{source}: effective must be a date such as 2024-04-01")
    raw_stages = cast(list[object], need(doc, "stages", list, ""))
    stages: list[Stage] = []
    for index, raw in enumerate(raw_stages):
        where = f"stages[{index}]."
        if not isinstance(raw, dict):
            raise InputError(f"{source}: stages[{index}] is not a table")
        number = int(need(raw, "number", int, where))  # type: ignore[call-overload]
        ts_raw = raw.get("timescale", {"rule": "none"})
        if not isinstance(ts_raw, dict):
            raise InputError(f"{source}: {where}timescale is not a table")
        rule = ts_raw.get("rule", "none")
        if rule not in RULES:
            raise InputError(f"{source}: {where}timescale.rule must be one of {', '.join(RULES)}")
        days = ts_raw.get("days", 0)
        if not isinstance(days, int) or days < 0 or (rule in ("by-day", "within") and days < 1):
            raise InputError(f"{source}: {where}timescale.days must be a whole number >= 1")
        anchor = ts_raw.get("from", "entry")
        if anchor not in ("opening", "entry"):
            raise InputError(f"{source}: {where}timescale.from must be 'opening' or 'entry'")
        name = str(need(raw, "name", str, where))
        stages.append(
            Stage(
                number=number,
                name=name,
                short=str(raw.get("short", name)),
                holder=str(raw.get("holder", "")),
                timescale=Timescale(rule=rule, days=days, anchor=anchor),
            )
        )
    numbers = [s.number for s in stages]
    if not stages or numbers != list(range(1, len(stages) + 1)):
        raise InputError(f"{source}: stages must be numbered 1, 2, 3 ... in order")

    def optional_stage(key: str) -> int | None:
        value = doc.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or not 1 <= value <= len(stages):
            raise InputError(f"{source}: {key} must be a stage number")
        return value

    return Procedure(
        id=proc_id,
        name=str(need(doc, "name", str, "")),
        partnership=str(doc.get("partnership", doc["name"])),
        version=str(need(doc, "version", str, "")),
        effective=effective,
        stages=tuple(stages),
        iro_notice_from_stage=optional_stage("iro_notice_from_stage"),
        report_from_stage=optional_stage("report_from_stage"),
        notes=str(doc.get("notes", "")),
        source=source,
    )


def load_file(path: Path) -> Procedure:
    """Load one procedure file."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: cannot be read") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path.name}: not valid TOML ({exc})") from exc
    return parse_procedure(doc, path.name)


def shipped_procedures() -> list[Procedure]:
    """The procedures that ship with the console."""
    folder = resources.files("dsl_console") / "procedures"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            doc = tomllib.loads(entry.read_text(encoding="utf-8"))
            found.append(parse_procedure(doc, entry.name))
    return found


def load_registry(extra_folder: Path | None = None) -> ProcedureRegistry:
    """The shipped procedures plus any TOML files in the user's procedures folder."""
    procs = shipped_procedures()
    if extra_folder is not None and extra_folder.is_dir():
        procs.extend(load_file(path) for path in sorted(extra_folder.glob("*.toml")))
    return ProcedureRegistry(procs)
