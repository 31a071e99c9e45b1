"""`dsl-console doctor`: what is wrong with a deployment, one line per problem.

Run by the account that owns the database (on a server, the service account: `sudo -u
dsl-console dsl-console doctor`). It needs no passphrase and opens nothing: it reads file
modes, owners, mounts and schedules, the things a school's IT technician can put right. What
it judges: the database on a local file system, owned by this account and private (files
0600, folder 0700), the key file present and readable as one, a recent backup, the check
scheduled, and in server mode every DSL's outbox set up as `install -d ... -m 2750` makes it.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from dsl_console.config import Config
from dsl_console.core.terminal_text import safe
from dsl_console.errors import ConsoleError
from dsl_console.services.outbox import Outbox, account_name
from dsl_console.store import keyslots
from dsl_console.store.filesystems import refuse_network_file_system

BACKUP_AGE = timedelta(hours=36)  # a nightly backup, with a night's grace
SIDE_FILES = ("-wal", "-shm")
# A scheduled `dsl-console check`: the command, any global options, then the word check.
# Each option is one token starting with one or two dashes, then at most one value: a line
# splits into them one way only, so a long line without `check` is refused in linear time.
_CHECK_LINE = re.compile(r"dsl-console(?:\.exe)?(?:\s+-{1,2}[^\s-]\S*(?:\s+[^-\s]\S*)?)*\s+check\b")


def _private(path: Path, *, folder: bool) -> Iterator[str]:
    """This account's own, and nobody else's to read or write."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    except OSError as exc:
        yield f"{path} cannot be read ({exc.strerror})"
        return
    if stat.S_ISLNK(info.st_mode):
        yield f"{path} is a symbolic link: keep the real file here"
        return
    if info.st_uid != os.getuid():
        yield (
            f"{path} belongs to {account_name(info.st_uid)}, not to {account_name(os.getuid())} who runs "
            "the console: chown it, or run doctor as its owner"
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        want = "700" if folder else "600"
        yield f"{path} has mode {mode:o}: others can reach it; chmod {want} {path}"


def database_problems(db_path: Path) -> Iterator[str]:
    """Where the database is and who can reach it."""
    try:
        refuse_network_file_system(db_path)
    except ConsoleError as exc:
        yield str(exc)
    if not db_path.exists():
        yield (
            f"no database at {db_path}: the first DSL account makes it (run dsl-console as "
            "this account once)"
        )
        return
    yield from _private(db_path.parent, folder=True)
    yield from _private(db_path, folder=False)
    for suffix in SIDE_FILES:
        yield from _private(db_path.with_name(db_path.name + suffix), folder=False)
    keys = keyslots.keys_path(db_path)
    if not keys.exists():
        yield (
            f"the key file {keys} is missing: without it nobody can unlock the database "
            "(restore it from the newest backup's .keys)"
        )
        return
    yield from _private(keys, folder=False)
    try:
        users = keyslots.slot_users(keyslots.read_slots(keys))
    except (ConsoleError, OSError, ValueError):
        yield f"the key file {keys} cannot be read as one: restore it from a backup"
        return
    if not users:
        yield f"the key file {keys} holds no account"
    owed = keyslots.rekey_owed(keys)
    if owed:
        yield (
            f"the database key is still to be replaced ({safe(owed)}): an old copy of the key file "
            "opens it until then; run `dsl-console user rekey` with the consoles closed"
        )


def backup_problems(folder: Path, now: datetime) -> Iterator[str]:
    """A backup (a file with its .keys beside it) newer than a night and a half."""
    try:
        found = [
            p
            for p in folder.iterdir()
            if p.is_file() and keyslots.keys_path(p).is_file() and not p.name.endswith(".keys")
        ]
    except FileNotFoundError:
        yield (
            f"no backups folder {folder}: schedule `dsl-console backup` (README: the DSL team), "
            "or name the folder with --backups"
        )
        return
    except OSError as exc:
        yield f"the backups folder {folder} cannot be read ({exc.strerror})"
        return
    if not found:
        yield f"no backup in {folder}: schedule `dsl-console backup` (README: the DSL team)"
        return
    newest = max(p.stat().st_mtime for p in found)
    age = now.timestamp() - newest
    if age > BACKUP_AGE.total_seconds():
        days = age / 86400
        yield f"the newest backup in {folder} is {days:.1f} days old: is the backup timer running?"
    yield from _private(folder, folder=True)


def _schedule_texts(home: Path) -> Iterator[tuple[str, str]]:
    """(where, text) of every place a schedule may run the check from."""
    try:
        listed = subprocess.run(
            ["crontab", "-l"], capture_output=True, text=True, timeout=5, check=False
        )
        if listed.returncode == 0:
            yield "crontab", listed.stdout
    except (OSError, subprocess.SubprocessError):
        pass
    files: list[Path] = [Path("/etc/crontab")]
    for folder in (Path("/etc/cron.d"), Path("/etc/systemd/system"), home / ".config/systemd/user"):
        try:
            files.extend(p for p in folder.iterdir() if p.is_file())
        except OSError:
            continue
    for path in files:
        try:
            yield str(path), path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue


def _timer_enabled(service: Path) -> bool:
    """A systemd service runs on schedule only through its timer, enabled."""
    timer = service.with_suffix(".timer")
    if not timer.is_file():
        return False
    return any(
        (wants / timer.name).exists() for wants in service.parent.glob("*.wants") if wants.is_dir()
    )


def schedule_problems(places: Iterable[tuple[str, str]]) -> Iterator[str]:
    """`dsl-console check` scheduled by cron or an enabled systemd timer."""
    for where, text in places:
        lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
        if not any(_CHECK_LINE.search(line) for line in lines):
            continue
        if not where.endswith(".service") or _timer_enabled(Path(where)):
            return
    yield (
        "no schedule runs `dsl-console check` (cron or an enabled systemd timer): a same-day "
        "escalation is flagged only while a console is open (README: running the check)"
    )


def outbox_problems(root: Path) -> Iterator[str]:
    """Every DSL's outbox as `install -d -o <service> -g <login> -m 2750` makes it."""
    try:
        info = root.lstat()
    except FileNotFoundError:
        yield f"the outbox folder {root} (config: outbox) does not exist"
        return
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        yield f"the outbox folder {root} must be a folder owned by {account_name(os.getuid())}"
        return
    if stat.S_IMODE(info.st_mode) & 0o022:
        yield f"the outbox folder {root} can be written by others: chmod 711 {root}"
    for entry in sorted(root.iterdir()):
        box = Outbox(root, entry.name)
        try:
            why = box.problem()
        except KeyError:
            yield f"{entry} is not named after an OS login: remove it"
            continue
        if why is not None:
            yield f"outbox: {why}; fix with: {box.setup_command()}"


def deployment_problems(
    db_path: Path,
    config: Config,
    *,
    backups: Path,
    now: datetime,
    schedules: Iterable[tuple[str, str]] | None = None,
) -> list[str]:
    """Every problem found, in the order a technician would fix them. `schedules`: (where,
    text) of the crontabs and unit files to look in (default: this machine's)."""
    parts: Iterable[Iterator[str]] = (
        database_problems(db_path),
        backup_problems(backups, now),
        schedule_problems(_schedule_texts(Path.home()) if schedules is None else schedules),
        outbox_problems(config.outbox) if config.outbox is not None else iter(()),
    )
    return [problem for part in parts for problem in part]
