"""Repositories: read and write whole cases and the case list; they return domain objects.

A case is written whole inside the caller's transaction: its records are brought to the
edited state (only what differs is written, each change with its audit row), its version is
bumped only if it still has the version the editor started from (optimistic concurrency),
and a signed review is never changed or removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import SQLModel, col

from crlmboard.domain import models as m
from crlmboard.domain.case import Case, ImagingTimepoint, Treatment
from crlmboard.domain.meeting import Review
from crlmboard.store import tables as t
from crlmboard.store.audit import (
    AuditLog,
    jsonable,
    primary_key_attribute,
    record_values,
    review_content_hash,
)


class ConflictError(Exception):
    """The case changed since it was opened (someone else saved it)."""


class NotFound(LookupError):
    """No such case."""


class SignedReviewChanged(Exception):
    """An edit would change or remove a signed review (refused; amend it instead)."""

    def __init__(self, case_id: int, review_id: int | None, position: int,
                 signed_at: datetime | None):
        super().__init__(f"review {review_id} of case {case_id} is signed")
        self.case_id = case_id
        self.review_id = review_id
        self.position = position
        self.signed_at = signed_at


@dataclass(frozen=True)
class CaseListEntry:
    """One light row of the case list."""

    id: int
    mrn: str
    family_name: str | None
    given_name: str | None
    birth_date: date | None
    next_meeting: date | None
    resectability: str | None
    current_response: str | None
    open_warnings: int
    open_criticals: int
    version: int


@dataclass(frozen=True)
class CaseSummary:
    """What the case list shows about a case besides its identity (from the engine)."""

    resectability: str | None = None
    current_response: str | None = None
    open_warnings: int = 0
    open_criticals: int = 0


SORT_KEYS = ("mrn", "name", "age", "next_meeting", "resectability", "response", "warnings")

_CHILDREN: tuple[type[SQLModel], ...] = (
    t.PrimaryTumourRow, t.MolecularProfileRow, t.SurgicalPlanRow, t.ExtrahepaticDiseaseRow,
    t.LabResultRow, t.ChemotherapyCycleRow, t.ImmunotherapyDoseRow, t.ProcedureRow,
    t.SurgeryOutcomeRow,
)

_TREATMENT_ROWS: dict[type[Any], type[Any]] = {
    m.ChemotherapyCycle: t.ChemotherapyCycleRow,
    m.ImmunotherapyDose: t.ImmunotherapyDoseRow,
    m.Procedure: t.ProcedureRow,
}


_CASE = t.metadata.tables["patient"].c  # typed columns of the case table, for SQL expressions


def _fields(record: SQLModel, model: type[SQLModel]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in model.model_fields}


def _row_values(row: SQLModel, model: type[SQLModel]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in model.model_fields}


def _search_text(patient: m.Patient) -> str:
    parts = [patient.mrn, patient.family_name or "", patient.given_name or ""]
    return " ".join(p.casefold() for p in parts if p)


def _now() -> datetime:
    return datetime.now(UTC)


class CaseRepository:
    """Cases in one session."""

    def __init__(self, session: Session):
        self.session = session

    # -- reading --------------------------------------------------------------------

    def _row(self, mrn: str) -> t.CaseRow:
        row = self.session.execute(sa.select(t.CaseRow).where(col(t.CaseRow.mrn) == mrn)).scalar()
        if row is None:
            raise NotFound(mrn)
        return row

    def id_of(self, mrn: str) -> int:
        """The case id of an MRN (audit rows name cases by id)."""
        case_id = self._row(mrn).id
        assert case_id is not None
        return case_id

    def exists(self, mrn: str) -> bool:
        query = sa.select(col(t.CaseRow.id)).where(col(t.CaseRow.mrn) == mrn)
        return self.session.execute(query).first() is not None

    def version(self, mrn: str) -> int:
        return self._row(mrn).version

    def mrn_of(self, case_id: int) -> str:
        row = self.session.get(t.CaseRow, case_id)
        if row is None:
            raise NotFound(case_id)
        return row.mrn

    def review_id(self, mrn: str, position: int) -> int:
        """The stored id of a case's review at `position` (0-based)."""
        query = sa.select(col(t.ReviewRow.id)).where(
            col(t.ReviewRow.case_id) == self.id_of(mrn), col(t.ReviewRow.position) == position)
        found = self.session.execute(query).scalar()
        if found is None:
            raise NotFound(f"{mrn} review {position}")
        return int(found)

    def mrns_with_signed_reviews(self) -> list[str]:
        query = (sa.select(col(t.CaseRow.mrn)).distinct()
                 .join(t.ReviewRow, col(t.ReviewRow.case_id) == col(t.CaseRow.id))
                 .where(col(t.ReviewRow.signed_at).is_not(None)).order_by(col(t.CaseRow.mrn)))
        return [str(m) for m in self.session.execute(query).scalars()]

    def get(self, mrn: str) -> Case:
        """The whole case for an MRN."""
        row = self._row(mrn)
        return self._case(row)

    def _children(self, model: type[Any], case_id: int) -> Sequence[Any]:
        query = sa.select(model).where(model.case_id == case_id)
        if "position" in model.model_fields:
            query = query.order_by(model.position)
        return self.session.execute(query).scalars().all()

    def _one(self, row_model: type[Any], model: type[SQLModel], case_id: int) -> Any:
        rows = self._children(row_model, case_id)
        return model.model_validate(_row_values(rows[0], model)) if rows else None

    def _case(self, row: t.CaseRow) -> Case:
        case_id = row.id
        assert case_id is not None
        patient = m.Patient.model_validate(_row_values(row, m.Patient))
        treatments: list[tuple[int, Treatment]] = []
        for model, row_model in _TREATMENT_ROWS.items():
            for child in self._children(row_model, case_id):
                treatments.append((child.position, model.model_validate(
                    _row_values(child, model))))
        treatments.sort(key=lambda pair: pair[0])

        imaging: list[ImagingTimepoint] = []
        for tp in self._children(t.ImagingTimepointRow, case_id):
            lesions = self.session.execute(
                sa.select(t.LesionMeasurementRow)
                .where(col(t.LesionMeasurementRow.timepoint_id) == tp.id)
                .order_by(col(t.LesionMeasurementRow.position))
            ).scalars().all()
            imaging.append(ImagingTimepoint(
                **_row_values(tp, m.ImagingTimepointFields),
                lesions=[m.LesionMeasurement.model_validate(_row_values(x, m.LesionMeasurement))
                         for x in lesions]))

        reviews = []
        follow_ups = {f.review_id: f for f in self._children(t.ReviewFollowUpRow, case_id)}
        for r in self._children(t.ReviewRow, case_id):
            stored = follow_ups.get(r.id)
            # the follow-up table wins; a follow-up inside the review row is from before 0003
            follow_up = _row_values(stored, m.FollowUp) if stored is not None else r.follow_up
            reviews.append(Review.model_validate({
                **_row_values(r, m.ReviewFields),
                "actions": r.actions or [], "attendees": r.attendees or [],
                "follow_up": follow_up, "evaluation": r.evaluation,
            }))

        def many(row_model: type[Any], model: type[SQLModel]) -> list[Any]:
            return [model.model_validate(_row_values(x, model))
                    for x in self._children(row_model, case_id)]

        return Case(
            patient=patient,
            primary=self._one(t.PrimaryTumourRow, m.PrimaryTumour, case_id),
            liver_metastases_diagnosis_date=row.liver_metastases_diagnosis_date,
            extrahepatic_disease=many(t.ExtrahepaticDiseaseRow, m.ExtrahepaticDisease),
            molecular=self._one(t.MolecularProfileRow, m.MolecularProfile, case_id),
            labs=many(t.LabResultRow, m.LabResult),
            treatments=[x for _, x in treatments],
            imaging=imaging,
            plan=self._one(t.SurgicalPlanRow, m.SurgicalPlan, case_id),
            surgery_outcomes=many(t.SurgeryOutcomeRow, m.SurgeryOutcome),
            reviews=reviews,
        )

    def count(self, query: str = "") -> int:
        statement = sa.select(sa.func.count()).select_from(t.CaseRow)
        statement = self._filtered(statement, query)
        return int(self.session.execute(statement).scalar_one())

    @staticmethod
    def _filtered(statement: Any, query: str) -> Any:
        for word in query.casefold().split():
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(_CASE.search_text.like(f"%{escaped}%", escape="\\"))
        return statement

    def page(self, query: str = "", *, sort: str = "name", descending: bool = False,
             offset: int = 0, limit: int = 200, today: date | None = None) -> list[CaseListEntry]:
        """One page of the case list, filtered and sorted in SQL."""
        if sort not in SORT_KEYS:
            raise ValueError(f"cannot sort by {sort!r}")
        case = _CASE
        next_meeting = (
            sa.select(sa.func.min(col(t.MeetingRow.date)))
            .join(t.AgendaItemRow, col(t.AgendaItemRow.meeting_id) == col(t.MeetingRow.id))
            .where(col(t.AgendaItemRow.case_id) == case.id,
                   sa.or_(col(t.AgendaItemRow.status).is_(None),
                          col(t.AgendaItemRow.status) == "planned"))
        )
        if today is not None:
            next_meeting = next_meeting.where(col(t.MeetingRow.date) >= today)
        next_meeting_col = next_meeting.scalar_subquery().label("next_meeting")
        columns: dict[str, list[Any]] = {
            "mrn": [case.mrn],
            "name": [sa.func.lower(case.family_name), sa.func.lower(case.given_name)],
            "age": [case.birth_date],
            "next_meeting": [next_meeting_col],
            "resectability": [case.resectability],
            "response": [case.current_response],
            "warnings": [case.open_criticals, case.open_warnings],
        }
        if sort == "age":  # the youngest first when ascending by age
            descending = not descending
        if sort == "name" and not descending:
            # written as the index ix_patient_list_name is, so a page reads it in order
            # instead of sorting every patient: unknown names last, then by name and MRN
            family, given = sa.func.lower(case.family_name), sa.func.lower(case.given_name)
            order = [family.is_(None), family, given.is_(None), given, case.mrn]
        else:
            order = [c.desc() if descending else c.asc() for c in columns[sort]]
            order = [o.nulls_last() for o in order] + [case.mrn.asc()]
        statement = sa.select(
            case.id, case.mrn, case.family_name, case.given_name, case.birth_date,
            next_meeting_col, case.resectability, case.current_response, case.open_warnings,
            case.open_criticals, case.version,
        )
        statement = self._filtered(statement, query).order_by(*order).offset(offset).limit(limit)
        return [CaseListEntry(*row) for row in self.session.execute(statement).all()]

    # -- writing --------------------------------------------------------------------
    #
    # A save pairs the stored rows of each table with the edited records by their order and
    # writes only what differs: changed fields are updated in place, extra records inserted,
    # missing ones deleted, each with its audit row (field, before, after) in the caller's
    # transaction.  Reviews are history: a signed one must come back unchanged.

    @property
    def audit(self) -> AuditLog:
        return AuditLog.of(self.session)

    def create(self, case: Case, summary: CaseSummary) -> int:
        """Insert a new case with its records and reviews; returns its id."""
        now = _now()
        row = t.CaseRow(
            **_patient_values(case), version=1, created_at=now, updated_at=now,
            search_text=_search_text(case.patient), **vars(summary),
        )
        self.session.add(row)
        self.session.flush()
        assert row.id is not None
        self.audit.inserted(t.CaseRow, row, row.id)
        self._write_records(row.id, case)
        self._write_reviews(row.id, case.reviews)
        self.audit.flush()
        return row.id

    def update(self, case: Case, expected_version: int, summary: CaseSummary,
               *, rename_from: str | None = None) -> int:
        """Bring a case's records to `case` if nobody saved it since `expected_version`."""
        row = self._row(rename_from or case.mrn)
        case_id = row.id
        assert case_id is not None
        before = record_values(row, t.CaseRow)
        values = _patient_values(case)
        bumped = self.session.execute(
            sa.update(t.CaseRow)
            .where(col(t.CaseRow.id) == case_id, col(t.CaseRow.version) == expected_version)
            .values(**values, version=expected_version + 1, updated_at=_now(),
                    search_text=_search_text(case.patient), **vars(summary))
            .execution_options(synchronize_session=False)
        )
        if bumped.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(case.mrn)
        self.session.expire(row)
        after = {k: jsonable(v) for k, v in values.items() if jsonable(v) != before.get(k)}
        if after:
            self.audit.updated(t.CaseRow, row, case_id, {k: before.get(k) for k in after},
                               after)
        self._write_records(case_id, case)
        self._write_reviews(case_id, case.reviews)
        self.audit.flush()
        return expected_version + 1

    def _sync(self, model: type[Any], stored: Sequence[Any],
              wanted: Sequence[dict[str, Any]], case_id: int) -> list[Any]:
        """Make one table's rows of a case equal `wanted` (paired by order); returns the
        rows now stored, in order."""
        audit = self.audit
        result: list[Any] = []
        inserted: list[Any] = []
        removed: list[Any] = []
        for i in range(max(len(stored), len(wanted))):
            if i < len(stored) and i < len(wanted):
                row, before, after = stored[i], {}, {}
                for name, value in wanted[i].items():
                    old, new = jsonable(getattr(row, name)), jsonable(value)
                    if old != new:
                        before[name], after[name] = old, new
                        setattr(row, name, value)
                if after:
                    audit.updated(model, row, case_id, before, after)
                result.append(row)
            elif i < len(wanted):
                row = model(**wanted[i])
                self.session.add(row)
                inserted.append(row)
                result.append(row)
            else:
                removed.append(stored[i])
        if removed:
            key = primary_key_attribute(model)
            for row in removed:
                audit.deleted(model, row, case_id)
                self.session.expunge(row)
            self.session.execute(sa.delete(model).where(
                getattr(model, key).in_([getattr(r, key) for r in removed])))
        self.session.flush()
        for row in inserted:
            audit.inserted(model, row, case_id)
        return result

    def _write_records(self, case_id: int, case: Case) -> None:
        def one(model: type[Any], record: SQLModel | None,
                fields: type[SQLModel]) -> None:
            wanted = [] if record is None else [{**_fields(record, fields), "case_id": case_id}]
            self._sync(model, self._children(model, case_id), wanted, case_id)

        def many(model: type[Any], records: Sequence[SQLModel],
                 fields: type[SQLModel]) -> None:
            wanted = [{**_fields(r, fields), "case_id": case_id, "position": i}
                      for i, r in enumerate(records)]
            self._sync(model, self._children(model, case_id), wanted, case_id)

        one(t.PrimaryTumourRow, case.primary, m.PrimaryTumour)
        one(t.MolecularProfileRow, case.molecular, m.MolecularProfile)
        one(t.SurgicalPlanRow, case.plan, m.SurgicalPlan)
        many(t.ExtrahepaticDiseaseRow, case.extrahepatic_disease, m.ExtrahepaticDisease)
        many(t.LabResultRow, case.labs, m.LabResult)
        many(t.SurgeryOutcomeRow, case.surgery_outcomes, m.SurgeryOutcome)
        by_table: dict[type[Any], list[dict[str, Any]]] = {r: [] for r in _TREATMENT_ROWS.values()}
        for i, treatment in enumerate(case.treatments):
            model = type(treatment)
            by_table[_TREATMENT_ROWS[model]].append(
                {**_fields(treatment, model), "case_id": case_id, "position": i})
        for row_model, wanted in by_table.items():
            self._sync(row_model, self._children(row_model, case_id), wanted, case_id)
        self._write_imaging(case_id, case.imaging)

    def _write_imaging(self, case_id: int, imaging: Sequence[ImagingTimepoint]) -> None:
        stored = self._children(t.ImagingTimepointRow, case_id)
        lesions: dict[int, list[Any]] = {tp.id: [] for tp in stored}
        if stored:
            for lesion in self.session.execute(
                    sa.select(t.LesionMeasurementRow)
                    .where(col(t.LesionMeasurementRow.timepoint_id).in_(list(lesions)))
                    .order_by(col(t.LesionMeasurementRow.position))).scalars():
                lesions[lesion.timepoint_id].append(lesion)
        for tp in stored[len(imaging):]:  # timepoints that go: their lesions first
            self._sync(t.LesionMeasurementRow, lesions[tp.id], [], case_id)
        wanted = [{**_fields(tp, m.ImagingTimepointFields), "case_id": case_id, "position": i}
                  for i, tp in enumerate(imaging)]
        rows = self._sync(t.ImagingTimepointRow, stored, wanted, case_id)
        for tp_row, timepoint in zip(rows, imaging, strict=True):
            self._sync(t.LesionMeasurementRow, lesions.get(tp_row.id, []), [
                {**_fields(lesion, m.LesionMeasurement), "timepoint_id": tp_row.id,
                 "position": j} for j, lesion in enumerate(timepoint.lesions)], case_id)

    def _write_reviews(self, case_id: int, reviews: Sequence[Review]) -> None:
        """Reviews are history: a signed one must come back unchanged and in its place;
        drafts may change; a review signed now gets its content hash."""
        stored = self._children(t.ReviewRow, case_id)
        wanted = [_review_values(review, case_id, i) for i, review in enumerate(reviews)]
        for i, row in enumerate(stored[:len(wanted)]):
            # a review row's own follow-up column is frozen as written; follow-ups live in
            # review_follow_up (see _write_follow_ups)
            wanted[i]["follow_up"] = row.follow_up
        for i, row in enumerate(stored):
            if row.signed_at is None:
                continue
            if i >= len(wanted) or any(jsonable(getattr(row, k)) != jsonable(v)
                                       for k, v in wanted[i].items()):
                raise SignedReviewChanged(case_id, row.id, i, row.signed_at)
        for values in wanted:
            if values["signed_at"] is not None:
                values["content_sha256"] = review_content_hash(values)
        rows = self._sync(t.ReviewRow, stored, wanted, case_id)
        self._write_follow_ups(case_id, rows, reviews)

    def _write_follow_ups(self, case_id: int, rows: Sequence[t.ReviewRow],
                          reviews: Sequence[Review]) -> None:
        """Each review's follow-up in review_follow_up (inserted, updated or removed)."""
        stored = {f.review_id: f for f in self._children(t.ReviewFollowUpRow, case_id)}
        for row, review in zip(rows, reviews, strict=True):
            assert row.id is not None
            existing = stored.get(row.id)
            legacy = row.follow_up if existing is None else None
            wanted = review.follow_up
            if wanted is None:
                if existing is not None:
                    self.audit.deleted(t.ReviewFollowUpRow, existing, case_id)
                    self.session.delete(existing)
                continue
            values = _fields(wanted, m.FollowUp)
            if existing is None:
                if legacy is not None and jsonable(wanted.model_dump(
                        mode="json", exclude_none=True)) == jsonable(legacy):
                    continue  # unchanged since before 0003: stays in the review row
                follow_up = t.ReviewFollowUpRow(**values, review_id=row.id, case_id=case_id)
                self.session.add(follow_up)
                self.session.flush()
                self.audit.inserted(t.ReviewFollowUpRow, follow_up, case_id)
                continue
            before, after = {}, {}
            for name, value in values.items():
                old, new = jsonable(getattr(existing, name)), jsonable(value)
                if old != new:
                    before[name], after[name] = old, new
                    setattr(existing, name, value)
            if after:
                self.audit.updated(t.ReviewFollowUpRow, existing, case_id, before, after)
        self.session.flush()

    def delete(self, mrn: str) -> None:
        """Remove a case with no reviews and no agenda entries."""
        row = self._row(mrn)
        case_id = row.id
        assert case_id is not None
        self._write_imaging(case_id, [])
        for model in _CHILDREN:
            self._sync(model, self._children(model, case_id), [], case_id)
        self.audit.deleted(t.CaseRow, row, case_id)
        self.session.delete(row)
        self.session.flush()
        self.audit.flush()


def _patient_values(case: Case) -> dict[str, Any]:
    return {**_fields(case.patient, m.Patient),
            "liver_metastases_diagnosis_date": case.liver_metastases_diagnosis_date}


def _review_values(review: Review, case_id: int, position: int) -> dict[str, Any]:
    return {
        **_fields(review, m.ReviewFields), "case_id": case_id, "position": position,
        "actions": [a.model_dump(mode="json", exclude_none=True) for a in review.actions],
        "attendees": [a.model_dump(mode="json") for a in review.attendees],
        "follow_up": None,  # follow-ups live in review_follow_up
        "evaluation": review.evaluation,
    }


class SettingRepository:
    """Facts about the database itself, as text."""

    def __init__(self, session: Session):
        self.session = session

    def get(self, key: str) -> str | None:
        row = self.session.get(t.SettingRow, key)
        return None if row is None else row.value

    def put(self, key: str, value: str) -> None:
        row = self.session.get(t.SettingRow, key)
        if row is None:
            self.session.add(t.SettingRow(key=key, value=value))
        else:
            row.value = value
        self.session.flush()
