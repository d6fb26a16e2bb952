"""A case as an HL7 FHIR R4 (4.0.1) `Bundle` of type `collection` following mCODE STU4.

`case_to_bundle(case, as_of=..., profile=...)` is pure and deterministic: resource ids are
UUIDv5 of the MRN and the record they come from, `fullUrl`s are `urn:uuid:` and references
point at them, entries come in a fixed order.  Every resource names its profile in
`meta.profile`; codes come from `codes.py`.  The RECIST category per imaging timepoint is the
guideline engine's (`domain.engine.evaluate`), evaluated as of `as_of` with `profile`.

Cycle, dose, lesion, timepoint, review and extrahepatic-disease details that mCODE has no
element for travel in the project's own extensions (URIs under the project's OID, see
`codes.PROJECT`) so that a bundle read back by `mcode_import` gives the same case for every
field the mapping covers.  The MRN's identifier system is the site's (`mrn_system`).

Each observation is dated at what it describes: T and N at the primary's diagnosis, the M
category and the stage group (stage IV because of the liver metastases) at the liver
metastases' diagnosis, results at their test or imaging date.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import UTC, date, datetime
from typing import Any

from crlmboard.domain.case import Case, ImagingTimepoint
from crlmboard.domain.engine import ENGINE_VERSION, Profile, evaluate
from crlmboard.domain.engine.recist import RecistBaseline, RecistTimepoint
from crlmboard.domain.meeting import Review
from crlmboard.domain.models import (
    Biologic,
    BrafResult,
    ChemotherapyCycle,
    ExtrahepaticSite,
    ImmunotherapyDose,
    LesionMeasurement,
    PrimarySite,
    Procedure,
    ProcedureType,
    RasResult,
    StagingBasis,
)
from crlmboard.interop import codes as c

NAMESPACE = uuid.UUID("6f1c2f2e-4c1b-5b8e-9a57-8d7f2f0c9e31")
"""Namespace of the UUIDv5 resource ids (fixed forever: ids must not change)."""

DATA_ABSENT_EXTENSION = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
PROTEIN_CHANGE = re.compile(r"^(?:p\.)?\(?([A-Z])(\d+)([A-Z*])\)?$")
AMINO_ACIDS = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "E": "Glu", "Q": "Gln",
    "G": "Gly", "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe",
    "P": "Pro", "S": "Ser", "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "Ter",
}  # fmt: skip
PATIENT_BUNDLE_PROFILE = c.MCODE + "mcode-patient-bundle"


def resource_id(mrn: str, *parts: object) -> str:
    """The stable id of the resource made from one record of a case."""
    return str(uuid.uuid5(NAMESPACE, "/".join([mrn, *(str(p) for p in parts)])))


def utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def review_sha256(review: Review) -> str:
    """SHA-256 of a review's canonical JSON (its content hash, frozen at signing)."""
    content = review.model_dump(mode="json", exclude_none=True)
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def m_category(case: Case) -> str:
    """AJCC 8th M1 subcategory: liver only → M1a, another organ → M1b, peritoneum → M1c."""
    sites = {d.site for d in case.extrahepatic_disease}
    if ExtrahepaticSite.PERITONEUM in sites:
        return "m1c"
    return "m1b" if sites else "m1a"


def protein_change(gene: str, variant: str) -> dict[str, Any]:
    """A variant like "G12D" as HGVS on the gene's RefSeq protein, `NP_004976.2:p.(Gly12Asp)`
    (predicted change, three-letter amino acids), where it has that shape; else as text."""
    match = PROTEIN_CHANGE.match(variant.strip())
    if match and gene in c.PROTEIN_REFSEQ and match.group(1) in AMINO_ACIDS:
        before, position, after = match.groups()
        change = f"p.({AMINO_ACIDS[before]}{position}{AMINO_ACIDS[after]})"
        code = f"{c.PROTEIN_REFSEQ[gene]}:{change}"
        return {"coding": [{"system": c.HGVS, "code": code, "display": code}], "text": variant}
    return {"text": variant}


