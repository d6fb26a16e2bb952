"""An mCODE bundle back to a `crlmboard.case/1` document, listing what it could not map.

`bundle_to_document(bundle)` reads the resources `mcode.case_to_bundle` writes (and the same
profiles from other systems, as far as their codes allow) and returns the case document with
the notes: one line per resource or element that has no place in a case file.  Nothing is
dropped silently.  The document is then checked by the same domain validation as a case file
(`caseformat.case_from_dict`); structural problems (not a bundle, no patient, two patients)
raise `InvalidInput` here.

Resources the app derives again (cancer disease status, the M category and stage group,
tumours as body structures) are read as structure, not as data, and are not listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crlmboard.domain.caseformat import FORMAT
from crlmboard.domain.models import (
    BrafResult,
    Modality,
    NCategory,
    ProcedureType,
    RasResult,
    StagingBasis,
    TCategory,
)
from crlmboard.domain.validation import InvalidInput, Problem
from crlmboard.interop import codes as c

DERIVED_PROFILES = frozenset(
    {
        c.PROFILES["disease_status"],
        c.PROFILES["m_category"],
        c.PROFILES["stage_group"],
        c.PROFILES["tumor"],
    }
)
"""Profiles of resources the app computes from the case: read as structure only."""

COMMON_KEYS = frozenset({"resourceType", "id", "meta", "text", "language", "implicitRules"})


@dataclass
class BundleImport:
    """The case document a bundle carries, and what could not be mapped."""

    document: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def is_bundle(data: Any) -> bool:
    return isinstance(data, dict) and data.get("resourceType") == "Bundle"


def codings(value: Any) -> list[tuple[str, str]]:
    """(system, code) pairs of a CodeableConcept or a Coding."""
    if not isinstance(value, dict):
        return []
    items = value.get("coding") if "coding" in value else [value]
    return [
        (str(x.get("system")), str(x.get("code")))
        for x in items or []
        if isinstance(x, dict) and x.get("code") is not None
    ]


def lookup(value: Any, table: dict[tuple[str, str], Any]) -> Any:
    for pair in codings(value):
        if pair in table:
            return table[pair]
    return None


def has_code(value: Any, code: c.Code) -> bool:
    return (code.system, code.code) in codings(value)


def date_part(value: Any) -> str | None:
    """`YYYY-MM-DD` of a FHIR date or dateTime (a time is dropped)."""
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
        return value[:10]
    return None


def extension(resource: dict[str, Any], url: str) -> dict[str, Any] | None:
    for item in resource.get("extension") or []:
        if isinstance(item, dict) and item.get("url") == url:
            return item
    return None


def parts(ext: dict[str, Any] | None) -> list[tuple[str, Any]]:
    """(name, value) of the sub-extensions of a complex extension, in order."""
    out = []
    for item in (ext or {}).get("extension") or []:
        if not isinstance(item, dict):
            continue
        values = [v for k, v in item.items() if k.startswith("value")]
        if values:
            out.append((str(item.get("url")), values[0]))
    return out


def part(ext: dict[str, Any] | None, name: str) -> Any:
    return next((value for key, value in parts(ext) if key == name), None)


def key_index(value: Any, block: str) -> int | None:
    """`treatments[3]` → 3."""
    match = re.fullmatch(rf"{block}\[(\d+)\]", str(value))
    return int(match.group(1)) if match else None


REV_SITE = c.reverse(c.PRIMARY_SITE_BODY_SITE)
REV_HISTOLOGY = c.reverse(c.HISTOLOGY)
REV_MSI = c.reverse(c.MSI_VALUES)
REV_MMR = c.reverse(c.MMR_VALUES)
REV_HER2 = c.reverse(c.HER2_VALUES)
REV_GENE = c.reverse(c.GENES)
REV_DRUG = c.reverse(c.DRUGS)
REV_INTENT = c.reverse(c.SETTING_INTENT)
REV_PROCEDURE = c.reverse(c.PROCEDURE_CODES)
REV_MODALITY = c.reverse(c.MODALITY)
REV_LESION_STATUS = c.reverse(c.LESION_STATUS)
REV_STRATEGY = c.reverse(c.STRATEGY)
REV_ROLE = c.reverse(c.ROLE)
REV_TNM = c.reverse(c.TNM_OBSERVATION)
REV_T = {v: k for k, v in c.T_CATEGORY.items()}
REV_N = {v: k for k, v in c.N_CATEGORY.items()}
DICOM_MODALITY = {
    (c.DICOM, "CT"): Modality.CT,
    (c.DICOM, "MR"): Modality.MRI,
    (c.DICOM, "PT"): Modality.PET_CT,
    (c.DICOM, "US"): Modality.ULTRASOUND,
}


def bundle_to_document(bundle: Any) -> BundleImport:
    """Map a bundle to a case document; raise `InvalidInput` if it is not one patient's."""
    return _Reader(bundle).read()


