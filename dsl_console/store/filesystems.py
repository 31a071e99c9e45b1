"""Refusing a database on a network file system.

SQLite's write-ahead log keeps its index in shared memory, which works only among processes of
one machine, and its locks are unreliable over NFS and SMB: a database on a school's shared
drive opened from two PCs will in time be corrupted (sqlite.org, "SQLite Over a Network").
The answer is one server that holds the file and the consoles run there, reached over SSH.

The file system is judged by what the operating system reports for the folder, not by how the
path looks: /proc/self/mounts on Linux, the drive type (or a UNC path) on Windows.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from dsl_console.errors import StoreError

# File system types that live on another machine (or behind a user-space driver that may).
REMOTE_TYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb2",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "beegfs",
        "davfs",
        "ncpfs",
        "coda",
        "fuse",
        "fuseblk",
        "sshfs",
    }
)


def _unescape(field: str) -> str:
    # /proc/mounts writes space, tab, newline and backslash in mount points as octal escapes.
    for code in ("\\040", "\\011", "\\012", "\\134"):
        field = field.replace(code, chr(int(code[1:], 8)))
    return field


def mount_table(read: Callable[[], str] | None = None) -> list[tuple[str, str]]:
    """(mount point, file system type) for every mount, from /proc/self/mounts."""
    try:
        text = read() if read else Path("/proc/self/mounts").read_text(encoding="utf-8")
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            found.append((_unescape(parts[1]), parts[2]))
    return found


def file_system_of(folder: Path, table: list[tuple[str, str]]) -> str | None:
    """The type of the file system holding a folder: the deepest mount point above it."""
    target = str(folder)
    best: tuple[int, str] | None = None
    for point, fstype in table:
        inside = target == point or target.startswith(point.rstrip("/") + "/") or point == "/"
        if inside and (best is None or len(point) >= best[0]):
            best = (len(point), fstype)
    return best[1] if best else None


def is_remote(fstype: str) -> bool:
    """Whether a file system type is a network (or user-space, possibly remote) one."""
    return fstype in REMOTE_TYPES or fstype.startswith("fuse.") or fstype.startswith("nfs")


def _existing(path: Path) -> Path:
    folder = path.expanduser().absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder.resolve()


def _windows_remote(folder: Path) -> str | None:
    text = str(folder)
    if text.startswith("\\\\") and not text.startswith("\\\\?\\"):
        return "a network share (UNC path)"
    import ctypes

    root = os.path.splitdrive(text)[0] + "\\"
    drive_remote = 4  # DRIVE_REMOTE, GetDriveTypeW: a mapped network drive
    if ctypes.windll.kernel32.GetDriveTypeW(root) == drive_remote:  # type: ignore[attr-defined]
        return f"a mapped network drive ({root})"
    return None


def refuse_network_file_system(
    path: Path, *, table: list[tuple[str, str]] | None = None, platform: str = sys.platform
) -> None:
    """StoreError, saying why and what to do, if the database would be on a network drive."""
    where: str | None = None
    folder = path.expanduser().parent
    if platform == "win32":
        # The path as given: a UNC path is a share however its folders resolve.
        where = _windows_remote(path.expanduser())
    elif platform.startswith("linux"):
        folder = _existing(path)
        fstype = file_system_of(folder, mount_table() if table is None else table)
        if fstype is not None and is_remote(fstype):
            where = f"a network file system ({fstype})"
    if where is not None:
        raise StoreError(
            f"the database folder {folder} is on {where}: SQLite there will in time corrupt "
            "the records. Keep the database on the local disk of one machine and let each DSL "
            "use the console on it over SSH (README: the DSL team)"
        )
