"""The schema, versioned from the first release and migrated forward when the database opens."""

from __future__ import annotations

from collections.abc import Callable

from peewee import Database

from dsl_console.store.models import ALL_MODELS, Setting

SCHEMA_VERSION_KEY = "schema_version"


def _v1(db: Database) -> None:
    db.create_tables(ALL_MODELS)
    for table in ("event", "audit"):
        # Records are kept, not rewritten: a correction is a new event.
        db.execute_sql(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} entries are append-only'); END"
        )
        db.execute_sql(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} entries are append-only'); END"
        )
    # The list's order (urgency) and its quick views, served straight from these indexes.
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS escalation_triage "
        "ON escalation (is_open, urgency, sort_due, ref)"
    )
    db.execute_sql("CREATE INDEX IF NOT EXISTS escalation_opened ON escalation (opened_at)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS escalation_child_name ON escalation (child_name)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS escalation_open_due ON escalation (is_open, due_at)")


# Each entry migrates from version i to i+1. Append; never edit a released step.
MIGRATIONS: list[Callable[[Database], None]] = [_v1]
LATEST = len(MIGRATIONS)


def schema_version(db: Database) -> int:
    """The version the database is at (0 when empty)."""
    if "setting" not in db.get_tables():
        return 0
    row = Setting.get_or_none(Setting.key == SCHEMA_VERSION_KEY)
    return int(row.value) if row else 0


def migrate(db: Database) -> int:
    """Bring the schema up to date in one transaction; returns the version reached."""
    current = schema_version(db)
    if current > LATEST:
        from dsl_console.errors import StoreError

        raise StoreError(
            f"the database is from a newer version of dsl-console (schema {current}); upgrade"
        )
    if current == LATEST:
        return current
    with db.atomic():
        for step in MIGRATIONS[current:]:
            step(db)
        Setting.replace(key=SCHEMA_VERSION_KEY, value=str(LATEST)).execute()
    return LATEST
