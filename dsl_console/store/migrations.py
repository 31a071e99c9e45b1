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


def _v2(db: Database) -> None:
    # Covering indexes for 100,000 cases: every hot query of the list, its filter, its counts
    # and the sweep reads index pages only (SQLCipher decrypts every page it touches, so
    # reading the wide table rows is what costs). Queries and the indexes they use are pinned
    # by tests/unit/test_query_plans.py.
    db.execute_sql("DROP INDEX IF EXISTS escalation_triage")  # a prefix of escalation_list
    # Dropped so the overdue view walks escalation_list in list order instead of seeking by
    # due and reading every overdue row from the table.
    db.execute_sql("DROP INDEX IF EXISTS escalation_open_due")
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS escalation_list ON escalation (is_open, urgency, sort_due, "
        "ref, child_name, due_at, risk_due_at, iro_notice, opened_at, procedure, "
        "procedure_version, stage, last_event_at)"
    )
    # The resolved view, newest first, with what its filter reads.
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS escalation_newest "
        "ON escalation (is_open, opened_at DESC, ref, child_name)"
    )
    # The sweep as of a past moment: cases resolved after it were still open then.
    db.execute_sql("CREATE INDEX IF NOT EXISTS escalation_resolved ON escalation (resolved_at)")
    # The retention view: children whose date of birth is on or before the cut-off.
    db.execute_sql("CREATE INDEX IF NOT EXISTS child_dob ON child (dob)")


def _v3(db: Database) -> None:
    # Content anchors: each case and event row names the audit entry that recorded it, and that
    # entry carries a digest of the rows' content, so a record edited outside the console no
    # longer matches the hash-chained trail (store/anchoring.py).
    # _v1 creates tables from the current models, which already have the column: add it only
    # to databases created before it existed.
    for table in ("escalation", "event"):
        columns = {row[1] for row in db.execute_sql(f"PRAGMA table_info({table})").fetchall()}
        if "anchor" not in columns:
            db.execute_sql(f"ALTER TABLE {table} ADD COLUMN anchor INTEGER")
    db.execute_sql("CREATE INDEX IF NOT EXISTS escalation_anchor ON escalation (anchor)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS event_anchor ON event (anchor)")


# Each entry migrates from version i to i+1. Append; never edit a released step.
MIGRATIONS: list[Callable[[Database], None]] = [_v1, _v2, _v3]
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
