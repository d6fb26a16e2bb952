"""The project's own profile checks of an mCODE bundle (pure: a bundle dict in, issues out).

Structural validity (element names, types, cardinalities of the base resources) is the job of
a FHIR model library; these checks add what the profiles say on top of it, per resource type:
the profile URL in `meta.profile`, the elements mCODE (and US Core beneath it) marks required
or must-support, the fixed codes and code systems of `codes.py`, and that every reference
resolves inside the bundle to a resource of the expected profile.  Given the case the bundle
was made from, they also check that each must-support element is there when the case has the
data for it.  No network, no terminology server: codes are checked against the project's
tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from crlmboard.domain.case import Case
from crlmboard.domain.models import Biologic, ChemotherapyCycle, ImmunotherapyDose, Procedure
from crlmboard.interop import codes as c

P = c.PROFILES
RESOURCE_TYPE: dict[str, str] = {
    P["patient"]: "Patient",
    P["ecog"]: "Observation",
    P["primary"]: "Condition",
    P["secondary"]: "Condition",
    P["stage_group"]: "Observation",
    P["t_category"]: "Observation",
    P["n_category"]: "Observation",
    P["m_category"]: "Observation",
    P["genomic_variant"]: "Observation",
    P["tumor_marker"]: "Observation",
    P["genomics_report"]: "DiagnosticReport",
    P["medication"]: "MedicationAdministration",
    P["procedure"]: "Procedure",
    P["tumor"]: "BodyStructure",
    P["tumor_size"]: "Observation",
    P["disease_status"]: "Observation",
    P["care_plan"]: "CarePlan",
    P["imaging_study"]: "ImagingStudy",
    P["referral"]: "ServiceRequest",
}
KNOWN_CODES: frozenset[tuple[str, str]] = frozenset(
    (code.system, code.code) for _, code in c.all_codes()
)
PROJECT_CODES: frozenset[tuple[str, str]] = frozenset(
    (code.system, code.code) for _, code in c.all_codes() if not code.confirmed
)


@dataclass(frozen=True)
class Issue:
    """One way a bundle departs from a profile."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class _Check:
    def __init__(self, bundle: dict[str, Any]):
        self.bundle = bundle
        self.issues: list[Issue] = []
        self.by_url: dict[str, dict[str, Any]] = {}
        for entry in bundle.get("entry") or []:
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                self.by_url[str(entry.get("fullUrl"))] = entry["resource"]

    def issue(self, where: str, message: str) -> None:
        self.issues.append(Issue(where, message))

    def require(self, where: str, resource: dict[str, Any], *keys: str) -> None:
        for key in keys:
            if resource.get(key) in (None, "", [], {}):
                self.issue(where, f"{key} is required by the profile")

    def one_of(self, where: str, resource: dict[str, Any], *keys: str) -> None:
        if not any(resource.get(k) not in (None, [], {}) for k in keys):
            self.issue(where, f"one of {', '.join(keys)} is required by the profile")

    def fixed(self, where: str, value: Any, code: c.Code, element: str = "code") -> None:
        if not _has(value, code):
            self.issue(where, f"{element} must be {code.system}|{code.code} ({code.display})")

    def systems(
        self, where: str, value: Any, allowed: frozenset[str] | set[str], element: str
    ) -> None:
        """At least one coding of the element is from the allowed systems."""
        found = {s for s, _ in _codings(value)}
        if not found & set(allowed):
            self.issue(
                where,
                f"{element} must be coded in {' or '.join(sorted(allowed))}, "
                f"found {', '.join(sorted(found)) or 'no coding'}",
            )

    def target(self, where: str, reference: Any, profiles: tuple[str, ...], element: str) -> None:
        resource = self.by_url.get(str((reference or {}).get("reference")))
        if resource is None:
            return  # reported by the reference check
        if _profile(resource) not in profiles:
            names = ", ".join(p.rsplit("/", 1)[-1] for p in profiles)
            self.issue(where, f"{element} must reference a {names} resource")


