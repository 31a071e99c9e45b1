"""A DSL team on one server: three DSLs over SSH, one service account that owns the records.

The deployment the README describes, built for real on 127.0.0.1 from the files in
assets/server/: Debian's sshd with the shipped sshd snippet (keys only; the second factor is
left out, as a test has no phone), the shipped ForceCommand login and sudoers line, a service
account that alone owns the database, and three OS logins in the team group, each running
the console over `ssh -t` in its own tmux terminal. The console is installed as a technician
would, in a venv of the system's Python that every account can run.

Needs root (it adds OS accounts, a sudoers file and starts sshd), sshd, sudo, ssh, sftp and
tmux: skipped otherwise. Everything it adds is removed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.tmux_kit import HAVE_TMUX, Terminal, case

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SERVER_FILES = ROOT / "assets" / "server"
SSHD = Path("/usr/sbin/sshd")
SFTP_SERVER = Path("/usr/lib/openssh/sftp-server")
SYSTEM_PYTHON = Path("/usr/bin/python3")
NEEDED = ("ssh", "sftp", "ssh-keygen", "sudo", "useradd", "visudo", "runuser")
PASSPHRASE = "fictional server passphrase"

if not (
    hasattr(os, "geteuid")
    and os.geteuid() == 0
    and HAVE_TMUX
    and SSHD.exists()
    and SFTP_SERVER.exists()
    and SYSTEM_PYTHON.exists()
    and all(shutil.which(tool) for tool in NEEDED)
):
    pytest.skip(
        "needs root, sshd, sudo, ssh, sftp, tmux and the system Python", allow_module_level=True
    )


def run(*command: str, user: str | None = None, check: bool = True, **env: str):
    """A command as root, or as `user` (through runuser) in a clean environment of its own
    (the test run's own settings, XDG folders included, are not that account's)."""
    prefix = ["runuser", "-u", user, "--", "env", "-i", "PATH=/usr/bin:/bin"] if user else ["env"]
    done = subprocess.run(
        [*prefix, *(f"{k}={v}" for k, v in env.items()), *command],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return done


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """The deployment: where everything is, and who is who."""

    base: Path
    service: str
    team: str
    logins: list[str]
    port: int
    console: Path

    @property
    def home(self) -> Path:
        return self.base / "service-home"

    @property
    def db(self) -> Path:
        return self.home / ".local/share/dsl-console/cases.db"

    @property
    def outbox(self) -> Path:
        return self.base / "outbox"

    def key(self, login: str) -> Path:
        return self.base / "client-keys" / login

    def as_service(self, *args: str, user: str = "lead", **env: str):
        """The CLI as the service account, unlocking as a console account."""
        return run(
            str(self.console),
            *args,
            user=self.service,
            HOME=str(self.home),
            DSL_CONSOLE_USER=user,
            DSL_CONSOLE_PASSPHRASE=PASSPHRASE,
            **env,
        )

    def ssh(self, login: str, *extra: str) -> list[str]:
        return [
            "-i",
            str(self.key(login)),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            *extra,
        ]


def _install_console(base: Path) -> Path:
    """A venv of the system's Python holding the console at the locked versions (the
    project's own venv may live under /root, which other accounts cannot enter)."""
    venv = base / "venv"
    run(str(SYSTEM_PYTHON), "-m", "venv", str(venv))
    pip = str(venv / "bin" / "pip")
    run(pip, "install", "-q", "-c", str(ROOT / "requirements.lock"), str(ROOT))
    return venv / "bin" / "dsl-console"


