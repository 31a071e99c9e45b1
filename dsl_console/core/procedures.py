"""Escalation procedures as data: stages, timescales, duties and versions (contract section 2).

The shapes live here; reading them from TOML, key by key, is `core.procedure_file`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Literal

from dsl_console.core.records import AGENCY_LABELS, RECIPIENTS, Event, EventKind
from dsl_console.errors import InputError

Rule = Literal["by-day", "within", "same-day", "none", "chair"]
Unit = Literal["working-days", "calendar-days", "hours"]
RULES: tuple[str, ...] = ("by-day", "within", "same-day", "none", "chair")
UNITS: tuple[str, ...] = ("working-days", "calendar-days", "hours")
# What a timescale counts from. Stages: opening or entry. Duties also: arising, or the first
# event of some kinds ("event"), whose kinds are then in Timescale.events.
ANCHORS: tuple[str, ...] = ("opening", "entry", "arising", "event")

SCHOOL, OTHER_AGENCY = "school", "other-agency"
PARTIES: tuple[str, ...] = (SCHOOL, OTHER_AGENCY)
RESOLUTION = "resolution"  # a duty's `at` when it arises on resolution
LAPSES: tuple[str, ...] = ("resolution", "leaving-stage", "never")
ALWAYS, CP_PLAN_OR_LOOKED_AFTER, IMMEDIATE_RISK = (
    "always",
    "cp-plan-or-looked-after",
    "immediate-risk",
)
AGENCY_PREFIX = "agency:"  # `when = "agency:KIND"`, KIND one of AGENCY_KINDS
DEADLINE_SET_RULES: tuple[str, ...] = ("any", "shorten-only")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Timescale:
    """When something falls due: a rule, a count in a unit, and what it counts from."""

    rule: Rule = "none"
    days: int = 0  # the count: days, or hours when unit is "hours"
    unit: Unit = "working-days"
    anchor: str = "entry"
    events: tuple[str, ...] = ()  # anchor "event": the kinds whose first occurrence starts it

    def _of(self) -> str:
        if self.anchor == "opening":
            return "opening"
        if self.anchor == "arising":
            return "arising"
        if self.anchor == "event":
            return "the first " + " or ".join(k.replace("-", " ") for k in self.events)
        return "entering the stage"

    def describe(self) -> str:
        """The timescale in words, as the procedure states it."""
        if self.rule == "by-day":
            return f"by working day {self.days} of the case"
        if self.rule == "within":
            word = {"working-days": "working day", "calendar-days": "calendar day"}.get(
                self.unit, "hour"
            )
            return f"within {_plural(self.days, word)} of {self._of()}"
        if self.rule == "same-day":
            return f"same working day as {self._of()}"
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
    optional: bool = False


@dataclass(frozen=True)
class Discharge:
    """An event that discharges a duty: its kind, and for some kinds whom, which form, which stage."""

    kind: str
    whom: str = ""
    form: str = ""
    stage: int | None = None

    def matches(self, event: Event) -> bool:
        """Whether this event is one that discharges the duty."""
        if event.kind != self.kind:
            return False
        if self.whom and event.whom.strip().casefold() != self.whom.casefold():
            return False
        if self.form and event.form != self.form:
            return False
        return self.stage is None or (event.stage is not None and event.stage >= self.stage)

    def describe(self) -> str:
        """The discharging event in words."""
        if self.kind == EventKind.NOTIFIED:
            whom = RECIPIENTS.get(self.whom.casefold(), self.whom) or "someone"
            return f"notify {whom}" + (f", sending form {self.form}" if self.form else "")
        if self.kind == EventKind.ESCALATED and self.stage is not None:
            return f"escalate to stage {self.stage} or higher"
        return f"record {self.kind.replace('-', ' ')}"


@dataclass(frozen=True)
class Duty:
    """An obligation a procedure sets once a case reaches a point, with a clock of its own."""

    id: str
    what: str
    done_by: tuple[Discharge, ...]
    party: str = SCHOOL
    at: int | str = 1  # a stage number, or RESOLUTION
    when: str = ALWAYS
    due: Timescale | None = None
    lapses: str = "resolution"
    soft: bool = False

    @property
    def on_resolution(self) -> bool:
        return self.at == RESOLUTION

    def discharged_by(self, event: Event) -> bool:
        """Whether an event discharges the duty."""
        return any(d.matches(event) for d in self.done_by)

    def notifies(self, whom: str) -> bool:
        """Whether a `notified` event to this recipient is what discharges the duty."""
        return any(d.kind == EventKind.NOTIFIED and d.whom.casefold() == whom for d in self.done_by)

    @property
    def forms(self) -> tuple[str, ...]:
        """The forms whose sending discharges the duty."""
        return tuple(d.form for d in self.done_by if d.form)

    def describe(self) -> str:
        """When the duty arises, its clock and what discharges it, in plain words."""
        arises = "on resolution" if self.on_resolution else f"from stage {self.at}"
        if self.when == CP_PLAN_OR_LOOKED_AFTER:
            arises += ", when the child is on a CP plan or looked after"
        elif self.when == IMMEDIATE_RISK:
            arises += ", when an immediate risk has been raised"
        elif self.when.startswith(AGENCY_PREFIX):
            kind = self.when[len(AGENCY_PREFIX) :]
            arises += f", when the other agency is {AGENCY_LABELS.get(kind, kind)}"
        clock = self.due.describe() if self.due else "no deadline"
        if self.soft:
            clock += " (a target)"
        done = " or ".join(d.describe() for d in self.done_by)
        lapse = {
            "resolution": "lapses on resolution",
            "leaving-stage": "lapses when the case moves on",
            "never": "stays owed after resolution",
        }[self.lapses]
        who = "the other agency" if self.party == OTHER_AGENCY else "the school"
        return f"{arises}; {who}; {clock}; done by: {done}; {lapse}"


@dataclass(frozen=True)
class Procedure:
    """A partnership's escalation procedure, at one version."""

    id: str
    name: str
    partnership: str
    version: str
    effective: date
    stages: tuple[Stage, ...]
    duties: tuple[Duty, ...] = ()
    deadline_set: str = "any"
    source: str = ""
    file: str = field(default="", compare=False)

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

    @property
    def shorten_only(self) -> bool:
        """Whether a deadline set by hand may only bring the stage's due forward."""
        return self.deadline_set == "shorten-only"

    def duty(self, duty_id: str) -> Duty:
        """The duty with this id."""
        for duty in self.duties:
            if duty.id == duty_id:
                return duty
        raise KeyError(duty_id)

    def forms(self) -> tuple[str, ...]:
        """Every form the procedure's duties name, in order, once each."""
        return tuple(dict.fromkeys(f for d in self.duties for f in d.forms))


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

    def every_version(self) -> list[Procedure]:
        """Every version of every procedure, by id then effective date."""
        return [p for i in self.ids() for p in self._by_id[i]]

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


