"""The Peewee models: how cases, events, users and the audit trail are stored."""

from __future__ import annotations

from datetime import UTC, datetime

from peewee import (
    AutoField,
    BooleanField,
    DatabaseProxy,
    Field,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

# Bound to the opened SQLCipher database by store.database.open_database, never at import.
database_proxy = DatabaseProxy()


class UtcField(Field):
    """An aware datetime stored as fixed-width UTC text, so text order is time order."""

    field_type = "TEXT"
    _FORMAT = "%Y-%m-%d %H:%M:%S.%f"

    def db_value(self, value: datetime | None) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return value.astimezone(UTC).strftime(self._FORMAT)

    def python_value(self, value: str | None) -> datetime | None:
        if value is None:
            return None
        try:
            # Thirty times faster than strptime (the offset is read, not set by replace): an
            # export of 100,000 cases reads over a million of these.
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # a year before 1000, which strftime wrote without padding
            return datetime.strptime(value, self._FORMAT).replace(tzinfo=UTC)


def utc_text(moment: datetime) -> str:
    """A moment in the stored text form, for raw SQL comparisons."""
    return moment.astimezone(UTC).strftime(UtcField._FORMAT)


class BaseModel(Model):
    id = AutoField()

    class Meta:
        database = database_proxy
        legacy_table_names = False


class Setting(Model):
    """Key-value facts about the database: schema version, calendar fingerprint."""

    key = TextField(primary_key=True)
    value = TextField()

    class Meta:
        database = database_proxy
        legacy_table_names = False


class User(BaseModel):
    """An account. Its role lives here, inside the encrypted database; its key slot beside it."""

    name = TextField(unique=True)
    role = TextField()  # dsl, deputy, read-only
    created_at = UtcField()
    removed_at = UtcField(null=True)


class ChildRow(BaseModel):
    """A child; one child may have several escalations."""

    name = TextField()
    dob = TextField()  # YYYY-MM-DD
    address = TextField(default="")
    parents = TextField(default="")

    class Meta:
        table_name = "child"
        indexes = ((("name", "dob"), False),)


class Escalation(BaseModel):
    """A case. The columns after `raised_by` cache its state, recomputed after every change."""

    ref = TextField(unique=True)
    procedure = TextField()
    procedure_version = TextField()
    opened_at = UtcField()
    child = ForeignKeyField(ChildRow, backref="escalations")
    child_name = TextField()  # copied from the child so the list filters without a join
    other_agency = TextField(default="")
    level_of_need = TextField(default="unknown")
    cp_plan = BooleanField(default=False)
    looked_after = BooleanField(default=False)
    immediate_risk = BooleanField(default=False)
    reason = TextField(default="")
    summary = TextField(default="")
    professionals = TextField(default="[]")  # JSON list of {name, role, agency, email}
    raised_by = TextField(default="")  # JSON {name, role, agency, email} or ""
    # Cached state (derived from the events by core.deadlines.case_state).
    stage = IntegerField(default=1)
    stage_entered_at = UtcField()
    due_at = UtcField(null=True)
    risk_due_at = UtcField(null=True)
    iro_notice = BooleanField(default=False)
    resolved_at = UtcField(null=True)
    last_event_at = UtcField()
    is_open = BooleanField(default=True)
    # Urgency rank for the list: 0 outstanding immediate risk, 1 has a due, 2 no deadline.
    urgency = IntegerField(default=2)
    sort_due = TextField(default="")  # risk_due or due as text; "" when none
    anchor = IntegerField(null=True)  # the audit entry that recorded this case


class EventRow(BaseModel):
    """An entry in a case's history. Append-only: triggers refuse UPDATE and DELETE."""

    escalation = ForeignKeyField(Escalation, backref="events")
    escalation_id: int  # the foreign key's raw value, set by Peewee
    seq = IntegerField()
    at = UtcField()
    kind = TextField()
    stage = IntegerField(null=True)
    by = TextField(default="")
    whom = TextField(default="")
    due = UtcField(null=True)
    note = TextField(default="")
    lessons = TextField(default="")
    action = IntegerField(null=True)
    method = TextField(default="")
    recorded_at = UtcField()
    recorded_by = TextField(default="")
    anchor = IntegerField(null=True)  # the audit entry that recorded this event

    class Meta:
        table_name = "event"
        indexes = ((("escalation", "seq"), True),)


class AuditEntry(BaseModel):
    """One line of the hash-chained audit trail. Append-only."""

    at = UtcField()
    user = TextField()
    action = TextField()
    ref = TextField(default="")
    detail = TextField(default="")
    prev_hash = TextField()
    hash = TextField()

    class Meta:
        table_name = "audit"


ALL_MODELS: list[type[Model]] = [Setting, User, ChildRow, Escalation, EventRow, AuditEntry]
