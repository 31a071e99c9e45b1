"""Server mode's outbox: an export reaches one DSL's login and nobody else, and the outbox is
never a way to write, read or delete anything else.

The console runs as a service account started through `sudo -u` by a DSL's OS login
(SUDO_USER / SUDO_UID). Here the login is one made for the test run, with a group of its own;
the outbox is made as the README's `install -d -o <service> -g <login> -m 2750` makes it.
Both need root (CI); the tests are skipped otherwise.
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


@pytest.fixture
def as_login(monkeypatch: pytest.MonkeyPatch, login) -> str:  # type: ignore[no-untyped-def]
    """This process as sudo leaves it for the console started by the DSL's login."""
    monkeypatch.setenv("SUDO_USER", login.pw_name)
    monkeypatch.setenv("SUDO_UID", str(login.pw_uid))
    return login.pw_name


def make_outbox(login, root: Path, mode: int = 0o2750, group: int | None = None) -> Path:  # type: ignore[no-untyped-def]
    """The login's outbox as the administrator's `install -d` line makes it."""
    folder = root / login.pw_name
    folder.mkdir(parents=True)
    try:
        os.chown(folder, -1, login.pw_gid if group is None else group)
    except PermissionError:
        pytest.skip("giving a folder to another user's group needs root")
    os.chmod(folder, mode)
    return folder


def test_sudo_s_variables_make_server_mode_only_when_they_name_another_real_login(
    login, monkeypatch
):
    me = str(os.getuid())
    ok = {"SUDO_USER": login.pw_name, "SUDO_UID": str(login.pw_uid)}
    assert server_login(ok) == login.pw_name
    # Forged or odd values, as a user could set them for a console of their own.
    assert server_login({"SUDO_USER": login.pw_name, "SUDO_UID": me}) is None
    assert server_login({"SUDO_USER": login.pw_name, "SUDO_UID": "12345678"}) is None
    assert server_login({"SUDO_USER": "../../etc", "SUDO_UID": str(login.pw_uid)}) is None
    assert server_login({"SUDO_USER": "root", "SUDO_UID": "0"}) is None
    assert server_login({"SUDO_USER": login.pw_name}) is None
    assert server_login({}) is None


def test_an_export_can_only_be_named_inside_the_outbox(login, tmp_path):
    outbox = Outbox(tmp_path, login.pw_name)
    make_outbox(login, tmp_path)
    assert outbox.place(Path("log.csv")) == tmp_path / login.pw_name / "log.csv"
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
    login, tmp_path, mode, why
):
    make_outbox(login, tmp_path, mode=mode)
    with pytest.raises(InputError, match=why) as refused:
        Outbox(tmp_path, login.pw_name).place(Path("log.csv"))
    assert f"install -d -o {pwd.getpwuid(os.getuid()).pw_name} -g " in str(refused.value)
    assert "-m 2750" in str(refused.value)


def test_an_outbox_of_another_group_or_planted_as_a_link_is_refused(login, tmp_path):
    outbox = Outbox(tmp_path, login.pw_name)
    make_outbox(login, tmp_path, group=os.getgid())
    if os.getgid() != login.pw_gid:
        assert "must hold" in (outbox.problem() or "")
    os.rmdir(outbox.folder)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outbox.folder.symlink_to(elsewhere)
    assert "is not a folder" in (outbox.problem() or "")
    with pytest.raises(InputError):
        outbox.place(Path("log.csv"))
    assert not list(elsewhere.iterdir())


def test_an_export_in_server_mode_goes_to_the_login_s_outbox_readable_by_it_alone(
    login, session_factory, tmp_path, as_login
):
    folder = make_outbox(login, tmp_path / "outbox")
    session = session_factory(config=Config(outbox=tmp_path / "outbox"))
    with session.db.connection_context():
        add_fictional_cases(session, "SCH-1")
        line = exporting.export_to(session, "log", Path("log.csv"), fmt="csv")
    written = folder / "log.csv"
    info = written.stat()
    assert stat.S_IMODE(info.st_mode) == 0o640 and info.st_gid == login.pw_gid
    assert f"wrote {written} (1 case)" in line
    assert f"sftp {as_login}@" in line and ":log.csv" in line
    with written.open(encoding="utf-8-sig", newline="") as handle:
        assert any(row and row[0].endswith("SCH-1") for row in csv.reader(handle))
    # Anywhere else is refused, and nothing is written there.
    with session.db.connection_context(), pytest.raises(InputError, match="outbox"):
        exporting.export_to(session, "log", tmp_path / "elsewhere.csv", fmt="csv")
    assert not (tmp_path / "elsewhere.csv").exists()