def shipped_procedures() -> list[Procedure]:
    """The procedures that ship with the console."""
    from dsl_console.core.procedure_file import parse_text

    folder = resources.files("dsl_console") / "procedures"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            found.append(parse_text(entry.read_text(encoding="utf-8"), entry.name))
    return found


def load_registry(extra_folder: Path | None = None) -> ProcedureRegistry:
    """The shipped procedures plus any TOML files in the user's procedures folder.

    A user file may revise a shipped procedure only with a new version and a later effective
    date; one that repeats a version already known is refused, naming the file.
    """
    from dsl_console.core.procedure_file import load_file

    procs = shipped_procedures()
    shipped = {(p.id, p.version): p for p in procs}
    if extra_folder is not None and extra_folder.is_dir():
        seen: dict[tuple[str, str], str] = {}
        for path in sorted(extra_folder.glob("*.toml")):
            proc = load_file(path)
            key = (proc.id, proc.version)
            if key in shipped:
                raise InputError(
                    f"{path.name}: version: {proc.id} version {proc.version} is a shipped "
                    "procedure; revise it with a new version and a later effective date"
                )
            if key in seen:
                raise InputError(
                    f"{path.name}: version: {proc.id} version {proc.version} is also in {seen[key]}"
                )
            earlier = [p for p in shipped.values() if p.id == proc.id]
            if earlier and proc.effective <= max(p.effective for p in earlier):
                raise InputError(
                    f"{path.name}: effective: a revision of the shipped {proc.id} must take "
                    f"effect after {max(p.effective for p in earlier):%Y-%m-%d}"
                )
            seen[key] = path.name
            procs.append(proc)
    return ProcedureRegistry(procs)
