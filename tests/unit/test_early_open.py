"""An unlock begun before the console is built: taken once, by the same credentials only, and
given up when the console closes while it is still under way."""

from __future__ import annotations

import threading

from dsl_console.services.opening import EarlyOpen
from dsl_console.services.session import Credentials


class FakeSession:
    closed = False

    def close(self) -> None:
        self.closed = True


def test_the_session_is_taken_once_and_only_for_its_credentials():
    given = Credentials("jo.lead", "fictional passphrase one")
    session = FakeSession()
    early = EarlyOpen(given, lambda: session)  # type: ignore[arg-type, return-value]
    assert early.take(Credentials("jo.lead", "fictional passphrase one")) is None  # not these
    # Someone else took over: the early session is closed unused, never handed on.
    assert session.closed
    early = EarlyOpen(given, lambda: FakeSession())  # type: ignore[arg-type, return-value]
    assert isinstance(early.take(given), FakeSession)
    assert early.take(given) is None


def test_a_refusal_reaches_whoever_takes_it():
    given = Credentials("jo.lead", "a wrong fictional passphrase")

    def refuse():  # type: ignore[no-untyped-def]
        raise PermissionError("wrong user name or passphrase")

    early = EarlyOpen(given, refuse)
    assert early.take_if_open(given, wait=1.0) is None  # left for the unlock screen
    try:
        early.take(given)
    except PermissionError as exc:
        assert "wrong user name" in str(exc)
    else:
        raise AssertionError("the refusal was lost")


def test_closing_the_console_gives_up_on_an_open_that_is_stuck():
    # A file that blocks (a FIFO planted in place of the cache) once left the console's
    # process waiting for ever after Ctrl+Q.
    given = Credentials("jo.lead", "fictional passphrase one")
    release, session = threading.Event(), FakeSession()

    def stuck():  # type: ignore[no-untyped-def]
        release.wait(10)
        return session

    early = EarlyOpen(given, stuck)
    assert early.take_if_open(given, wait=0.05) is None
    taken: list[object] = []
    waiting = threading.Thread(target=lambda: taken.append(early.take(given)))
    waiting.start()
    early.abandon()
    waiting.join(timeout=5)
    assert not waiting.is_alive() and taken == [None]
    release.set()
    for _ in range(100):  # the open ends after all: its session is closed, not kept
        if session.closed:
            break
        threading.Event().wait(0.02)
    assert session.closed
