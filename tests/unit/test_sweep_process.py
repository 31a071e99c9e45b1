"""The console's sweep in a process of its own: the same news as in a thread, each flag
announced once it has been shown, a read-only process, and one that is stuck or gone is
replaced rather than waited on for ever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta

import pytest
from peewee import OperationalError

from dsl_console.errors import StoreError
from dsl_console.services.casebook import import_cases
from dsl_console.services.demo import random_cases
from dsl_console.services.session import Session
from dsl_console.services.sweep_process import STOPPED, LocalSweeper, SweepProcess
from dsl_console.store.database import CipherDatabase
from tests.conftest import NOW, process_running


@pytest.fixture
def session(session_factory) -> Session:  # type: ignore[no-untyped-def]
    session: Session = session_factory()
    cases = list(random_cases(NOW, session.registry, session.calendar, 40, seed=5, open_share=0.6))
    import_cases(session, cases)
    return session


@pytest.fixture
def process(session: Session) -> Iterator[SweepProcess]:
    process = SweepProcess(session)
    yield process
    process.close()


def test_the_process_brings_the_same_news_as_a_sweep_in_this_thread(session, process):
    here = LocalSweeper(session).news(NOW)
    there = process.news(NOW)
    assert here.notices, "the fictional cases should raise some flags"
    assert there.notices == here.notices
    assert there.digest == here.digest
    assert process.pid is not None and process.pid != os.getpid()


def test_a_flag_is_announced_again_until_its_news_has_been_shown(process):
    first = process.news(NOW)
    assert first.notices
    # Not shown (the console locked before it could): the same flags come again.
    again = process.news(NOW + timedelta(minutes=1))
    assert again.notices == first.notices
    process.accept(again)
    assert process.news(NOW + timedelta(minutes=2)).notices == []


def test_the_digest_moves_only_when_what_the_list_shows_does(session, process):
    first = process.news(NOW)
    assert process.news(NOW + timedelta(minutes=5)).digest == first.digest
    # The next morning every countdown is a day shorter.
    assert process.news(NOW + timedelta(days=1)).digest != first.digest
    # A case added (here by this process, as by another console) shows at once.
    extra = list(random_cases(NOW, session.registry, session.calendar, 1, seed=9, start=900))
    import_cases(session, extra)
    assert process.news(NOW).digest != first.digest


def test_the_sweep_process_cannot_write(session):
    reader = CipherDatabase(str(session.path), session.database_key, read_only=True)
    try:
        assert reader.execute_sql("SELECT count(*) FROM escalation").fetchone()[0] > 0
        with pytest.raises(OperationalError, match="readonly"):
            reader.execute_sql("DELETE FROM escalation")
    finally:
        reader.close()


def test_closing_ends_the_process_and_forgets_the_key(process):
    process.news(NOW)
    pid = process.pid
    assert pid is not None and process_running(pid)
    process.close()
    assert not process_running(pid)
    with pytest.raises(StoreError, match="locked"):
        process.news(NOW)


def test_a_stuck_sweep_is_ended_and_the_next_one_starts_afresh(process):
    first = process.news(NOW)
    stuck = process.pid
    assert stuck is not None
    os.kill(stuck, signal.SIGSTOP)
    patience, process.answer_wait = process.answer_wait, 0.5
    with pytest.raises(StoreError) as failed:
        process.news(NOW)
    assert str(failed.value) == STOPPED
    assert not process_running(stuck)
    # A new process remembers nothing, so it announces every flag again, as after unlocking.
    # (Given the usual patience: a new process starting on a busy machine takes a while.)
    process.answer_wait = patience
    again = process.news(NOW)
    assert process.pid not in (None, stuck)
    assert again.notices == first.notices


def test_closing_during_a_sweep_ends_it_rather_than_waiting_for_it(process):
    # The console closes its sweeper on the UI thread when it quits: a sweep under way, even
    # a stuck one, must not hold the quit up.
    import threading

    process.news(NOW)
    stuck = process.pid
    assert stuck is not None
    os.kill(stuck, signal.SIGSTOP)
    failures: list[BaseException] = []

    def sweep_under_way() -> None:
        try:
            process.news(NOW)
        except BaseException as exc:
            failures.append(exc)

    under_way = threading.Thread(target=sweep_under_way)
    under_way.start()
    while not process._lock.locked():  # until the sweep holds the pipe
        threading.Event().wait(0.01)
    process.close()  # the sweep would wait two minutes for an answer; closing does not
    under_way.join()
    assert not process_running(stuck)
    assert [str(f) for f in failures] == [STOPPED]


def test_a_helper_starts_without_running_the_program_s_script_again(tmp_path):
    """multiprocessing runs the parent's main script again in each new process: a program
    that starts the console (the test runner, a school's own script) paid its imports,
    0.2 s under pytest, before every first sweep after an unlock."""
    ran_again = tmp_path / "ran-again"
    program = tmp_path / "program.py"
    program.write_text(
        textwrap.dedent(
            f"""
            import sys
            if __name__ != "__main__":
                open({str(ran_again)!r}, "a").write(__name__ + "\\n")
            from dsl_console.services import helpers, sweep_process
            if __name__ == "__main__":
                process, conn = helpers.start(sweep_process.serve, "test helper")
                conn.close()  # the helper meets a closed pipe and ends
                process.join(30)
                print(process.exitcode, sys.modules["__main__"].__file__ == __file__)
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.split() == ["0", "True"], done.stderr[-500:]
    assert not ran_again.exists(), ran_again.read_text()
