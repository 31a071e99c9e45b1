"""An export never writes over the database, its companions or a backup, and never replaces an
existing file unless asked (contract section 4): attacked through the command line the way a
slip or a planted link would."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl_console.cli import main
from tests.conftest import case_json, document


@pytest.fixture
def with_cases(cli_env: Path, tmp_path: Path) -> Path:
    source = tmp_path / "in.json"
    source.write_text(document(case_json("SCH-2026-001", opened_at="2026-11-16T09:30:00+00:00")))
    assert main(["import", str(source)]) == 0
    return cli_env


def fingerprint(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", ".keys"])
@pytest.mark.parametrize("what", [["json"], ["log", "--format", "csv"]])
def test_an_export_over_the_database_or_its_files_is_refused_even_with_force(
    with_cases, capsys, suffix, what
):
    target = Path(str(with_cases) + suffix)
    before = fingerprint(target), fingerprint(with_cases), fingerprint(Path(f"{with_cases}.keys"))
    for force in ([], ["--force"]):
        capsys.readouterr()
        assert main(["export", *what, "--out", str(target), *force]) == 2
        err = capsys.readouterr().err
        assert "the database, a backup" in err and err.count("\n") == 1
    after = fingerprint(target), fingerprint(with_cases), fingerprint(Path(f"{with_cases}.keys"))
    assert after == before
    # The database still opens: nothing was replaced.
    assert main(["check"]) in (0, 1)


def test_a_link_to_the_database_is_followed_and_refused(with_cases, tmp_path, capsys):
    link = tmp_path / "innocent.json"
    link.symlink_to(with_cases)
    assert main(["export", "json", "--out", str(link), "--force"]) == 2
    assert "the database, a backup" in capsys.readouterr().err
    assert main(["check"]) in (0, 1)


def test_a_backup_and_its_key_file_are_refused(with_cases, tmp_path, capsys):
    backup = tmp_path / "b.db"
    assert main(["backup", "--out", str(backup)]) == 0
    kept = backup.read_bytes(), Path(f"{backup}.keys").read_bytes()
    for target in (backup, Path(f"{backup}.keys")):
        capsys.readouterr()
        assert main(["export", "json", "--out", str(target), "--force"]) == 2
        assert "the database, a backup" in capsys.readouterr().err
    assert (backup.read_bytes(), Path(f"{backup}.keys").read_bytes()) == kept


def test_an_existing_file_is_replaced_only_with_force(with_cases, tmp_path, capsys):
    target = tmp_path / "log.csv"
    target.write_text("the DSL's own notes\n")
    assert main(["export", "log", "--format", "csv", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err
    assert target.read_text() == "the DSL's own notes\n"
    assert main(["export", "log", "--format", "csv", "--out", str(target), "--force"]) == 0
    assert "Escalation" in target.read_text(encoding="utf-8-sig")


def test_a_folder_as_the_target_is_named_as_a_folder_and_force_is_not_offered(
    cli_env, tmp_path, capsys
):
    folder = tmp_path / "exports"
    folder.mkdir()
    for extra in ([], ["--force"]):
        capsys.readouterr()
        assert main(["export", "json", "--out", str(folder), *extra]) == 2
        line = capsys.readouterr().err.strip()
        assert line == f"dsl-console: out: {folder} is a folder; name the file to write in it"
    assert list(folder.iterdir()) == []


def test_a_backup_never_replaces_an_earlier_one_unless_forced(with_cases, tmp_path, capsys):
    # Last week's backup typed again as tonight's name: without --force it stays as it was.
    backup = tmp_path / "cases-weekly.db"
    assert main(["backup", "--out", str(backup)]) == 0
    kept = backup.read_bytes(), Path(f"{backup}.keys").read_bytes()
    capsys.readouterr()
    assert main(["backup", "--out", str(backup)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err and err.count("\n") == 1
    assert (backup.read_bytes(), Path(f"{backup}.keys").read_bytes()) == kept
    # A key file left alone by itself counts too: the backup would stand beside the wrong slots.
    lone = tmp_path / "lone.db"
    Path(f"{lone}.keys").write_bytes(kept[1])
    capsys.readouterr()
    assert main(["backup", "--out", str(lone)]) == 2
    assert f"{lone}.keys already exists" in capsys.readouterr().err  # named as it is
    assert not lone.exists()
    assert main(["backup", "--out", str(backup), "--force"]) == 0
    assert backup.read_bytes() != kept[0]


def test_a_backup_named_as_a_key_file_is_refused(with_cases, tmp_path, capsys):
    # `--out b.keys` once wrote b.keys and b.keys.keys: a backup passing for a key file.
    assert main(["backup", "--out", str(tmp_path / "tonight.keys")]) == 2
    err = capsys.readouterr().err
    assert "named as a key file" in err and err.count("\n") == 1
    assert list(tmp_path.glob("tonight*")) == []


@pytest.mark.parametrize(
    ("what", "name"),
    [
        (["report", "SCH-2026-001", "--form", "liverpool"], "form.txt"),
        (["report", "SCH-2026-001", "--form", "liverpool"], "form"),
        (["log", "--format", "csv"], "log.xlsx"),
        (["log", "--format", "xlsx"], "log.csv"),
        (["json"], "cases.csv"),
        (["analysis", "--year", "2026"], "analysis.txt"),
    ],
)
def test_a_file_named_for_another_format_is_refused_and_nothing_written(
    with_cases, tmp_path, capsys, what, name
):
    # A PDF saved as form.txt, a CSV as log.xlsx: each opens in the wrong program, or not at
    # all, on the partnership's PC.
    out = tmp_path / name
    capsys.readouterr()
    assert main(["export", *what, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "end the file name in ." in err
    assert not out.exists()


@pytest.mark.parametrize("year", ["26", "02026", "1066", "twenty"])
def test_a_year_not_written_in_full_is_refused(with_cases, tmp_path, capsys, year):
    out = tmp_path / "analysis.pdf"
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:  # a usage error, from the parser
        main(["export", "analysis", "--year", year, "--out", str(out)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "year" in err
    assert not out.exists()
    assert main(["export", "analysis", "--year", "2026", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
