"""The demo database: created on first use with fictional cases, kept apart from real records."""

from __future__ import annotations

from pathlib import Path

from dsl_console.config import Config
from dsl_console.services.casebook import import_cases
from dsl_console.services.demo import demo_cases
from dsl_console.services.session import Credentials, open_session


def ensure_demo(path: Path, config: Config, credentials: Credentials) -> bool:
    """Create the demo database if absent; True when it was created now."""
    if path.exists():
        return False
    session = open_session(path, config, credentials, create=True)
    try:
        import_cases(session, demo_cases(session.now(), session.registry, session.calendar))
    finally:
        session.close()
    return True
