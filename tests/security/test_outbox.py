"""Server mode's outbox: an export reaches one DSL's login and nobody else, and the outbox is
never a way to write, read or delete anything else.

The console runs as a service account started through `sudo -u` by a DSL's OS login
(SUDO_USER / SUDO_UID). Here the login is `nobody`, which every Debian system has; the
outbox is made as the README's `install -d -o <service> -g <login> -m 2750` makes it, which
needs to give a folder to another user's group: as root (CI), else skipped.
"""

from __future__ import annotations

import csv
import grp
import os
import pwd
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from dsl_console.config import Config, parse_config
from dsl_console.errors import InputError
from dsl_console.services import exporting
from dsl_console.services.outbox import Outbox, empty_outboxes, server_login
from tests.conftest import NOW, PASSPHRASE
from tests.security.conftest import add_fictional_cases, run_cli

try:
    LOGIN = pwd.getpwnam("nobody")
except KeyError:  # pragma: no cover - every Debian and Ubuntu system has it
    pytest.skip("no nobody account on this system", allow_module_level=True)


@pytest.fixture
def as_login(monkeypatch: pytest.MonkeyPatch) -> str:
    """This process as sudo leaves it for the console started by the login `nobody`."""
    monkeypatch.setenv("SUDO_USER", LOGIN.pw_name)
    monkeypatch.setenv("SUDO_UID", str(LOGIN.pw_uid))
    return LOGIN.pw_name


def make_outbox(root: Path, mode: int = 0o2750, group: int | None = None) -> Path:
    """The login's outbox as the administrator's `install -d` line makes it."""
    folder = root / LOGIN.pw_name
    folder.mkdir(parents=True)
    try:
        os.chown(folder, -1, LOGIN.pw_gid if group is None else group)
    except PermissionError:
        pytest.skip("giving a folder to another user's group needs root")
    os.chmod(folder, mode)
    return folder


def test_sudo_s_variables_make_server_mode_only_when_they_name_another_real_login(monkeypatch):
    me = str(os.getuid())
    ok = {"SUDO_USER": LOGIN.pw_name, "SUDO_UID": str(LOGIN.pw_uid)}
    assert server_login(ok) == LOGIN.pw_name
    # Forged or odd values, as a user could set them for a console of their own.
    assert server_login({"SUDO_USER": LOGIN.pw_name, "SUDO_UID": me}) is None
    assert server_login({"SUDO_USER": LOGIN.pw_name, "SUDO_UID": "12345678"}) is None
    assert server_login({"SUDO_USER": "../../etc", "SUDO_UID": str(LOGIN.pw_uid)}) is None
    assert server_login({"SUDO_USER": "root", "SUDO_UID": "0"}) is None
    assert server_login({"SUDO_USER": LOGIN.pw_name}) is None
    assert server_login({}) is None


def test_an_export_can_only_be_named_inside_the_outbox(tmp_path):
    outbox = Outbox(tmp_path, LOGIN.pw_name)
    make_outbox(tmp_path)
    assert outbox.place(Path("log.csv")) == tmp_path / LOGIN.pw_name / "log.csv"
    assert outbox.place(outbox.folder / "log.csv") == outbox.folder / "log.csv"
    for elsewhere in ("/tmp/log.csv", "../log.csv", "sub/log.csv", str(tmp_path / "log.csv")):
        with pytest.raises(InputError, match="give a file name only"):
            outbox.place(Path(elsewhere))
    for hidden in (".log.csv", ".."):
        with pytest.raises(InputError):
            outbox.place(Path(hidden))


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        (0o2770, "mode 2770"),  # the login could plant files and links in it
        (0o2755, "mode 2755"),  # everyone could read the exports
        (0o0750, "mode 750"),  # no set-group-ID: files would not be the login's to read
    ],
)
def test_an_outbox_set_up_wrongly_is_refused_with_the_command_that_sets_it_right(
    tmp_path, mode, why
):
    make_outbox(tmp_path, mode=mode)
    with pytest.raises(InputError, match=why) as refused:
        Outbox(tmp_path, LOGIN.pw_name).place(Path("log.csv"))
    assert f"install -d -o {pwd.getpwuid(os.getuid()).pw_name} -g " in str(refused.value)
    assert "-m 2750" in str(refused.value)


