"""The write watcher: another connection's new case or event is noticed once, a commit that
adds neither is not, and once closed it neither reads nor keeps the key."""

from __future__ import annotations

from dsl_console.services.write_watch import WriteWatcher
from tests.conftest import case_json, document


def test_another_connections_commit_is_noticed_once(session_factory) -> None:
    from dsl_console.services.casebook import import_cases
    from dsl_console.services.transfer import read_document

    session = session_factory()
    watcher = WriteWatcher(session)
    assert watcher.changed() is False  # nothing written since the baseline
    with session.db.connection_context():
        cases = read_document(
            document(case_json("SCH-2026-077")).encode(),
            session.registry,
            session.now(),
            session.calendar,
        )
        import_cases(session, cases)
    assert watcher.changed() is True
    assert watcher.changed() is False  # told once
    # A commit that adds no case or event (an audited view) is nothing to redraw for.
    with session.db.connection_context():
        session.audit("view", ref="SCH-2026-077")
    assert watcher.changed() is False
    watcher.close()
    assert watcher.changed() is False and watcher._key == bytearray()