def test_day_old_exports_are_removed_and_nothing_that_is_not_the_outbox_s_own(login, tmp_path):
    folder = make_outbox(login, tmp_path / "outbox")
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
    os.chown(foreign, login.pw_uid, -1)
    assert empty_outboxes(tmp_path / "outbox", NOW) == 1
    assert not old.exists() and fresh.exists()
    assert precious.read_text() == "records" and link.is_symlink() and foreign.exists()
    assert empty_outboxes(None, NOW) == 0


def test_the_command_line_export_in_server_mode_writes_to_the_outbox(login, tmp_path, new_db):
    make_outbox(login, tmp_path / "outbox")
    config = tmp_path / "config.toml"
    config.write_text(f'outbox = "{tmp_path / "outbox"}"\n', encoding="utf-8")
    env = {
        "SUDO_USER": login.pw_name,
        "SUDO_UID": str(login.pw_uid),
        "DSL_CONSOLE_DB": str(new_db),
        "DSL_CONSOLE_CONFIG": str(config),
    }
    done = run_cli(
        "export", "log", "--format", "csv", "--out", "log.csv",
        passphrase=PASSPHRASE, home=tmp_path, extra_env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "outbox" / login.pw_name / "log.csv").exists()
    assert f"sftp {login.pw_name}@" in done.stdout
    refused = run_cli(
        "export", "log", "--format", "csv", "--out", str(tmp_path / "log.csv"),
        passphrase=PASSPHRASE, home=tmp_path, extra_env=env,
    )  # fmt: skip
    assert refused.returncode == 2 and "give a file name only" in refused.stderr
    assert not (tmp_path / "log.csv").exists()


def test_the_outbox_setting_must_be_a_full_path(login):
    assert parse_config({"outbox": "/srv/dsl-console/outbox"}).outbox == Path(
        "/srv/dsl-console/outbox"
    )
    for bad in ("outbox", "", 5):
        with pytest.raises(InputError, match="outbox"):
            parse_config({"outbox": bad})
    assert grp.getgrgid(login.pw_gid)  # the login's group exists, as install -g needs


def test_an_outbox_in_a_group_others_share_is_refused_and_a_group_of_its_own_offered(
    login, tmp_path
):
    # nogroup is the own group of nobody and of other system accounts: every one of them
    # could read the exports.
    shared = grp.getgrnam("nogroup").gr_gid
    make_outbox(login, tmp_path, group=shared)
    box = Outbox(tmp_path, login.pw_name)
    why = box.problem() or ""
    assert "group nogroup, which" in why and f"must hold {login.pw_name} alone" in why
    assert f"-g {login.pw_name} -m 2750" in box.setup_command()  # its own group will do


def test_an_outbox_folder_others_can_write_above_is_refused(login, tmp_path):
    make_outbox(login, tmp_path)
    tmp_path.chmod(0o777)
    assert "can be written by others" in (Outbox(tmp_path, login.pw_name).problem() or "")


def test_a_console_under_sudo_with_no_usable_outbox_writes_no_export_anywhere(
    login, session_factory, tmp_path, monkeypatch
):
    from dsl_console.services.outbox import outbox_refusal

    monkeypatch.setenv("SUDO_USER", login.pw_name)
    monkeypatch.setenv("SUDO_UID", str(login.pw_uid))
    session = session_factory(config=Config())  # no outbox set
    with session.db.connection_context(), pytest.raises(InputError, match="none is set"):
        exporting.export_to(session, "log", tmp_path / "log.csv", fmt="csv")
    assert not (tmp_path / "log.csv").exists()
    # A login that cannot name a folder (a directory service's "DOMAIN\\jo") is refused too.
    odd = {"SUDO_USER": "SCHOOL\\jo", "SUDO_UID": str(login.pw_uid)}
    assert "cannot name one" in (outbox_refusal(tmp_path, odd) or "")
    assert outbox_refusal(None, {}) is None  # a console of one's own: no outbox needed


def test_a_mistaken_outbox_setting_empties_nothing(login, tmp_path, new_db):
    # outbox set, by a slip, to the folder that holds the database: its files are not exports.
    old = (NOW - timedelta(days=3)).timestamp()
    for path in new_db.parent.iterdir():
        os.utime(path, (old, old))
    before = sorted(p.name for p in new_db.parent.iterdir())
    assert empty_outboxes(new_db.parent.parent, NOW) == 0
    assert empty_outboxes(new_db.parent, NOW) == 0
    assert sorted(p.name for p in new_db.parent.iterdir()) == before
