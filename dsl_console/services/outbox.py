"""Server mode: exports reach the DSL's own PC without giving anyone the database.

On a school server every console runs as one service account that alone can read the database
(README: the DSL team). Each DSL starts it through `sudo -u` from their own OS login, which can
read nothing of the service account's. An export is written instead into that login's outbox,
`<outbox>/<login>/`: a folder the service account owns, in a group that holds that login
alone, with the set-group-ID bit, so each file in it is readable by that one login (mode 0640)
and fetched from the DSL's PC with SFTP. Files a day old are removed. Under sudo with no
outbox to serve the login, no export is written at all.

The folders are made once by the administrator (`install -d -o <service> -g <login> -m 2750`):
the service account cannot give a file to another user's group itself, and an outbox set up
wrongly is refused with the command that sets it right rather than exposing an export.
"""

from __future__ import annotations

import os
import re
import socket
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from dsl_console.errors import InputError

KEEP_FOR = timedelta(days=1)
FILE_MODE = 0o640  # the owner (the service account) and the login's own group
_LOGIN = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")


def sudo_caller(environ: Mapping[str, str] | None = None) -> str | None:
    """Who started this console through `sudo -u` from another account (as sudo sets
    SUDO_USER and SUDO_UID), whether or not the name can serve an outbox; None when the
    console runs under the account it was started from, or root started it."""
    env = os.environ if environ is None else environ
    uid = env.get("SUDO_UID", "")
    if not hasattr(os, "getuid") or not uid.isdigit() or int(uid) in (0, os.getuid()):
        return None
    return env.get("SUDO_USER") or uid


def server_login(environ: Mapping[str, str] | None = None) -> str | None:
    """The OS login that started this console through `sudo -u` (SUDO_USER), or None when
    the console runs under the account it was started from. sudo sets these variables
    itself; a login that does not exist, or whose uid is not SUDO_UID, counts as none."""
    env = os.environ if environ is None else environ
    name = sudo_caller(env)
    if name is None or not _LOGIN.fullmatch(name):
        return None
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return name if str(entry.pw_uid) == env.get("SUDO_UID") else None


def outbox_refusal(root: Path | None, environ: Mapping[str, str] | None = None) -> str | None:
    """Why this console may write no export at all: started through sudo by another login
    (server mode) with no outbox to serve it. Exports would otherwise land among the service
    account's own files, where no DSL can fetch them and where they could overwrite its
    settings."""
    caller = sudo_caller(environ)
    if caller is None:
        return None
    if root is None:
        return (
            "on this server exports go to each DSL's outbox, and none is set: the administrator "
            "sets outbox in the service account's config.toml (README: the DSL team)"
        )
    if server_login(environ) is None:
        return (
            f"on this server exports go to an outbox named after your login, and {caller!r} "
            "cannot name one (lower-case letters, digits, '.', '_' and '-')"
        )
    return None


def account_name(uid: int) -> str:
    """The login name of a uid (the number itself where it has none)."""
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _members(gid: int) -> set[str]:
    """Every login in a group: listed in it, or with it as their own (primary) group."""
    import grp
    import pwd

    try:
        listed = set(grp.getgrgid(gid).gr_mem)
    except KeyError:
        listed = set()
    return listed | {entry.pw_name for entry in pwd.getpwall() if entry.pw_gid == gid}


