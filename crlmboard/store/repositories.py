"""Repositories: read and write whole cases and the case list; they return domain objects.

A case is written whole: its records are replaced inside the caller's transaction, its
version is bumped only if it still has the version the editor started from (optimistic
concurrency), and its reviews are only ever appended.
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


class ConflictError(Exception):
    """The case changed since it was opened (someone else saved it)."""


class NotFound(LookupError):
    """No such case."""


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

    def exists(self, mrn: str) -> bool:
        query = sa.select(col(t.CaseRow.id)).where(col(t.CaseRow.mrn) == mrn)
        return self.session.execute(query).first() is not None

    def version(self, mrn: str) -> int:
        return self._row(mrn).version

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
        for r in self._children(t.ReviewRow, case_id):
            reviews.append(Review.model_validate({
                **_row_values(r, m.ReviewFields),
                "actions": r.actions or [], "attendees": r.attendees or [],
                "follow_up": r.follow_up, "evaluation": r.evaluation,
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
            .where(col(t.AgendaItemRow.case_id) == case.id)
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

    def create(self, case: Case, summary: CaseSummary) -> int:
        """Insert a new case with its records and reviews; returns its id."""
        now = _now()
        row = t.CaseRow(
            **_fields(case.patient, m.Patient),
            liver_metastases_diagnosis_date=case.liver_metastases_diagnosis_date,
            version=1, created_at=now, updated_at=now, search_text=_search_text(case.patient),
            **vars(summary),
        )
        self.session.add(row)
        self.session.flush()
        assert row.id is not None
        self._write_records(row.id, case)
        self._append_reviews(row.id, case.reviews, 0)
        return row.id

    def update(self, case: Case, expected_version: int, summary: CaseSummary,
               *, rename_from: str | None = None) -> int:
        """Replace a case's records if nobody saved it since `expected_version`."""
        row = self._row(rename_from or case.mrn)
        bumped = self.session.execute(
            sa.update(t.CaseRow)
            .where(col(t.CaseRow.id) == row.id, col(t.CaseRow.version) == expected_version)
            .values(
                **_fields(case.patient, m.Patient),
                liver_metastases_diagnosis_date=case.liver_metastases_diagnosis_date,
                version=expected_version + 1, updated_at=_now(),
                search_text=_search_text(case.patient), **vars(summary),
            )
            .execution_options(synchronize_session=False)
        )
        if bumped.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(case.mrn)
        assert row.id is not None
        self.session.expire(row)
        self._delete_records(row.id)
        self._write_records(row.id, case)
        stored = len(self._children(t.ReviewRow, row.id))
        self._append_reviews(row.id, case.reviews[stored:], stored)
        return expected_version + 1

    def _delete_records(self, case_id: int) -> None:
        for model in _CHILDREN:
            self.session.execute(sa.delete(model).where(model.case_id == case_id))  # type: ignore[attr-defined]
        self.session.execute(sa.delete(t.ImagingTimepointRow)
                             .where(col(t.ImagingTimepointRow.case_id) == case_id))

    def _write_records(self, case_id: int, case: Case) -> None:
        add = self.session.add
        if case.primary is not None:
            add(t.PrimaryTumourRow(**_fields(case.primary, m.PrimaryTumour), case_id=case_id))
        if case.molecular is not None:
            add(t.MolecularProfileRow(**_fields(case.molecular, m.MolecularProfile),
                                      case_id=case_id))
        if case.plan is not None:
            add(t.SurgicalPlanRow(**_fields(case.plan, m.SurgicalPlan), case_id=case_id))
        for i, e in enumerate(case.extrahepatic_disease):
            add(t.ExtrahepaticDiseaseRow(**_fields(e, m.ExtrahepaticDisease), case_id=case_id,
                                         position=i))
        for i, lab in enumerate(case.labs):
            add(t.LabResultRow(**_fields(lab, m.LabResult), case_id=case_id, position=i))
        for i, treatment in enumerate(case.treatments):
            model = type(treatment)
            add(_TREATMENT_ROWS[model](**_fields(treatment, model), case_id=case_id,
                                       position=i))
        for i, outcome in enumerate(case.surgery_outcomes):
            add(t.SurgeryOutcomeRow(**_fields(outcome, m.SurgeryOutcome), case_id=case_id,
                                    position=i))
        for i, timepoint in enumerate(case.imaging):
            tp = t.ImagingTimepointRow(**_fields(timepoint, m.ImagingTimepointFields),
                                       case_id=case_id, position=i)
            add(tp)
            self.session.flush()
            assert tp.id is not None
            for j, lesion in enumerate(timepoint.lesions):
                add(t.LesionMeasurementRow(**_fields(lesion, m.LesionMeasurement),
                                           timepoint_id=tp.id, position=j))
        self.session.flush()

    def _append_reviews(self, case_id: int, reviews: Sequence[Review], start: int) -> None:
        for i, review in enumerate(reviews, start):
            self.session.add(t.ReviewRow(
                **_fields(review, m.ReviewFields), case_id=case_id, position=i,
                actions=[a.model_dump(mode="json", exclude_none=True) for a in review.actions],
                attendees=[a.model_dump(mode="json") for a in review.attendees],
                follow_up=(review.follow_up.model_dump(mode="json", exclude_none=True)
                           if review.follow_up else None),
                evaluation=review.evaluation,
            ))
        self.session.flush()

    def delete(self, mrn: str) -> None:
        """Remove a case with no reviews and no agenda entries."""
        row = self._row(mrn)
        self.session.delete(row)
        self.session.flush()


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
