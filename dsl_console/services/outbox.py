"""Server mode: exports reach the DSL's own PC without giving anyone the database.

On a school server every console runs as one service account that alone can read the database
(README: the DSL team). Each DSL starts it through `sudo -u` from their own OS login, which can
read nothing of the service account's. An export is written instead into that login's outbox,
`<outbox>/<login>/`: a folder the service account owns, whose group is the login's own group
and which has the set-group-ID bit, so each file in it is readable by that one login (mode
0640) and fetched from the DSL's PC with SFTP. Files older than a day are removed.

The folders are made once by the administrator (`install -d -o <service> -g <login> -m 2750`):
the service account cannot give a file to another user's group itself, and an outbox set up
wrongly is refused with the command that sets it right rather than exposing an export.
"""

from __future__ import annotations

import os
import re
import socket
import stat
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from dsl_console.errors import InputError

KEEP_FOR = timedelta(days=1)
FILE_MODE = 0o640  # the owner (the service account) and the login's own group
_LOGIN = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")


def server_login(environ: dict[str, str] | None = None) -> str | None:
    """The OS login that started this console through `sudo -u` (SUDO_USER), or None when
    the console runs under the account it was started from. sudo sets these variables
    itself; a login that does not exist, or whose uid is not SUDO_UID, counts as none."""
    env = os.environ if environ is None else environ
    name = env.get("SUDO_USER", "")
    uid = env.get("SUDO_UID", "")
    if not hasattr(os, "getuid") or not name or name == "root" or not uid.isdigit():
        return None
    if int(uid) == os.getuid() or not _LOGIN.fullmatch(name):
        return None
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return name if entry.pw_uid == int(uid) else None


def _account_name(uid: int) -> str:
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


@dataclass(frozen=True)
class Outbox:
    """One DSL's outbox on the server: `root/login`."""

    root: Path
    login: str

    @property
    def folder(self) -> Path:
        return self.root / self.login

    def setup_command(self) -> str:
        """What the administrator runs to make this outbox right."""
        import pwd

        group = _group_name(pwd.getpwnam(self.login).pw_gid)
        return f"sudo install -d -o {_account_name(os.getuid())} -g {group} -m 2750 {self.folder}"

    def problem(self) -> str | None:
        """Why this outbox cannot take an export now (None when it can)."""
        import pwd

        try:
            info = self.folder.lstat()
        except FileNotFoundError:
            return f"{self.folder} does not exist"
        except OSError as exc:
            return f"{self.folder} cannot be read ({exc.strerror})"
        login_gid = pwd.getpwnam(self.login).pw_gid
        if not stat.S_ISDIR(info.st_mode):
            return f"{self.folder} is not a folder"
        if info.st_uid != os.getuid():
            return f"{self.folder} belongs to {_account_name(info.st_uid)}, not to this console's account"
        if info.st_gid != login_gid:
            return f"{self.folder} is in group {_group_name(info.st_gid)}, not {self.login}'s own"
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
                f"out: in server mode exports go to your outbox ({self.folder}): "
                "give a file name only, such as log.csv"
            )
        name = out.name
        if name in ("", ".", "..") or name.startswith("."):
            raise InputError("out: give a file name, such as log.csv")
        if (why := self.problem()) is not None:
            raise InputError(
                f"out: your outbox is not ready: {why}; the server's administrator runs: "
                f"{self.setup_command()}"
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
    """Remove the exports (and any leftover temporary files) older than a day from every
    outbox beneath `root` that this account owns; returns how many. Links and other
    people's files are left alone: an outbox is never a way to delete something else."""
    if root is None:
        return 0
    cutoff = (now - KEEP_FOR).timestamp()
    removed = 0
    try:
        folders = list(os.scandir(root))
    except OSError:
        return 0
    for folder in folders:
        try:
            if (
                not folder.is_dir(follow_symlinks=False)
                or folder.stat(follow_symlinks=False).st_uid != os.getuid()
            ):
                continue
            entries = list(os.scandir(folder.path))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
                if (
                    stat.S_ISREG(info.st_mode)
                    and info.st_uid == os.getuid()
                    and info.st_mtime < cutoff
                ):
                    os.unlink(entry.path)
                    removed += 1
            except OSError:
                continue
    return removed
