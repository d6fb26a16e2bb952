"""Table models: each inherits its domain field set and adds keys, order and links.

Rows never leave `store/`.  A case's records are children of its `patient` row and go with
it (`ON DELETE CASCADE`); reviews and agenda items refuse the deletion of their case
(`RESTRICT`), so a signed decision can never be removed by deleting a case.  Enumerations
are stored as their text value, so a new value never needs a database type change.
"""

from __future__ import annotations

import json
import zlib
from datetime import date, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from crlmboard.domain import models as m
from crlmboard.domain.meeting import MeetingFields, ReviewDraftFields
from crlmboard.store import jsontext

metadata = SQLModel.metadata
# Stable constraint names, so migrations can name what they change on every back end.
metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Large values are stored zlib-compressed on SQLite (a BLOB in a TEXT/JSON column; SQLite
# keeps a value's own type).  PostgreSQL compresses large values itself (TOAST), so there
# they stay plain.  Reading accepts both forms: rows written before stay as they were.
PACK_FROM_BYTES = 1024  # shorter values stay readable text (the sqlite3 shell shows them)
# zlib's level: 3 compresses the trail's JSON to 8 % more than 6 in half the time (a folder
# import spent a tenth of its work here: B5); any level reads back the same text, so values
# written at 6 before stay as they are.  B9 (size per heavy case) keeps its margin.
PACK_LEVEL = 3


def pack(text: str, dialect_name: str) -> str | bytes:
    """A text value as stored: compressed on SQLite when it is long enough to gain."""
    if dialect_name != "sqlite" or len(text) < PACK_FROM_BYTES:
        return text
    return zlib.compress(text.encode("utf-8"), PACK_LEVEL)


def unpack(value: Any) -> Any:
    """A stored text value as text (compressed ones expanded); other values as they are."""
    if isinstance(value, bytes | memoryview):
        return zlib.decompress(bytes(value)).decode("utf-8")
    return value


class PackedText(sa.types.TypeDecorator[str]):
    """Text stored compressed on SQLite when long (see `pack`)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> Any:
        return None if value is None else pack(value, dialect.name)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> str | None:
        text = unpack(value)
        return None if text is None else str(text)


class PackedJSON(sa.types.TypeDecorator[Any]):
    """JSON stored compressed on SQLite when long; plain JSON elsewhere.  The column stays
    a JSON column in the schema."""

    impl = sa.JSON
    cache_ok = True

    def bind_processor(self, dialect: sa.Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: Any) -> Any:
            if value is None:
                return None
            return pack(jsontext.compact(value), dialect.name)

        return process

    def result_processor(self, dialect: sa.Dialect, coltype: object) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: Any) -> Any:
            return None if value is None else json.loads(unpack(value))

        return process


def _json() -> Any:
    return Field(default=None, sa_type=sa.JSON)


def _packed_json() -> Any:
    return Field(default=None, sa_type=PackedJSON)


def _case_fk(ondelete: Literal["CASCADE", "RESTRICT"] = "CASCADE") -> Any:
    return Field(foreign_key="patient.id", ondelete=ondelete, index=True)


class CaseRow(SQLModel, m.Patient, table=True):  # type: ignore[misc]
    """One patient's case: the patient fields, the case's version and its list summary."""

    __tablename__ = "patient"
    __table_args__ = (
        sa.Index("ix_patient_names", "family_name", "given_name"),
        # the case list's default order (by name, unknown names last), with the search
        # text a filter tests as it walks that order (0011): see repositories.page
        sa.Index(
            "ix_patient_list_name",
            sa.text("(lower(family_name) IS NULL)"),
            sa.text("lower(family_name)"),
            sa.text("(lower(given_name) IS NULL)"),
            sa.text("lower(given_name)"),
            "mrn",
            "search_text",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    mrn: str = Field(max_length=32, unique=True)
    family_name: str | None = Field(default=None, max_length=100)
    given_name: str | None = Field(default=None, max_length=100)
    comorbidities: list[str] | None = _json()
    liver_metastases_diagnosis_date: date | None = None
    version: int = Field(default=1)
    created_at: datetime
    updated_at: datetime
    # The case list's summary, recomputed by the services at every save.
    resectability: str | None = Field(default=None, max_length=20, index=True)
    current_response: str | None = Field(default=None, max_length=4)
    open_warnings: int = Field(default=0)
    open_criticals: int = Field(default=0)
    search_text: str = Field(default="", index=True)


class PrimaryTumourRow(SQLModel, m.PrimaryTumour, table=True):  # type: ignore[misc]
    __tablename__ = "primary_tumour"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="patient.id", ondelete="CASCADE", unique=True)


class MolecularProfileRow(SQLModel, m.MolecularProfile, table=True):  # type: ignore[misc]
    __tablename__ = "molecular_profile"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="patient.id", ondelete="CASCADE", unique=True)


class SurgicalPlanRow(SQLModel, m.SurgicalPlan, table=True):  # type: ignore[misc]
    __tablename__ = "surgical_plan"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="patient.id", ondelete="CASCADE", unique=True)
    segments_to_resect: list[int] | None = _json()


class ExtrahepaticDiseaseRow(SQLModel, m.ExtrahepaticDisease, table=True):  # type: ignore[misc]
    __tablename__ = "extrahepatic_disease"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _case_fk()
    position: int


class LabResultRow(SQLModel, m.LabResult, table=True):  # type: ignore[misc]
    __tablename__ = "lab_result"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _case_fk()
    position: int


class ChemotherapyCycleRow(SQLModel, m.ChemotherapyCycle, table=True):  # type: ignore[misc]
    __tablename__ = "chemotherapy_cycle"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _case_fk()
    position: int


class ImmunotherapyDoseRow(SQLModel, m.ImmunotherapyDose, table=True):  # type: ignore[misc]
    __tablename__ = "immunotherapy_dose"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _case_fk()
    position: int


class ProcedureRow(SQLModel, m.Procedure, table=True):  # type: ignore[misc]
    __tablename__ = "procedure"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _case_fk()
    position: int
    segments: list[int] | None = _json()
    lesion_ids: list[str] | None = _json()


class ImagingTimepointRow(SQLModel, m.ImagingTimepointFields, table=True):  # type: ignore[misc]
    __tablename__ = "imaging_timepoint"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _case_fk()
    position: int


class LesionMeasurementRow(SQLModel, m.LesionMeasurement, table=True):  # type: ignore[misc]
    """A lesion measurement; the lesion's label (`id` in the case file) is column `label`."""

    __tablename__ = "lesion_measurement"
    row_id: int | None = Field(default=None, primary_key=True)
    id: str = Field(sa_column=sa.Column("label", sa.String(16), nullable=False))
    timepoint_id: int = Field(foreign_key="imaging_timepoint.id", ondelete="CASCADE", index=True)
    position: int


class SurgeryOutcomeRow(SQLModel, m.SurgeryOutcome, table=True):  # type: ignore[misc]
    __tablename__ = "surgery_outcome"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _case_fk()
    position: int
    recurrence_sites: list[str] | None = _json()


class ReviewRow(SQLModel, m.ReviewFields, table=True):  # type: ignore[misc]
    """A board review; a signed one is never changed or deleted (the repository refuses it
    and so do triggers, migration 0002) and keeps the hash of its content."""

    __tablename__ = "review"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _case_fk("RESTRICT")
    position: int
    actions: list[dict[str, Any]] | None = _json()
    attendees: list[dict[str, Any]] | None = _json()
    follow_up: dict[str, Any] | None = _json()
    evaluation: dict[str, Any] | None = _packed_json()  # the frozen evaluation: large
    content_sha256: str | None = Field(default=None, max_length=64)


class EngineComparisonRow(SQLModel, table=True):
    """What today's engine reads differently in a case's reviews signed with older engines
    (`domain.engine.history.engine_changes`), stored so an open need not run the engine
    again for each such review.  Derived, not clinical: never the source of a note unless
    every part of its key matches — the stored case and save it was computed from (id,
    creation time, version, time of the save, copied from the case row in SQL), the engine
    version and the profile (a hash of every value) — and it goes with its case (`ON DELETE
    CASCADE`; erasure deletes it explicitly, its audit rows become tombstones).  Audited
    like the case list's summary, since surgeons read it (migration 0013; `check` compares
    it with the trail).  One row per case."""

    __tablename__ = "engine_comparison"
    case_id: int = Field(primary_key=True, foreign_key="patient.id", ondelete="CASCADE")
    case_created_at: datetime
    case_version: int
    case_updated_at: datetime
    engine_version: str = Field(max_length=40)
    profile_key: str = Field(max_length=64)
    changes: list[dict[str, Any]] = Field(sa_type=sa.JSON)


class MeetingRow(SQLModel, MeetingFields, table=True):  # type: ignore[misc]
    __tablename__ = "meeting"
    __table_args__ = (sa.Index("ix_meeting_date", "date"),)
    id: int | None = Field(default=None, primary_key=True)


class MeetingAttendeeRow(SQLModel, m.Attendee, table=True):  # type: ignore[misc]
    __tablename__ = "meeting_attendee"
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE", index=True)
    position: int


class AgendaItemRow(SQLModel, table=True):
    """A case on a meeting's agenda: planned (status null), `discussed` (with its signed
    review), `held` (moved to a later meeting by the coordinator, with a note) or `moved`
    (not reached, carried to the next meeting)."""

    __tablename__ = "agenda_item"
    __table_args__ = (sa.Index("ix_agenda_item_case_meeting", "case_id", "meeting_id"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE", index=True)
    case_id: int = Field(foreign_key="patient.id", ondelete="RESTRICT")
    position: int
    question: str = Field(max_length=2000)
    status: str | None = Field(default=None, max_length=20)
    note: str | None = Field(default=None, max_length=2000)
    review_id: int | None = Field(default=None, foreign_key="review.id", ondelete="RESTRICT")


class ReviewFollowUpRow(SQLModel, m.FollowUp, table=True):  # type: ignore[misc]
    """The follow-up of a signed review, kept apart because a signed review never changes
    while its follow-up does."""

    __tablename__ = "review_follow_up"
    review_id: int = Field(primary_key=True, foreign_key="review.id", ondelete="RESTRICT")
    case_id: int = Field(foreign_key="patient.id", ondelete="RESTRICT", index=True)


class ReviewDraftRow(SQLModel, ReviewDraftFields, table=True):  # type: ignore[misc]
    """A review being written at a meeting and not signed yet (one per agenda item, and one
    per amendment of a review made there): deleted when it is signed or discarded, and with
    its agenda item."""

    __tablename__ = "review_draft"
    __table_args__ = (sa.Index("ix_review_draft_item_amends", "agenda_item_id", "amends"),)
    id: int | None = Field(default=None, primary_key=True)
    agenda_item_id: int = Field(foreign_key="agenda_item.id", ondelete="CASCADE")
    case_id: int = _case_fk("RESTRICT")
    amends: int | None = None  # the index of the signed review this amends (None: a review)
    actions: list[dict[str, Any]] | None = _json()
    attendees: list[dict[str, Any]] | None = _json()


class AuditEventRow(SQLModel, table=True):
    """One row of the hash-chained, append-only audit trail (see `audit`).

    `fields`, `before_json` and `after_json` hold canonical JSON text, so the row's hash can
    be recomputed from what is stored on every back end.
    """

    __tablename__ = "audit_event"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: str = Field(max_length=32)
    app_user: str = Field(max_length=200)
    os_login: str = Field(max_length=200)
    host: str = Field(max_length=255)
    app_version: str = Field(max_length=40)
    action: str = Field(max_length=20)
    table_name: str = Field(max_length=64)
    record_id: str | None = Field(default=None, max_length=200)
    case_id: int | None = Field(default=None, index=True)
    fields: str = Field(sa_type=sa.Text)
    before_json: str | None = Field(default=None, sa_type=PackedText)
    after_json: str | None = Field(default=None, sa_type=PackedText)
    prev_hash: str = Field(max_length=64)
    row_hash: str = Field(max_length=64)


class SettingRow(SQLModel, table=True):
    """Facts about the database itself (e.g. that it is a demo database)."""

    __tablename__ = "setting"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=4000)


def _store_enums_as_text() -> None:
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, sa.Enum):
                column.type = sa.String(40)


_store_enums_as_text()