def _prune(value: Any) -> Any:
    """Leave out empty strings, and the objects and lists they leave empty (FHIR has no
    empty values)."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in ("", {}, [])}
    if isinstance(value, list):
        items = [_prune(v) for v in value]
        return [v for v in items if v not in ("", {}, [])]
    return value


def _sub(url: str, key: str, value: Any) -> dict[str, Any]:
    return {"url": url, key: value}


class _Bundle:
    """Collects the entries of one bundle."""

    def __init__(self, mrn: str):
        self.mrn = mrn
        self.entries: list[dict[str, Any]] = []

    def add(self, profile: str, resource: dict[str, Any], *key: object) -> str:
        """Add a resource; returns the reference to it."""
        rid = resource_id(self.mrn, resource["resourceType"], *key)
        full = {
            "resourceType": resource["resourceType"],
            "id": rid,
            "meta": {"profile": [c.PROFILES[profile]]},
        }
        full.update({k: v for k, v in resource.items() if k != "resourceType"})
        url = f"urn:uuid:{rid}"
        self.entries.append({"fullUrl": url, "resource": full})
        return url


def case_to_bundle(
    case: Case, *, as_of: date, profile: Profile, mrn_system: str = c.MRN_SYSTEM
) -> dict[str, Any]:
    """The mCODE bundle of a case (plain JSON-ready data); `mrn_system` is the site's MRN
    identifier system."""
    return _Exporter(case, as_of, profile, mrn_system).bundle()


class _Exporter:
    def __init__(self, case: Case, as_of: date, profile: Profile, mrn_system: str):
        self.mrn_system = mrn_system
        self.case = case
        self.as_of = as_of
        self.profile = profile
        self.out = _Bundle(case.mrn)
        self.patient = ""
        self.primary: str | None = None
        self.secondary = ""
        self.studies: dict[int, str] = {}

    def ref(self, url: str) -> dict[str, str]:
        return {"reference": url}

    def subject(self) -> dict[str, Any]:
        return {"subject": self.ref(self.patient)}

    def bundle(self) -> dict[str, Any]:
        self.add_patient()
        self.add_conditions()
        self.add_referral()
        self.add_ecog()
        self.add_staging()
        self.add_molecular()
        self.add_cea()
        self.add_primary_resection()
        self.add_treatments()
        self.add_imaging()
        self.add_disease_status()
        self.add_reviews()
        bundle: dict[str, Any] = _prune(
            {
                "resourceType": "Bundle",
                "id": resource_id(self.case.mrn, "Bundle"),
                "meta": {"profile": [PATIENT_BUNDLE_PROFILE]},
                "type": "collection",
                "timestamp": f"{self.as_of.isoformat()}T00:00:00Z",
                "entry": self.out.entries,
            }
        )
        return bundle

    # -- patient ------------------------------------------------------------------------

    def add_patient(self) -> None:
        p = self.case.patient
        resource: dict[str, Any] = {
            "resourceType": "Patient",
            "identifier": [
                {
                    "use": "usual",
                    "type": c.MRN_TYPE.concept(),
                    "system": self.mrn_system,
                    "value": p.mrn,
                }
            ],
        }
        name: dict[str, Any] = {}
        if p.family_name:
            name["family"] = p.family_name
        if p.given_name:
            name["given"] = [p.given_name]
        if not name:  # US Core: a name is required, so say that it is not known
            name["extension"] = [{"url": DATA_ABSENT_EXTENSION, "valueCode": "unknown"}]
        resource["name"] = [name]
        # FHIR's administrative gender has the same four values; not recorded is "unknown"
        resource["gender"] = p.sex.value if p.sex is not None else "unknown"
        if p.birth_date is not None:
            resource["birthDate"] = p.birth_date.isoformat()
        self.patient = self.out.add("patient", resource)

    def add_referral(self) -> None:
        p = self.case.patient
        if p.referring_clinician is None and p.referral_date is None:
            return
        resource: dict[str, Any] = {
            "resourceType": "ServiceRequest",
            "status": "completed",
            "intent": "order",
            "code": {"text": "Referral to the colorectal liver metastases tumor board"},
            **self.subject(),
            "reasonReference": [self.ref(self.secondary)],
        }
        if p.referral_date is not None:
            resource["authoredOn"] = p.referral_date.isoformat()
        if p.referring_clinician is not None:
            resource["requester"] = {"display": p.referring_clinician}
        self.out.add("referral", resource, "referral")

    def add_ecog(self) -> None:
        p = self.case.patient
        if p.ecog is None:
            return
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": [c.SURVEY.concept()],
            "code": c.ECOG.concept(),
            **self.subject(),
            "valueInteger": p.ecog,
            "interpretation": [c.ECOG_ANSWERS[p.ecog].concept()],
        }
        if p.referral_date is not None:
            resource["effectiveDateTime"] = p.referral_date.isoformat()
        self.out.add("ecog", resource, "ecog")

    # -- conditions and staging ---------------------------------------------------------

    def _condition(self, code: dict[str, Any]) -> dict[str, Any]:
        return {
            "resourceType": "Condition",
            "clinicalStatus": c.ACTIVE.concept(),
            "verificationStatus": c.CONFIRMED.concept(),
            "category": [c.PROBLEM_LIST_ITEM.concept()],
            "code": code,
            **self.subject(),
        }

    def add_conditions(self) -> None:
        primary = self.case.primary
        stage_ref = self._stage_refs()
        if primary is not None:
            if primary.site is not None:
                code = c.PRIMARY_SITE_CONDITION[primary.site].concept()
            else:
                code = c.MALIGNANT_NEOPLASTIC_DISEASE.concept("Colorectal cancer")
            resource = self._condition(code)
            extensions = []
            if primary.histology is not None:
                extensions.append(
                    {
                        "url": c.HISTOLOGY_EXTENSION,
                        "valueCodeableConcept": c.concept(c.HISTOLOGY[primary.histology]),
                    }
                )
            if extensions:
                resource["extension"] = extensions
            if primary.site is not None:
                resource["bodySite"] = [c.PRIMARY_SITE_BODY_SITE[primary.site].concept()]
            if primary.diagnosis_date is not None:
                resource["onsetDateTime"] = primary.diagnosis_date.isoformat()
            if stage_ref is not None:
                resource["stage"] = [{"assessment": [self.ref(stage_ref)]}]
            self.primary = self.out.add("primary", resource, "primary")
        resource = self._condition(c.LIVER_METASTASES.concept())
        related: list[dict[str, Any]] = []
        if self.primary is not None:
            related.append(
                {"url": c.CONDITION_RELATED_EXTENSION, "valueReference": self.ref(self.primary)}
            )
        for disease in self.case.extrahepatic_disease:
            parts = [_sub("site", "valueCode", disease.site.value)]
            if disease.detected_on is not None:
                parts.append(_sub("detectedOn", "valueDate", disease.detected_on.isoformat()))
            if disease.resectable is not None:
                parts.append(_sub("resectable", "valueBoolean", disease.resectable))
            related.append({"url": c.EXTRAHEPATIC_DISEASE_EXTENSION, "extension": parts})
        if related:
            resource["extension"] = related
        resource["bodySite"] = [c.LIVER.concept()]
        if self.case.liver_metastases_diagnosis_date is not None:
            resource["onsetDateTime"] = self.case.liver_metastases_diagnosis_date.isoformat()
        self.secondary = self.out.add("secondary", resource, "secondary")

    def _stage_refs(self) -> str | None:
        """The stage group's future reference, if the case has a T or N category."""
        primary = self.case.primary
        if primary is None or (primary.t is None and primary.n is None):
            return None
        return f"urn:uuid:{resource_id(self.case.mrn, 'Observation', 'tnm', 'stage')}"

    def add_staging(self) -> None:
        primary = self.case.primary
        if primary is None or self.primary is None or (primary.t is None and primary.n is None):
            return
        basis = primary.staging_basis or StagingBasis.CLINICAL
        category = c.LABORATORY if basis == StagingBasis.PATHOLOGICAL else c.IMAGING_CATEGORY
        common: dict[str, Any] = {
            "status": "final",
            "category": [category.concept()],
            **self.subject(),
            "method": c.AJCC_8TH.concept(),
            "focus": [self.ref(self.primary)],
        }
        # T and N describe the primary at its diagnosis; M1 and stage IV the liver metastases
        dated: dict[str, Any] = {"t": primary.diagnosis_date, "n": primary.diagnosis_date}
        dated["m"] = dated["stage"] = self.case.liver_metastases_diagnosis_date
        members = []
        categories: list[tuple[str, str, StagingBasis, str]] = []
        if primary.t is not None:
            categories.append(("t", "t_category", basis, c.T_CATEGORY[primary.t]))
        if primary.n is not None:
            categories.append(("n", "n_category", basis, c.N_CATEGORY[primary.n]))
        m = m_category(self.case)
        categories.append(("m", "m_category", StagingBasis.CLINICAL, c.M_CATEGORY[m]))
        for key, profile, category_basis, value in categories:
            members.append(
                self.out.add(
                    profile,
                    {
                        "resourceType": "Observation",
                        **common,
                        **_effective(dated[key]),
                        "code": c.TNM_OBSERVATION[(key, category_basis)].concept(),
                        "valueCodeableConcept": c.ajcc(category_basis, value).concept(),
                    },
                    "tnm",
                    key,
                )
            )
        group, display = c.STAGE_GROUP[m]
        self.out.add(
            "stage_group",
            {
                "resourceType": "Observation",
                **common,
                **_effective(dated["stage"]),
                "code": c.TNM_OBSERVATION[("stage", basis)].concept(),
                "valueCodeableConcept": c.Code(c.AJCC, group, display).concept(),
                "hasMember": [self.ref(url) for url in members],
            },
            "tnm",
            "stage",
        )

    # -- molecular and CEA --------------------------------------------------------------

    def _lab(self) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": [c.LABORATORY.concept()],
            **self.subject(),
        }
        molecular = self.case.molecular
        if molecular is not None and molecular.tested_on is not None:
            resource["effectiveDateTime"] = molecular.tested_on.isoformat()
        return resource

    def add_molecular(self) -> None:
        molecular = self.case.molecular
        if molecular is None:
            return
        results = []
        genes: list[tuple[str, RasResult | BrafResult | None, str | None]] = [
            ("kras", molecular.kras, molecular.kras_variant),
            ("nras", molecular.nras, molecular.nras_variant),
            ("braf", molecular.braf, c.BRAF_V600E if molecular.braf == BrafResult.V600E else None),
        ]
        for gene, result, variant in genes:
            if result is None:
                continue
            resource = self._lab()
            resource["category"] = [c.LABORATORY.concept(), c.GENETICS.concept()]
            resource["code"] = c.GENETIC_VARIANT_ASSESSMENT.concept()
            if result.value == "unknown":
                resource["dataAbsentReason"] = c.UNKNOWN.concept()
            elif result.value == "wild_type":
                resource["valueCodeableConcept"] = c.ABSENT.concept()
            else:
                resource["valueCodeableConcept"] = c.PRESENT.concept()
            components = [
                {"code": c.GENE_STUDIED.concept(), "valueCodeableConcept": c.GENES[gene].concept()}
            ]
            if variant is not None:
                components.append(
                    {
                        "code": c.AMINO_ACID_CHANGE.concept(),
                        "valueCodeableConcept": protein_change(gene, variant),
                    }
                )
            resource["component"] = components
            results.append(self.out.add("genomic_variant", resource, "variant", gene))
        markers: list[tuple[str, c.Code, Any, dict[Any, c.Code]]] = [
            ("msi", c.MSI, molecular.msi, c.MSI_VALUES),
            ("mmr", c.MMR, molecular.mmr, c.MMR_VALUES),
            ("her2", c.HER2, molecular.her2, c.HER2_VALUES),
        ]
        not_determined = []
        for key, test, value, table in markers:
            if value is None:
                continue
            if value not in table:  # a tumor marker test needs a value: say it on the report
                not_determined.append(_sub("test", "valueCode", key))
                continue
            resource = self._lab()
            resource["code"] = test.concept()
            resource["valueCodeableConcept"] = table[value].concept()
            results.append(self.out.add("tumor_marker", resource, "marker", key))
        report: dict[str, Any] = {
            "resourceType": "DiagnosticReport",
            "status": "final",
            "category": [c.GENETICS.concept(), c.LAB_SERVICE.concept()],
            "code": c.GENOMICS_REPORT.concept(),
            **self.subject(),
        }
        if not_determined:
            report["extension"] = [
                {"url": c.MARKERS_NOT_DETERMINED_EXTENSION, "extension": not_determined}
            ]
        if molecular.tested_on is not None:
            report["effectiveDateTime"] = molecular.tested_on.isoformat()
            report["issued"] = f"{molecular.tested_on.isoformat()}T00:00:00Z"
        if results:
            report["result"] = [self.ref(url) for url in results]
        self.out.add("genomics_report", report, "genomics-report")

    def add_cea(self) -> None:
        for i, lab in enumerate(self.case.labs):
            if lab.cea_ng_ml is None:
                continue
            self.out.add(
                "tumor_marker",
                {
                    "resourceType": "Observation",
                    "status": "final",
                    "category": [c.LABORATORY.concept()],
                    "code": c.CEA.concept(),
                    **self.subject(),
                    "effectiveDateTime": lab.date.isoformat(),
                    "valueQuantity": {"value": lab.cea_ng_ml, **c.NG_PER_ML},
                },
                "cea",
                i,
            )

    # -- treatments ---------------------------------------------------------------------

    def add_primary_resection(self) -> None:
        """The primary's resection (its date in the case) as a surgical procedure."""
        primary = self.case.primary
        if primary is None or primary.resection_date is None or self._resection_recorded():
            return
        operation = (
            ProcedureType.PROCTECTOMY
            if primary.site == PrimarySite.RECTUM
            else ProcedureType.COLECTOMY
        )
        resource: dict[str, Any] = {
            "resourceType": "Procedure",
            "extension": [
                {
                    "url": c.PROCEDURE_DETAILS_EXTENSION,
                    "extension": [_sub("key", "valueString", "primary.resection_date")],
                }
            ],
            "status": "completed",
            "code": c.concept(c.PROCEDURE_CODES[operation], "Resection of the primary tumour"),
            **self.subject(),
            "performedDateTime": primary.resection_date.isoformat(),
        }
        if self.primary is not None:
            resource["reasonReference"] = [self.ref(self.primary)]
        if primary.site is not None:
            resource["bodySite"] = [c.PRIMARY_SITE_BODY_SITE[primary.site].concept()]
        self.out.add("procedure", resource, "primary-resection")

    def add_treatments(self) -> None:
        for i, treatment in enumerate(self.case.treatments):
            key = f"treatments[{i}]"
            if isinstance(treatment, ChemotherapyCycle):
                self._chemotherapy(key, treatment)
            elif isinstance(treatment, ImmunotherapyDose):
                self._immunotherapy(key, treatment)
            else:
                self._procedure(key, treatment)

    def _administration(
        self, drug: str, when: date, intent: c.Code, detail: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "resourceType": "MedicationAdministration",
            "extension": [
                {"url": c.PROCEDURE_INTENT_EXTENSION, "valueCodeableConcept": intent.concept()},
                detail,
            ],
            "status": "completed",
            "medicationCodeableConcept": c.DRUGS[drug].concept(c.DRUGS[drug].display),
            **self.subject(),
            "effectiveDateTime": when.isoformat(),
            "reasonReference": [self.ref(self.secondary)],
        }

    def _chemotherapy(self, key: str, cycle: ChemotherapyCycle) -> None:
        url = c.CHEMOTHERAPY_CYCLE_EXTENSION
        parts = [_sub("key", "valueString", key), _sub("regimen", "valueCode", cycle.regimen.value)]
        if cycle.biologic is not None:
            parts.append(_sub("biologic", "valueCode", cycle.biologic.value))
        parts.append(_sub("cycle", "valueInteger", cycle.cycle))
        if cycle.cycle_length_days is not None:
            parts.append(_sub("cycleLengthDays", "valueInteger", cycle.cycle_length_days))
        if cycle.dose_percent is not None:
            parts.append(_sub("dosePercent", "valueDecimal", cycle.dose_percent))
        if cycle.toxicity_grade is not None:
            parts.append(_sub("toxicityGrade", "valueInteger", cycle.toxicity_grade))
        drugs = [
            *c.REGIMEN_DRUGS[cycle.regimen],
            *c.BIOLOGIC_DRUGS[cycle.biologic or Biologic.NONE],
        ]
        for drug in drugs:
            resource = self._administration(
                drug, cycle.date, c.SETTING_INTENT[cycle.setting], {"url": url, "extension": parts}
            )
            if cycle.dose_percent is not None:  # mad-1: a dosage needs a dose or a rate
                resource["dosage"] = {
                    "text": f"{cycle.dose_percent:g} % of the planned dose",
                    "dose": {
                        "value": cycle.dose_percent,
                        "unit": "% of the planned dose",
                        "system": c.UCUM,
                        "code": "%",
                    },
                }
            self.out.add("medication", resource, key, drug)

    def _immunotherapy(self, key: str, dose: ImmunotherapyDose) -> None:
        parts = [_sub("key", "valueString", key), _sub("agent", "valueCode", dose.agent.value)]
        if dose.cycle is not None:
            parts.append(_sub("cycle", "valueInteger", dose.cycle))
        for drug in c.IMMUNOTHERAPY_DRUGS[dose.agent]:
            self.out.add(
                "medication",
                self._administration(
                    drug,
                    dose.date,
                    c.SETTING_INTENT[dose.setting],
                    {"url": c.IMMUNOTHERAPY_DOSE_EXTENSION, "extension": parts},
                ),
                key,
                drug,
            )

    def _resection_recorded(self) -> bool:
        """Whether a colectomy or proctectomy treatment is the primary's resection."""
        return any(self._is_primary_resection(t) for t in self.case.treatments)

    def _is_primary_resection(self, treatment: object) -> bool:
        primary = self.case.primary
        return (
            isinstance(treatment, Procedure)
            and treatment.procedure in c.PRIMARY_PROCEDURES
            and primary is not None
            and treatment.date == primary.resection_date
        )

    def _procedure(self, key: str, procedure: Procedure) -> None:
        on_primary = procedure.procedure in c.PRIMARY_PROCEDURES
        reason = self.primary if on_primary and self.primary is not None else self.secondary
        parts = [_sub("key", "valueString", key)]
        if self._is_primary_resection(procedure):
            parts.append(_sub("primaryResection", "valueBoolean", True))
        parts += [_sub("segment", "valueInteger", s) for s in procedure.segments or []]
        parts += [_sub("lesion", "valueString", lesion) for lesion in procedure.lesion_ids or []]
        if procedure.segments is not None and not procedure.segments:
            parts.append(_sub("segments", "valueString", "none"))
        if procedure.lesion_ids is not None and not procedure.lesion_ids:
            parts.append(_sub("lesions", "valueString", "none"))
        resource: dict[str, Any] = {
            "resourceType": "Procedure",
            "extension": [{"url": c.PROCEDURE_DETAILS_EXTENSION, "extension": parts}],
            "status": "completed",
            "code": c.concept(
                c.PROCEDURE_CODES[procedure.procedure], procedure.procedure.value.replace("_", " ")
            ),
            **self.subject(),
            "performedDateTime": procedure.date.isoformat(),
            "reasonReference": [self.ref(reason)],
        }
        if not on_primary:
            resource["bodySite"] = [c.LIVER.concept()]
        if procedure.note is not None:
            resource["note"] = [{"text": procedure.note}]
        self.out.add("procedure", resource, key)

    # -- imaging ------------------------------------------------------------------------

    def add_imaging(self) -> None:
        tumors: dict[str, str] = {}
        for k, timepoint in enumerate(self.case.imaging):
            key = f"imaging[{k}]"
            study = self._study(key, timepoint)
            self.studies[k] = study
            for lesion in timepoint.lesions:
                if lesion.id not in tumors:
                    tumors[lesion.id] = self._tumor(lesion.id)
                self._tumor_size(key, timepoint, lesion, tumors[lesion.id], study)

    def _study(self, key: str, timepoint: ImagingTimepoint) -> str:
        parts = [_sub("key", "valueString", key)]
        flags = (
            ("newLesions", timepoint.new_lesions),
            ("nonTargetProgression", timepoint.non_target_progression),
        )
        parts += [_sub(name, "valueBoolean", value) for name, value in flags if value is not None]
        volumes = (
            ("totalLiverVolumeMl", timepoint.total_liver_volume_ml),
            ("flrVolumeMl", timepoint.flr_volume_ml),
            ("flrPercent", timepoint.flr_percent),
        )
        parts += [_sub(name, "valueDecimal", value) for name, value in volumes if value is not None]
        resource: dict[str, Any] = {
            "resourceType": "ImagingStudy",
            "extension": [{"url": c.IMAGING_TIMEPOINT_EXTENSION, "extension": parts}],
            "status": "available",
            **self.subject(),
            "started": timepoint.date.isoformat(),
        }
        if timepoint.modality is not None:
            resource["modality"] = [code.coding() for code in c.MODALITY_DICOM[timepoint.modality]]
            resource["procedureCode"] = [c.MODALITY[timepoint.modality].concept()]
        if timepoint.extrahepatic_findings is not None:
            resource["note"] = [{"text": timepoint.extrahepatic_findings}]
        return self.out.add("imaging_study", resource, key)

    def _tumor(self, lesion_id: str) -> str:
        return self.out.add(
            "tumor",
            {
                "resourceType": "BodyStructure",
                "extension": [
                    {
                        "url": c.RELATED_CONDITION_EXTENSION,
                        "valueReference": self.ref(self.secondary),
                    }
                ],
                "identifier": [
                    {"use": "usual", "type": c.BODY_STRUCTURE_TYPE.concept(), "value": lesion_id}
                ],
                "morphology": c.TUMOR_MORPHOLOGY.concept(),
                "location": c.LIVER.concept(),
                "patient": self.ref(self.patient),
            },
            "lesion",
            lesion_id,
        )

    def _tumor_size(
        self,
        key: str,
        timepoint: ImagingTimepoint,
        lesion: LesionMeasurement,
        tumor: str,
        study: str,
    ) -> None:
        parts = []
        if lesion.target is not None:
            parts.append(_sub("target", "valueBoolean", lesion.target))
        if lesion.segment is not None:
            parts.append(_sub("segment", "valueInteger", lesion.segment))
        if lesion.depth_mm is not None:
            parts.append(_sub("depthMm", "valueDecimal", lesion.depth_mm))
        if lesion.morphology_group is not None:
            parts.append(_sub("morphologyGroup", "valueInteger", lesion.morphology_group))
        if lesion.status is not None:
            parts.append(_sub("status", "valueCoding", c.LESION_STATUS[lesion.status].coding()))
        longest: dict[str, Any] = {"code": c.LONGEST_DIMENSION.concept()}
        if lesion.longest_diameter_mm is not None:
            longest["valueQuantity"] = {"value": lesion.longest_diameter_mm, **c.MILLIMETRE}
        else:
            longest["dataAbsentReason"] = c.UNKNOWN.concept()
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": [c.IMAGING_CATEGORY.concept()],
            "code": c.TUMOR_SIZE.concept(),
            **self.subject(),
            "focus": [self.ref(tumor)],
            "effectiveDateTime": timepoint.date.isoformat(),
            "derivedFrom": [self.ref(study)],
            "component": [longest],
        }
        if timepoint.modality is not None:
            resource["method"] = c.TUMOR_SIZE_METHOD[timepoint.modality].concept()
        if parts:
            resource["extension"] = [{"url": c.LESION_MEASUREMENT_EXTENSION, "extension": parts}]
        self.out.add("tumor_size", resource, key, "lesion", lesion.id)

    def add_disease_status(self) -> None:
        evaluation = evaluate(self.case, self.as_of, self.profile)
        facts = evaluation.facts
        for i, timepoint in enumerate(facts.recist):
            resource: dict[str, Any] = {
                "resourceType": "Observation",
                "extension": [
                    {
                        "url": c.EVIDENCE_TYPE_EXTENSION,
                        "valueCodeableConcept": c.IMAGING_EVIDENCE.concept(),
                    }
                ],
                "status": "final",
                "code": c.DISEASE_STATUS.concept(),
                **self.subject(),
                "focus": [self.ref(self.secondary)],
                "effectiveDateTime": timepoint.date.isoformat(),
                "valueCodeableConcept": c.RECIST_TREND[timepoint.response].concept(
                    f"RECIST 1.1 {timepoint.response}"
                ),
                "note": [
                    {
                        "text": self._recist_note(
                            timepoint, facts.recist_baseline, evaluation.profile_name
                        )
                    }
                ],
            }
            study = next(
                (
                    self.studies[k]
                    for k, tp in enumerate(self.case.imaging)
                    if tp.date == timepoint.date
                ),
                None,
            )
            if study is not None:
                resource["derivedFrom"] = [self.ref(study)]
            self.out.add("disease_status", resource, "recist", i, timepoint.date)

    def _recist_note(
        self, timepoint: RecistTimepoint, baseline: RecistBaseline | None, profile_name: str
    ) -> str:
        """The evaluation in words: the response, the sums it used and the engine."""
        words = [f"RECIST 1.1: {timepoint.response}."]
        if timepoint.sum_mm is not None:
            words.append(f"Sum of target diameters {timepoint.sum_mm:g} mm")
            if (
                timepoint.change_from_baseline_percent is not None
                and baseline is not None
                and baseline.sum_mm is not None
            ):
                words.append(
                    f"({timepoint.change_from_baseline_percent:+.1f} % from the "
                    f"baseline of {baseline.date.isoformat()}, "
                    f"{baseline.sum_mm:g} mm)"
                )
            if timepoint.nadir_mm is not None:
                words.append(f"; nadir {timepoint.nadir_mm:g} mm.")
        elif timepoint.response == "NN":
            words.append("Non-target disease only: non-CR/non-PD.")
        else:
            words.append("Target lesions not evaluable at this timepoint.")
        words.append(
            f"Guideline engine {ENGINE_VERSION}, profile {profile_name}, "
            f"as of {self.as_of.isoformat()}."
        )
        return " ".join(w for w in words if w)

    # -- reviews ------------------------------------------------------------------------

    def add_reviews(self) -> None:
        reviews = self.case.reviews
        urls: dict[int, str] = {}
        amended = {r.amends for r in reviews if r.amends is not None}
        for i, review in enumerate(reviews):
            if not review.signed:
                continue
            identifiers = [{"system": c.REVIEW_HASH_SYSTEM, "value": review_sha256(review)}]
            record = _review_record(review)
            evaluation = review.evaluation or {}
            if isinstance(evaluation.get("input_sha256"), str):
                identifiers.append(
                    {"system": c.EVALUATION_INPUT_SYSTEM, "value": evaluation["input_sha256"]}
                )
            status = "active"
            if i in amended:
                status = "revoked"
            elif review.follow_up is not None and review.follow_up.status.value == "done":
                status = "completed"
            resource: dict[str, Any] = {
                "resourceType": "CarePlan",
                "identifier": identifiers,
                "status": status,
                "intent": "plan",
                **self.subject(),
                "period": {"start": review.meeting_date.isoformat()},
            }
            if record:  # an extension without sub-extensions or a value is not allowed (ext-1)
                resource = {
                    "resourceType": "CarePlan",
                    "extension": [{"url": c.REVIEW_RECORD_EXTENSION, "extension": record}],
                    **{k: v for k, v in resource.items() if k != "resourceType"},
                }
            if review.question is not None:
                resource["title"] = review.question
            if review.decision is not None:
                resource["description"] = review.decision
            if review.signed_at is not None:
                resource["created"] = utc_text(review.signed_at)
            if review.signed_by is not None:
                resource["author"] = {"display": review.signed_by}
            if review.attendees:
                resource["contributor"] = [
                    {
                        "extension": [
                            {
                                "url": c.ATTENDEE_ROLE_EXTENSION,
                                "valueCoding": c.ROLE[a.role].coding(),
                            }
                        ],
                        "display": a.name,
                    }
                    for a in review.attendees
                ]
            if review.amends is not None and review.amends in urls:
                resource["replaces"] = [self.ref(urls[review.amends])]
            activities = []
            if review.recommendation is not None:
                activities.append(
                    {
                        "detail": {
                            "code": c.STRATEGY[review.recommendation].concept(),
                            "status": "not-started",
                            "description": review.recommendation.value.replace("_", " "),
                        }
                    }
                )
            for action in review.actions:
                detail: dict[str, Any] = {
                    "code": c.BOARD_ACTION.concept(),
                    "status": "not-started",
                    "description": action.text,
                }
                if action.due is not None:
                    detail["scheduledPeriod"] = {"end": action.due.isoformat()}
                if action.owner is not None:
                    detail["performer"] = [{"display": action.owner}]
                activities.append({"detail": detail})
            if review.next_review_date is not None:
                activities.append(
                    {
                        "detail": {
                            "code": c.NEXT_REVIEW.concept(),
                            "status": "scheduled",
                            "scheduledPeriod": {"start": review.next_review_date.isoformat()},
                        }
                    }
                )
            if activities:
                resource["activity"] = activities
            urls[i] = self.out.add("care_plan", resource, "review", i)


