"""The Case aggregate: one patient's whole record, and the checks that span its records.

`Case.problems(today)` holds every cross-field rule of case-format.md; the date is passed
in because the domain never reads the clock.
"""

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import Field as PydanticField

from crlmboard.domain.meeting import Review
from crlmboard.domain.models import (
    ChemotherapyCycle,
    ExtrahepaticDisease,
    ImagingTimepointFields,
    ImmunotherapyDose,
    IsoDate,
    LabResult,
    LesionMeasurement,
    MolecularProfile,
    Patient,
    PrimaryTumour,
    Procedure,
    Record,
    SurgeryOutcome,
    SurgicalPlan,
)
from crlmboard.domain.validation import Problem

Treatment = ChemotherapyCycle | ImmunotherapyDose | Procedure

TREATMENT_KINDS: dict[str, type[ChemotherapyCycle | ImmunotherapyDose | Procedure]] = {
    "chemotherapy": ChemotherapyCycle,
    "immunotherapy": ImmunotherapyDose,
    "procedure": Procedure,
}


def treatment_kind(treatment: Treatment) -> str:
    """The `kind` a treatment has in the case file."""
    for kind, model in TREATMENT_KINDS.items():
        if type(treatment) is model:
            return kind
    raise TypeError(f"not a treatment: {type(treatment).__name__}")


class ImagingTimepoint(ImagingTimepointFields):
    """One imaging study with its lesion measurements."""

    lesions: list[LesionMeasurement] = PydanticField(default_factory=list)


class Case(Record):
    """One patient's whole record (the `crlmboard.case/1` content)."""

    patient: Patient
    primary: PrimaryTumour | None = None
    liver_metastases_diagnosis_date: IsoDate | None = None
    extrahepatic_disease: list[ExtrahepaticDisease] = PydanticField(default_factory=list)
    molecular: MolecularProfile | None = None
    labs: list[LabResult] = PydanticField(default_factory=list)
    treatments: list[Treatment] = PydanticField(default_factory=list)
    imaging: list[ImagingTimepoint] = PydanticField(default_factory=list)
    plan: SurgicalPlan | None = None
    surgery_outcomes: list[SurgeryOutcome] = PydanticField(default_factory=list)
    reviews: list[Review] = PydanticField(default_factory=list)

    @property
    def mrn(self) -> str:
        return self.patient.mrn

    @property
    def chemotherapy(self) -> list[ChemotherapyCycle]:
        return [t for t in self.treatments if isinstance(t, ChemotherapyCycle)]

    @property
    def immunotherapy(self) -> list[ImmunotherapyDose]:
        return [t for t in self.treatments if isinstance(t, ImmunotherapyDose)]

    @property
    def procedures(self) -> list[Procedure]:
        return [t for t in self.treatments if isinstance(t, Procedure)]

    def problems(self, today: date) -> list[Problem]:
        """Every cross-field problem of case-format.md, with its path."""
        found: list[Problem] = []
        latest = today + timedelta(days=366)

        def add(path: str, checks: list[tuple[str, str]]) -> None:
            found.extend(Problem(f"{path}.{field}", message) for field, message in checks)

        patient_checks = self.patient.cross_checks(today)
        add("patient", patient_checks)
        if self.primary is not None:
            add("primary", self.primary.cross_checks(today))
        if self.molecular is not None:
            add("molecular", self.molecular.cross_checks(today))
        for i, treatment in enumerate(self.treatments):
            if isinstance(treatment, ChemotherapyCycle):
                add(f"treatments[{i}]", treatment.cross_checks(today))
        for i, timepoint in enumerate(self.imaging):
            add(f"imaging[{i}]", timepoint.cross_checks(today))
            seen: set[str] = set()
            for j, lesion in enumerate(timepoint.lesions):
                if lesion.id in seen:
                    found.append(
                        Problem(
                            f"imaging[{i}].lesions[{j}].id",
                            f"lesion {lesion.id} appears twice at this timepoint",
                        )
                    )
                seen.add(lesion.id)
        for i, outcome in enumerate(self.surgery_outcomes):
            add(f"surgery_outcomes[{i}]", outcome.cross_checks(today))
        for i, review in enumerate(self.reviews):
            add(f"reviews[{i}]", review.cross_checks(today))
            if review.follow_up is not None:
                add(f"reviews[{i}].follow_up", review.follow_up.cross_checks(today))
            if review.amends is not None and review.amends >= i:
                found.append(
                    Problem(f"reviews[{i}].amends", "must name an earlier review of this case")
                )

        # an implausible birth date is reported once, not against every other date
        birth = None if patient_checks else self.patient.birth_date
        for path, when in self.dated_fields():
            if when > latest and path != "plan.planned_surgery_date":
                found.append(Problem(path, "must not be more than a year after today"))
            if birth is not None and when < birth and not path.startswith("patient."):
                found.append(Problem(path, "must not be before the birth date"))
        return found

    def dated_fields(self) -> list[tuple[str, date]]:
        """Every date in the record with its path."""
        dates: list[tuple[str, date]] = []

        def collect(path: str, record: Record | None) -> None:
            if record is None:
                return
            for name in type(record).model_fields:
                value = getattr(record, name)
                if isinstance(value, datetime):
                    value = value.date()
                if isinstance(value, date):
                    dates.append((f"{path}.{name}" if path else name, value))

        collect("patient", self.patient)
        collect("primary", self.primary)
        if self.liver_metastases_diagnosis_date is not None:
            dates.append(("liver_metastases_diagnosis_date", self.liver_metastases_diagnosis_date))
        for block, items in (
            ("extrahepatic_disease", self.extrahepatic_disease),
            ("labs", self.labs),
            ("treatments", self.treatments),
            ("imaging", self.imaging),
            ("surgery_outcomes", self.surgery_outcomes),
        ):
            for i, item in enumerate(items):
                collect(f"{block}[{i}]", item)
        collect("molecular", self.molecular)
        collect("plan", self.plan)
        for i, review in enumerate(self.reviews):
            collect(f"reviews[{i}]", review)
            for j, action in enumerate(review.actions):
                collect(f"reviews[{i}].actions[{j}]", action)
            collect(f"reviews[{i}].follow_up", review.follow_up)
        return dates

    def display_name(self) -> str:
        """`FAMILY, Given` as a list shows it."""
        family = self.patient.family_name or ""
        given = self.patient.given_name or ""
        if family and given:
            return f"{family.upper()}, {given}"
        return family.upper() or given or "(no name)"

    def content(self) -> dict[str, Any]:
        """Plain data of the record (for hashing and comparisons)."""
        return self.model_dump(mode="json", exclude_none=True)
