"""The schema, versioned from the first release and migrated forward when the database opens."""

from __future__ import annotations

from collections.abc import Callable

from peewee import Database

from dsl_console.store.audit import APPEND_ONLY_TRIGGERS
from dsl_console.store.models import ALL_MODELS, Setting

SCHEMA_VERSION_KEY = "schema_version"


def _v1(db: Database) -> None:
    db.create_tables(ALL_MODELS)
    # Records are kept, not rewritten: a correction is a new event.
    for definition in APPEND_ONLY_TRIGGERS.values():
        db.execute_sql(definition.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))
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
        _add_columns(db, table, {"anchor": "INTEGER"})
    db.execute_sql("CREATE INDEX IF NOT EXISTS escalation_anchor ON escalation (anchor)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS event_anchor ON event (anchor)")


def _add_columns(db: Database, table: str, columns: dict[str, str]) -> None:
    # _v1 creates tables from the current models: add a column only where it is missing.
    present = {row[1] for row in db.execute_sql(f"PRAGMA table_info({table})").fetchall()}
    for name, definition in columns.items():
        if name not in present:
            db.execute_sql(f'ALTER TABLE {table} ADD COLUMN "{name}" {definition}')


def _v4(db: Database) -> None:
    # Duties (contract v2): the other agency's kind, the form a notification sent, amendments,
    # and the cached state the duties add. The cached columns are filled by the state refresh
    # that follows any migration (the engine version is part of the state fingerprint).
    _add_columns(
        db,
        "escalation",
        {
            "other_agency_kind": "TEXT NOT NULL DEFAULT 'other'",
            "school_due_at": "TEXT",
            "response_due_at": "TEXT",
            "partnership_notice": "INTEGER NOT NULL DEFAULT 0",
            "status": "TEXT NOT NULL DEFAULT 'open'",
            "owes": "INTEGER NOT NULL DEFAULT 0",
            "is_live": "INTEGER NOT NULL DEFAULT 1",
            "duties": "TEXT NOT NULL DEFAULT ''",
        },
    )
    _add_columns(
        db,
        "event",
        {
            "form": "TEXT NOT NULL DEFAULT ''",
            "field": "TEXT NOT NULL DEFAULT ''",
            "value": "TEXT NOT NULL DEFAULT ''",
        },
    )
    # The list, its flagged view, the header's counts and the sweep now cover every case still
    # owing something (open, or resolved with a duty outstanding): one covering index keyed on
    # that, with what each of them reads.
    db.execute_sql("DROP INDEX IF EXISTS escalation_list")
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS escalation_live ON escalation (is_live, urgency, sort_due, "
        "ref, child_name, is_open, status, due_at, risk_due_at, school_due_at, response_due_at, "
        "iro_notice, partnership_notice, owes, opened_at, procedure, procedure_version, stage, "
        "last_event_at)"
    )
    # `check` reads the outstanding duties of the cases that owe any: a partial index of
    # just those, holding what it reads, so that no case row is read for them.
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS escalation_owed ON escalation (ref, duties) "
        "WHERE is_live = 1 AND owes = 1"
    )
    # The resolved view now leaves voided cases out: its index holds the status it reads.
    db.execute_sql("DROP INDEX IF EXISTS escalation_newest")
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS escalation_newest "
        "ON escalation (is_open, opened_at DESC, ref, child_name, status)"
    )
    # The sweep as of a past moment: cases whose history goes on after it are replayed.
    db.execute_sql("DROP INDEX IF EXISTS escalation_resolved")
    db.execute_sql("CREATE INDEX IF NOT EXISTS escalation_last_event ON escalation (last_event_at)")


def _v5(db: Database) -> None:
    # A living record: who each account is (full name, job title, email, as the forms name
    # them), and the child-welfare concern of a case.
    _add_columns(
        db,
        "user",
        {
            "full_name": "TEXT NOT NULL DEFAULT ''",
            "job_title": "TEXT NOT NULL DEFAULT ''",
            "email": "TEXT NOT NULL DEFAULT ''",
        },
    )
    _add_columns(db, "escalation", {"concern": "TEXT NOT NULL DEFAULT ''"})
    # The resolved and voided views list the most recently closed first, from this index
    # (with what their filter reads).
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS escalation_closed "
        "ON escalation (is_open, status, resolved_at DESC, ref, child_name)"
    )


def _v6(db: Database) -> None:
    # Unlocking replays the account grants (store/account_trail.py): a partial index keeps
    # that to the few entries it reads, however long the trail.
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS audit_accounts ON audit (id) "
        "WHERE action IN ('account-created', 'account-added', 'account-removed')"
    )


def _v7(db: Database) -> None:
    # Audit signatures (store/signing.py). Old entries keep empty ones: they were written
    # before any account had a signing key.
    _add_columns(
        db, "audit", {"signer": "TEXT NOT NULL DEFAULT ''", "signature": "TEXT NOT NULL DEFAULT ''"}
    )
    # The grants now include the entries that record a signing key: the index follows.
    db.execute_sql("DROP INDEX IF EXISTS audit_accounts")
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS audit_grants ON audit (id) WHERE action IN "
        "('account-created', 'account-added', 'account-removed', 'passphrase-changed', "
        "'signing-key')"
    )


# Each entry migrates from version i to i+1. Append; never edit a released step.
MIGRATIONS: list[Callable[[Database], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7]
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
