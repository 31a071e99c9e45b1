"""`dsl-console doctor`: one line per problem a technician can put right, exit 1 when any."""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsl_console.config import Config
from dsl_console.services.doctor import deployment_problems
from tests.conftest import PASSPHRASE, USER

CRON = ("crontab", "*/15 7-18 * * 1-5 DSL_CONSOLE_USER=jo dsl-console check || true\n")


@pytest.fixture
def deployment(new_db: Path) -> Path:
    """A database as the console leaves it, with last night's backup beside it."""
    backups = new_db.parent / "backups"
    backups.mkdir(mode=0o700)
    shutil.copy(new_db, backups / "cases-2026-12-01.db")
    shutil.copy(new_db.with_name("cases.db.keys"), backups / "cases-2026-12-01.db.keys")
    return new_db


def problems(db: Path, schedules=(CRON,), config: Config | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    return deployment_problems(
        db,
        config or Config(),
        backups=db.parent / "backups",
        now=datetime.now(UTC),
        schedules=list(schedules),
    )


def test_a_sound_deployment_has_no_problem(deployment):
    assert problems(deployment) == []


def test_files_others_can_reach_are_named_with_the_command_that_fixes_them(deployment):
    deployment.chmod(0o644)
    deployment.parent.chmod(0o755)
    found = problems(deployment)
    assert f"{deployment} has mode 644: others can reach it; chmod 600 {deployment}" in found
    assert any(f"chmod 700 {deployment.parent}" in line for line in found)
    assert len(found) == 2, found


def test_a_missing_key_file_and_a_missing_database_are_said_plainly(deployment, tmp_path):
    deployment.with_name("cases.db.keys").unlink()
    (found,) = problems(deployment)
    assert "key file" in found and "missing" in found and "backup's .keys" in found
    nowhere = problems(tmp_path / "none" / "cases.db")
    assert any("no database at" in line for line in nowhere)


def test_a_key_file_that_is_not_one_is_found(deployment):
    deployment.with_name("cases.db.keys").write_text("not a key file")
    (found,) = problems(deployment)
    assert "cannot be read as one" in found


def test_an_old_or_absent_backup_is_a_problem(deployment):
    backup = deployment.parent / "backups" / "cases-2026-12-01.db"
    three_days_ago = time.time() - 3 * 86400
    os.utime(backup, (three_days_ago, three_days_ago))
    (found,) = problems(deployment)
    assert "3.0 days old" in found
    backup.unlink()
    (found,) = problems(deployment)
    assert "no backup in" in found
    # A file without its key file is no backup: it could never be restored.
    backup.write_bytes(b"x")
    backup.with_name(backup.name + ".keys").unlink()
    assert any("no backup in" in line for line in problems(deployment))


def test_the_check_must_be_scheduled_and_a_timer_enabled(deployment, tmp_path):
    (found,) = problems(deployment, schedules=[("crontab", "# dsl-console check\n")])
    assert "no schedule runs `dsl-console check`" in found
    units = tmp_path / "systemd"
    units.mkdir()
    service = units / "dsl-console-check.service"
    service.write_text("[Service]\nExecStart=/opt/dsl-console/bin/dsl-console check\n")
    schedule = [(str(service), service.read_text())]
    assert len(problems(deployment, schedules=schedule)) == 1  # no timer
    (units / "dsl-console-check.timer").write_text("[Timer]\nOnCalendar=hourly\n")
    assert len(problems(deployment, schedules=schedule)) == 1  # a timer, not enabled
    (units / "timers.target.wants").mkdir()
    (units / "timers.target.wants" / "dsl-console-check.timer").symlink_to(
        units / "dsl-console-check.timer"
    )
    assert problems(deployment, schedules=schedule) == []
    with_options = ("cron.d", "0 * * * * dsl-console --db /srv/x.db check\n")
    assert problems(deployment, schedules=[with_options]) == []


def test_an_outbox_set_up_wrongly_is_named_with_its_fix(deployment, tmp_path):
    import pwd

    root = tmp_path / "outbox"
    root.mkdir(mode=0o711)
    (root / "nobody").mkdir(mode=0o755)
    found = problems(deployment, config=Config(outbox=root))
    me = pwd.getpwuid(os.getuid()).pw_name
    assert any(
        line.startswith("outbox: ") and f"install -d -o {me} -g " in line for line in found
    ), found
    (root / "nobody").rmdir()
    (root / "not-a-login-anywhere").mkdir()
    assert any(
        "not named after an OS login" in line
        for line in problems(deployment, config=Config(outbox=root))
    )


def test_the_command_prints_one_line_per_problem_and_exits_1(deployment, tmp_path):
    from tests.security.conftest import run_cli

    deployment.chmod(0o640)
    done = run_cli(
        "--db", str(deployment), "doctor", user=USER, passphrase=PASSPHRASE, home=tmp_path
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert any("chmod 600" in line for line in lines)
    assert "problem" in done.stderr and "Traceback" not in done.stderr
    assert all(line.strip() for line in lines)


def test_a_long_schedule_line_is_read_at_once_either_way():
    from dsl_console.services.doctor import _CHECK_LINE

    options = " --x" * 40
    assert _CHECK_LINE.search(f"dsl-console{options} y") is None  # once took minutes
    assert _CHECK_LINE.search(f"dsl-console{options} check")
    assert _CHECK_LINE.search("dsl-console --db=/srv/x.db check --json")
    assert not _CHECK_LINE.search("dsl-console checks")
