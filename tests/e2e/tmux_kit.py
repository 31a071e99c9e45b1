"""A terminal for the end-to-end tests: the installed `dsl-console` in a private tmux server,
driven with send-keys and read back with capture-pane."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path


def _console_command() -> str | None:
    # The command installed beside this interpreter (the venv CI runs pytest from), else one
    # on the PATH.
    beside = Path(sys.executable).parent / "dsl-console"
    if beside.exists():
        return str(beside)
    return shutil.which("dsl-console")


CONSOLE = _console_command()
HAVE_TMUX = shutil.which("tmux") is not None


class Terminal:
    """One tmux session on a private server, holding the console."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.socket = f"dslc-e2e-{os.getpid()}-{folder.name}"
        self.env = env
        self.status = folder / "exit-status"

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
        )
        return done.stdout

    def start(self, *console_args: str, width: int = 110, height: int = 30) -> None:
        """Run the console; its exit status lands in a file when it ends."""
        self.run(" ".join([CONSOLE or "dsl-console", *console_args]), width=width, height=height)

    def run(self, command: str, *, width: int = 110, height: int = 30) -> None:
        """Run a shell command in the terminal; its exit status lands in a file when it ends."""
        self._tmux(
            "new-session",
            "-d",
            "-x",
            str(width),
            "-y",
            str(height),
            f"{command}; echo $? > {self.status}",
        )

    def screen(self) -> str:
        """What the terminal shows now."""
        return self._tmux("capture-pane", "-p")

    def keys(self, *keys: str) -> None:
        """Press keys by tmux name (Enter, Escape, Tab, Down, C-s, or a character)."""
        for key in keys:
            self._tmux("send-keys", key)
            time.sleep(0.15)  # a person's pace: lets an escape stand alone, not start alt+key

    def type(self, text: str) -> None:
        """Type text literally."""
        self._tmux("send-keys", "-l", text)

    def wait_for(self, *texts: str, timeout: float = 15.0) -> str:
        """The screen once it shows every text, else fail with what it does show."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if all(text in shown for text in texts):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"never showed {texts!r}; the screen was:\n{shown}")
            time.sleep(0.1)

    def wait_for_line(self, *texts: str, timeout: float = 15.0) -> str:
        """The first screen line showing every text, once there is one."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            for line in shown.splitlines():
                if all(text in line for text in texts):
                    return line
            if time.monotonic() > deadline:
                raise AssertionError(f"no line showed {texts!r}; the screen was:\n{shown}")
            time.sleep(0.1)

    def wait_for_row(self, ref: str, *texts: str, timeout: float = 15.0) -> str:
        """The case list's row for a ref (the line that starts with it), once it shows every
        text. A notice naming the case can show a moment before the list has its row."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            for line in shown.splitlines():
                if line.startswith(ref) and all(text in line for text in texts):
                    return line
            if time.monotonic() > deadline:
                raise AssertionError(f"no row {ref} showed {texts!r}; the screen was:\n{shown}")
            time.sleep(0.1)

    def wait_until_keys_are_held(self, timeout: float = 15.0) -> None:
        """Wait until the program in the pane holds typed keys for itself: its terminal takes
        no key as flow control (dsl_console/typeahead.py, or the console's own raw mode)."""
        tty = self._tmux("display", "-p", "#{pane_tty}").strip()
        deadline = time.monotonic() + timeout
        while True:
            modes = subprocess.run(["stty", "-F", tty, "-a"], capture_output=True, text=True)
            if "-ixon" in modes.stdout.split():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the terminal kept flow control: {modes.stdout}")
            time.sleep(0.01)

    def settle(self) -> None:
        """A beat after the screen changed, before the next key: a form takes its focus after it
        shows, and a key pressed in between would go to the widget that had focus before."""
        time.sleep(0.4)

    def exit_status(self, timeout: float = 15.0) -> int:
        """The console's exit status once it has ended."""
        deadline = time.monotonic() + timeout
        while not self.status.exists() or not self.status.read_text().strip():
            if time.monotonic() > deadline:
                raise AssertionError(f"the console did not exit; the screen was:\n{self.screen()}")
            time.sleep(0.1)
        return int(self.status.read_text())

    def processes(self) -> list[int]:
        """The pids of what runs in the terminal: its shell and every process under it."""
        found = [int(pid) for pid in self._tmux("list-panes", "-F", "#{pane_pid}").split()]
        for pid in found:  # grows as it goes: children, then theirs
            # A child started from a thread is listed under that thread's task.
            for children in Path(f"/proc/{pid}/task").glob("*/children"):
                try:
                    found.extend(int(child) for child in children.read_text().split())
                except OSError:
                    continue  # the thread ended meanwhile
        return found

    def close(self) -> None:
        self._tmux("kill-server")


def case(ref: str, name: str, opened: datetime, **fields: object) -> dict:
    """A fictional case in the import format (Liverpool's procedure unless told)."""
    return {
        "ref": ref,
        "procedure": "liverpool",
        "opened_at": opened.isoformat(),
        "child": {"name": name, "dob": "2014-05-02"},
        "other_agency": "Children's social care",
        "events": [],
        **fields,
    }


def import_cases(db: Path, env: dict[str, str], folder: Path, *cases: dict) -> None:
    """`dsl-console import` of fictional cases: a separate process writing to the database."""
    document = folder / f"import-{time.monotonic_ns()}.json"
    document.write_text(json.dumps({"format": "dsl-console/1", "cases": list(cases)}))
    done = subprocess.run(
        [CONSOLE or "dsl-console", "--db", str(db), "import", str(document)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
