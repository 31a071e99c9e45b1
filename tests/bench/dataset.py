"""The benchmark's database: fictional cases in the import format, imported by the real CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dsl_console.config import Config
from dsl_console.core.procedures import load_registry
from dsl_console.services.demo import random_cases
from dsl_console.services.transfer import write_document

USER = "bench.lead"
PASSPHRASE = "fictional bench passphrase"
SEED = 2026
OPEN_SHARE = 0.4


@dataclass(frozen=True)
class Bench:
    """Where the benchmark works: its database, its import document and a private home."""

    folder: Path

    @property
    def db(self) -> Path:
        return self.folder / "cases.db"

    @property
    def document(self) -> Path:
        return self.folder / "cases.json"

    @property
    def home(self) -> Path:
        return self.folder / "home"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment every command runs in: this database, this user, no own config."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("DSL_CONSOLE_") and key not in ("COLUMNS", "LINES")
        }
        env.update(
            HOME=str(self.home),
            XDG_DATA_HOME=str(self.home / "data"),
            XDG_CONFIG_HOME=str(self.home / "config"),
            XDG_CACHE_HOME=str(self.home / "cache"),
            DSL_CONSOLE_DB=str(self.db),
            DSL_CONSOLE_USER=USER,
            DSL_CONSOLE_PASSPHRASE=PASSPHRASE,
            TERM="xterm-256color",
            COLORTERM="truecolor",
        )
        env.update(extra)
        return env


def write_cases(path: Path, count: int, now: datetime | None = None) -> int:
    """Write `count` fictional cases (about three events each, 40% open) as a dsl-console/1
    document, in the order they were opened, as a log kept over the years is; the number of
    events written is returned."""
    now = now or datetime.now(UTC)
    registry = load_registry(None)
    calendar = Config().calendar()
    cases = sorted(
        random_cases(now, registry, calendar, count, seed=SEED, open_share=OPEN_SHARE),
        key=lambda case: (case.opened_at, case.ref),
    )
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8") as out:
        for chunk in write_document(cases):
            out.write(chunk)
    tmp.replace(path)
    return sum(len(case.events) for case in cases)
