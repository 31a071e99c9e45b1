"""An XLSX export leaves nothing in the system's temporary folder, finished or failed:
openpyxl's sheet files (the whole log in plaintext XML) are made beside the target, private,
and removed."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from dsl_console.cli import main
from dsl_console.services.exports import summary_log
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
    assert seen and any(name.startswith(".openpyxl.") for name in seen[0])
    assert list(out_dir.iterdir()) == [] and list(watched_tmp.iterdir()) == []
