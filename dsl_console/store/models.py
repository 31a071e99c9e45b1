"""The Peewee models: how cases, events, users and the audit trail are stored."""

from __future__ import annotations

from datetime import UTC, datetime

from peewee import (
    SQL,
    AutoField,
    BooleanField,
    DatabaseProxy,
    Field,
    ForeignKeyField,
    IntegerField,
    Model,
    Node,
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


_BLANK: list[Node] = [SQL("DEFAULT ''")]


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
    # Added in schema 5: who the account is, as the forms and the records name them.
    full_name = TextField(default="", constraints=_BLANK)
    job_title = TextField(default="", constraints=_BLANK)
    email = TextField(default="", constraints=_BLANK)


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
    other_agency_kind = TextField(default="other")
    level_of_need = TextField(default="unknown")
    cp_plan = BooleanField(default=False)
    looked_after = BooleanField(default=False)
    immediate_risk = BooleanField(default=False)
    reason = TextField(default="")
    summary = TextField(default="")
    concern = TextField(default="", constraints=_BLANK)  # added in schema 5
    professionals = TextField(default="[]")  # JSON list of {name, role, agency, email}
    raised_by = TextField(default="")  # JSON {name, role, agency, email} or ""
    # Cached state (derived from the events by core.deadlines.case_state; store.cases.
    # state_columns is the one place that writes it).
    stage = IntegerField(default=1)
    stage_entered_at = UtcField()
    due_at = UtcField(null=True)  # the current stage's due
    risk_due_at = UtcField(null=True)
    school_due_at = UtcField(null=True)  # earliest of the stage's and the school's duties' dues
    response_due_at = UtcField(null=True)  # earliest due of the other agency's duties
    iro_notice = BooleanField(default=False)
    partnership_notice = BooleanField(default=False)
    resolved_at = UtcField(null=True)  # when the case was closed: resolved, or voided
    status = TextField(default="open")  # open, resolved, voided
    last_event_at = UtcField()
    is_open = BooleanField(default=True)
    owes = BooleanField(default=False)  # an outstanding duty
    is_live = BooleanField(default=True)  # open, or resolved with a duty still owed
    duties = TextField(default="")  # JSON [[id, arose_at, due], ...] of the outstanding duties
    # Urgency rank for the list: 0 outstanding immediate risk, 1 has a due, 2 no deadline,
    # 3 closed with nothing owed.
    urgency = IntegerField(default=2)
    sort_due = TextField(default="")  # risk_due or school_due as text; "" when none
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
    # Added in schema 4 with an SQL default, which a new database has too (_BLANK).
    form = TextField(default="", constraints=_BLANK)  # notified: the form sent
    field = TextField(default="", constraints=_BLANK)  # amended: the fact changed
    value = TextField(default="", constraints=_BLANK)  # amended: its new value as JSON
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
    # Schema 7 (store/signing.py): who signed the entry (its author, or for a failed unlock
    # taken from the key file, the account that unlocked next) and the signature over `hash`;
    # both empty on entries from before signatures.
    signer = TextField(default="")
    signature = TextField(default="")

    class Meta:
        table_name = "audit"


ALL_MODELS: list[type[Model]] = [Setting, User, ChildRow, Escalation, EventRow, AuditEntry]