class _Reader:
    def __init__(self, bundle: Any):
        if not is_bundle(bundle):
            raise InvalidInput([Problem("resourceType", "must be 'Bundle'")])
        self.entries: list[tuple[str, dict[str, Any]]] = []
        self.by_url: dict[str, dict[str, Any]] = {}
        problems = []
        for i, entry in enumerate(bundle.get("entry") or []):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                problems.append(Problem(f"entry[{i}]", "has no resource"))
                continue
            label = f"{resource['resourceType']}/{resource.get('id', i)}"
            self.entries.append((label, resource))
            if isinstance(entry.get("fullUrl"), str):
                self.by_url[entry["fullUrl"]] = resource
            if resource.get("id") is not None:
                self.by_url[f"{resource['resourceType']}/{resource['id']}"] = resource
        if problems:
            raise InvalidInput(problems)
        self.notes: list[str] = []
        self.doc: dict[str, Any] = {"format": FORMAT}

    # -- helpers ------------------------------------------------------------------------

    def resolve(self, reference: Any) -> dict[str, Any] | None:
        if isinstance(reference, dict):
            return self.by_url.get(str(reference.get("reference")))
        return None

    def profile(self, resource: dict[str, Any]) -> str | None:
        profiles = (resource.get("meta") or {}).get("profile") or []
        known = set(c.PROFILES.values())
        return next((p for p in profiles if p in known), None)

    def note(self, label: str, what: str) -> None:
        self.notes.append(f"{label}: {what}")

    def leftover(self, label: str, resource: dict[str, Any], used: Iterable[str]) -> None:
        """Note every top-level element this mapping did not read."""
        allowed = COMMON_KEYS | set(used)
        for key in resource:
            if key not in allowed:
                self.note(label, f"{key} not mapped (no case-file field for it)")

    # -- reading ------------------------------------------------------------------------

    def read(self) -> BundleImport:
        patients = [(label, r) for label, r in self.entries if r["resourceType"] == "Patient"]
        if len(patients) != 1:
            raise InvalidInput(
                [Problem("entry", f"a bundle must hold exactly one Patient, found {len(patients)}")]
            )
        self.read_patient(*patients[0])
        treatments: dict[int, dict[str, Any]] = {}
        imaging: dict[int, dict[str, Any]] = {}
        sizes: list[tuple[str, dict[str, Any]]] = []
        reviews: list[tuple[str, dict[str, Any]]] = []
        for label, resource in self.entries:
            kind = resource["resourceType"]
            profile = self.profile(resource)
            if kind == "Patient":
                continue
            if profile in DERIVED_PROFILES:
                continue
            if kind == "Observation" and has_code(resource.get("code"), c.TUMOR_SIZE):
                sizes.append((label, resource))
            elif kind == "ImagingStudy":
                self.read_study(label, resource, imaging)
            elif kind == "CarePlan":
                reviews.append((label, resource))
            elif kind == "MedicationAdministration":
                self.read_administration(label, resource, treatments)
            elif kind == "Procedure":
                self.read_procedure(label, resource, treatments)
            elif kind == "Condition":
                self.read_condition(label, resource, profile)
            elif kind == "Observation":
                self.read_observation(label, resource, profile)
            elif kind == "DiagnosticReport" and has_code(resource.get("code"), c.GENOMICS_REPORT):
                molecular = self.doc.setdefault("molecular", {})
                when = date_part(resource.get("effectiveDateTime"))
                if when is not None:
                    molecular.setdefault("tested_on", when)
                self.leftover(
                    label,
                    resource,
                    {
                        "status",
                        "category",
                        "code",
                        "subject",
                        "effectiveDateTime",
                        "issued",
                        "result",
                    },
                )
            elif kind == "ServiceRequest" and profile == c.PROFILES["referral"]:
                self.read_referral(label, resource)
            else:
                self.note(label, f"{kind} not mapped (no case-file record for it)")
        for label, resource in sizes:
            self.read_tumor_size(label, resource, imaging)
        if treatments:
            self.doc["treatments"] = [treatments[i] for i in sorted(treatments)]
        if imaging:
            self.doc["imaging"] = [
                {k: v for k, v in imaging[i].items() if k != "_url"} for i in sorted(imaging)
            ]
        if reviews:
            self.read_reviews(reviews)
        return BundleImport(self.doc, self.notes)

    def read_patient(self, label: str, resource: dict[str, Any]) -> None:
        patient: dict[str, Any] = {}
        identifiers = resource.get("identifier") or []
        mrn = next((i for i in identifiers if has_code(i.get("type"), c.MRN_TYPE)), None)
        mrn = mrn or next((i for i in identifiers if i.get("system") == c.MRN_SYSTEM), None)
        mrn = mrn or (identifiers[0] if identifiers else None)
        if mrn is None or not mrn.get("value"):
            raise InvalidInput(
                [Problem(f"{label}.identifier", "the patient has no MRN identifier")]
            )
        patient["mrn"] = mrn["value"]
        for i, other in enumerate(identifiers):
            if other is not mrn:
                self.note(label, f"identifier[{i}] ({other.get('system')}) not mapped")
        names = resource.get("name") or []
        if names:
            name = names[0]
            if name.get("family"):
                patient["family_name"] = name["family"]
            if name.get("given"):
                patient["given_name"] = " ".join(name["given"])
            for i in range(1, len(names)):
                self.note(label, f"name[{i}] not mapped (a case has one name)")
        if resource.get("gender") is not None:
            patient["sex"] = resource["gender"]
        if resource.get("birthDate") is not None:
            patient["birth_date"] = resource["birthDate"]
        self.doc["patient"] = patient
        self.leftover(label, resource, {"identifier", "name", "gender", "_gender", "birthDate"})

    def read_referral(self, label: str, resource: dict[str, Any]) -> None:
        patient = self.doc["patient"]
        requester = resource.get("requester") or {}
        if requester.get("display"):
            patient["referring_clinician"] = requester["display"]
        when = date_part(resource.get("authoredOn"))
        if when is not None:
            patient["referral_date"] = when
        self.leftover(
            label,
            resource,
            {"status", "intent", "code", "subject", "authoredOn", "requester", "reasonReference"},
        )

    def read_condition(self, label: str, resource: dict[str, Any], profile: str | None) -> None:
        used = {
            "clinicalStatus",
            "verificationStatus",
            "category",
            "code",
            "subject",
            "bodySite",
            "onsetDateTime",
            "extension",
            "stage",
        }
        body = (resource.get("bodySite") or [None])[0]
        if profile == c.PROFILES["primary"] or (profile is None and lookup(body, REV_SITE)):
            primary = self.doc.setdefault("primary", {})
            site = lookup(body, REV_SITE)
            if site is not None:
                primary["site"] = site.value
            elif body is not None:
                self.note(label, "bodySite not mapped (not a colorectal site)")
            when = date_part(resource.get("onsetDateTime"))
            if when is not None:
                primary["diagnosis_date"] = when
            histology = extension(resource, c.HISTOLOGY_EXTENSION)
            if histology is not None:
                value = lookup(histology.get("valueCodeableConcept"), REV_HISTOLOGY)
                if value is None:
                    self.note(label, "histology not mapped (unknown code)")
                else:
                    primary["histology"] = value.value
            for stage in resource.get("stage") or []:
                for assessment in stage.get("assessment") or []:
                    self.read_stage(label, self.resolve(assessment))
        elif has_code(resource.get("code"), c.LIVER_METASTASES) or has_code(body, c.LIVER):
            when = date_part(resource.get("onsetDateTime"))
            if when is not None:
                self.doc["liver_metastases_diagnosis_date"] = when
        else:
            self.note(
                label,
                "Condition not mapped (neither the colorectal primary nor the liver metastases)",
            )
            return
        self.leftover(label, resource, used)

    def read_stage(self, label: str, group: dict[str, Any] | None) -> None:
        if group is None:
            self.note(label, "stage assessment not found in the bundle")
            return
        primary = self.doc.setdefault("primary", {})
        for member in group.get("hasMember") or []:
            observation = self.resolve(member)
            if observation is None:
                continue
            kind = lookup(observation.get("code"), REV_TNM)
            value = next(
                (
                    code
                    for system, code in codings(observation.get("valueCodeableConcept"))
                    if system == c.AJCC
                ),
                None,
            )
            if kind is None or value is None or kind[0] == "m":
                continue
            axis, basis = kind
            category = value[1:] if value[:1] in ("c", "p") else value
            table: dict[str, TCategory | NCategory] = dict(REV_T if axis == "t" else REV_N)
            if category not in table:
                self.note(label, f"{axis.upper()} category {value} not mapped")
                continue
            primary[axis] = table[category].value
            primary["staging_basis"] = StagingBasis(basis).value

    def read_observation(self, label: str, resource: dict[str, Any], profile: str | None) -> None:
        code = resource.get("code")
        used = {
            "status",
            "category",
            "code",
            "subject",
            "effectiveDateTime",
            "valueCodeableConcept",
            "valueQuantity",
            "valueInteger",
            "dataAbsentReason",
            "interpretation",
            "component",
            "method",
            "focus",
            "hasMember",
        }
        if has_code(code, c.ECOG):
            if isinstance(resource.get("valueInteger"), int):
                self.doc["patient"]["ecog"] = resource["valueInteger"]
        elif has_code(code, c.CEA):
            quantity = resource.get("valueQuantity") or {}
            when = date_part(resource.get("effectiveDateTime"))
            if when is None or quantity.get("value") is None:
                self.note(label, "CEA without a date or a value not mapped")
                return
            if quantity.get("code") not in (None, "ng/mL"):
                self.note(label, f"CEA in {quantity.get('code')} not mapped (ng/mL expected)")
                return
            self.doc.setdefault("labs", []).append(
                {"date": when, "cea_ng_ml": float(quantity["value"])}
            )
        elif has_code(code, c.GENETIC_VARIANT_ASSESSMENT):
            self.read_variant(label, resource)
        elif has_code(code, c.MSI) or has_code(code, c.MMR) or has_code(code, c.HER2):
            molecular = self.doc.setdefault("molecular", {})
            value = resource.get("valueCodeableConcept")
            for test, key, table in (
                (c.MSI, "msi", REV_MSI),
                (c.MMR, "mmr", REV_MMR),
                (c.HER2, "her2", REV_HER2),
            ):
                if has_code(code, test):
                    result = lookup(value, table)
                    if result is not None:
                        molecular[key] = result.value
                    elif resource.get("dataAbsentReason") is not None:
                        molecular[key] = "unknown"
                    else:
                        self.note(label, f"{key} result not mapped (unknown code)")
        elif lookup(code, REV_TNM) is not None:
            return  # read through the stage group of the primary
        else:
            self.note(label, "Observation not mapped (no case-file field for this code)")
            return
        self.leftover(label, resource, used)

    def read_variant(self, label: str, resource: dict[str, Any]) -> None:
        gene = None
        variant: str | None = None
        for component in resource.get("component") or []:
            if has_code(component.get("code"), c.GENE_STUDIED):
                gene = lookup(component.get("valueCodeableConcept"), REV_GENE)
            elif has_code(component.get("code"), c.AMINO_ACID_CHANGE):
                value = component.get("valueCodeableConcept") or {}
                coded = [code for system, code in codings(value) if system == c.HGVS]
                variant = value.get("text") or (coded[0].removeprefix("p.") if coded else None)
        if gene is None:
            self.note(label, "genomic variant of a gene with no case-file field not mapped")
            return
        molecular = self.doc.setdefault("molecular", {})
        value = resource.get("valueCodeableConcept")
        if has_code(value, c.ABSENT):
            result = "wild_type"
        elif has_code(value, c.PRESENT):
            result = "mutant"
        elif resource.get("dataAbsentReason") is not None:
            result = "unknown"
        else:
            self.note(label, f"{gene} result not mapped (unknown code)")
            return
        if gene == "braf":
            if result == "mutant":
                v600e = variant is not None and variant.removeprefix("p.") == "V600E"
                result = (BrafResult.V600E if v600e else BrafResult.NON_V600E).value
            molecular["braf"] = result
        else:
            molecular[gene] = RasResult(result).value
            if variant is not None and result == "mutant":
                molecular[f"{gene}_variant"] = variant
        when = date_part(resource.get("effectiveDateTime"))
        if when is not None:
            molecular.setdefault("tested_on", when)
        self.leftover(
            label,
            resource,
            {
                "status",
                "category",
                "code",
                "subject",
                "effectiveDateTime",
                "valueCodeableConcept",
                "dataAbsentReason",
                "component",
            },
        )

    def read_administration(
        self, label: str, resource: dict[str, Any], treatments: dict[int, dict[str, Any]]
    ) -> None:
        cycle = extension(resource, c.CHEMOTHERAPY_CYCLE_EXTENSION)
        dose = extension(resource, c.IMMUNOTHERAPY_DOSE_EXTENSION)
        detail = cycle or dose
        index = key_index(part(detail, "key"), "treatments")
        when = date_part(resource.get("effectiveDateTime"))
        intent = extension(resource, c.PROCEDURE_INTENT_EXTENSION)
        setting = lookup((intent or {}).get("valueCodeableConcept"), REV_INTENT)
        if detail is None or index is None or when is None or setting is None:
            drug = lookup(resource.get("medicationCodeableConcept"), REV_DRUG)
            self.note(
                label,
                f"administration of {drug or 'a medication'} not mapped "
                "(a case records whole chemotherapy cycles and immunotherapy "
                "doses: the cycle, setting and date are needed)",
            )
            return
        if index in treatments:
            return  # another drug of the same cycle or dose
        if cycle is not None:
            record: dict[str, Any] = {
                "kind": "chemotherapy",
                "date": when,
                "regimen": part(cycle, "regimen"),
                "cycle": part(cycle, "cycle"),
                "setting": setting.value,
            }
            for name, key in (
                ("biologic", "biologic"),
                ("cycleLengthDays", "cycle_length_days"),
                ("dosePercent", "dose_percent"),
                ("toxicityGrade", "toxicity_grade"),
            ):
                value = part(cycle, name)
                if value is not None:
                    record[key] = float(value) if name == "dosePercent" else value
        else:
            record = {
                "kind": "immunotherapy",
                "date": when,
                "agent": part(dose, "agent"),
                "setting": setting.value,
            }
            if part(dose, "cycle") is not None:
                record["cycle"] = part(dose, "cycle")
        treatments[index] = record
        self.leftover(
            label,
            resource,
            {
                "extension",
                "status",
                "medicationCodeableConcept",
                "subject",
                "effectiveDateTime",
                "reasonReference",
                "dosage",
            },
        )

    def read_procedure(
        self, label: str, resource: dict[str, Any], treatments: dict[int, dict[str, Any]]
    ) -> None:
        procedure = lookup(resource.get("code"), REV_PROCEDURE)
        when = date_part(resource.get("performedDateTime"))
        detail = extension(resource, c.PROCEDURE_DETAILS_EXTENSION)
        index = key_index(part(detail, "key"), "treatments")
        if procedure is None or when is None:
            self.note(label, "Procedure not mapped (unknown code or no date)")
            return
        if index is None:
            index = max([*treatments, 10_000]) + 1  # after every keyed treatment
        record: dict[str, Any] = {
            "kind": "procedure",
            "date": when,
            "procedure": ProcedureType(procedure).value,
        }
        segments = [v for k, v in parts(detail) if k == "segment"]
        lesions = [v for k, v in parts(detail) if k == "lesion"]
        if segments or part(detail, "segments") == "none":
            record["segments"] = segments
        if lesions or part(detail, "lesions") == "none":
            record["lesion_ids"] = lesions
        notes = [n.get("text") for n in resource.get("note") or [] if n.get("text") is not None]
        if notes:
            record["note"] = "\n".join(notes)
        treatments[index] = record
        self.leftover(
            label,
            resource,
            {
                "extension",
                "status",
                "code",
                "subject",
                "performedDateTime",
                "reasonReference",
                "bodySite",
                "note",
            },
        )

    def read_study(
        self, label: str, resource: dict[str, Any], imaging: dict[int, dict[str, Any]]
    ) -> None:
        detail = extension(resource, c.IMAGING_TIMEPOINT_EXTENSION)
        when = date_part(resource.get("started"))
        if when is None:
            self.note(label, "ImagingStudy without a start date not mapped")
            return
        index = key_index(part(detail, "key"), "imaging")
        if index is None:
            index = max([*imaging, 10_000]) + 1
        timepoint: dict[str, Any] = {"date": when, "lesions": []}
        modality = None
        for concept_ in resource.get("procedureCode") or []:
            modality = modality or lookup(concept_, REV_MODALITY)
        for coding in resource.get("modality") or []:
            modality = modality or lookup(coding, DICOM_MODALITY)
        if modality is not None:
            timepoint["modality"] = modality.value
        for name, key in (
            ("newLesions", "new_lesions"),
            ("nonTargetProgression", "non_target_progression"),
            ("totalLiverVolumeMl", "total_liver_volume_ml"),
            ("flrVolumeMl", "flr_volume_ml"),
            ("flrPercent", "flr_percent"),
        ):
            value = part(detail, name)
            if value is not None:
                timepoint[key] = value if isinstance(value, bool) else float(value)
        notes = [n.get("text") for n in resource.get("note") or [] if n.get("text") is not None]
        if notes:
            timepoint["extrahepatic_findings"] = "\n".join(notes)
        timepoint["_url"] = next((url for url, r in self.by_url.items() if r is resource), "")
        imaging[index] = timepoint
        self.leftover(
            label,
            resource,
            {"extension", "status", "subject", "started", "modality", "procedureCode", "note"},
        )

    def read_tumor_size(
        self, label: str, resource: dict[str, Any], imaging: dict[int, dict[str, Any]]
    ) -> None:
        study = self.resolve((resource.get("derivedFrom") or [None])[0])
        timepoint = next(
            (
                tp
                for tp in imaging.values()
                if study is not None and self.by_url.get(tp["_url"]) is study
            ),
            None,
        )
        tumor = self.resolve((resource.get("focus") or [None])[0])
        lesion_id = next(
            (i.get("value") for i in (tumor or {}).get("identifier") or [] if i.get("value")), None
        )
        if timepoint is None or lesion_id is None:
            self.note(label, "tumor size not mapped (no imaging study or no tumor identifier)")
            return
        lesion: dict[str, Any] = {"id": lesion_id}
        for component in resource.get("component") or []:
            if has_code(component.get("code"), c.LONGEST_DIMENSION):
                quantity = component.get("valueQuantity") or {}
                if quantity.get("value") is not None:
                    value = float(quantity["value"])
                    lesion["longest_diameter_mm"] = (
                        value * 10 if quantity.get("code") == "cm" else value
                    )
        detail = extension(resource, c.LESION_MEASUREMENT_EXTENSION)
        for name, key in (
            ("target", "target"),
            ("segment", "segment"),
            ("depthMm", "depth_mm"),
            ("morphologyGroup", "morphology_group"),
        ):
            value = part(detail, name)
            if value is not None:
                lesion[key] = float(value) if name == "depthMm" else value
        status = lookup(part(detail, "status"), REV_LESION_STATUS)
        if status is not None:
            lesion["status"] = status.value
        timepoint["lesions"].append(lesion)
        self.leftover(
            label,
            resource,
            {
                "extension",
                "status",
                "category",
                "code",
                "subject",
                "focus",
                "effectiveDateTime",
                "derivedFrom",
                "component",
                "method",
            },
        )

    def read_reviews(self, plans: list[tuple[str, dict[str, Any]]]) -> None:
        reviews = []
        index = {id(resource): i for i, (_, resource) in enumerate(plans)}
        for label, plan in plans:
            review: dict[str, Any] = {}
            start = date_part((plan.get("period") or {}).get("start"))
            if start is None:
                self.note(label, "CarePlan without a meeting date not mapped")
                continue
            review["meeting_date"] = start
            if plan.get("title") is not None:
                review["question"] = plan["title"]
            if plan.get("description") is not None:
                review["decision"] = plan["description"]
            if (plan.get("author") or {}).get("display"):
                review["signed_by"] = plan["author"]["display"]
            if plan.get("created") is not None:
                review["signed_at"] = plan["created"]
            attendees = []
            for contributor in plan.get("contributor") or []:
                role = lookup(
                    (extension(contributor, c.ATTENDEE_ROLE_EXTENSION) or {}).get("valueCoding"),
                    REV_ROLE,
                )
                if contributor.get("display"):
                    attendees.append(
                        {
                            "name": contributor["display"],
                            "role": (role.value if role is not None else "other"),
                        }
                    )
            if attendees:
                review["attendees"] = attendees
            actions = []
            for activity in plan.get("activity") or []:
                detail = activity.get("detail") or {}
                strategy = lookup(detail.get("code"), REV_STRATEGY)
                if strategy is not None:
                    review["recommendation"] = strategy.value
                elif has_code(detail.get("code"), c.NEXT_REVIEW):
                    when = date_part((detail.get("scheduledPeriod") or {}).get("start"))
                    if when is not None:
                        review["next_review_date"] = when
                elif detail.get("description"):
                    action: dict[str, Any] = {"text": detail["description"]}
                    due = date_part((detail.get("scheduledPeriod") or {}).get("end"))
                    if due is not None:
                        action["due"] = due
                    owner = next(
                        (
                            p.get("display")
                            for p in detail.get("performer") or []
                            if p.get("display")
                        ),
                        None,
                    )
                    if owner is not None:
                        action["owner"] = owner
                    actions.append(action)
                else:
                    self.note(label, "a CarePlan activity without a description not mapped")
            if actions:
                review["actions"] = actions
            for replaced in plan.get("replaces") or []:
                target = self.resolve(replaced)
                if target is not None and id(target) in index:
                    review["amends"] = index[id(target)]
            reviews.append(review)
            self.leftover(
                label,
                plan,
                {
                    "identifier",
                    "status",
                    "intent",
                    "subject",
                    "period",
                    "title",
                    "description",
                    "created",
                    "author",
                    "contributor",
                    "replaces",
                    "activity",
                },
            )
        if reviews:
            self.doc["reviews"] = reviews
