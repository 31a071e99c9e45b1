"""Where the console keeps its files: platformdirs locations, created private when first asked for."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "dsl-console"


def private_dir(path: Path) -> Path:
    """Create a folder (and missing parents) readable by its owner only, and return it.

    Only folders created here are made private: an existing folder (a home folder, /tmp, a
    shared drive) keeps its mode, since changing it would break things for others.
    """
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # created meanwhile by another process: not ours to chmod
            continue
        # mkdir's mode is filtered by the umask; set it exactly.
        os.chmod(folder, 0o700)
    if not path.is_dir():
        raise NotADirectoryError(20, "not a folder", str(path))
    return path


def data_dir() -> Path:
    """The user data folder, where the database lives."""
    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def config_dir() -> Path:
    """The user config folder: config.toml and procedures/."""
    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def cache_dir() -> Path:
    """The user cache folder: copies that can be rebuilt (the bank holidays' dates)."""
    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def default_db_path() -> Path:
    """The database used when neither --db nor DSL_CONSOLE_DB says otherwise."""
    return data_dir() / "cases.db"


def demo_db_path() -> Path:
    """The separate database of fictional cases used by `dsl-console demo`."""
    return data_dir() / "demo.db"


def default_config_path() -> Path:
    """config.toml in the user config folder."""
    return config_dir() / "config.toml"


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