@dataclass(frozen=True)
class Outbox:
    """One DSL's outbox on the server: `root/login`."""

    root: Path
    login: str

    @property
    def folder(self) -> Path:
        return self.root / self.login

    def setup_command(self) -> str:
        """What the administrator runs to make this outbox right: in the login's own group
        where it has one (Debian's and Ubuntu's default), else in a new one."""
        import pwd

        me = account_name(os.getuid())
        gid = pwd.getpwnam(self.login).pw_gid
        group, make = _group_name(gid), ""
        if _members(gid) - {me} != {self.login}:
            group = f"{self.login}-outbox"
            make = f"sudo groupadd {group} && sudo gpasswd -a {self.login} {group} && "
        return f"{make}sudo install -d -o {me} -g {group} -m 2750 {self.folder}"

    def problem(self) -> str | None:
        """Why this outbox cannot take an export now (None when it can). KeyError when the
        login does not exist."""
        import pwd

        pwd.getpwnam(self.login)
        try:
            top = self.root.lstat()
            info = self.folder.lstat()
        except FileNotFoundError as exc:
            return f"{exc.filename} does not exist"
        except OSError as exc:
            return f"{exc.filename} cannot be read ({exc.strerror})"
        me = os.getuid()
        # The folder above must be this account's alone: whoever could write there could put
        # a folder of their own in place of a DSL's between this check and the export.
        if not stat.S_ISDIR(top.st_mode) or top.st_uid != me:
            return f"{self.root} is not a folder of {account_name(me)}'s"
        if stat.S_IMODE(top.st_mode) & 0o022:
            return f"{self.root} can be written by others (chmod 711 {self.root})"
        if not stat.S_ISDIR(info.st_mode):
            return f"{self.folder} is not a folder"
        if info.st_uid != me:
            return (
                f"{self.folder} belongs to {account_name(info.st_uid)}, not to {account_name(me)}"
            )
        members = _members(info.st_gid) - {account_name(me)}
        if members != {self.login}:
            others = sorted(members - {self.login})
            shared = f", which {others[0]} is in too" if others else ""
            return (
                f"{self.folder} is in group {_group_name(info.st_gid)}{shared}: an outbox's "
                f"group must hold {self.login} alone"
            )
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o007 or mode & 0o020 or not mode & stat.S_ISGID or mode & 0o050 != 0o050:
            return f"{self.folder} has mode {mode:o}, not 2750"
        return None

    def place(self, out: Path) -> Path:
        """Where an export named `out` goes: a bare file name, or a path inside this outbox."""
        text = str(out)
        inside = out.is_absolute() and out.parent == self.folder
        if not inside and (os.sep in text or (os.altsep and os.altsep in text)):
            raise InputError(
                f"in server mode exports go to your outbox ({self.folder}): "
                "give a file name only, such as log.csv",
                field="out",
            )
        name = out.name
        if name in ("", ".", "..") or name.startswith("."):
            raise InputError("give a file name, such as log.csv", field="out")
        if (why := self.problem()) is not None:
            raise InputError(
                f"your outbox is not ready: {why}; the server's administrator runs: "
                f"{self.setup_command()}",
                field="out",
            )
        return self.folder / name

    def publish(self, written: Path) -> None:
        """Make a written export readable by this login (through the folder's group)."""
        os.chmod(written, FILE_MODE)

    def fetch_hint(self, written: Path) -> str:
        """How the DSL fetches a file from their own PC."""
        return (
            f"fetch it on your PC with: sftp {self.login}@{socket.gethostname()}:{written.name} "
            f"(kept for {KEEP_FOR.days} day)"
        )


def outbox_for(root: Path | None, login: str | None) -> Outbox | None:
    """The outbox this console writes to: only in server mode, and only once one is set."""
    return Outbox(root, login) if root is not None and login is not None else None


def empty_outboxes(root: Path | None, now: datetime) -> int:
    """Remove the files older than a day from every outbox beneath `root`; returns how many.
    Only folders set up as outboxes are emptied (a mistaken `outbox` setting must not empty
    the database's folder), through a handle on the folder so that nothing swapped in on the
    way is followed, and only regular files this account owns: links and other people's
    files are left alone."""
    if root is None:
        return 0
    cutoff = (now - KEEP_FOR).timestamp()
    removed = 0
    try:
        names = os.listdir(root)
    except OSError:
        return 0
    for name in names:
        box = Outbox(root, name)
        try:
            if not _LOGIN.fullmatch(name) or box.problem() is not None:
                continue
            folder = os.open(box.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except (OSError, KeyError):
            continue
        try:
            for entry in os.scandir(folder):
                try:
                    info = entry.stat(follow_symlinks=False)
                    if (
                        stat.S_ISREG(info.st_mode)
                        and info.st_uid == os.getuid()
                        and info.st_mtime < cutoff
                    ):
                        os.unlink(entry.name, dir_fd=folder)
                        removed += 1
                except OSError:
                    continue
        finally:
            os.close(folder)
    return removed