def _codings(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return []
    items = value.get("coding", [value])
    return [(str(x.get("system")), str(x.get("code"))) for x in items or [] if isinstance(x, dict)]


def _has(value: Any, code: c.Code) -> bool:
    return (code.system, code.code) in _codings(value)


def _profile(resource: dict[str, Any]) -> str | None:
    profiles = (resource.get("meta") or {}).get("profile") or []
    return next((p for p in profiles if p in RESOURCE_TYPE), None)


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")


def _ext(resource: dict[str, Any], url: str) -> dict[str, Any] | None:
    return next((e for e in resource.get("extension") or [] if e.get("url") == url), None)


# -- per profile --------------------------------------------------------------------------


def _patient(k: _Check, w: str, r: dict[str, Any]) -> None:
    k.require(w, r, "identifier", "name")
    if r.get("gender") is None and "_gender" not in r:
        k.issue(w, "gender is required by the profile (or a data-absent reason)")
    if not any(
        i.get("value") and _has(i.get("type"), c.MRN_TYPE) for i in r.get("identifier") or []
    ):
        k.issue(w, "identifier must hold the MRN (type v2-0203|MR)")


def _observation(k: _Check, w: str, r: dict[str, Any]) -> None:
    k.require(w, r, "status", "code", "subject")
    k.target(w, r.get("subject"), (P["patient"],), "subject")


def _ecog(k: _Check, w: str, r: dict[str, Any]) -> None:
    _observation(k, w, r)
    k.fixed(w, r.get("code"), c.ECOG)
    k.one_of(w, r, "valueInteger", "dataAbsentReason")


def _condition(k: _Check, w: str, r: dict[str, Any]) -> None:
    k.require(w, r, "code", "subject", "category", "clinicalStatus", "verificationStatus")
    k.target(w, r.get("subject"), (P["patient"],), "subject")
    k.systems(w, r.get("code"), {c.SNOMED}, "code")
    for site in r.get("bodySite") or []:
        k.systems(w, site, {c.SNOMED}, "bodySite")


def _primary(k: _Check, w: str, r: dict[str, Any]) -> None:
    _condition(k, w, r)
    histology = _ext(r, c.HISTOLOGY_EXTENSION)
    if histology is not None and not set(_codings(histology.get("valueCodeableConcept"))) & (
        KNOWN_CODES
    ):
        k.issue(w, "histologyMorphologyBehavior has no known SNOMED CT or ICD-O-3 code")
    for stage in r.get("stage") or []:
        for assessment in stage.get("assessment") or []:
            k.target(w, assessment, (P["stage_group"],), "stage.assessment")


def _secondary(k: _Check, w: str, r: dict[str, Any]) -> None:
    _condition(k, w, r)
    k.require(w, r, "bodySite")
    related = _ext(r, c.CONDITION_RELATED_EXTENSION)
    if related is not None:
        k.target(
            w,
            related.get("valueReference"),
            (P["primary"],),
            "extension[relatedPrimaryCancerCondition]",
        )


def _tnm(k: _Check, w: str, r: dict[str, Any]) -> None:
    _observation(k, w, r)
    k.require(w, r, "method", "focus", "valueCodeableConcept")
    k.fixed(w, r.get("method"), c.AJCC_8TH, "method")
    k.systems(w, r.get("code"), {c.SNOMED, c.LOINC}, "code")
    k.systems(w, r.get("valueCodeableConcept"), {c.AJCC, c.SNOMED}, "value")
    for focus in r.get("focus") or []:
        k.target(w, focus, (P["primary"],), "focus")


def _stage_group(k: _Check, w: str, r: dict[str, Any]) -> None:
    _tnm(k, w, r)
    if "component" in r:
        k.issue(w, "component is not used by the profile")
    for member in r.get("hasMember") or []:
        k.target(w, member, (P["t_category"], P["n_category"], P["m_category"]), "hasMember")


def _variant(k: _Check, w: str, r: dict[str, Any]) -> None:
    _observation(k, w, r)
    k.fixed(w, r.get("code"), c.GENETIC_VARIANT_ASSESSMENT)
    k.one_of(w, r, "valueCodeableConcept", "dataAbsentReason")
    if r.get("valueCodeableConcept") is not None:
        k.systems(w, r["valueCodeableConcept"], {c.LOINC}, "value")
    genes = [x for x in r.get("component") or [] if _has(x.get("code"), c.GENE_STUDIED)]
    if not genes:
        k.issue(w, "component[gene-studied] is must-support and the gene is known")
    for gene in genes:
        k.systems(w, gene.get("valueCodeableConcept"), {c.HGNC}, "component[gene-studied]")


def _tumor_marker(k: _Check, w: str, r: dict[str, Any]) -> None:
    _observation(k, w, r)
    k.require(w, r, "category")
    k.one_of(w, r, "valueQuantity", "valueCodeableConcept", "valueRatio", "dataAbsentReason")
    k.systems(w, r.get("code"), {c.LOINC} | {s for s, _ in PROJECT_CODES}, "code")
    if "component" in r:
        k.issue(w, "component is not used by the profile")
    quantity = r.get("valueQuantity")
    if quantity is not None and quantity.get("system") != c.UCUM:
        k.issue(w, "valueQuantity must be in UCUM units")


def _report(k: _Check, w: str, r: dict[str, Any]) -> None:
    k.require(w, r, "status", "code", "subject", "category")
    k.target(w, r.get("subject"), (P["patient"],), "subject")
    k.fixed(w, r.get("code"), c.GENOMICS_REPORT)
    if not any(_has(x, c.GENETICS) for x in r.get("category") or []):
        k.issue(w, "category must include v2-0074|GE")
    for result in r.get("result") or []:
        k.target(w, result, (P["genomic_variant"], P["tumor_marker"]), "result")


def _medication(k: _Check, w: str, r: dict[str, Any]) -> None:
    k.require(w, r, "status", "medicationCodeableConcept", "subject", "effectiveDateTime")
    k.target(w, r.get("subject"), (P["patient"],), "subject")
    k.one_of(w, r, "reasonCode", "reasonReference")  # invariant mcode-reason-required
    for reason in r.get("reasonReference") or []:
        k.target(w, reason, (P["primary"], P["secondary"]), "reasonReference")
    k.systems(w, r.get("medicationCodeableConcept"), {c.RXNORM} | _project_systems(), "medication")


def _procedure(k: _Check, w: str, r: dict[str, Any]) -> None:
    k.require(w, r, "status", "code", "subject", "performedDateTime", "reasonReference")
    k.target(w, r.get("subject"), (P["patient"],), "subject")
    for reason in r.get("reasonReference") or []:
        k.target(w, reason, (P["primary"], P["secondary"]), "reasonReference")
    k.systems(w, r.get("code"), {c.SNOMED} | _project_systems(), "code")


def _tumor(k: _Check, w: str, r: dict[str, Any]) -> None:
    k.require(w, r, "identifier", "location", "morphology", "patient")
    k.fixed(w, r.get("morphology"), c.TUMOR_MORPHOLOGY, "morphology")
    k.systems(w, r.get("location"), {c.SNOMED}, "location")
    k.target(w, r.get("patient"), (P["patient"],), "patient")
    if not any(
        i.get("value") and _has(i.get("type"), c.BODY_STRUCTURE_TYPE)
        for i in r.get("identifier") or []
    ):
        k.issue(w, "identifier[tumorIdentifier] (type BodyStructure, with a value) is required")


def _tumor_size(k: _Check, w: str, r: dict[str, Any]) -> None:
    _observation(k, w, r)
    k.fixed(w, r.get("code"), c.TUMOR_SIZE)
    if bool(r.get("focus")) == bool(r.get("specimen")):
        k.issue(w, "exactly one of focus or specimen is required")
    for focus in r.get("focus") or []:
        k.target(w, focus, (P["tumor"],), "focus")
    longest = [x for x in r.get("component") or [] if _has(x.get("code"), c.LONGEST_DIMENSION)]
    if len(longest) != 1:
        k.issue(w, "component[tumorLongestDimension] is required once")
    for item in longest:
        quantity = item.get("valueQuantity")
        if quantity is not None and (
            quantity.get("system") != c.UCUM or quantity.get("code") not in ("mm", "cm")
        ):
            k.issue(w, "the longest dimension must be in UCUM mm or cm")


def _disease_status(k: _Check, w: str, r: dict[str, Any]) -> None:
    _observation(k, w, r)
    k.fixed(w, r.get("code"), c.DISEASE_STATUS)
    k.require(w, r, "valueCodeableConcept", "effectiveDateTime")
    trends = {(x.system, x.code) for x in c.RECIST_TREND.values()}
    if not set(_codings(r.get("valueCodeableConcept"))) & trends:
        k.issue(w, "value must come from the condition status trend value set")
    for focus in r.get("focus") or []:
        k.target(w, focus, (P["primary"], P["secondary"], P["tumor"]), "focus")


def _care_plan(k: _Check, w: str, r: dict[str, Any]) -> None:
    k.require(w, r, "status", "intent", "subject")
    k.target(w, r.get("subject"), (P["patient"],), "subject")
    if r.get("intent") != "plan":
        k.issue(w, "intent must be 'plan'")
    for item in r.get("replaces") or []:
        k.target(w, item, (P["care_plan"],), "replaces")


def _study(k: _Check, w: str, r: dict[str, Any]) -> None:
    k.require(w, r, "status", "subject")
    k.target(w, r.get("subject"), (P["patient"],), "subject")
    for coding in r.get("modality") or []:
        k.systems(w, coding, {c.DICOM}, "modality")


def _referral(k: _Check, w: str, r: dict[str, Any]) -> None:
    k.require(w, r, "status", "intent", "subject")
    k.target(w, r.get("subject"), (P["patient"],), "subject")


def _project_systems() -> set[str]:
    return {system for system, _ in PROJECT_CODES}


RULES: dict[str, Callable[[_Check, str, dict[str, Any]], None]] = {
    P["patient"]: _patient,
    P["ecog"]: _ecog,
    P["primary"]: _primary,
    P["secondary"]: _secondary,
    P["stage_group"]: _stage_group,
    P["t_category"]: _tnm,
    P["n_category"]: _tnm,
    P["m_category"]: _tnm,
    P["genomic_variant"]: _variant,
    P["tumor_marker"]: _tumor_marker,
    P["genomics_report"]: _report,
    P["medication"]: _medication,
    P["procedure"]: _procedure,
    P["tumor"]: _tumor,
    P["tumor_size"]: _tumor_size,
    P["disease_status"]: _disease_status,
    P["care_plan"]: _care_plan,
    P["imaging_study"]: _study,
    P["referral"]: _referral,
}


def check_bundle(bundle: Any, case: Case | None = None) -> list[Issue]:
    """Every departure of a bundle from the profiles (an empty list when it conforms)."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return [Issue("Bundle", "not a Bundle")]
    k = _Check(bundle)
    if bundle.get("type") != "collection":
        k.issue("Bundle.type", "must be 'collection'")
    seen: set[str] = set()
    for i, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") or {}
        where = f"Bundle.entry[{i}] ({resource.get('resourceType')}/{resource.get('id')})"
        url = str(entry.get("fullUrl"))
        if url != f"urn:uuid:{resource.get('id')}":
            k.issue(where, "fullUrl must be urn:uuid: followed by the resource id")
        if url in seen:
            k.issue(where, f"fullUrl {url} is used twice")
        seen.add(url)
        profiles = (resource.get("meta") or {}).get("profile") or []
        profile = _profile(resource)
        if profile is None:
            k.issue(
                where,
                "meta.profile names no profile of this mapping"
                + (f" ({', '.join(profiles)})" if profiles else ""),
            )
        elif RESOURCE_TYPE[profile] != resource.get("resourceType"):
            k.issue(where, f"profile {profile} is for {RESOURCE_TYPE[profile]}")
        else:
            RULES[profile](k, where, resource)
        for path, value in _walk(resource, "resource"):
            if (
                isinstance(value, dict)
                and isinstance(value.get("reference"), str)
                and value["reference"] not in k.by_url
            ):
                k.issue(where, f"{path} → {value['reference']} is not in the bundle")
            if (
                isinstance(value, dict)
                and "system" in value
                and "code" in value
                and isinstance(value.get("code"), str)
                and not path.endswith("Quantity")
                and not path.endswith("valueQuantity")
            ):
                _check_coding(k, where, path, value)
    if case is not None:
        _must_support(k, bundle, case)
    return k.issues


def _check_coding(k: _Check, where: str, path: str, coding: dict[str, Any]) -> None:
    system, code = str(coding.get("system")), str(coding["code"])
    if system in (c.HGVS, c.AJCC, c.DATA_ABSENT_REASON):
        return  # expressions (HGVS, AJCC categories) and FHIR's own reasons
    if system.startswith(c.PROJECT):
        if (system, code) not in PROJECT_CODES:
            k.issue(where, f"{path}: {system}|{code} is not a project code")
        return
    if system not in c.STANDARD_SYSTEMS:
        k.issue(where, f"{path}: code system {system} is not one this mapping uses")
    elif (system, code) not in KNOWN_CODES:
        k.issue(where, f"{path}: {system}|{code} is not in the mapping tables")


def _must_support(k: _Check, bundle: dict[str, Any], case: Case) -> None:
    """Must-support elements are present whenever the case has the data for them."""
    resources = [e["resource"] for e in bundle.get("entry") or []]

    def of(profile: str) -> list[dict[str, Any]]:
        return [r for r in resources if _profile(r) == profile]

    def expect(what: str, count: int, profile: str) -> None:
        found = len(of(profile))
        if found != count:
            k.issue(
                "Bundle", f"{what}: expected {count} {profile.rsplit('/', 1)[-1]}, found {found}"
            )

    patient = (of(P["patient"]) or [{}])[0]
    p = case.patient
    for present, element in (
        (p.birth_date, "birthDate"),
        (p.sex, "gender"),
        (p.family_name or p.given_name, "name"),
    ):
        if present and not patient.get(element):
            k.issue("Patient", f"{element} is must-support and the case has it")
    expect("ECOG", int(p.ecog is not None), P["ecog"])
    primary = case.primary
    expect("primary tumour", int(primary is not None), P["primary"])
    expect("liver metastases", 1, P["secondary"])
    if primary is not None:
        condition = (of(P["primary"]) or [{}])[0]
        for present, element in (
            (primary.site, "bodySite"),
            (primary.diagnosis_date, "onsetDateTime"),
        ):
            if present is not None and not condition.get(element):
                k.issue("Condition (primary)", f"{element} is must-support and the case has it")
        if primary.histology is not None and _ext(condition, c.HISTOLOGY_EXTENSION) is None:
            k.issue(
                "Condition (primary)",
                "histologyMorphologyBehavior is must-support and the case has the histology",
            )
        staged = primary.t is not None or primary.n is not None
        expect("TNM stage group", int(staged), P["stage_group"])
        expect("T category", int(primary.t is not None), P["t_category"])
        expect("N category", int(primary.n is not None), P["n_category"])
    molecular = case.molecular
    if molecular is not None:
        genes = sum(x is not None for x in (molecular.kras, molecular.nras, molecular.braf))
        expect("RAS and BRAF results", genes, P["genomic_variant"])
        expect("genomics report", 1, P["genomics_report"])
    markers = (
        sum(x is not None for x in (molecular.msi, molecular.mmr, molecular.her2))
        if molecular is not None
        else 0
    )
    cea = sum(lab.cea_ng_ml is not None for lab in case.labs)
    expect("CEA and MMR/MSI/HER2 results", cea + markers, P["tumor_marker"])
    administrations = 0
    for t in case.treatments:
        if isinstance(t, ChemotherapyCycle):
            administrations += len(c.REGIMEN_DRUGS[t.regimen]) + len(
                c.BIOLOGIC_DRUGS[t.biologic or Biologic.NONE]
            )
        elif isinstance(t, ImmunotherapyDose):
            administrations += len(c.IMMUNOTHERAPY_DRUGS[t.agent])
    expect("administrations", administrations, P["medication"])
    expect("procedures", sum(isinstance(t, Procedure) for t in case.treatments), P["procedure"])
    expect("imaging timepoints", len(case.imaging), P["imaging_study"])
    expect("lesion measurements", sum(len(tp.lesions) for tp in case.imaging), P["tumor_size"])
    expect("lesions", len({lesion.id for tp in case.imaging for lesion in tp.lesions}), P["tumor"])
    expect("signed reviews", sum(r.signed for r in case.reviews), P["care_plan"])
