"""The JSON format `dsl-console/1` (contract section 6): read a document into cases, write one back.

Reading checks everything before anything is written and names the case and field at fault.
Writing is deterministic (every field, fixed order), so export, import, export round-trips.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Any

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import iso, local_date, parse_date, parse_moment
from dsl_console.core.deadlines import in_time_order
from dsl_console.core.procedures import ProcedureRegistry
from dsl_console.core.records import Case, Child, Event, Professional
from dsl_console.core.validation import MAX_NAME, check_history
from dsl_console.errors import InputError

FORMAT = "dsl-console/1"
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024


def _text(raw: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = raw.get(key)
    if value is None:
        if required:
            raise InputError(f"{key} is required", field=where)
        return ""
    if not isinstance(value, str):
        raise InputError(f"{key} must be text", field=where)
    return value


def _flag(raw: dict[str, Any], key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise InputError(f"{key} must be true or false", field=where)
    return value


def _person(raw: Any, where: str) -> Professional:
    if not isinstance(raw, dict):
        raise InputError("must be an object with name, role, agency, email", field=where)
    return Professional(
        name=_text(raw, "name", where, required=True),
        role=_text(raw, "role", where),
        agency=_text(raw, "agency", where),
        email=_text(raw, "email", where),
        involved=_flag({"involved": raw.get("involved", True)}, "involved", where),
        lead=_flag(raw, "lead", where),
    )


def _event(raw: Any, where: str) -> Event:
    if not isinstance(raw, dict):
        raise InputError("must be an object", field=where)
    kind = _text(raw, "kind", where, required=True)
    stage = raw.get("stage")
    if stage is not None and (not isinstance(stage, int) or isinstance(stage, bool)):
        raise InputError("must be a whole number", field=f"{where}.stage")
    action = raw.get("action")
    if action is not None and (not isinstance(action, int) or isinstance(action, bool)):
        raise InputError("must be a whole number", field=f"{where}.action")
    if kind in ("amended", "professional") and "value" not in raw:
        raise InputError(f"an {kind} event needs a value", field=f"{where}.value")
    return Event(
        at=parse_moment(_text(raw, "at", where, required=True), f"{where}.at"),
        kind=kind,
        stage=stage,
        by=_text(raw, "by", where),
        whom=_text(raw, "whom", where),
        due=_optional_moment(raw, "due", where),
        note=_text(raw, "note", where),
        lessons=_text(raw, "lessons", where),
        action=action,
        method=_text(raw, "method", where),
        recorded_at=_optional_moment(raw, "recorded_at", where),
        form=_text(raw, "form", where),
        field=_text(raw, "field", where),
        value=raw.get("value"),
    )


def _optional_moment(raw: dict[str, Any], key: str, where: str) -> datetime | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError("must be an ISO 8601 timestamp", field=f"{where}.{key}")
    return parse_moment(value, f"{where}.{key}")


def case_from_json(
    raw: Any, index: int, registry: ProcedureRegistry, now: datetime, calendar: WorkingCalendar
) -> Case:
    """One case of the document, fully checked as it stands at `now` (aware UTC)."""
    if not isinstance(raw, dict):
        raise InputError("must be an object", field=f"cases[{index}]")
    ref = raw.get("ref")
    where = f"case {ref}" if isinstance(ref, str) and ref.strip() else f"cases[{index}]"
    if not isinstance(ref, str) or not ref.strip():
        raise InputError("ref is required", field=where)
    if len(ref) > MAX_NAME:
        raise InputError(f"ref is longer than {MAX_NAME} characters", field=f"cases[{index}]")
    proc_id = _text(raw, "procedure", where, required=True)
    if proc_id not in registry:
        raise InputError(
            f"procedure {proc_id!r} is not known (known: {', '.join(registry.ids())})",
            field=where,
        )
    opened_at = parse_moment(_text(raw, "opened_at", where, required=True), f"{where}: opened_at")
    version = _text(raw, "procedure_version", where)
    try:
        procedure = (
            registry.get(proc_id, version)
            if version
            else registry.in_force(proc_id, local_date(opened_at))
        )
    except KeyError:
        raise InputError(
            f"procedure_version {version!r} of {proc_id} is not known", field=where
        ) from None
    child_raw = raw.get("child")
    if not isinstance(child_raw, dict):
        raise InputError("child is required (with name and dob)", field=where)
    child = Child(
        name=_text(child_raw, "name", f"{where}: child", required=True),
        dob=parse_date(
            _text(child_raw, "dob", f"{where}: child", required=True), f"{where}: child.dob"
        ),
        address=_text(child_raw, "address", f"{where}: child"),
        parents=_text(child_raw, "parents", f"{where}: child"),
    )
    level = raw.get("level_of_need", "unknown")
    if not isinstance(level, str):
        raise InputError("level_of_need must be text", field=where)
    events_raw = raw.get("events", [])
    if not isinstance(events_raw, list):
        raise InputError("events must be a list", field=where)
    people_raw = raw.get("professionals", [])
    if not isinstance(people_raw, list):
        raise InputError("professionals must be a list", field=where)
    raised_raw = raw.get("raised_by")
    case = Case(
        ref=ref,
        procedure=proc_id,
        procedure_version=procedure.version,
        opened_at=opened_at,
        child=child,
        other_agency=_text(raw, "other_agency", where),
        other_agency_kind=_text(raw, "other_agency_kind", where) or "other",
        level_of_need=level,
        cp_plan=_flag(raw, "cp_plan", where),
        looked_after=_flag(raw, "looked_after", where),
        immediate_risk=_flag(raw, "immediate_risk", where),
        reason=_text(raw, "reason", where),
        summary=_text(raw, "summary", where),
        concern=_text(raw, "concern", where),
        professionals=tuple(
            _person(p, f"{where}: professionals[{i}]") for i, p in enumerate(people_raw)
        ),
        raised_by=None if raised_raw in (None, {}) else _person(raised_raw, f"{where}: raised_by"),
        events=tuple(_event(e, f"{where}: events[{i}]") for i, e in enumerate(events_raw)),
    )
    check_history(case, procedure, now, calendar, where)
    return case


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _refuse_lone_surrogates(text: str, doc: object) -> None:
    """JSON can write half of a UTF-16 pair (\\ud800) alone, which is no character at all and
    could never be stored as text. Only an escape can carry one, so only a file with such an
    escape is looked at (an emoji written as a pair is fine)."""
    if not _SURROGATE_ESCAPE.search(text):
        return
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(exc.object[exc.start])
        raise InputError(
            f"the file holds U+{code:04X}, half of a UTF-16 pair written alone, which is not "
            "text; correct it in the program that wrote the file"
        ) from None


def read_document(
    data: bytes,
    registry: ProcedureRegistry,
    now: datetime,
    calendar: WorkingCalendar,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[Case]:
    """Parse and check a whole document; the first fault found is raised, nothing is kept.

    `now` (aware UTC) is the moment of reading: no opening or event may be after it.
    `progress(done, total)` is told how many cases are read, out of an estimate from how far
    into the file they reach (exact once all are read).

    The cases are read one at a time, each checked as it is read: the whole document is
    never held as parsed JSON (a 240 MB file of empty objects once took 5.9 GB that way), so
    memory stays within a few times the file's size, and a bad case stops the reading there."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputError("the file is larger than 512 MB")
    try:
        # utf-8-sig: a byte-order mark, as Windows editors write, is not part of the JSON.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("the file is not UTF-8 text") from None
    del data  # the caller's copy may go; this one is not needed beside the text
    escapes = bool(_SURROGATE_ESCAPE.search(text))
    cases: list[Case] = []
    seen: set[str] = set()
    members: dict[str, object] = {}
    for key, value in _top_level(text):
        if key in members:
            raise InputError(f"the document names {key} twice")
        members[key] = None
        if key == "format":
            if value != FORMAT:
                raise InputError(f'format must be "{FORMAT}"')
            members[key] = value
        elif key == "cases":
            for index, raw in enumerate(value):
                if escapes:
                    _refuse_lone_surrogates(text, raw)
                case = case_from_json(raw, index, registry, now, calendar)
                if case.ref in seen:
                    raise InputError("ref appears twice in the file", field=f"case {case.ref}")
                seen.add(case.ref)
                cases.append(case)
                if progress is not None and index % READ_PROGRESS_EVERY == 0 and index:
                    progress(index, _estimated_cases(index, value.reached, len(text)))
            if progress is not None:
                progress(len(cases), len(cases))
        elif escapes:
            _refuse_lone_surrogates(text, value)
    if members.get("format") != FORMAT:
        raise InputError(f'format must be "{FORMAT}"')
    if "cases" not in members:
        raise InputError("cases must be a list")
    return cases


