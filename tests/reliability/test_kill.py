"""kill -9 at random moments: every acknowledged write survives, the file stays whole, the audit
chain stays unbroken, and the next start needs no manual step.

Library writers are forked children of this process (cheap key derivation, so each start takes
milliseconds and 200+ kills fit in well under a minute); a smaller run kills the installed
`dsl-console` command itself. The seed is fixed so a failure can be replayed; set
DSL_RELIABILITY_SEED to explore other schedules.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from random import Random

import pytest
from reliability_kit import (
    CREDENTIALS,
    FAST_KDF,
    NOW,
    OPENED,
    PASSPHRASE,
    USER,
    Acks,
    KillStats,
    cached_state_mismatches,
    case_json,
    command_env,
    document,
    event_time,
    fixed_clock,
    fork_writer,
    health,
    installed_command,
    kill_at_random,
    make_database,
    open_as_user,
    read_acks,
    session_on,
)

from dsl_console.config import Config
from dsl_console.core.records import Case, Child, Event
from dsl_console.services.casebook import import_cases, open_case, record_event
from dsl_console.services.exporting import export_json
from dsl_console.services.session import open_session
from dsl_console.services.transfer import read_document
from dsl_console.store import audit, keyslots
from dsl_console.store.cases import load_case
from dsl_console.store.models import Escalation, EventRow

SEED = int(os.environ.get("DSL_RELIABILITY_SEED", "20261123"))


def _rng(name: str) -> Random:
    return Random(f"{SEED}-{name}")


def _assert_healthy(session, family: str) -> int:  # type: ignore[no-untyped-def]
    found = health(session)
    assert found.integrity == "ok", f"{family}: integrity_check said {found.integrity}"
    assert not found.audit_break, f"{family}: audit chain broken: {found.audit_break}"
    return found.audit_entries


def _diagnostics(diag: Path) -> str:
    return diag.read_text(encoding="utf-8") if diag.exists() else ""


def _record(figures, family: str, stats: KillStats, **counts: int) -> None:  # type: ignore[no-untyped-def]
    figures.add(
        "kill -9",
        kills=stats.kills,
        **{f"{family} kills": stats.kills},
        **counts,
    )


# -- recording events ----------------------------------------------------------------------------
def _events_writer(db: Path, acks_path: Path, refs: list[str], round_no: int, seed: int) -> None:
    rng = Random(seed)
    acks = Acks(acks_path)
    session = open_as_user(db)
    for i in range(100_000):
        ref = refs[i % len(refs)]
        case = load_case(ref)
        marker = f"r{round_no}-{i}"
        # Sizes from a line to several pages, so commits span one or many WAL frames.
        note = marker + " " + "Fictional note text. " * rng.choice((0, 3, 40, 400))
        record_event(session, ref, Event(at=event_time(case.events[-1].at), kind="note", note=note))
        acks.ack("event", ref, marker)


def test_kill_while_recording_events(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    refs = [f"EVT-{n}" for n in range(4)]
    db = make_database(tmp_path / "cases.db", [case_json(ref) for ref in refs])
    acks, diag = tmp_path / "acks", tmp_path / "diag"
    rng, stats = _rng("events"), KillStats()
    checked = 0
    for round_no in range(66):
        pid = fork_writer(
            lambda r=round_no: _events_writer(db, acks, refs, r, rng.randrange(1 << 30)), diag
        )
        kill_at_random(pid, rng, 0.2, stats)
        assert not _diagnostics(diag), _diagnostics(diag)
        with session_on(db) as session:
            _assert_healthy(session, "events")
            stored = {
                (row.escalation.ref, row.note.split(" ", 1)[0])
                for row in EventRow.select(EventRow.note, Escalation.ref).join(Escalation)
            }
            promised = {(ref, marker) for _, ref, marker in read_acks(acks)}
            lost = promised - stored
            assert not lost, f"acknowledged events lost after a kill: {sorted(lost)[:5]}"
            checked += len(promised)
    promised_total = len(read_acks(acks))
    assert promised_total > 30, "the writers hardly wrote: the test proves little"
    _record(
        figures,
        "events",
        stats,
        **{"acked writes": promised_total, "acked writes checked": checked, "lost": 0},
    )


# -- escalation ----------------------------------------------------------------------------------
ESCALATION_STEPS: tuple[dict, ...] = (
    {"kind": "escalated", "stage": 2, "by": "B. Lead"},
    {"kind": "risk-raised"},
    {"kind": "risk-escalated", "whom": "Police"},
    {"kind": "notified", "whom": "partnership"},
    {"kind": "escalated", "stage": 3, "by": "B. Lead"},
    {"kind": "deadline-set", "due_days": 3},
    {"kind": "escalated", "stage": 4, "by": "C. Chair"},
    {"kind": "resolved"},
)


def _escalation_writer(db: Path, acks_path: Path, round_no: int) -> None:
    acks = Acks(acks_path)
    session = open_as_user(db)
    for n in range(10_000):
        ref = f"ESC-{round_no}-{n}"
        case = Case(
            ref=ref,
            procedure="liverpool",
            opened_at=OPENED,
            child=Child(name="Ben Example", dob=NOW.date().replace(year=2013)),
            cp_plan=n % 2 == 0,
            reason="threshold",
        )
        open_case(session, case)
        acks.ack("open", ref)
        at = OPENED
        for step_no, step in enumerate(ESCALATION_STEPS):
            at = event_time(at)
            fields = {k: v for k, v in step.items() if k != "due_days"}
            if "due_days" in step:
                fields["due"] = at + timedelta(days=step["due_days"])
            marker = f"s{step_no}"
            record_event(session, ref, Event(at=at, note=f"{marker} fictional", **fields))
            acks.ack("event", ref, marker)


def test_kill_while_escalating(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    db = make_database(tmp_path / "cases.db")
    acks, diag = tmp_path / "acks", tmp_path / "diag"
    rng, stats = _rng("escalation"), KillStats()
    checked = 0
    for round_no in range(35):
        pid = fork_writer(lambda r=round_no: _escalation_writer(db, acks, r), diag)
        kill_at_random(pid, rng, 0.25, stats)
        assert not _diagnostics(diag), _diagnostics(diag)
        with session_on(db) as session:
            _assert_healthy(session, "escalation")
            # Each event and the case's cached stage, due and flags change in one transaction:
            # a kill between them would show here as a case whose list row disagrees.
            assert cached_state_mismatches(session) == []
            stored = {
                (row.escalation.ref, row.note.split(" ", 1)[0])
                for row in EventRow.select(EventRow.note, Escalation.ref).join(Escalation)
            }
            opened = {row.ref for row in Escalation.select(Escalation.ref)}
            for ack in read_acks(acks):
                if ack[0] == "open":
                    assert ack[1] in opened, f"acknowledged case {ack[1]} lost"
                else:
                    assert (ack[1], ack[2]) in stored, f"acknowledged event {ack[1:]} lost"
                checked += 1
    total = len(read_acks(acks))
    assert total > 20, "the writers hardly wrote: the test proves little"
    _record(
        figures,
        "escalation",
        stats,
        **{"acked writes": total, "acked writes checked": checked, "lost": 0},
    )


# -- import --------------------------------------------------------------------------------------
BATCH = 25


def _import_writer(db: Path, acks_path: Path, round_no: int) -> None:
    acks = Acks(acks_path)
    session = open_as_user(db)
    for batch in range(10_000):
        cases = [case_json(f"IMP-{round_no}-{batch}-{i:02d}") for i in range(BATCH)]
        import_cases(
            session, read_document(document(cases), session.registry, NOW, session.calendar)
        )
        acks.ack("import", f"IMP-{round_no}-{batch}-")


def test_kill_while_importing(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    db = make_database(tmp_path / "cases.db")
    acks, diag = tmp_path / "acks", tmp_path / "diag"
    rng, stats = _rng("import"), KillStats()
    checked = 0
    for round_no in range(35):
        pid = fork_writer(lambda r=round_no: _import_writer(db, acks, r), diag)
        kill_at_random(pid, rng, 0.3, stats)
        assert not _diagnostics(diag), _diagnostics(diag)
        with session_on(db) as session:
            _assert_healthy(session, "import")
            per_batch = Counter(
                row.ref.rsplit("-", 1)[0] + "-"
                for row in Escalation.select(Escalation.ref).where(
                    Escalation.ref.startswith("IMP-")
                )
            )
            # All or nothing: a killed import leaves no part of its cases behind.
            partial = {batch: n for batch, n in per_batch.items() if n != BATCH}
            assert not partial, f"a killed import left part of itself: {partial}"
            events = EventRow.select().count()
            assert events == 2 * sum(per_batch.values()), "cases without all their events"
            for _, prefix in read_acks(acks):
                assert per_batch.get(prefix) == BATCH, f"acknowledged import {prefix} lost"
                checked += BATCH
    total = len(read_acks(acks))
    assert total > 5, "the writers hardly wrote: the test proves little"
    _record(
        figures,
        "import",
        stats,
        **{"acked writes": total * BATCH, "acked writes checked": checked, "lost": 0},
    )


def _first_start_writer(db: Path, acks_path: Path) -> None:
    acks = Acks(acks_path)
    # What `dsl-console import` does on a machine with no database yet: create, then import.
    session = open_session(
        db, Config(), CREDENTIALS, create=True, kdf_cost=FAST_KDF, clock=fixed_clock
    )
    cases = [case_json(f"NEW-{i}") for i in range(5)]
    import_cases(session, read_document(document(cases), session.registry, NOW, session.calendar))
    acks.ack("import", "NEW-")
    session.close()


def test_kill_during_the_very_first_start(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    """A first import killed while it creates the database: running it again just works."""
    rng, stats = _rng("first-start"), KillStats()
    recovered = 0
    for round_no in range(20):
        folder = tmp_path / f"r{round_no}"
        folder.mkdir()
        db, acks, diag = folder / "cases.db", folder / "acks", folder / "diag"
        pid = fork_writer(lambda d=db, a=acks: _first_start_writer(d, a), diag)
        kill_at_random(pid, rng, 0.12, stats)
        assert not _diagnostics(diag), _diagnostics(diag)
        # The next start, exactly as the user would run it again.
        session = open_session(
            db, Config(), CREDENTIALS, create=True, kdf_cost=FAST_KDF, clock=fixed_clock
        )
        try:
            _assert_healthy(session, "first start")
            present = Escalation.select().where(Escalation.ref.startswith("NEW-")).count()
            assert present in (0, 5)
            if read_acks(acks):
                assert present == 5, "an acknowledged first import was lost"
            if present == 0:
                cases = [case_json(f"NEW-{i}") for i in range(5)]
                import_cases(
                    session,
                    read_document(document(cases), session.registry, NOW, session.calendar),
                )
            recovered += 1
        finally:
            session.close()
    _record(figures, "first start", stats, **{"restarts without a manual step": recovered})


# -- export --------------------------------------------------------------------------------------
def _export_writer(db: Path, out: Path, acks_path: Path) -> None:
    acks = Acks(acks_path)
    session = open_as_user(db)
    for n in range(10_000):
        count = export_json(session, out)
        session.write(lambda: audit.record(session.now(), session.user, "export", "", "json"))
        acks.ack("export", n, count)


def test_kill_while_exporting(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    cases = [case_json(f"EXP-{i}") for i in range(150)]
    db = make_database(tmp_path / "cases.db", cases)
    out = tmp_path / "out" / "cases.json"
    out.parent.mkdir()
    acks, diag = tmp_path / "acks", tmp_path / "diag"
    rng, stats = _rng("export"), KillStats()
    whole = 0
    for _ in range(25):
        pid = fork_writer(lambda: _export_writer(db, out, acks), diag)
        kill_at_random(pid, rng, 0.5, stats)
        assert not _diagnostics(diag), _diagnostics(diag)
        with session_on(db) as session:
            _assert_healthy(session, "export")
            exports = audit.lines(limit=100_000)
            audited = sum(1 for line in exports if line.action == "export")
            assert audited >= len(read_acks(acks)), "an acknowledged export's audit entry lost"
            if out.exists():
                # Never a half-written file under the name asked for: old or new, whole.
                back = read_document(out.read_bytes(), session.registry, NOW, session.calendar)
                assert len(back) == len(cases)
                whole += 1
    leftovers = [p for p in out.parent.iterdir() if p != out]
    assert all(p.stat().st_mode & 0o077 == 0 for p in leftovers), "a leftover is not private"
    # The next export into the folder removes what the killed ones left.
    with session_on(db) as session:
        export_json(session, out)
    assert [p for p in out.parent.iterdir() if p != out] == []
    total = len(read_acks(acks))
    _record(
        figures,
        "export",
        stats,
        **{"acked writes": total, "exports read back whole": whole, "lost": 0},
    )
    figures.note(
        "kill -9",
        f"export: {len(leftovers)} private temp file(s) left by killed exports, removed by the "
        "next export; the file asked for was never partial",
    )


# -- backup --------------------------------------------------------------------------------------
def _backup_writer(db: Path, out: Path, acks_path: Path) -> None:
    from dsl_console.services.backups import make_backup

    acks = Acks(acks_path)
    session = open_as_user(db)
    for n in range(10_000):
        make_backup(session, out, force=True)  # the same backup, replaced each time
        acks.ack("backup", n)


def _backup_cases(out: Path) -> int:
    """Open a backup read-only with its own key file; the number of cases, after full checks."""
    from sqlcipher3 import dbapi2 as sqlcipher

    key = keyslots.unwrap(keyslots.read_slots(keyslots.keys_path(out)), USER, PASSPHRASE)
    conn = sqlcipher.connect(f"file:{out}?mode=ro", uri=True)
    try:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA cipher_integrity_check").fetchall() == []
        return int(conn.execute("SELECT count(*) FROM escalation").fetchone()[0])
    finally:
        conn.close()


def test_kill_while_backing_up(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("dsl_console.services.backups")
    cases = [case_json(f"BAK-{i}") for i in range(150)]
    db = make_database(tmp_path / "cases.db", cases)
    out = tmp_path / "backups" / "cases.backup"
    out.parent.mkdir()
    acks, diag = tmp_path / "acks", tmp_path / "diag"
    rng, stats = _rng("backup"), KillStats()
    whole = 0
    for _ in range(25):
        pid = fork_writer(lambda: _backup_writer(db, out, acks), diag)
        kill_at_random(pid, rng, 0.4, stats)
        assert not _diagnostics(diag), _diagnostics(diag)
        with session_on(db) as session:
            _assert_healthy(session, "backup")
            audited = sum(1 for line in audit.lines(limit=100_000) if line.action == "backup")
            assert audited >= len(read_acks(acks)), "an acknowledged backup's audit entry lost"
        if out.exists():
            assert _backup_cases(out) == len(cases)
            whole += 1
    total = len(read_acks(acks))
    _record(
        figures,
        "backup",
        stats,
        **{"acked writes": total, "backups opened whole": whole, "lost": 0},
    )


def _restore_writer(backup: Path, db: Path, acks_path: Path) -> None:
    from dsl_console.services.backups import restore_backup

    acks = Acks(acks_path)
    restore_backup(backup, db, Config(), CREDENTIALS, clock=fixed_clock)
    acks.ack("restore")


def test_kill_while_restoring(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    """A restore killed part-way leaves a database where the user looks for it (the old one or
    the restored one, whole), never none at all."""
    pytest.importorskip("dsl_console.services.backups")
    from dsl_console.services.backups import make_backup

    db = make_database(tmp_path / "cases.db", [case_json(f"RES-{i}") for i in range(100)])
    backup = tmp_path / "backups" / "cases.backup"
    with session_on(db) as session:
        make_backup(session, backup)
        more = [case_json(f"NEWER-{i}") for i in range(10)]
        import_cases(
            session, read_document(document(more), session.registry, NOW, session.calendar)
        )
    acks, diag = tmp_path / "acks", tmp_path / "diag"
    rng, stats = _rng("restore"), KillStats()
    for _ in range(25):
        pid = fork_writer(lambda: _restore_writer(backup, db, acks), diag)
        kill_at_random(pid, rng, 0.1, stats)
        assert not _diagnostics(diag), _diagnostics(diag)
        assert db.exists(), "a killed restore left no database where the user looks for it"
        with session_on(db) as session:
            _assert_healthy(session, "restore")
            count = Escalation.select().count()
            assert count in (100, 110), count
            if read_acks(acks):
                assert count == 100, "an acknowledged restore did not take"
    _record(
        figures,
        "restore",
        stats,
        **{"restores completed": len(read_acks(acks)), "databases missing after a kill": 0},
    )


# -- the installed command -----------------------------------------------------------------------
def test_kill_the_installed_command(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    """kill -9 of `dsl-console import` and `dsl-console export json` mid-run."""
    db = make_database(tmp_path / "cases.db", [case_json(f"CLI-{i}") for i in range(100)])
    env = command_env(db, tmp_path / "home")
    command = installed_command()
    rng, stats = _rng("installed"), KillStats()
    acked: set[str] = set()
    out = tmp_path / "export.json"
    # Kills are timed against how long a command takes on this machine (a quarter of a second
    # here), so that most land mid-run however fast or loaded the machine is. The second run
    # is timed: the first also writes the bank holidays' copy into the fresh home's cache.
    for _ in range(2):
        started = time.perf_counter()
        subprocess.run(
            [command, "export", "json", "--out", str(out), "--force"], env=env, capture_output=True
        )
        run_time = time.perf_counter() - started
    for round_no in range(20):
        if round_no % 2 == 0:
            source = tmp_path / f"batch{round_no}.json"
            source.write_bytes(document([case_json(f"B{round_no}-{i}") for i in range(40)]))
            argv = [command, "import", str(source)]
        else:
            argv = [command, "export", "json", "--out", str(out), "--force"]
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        delay = rng.uniform(0.2, 1.1) * run_time
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.kill()
        _, stderr = proc.communicate()
        if proc.returncode == -9:
            stats.kills += 1
        else:
            assert proc.returncode == 0, stderr.decode()
            stats.finished_before_kill += 1
            if round_no % 2 == 0:
                acked.add(f"B{round_no}-")
        if round_no % 4 == 3:
            # The next start, as a user would make it: a plain check, no repair step.
            check = subprocess.run([command, "check"], env=env, capture_output=True, timeout=60)
            assert check.returncode in (0, 1), check.stderr.decode()
        with session_on(db) as session:
            _assert_healthy(session, "installed command")
            per_batch = Counter(
                row.ref.rsplit("-", 1)[0] + "-"
                for row in Escalation.select(Escalation.ref).where(Escalation.ref.startswith("B"))
            )
            assert all(n == 40 for n in per_batch.values()), "a killed import left part of itself"
            assert all(per_batch.get(prefix) == 40 for prefix in acked)
            if out.exists():
                back = read_document(out.read_bytes(), session.registry, NOW, session.calendar)
                assert len(back) == Escalation.select().count() or len(back) >= 100
    assert stats.kills >= 8, "too few runs were killed mid-way to prove anything"
    figures.add(
        "kill -9",
        kills=stats.kills,
        **{"installed dsl-console kills": stats.kills, "installed runs completed": len(acked)},
    )


# A compact check that the harness itself can see a loss: an ack for a write that was never made.
def test_the_harness_notices_a_lost_write(tmp_path: Path) -> None:
    db = make_database(tmp_path / "cases.db", [case_json("EVT-0")])
    acks = Acks(tmp_path / "acks")
    acks.ack("event", "EVT-0", "never-written")
    with session_on(db):
        stored = {row.note.split(" ", 1)[0] for row in EventRow.select(EventRow.note)}
    promised = {marker for _, _, marker in read_acks(tmp_path / "acks")}
    assert promised - stored == {"never-written"}
