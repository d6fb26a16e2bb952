"""An mCODE bundle back to a `crlmboard.case/1` document, listing what it could not map.

`bundle_to_document(bundle)` reads the resources `mcode.case_to_bundle` writes (and the same
profiles from other systems, as far as their codes allow) and returns the case document with
the notes: one line per resource or element that has no place in a case file.  Nothing is
dropped silently.  The document is then checked by the same domain validation as a case file
(`caseformat.case_from_dict`); structural problems (not a bundle, no patient, two patients)
raise `InvalidInput` here.

Resources the app derives again (cancer disease status, the M category and stage group,
tumours as body structures) are read as structure, not as data, and are not listed.

A bundle from another system is read safely: a resource whose status says it is not a fact
(`entered-in-error`, `cancelled`, `not-done`, a `refuted` condition) is skipped and listed with
the reason; a bundle whose primary cancer is not colorectal, or that has no liver metastasis,
is refused whole; codes as the mCODE examples write them (SNOMED CT T/N/M, CEA in µg/L, the
HGNC system without `/geneId`, `performedPeriod`) are read; URIs of the project's former
`urn:crlmboard:fhir` namespace and inactive SNOMED CT codes of older bundles are read as
today's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crlmboard.domain.caseformat import FORMAT
from crlmboard.domain.models import (
    BrafResult,
    ExtrahepaticSite,
    Modality,
    NCategory,
    ProcedureType,
    RasResult,
    StagingBasis,
    TCategory,
)
from crlmboard.domain.validation import InvalidInput, Problem
from crlmboard.interop import codes as c
from crlmboard.interop.mcode import resource_id

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
REV_GENE = c.reverse(c.GENES) | {
    (system, code.code): gene for gene, code in c.GENES.items() for system in c.GENE_SYSTEMS
}
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
THREE_LETTER = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Glu": "E", "Gln": "Q",
    "Gly": "G", "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F",
    "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Ter": "*",
}  # fmt: skip
HGVS_PROTEIN = re.compile(
    r"^(?:[A-Z]{2}_\d+(?:\.\d+)?:)?p\.\(?([A-Z][a-z]{2})(\d+)([A-Z][a-z]{2})\)?$"
)
AJCC_DISPLAY = re.compile(
    r"American Joint Committee on Cancer\s+(?:[cpy]{1,2})?(T\w+|N\w+|M\w+)", re.IGNORECASE
)
COLORECTAL_ICD10 = ("C18", "C19", "C20")
ICD10_SYSTEMS = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10")
NOT_A_FACT: dict[str, dict[str, str]] = {
    # resourceType → status value → why it is not imported
    "Observation": {"entered-in-error": "entered in error", "cancelled": "cancelled"},
    "DiagnosticReport": {"entered-in-error": "entered in error", "cancelled": "cancelled"},
    "Procedure": {"entered-in-error": "entered in error", "not-done": "not done"},
    "MedicationAdministration": {"entered-in-error": "entered in error", "not-done": "not done"},
    "ImagingStudy": {"entered-in-error": "entered in error", "cancelled": "cancelled"},
    "CarePlan": {"entered-in-error": "entered in error", "revoked": "revoked"},
    "ServiceRequest": {"entered-in-error": "entered in error", "revoked": "revoked"},
}
DICOM_MODALITY = {
    (c.DICOM, "CT"): Modality.CT,
    (c.DICOM, "MR"): Modality.MRI,
    (c.DICOM, "PT"): Modality.PET_CT,
    (c.DICOM, "US"): Modality.ULTRASOUND,
}


def bundle_to_document(bundle: Any) -> BundleImport:
    """Map a bundle to a case document; raise `InvalidInput` if it is not one patient's, not
    colorectal liver metastases, or not shaped as FHIR JSON where the mapping reads it."""
    try:
        return _Reader(_normalised(bundle)).read()
    except InvalidInput:
        raise
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as error:
        raise InvalidInput(
            [
                Problem(
                    "",
                    "the bundle is not FHIR R4 JSON where a case is read from it "
                    f"(an element has the wrong JSON type: {type(error).__name__})",
                )
            ]
        ) from None


LEGACY = c.legacy_names()


def _normalised(value: Any) -> Any:
    """A copy with the former project URIs and inactive SNOMED CT codes replaced."""
    if isinstance(value, dict):
        out = {k: _normalised(v) for k, v in value.items()}
        if out.get("system") == c.SNOMED and out.get("code") in c.INACTIVE_SNOMED:
            out["code"] = c.INACTIVE_SNOMED[out["code"]]
        return out
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    if isinstance(value, str) and value.startswith(c.LEGACY_PROJECT):
        return LEGACY.get(value, value)
    return value


def not_a_fact(resource: dict[str, Any]) -> str | None:
    """Why a resource's status says it is not a fact to import, or None."""
    kind = resource.get("resourceType")
    if kind == "Condition":
        for _, verification in codings(resource.get("verificationStatus")):
            if verification in ("refuted", "entered-in-error"):
                return verification.replace("-", " ")
        return None
    return NOT_A_FACT.get(str(kind), {}).get(str(resource.get("status")))


