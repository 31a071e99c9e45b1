"""The demo database: created on first use with fictional cases, kept apart from real records."""

from __future__ import annotations

from pathlib import Path

from dsl_console.config import Config
from dsl_console.services.accounts import edit_profile
from dsl_console.services.casebook import import_cases
from dsl_console.services.demo import demo_cases
from dsl_console.services.session import Credentials, open_session
from dsl_console.store.users import Profile

DEMO_PROFILE = Profile(
    full_name="Sam Demo", job_title="Designated Safeguarding Lead", email="dsl@school.example"
)


def ensure_demo(path: Path, config: Config, credentials: Credentials) -> bool:
    """Create the demo database if absent; True when it was created now."""
    if path.exists():
        return False
    session = open_session(path, config, credentials, create=True)
    try:
        # A fictional holder too, so the demo's forms show what a real DSL's will: a name and
        # a job title, never the login name.
        edit_profile(session, session.user, DEMO_PROFILE)
        import_cases(session, demo_cases(session.now(), session.registry, session.calendar))
    finally:
        session.close()
    return True