def _shipped(name: str, **replace: str) -> str:
    text = (SERVER_FILES / name).read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, f"{name} no longer says {old!r}"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    tag = f"{os.getpid() % 10000:04d}"
    service, team = f"dxsvc{tag}", f"dxteam{tag}"
    logins = [f"dx{tag}{letter}" for letter in "abc"]
    base = Path(tempfile.mkdtemp(prefix="dsl-server-", dir="/var/tmp"))
    base.chmod(0o755)
    users_made: list[str] = []
    sudoers = Path(f"/etc/sudoers.d/dxe2e{tag}")
    sshd: subprocess.Popen | None = None
    try:
        console = _install_console(base)
        run("groupadd", team)
        run(
            "useradd", "--home-dir", str(base / "service-home"), "--create-home",
            "--shell", "/usr/sbin/nologin", service,
        )  # fmt: skip
        users_made.append(service)
        (base / "client-keys").mkdir(mode=0o700)
        authorized = base / "authorized"
        authorized.mkdir(mode=0o755)
        for login in logins:
            run("useradd", "--create-home", "--groups", team, "--shell", "/bin/sh", login)
            users_made.append(login)
            run("usermod", "-p", "*", login)  # no password, but not locked: keys only
            run(
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-f",
                str(base / "client-keys" / login),
            )
            public = (base / "client-keys" / f"{login}.pub").read_text()
            (authorized / login).write_text(public)
            (authorized / login).chmod(0o644)

        # The service account's settings, as assets/server/config.toml has them.
        config = _shipped(
            "config.toml",
            **{
                "/srv/dsl-console/outbox": str(base / "outbox"),
                "scan_seconds = 60": "scan_seconds = 60",
            },
        )
        config_dir = base / "service-home" / ".config" / "dsl-console"

        def folder(owner: str, group: str, mode: str, *paths: Path) -> None:
            run("install", "-d", "-o", owner, "-g", group, "-m", mode, *map(str, paths))

        folder(service, service, "700", config_dir.parent, config_dir)
        (config_dir / "config.toml").write_text(config)
        run("chown", f"{service}:{service}", str(config_dir / "config.toml"))
        folder(service, service, "711", base / "outbox")
        for login in logins:
            folder(service, login, "2750", base / "outbox" / login)  # the README's line per DSL

        bin_dir = base / "bin"
        bin_dir.mkdir(mode=0o755)
        login_script = bin_dir / "dsl-console-login"
        login_script.write_text(
            _shipped(
                "dsl-console-login",
                **{
                    "SERVICE=dsl-console": f"SERVICE={service}",
                    "CONSOLE=/opt/dsl-console/bin/dsl-console": f"CONSOLE={console}",
                    "OUTBOX=/srv/dsl-console/outbox": f"OUTBOX={base / 'outbox'}",
                },
            )
        )
        login_script.chmod(0o755)
        rule = _shipped(
            "sudoers-dsl-console",
            **{
                "%dsl-team ALL=(dsl-console)": f"%{team} ALL=({service})",
                "/opt/dsl-console/bin/dsl-console": str(console),
            },
        )
        staged = base / "sudoers"
        staged.write_text(rule)
        run("visudo", "-c", "-q", "-f", str(staged))
        shutil.copy(staged, sudoers)
        sudoers.chmod(0o440)

        port = free_port()
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / "host_key"))
        snippet = _shipped(
            "00-dsl-console.conf",
            **{
                "AllowGroups dsl-team dsl-admin": f"AllowGroups {team}",
                "Match Group dsl-team": f"Match Group {team}",
                # A test has no second factor to give, and no PAM stack set up for one.
                "AuthenticationMethods publickey,keyboard-interactive:pam": (
                    "AuthenticationMethods publickey"
                ),
                "UsePAM yes": "UsePAM no",
                "AuthorizedKeysFile /etc/ssh/authorized_keys/%u": (
                    f"AuthorizedKeysFile {authorized}/%u"
                ),
                "ForceCommand /usr/local/bin/dsl-console-login": f"ForceCommand {login_script}",
            },
        )
        (base / "sshd_config").write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {base / 'host_key'}\n"
            # The test's folders are under /var/tmp, which StrictModes would refuse.
            f"PidFile {base / 'sshd.pid'}\nStrictModes no\n"
            f"Subsystem sftp {SFTP_SERVER}\n" + snippet
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        run(str(SSHD), "-t", "-f", str(base / "sshd_config"))
        sshd = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(base / "sshd_config")],
            stdout=subprocess.DEVNULL,
            stderr=open(base / "sshd.log", "w"),  # noqa: SIM115
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (base / "sshd.log").read_text()
                time.sleep(0.1)
        yield Server(base, service, team, logins, port, console)
    finally:
        if sshd is not None:
            sshd.terminate()
            sshd.wait(10)
        sudoers.unlink(missing_ok=True)
        for user in users_made:
            subprocess.run(["pkill", "-KILL", "-u", user], capture_output=True)
        time.sleep(0.2)
        for user in users_made:
            subprocess.run(["userdel", "-r", "-f", user], capture_output=True)
        subprocess.run(["groupdel", team], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def import_as_service(server: Server, *cases: dict) -> None:
    document = server.base / f"import-{time.monotonic_ns()}.json"
    document.write_text(json.dumps({"format": "dsl-console/1", "cases": list(cases)}))
    document.chmod(0o644)
    server.as_service("import", str(document))


def consoles_showing(terminals: dict[str, Terminal], text: str, within: float) -> dict[str, float]:
    """How long each console took to show `text` (all polled together), failing past `within`."""
    start = time.monotonic()
    seen: dict[str, float] = {}
    while len(seen) < len(terminals):
        for login, terminal in terminals.items():
            if login not in seen and text in terminal.screen():
                seen[login] = time.monotonic() - start
        if time.monotonic() - start > within:
            missing = {login: terminals[login].screen() for login in terminals if login not in seen}
            raise AssertionError(f"{text!r} not shown within {within} s by: {missing}")
        time.sleep(0.05)
    return seen


def started_by(pid: str) -> str:
    """The OS login whose SSH session started a console (sudo's SUDO_USER)."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return next(v[10:].decode() for v in environ if v.startswith(b"SUDO_USER="))


@pytest.mark.alone  # "within seconds" of each other, timed with nothing else running
def test_three_dsls_over_ssh_see_each_others_changes_and_never_the_files(server: Server):
    now = datetime.now(UTC)
    import_as_service(server, case("SRV-000", "Ada Example", now - timedelta(days=2)))
    for login in server.logins:
        run(
            str(server.console), "user", "add", login, "--role", "deputy",
            user=server.service, HOME=str(server.home), DSL_CONSOLE_USER="lead",
            DSL_CONSOLE_PASSPHRASE=PASSPHRASE, DSL_CONSOLE_NEW_PASSPHRASE=PASSPHRASE,
        )  # fmt: skip

    terminals: dict[str, Terminal] = {}
    try:
        for login in server.logins:
            folder = server.base / f"terminal-{login}"
            folder.mkdir()
            terminal = Terminal(folder, {**os.environ, "TERM": "xterm-256color"})
            ssh = " ".join(["ssh", "-tt", "-p", str(server.port), *server.ssh(login)])
            terminal.run(f"{ssh} {login}@127.0.0.1", width=170, height=36)
            terminals[login] = terminal
        for login, terminal in terminals.items():
            # The unlock screen offers the name the DSL logged in with; the console account's
            # passphrase is still asked.
            terminal.wait_for("Unlock the DSL Console", login, timeout=60)
            terminal.settle()
            terminal.type(PASSPHRASE)
            terminal.keys("Enter")
        for terminal in terminals.values():
            terminal.wait_for("SRV-000", "1 case", timeout=60)

        # A write by another process (an import through the CLI): every console shows the new
        # child at immediate risk within 3 s, without waiting for the minute's sweep.
        import_as_service(
            server, case("SRV-001", "Ben Sample", now - timedelta(minutes=5), immediate_risk=True)
        )
        consoles_showing(terminals, "SRV-001", within=3.0)
        for terminal in terminals.values():
            terminal.wait_for("!! 1 immediate risk", timeout=3.0)

        # A new case at immediate risk typed in the first console reaches the other two.
        first, second, third = (terminals[login] for login in server.logins)
        first.keys("n")
        first.wait_for("Child name")
        first.settle()
        first._tmux(
            "send-keys",
            "Tab", "Tab", "Tab", *"Cara Placeholder", "Tab", *"30/06/2014", "Tab", *"Police",
            "Tab", "Tab", "Tab", "Tab", "Tab", "Space", "Tab",
        )  # fmt: skip
        first.wait_for_line("Reason")
        first.settle()
        first.keys("Enter")
        first.settle()
        first.keys("Down", "Enter")
        first.settle()
        first.keys("C-s")
        first.wait_for("Child: Cara Placeholder", "Immediate risk raised", timeout=10)
        consoles_showing({"b": second, "c": third}, "Cara", within=3.0)

        # The second console escalates SRV-001: the third sees the new stage.
        second.keys("/")
        second.type("SRV-001")
        second.wait_for('1 case matching "SRV-001"')
        second.keys("Enter", "Enter")
        second.wait_for("Escalate")
        second.keys("x")
        second.wait_for("Escalate to a higher stage")
        second.settle()
        second.keys("Enter")
        second.wait_for("3  LSCB safeguarding representative")
        second.keys("Down", "Enter")
        second.settle()
        second.keys("Tab")
        second.settle()
        second.type("No agreement with the duty team (fictional).")
        second.settle()
        second.keys("C-s")
        second.wait_for("Escalated to stage 2", timeout=10)
        consoles_showing({"c": third}, "2 Organisation rep", within=3.0)

        # The third records a note on SRV-000; the first opens that case and reads it.
        third.keys("/")
        third.type("SRV-000")
        third.wait_for('1 case matching "SRV-000"')
        third.keys("Enter", "Enter")
        third.wait_for("Escalate")
        third.keys("e")
        third.wait_for("Record an event")
        third.settle()
        third._tmux("send-keys", "Tab", *"Rang the duty team (fictional)")
        third.settle()
        third.keys("C-s")
        third.wait_for("Rang the duty team (fictional)", "Escalate", timeout=10)
        third.keys("Escape")
        third.settle()
        third.keys("Escape")
        third.wait_for("3 cases")
        first.keys("Escape")
        first.wait_for("3 cases")
        first.keys("/")
        first.type("SRV-000")
        first.wait_for('1 case matching "SRV-000"')
        first.keys("Enter", "Enter")
        first.wait_for("Rang the duty team (fictional)", timeout=10)

        # The third exports the log: it lands in that DSL's own outbox, fetched with sftp.
        third.keys("E")
        third.wait_for("Save as", "outbox")
        third.settle()
        third.keys("C-s")
        third.wait_for("✓ wrote", "sftp", timeout=30)
        (written,) = list((server.outbox / server.logins[2]).iterdir())
        # From the DSL's PC (here the client side of the loopback connection).
        fetched = server.base / "fetched"
        fetched.mkdir()
        sftp = run(
            "sftp", "-P", str(server.port), *server.ssh(server.logins[2]),
            f"{server.logins[2]}@127.0.0.1:{written.name}", str(fetched / written.name),
        )  # fmt: skip
        assert sftp.returncode == 0
        assert b"SRV-001" in (fetched / written.name).read_bytes()
        # SFTP is read-only: nothing can be put on the server through it.
        batch = server.base / "put.batch"
        batch.write_text("put /etc/hostname planted\n")
        put = run(
            "sftp", "-b", str(batch), "-P", str(server.port), *server.ssh(server.logins[2]),
            f"{server.logins[2]}@127.0.0.1", check=False,
        )  # fmt: skip
        assert put.returncode != 0
        assert not (server.outbox / server.logins[2] / "planted").exists()
        # Nobody else's outbox, and a shell through the same login is refused.
        assert run("cat", str(written), user=server.logins[0], check=False).returncode != 0
        shell = run(
            "ssh", "-p", str(server.port), *server.ssh(server.logins[0]),
            f"{server.logins[0]}@127.0.0.1", "cat /etc/hostname", check=False,
        )  # fmt: skip
        assert shell.returncode != 0 and "opens the console" in shell.stderr

        # None of the DSLs' own accounts can read or copy the records, nor sudo to anything
        # but the console.
        for login in server.logins:
            for target in (server.db, server.db.with_name("cases.db.keys")):
                assert run("cat", str(target), user=login, check=False).returncode != 0
                assert run("cp", str(target), "/tmp/", user=login, check=False).returncode != 0
            other = run(
                "sudo", "-n", "-u", server.service, "cat", str(server.db), user=login, check=False
            )
            assert other.returncode != 0

        # Killing one SSH client ends its console on the server within 5 s, and only that one.
        consoles = run("pgrep", "-u", server.service, "-f", "bin/dsl-console").stdout.split()
        login_of = {pid: started_by(pid) for pid in consoles}
        assert sorted(login_of.values()) == server.logins, login_of
        client = run(
            "pgrep", "-f", f"ssh -tt -p {server.port} .* {server.logins[0]}@127.0.0.1"
        ).stdout.split()
        assert client, "the first ssh client is not running"
        run("kill", "-KILL", *client)
        ended = next(pid for pid, login in login_of.items() if login == server.logins[0])
        deadline = time.monotonic() + 5
        while Path(f"/proc/{ended}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Path(f"/proc/{ended}").exists(), "the console outlived its SSH connection"
        assert all(Path(f"/proc/{pid}").exists() for pid in consoles if pid != ended)
        # The other two are still up and working.
        for terminal in (second, third):
            terminal.keys("Escape")
        second.wait_for("3 open", timeout=10)

        for terminal in (second, third):
            terminal.keys("Escape", "q")
    finally:
        for terminal in terminals.values():
            terminal.close()

    # Nothing lost or doubled: three cases, one escalation, one risk each where raised.
    out = server.home / "all.json"
    server.as_service("export", "json", "--out", str(out))
    cases = {c["ref"]: c for c in json.loads(run("cat", str(out)).stdout)["cases"]}
    assert len(cases) == 3, sorted(cases)
    assert {"SRV-000", "SRV-001"} <= set(cases)
    (typed,) = [c for ref, c in cases.items() if ref not in ("SRV-000", "SRV-001")]
    assert typed["child"]["name"] == "Cara Placeholder" and typed["immediate_risk"] is True
    escalations = [e for e in cases["SRV-001"]["events"] if e.get("kind") == "escalated"]
    assert len(escalations) == 1, cases["SRV-001"]["events"]
    notes = [e.get("note") for e in cases["SRV-000"]["events"]]
    assert notes == ["Rang the duty team (fictional)"], cases["SRV-000"]["events"]
    assert server.as_service("audit", "verify").returncode == 0

    # doctor, run as the service account on this deployment with last night's backup made,
    # finds only what the test did not set up: a schedule for the check.
    backups = server.home / "backups"
    server.as_service("backup", "--out", str(backups / "cases-nightly.db"))
    doctor = run(
        str(server.console), "doctor", "--backups", str(backups),
        user=server.service, HOME=str(server.home), check=False,
    )  # fmt: skip
    assert doctor.returncode == 1
    assert doctor.stdout.splitlines() == [
        "no schedule runs `dsl-console check` (cron or an enabled systemd timer): a same-day "
        "escalation is flagged only while a console is open (README: running the check)"
    ], doctor.stdout