def is_colorectal(condition: dict[str, Any]) -> bool:
    """Whether a cancer condition is of the colon or rectum (SNOMED CT, ICD-10 or site)."""
    code = condition.get("code")
    for pair in (c.COLON_CANCER, c.RECTUM_CANCER):
        if has_code(code, pair):
            return True
    for system, value in codings(code):
        if system in ICD10_SYSTEMS and value.upper().startswith(COLORECTAL_ICD10):
            return True
    if any(lookup(site, REV_SITE) for site in condition.get("bodySite") or []):
        return True
    # the general disorder (how crlmboard writes a primary of unknown site) named as colorectal
    words = (_text_of(code) or "").lower()
    generic = has_code(code, c.MALIGNANT_NEOPLASTIC_DISEASE) or has_code(code, LARGE_INTESTINE)
    return generic and any(w in words for w in ("colorectal", "colon", "rect", "large intestine"))


LARGE_INTESTINE = c.Code(c.SNOMED, "363510005", "Malignant tumor of large intestine")


def is_liver_metastasis(condition: dict[str, Any]) -> bool:
    code = condition.get("code")
    if has_code(code, c.LIVER_METASTASES):
        return True
    if any(s in ICD10_SYSTEMS and v.upper().startswith("C78.7") for s, v in codings(code)):
        return True
    return any(has_code(site, c.LIVER) for site in condition.get("bodySite") or [])


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
        self.bundle_id = bundle.get("id")
        self.ours = False  # written by crlmboard for this MRN (known once the patient is read)

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
        self.refuse_if_not_crlm()
        self.read_patient(*patients[0])
        self.ours = self.bundle_id == resource_id(self.doc["patient"]["mrn"], "Bundle")
        treatments: dict[int, dict[str, Any]] = {}
        imaging: dict[int, dict[str, Any]] = {}
        sizes: list[tuple[str, dict[str, Any]]] = []
        reviews: list[tuple[str, dict[str, Any]]] = []
        for label, resource in self.entries:
            kind = resource["resourceType"]
            profile = self.profile(resource)
            if kind == "Patient":
                continue
            reason = not_a_fact(resource)
            if reason is not None:
                self.note(label, f"skipped: its status says {reason}, so it is not imported")
                continue
            if profile in DERIVED_PROFILES:
                self.read_derived(label, resource, profile)
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
                undetermined = extension(resource, c.MARKERS_NOT_DETERMINED_EXTENSION)
                for key, test in parts(undetermined):
                    if key == "test" and test in ("msi", "mmr", "her2"):
                        molecular[test] = "unknown"
                self.leftover(
                    label,
                    resource,
                    {
                        "extension",
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

    def refuse_if_not_crlm(self) -> None:
        """Refuse a bundle about another cancer, or without liver metastases."""
        conditions = [
            (label, r)
            for label, r in self.entries
            if r["resourceType"] == "Condition" and not_a_fact(r) is None
        ]
        primaries = [
            (label, r)
            for label, r in conditions
            if self.profile(r) == c.PROFILES["primary"]
            or c.MCODE + "mcode-primary-cancer-condition" in _profiles(r)
        ]
        others = [(label, r) for label, r in primaries if not is_colorectal(r)]
        if others and len(others) == len(primaries):
            label, condition = others[0]
            what = _text_of(condition.get("code")) or "a cancer that is not colorectal"
            raise InvalidInput(
                [
                    Problem(
                        label,
                        f"the primary cancer is {what!r}, not colorectal: crlmboard keeps "
                        "cases of colorectal liver metastases only, so nothing was imported",
                    )
                ]
            )
        if not any(is_liver_metastasis(r) for _, r in conditions):
            raise InvalidInput(
                [
                    Problem(
                        "entry",
                        "the bundle has no liver metastasis (a Condition coded as secondary "
                        "malignant neoplasm of liver, or with the liver as its site): "
                        "crlmboard keeps cases of colorectal liver metastases only, so "
                        "nothing was imported",
                    )
                ]
            )

    def read_derived(self, label: str, resource: dict[str, Any], profile: str | None) -> None:
        """Derived resources are not data, except an M category the case cannot derive; from
        another system they are listed, since their content is not taken over as sent."""
        if not self.ours and profile != c.PROFILES["tumor"]:
            what = (
                "the response from the imaging"
                if profile == c.PROFILES["disease_status"]
                else "the M category and stage group from the extrahepatic disease"
            )
            self.note(label, f"not imported: crlmboard derives {what}")
        if profile not in (c.PROFILES["m_category"], c.PROFILES["stage_group"]):
            return
        value = resource.get("valueCodeableConcept")
        sent = _ajcc_value(value)
        if sent is None:
            return
        expected = {"m1b": ("M1b", "4B"), "m1c": ("M1c", "4C")}
        sites = {d.get("site") for d in self.doc.get("extrahepatic_disease") or []}
        derived = "m1c" if "peritoneum" in sites else "m1b" if sites else "m1a"
        bare = sent[1:] if sent[:1] in ("c", "p") else sent
        for m, codes in expected.items():
            if bare in codes and derived != m:
                self.note(
                    label,
                    f"{sent} as sent: a case derives M and the stage group from its "
                    "extrahepatic disease, which this bundle does not list; record the "
                    "sites of extrahepatic disease after the import",
                )

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
        elif is_liver_metastasis(resource):
            when = date_part(resource.get("onsetDateTime"))
            if when is not None:
                self.doc["liver_metastases_diagnosis_date"] = when
            for item in resource.get("extension") or []:
                if isinstance(item, dict) and item.get("url") == c.EXTRAHEPATIC_DISEASE_EXTENSION:
                    site = part(item, "site")
                    if site not in set(ExtrahepaticSite):
                        self.note(label, f"extrahepatic disease at {site!r} not mapped")
                        continue
                    disease: dict[str, Any] = {"site": ExtrahepaticSite(site).value}
                    if part(item, "detectedOn") is not None:
                        disease["detected_on"] = part(item, "detectedOn")
                    if part(item, "resectable") is not None:
                        disease["resectable"] = part(item, "resectable")
                    self.doc.setdefault("extrahepatic_disease", []).append(disease)
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
            if observation is None or not_a_fact(observation) is not None:
                continue
            self.read_tnm(label, observation, primary)

    def read_tnm(self, label: str, observation: dict[str, Any], primary: dict[str, Any]) -> None:
        """A T or N category observation, AJCC- or SNOMED CT-coded, into the primary."""
        kind = lookup(observation.get("code"), REV_TNM)
        value = _ajcc_value(observation.get("valueCodeableConcept"))
        if kind is None or kind[0] not in ("t", "n"):
            return
        axis, basis = kind
        if value is None:
            self.note(label, f"{axis.upper()} category not mapped (no AJCC or SNOMED CT value)")
            return
        category = value[1:] if value[:1] in ("c", "p") else value
        table: dict[str, TCategory | NCategory] = dict(REV_T if axis == "t" else REV_N)
        folded = {k.upper(): v for k, v in table.items()}
        if category.upper() not in folded:
            self.note(label, f"{axis.upper()} category {value} not mapped")
            return
        primary[axis] = folded[category.upper()].value
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
            if quantity.get("code") not in (None, *c.CEA_UNITS):
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
            # read through the stage group of the primary; on its own when nothing links it
            axis = lookup(code, REV_TNM)[0]
            primary = self.doc.setdefault("primary", {})
            if axis in ("t", "n") and primary.get(axis) is None:
                self.read_tnm(label, resource, primary)
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
                variant = value.get("text") or (_one_letter(coded[0]) if coded else None)
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
        if procedure is None and has_code(resource.get("code"), c.HEPATECTOMY):
            procedure = ProcedureType.HEPATECTOMY  # another system's plain hepatectomy
        when = date_part(resource.get("performedDateTime")) or date_part(
            (resource.get("performedPeriod") or {}).get("start")
        )
        detail = extension(resource, c.PROCEDURE_DETAILS_EXTENSION)
        if part(detail, "key") == "primary.resection_date" and when is not None:
            self.doc.setdefault("primary", {})["resection_date"] = when
            return
        if part(detail, "primaryResection") is True and when is not None:
            self.doc.setdefault("primary", {})["resection_date"] = when
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
                "performedPeriod",
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
            record = extension(plan, c.REVIEW_RECORD_EXTENSION)
            if part(record, "rationale") is not None:
                review["rationale"] = part(record, "rationale")
            for name, key in (("followUp", "follow_up"), ("evaluation", "evaluation")):
                if isinstance(part(record, name), str):
                    review[key] = json.loads(part(record, name))
            for replaced in plan.get("replaces") or []:
                target = self.resolve(replaced)
                if target is not None and id(target) in index:
                    review["amends"] = index[id(target)]
            if isinstance(part(record, "amends"), int):
                review["amends"] = part(record, "amends")
            reviews.append(review)
            self.leftover(
                label,
                plan,
                {
                    "extension",
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


def _profiles(resource: dict[str, Any]) -> list[str]:
    found = (resource.get("meta") or {}).get("profile") or []
    return [p for p in found if isinstance(p, str)]


def _text_of(concept: Any) -> str | None:
    if not isinstance(concept, dict):
        return None
    if isinstance(concept.get("text"), str):
        return str(concept["text"])
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and isinstance(coding.get("display"), str):
            return str(coding["display"])
    return None


def _ajcc_value(concept: Any) -> str | None:
    """`cT3`, `N1a`, `M1c`, `4B`… of an AJCC-coded value, or read from a SNOMED CT AJCC
    concept's display ("American Joint Committee on Cancer cT3 (qualifier value)")."""
    if not isinstance(concept, dict):
        return None
    for system, code in codings(concept):
        if system == c.AJCC:
            return code
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("system") == c.SNOMED:
            match = AJCC_DISPLAY.search(str(coding.get("display") or ""))
            if match:
                return match.group(1)
    return None


def _one_letter(hgvs: str) -> str:
    """`NP_004976.2:p.(Gly12Asp)` → `G12D`; other notations as they are (without `p.`)."""
    match = HGVS_PROTEIN.match(hgvs)
    if match and match.group(1) in THREE_LETTER and match.group(3) in THREE_LETTER:
        return THREE_LETTER[match.group(1)] + match.group(2) + THREE_LETTER[match.group(3)]
    return hgvs.split(":")[-1].removeprefix("p.")
