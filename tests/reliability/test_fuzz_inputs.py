"""Property-based fuzzing of the input paths a user feeds by hand: the import document and the
config file. Whatever arrives, the answer is the thing asked for or one readable InputError:
never another exception, never a traceback, never half an import.

Examples are derandomised (the same every run, so CI is repeatable); set
DSL_RELIABILITY_FUZZ=<n> to run n examples per property instead.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from reliability_kit import (
    NOW,
    PASSPHRASE,
    USER,
    case_json,
    document,
    fuzz_settings,
    health,
    make_database,
    open_as_user,
)

from dsl_console import cli
from dsl_console.config import SETTINGS, load_config
from dsl_console.errors import InputError
from dsl_console.services.casebook import import_cases
from dsl_console.services.transfer import case_to_json, read_document
from dsl_console.store.cases import load_case
from dsl_console.store.models import Escalation

# -- values that have broken parsers before --------------------------------------------------
MOMENTS = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.isoformat()
    ),
    st.sampled_from(
        [
            "2026-02-30T10:00",
            "2026-13-01T00:00",
            "2026-03-29T01:30:00",  # the spring gap in London
            "2026-10-25T01:30:00",  # the autumn repeat
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-12:00",
            "2026-11-23T11:00:00Z",
            "2026-11-23 11:00",
            "2026-11-23",
            "2026-11-23T24:00",
            "+002026-11-23T11:00",
            "2026-W48-1",
            "T11:00",
            "",
            " ",
            "now",
            "2026-11-23T11:00:00.123456789+00:00",
        ]
    ),
    st.text(max_size=25),
)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", "x" * 201, "y" * 20_001, "\x00", "é" * 50, "\u202e", "𝔄𝔡𝔞"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
CASE_FIELDS = [
    "ref",
    "procedure",
    "procedure_version",
    "opened_at",
    "child",
    "other_agency",
    "level_of_need",
    "cp_plan",
    "looked_after",
    "immediate_risk",
    "reason",
    "summary",
    "professionals",
    "raised_by",
    "events",
]
CHILD_FIELDS = ["name", "dob", "address", "parents"]
EVENT_FIELDS = ["at", "kind", "stage", "by", "whom", "due", "note", "lessons", "action", "method"]
KINDS = st.sampled_from(
    [
        "escalated",
        "risk-raised",
        "risk-escalated",
        "notified",
        "deadline-set",
        "resolved",
        "note",
        "discussion",
        "meeting",
        "outcome",
        "action",
        "action-done",
        "timescale-missed",
        "ESCALATED",
        "escalated ",
        "",
    ]
)
PROCEDURES = st.sampled_from(
    ["liverpool", "gloucestershire", "newham", "st-helens", "city-hackney", "Liverpool", ""]
)


def _value_for(field: str) -> st.SearchStrategy[Any]:
    if field in ("opened_at", "at", "due", "recorded_at"):
        return MOMENTS | JSON_VALUES
    if field == "dob":
        return MOMENTS.map(lambda m: m[:10]) | MOMENTS | JSON_VALUES
    if field == "kind":
        return KINDS | JSON_VALUES
    if field == "procedure":
        return PROCEDURES | JSON_VALUES
    if field in ("stage", "action"):
        return st.integers(min_value=-3, max_value=9) | JSON_VALUES
    return JSON_VALUES


@st.composite
def mutated_cases(draw: st.DrawFn, ref: str) -> dict:
    """A valid case with a few of its fields (top level, child, events) replaced or removed."""
    case = case_json(ref)
    case["events"] = [
        {"at": "2026-09-08T10:00:00+00:00", "kind": "discussion", "note": "Phoned."},
        {"at": "2026-09-09T11:00:00+00:00", "kind": "escalated", "stage": 2},
        {
            "at": "2026-09-10T11:00:00+00:00",
            "kind": "deadline-set",
            "due": "2026-09-20T17:00",
            "note": "x",
        },
    ]
    # Often none or one, so that many documents get past the parser into the database.
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 4]))):
        where = draw(st.sampled_from(["case", "child", "event", "new event"]))
        if where == "case":
            field = draw(st.sampled_from(CASE_FIELDS))
            target: dict = case
        elif where == "child" and isinstance(case.get("child"), dict):
            field, target = draw(st.sampled_from(CHILD_FIELDS)), case["child"]
        elif isinstance(case.get("events"), list) and case["events"]:
            events = case["events"]
            if where == "new event":
                events.insert(
                    draw(st.integers(0, len(events))), {"at": draw(MOMENTS), "kind": draw(KINDS)}
                )
            index = draw(st.integers(0, len(events) - 1))
            if not isinstance(events[index], dict):
                continue
            field, target = draw(st.sampled_from(EVENT_FIELDS)), events[index]
        else:
            continue
        if draw(st.booleans()) and field in target:
            del target[field]
        else:
            target[field] = draw(_value_for(field))
    return case


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """A document: mostly well-formed with damaged cases, sometimes damaged as a whole."""
    shape = draw(st.sampled_from(["cases", "cases", "cases", "wrapper", "text", "bytes"]))
    cases = [draw(mutated_cases(f"FUZ-{n}")) for n in range(draw(st.integers(0, 3)))]
    if draw(st.integers(0, 5)) == 0 and cases:
        cases.append(dict(cases[0]))  # a ref twice
    if shape == "cases":
        return document(cases)
    if shape == "wrapper":
        doc = {
            "format": draw(st.sampled_from(["dsl-console/1", "dsl-console/2", ""]) | JSON_VALUES)
        }
        doc["cases"] = draw(st.just(cases) | JSON_VALUES)
        return json.dumps(doc).encode("utf-8")
    if shape == "text":
        text = document(cases).decode("utf-8")
        cut = draw(st.integers(0, len(text)))
        return (
            text[:cut] + draw(st.text(max_size=5)) + text[cut + draw(st.integers(0, 3)) :]
        ).encode("utf-8", "surrogatepass")
    return draw(st.binary(max_size=200))


def _without_recorded(case: Any) -> list[dict]:
    return [
        {k: v for k, v in event.items() if k != "recorded_at"}
        for event in case_to_json(case)["events"]
    ]


def test_fuzz_the_import_document(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    """read_document answers with cases or one InputError; accepted cases import whole and
    read back exactly as written."""
    db = make_database(tmp_path / "cases.db")
    session = open_as_user(db)
    seen: Counter[str] = Counter()
    serial = iter(range(10**9))

    @fuzz_settings(500)
    @given(documents())
    def check(data: bytes) -> None:
        try:
            cases = read_document(data, session.registry, NOW, session.calendar)
        except InputError as exc:
            line = str(exc)
            assert line and "\n" not in line and "Traceback" not in line
            seen["refused with one line"] += 1
            return
        seen["accepted"] += 1
        if not cases:
            return
        # Unique refs per example, so every accepted document really goes into the database.
        n = next(serial)
        cases = [replace(c, ref=f"{c.ref}-{n}") for c in cases]
        before = Escalation.select().count()
        try:
            import_cases(session, cases)
        except InputError:
            assert Escalation.select().count() == before, "a refused import left cases behind"
            seen["refused by the database, nothing written"] += 1
            return
        for case in cases:
            back = load_case(case.ref)
            # Stored exactly as given (the import stamps when it was recorded, if unsaid).
            assert _without_recorded(back) == _without_recorded(case)
            assert back.child == case.child and back.summary == case.summary
        seen["imported and read back"] += 1

    try:
        check()
        found = health(session)
        assert found.integrity == "ok" and not found.audit_break
    finally:
        session.close()
    figures.add(
        "fuzzing",
        **{"import documents": sum(seen.values()), "unexpected exceptions": 0},
        **{f"import: {k}": v for k, v in seen.items()},
    )


def _run_cli(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(argv)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, err.getvalue()


def test_fuzz_the_import_command(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    """`dsl-console import FILE` (its main, in-process): exit 0, or 2 with one line that is not
    the last-resort "unexpected" one."""
    db = make_database(tmp_path / "cases.db")
    env = {"DSL_CONSOLE_USER": USER, "DSL_CONSOLE_PASSPHRASE": PASSPHRASE}
    source = tmp_path / "in.json"
    runs: Counter[str] = Counter()
    serial = iter(range(10**9))

    @fuzz_settings(60)
    @given(documents())
    def check(data: bytes) -> None:
        n = next(serial)
        source.write_bytes(data.replace(b"FUZ-", f"F{n}-".encode()))
        code, err = _run_cli(["--db", str(db), "import", str(source)], env)
        assert code in (0, 2)
        if code == 2:
            lines = err.splitlines()
            assert len(lines) == 1 and lines[0].startswith("dsl-console: "), err
            assert "unexpected" not in lines[0], f"an unhandled exception: {lines[0]}"
        runs[f"exit {code}"] += 1

    check()
    figures.add(
        "fuzzing", **{"import command runs": sum(runs.values()), "unexpected exceptions": 0}
    )


# -- the config file ---------------------------------------------------------------------------
KEYS = list(SETTINGS)
TOML_VALUES = st.one_of(
    st.text(max_size=20).map(json.dumps),
    st.integers(min_value=-(2**65), max_value=2**65).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.booleans().map(lambda b: str(b).lower()),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.lists(
        st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(
            lambda d: json.dumps(d.isoformat())
        ),
        max_size=4,
    ).map(lambda items: "[" + ", ".join(items) + "]"),
    st.sampled_from(
        [
            '"17:00"',
            '"00:00"',
            '"23:59"',
            '"24:00"',
            '"17:60"',
            '"5pm"',
            "17:00:00",
            "00:00:00.999999",
            "1979-05-27T07:32:00Z",
            "1979-05-27T07:32:00",
            "[]",
            '["2026-12-24"]',
            '["2026-02-30"]',
            "[2026-12-24, 2027-01-04]",
            "[1, 2]",
            '[["2026-12-24"]]',
            "{a = 1}",
            "inf",
            "nan",
            "0",
            "1",
            "86400",
            "86401",
            "1440",
            "1441",
            "99999999999999999999",
            '"ENG"',
            '"WLS"',
            '"SCT"',
            '"NIR"',
            '"eng"',
            '"liverpool"',
            '"no-such-procedure"',
            '""',
            "[9999-12-31]",
            "[0001-01-01]",
        ]
    ),
)


# Values each key may well take, so that many files are accepted and their calendar built.
PLAUSIBLE: dict[str, list[str]] = {
    "school": ['"Example Primary School"', '""', '"École Example"'],
    "procedure": ['"liverpool"', '"newham"', '"no-such-procedure"'],
    "nation": ['"ENG"', '"WLS"', '"SCT"', '"NIR"'],
    "end_of_working_day": ['"17:00"', '"00:00"', '"23:59"', "16:30:00", "00:00:00"],
    "closure_days": ["[]", '["2026-12-24"]', "[2026-11-24, 2026-11-25]", '["1900-01-01"]'],
    "scan_seconds": ["1", "60", "86400"],
    "lock_minutes": ["1", "5", "1440"],
}


@st.composite
def config_texts(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=80))
    keys = st.sampled_from([*KEYS, *KEYS, *KEYS, "School", "unknown", "closure-days", "[x]"])
    lines, used = [], set()
    for _ in range(draw(st.integers(0, 7))):
        key = draw(keys)
        if key in used and draw(st.booleans()):
            continue  # a key twice is one more way to be refused; not every time
        used.add(key)
        plausible = PLAUSIBLE.get(key)
        if plausible and draw(st.integers(0, 3)):
            value = draw(st.sampled_from(plausible))
        else:
            value = draw(TOML_VALUES)
        lines.append(key if key.startswith("[") else f"{key} = {value}")
    return "\n".join(lines) + "\n"


def test_fuzz_the_config_file(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    """A config file gives a Config whose calendar works, or one InputError naming the key; the
    command line says so in one line."""
    path = tmp_path / "config.toml"
    seen: Counter[str] = Counter()
    env = {"HOME": str(tmp_path)}
    cli_runs = iter(range(10**9))

    @fuzz_settings(500)
    @given(config_texts())
    def check(text: str) -> None:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            config = load_config(path, must_exist=True)
        except InputError as exc:
            assert str(exc).startswith("config: ") and "\n" not in str(exc)
            seen["refused with one line"] += 1
        else:
            calendar = config.calendar()
            day = calendar.add_working_days(NOW.date(), 3)
            calendar.within(NOW, 5)
            calendar.same_working_day(NOW + timedelta(hours=7))
            assert calendar.working_days_between(NOW.date(), day) == 3
            seen["accepted, calendar works"] += 1
        if next(cli_runs) % 8 == 0:  # and through the command line, every eighth one
            code, err = _run_cli(["--config", str(path), "procedures"], env)
            assert code in (0, 2)
            if code == 2:
                assert len(err.splitlines()) == 1 and "unexpected" not in err, err
            seen["command runs"] += 1

    check()
    figures.add(
        "fuzzing",
        **{"config files": seen["refused with one line"] + seen["accepted, calendar works"]},
        **{f"config: {k}": v for k, v in seen.items()},
        **{"unexpected exceptions": 0},
    )