def _effective(when: date | None) -> dict[str, Any]:
    return {} if when is None else {"effectiveDateTime": when.isoformat()}


def _review_record(review: Review) -> list[dict[str, Any]]:
    """What a signed review holds beyond the CarePlan's elements, so that it reads back whole
    (and its content hash with it): rationale, amended review, follow-up, frozen evaluation."""
    parts = []
    if review.rationale is not None:
        parts.append(_sub("rationale", "valueString", review.rationale))
    if review.amends is not None:
        parts.append(_sub("amends", "valueInteger", review.amends))
    if review.follow_up is not None:
        follow_up = review.follow_up.model_dump(mode="json", exclude_none=True)
        parts.append(_sub("followUp", "valueString", _canonical(follow_up)))
    if review.evaluation is not None:
        parts.append(_sub("evaluation", "valueString", _canonical(review.evaluation)))
    return parts


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# -- what the mapping carries ---------------------------------------------------------------

PATIENT_FIELDS = (
    "mrn",
    "family_name",
    "given_name",
    "birth_date",
    "sex",
    "ecog",
    "referring_clinician",
    "referral_date",
)
PRIMARY_FIELDS = ("site", "diagnosis_date", "histology", "t", "n", "resection_date")
REVIEW_FIELDS = (
    "meeting_date",
    "question",
    "recommendation",
    "decision",
    "actions",
    "next_review_date",
    "attendees",
    "signed_by",
    "signed_at",
    "rationale",
    "amends",
    "follow_up",
    "evaluation",
)


