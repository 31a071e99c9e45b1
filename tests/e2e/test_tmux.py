"""The installed `dsl-console` in a real terminal (tmux): what a DSL does at the keyboard.

These drive the command as installed, on a database made by `dsl-console import` of fictional
cases, and read the screen back with `tmux capture-pane`. Skipped when tmux is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.tmux_kit import CONSOLE, HAVE_TMUX, Terminal, case, import_cases

pytestmark = pytest.mark.e2e
if not HAVE_TMUX or CONSOLE is None:
    pytest.skip("tmux or the installed dsl-console is missing", allow_module_level=True)

PASSPHRASE = "fictional e2e passphrase"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The account from the environment, a config with a two-second sweep."""
    config = tmp_path / "config.toml"
    config.write_text('school = "Example Primary School"\nscan_seconds = 2\n', encoding="utf-8")
    return {
        **os.environ,
        "DSL_CONSOLE_USER": "jo.lead",
        "DSL_CONSOLE_PASSPHRASE": PASSPHRASE,
        "DSL_CONSOLE_CONFIG": str(config),
        "TERM": "xterm-256color",
    }


@pytest.fixture
def terminal(tmp_path: Path, env: dict[str, str]) -> Iterator[Terminal]:
    term = Terminal(tmp_path, env)
    yield term
    term.close()


def test_filter_open_escalate_back_and_quit(tmp_path, env, terminal):
    db = tmp_path / "cases.db"
    now = datetime.now(UTC)
    import_cases(
        db,
        env,
        tmp_path,
        case("E2E-001", "Ada Example", now - timedelta(hours=1)),
        case("E2E-002", "Ben Sample", now - timedelta(hours=2), procedure="gloucestershire"),
    )
    terminal.start("--db", str(db))
    terminal.wait_for("E2E-001", "E2E-002", "2 cases")

    terminal.keys("/")
    terminal.type("Ada")
    shown = terminal.wait_for('1 case matching "Ada"')
    assert "E2E-002" not in shown

    terminal.keys("Enter", "Enter")  # to the list, then open the highlighted case
    terminal.wait_for("Attempt resolution (incl. line manager)", "Escalate")

    # Escalate to stage 2 through the case screen's form.
    terminal.keys("x")
    terminal.wait_for("Escalate to a higher stage", "Choose a higher stage")
    terminal.settle()
    terminal.keys("Enter")  # the form starts on its first field, the stage to go to
    terminal.wait_for("3  LSCB safeguarding representative")  # the stage list is open
    terminal.keys("Down", "Enter")
    terminal.wait_for_line("To stage", "2  Organisation safeguarding representative")
    terminal.keys("Tab")  # the note follows the stage (When and By come last, filled in)
    terminal.settle()
    terminal.type("No agreement with the social worker (fictional).")
    terminal.wait_for("No agreement with the social worker (fictional).")
    terminal.keys("C-s")
    terminal.wait_for("Escalated to stage 2", "No agreement with the social worker")

    terminal.keys("Escape")
    shown = terminal.wait_for("2 Organisation rep", 'matching "Ada"')
    assert "E2E-001" in shown

    terminal.keys("Escape")
    terminal.wait_for("E2E-002")
    terminal.keys("q")
    assert terminal.exit_status() == 0


@pytest.mark.alone  # a promise in seconds: timed with nothing else running
def test_immediate_risk_from_another_process_shows_within_six_seconds(tmp_path, env, terminal):
    db = tmp_path / "cases.db"
    now = datetime.now(UTC)
    import_cases(db, env, tmp_path, case("E2E-010", "Cara Placeholder", now - timedelta(days=1)))
    # Wide, so the notice in the corner leaves the row's flags in view.
    terminal.start("--db", str(db), width=200)
    terminal.wait_for("E2E-010", "1 case")

    # Another process (an import) adds a child at immediate risk; nobody touches the console.
    opened = datetime.now(UTC) - timedelta(minutes=1)
    import_cases(db, env, tmp_path, case("E2E-011", "Dev Testcase", opened, immediate_risk=True))
    written = time.monotonic()
    terminal.wait_for("!! 1 immediate risk", timeout=6.0)
    # The sweep's count and the list's own refresh each take their moment: both within six
    # seconds of the write.
    terminal.wait_for_row("E2E-011", "!!", "risk: escalate", timeout=6.0)
    assert time.monotonic() - written <= 6.0

    terminal.keys("q")
    assert terminal.exit_status() == 0


