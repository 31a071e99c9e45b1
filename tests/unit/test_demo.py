"""The demo database shows every procedure, stage, flag and kind of event, all fictional."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.deadlines import case_state, flags_at
from dsl_console.core.flags import STATE_FLAGS
from dsl_console.core.procedures import load_registry
from dsl_console.core.records import EventKind
from dsl_console.core.validation import check_history
from dsl_console.services.demo import FIRST, LAST, demo_cases


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 23, 11, 0, tzinfo=UTC),  # a Monday morning
        datetime(2026, 11, 23, 7, 55, tzinfo=UTC),  # before school starts
        datetime(2026, 12, 26, 20, 0, tzinfo=UTC),  # Boxing Day evening
        datetime(2027, 3, 29, 9, 0, tzinfo=UTC),  # Easter Monday
    ],
)
def test_demo_covers_everything_and_is_valid(now):
    registry, calendar = load_registry(), WorkingCalendar()
    cases = demo_cases(now, registry, calendar)
    reached: set[tuple[str, int]] = set()
    flags: set[str] = set()
    kinds: set[str] = set()
    for case in cases:
        procedure = registry.get(case.procedure)
        check_history(case, procedure, now, calendar)
        assert case.opened_at <= now and all(e.at <= now for e in case.events), case.ref
        state = case_state(case, procedure, calendar, now)
        reached.update((case.procedure, v.stage) for v in state.visits)
        flags.update(flags_at(state.standing, now))
        kinds.update(e.kind for e in case.events)
        first, last = case.child.name.split(" ", 1)
        assert first in FIRST and last in LAST
    every_stage = {(p.id, s.number) for p in registry.latest() for s in p.stages}
    assert every_stage <= reached
    # "Due today" needs a working day that has not yet ended; then every flag must show.
    # No shipped procedure has a duty of the other agency, so none can raise response-overdue.
    every = {f.id for f in STATE_FLAGS} - {"response-overdue"}
    expected = every if calendar.same_working_day(now)[1] is False else every - {"due-today"}
    assert expected <= flags
    assert {k.value for k in EventKind} <= kinds
    assert len({c.ref for c in cases}) == len(cases)


def test_the_demo_database_names_its_fictional_dsl_as_the_forms_will(tmp_path):
    from dsl_console.config import Config
    from dsl_console.services.demo_db import DEMO_PROFILE, ensure_demo
    from dsl_console.services.session import Credentials, open_session

    demo = Credentials("demo", "demo passphrase")
    assert ensure_demo(tmp_path / "demo.db", Config(), demo)
    session = open_session(tmp_path / "demo.db", Config(), demo)
    try:
        assert session.display_name == DEMO_PROFILE.full_name != "demo"
        assert session.profile.job_title == "Designated Safeguarding Lead"
    finally:
        session.close()
    assert not ensure_demo(tmp_path / "demo.db", Config(), demo)  # made once
