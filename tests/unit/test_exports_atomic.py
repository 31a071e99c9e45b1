"""Exports are written whole or not at all, privately, into a folder that must exist."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dsl_console.errors import InputError
from dsl_console.services.exports.atomic import WORK_PREFIX, atomic_output, kept_only_if


def leftovers(folder: Path, keep: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != keep)


def test_writes_the_whole_file_readable_only_by_the_owner(tmp_path: Path):
    out = tmp_path / "log.csv"
    with atomic_output(out, "w") as handle:
        handle.write("Ada Example\r\n")
    assert out.read_bytes() == b"Ada Example\r\n"  # newline="" leaves line ends to the writer
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert leftovers(tmp_path, "log.csv") == []


def test_an_error_while_writing_leaves_the_old_file_and_no_temp(tmp_path: Path):
    out = tmp_path / "report.pdf"
    out.write_bytes(b"the previous report")
    with pytest.raises(RuntimeError), atomic_output(out, "wb") as handle:
        handle.write(b"half a rep")
        raise RuntimeError("the writer failed")
    assert out.read_bytes() == b"the previous report"
    assert leftovers(tmp_path, "report.pdf") == []


def test_a_file_is_kept_only_if_the_check_passes_once_it_is_written(tmp_path: Path):
    out = tmp_path / "log.csv"
    out.write_text("the previous log")
    seen: list[str] = []

    def failing() -> None:
        seen.append(out.read_text())  # asked once the new file is whole, before it replaces
        raise RuntimeError("the database failed its check")

    with pytest.raises(RuntimeError), kept_only_if(failing), atomic_output(out, "w") as handle:
        handle.write("rows read meanwhile")
    assert seen == ["the previous log"]
    assert out.read_text() == "the previous log"
    assert leftovers(tmp_path, "log.csv") == []
    with kept_only_if(lambda: seen.append("passed")), atomic_output(out, "w") as handle:
        handle.write("the new log")
    assert out.read_text() == "the new log" and seen[-1] == "passed"
    with atomic_output(out, "w") as handle:  # outside the block, no check is asked
        handle.write("later")
    assert seen[-1] == "passed" and len(seen) == 2


def test_an_error_before_the_first_write_creates_nothing(tmp_path: Path):
    out = tmp_path / "new.xlsx"
    with pytest.raises(ValueError), atomic_output(out):
        raise ValueError("no rows")
    assert list(tmp_path.iterdir()) == []


def test_a_killed_writer_never_leaves_a_half_file(tmp_path: Path):
    out = tmp_path / "log.csv"
    out.write_text("complete old log\n")
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from dsl_console.services.exports.atomic import atomic_output\n"
        "with atomic_output(Path(sys.argv[1]), 'w') as handle:\n"
        "    handle.write('partial new log')\n"
        "    handle.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script, str(out)])
    assert writer.wait(timeout=60) == -signal.SIGKILL
    assert out.read_text() == "complete old log\n"
    # What a kill leaves is a hidden working file beside it, never the target half-written,
    # named for the process that made it...
    (left,) = leftovers(tmp_path, "log.csv")
    assert left.startswith(f"{WORK_PREFIX}{writer.pid}.log.csv.")
    # ...and the next write into the folder removes it, that process being gone.
    with atomic_output(out, "w") as handle:
        handle.write("complete new log\n")
    assert leftovers(tmp_path, "log.csv") == [] and out.read_text() == "complete new log\n"


def test_a_missing_folder_is_one_readable_line(tmp_path: Path):
    with pytest.raises(InputError) as caught, atomic_output(tmp_path / "nope" / "log.csv"):
        pass
    message = str(caught.value)
    assert "does not exist" in message and "\n" not in message


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path):
    (tmp_path / "notafolder").write_text("x")
    with pytest.raises(InputError), atomic_output(tmp_path / "notafolder" / "log.csv"):
        pass


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to any folder")
def test_a_read_only_folder_is_refused(tmp_path: Path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(InputError) as caught, atomic_output(folder / "log.csv"):
            pass
        assert "not writable" in str(caught.value)
    finally:
        folder.chmod(0o700)


def test_a_folder_in_place_of_the_target_is_refused(tmp_path: Path):
    (tmp_path / "log.csv").mkdir()
    with pytest.raises(InputError), atomic_output(tmp_path / "log.csv"):
        pass


def test_a_folder_the_console_may_not_write_is_refused(tmp_path: Path, monkeypatch):
    # Root ignores permissions, so the refusal is checked through what os.access reports.
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(InputError) as caught, atomic_output(tmp_path / "log.csv"):
        pass
    assert "not writable" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_failure_while_finishing_is_one_line_and_leaves_the_old_file(tmp_path: Path, monkeypatch):
    out = tmp_path / "log.csv"
    out.write_text("old\n")

    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(InputError, match="No space left on device"), atomic_output(out, "w") as f:
        f.write("new\n")
    assert out.read_text() == "old\n"
    assert leftovers(tmp_path, "log.csv") == []