def test_keys_sent_in_one_burst_land_in_the_field_they_were_typed_for(tmp_path, env, terminal):
    # The first run, typed as a password manager or a paste sends it: every key at once. The
    # passphrase once landed, in clear, in the user name box.
    db = tmp_path / "cases.db"
    first_run = {k: v for k, v in env.items() if not k.startswith("DSL_CONSOLE_PASS")}
    first_run.pop("DSL_CONSOLE_USER")
    burst = Terminal(tmp_path / "burst", first_run)
    (tmp_path / "burst").mkdir()
    try:
        burst.start("--db", str(db), height=40)
        burst.wait_for("Create the first DSL account")
        burst.settle()
        burst._tmux(
            "send-keys",
            "r", "j", "o", "n", "e", "s", "Tab",
            *"correct horse battery", "Tab",
            *"correct horse battery", "Tab",
            *"Rhian Jones", "Enter", *"Designated Safeguarding Lead", "Enter",
            *"rj@school.example", "Enter",
        )  # fmt: skip
        burst.wait_for("0 cases", timeout=30)
        assert "correct horse" not in burst.screen()
        burst.keys("q")
        assert burst.exit_status() == 0
    finally:
        burst.close()
    listed = subprocess.run(
        [CONSOLE or "dsl-console", "--db", str(db), "user", "list"],
        capture_output=True,
        text=True,
        env={
            **first_run,
            "DSL_CONSOLE_USER": "rjones",
            "DSL_CONSOLE_PASSPHRASE": "correct horse battery",
        },
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    _header, row = listed.stdout.splitlines()
    assert row.startswith("rjones") and "Rhian Jones" in row
    # Enter moved on field by field, however fast: each value in its own field.
    assert "Rhian JonesDesignated" not in listed.stdout
    assert "Designated Safeguarding Lead" in listed.stdout


def test_every_export_from_the_console_is_named_for_what_it_is(tmp_path, env):
    # The morning's exports one after another, as a DSL makes them: each file is named for
    # its kind and format, and holds what its name says (a PDF once went out as a .csv).
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    env = {**env, "HOME": str(home)}
    db = tmp_path / "cases.db"
    now = datetime.now(UTC)
    import_cases(db, env, tmp_path, case("E2E-010", "Ada Example", now - timedelta(hours=1)))
    terminal = Terminal(tmp_path, env)
    documents = home / "Documents"

    def written(pattern: str) -> Path:
        deadline = time.monotonic() + 30
        while not (found := sorted(documents.glob(pattern))):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern} written; the screen was:\n{terminal.screen()}")
            time.sleep(0.1)
        return found[0]

    try:
        # Wide enough for the full path on one line.
        terminal.start("--db", str(db), width=230, height=40)
        terminal.wait_for("E2E-010", "1 case")
        terminal.keys("E")
        terminal.wait_for("Save as")
        terminal.settle()
        terminal.keys("C-s")
        written("escalation-log-*.csv")
        terminal.wait_for("✓ wrote")
        terminal.keys("C-s")  # straight after: the same name again, so it asks first
        terminal.wait_for("already exists")
        terminal.keys("y")
        terminal.settle()
        terminal.keys("Tab", "Enter")  # Format: open its list
        terminal.settle()
        terminal._tmux("send-keys", "Down", "Enter")
        terminal.wait_for_line("Format", "xlsx")
        terminal.keys("C-s")
        written("escalation-log-*.xlsx")
        terminal.keys("Escape")
        terminal.wait_for("1 case")
        terminal.keys("Enter")  # the case, then its partnership form
        terminal.wait_for("Escalate")
        terminal.keys("E")
        terminal.wait_for_line("Export", "Partnership form")
        terminal.settle()
        terminal.keys("C-s")
        written("E2E-010-liverpool-*.pdf")
        terminal.keys("Escape")
        terminal.settle()
        terminal.keys("Escape")
        terminal.wait_for("1 case")
        terminal.keys("E")
        terminal.wait_for("Save as")
        terminal.settle()
        terminal.keys("Enter")  # Export: open its list, two down to the yearly analysis
        terminal.settle()
        terminal._tmux("send-keys", "Down", "Down", "Enter")
        terminal.wait_for_line("Export", "Yearly analysis")
        terminal.settle()
        terminal.keys("C-s")
        written("escalation-analysis-*")
        terminal.keys("Escape")
        terminal.settle()
        terminal.keys("q")
        assert terminal.exit_status() == 0
    finally:
        terminal.close()
    written = {p.suffix: p.read_bytes()[:4] for p in (home / "Documents").iterdir()}
    assert set(written) == {".csv", ".xlsx", ".pdf"}, written
    assert written[".xlsx"] == b"PK\x03\x04"  # a zip: the workbook
    assert written[".pdf"] == b"%PDF"  # the form and the analysis, each under its own name
    assert written[".csv"][:1] not in (b"%", b"P", b"{")
    names = sorted(p.name for p in (home / "Documents").iterdir())
    assert len(names) == 4 and any(n.startswith("escalation-analysis-") for n in names), names