def _texts(value: Any) -> Any:
    """Empty strings are not FHIR values: they are left out like nulls."""
    if isinstance(value, dict):
        return {k: _texts(v) for k, v in value.items() if v != ""}
    if isinstance(value, list):
        return [_texts(v) for v in value if v != ""]
    return value


def covered(document: dict[str, Any]) -> dict[str, Any]:
    """The part of a `crlmboard.case/1` document an mCODE bundle carries (README lists it).

    A T or N category without a staging basis travels as clinical staging, a sex not recorded
    as unknown.  Reviews travel only once signed, whole.
    """
    out: dict[str, Any] = {
        "format": document.get("format"),
        "patient": {k: v for k, v in document["patient"].items() if k in PATIENT_FIELDS},
    }
    if out["patient"].get("sex") is None:  # FHIR's gender "unknown" is also "not recorded"
        out["patient"]["sex"] = "unknown"
    primary = document.get("primary")
    if primary is not None:
        kept = {k: v for k, v in primary.items() if k in PRIMARY_FIELDS}
        if kept.get("t") is not None or kept.get("n") is not None:
            kept["staging_basis"] = primary.get("staging_basis") or "clinical"
        out["primary"] = kept
    for key in (
        "liver_metastases_diagnosis_date",
        "extrahepatic_disease",
        "molecular",
        "treatments",
        "imaging",
    ):
        if document.get(key) is not None:
            out[key] = document[key]
    out["labs"] = [
        {"date": lab["date"], "cea_ng_ml": lab["cea_ng_ml"]}
        for lab in document.get("labs") or []
        if lab.get("cea_ng_ml") is not None
    ]
    out["reviews"] = [
        {k: v for k, v in review.items() if k in REVIEW_FIELDS}
        for review in document.get("reviews") or []
        if review.get("signed_at") is not None
    ]
    result: dict[str, Any] = _texts(out)
    return result