READ_PROGRESS_EVERY = 200  # cases between progress calls while reading


def _estimated_cases(read: int, reached: int, size: int) -> int:
    """The number of cases in the file, judged from how far the first `read` reach."""
    return max(read, round(read * size / reached)) if reached else read


_DECODER = json.JSONDecoder()
_BLANK = re.compile(r"[ \t\n\r]*")
NOT_AN_OBJECT = "the document must be a JSON object with format and cases"


def _decode(text: str, at: int) -> tuple[Any, int]:
    """One JSON value at `at` and where it ends; a fault in it as one readable line."""
    try:
        return _DECODER.raw_decode(text, at)
    except json.JSONDecodeError as exc:
        raise _json_error(exc) from None
    except RecursionError:
        raise InputError("not valid JSON (nested too deeply)") from None
    except ValueError:
        # Python refuses to read an integer of more than 4,300 digits (a guard against a
        # number that would take minutes to convert).
        raise InputError("not valid JSON for this file: a number is too long") from None


def _json_error(exc: json.JSONDecodeError) -> InputError:
    return InputError(f"not valid JSON (line {exc.lineno}, column {exc.colno})")


def _expected(what: str, text: str, at: int) -> InputError:
    return _json_error(json.JSONDecodeError(what, text, at))


def _top_level(text: str) -> Iterator[tuple[str, Any]]:
    """The document object's members in order, each value parsed whole, except `cases`,
    whose value is an iterator over its elements, parsed one at a time as it is advanced
    (it must be used up before the next member is read)."""
    at = _BLANK.match(text, 0).end()  # type: ignore[union-attr]
    if text[at : at + 1] != "{":
        _, end = _decode(text, at)  # a JSON error if it is not JSON at all
        _end(text, end)
        raise InputError(NOT_AN_OBJECT)
    at = _BLANK.match(text, at + 1).end()  # type: ignore[union-attr]
    if text[at : at + 1] == "}":
        _end(text, at + 1)
        return
    while True:
        if text[at : at + 1] != '"':
            raise _expected("Expecting property name enclosed in double quotes", text, at)
        try:
            key, at = json.decoder.scanstring(text, at + 1)  # type: ignore[attr-defined]
        except json.JSONDecodeError as exc:
            raise _json_error(exc) from None
        at = _BLANK.match(text, at).end()  # type: ignore[union-attr]
        if text[at : at + 1] != ":":
            raise _expected("Expecting ':' delimiter", text, at)
        at = _BLANK.match(text, at + 1).end()  # type: ignore[union-attr]
        if key == "cases" and text[at : at + 1] == "[":
            array = _Array(text, at)
            yield key, array
            at = array.reached
        else:
            value, at = _decode(text, at)
            if key == "cases":
                raise InputError("cases must be a list")
            yield key, value
        at = _BLANK.match(text, at).end()  # type: ignore[union-attr]
        if text[at : at + 1] == ",":
            at = _BLANK.match(text, at + 1).end()  # type: ignore[union-attr]
            continue
        if text[at : at + 1] == "}":
            _end(text, at + 1)
            return
        raise _expected("Expecting ',' delimiter", text, at)


