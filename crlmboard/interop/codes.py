"""Every code the mCODE exchange uses, as data: enumeration value → (system, code, display).

The tables are the single place where a `crlmboard.case/1` enumeration meets a standard code
system (SNOMED CT, LOINC, RxNorm, HGNC, AJCC, ICD-O-3, DICOM).  Export reads them forwards,
import reads them backwards, and the conformance checks and tests compare bundles against
them.  Sources: the mCODE STU4 (4.0.0) value sets and examples in the HL7 fhir-mCODE-ig
sources, the Genomics Reporting IG, NLM RxNorm listings and published FHIR examples.

A code marked `confirmed=False` lives in the project's own code system
(`urn:crlmboard:fhir:CodeSystem:*`): the project could not confirm a standard code for that
value, so it says so instead of inventing one.  README.md lists these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crlmboard.domain.models import (
    Biologic,
    BrafResult,
    Her2Result,
    Histology,
    ImmunotherapyAgent,
    LesionStatus,
    MmrResult,
    Modality,
    MsiResult,
    NCategory,
    PrimarySite,
    ProcedureType,
    Regimen,
    Role,
    StagingBasis,
    Strategy,
    TCategory,
    TreatmentSetting,
)

# -- code systems -----------------------------------------------------------------------

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
AJCC = "http://cancerstaging.org"
HGNC = "http://www.genenames.org/geneId"
HGVS = "http://varnomen.hgvs.org"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
UCUM = "http://unitsofmeasure.org"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"

PROJECT_OID = "2.25.147690648785465418460051825609644219953"
"""The project's OID: the `2.25` arc (ITU-T X.667) of the UUID
6f1c2f2e-4c1b-5b8e-9a57-8d7f2f0c9e31, globally unique without registration.  Below it:
`.1.N` code systems, `.2.N` extensions, `.3.N` identifier systems (numbers fixed forever)."""
PROJECT = f"urn:oid:{PROJECT_OID}"
LEGACY_PROJECT = "urn:crlmboard:fhir"
"""The namespace of bundles written before 0.x (read on import, never written)."""

_CODE_SYSTEMS = (
    "histology",
    "test",
    "mmr",
    "drug",
    "procedure",
    "modality",
    "lesion-status",
    "strategy",
    "role",
    "care-plan-activity",
)
_EXTENSIONS = (
    "chemotherapy-cycle",
    "immunotherapy-dose",
    "procedure-details",
    "imaging-timepoint",
    "lesion-measurement",
    "attendee-role",
    "review-record",
    "extrahepatic-disease",
    "markers-not-determined",
)
_IDENTIFIERS = ("mrn", "review-sha256", "evaluation-input-sha256")


def project_system(name: str) -> str:
    return f"{PROJECT}.1.{_CODE_SYSTEMS.index(name) + 1}"


def project_extension(name: str) -> str:
    return f"{PROJECT}.2.{_EXTENSIONS.index(name) + 1}"


def legacy_names() -> dict[str, str]:
    """Each `urn:crlmboard:fhir:` URI of older bundles → today's OID URI."""
    out = {f"{LEGACY_PROJECT}:CodeSystem:{n}": project_system(n) for n in _CODE_SYSTEMS}
    out |= {f"{LEGACY_PROJECT}:StructureDefinition:{n}": project_extension(n) for n in _EXTENSIONS}
    out |= {f"{LEGACY_PROJECT}:identifier:{n}": identifier_system(n) for n in _IDENTIFIERS}
    return out


def identifier_system(name: str) -> str:
    return f"{PROJECT}.3.{_IDENTIFIERS.index(name) + 1}"


MRN_SYSTEM = identifier_system("mrn")
"""The MRN identifier system when the site has not set its own (`InteropService.set_mrn_system`):
every hospital should set its own, or two hospitals' MRNs collide."""
REVIEW_HASH_SYSTEM = identifier_system("review-sha256")
EVALUATION_INPUT_SYSTEM = identifier_system("evaluation-input-sha256")

STANDARD_SYSTEMS = frozenset(
    {
        SNOMED,
        LOINC,
        RXNORM,
        AJCC,
        HGNC,
        HGVS,
        ICDO3,
        UCUM,
        DICOM,
        V2_0074,
        V2_0203,
        OBSERVATION_CATEGORY,
        CONDITION_CATEGORY,
        CONDITION_CLINICAL,
        CONDITION_VERIFICATION,
        DATA_ABSENT_REASON,
        RESOURCE_TYPES,
    }
)