def exported_cases(db: Path, env: dict[str, str], folder: Path) -> list[dict]:
    """Every case as `dsl-console export json` writes it: what was really saved."""
    out = folder / f"all-{time.monotonic_ns()}.json"
    done = subprocess.run(
        [CONSOLE or "dsl-console", "--db", str(db), "export", "json", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(out.read_text())["cases"])


@pytest.mark.parametrize("reason_too", [False, True], ids=["ticks", "ticks-and-dropdown"])
def test_a_new_case_typed_in_one_burst_keeps_every_tick_and_choice(
    tmp_path, env, terminal, reason_too
):
    # The new-case form filled in one burst (a paste, a lagging session). The spaces that
    # tick CP plan and Immediate risk came just before a tab and were once lost, leaving a
    # child at immediate risk recorded without it; the reason's Enter, Down, Enter opened the
    # list after the keys meant for it, so nothing was chosen.
    db = tmp_path / "cases.db"
    now = datetime.now(UTC)
    import_cases(db, env, tmp_path, case("E2E-020", "Ada Example", now - timedelta(hours=1)))
    terminal.start("--db", str(db), width=110, height=40)
    terminal.wait_for("E2E-020", "1 case")
    terminal.keys("n")
    terminal.wait_for("Child name")
    terminal.settle()
    reason = ["Enter", "Down", "Enter"] if reason_too else []
    terminal._tmux(
        "send-keys",
        "Tab", "Tab", "Tab", *"Zoe Test", "Tab", *"30/06/2014", "Tab", *"Police",
        "Tab", "Tab", "Tab", "Space", "Tab", "Tab", "Space", "Tab", *reason,
    )  # fmt: skip
    terminal.wait_for_line("Reason")
    terminal.settle()
    if not reason_too:
        terminal.keys("Enter")  # the reason, at a person's pace
        terminal.settle()
        terminal.keys("Down", "Enter")
    terminal.wait_for_line("Reason", "Thresholds / level of need")
    terminal.settle()
    terminal.keys("C-s")
    # Saved, the new case opens: on a plan, the risk raised at the opening.
    terminal.wait_for("Child: Zoe Test", "on a child protection plan", "Immediate risk raised")
    terminal.keys("Escape")
    terminal.wait_for("2 cases")
    terminal.keys("q")
    assert terminal.exit_status() == 0
    (new,) = [c for c in exported_cases(db, env, tmp_path) if c["ref"] != "E2E-020"]
    assert new["child"]["name"] == "Zoe Test" and new["child"]["dob"] == "2014-06-30"
    assert new["other_agency"] == "Police" and new["reason"] == "threshold"
    assert (new["cp_plan"], new.get("looked_after", False), new["immediate_risk"]) == (
        True,
        False,
        True,
    )


def test_clearing_a_box_and_typing_in_one_burst_keeps_what_was_typed(tmp_path, env, terminal):
    # Tab to When, ctrl+u to clear it, the time typed: sent at once, the clearing once came
    # after the typing and left When empty. Enter after a name moved on before its last letters.
    from zoneinfo import ZoneInfo

    db = tmp_path / "cases.db"
    now = datetime.now(UTC)
    import_cases(db, env, tmp_path, case("E2E-030", "Ada Example", now - timedelta(hours=3)))
    when = (now - timedelta(hours=1)).astimezone(ZoneInfo("Europe/London"))
    terminal.start("--db", str(db), width=110, height=40)
    terminal.wait_for("E2E-030", "1 case")
    terminal.keys("Enter")
    terminal.wait_for("Escalate")
    terminal.keys("e")
    terminal.wait_for("Record an event")
    terminal.settle()
    terminal._tmux(
        "send-keys", "Tab", *"Rang the duty team", "Tab", "C-u", *f"{when:%d/%m/%Y %H:%M}"
    )
    terminal.wait_for_line("When", f"{when:%d/%m/%Y %H:%M}")
    terminal.settle()
    terminal.keys("C-s")
    terminal.wait_for("Rang the duty team", "Escalate")
    terminal.keys("Escape")
    terminal.wait_for("1 case")
    terminal.keys("q")
    assert terminal.exit_status() == 0
    (note,) = exported_cases(db, env, tmp_path)[0]["events"]
    assert note["note"] == "Rang the duty team"
    assert datetime.fromisoformat(note["at"]) == when.replace(second=0, microsecond=0)


def test_a_dropped_connection_ends_the_console_and_its_helpers_at_once(tmp_path, env, terminal):
    # Closing the terminal (an SSH connection dropping) sends SIGHUP: nothing of the console,
    # which holds the key, may stay running, and the database is left whole.
    db = tmp_path / "cases.db"
    now = datetime.now(UTC)
    import_cases(db, env, tmp_path, case("E2E-040", "Ada Example", now - timedelta(hours=1)))
    terminal.start("--db", str(db))
    terminal.wait_for("E2E-040", "1 case")
    time.sleep(1.0)  # the sweep's helper process is up by now

    def family(pids: list[str]) -> list[str]:
        """These processes and all their descendants."""
        found = list(pids)
        for pid in pids:
            children = subprocess.run(["pgrep", "-P", pid], capture_output=True, text=True)
            found += family(children.stdout.split())
        return found

    console = subprocess.run(["pgrep", "-f", "--", f"--db {db}"], capture_output=True, text=True)
    everyone = family(console.stdout.split())
    assert len(everyone) >= 2, everyone  # the console and its sweep's helper

    def alive() -> list[str]:
        return [pid for pid in everyone if Path(f"/proc/{pid}").exists()]

    terminal.close()  # the terminal goes away, as when the connection drops
    deadline = time.monotonic() + 5
    while alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alive() == []
    verified = subprocess.run(
        [CONSOLE or "dsl-console", "--db", str(db), "audit", "verify"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_keys_typed_while_the_console_starts_wait_for_it_unseen(tmp_path, env):
    # A hurried DSL types the passphrase while the console is still starting, with a wrong
    # one in the environment. It used to be echoed on the shell's screen (still there after
    # the console closed) and to land, in clear, in the user name box.
    db = tmp_path / "cases.db"
    import_cases(db, env, tmp_path, case("E2E-001", "Ada Example", datetime.now(UTC)))
    wrong = Terminal(tmp_path / "wrong", {**env, "DSL_CONSOLE_PASSPHRASE": "not the passphrase"})
    (tmp_path / "wrong").mkdir()
    try:
        wrong.run(
            f"{CONSOLE or 'dsl-console'} --db {db}; echo console ended $?; sleep 60", height=30
        )
        # Typed as soon as the command runs (its first step holds the keys; what is typed
        # before that is the shell's), long before the console draws.
        wrong.wait_until_keys_are_held()
        wrong.type(PASSPHRASE)
        shown = wrong.wait_for("Wrong user name or passphrase")
        assert PASSPHRASE not in shown and "jo.lead" in shown  # the user name box kept
        # Typed ahead, the passphrase either waited in its own box (masked) or, arriving while
        # the environment's one was being tried, went nowhere: never anywhere else.
        if "•" not in shown:
            wrong.type(PASSPHRASE)
        wrong.keys("Enter")
        wrong.wait_for("E2E-001", "1 case")
        wrong._tmux("send-keys", "C-q")
        after = wrong.wait_for("console ended 0")
        assert PASSPHRASE not in after
    finally:
        wrong.close()
    # Ctrl+Q typed as the console starts is a key for it, not the terminal's flow control.
    quick = Terminal(tmp_path / "quick", env)
    (tmp_path / "quick").mkdir()
    try:
        quick.run(f"{CONSOLE or 'dsl-console'} --db {db}; echo console ended $?; sleep 60")
        # As soon as the command has taken the terminal from the shell (its first step, long
        # before the console draws): a Ctrl+Q before that is the shell's terminal's, which no
        # program can see, and on a busy machine Python's own start takes a while.
        quick.wait_until_keys_are_held()
        quick._tmux("send-keys", "C-q")
        quick.wait_for("console ended 0")
    finally:
        quick.close()
