"""The `dsl-console` command holds typed keys from its first step, and every command that is
not the console gives the terminal back as it found it: echo on, Ctrl+Q flow control."""

from __future__ import annotations

import os
import subprocess
import sys
import termios

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")

# The installed command's entry point, run on a terminal of its own.
COMMAND = "import sys; from dsl_console.launch import main; sys.exit(main())"
PROBE = (
    "import sys, termios\n"
    "from dsl_console import typeahead\n"
    "typeahead.hold_from_the_start()\n"
    "modes = termios.tcgetattr(0)\n"
    "print('echo' if modes[3] & termios.ECHO else 'quiet', "
    "'ixon' if modes[0] & termios.IXON else 'keys')\n"
    "typeahead.let_go()\n"
)


def _on_a_terminal(code: str, *args: str) -> tuple[subprocess.CompletedProcess, list]:
    """Run Python code with a pseudo-terminal as its standard input; the terminal's modes
    once it has ended."""
    leader, follower = os.openpty()
    try:
        attrs = termios.tcgetattr(follower)
        attrs[3] |= termios.ECHO
        attrs[0] |= termios.IXON
        termios.tcsetattr(follower, termios.TCSANOW, attrs)
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            stdin=follower,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done, termios.tcgetattr(follower)
    finally:
        os.close(leader)
        os.close(follower)


def test_from_its_first_step_the_command_echoes_no_key_and_passes_ctrl_q_on():
    done, after = _on_a_terminal(PROBE)
    assert done.stdout.split() == ["quiet", "keys"]
    assert after[3] & termios.ECHO and after[0] & termios.IXON  # let go: as it was


@pytest.mark.parametrize(
    "args",
    [("procedures",), ("--no-such-option",), ("check", "--as-of", "not a date")],
    ids=["a command that is not the console", "a usage error", "a refused command"],
)
def test_a_command_that_is_not_the_console_leaves_the_terminal_as_it_found_it(args, tmp_path):
    done, after = _on_a_terminal(COMMAND, "--db", str(tmp_path / "cases.db"), *args)
    assert done.returncode in (0, 2), done.stderr
    assert after[3] & termios.ECHO, "the terminal was left without echo"
    assert after[0] & termios.IXON, "the terminal was left without flow control"


@pytest.mark.parametrize(
    ("command", "echoes"),
    [(["procedures"], True), (["demo"], False), ([], False)],
    ids=["procedures", "demo", "the console"],
)
def test_the_hold_is_let_go_before_any_command_but_the_console_runs(
    command, echoes, monkeypatch, tmp_path
):
    from dsl_console import cli, typeahead

    leader, follower = os.openpty()
    stdin = os.fdopen(follower, "r")
    try:
        monkeypatch.setattr(sys, "stdin", stdin)
        typeahead.hold_from_the_start()
        seen: list[bool] = []

        def handler(args: object) -> int:
            seen.append(bool(termios.tcgetattr(follower)[3] & termios.ECHO))
            return 0

        handlers = {"procedures": handler, "demo": handler, "console": handler}
        monkeypatch.setattr(cli, "_handlers", lambda: handlers)
        assert cli.run(["--db", str(tmp_path / "cases.db"), *command]) == 0
        # The console's prompts (a passphrase typed ahead) stay unseen until it takes over;
        # any other command's prompts echo as usual.
        assert seen == [echoes]
        assert termios.tcgetattr(follower)[3] & termios.ECHO  # and it ends as it began
    finally:
        typeahead.let_go()
        stdin.close()
        os.close(leader)


def test_the_command_holds_the_keys_before_it_imports_the_command_line(tmp_path):
    # 70 ms of imports, more on a busy server: a passphrase typed then was echoed.
    code = (
        "import sys\n"
        "from dsl_console import launch, typeahead\n"
        "began = typeahead.hold_from_the_start\n"
        "def probe():\n"
        "    print('cli already imported' if 'dsl_console.cli' in sys.modules else 'first')\n"
        "    began()\n"
        "typeahead.hold_from_the_start = probe\n"
        f"sys.argv = ['dsl-console', '--db', {str(tmp_path / 'cases.db')!r}, 'procedures']\n"
        "sys.exit(launch.main())\n"
    )
    done, after = _on_a_terminal(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "first"
    assert after[3] & termios.ECHO