@dataclass(frozen=True)
class Code:
    """One concept of a code system."""

    system: str
    code: str
    display: str
    confirmed: bool = True

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}

    def concept(self, text: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"coding": [self.coding()]}
        if text:
            out["text"] = text
        return out


def local(name: str, code: str, display: str) -> Code:
    """A value of the project's own code system (no standard code confirmed)."""
    return Code(project_system(name), code, display, confirmed=False)


def concept(codes: tuple[Code, ...], text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [c.coding() for c in codes]}
    if text:
        out["text"] = text
    return out


# -- profiles (mCODE STU4 4.0.0, FHIR 4.0.1) --------------------------------------------

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PROFILES: dict[str, str] = {
    "patient": MCODE + "mcode-cancer-patient",
    "ecog": MCODE + "mcode-ecog-performance-status",
    "primary": MCODE + "mcode-primary-cancer-condition",
    "secondary": MCODE + "mcode-secondary-cancer-condition",
    "stage_group": MCODE + "mcode-tnm-stage-group",
    "t_category": MCODE + "mcode-tnm-primary-tumor-category",
    "n_category": MCODE + "mcode-tnm-regional-nodes-category",
    "m_category": MCODE + "mcode-tnm-distant-metastases-category",
    "genomic_variant": MCODE + "mcode-genomic-variant",
    "tumor_marker": MCODE + "mcode-tumor-marker-test",
    "genomics_report": MCODE + "mcode-genomics-report",
    "medication": MCODE + "mcode-cancer-related-medication-administration",
    "procedure": MCODE + "mcode-cancer-related-surgical-procedure",
    "tumor": MCODE + "mcode-tumor",
    "tumor_size": MCODE + "mcode-tumor-size",
    "disease_status": MCODE + "mcode-cancer-disease-status",
    # no mCODE profile exists for these; the base FHIR R4 resource profile is named
    "care_plan": "http://hl7.org/fhir/StructureDefinition/CarePlan",
    "imaging_study": "http://hl7.org/fhir/StructureDefinition/ImagingStudy",
    "referral": "http://hl7.org/fhir/StructureDefinition/ServiceRequest",
}

# extensions
HISTOLOGY_EXTENSION = MCODE + "mcode-histology-morphology-behavior"
PROCEDURE_INTENT_EXTENSION = MCODE + "mcode-procedure-intent"
EVIDENCE_TYPE_EXTENSION = MCODE + "mcode-cancer-disease-status-evidence-type"
CONDITION_RELATED_EXTENSION = "http://hl7.org/fhir/StructureDefinition/condition-related"
RELATED_CONDITION_EXTENSION = MCODE + "mcode-related-condition"  # on BodyStructure
CHEMOTHERAPY_CYCLE_EXTENSION = project_extension("chemotherapy-cycle")
IMMUNOTHERAPY_DOSE_EXTENSION = project_extension("immunotherapy-dose")
PROCEDURE_DETAILS_EXTENSION = project_extension("procedure-details")
IMAGING_TIMEPOINT_EXTENSION = project_extension("imaging-timepoint")
LESION_MEASUREMENT_EXTENSION = project_extension("lesion-measurement")
ATTENDEE_ROLE_EXTENSION = project_extension("attendee-role")
REVIEW_RECORD_EXTENSION = project_extension("review-record")
EXTRAHEPATIC_DISEASE_EXTENSION = project_extension("extrahepatic-disease")
MARKERS_NOT_DETERMINED_EXTENSION = project_extension("markers-not-determined")

# -- patient ------------------------------------------------------------------------------

