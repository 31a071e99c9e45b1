"""An XLSX export leaves nothing in the system's temporary folder, finished or failed:
openpyxl's sheet files (the whole log in plaintext XML) are made beside the target, private,
and removed; those of an export killed outright go at the next export into that folder."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dsl_console.cli import main
from dsl_console.services.exports import summary_log
from dsl_console.services.exports.atomic import WORK_PREFIX
from tests.conftest import case_json, document


@pytest.fixture
def watched_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temporary folder, as every tempfile call in this process sees it."""
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def with_cases(cli_env: Path, tmp_path: Path) -> Path:
    source = tmp_path / "in.json"
    source.write_text(
        document(
            *(
                case_json(f"SCH-2026-{i:03d}", opened_at="2026-11-16T09:30:00+00:00")
                for i in range(30)
            )
        )
    )
    assert main(["import", str(source)]) == 0
    return cli_env


def test_a_finished_xlsx_export_leaves_no_working_file_anywhere(with_cases, watched_tmp, tmp_path):
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    out = out_dir / "log.xlsx"
    assert main(["export", "log", "--format", "xlsx", "--out", str(out)]) == 0
    assert list(watched_tmp.iterdir()) == []
    assert [p.name for p in out_dir.iterdir()] == ["log.xlsx"]


def test_a_failed_xlsx_export_removes_its_working_files(
    with_cases, watched_tmp, tmp_path, monkeypatch, capsys
):
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    seen: list[list[str]] = []
    real = summary_log._fill_and_save

    def fail_part_way(rows, out):  # type: ignore[no-untyped-def]
        def some_then_fail():  # type: ignore[no-untyped-def]
            for n, row in enumerate(rows):
                if n == 10:
                    # The sheet's working file exists now, beside the target and private.
                    seen.append([p.name for p in out_dir.iterdir()])
                    assert all((out_dir / name).stat().st_mode & 0o077 == 0 for name in seen[0])
                    raise OSError(28, "No space left on device")
                yield row

        return real(some_then_fail(), out)

    monkeypatch.setattr(summary_log, "_fill_and_save", fail_part_way)
    assert main(["export", "log", "--format", "xlsx", "--out", str(out_dir / "log.xlsx")]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert seen and any(
        name.startswith(f"{WORK_PREFIX}{os.getpid()}.openpyxl.") for name in seen[0]
    )
    assert list(out_dir.iterdir()) == [] and list(watched_tmp.iterdir()) == []


def ended_pid() -> int:
    """The pid of a process that has run and ended (as an export killed outright has)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_killed_export_s_working_files_go_at_the_next_export_there(with_cases, tmp_path):
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    dead = ended_pid()
    # What kill -9 left: the sheet's XML and the export's own part-written file, private.
    abandoned = [
        out_dir / f"{WORK_PREFIX}{dead}.openpyxl.k2j4.xml",
        out_dir / f"{WORK_PREFIX}{dead}.log.xlsx.x8q1.tmp",
    ]
    for path in abandoned:
        path.write_text("<row>Ada Example</row>")
        path.chmod(0o600)
    # Not to be touched: a live export's working file, and a link planted under a dead name.
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    elsewhere = tmp_path / "someone-elses.txt"
    elsewhere.write_text("kept")
    try:
        busy = out_dir / f"{WORK_PREFIX}{live.pid}.log.xlsx.a1b2.tmp"
        busy.write_text("in progress")
        link = out_dir / f"{WORK_PREFIX}{dead}.link.tmp"
        link.symlink_to(elsewhere)
        assert main(["export", "log", "--format", "csv", "--out", str(out_dir / "log.csv")]) == 0
        left = sorted(p.name for p in out_dir.iterdir())
        assert left == sorted(["log.csv", busy.name, link.name])
        assert elsewhere.read_text() == "kept"
    finally:
        live.kill()
        live.wait()
