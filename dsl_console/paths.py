"""Where the console keeps its files: platformdirs locations, created private when first asked for."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "dsl-console"


def private_dir(path: Path) -> Path:
    """Create a folder (and parents) readable by its owner only, and return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(path, 0o700)
    except OSError:  # a folder we do not own (e.g. /tmp itself): leave its mode alone
        pass
    return path


def data_dir() -> Path:
    """The user data folder, where the database lives."""
    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def config_dir() -> Path:
    """The user config folder: config.toml and procedures/."""
    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def default_db_path() -> Path:
    """The database used when neither --db nor DSL_CONSOLE_DB says otherwise."""
    return data_dir() / "cases.db"


def demo_db_path() -> Path:
    """The separate database of fictional cases used by `dsl-console demo`."""
    return data_dir() / "demo.db"


def default_config_path() -> Path:
    """config.toml in the user config folder."""
    return config_dir() / "config.toml"