MRN_TYPE = Code(V2_0203, "MR", "Medical record number")
ECOG = Code(LOINC, "89247-1", "ECOG Performance Status score")
ECOG_ANSWERS: dict[int, Code] = {  # LOINC answer list LL529-9
    0: Code(
        LOINC,
        "LA9622-7",
        "Fully active, able to carry on all pre-disease performance without restriction",
    ),
    1: Code(
        LOINC,
        "LA9623-5",
        "Restricted in physically strenuous activity but ambulatory "
        "and able to carry out work of a light or sedentary nature, "
        "e.g., light house work, office work",
    ),
    2: Code(
        LOINC,
        "LA9624-3",
        "Ambulatory and capable of all selfcare but unable to carry "
        "out any work activities. Up and about more than 50% of "
        "waking hours",
    ),
    3: Code(
        LOINC,
        "LA9625-0",
        "Capable of only limited selfcare, confined to bed or chair more than 50% of waking hours",
    ),
    4: Code(
        LOINC,
        "LA9626-8",
        "Completely disabled. Cannot carry on any selfcare. Totally confined to bed or chair",
    ),
}
SURVEY = Code(OBSERVATION_CATEGORY, "survey", "Survey")
LABORATORY = Code(OBSERVATION_CATEGORY, "laboratory", "Laboratory")
IMAGING_CATEGORY = Code(OBSERVATION_CATEGORY, "imaging", "Imaging")
GENETICS = Code(V2_0074, "GE", "Genetics")
LAB_SERVICE = Code(V2_0074, "LAB", "Laboratory")
PROBLEM_LIST_ITEM = Code(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")
ACTIVE = Code(CONDITION_CLINICAL, "active", "Active")
CONFIRMED = Code(CONDITION_VERIFICATION, "confirmed", "Confirmed")
UNKNOWN = Code(DATA_ABSENT_REASON, "unknown", "Unknown")

# -- the primary tumour and the liver metastases ------------------------------------------

PRIMARY_SITE_BODY_SITE: dict[PrimarySite, Code] = {
    PrimarySite.CAECUM: Code(SNOMED, "32713005", "Cecum structure"),
    PrimarySite.ASCENDING: Code(SNOMED, "9040008", "Ascending colon structure"),
    PrimarySite.HEPATIC_FLEXURE: Code(SNOMED, "48338005", "Structure of right colic flexure"),
    PrimarySite.TRANSVERSE: Code(SNOMED, "485005", "Transverse colon structure"),
    PrimarySite.SPLENIC_FLEXURE: Code(SNOMED, "72592005", "Structure of left colic flexure"),
    PrimarySite.DESCENDING: Code(SNOMED, "32622004", "Descending colon structure"),
    PrimarySite.SIGMOID: Code(SNOMED, "60184004", "Sigmoid colon structure"),
    PrimarySite.RECTOSIGMOID: Code(SNOMED, "49832006", "Structure of rectosigmoid junction"),
    PrimarySite.RECTUM: Code(SNOMED, "34402009", "Rectum structure"),
}
COLON_CANCER = Code(SNOMED, "363406005", "Malignant tumor of colon")
RECTUM_CANCER = Code(SNOMED, "363351006", "Malignant tumor of rectum")
# no confirmed code for a rectosigmoid-junction malignancy: the general disorder, with the
# site in bodySite
MALIGNANT_NEOPLASTIC_DISEASE = Code(SNOMED, "363346000", "Malignant neoplastic disease")
PRIMARY_SITE_CONDITION: dict[PrimarySite, Code] = {
    **{
        site: COLON_CANCER
        for site in PrimarySite
        if site not in (PrimarySite.RECTUM, PrimarySite.RECTOSIGMOID)
    },
    PrimarySite.RECTOSIGMOID: MALIGNANT_NEOPLASTIC_DISEASE,
    PrimarySite.RECTUM: RECTUM_CANCER,
}
HISTOLOGY: dict[Histology, tuple[Code, ...]] = {
    # 1187332001 replaced 35917007 (inactivated 2022-01-31); ICD-O-3 next to it
    Histology.ADENOCARCINOMA: (
        Code(SNOMED, "1187332001", "Adenocarcinoma"),
        Code(ICDO3, "8140/3", "Adenocarcinoma, NOS"),
    ),
    Histology.MUCINOUS: (
        Code(SNOMED, "72495009", "Mucinous adenocarcinoma"),
        Code(ICDO3, "8480/3", "Mucinous adenocarcinoma"),
    ),
    Histology.SIGNET_RING: (
        Code(SNOMED, "87737001", "Signet ring cell carcinoma"),
        Code(ICDO3, "8490/3", "Signet ring cell carcinoma"),
    ),
    Histology.OTHER: (local("histology", "other", "Other histology"),),
}
LIVER = Code(SNOMED, "10200004", "Liver structure")
LIVER_METASTASES = Code(SNOMED, "94381002", "Secondary malignant neoplasm of liver")
# the root of mCODE's TumorMorphologyVS; it replaced the inactive 367651003
TUMOR_MORPHOLOGY = Code(SNOMED, "1240414004", "Malignant neoplasm")
INACTIVE_SNOMED: dict[str, str] = {"35917007": "1187332001", "367651003": "1240414004"}
"""Inactive SNOMED CT codes of older bundles → their active replacements (read on import)."""
BODY_STRUCTURE_TYPE = Code(RESOURCE_TYPES, "BodyStructure", "BodyStructure")

# -- TNM (AJCC 8th edition) ---------------------------------------------------------------

AJCC_8TH = Code(
    SNOMED,
    "897275008",
    "American Joint Commission on Cancer, Cancer Staging "
    "Manual, 8th edition neoplasm staging system (tumor "
    "staging)",
)
TNM_OBSERVATION: dict[tuple[str, StagingBasis], Code] = {
    ("stage", StagingBasis.CLINICAL): Code(SNOMED, "399537006", "Clinical TNM stage grouping"),
    ("stage", StagingBasis.PATHOLOGICAL): Code(
        SNOMED, "399588009", "Pathologic TNM stage grouping"
    ),
    ("t", StagingBasis.CLINICAL): Code(SNOMED, "399504009", "cT category"),
    ("t", StagingBasis.PATHOLOGICAL): Code(SNOMED, "384625004", "pT category"),
    ("n", StagingBasis.CLINICAL): Code(SNOMED, "399534004", "cN category"),
    ("n", StagingBasis.PATHOLOGICAL): Code(SNOMED, "371494008", "pN category"),
    ("m", StagingBasis.CLINICAL): Code(SNOMED, "399387003", "cM category"),
    ("m", StagingBasis.PATHOLOGICAL): Code(SNOMED, "371497001", "pM category"),
}
BASIS_PREFIX: dict[StagingBasis, str] = {StagingBasis.CLINICAL: "c", StagingBasis.PATHOLOGICAL: "p"}
T_CATEGORY: dict[TCategory, str] = {
    TCategory.TX: "TX",
    TCategory.T0: "T0",
    TCategory.TIS: "Tis",
    TCategory.T1: "T1",
    TCategory.T2: "T2",
    TCategory.T3: "T3",
    TCategory.T4A: "T4a",
    TCategory.T4B: "T4b",
}
N_CATEGORY: dict[NCategory, str] = {
    NCategory.NX: "NX",
    NCategory.N0: "N0",
    NCategory.N1A: "N1a",
    NCategory.N1B: "N1b",
    NCategory.N1C: "N1c",
    NCategory.N2A: "N2a",
    NCategory.N2B: "N2b",
}
# liver metastases make every case M1: a (one organ), b (more than one), c (peritoneum)
M_CATEGORY: dict[str, str] = {"m1a": "M1a", "m1b": "M1b", "m1c": "M1c"}
STAGE_GROUP: dict[str, tuple[str, str]] = {  # M category → (AJCC code, display)
    "m1a": ("4A", "IVA"),
    "m1b": ("4B", "IVB"),
    "m1c": ("4C", "IVC"),
}


def ajcc(basis: StagingBasis, category: str) -> Code:
    """The AJCC code of a T, N or M category, e.g. (clinical, "T3") → cT3."""
    code = BASIS_PREFIX[basis] + category
    return Code(AJCC, code, category)


# -- molecular ----------------------------------------------------------------------------

GENETIC_VARIANT_ASSESSMENT = Code(LOINC, "69548-6", "Genetic variant assessment")
GENE_STUDIED = Code(LOINC, "48018-6", "Gene studied [ID]")
AMINO_ACID_CHANGE = Code(LOINC, "48005-3", "Amino acid change (pHGVS)")
PRESENT = Code(LOINC, "LA9633-4", "Present")
ABSENT = Code(LOINC, "LA9634-2", "Absent")
GENOMICS_REPORT = Code(LOINC, "81247-9", "Master HL7 genetic variant reporting panel")
GENES: dict[str, Code] = {
    "kras": Code(HGNC, "HGNC:6407", "KRAS"),
    "nras": Code(HGNC, "HGNC:7989", "NRAS"),
    "braf": Code(HGNC, "HGNC:1097", "BRAF"),
}
BRAF_V600E = "V600E"
PROTEIN_REFSEQ: dict[str, str] = {
    # MANE Select RefSeq proteins (KRAS NM_004985.5, NRAS NM_002524.5, BRAF NM_004333.6)
    "kras": "NP_004976.2",
    "nras": "NP_002515.1",
    "braf": "NP_004324.2",
}
GENE_SYSTEMS = (HGNC, "http://www.genenames.org")
"""HGNC as Genomics Reporting names it, and as the mCODE examples do."""
BRAF_RESULTS = tuple(BrafResult)

MSI = Code(
    LOINC, "81695-9", "Microsatellite instability [Interpretation] in Cancer specimen Qualitative"
)
MSI_VALUES: dict[MsiResult, Code] = {
    MsiResult.MSS: Code(LOINC, "LA14122-8", "Stable"),
    MsiResult.MSI_LOW: Code(LOINC, "LA26202-4", "MSI-L"),
    MsiResult.MSI_HIGH: Code(LOINC, "LA26203-2", "MSI-H"),
}
# No LOINC code for mismatch-repair protein immunohistochemistry could be confirmed.
MMR = local("test", "mmr-ihc", "Mismatch repair protein expression by immunohistochemistry")
MMR_VALUES: dict[MmrResult, Code] = {
    MmrResult.PROFICIENT: local("mmr", "proficient", "MMR proficient (expression retained)"),
    MmrResult.DEFICIENT: local("mmr", "deficient", "MMR deficient (loss of expression)"),
}
HER2 = Code(LOINC, "48676-1", "HER2 [Interpretation] in Tissue")
HER2_VALUES: dict[Her2Result, Code] = {
    Her2Result.AMPLIFIED: Code(LOINC, "LA6576-8", "Positive"),
    Her2Result.NOT_AMPLIFIED: Code(LOINC, "LA6577-6", "Negative"),
}
CEA = Code(LOINC, "2039-6", "Carcinoembryonic Ag [Mass/volume] in Serum or Plasma")
NG_PER_ML = {"unit": "ng/mL", "system": UCUM, "code": "ng/mL"}
CEA_UNITS = ("ng/mL", "ug/L")  # µg/L is the same quantity
MILLIMETRE = {"unit": "mm", "system": UCUM, "code": "mm"}

# -- drugs --------------------------------------------------------------------------------

DRUGS: dict[str, Code] = {
    "fluorouracil": Code(RXNORM, "4492", "fluorouracil"),
    "leucovorin": Code(RXNORM, "6313", "leucovorin"),
    "oxaliplatin": Code(RXNORM, "32592", "oxaliplatin"),
    "irinotecan": Code(RXNORM, "51499", "irinotecan"),
    "capecitabine": Code(RXNORM, "194000", "capecitabine"),
    "bevacizumab": Code(RXNORM, "253337", "bevacizumab"),
    "aflibercept": Code(RXNORM, "1232150", "aflibercept"),
    "cetuximab": Code(RXNORM, "318341", "cetuximab"),
    "panitumumab": Code(RXNORM, "263034", "panitumumab"),
    "encorafenib": Code(RXNORM, "2049106", "encorafenib"),
    "trastuzumab": Code(RXNORM, "224905", "trastuzumab"),
    "pembrolizumab": Code(RXNORM, "1547545", "pembrolizumab"),
    "nivolumab": Code(RXNORM, "1597876", "nivolumab"),
    "ipilimumab": Code(RXNORM, "1094833", "ipilimumab"),
    # RxNorm ingredient codes not confirmed by the project
    "ramucirumab": local("drug", "ramucirumab", "ramucirumab"),
    "trifluridine_tipiracil": local("drug", "trifluridine_tipiracil", "trifluridine / tipiracil"),
    "other_chemotherapy": local("drug", "other_chemotherapy", "Other chemotherapy"),
    "other_immunotherapy": local("drug", "other_immunotherapy", "Other immunotherapy"),
}
REGIMEN_DRUGS: dict[Regimen, tuple[str, ...]] = {
    Regimen.FOLFOX: ("oxaliplatin", "leucovorin", "fluorouracil"),
    Regimen.CAPOX: ("oxaliplatin", "capecitabine"),
    Regimen.FOLFIRI: ("irinotecan", "leucovorin", "fluorouracil"),
    Regimen.CAPIRI: ("irinotecan", "capecitabine"),
    Regimen.FOLFOXIRI: ("oxaliplatin", "irinotecan", "leucovorin", "fluorouracil"),
    Regimen.FLUOROURACIL_LEUCOVORIN: ("leucovorin", "fluorouracil"),
    Regimen.CAPECITABINE: ("capecitabine",),
    Regimen.TRIFLURIDINE_TIPIRACIL: ("trifluridine_tipiracil",),
    Regimen.OTHER: ("other_chemotherapy",),
}
BIOLOGIC_DRUGS: dict[Biologic, tuple[str, ...]] = {
    Biologic.NONE: (),
    Biologic.BEVACIZUMAB: ("bevacizumab",),
    Biologic.AFLIBERCEPT: ("aflibercept",),
    Biologic.RAMUCIRUMAB: ("ramucirumab",),
    Biologic.CETUXIMAB: ("cetuximab",),
    Biologic.PANITUMUMAB: ("panitumumab",),
    Biologic.ENCORAFENIB_CETUXIMAB: ("encorafenib", "cetuximab"),
    Biologic.TRASTUZUMAB_BASED: ("trastuzumab",),
}
IMMUNOTHERAPY_DRUGS: dict[ImmunotherapyAgent, tuple[str, ...]] = {
    ImmunotherapyAgent.PEMBROLIZUMAB: ("pembrolizumab",),
    ImmunotherapyAgent.NIVOLUMAB: ("nivolumab",),
    ImmunotherapyAgent.NIVOLUMAB_IPILIMUMAB: ("nivolumab", "ipilimumab"),
    ImmunotherapyAgent.OTHER: ("other_immunotherapy",),
}
# mCODE procedure intent; neoadjuvant and adjuvant intent extend the (extensible) value set
SETTING_INTENT: dict[TreatmentSetting, Code] = {
    TreatmentSetting.NEOADJUVANT: Code(SNOMED, "373847000", "Neo-adjuvant - intent"),
    TreatmentSetting.CONVERSION: Code(SNOMED, "373808002", "Curative - procedure intent"),
    TreatmentSetting.ADJUVANT: Code(SNOMED, "373846009", "Adjuvant - intent"),
    TreatmentSetting.PALLIATIVE: Code(SNOMED, "363676003", "Palliative - procedure intent"),
}

# -- procedures ---------------------------------------------------------------------------

HEPATECTOMY = Code(SNOMED, "107963000", "Hepatectomy")
PROCEDURE_CODES: dict[ProcedureType, tuple[Code, ...]] = {
    p: ((standard,) if standard is not None else ())
    + (local("procedure", p.value, p.value.replace("_", " ")),)
    for p, standard in {
        ProcedureType.PORTAL_VEIN_EMBOLIZATION: None,
        ProcedureType.HEPATIC_ARTERY_INFUSION: None,
        ProcedureType.TACE: None,
        ProcedureType.DEBIRI: None,
        ProcedureType.RADIOEMBOLIZATION: None,
        ProcedureType.THERMAL_ABLATION: Code(SNOMED, "5415002", "Destruction of lesion of liver"),
        ProcedureType.FIDUCIAL_MARKING: None,
        ProcedureType.HEPATECTOMY: HEPATECTOMY,
        ProcedureType.TWO_STAGE_FIRST: HEPATECTOMY,
        ProcedureType.TWO_STAGE_SECOND: HEPATECTOMY,
        ProcedureType.ALPPS_STAGE_1: None,
        ProcedureType.ALPPS_STAGE_2: HEPATECTOMY,
        ProcedureType.COLECTOMY: Code(SNOMED, "23968004", "Excision of colon"),
        ProcedureType.PROCTECTOMY: None,
        ProcedureType.LIVER_TRANSPLANT: Code(SNOMED, "18027006", "Transplantation of liver"),
        ProcedureType.OTHER: None,
    }.items()
}
PRIMARY_PROCEDURES = frozenset({ProcedureType.COLECTOMY, ProcedureType.PROCTECTOMY})
"""Operations on the primary; every other procedure is for the liver metastases."""

# -- imaging and response -----------------------------------------------------------------

TUMOR_SIZE = Code(LOINC, "21889-1", "Size Tumor")
LONGEST_DIMENSION = Code(LOINC, "33728-7", "Size.maximum dimension in Tumor")
TUMOR_SIZE_METHOD: dict[Modality, Code] = {  # mCODE TumorSizeMethodVS
    Modality.CT: Code(SNOMED, "77477000", "Computerized axial tomography"),
    Modality.MRI: Code(SNOMED, "113091000", "Magnetic resonance imaging"),
    Modality.PET_CT: Code(SNOMED, "82918005", "Positron emission tomography"),
    Modality.ULTRASOUND: Code(SNOMED, "16310003", "Diagnostic ultrasonography"),
    Modality.INTRAOPERATIVE_ULTRASOUND: Code(SNOMED, "16310003", "Diagnostic ultrasonography"),
}
MODALITY_DICOM: dict[Modality, tuple[Code, ...]] = {
    Modality.CT: (Code(DICOM, "CT", "Computed Tomography"),),
    Modality.MRI: (Code(DICOM, "MR", "Magnetic Resonance"),),
    Modality.PET_CT: (
        Code(DICOM, "PT", "Positron emission tomography"),
        Code(DICOM, "CT", "Computed Tomography"),
    ),
    Modality.ULTRASOUND: (Code(DICOM, "US", "Ultrasound"),),
    Modality.INTRAOPERATIVE_ULTRASOUND: (Code(DICOM, "US", "Ultrasound"),),
}
MODALITY: dict[Modality, Code] = {
    m: local("modality", m.value, m.value.replace("_", " ")) for m in Modality
}
LESION_STATUS: dict[LesionStatus, Code] = {
    s: local("lesion-status", s.value, s.value) for s in LesionStatus
}
DISEASE_STATUS = Code(LOINC, "97509-4", "Cancer disease progression")
IMAGING_EVIDENCE = Code(SNOMED, "363679005", "Imaging")
RECIST_TREND: dict[str, Code] = {  # mCODE ConditionStatusTrendVS
    "CR": Code(SNOMED, "268910001", "Patient's condition improved"),
    "PR": Code(SNOMED, "268910001", "Patient's condition improved"),
    "SD": Code(SNOMED, "359746009", "Patient's condition stable"),
    "NN": Code(SNOMED, "359746009", "Patient's condition stable"),  # non-CR/non-PD
    "PD": Code(SNOMED, "271299001", "Patient's condition worsened"),
    "NE": Code(SNOMED, "709137006", "Patient condition undetermined"),
}

# -- board reviews ------------------------------------------------------------------------

STRATEGY: dict[Strategy, Code] = {
    s: local("strategy", s.value, s.value.replace("_", " ")) for s in Strategy
}
ROLE: dict[Role, Code] = {r: local("role", r.value, r.value.replace("_", " ")) for r in Role}
NEXT_REVIEW = local("care-plan-activity", "next-review", "Next board review")
BOARD_ACTION = local("care-plan-activity", "action", "Action agreed by the board")


# -- lookups ------------------------------------------------------------------------------


def reverse(table: Mapping[Any, Code | tuple[Code, ...]]) -> dict[tuple[str, str], Any]:
    """(system, code) → key, for codes that name exactly one key of a table."""
    seen: dict[tuple[str, str], list[Any]] = {}
    for key, value in table.items():
        for code in value if isinstance(value, tuple) else (value,):
            seen.setdefault((code.system, code.code), []).append(key)
    return {pair: keys[0] for pair, keys in seen.items() if len(set(keys)) == 1}


def all_codes() -> list[tuple[str, Code]]:
    """Every code of every table, with the table's name (for tests and documentation)."""
    found: list[tuple[str, Code]] = []
    for name, value in sorted(globals().items()):
        if name.startswith("_"):
            continue
        if isinstance(value, Code):
            found.append((name, value))
        elif isinstance(value, dict):
            for item in value.values():
                items = item if isinstance(item, tuple) else (item,)
                found.extend((name, c) for c in items if isinstance(c, Code))
    return found