class _Array:
    """The elements of the array at `at`, parsed one at a time as they are iterated over;
    `reached` is how far into the text the reading has got (just after the array once all
    are read)."""

    def __init__(self, text: str, at: int) -> None:
        self._text = text
        self.reached = at

    def __iter__(self) -> Iterator[Any]:
        text = self._text
        at = _BLANK.match(text, self.reached + 1).end()  # type: ignore[union-attr]
        if text[at : at + 1] == "]":
            self.reached = at + 1
            return
        while True:
            value, at = _decode(text, at)
            self.reached = at
            yield value
            at = _BLANK.match(text, at).end()  # type: ignore[union-attr]
            if text[at : at + 1] == ",":
                at = _BLANK.match(text, at + 1).end()  # type: ignore[union-attr]
                continue
            if text[at : at + 1] == "]":
                self.reached = at + 1
                return
            raise _expected("Expecting ',' delimiter", text, at)


def _end(text: str, at: int) -> None:
    """Nothing but blanks may follow the document."""
    at = _BLANK.match(text, at).end()  # type: ignore[union-attr]
    if at != len(text):
        raise _expected("Extra data", text, at)


def event_to_json(event: Event) -> dict[str, Any]:
    """An event in the document's form."""
    out: dict[str, Any] = {"at": iso(event.at), "kind": str(event.kind)}
    if event.stage is not None:
        out["stage"] = event.stage
    for key in ("by", "whom", "form", "field", "note", "lessons", "method"):
        if getattr(event, key):
            out[key] = getattr(event, key)
    if event.kind in ("amended", "professional") or event.value is not None:
        out["value"] = event.value
    if event.due is not None:
        out["due"] = iso(event.due)
    if event.action is not None:
        out["action"] = event.action
    if event.recorded_at is not None:
        out["recorded_at"] = iso(event.recorded_at)
    return out


def case_to_json(case: Case) -> dict[str, Any]:
    """A case in the document's form, every field present."""
    return {
        "ref": case.ref,
        "procedure": case.procedure,
        "procedure_version": case.procedure_version,
        "opened_at": iso(case.opened_at),
        "child": {
            "name": case.child.name,
            "dob": case.child.dob.isoformat(),
            "address": case.child.address,
            "parents": case.child.parents,
        },
        **case.facts(),
        "professionals": [asdict(p) for p in case.professionals],
        "raised_by": asdict(case.raised_by) if case.raised_by else None,
        # In time order, as a document must be: a late entry is stored after the events it
        # happened before, and keeps its recorded_at.
        "events": [event_to_json(e) for e in in_time_order(case.events)],
    }


def write_document(cases: Iterable[Case]) -> Iterator[str]:
    """The document as text chunks, so 100,000 cases never sit in memory at once."""
    yield '{\n  "format": "' + FORMAT + '",\n  "cases": ['
    first = True
    for case in cases:
        yield ("\n    " if first else ",\n    ") + json.dumps(
            case_to_json(case), ensure_ascii=False
        )
        first = False
    yield ("\n  ]\n}\n" if not first else "]\n}\n")