def test_an_outbox_of_another_group_or_planted_as_a_link_is_refused(tmp_path):
    outbox = Outbox(tmp_path, LOGIN.pw_name)
    make_outbox(tmp_path, group=os.getgid())
    if os.getgid() != LOGIN.pw_gid:
        assert "not nobody's own" in (outbox.problem() or "")
    os.rmdir(outbox.folder)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outbox.folder.symlink_to(elsewhere)
    assert "is not a folder" in (outbox.problem() or "")
    with pytest.raises(InputError):
        outbox.place(Path("log.csv"))
    assert not list(elsewhere.iterdir())


def test_an_export_in_server_mode_goes_to_the_login_s_outbox_readable_by_it_alone(
    session_factory, tmp_path, as_login
):
    folder = make_outbox(tmp_path / "outbox")
    session = session_factory(config=Config(outbox=tmp_path / "outbox"))
    with session.db.connection_context():
        add_fictional_cases(session, "SCH-1")
        line = exporting.export_to(session, "log", Path("log.csv"), fmt="csv")
    written = folder / "log.csv"
    info = written.stat()
    assert stat.S_IMODE(info.st_mode) == 0o640 and info.st_gid == LOGIN.pw_gid
    assert f"wrote {written} (1 case)" in line
    assert f"sftp {as_login}@" in line and ":log.csv" in line
    with written.open(encoding="utf-8-sig", newline="") as handle:
        assert any(row and row[0].endswith("SCH-1") for row in csv.reader(handle))
    # Anywhere else is refused, and nothing is written there.
    with session.db.connection_context(), pytest.raises(InputError, match="outbox"):
        exporting.export_to(session, "log", tmp_path / "elsewhere.csv", fmt="csv")
    assert not (tmp_path / "elsewhere.csv").exists()


def test_day_old_exports_are_removed_and_nothing_that_is_not_the_outbox_s_own(tmp_path):
    folder = make_outbox(tmp_path / "outbox")
    old, fresh = folder / "old.csv", folder / "fresh.csv"
    old.write_text("x")
    fresh.write_text("x")
    day_ago = (NOW - timedelta(days=1, minutes=1)).timestamp()
    os.utime(old, (day_ago, day_ago))
    # A link planted to a file the service account cares about, and a file not its own.
    precious = tmp_path / "precious.db"
    precious.write_text("records")
    link = folder / "link.csv"
    link.symlink_to(precious)
    os.utime(link, (day_ago, day_ago), follow_symlinks=False)
    foreign = folder / "foreign.csv"
    foreign.write_text("x")
    os.utime(foreign, (day_ago, day_ago))
    os.chown(foreign, LOGIN.pw_uid, -1)
    assert empty_outboxes(tmp_path / "outbox", NOW) == 1
    assert not old.exists() and fresh.exists()
    assert precious.read_text() == "records" and link.is_symlink() and foreign.exists()
    assert empty_outboxes(None, NOW) == 0


def test_the_command_line_export_in_server_mode_writes_to_the_outbox(tmp_path, new_db):
    make_outbox(tmp_path / "outbox")
    config = tmp_path / "config.toml"
    config.write_text(f'outbox = "{tmp_path / "outbox"}"\n', encoding="utf-8")
    env = {
        "SUDO_USER": LOGIN.pw_name,
        "SUDO_UID": str(LOGIN.pw_uid),
        "DSL_CONSOLE_DB": str(new_db),
        "DSL_CONSOLE_CONFIG": str(config),
    }
    done = run_cli(
        "export", "log", "--format", "csv", "--out", "log.csv",
        passphrase=PASSPHRASE, home=tmp_path, extra_env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "outbox" / LOGIN.pw_name / "log.csv").exists()
    assert "sftp nobody@" in done.stdout
    refused = run_cli(
        "export", "log", "--format", "csv", "--out", str(tmp_path / "log.csv"),
        passphrase=PASSPHRASE, home=tmp_path, extra_env=env,
    )  # fmt: skip
    assert refused.returncode == 2 and "give a file name only" in refused.stderr
    assert not (tmp_path / "log.csv").exists()


def test_the_outbox_setting_must_be_a_full_path():
    assert parse_config({"outbox": "/srv/dsl-console/outbox"}).outbox == Path(
        "/srv/dsl-console/outbox"
    )
    for bad in ("outbox", "", 5):
        with pytest.raises(InputError, match="outbox"):
            parse_config({"outbox": bad})
    assert grp.getgrgid(LOGIN.pw_gid)  # the login's group exists, as install -g needs
