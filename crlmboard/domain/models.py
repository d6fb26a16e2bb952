"""Field sets of every clinical record, each field defined once.

Every record of the `crlmboard.case/1` contract is a plain pydantic model: it validates on
construction (units, bounds, enumerations), the store's SQLModel table models inherit it
(`class LabResultRow(SQLModel, LabResult, table=True)`: the columns come from these
fields), the UI builds its forms from it (label, unit, bounds) and the case format uses its
field names.  The domain does not import SQLModel, so the engine and the case format run
without SQLAlchemy (`crlmboard evaluate`, performance.md B10).  Nested lists of records
live on the aggregate (`case.py`), not here.
"""

import datetime as dt
import math
import re
import types
import typing
import unicodedata
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict
from pydantic_core import PydanticCustomError

from crlmboard.domain.validation import has_lone_surrogate
from crlmboard.frozen import frozen

# --------------------------------------------------------------------------------------
# Value types shared by every record


def _iso_date(value: Any) -> Any:
    """Accept a `date` or an ISO `YYYY-MM-DD` string; refuse anything else."""
    if isinstance(value, datetime):
        raise PydanticCustomError("iso_date", "must be a date YYYY-MM-DD")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("iso_date", "not a real calendar date") from None
    raise PydanticCustomError("iso_date", "must be a date YYYY-MM-DD")


def _utc_timestamp(value: Any) -> Any:
    """Accept an aware `datetime` or an ISO timestamp ending in Z; store it as UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise PydanticCustomError("utc_time", "must be a UTC time YYYY-MM-DDTHH:MM:SSZ")
        return value.astimezone(UTC)
    if isinstance(value, str) and re.fullmatch(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})", value
    ):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            raise PydanticCustomError("utc_time", "not a real time") from None
    raise PydanticCustomError("utc_time", "must be a UTC time YYYY-MM-DDTHH:MM:SSZ")


# Control characters a text may hold: tab and line breaks.  Every other one (C0, DEL, C1)
# is invisible, prints as garbage, and is not a valid FHIR string (a form feed fails the
# HL7 validator's regex; FHIR strings SHOULD NOT hold characters below U+0020 but these).
CONTROL_NAMES = {
    "\x07": "bell",
    "\x08": "backspace",
    "\x0b": "vertical tab",
    "\x0c": "form feed",
    "\x1b": "escape",
    "\x7f": "delete",
    "\x85": "next line",
}


# Unicode's control characters (category Cc) are exactly U+0000–U+001F and U+007F–U+009F
REFUSED_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(value: str) -> str | None:
    """The first control character `value` must not hold (tab, CR and LF are allowed)."""
    found = REFUSED_CONTROLS.search(value)
    return found.group() if found else None


def describe_character(ch: str) -> str:
    """A character as a person can read it in a message, e.g. `U+000C (form feed)`."""
    name = CONTROL_NAMES.get(ch) or unicodedata.name(ch, "").lower() or "control character"
    return f"U+{ord(ch):04X} ({name})"


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain a NUL character")
    if has_lone_surrogate(value):
        raise PydanticCustomError(
            "surrogate", "must not contain invalid Unicode (a lone surrogate)"
        )
    control = control_character(value)
    if control is not None:
        raise PydanticCustomError(
            "control_character",
            "must not contain the invisible control character {character}; only tab and "
            "line breaks are allowed",
            {"character": describe_character(control)},
        )
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise PydanticCustomError("finite_number", "must be a finite number")
    return value


BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")  # fillers, blank braille


def _visible(ch: str) -> bool:
    if ch in INVISIBLE_LETTERS or ch.isspace():
        return False
    return unicodedata.category(ch) not in ("Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Co", "Cn")


def _name(value: str) -> str:
    """A person's name: refused when it would show nothing, or could show as something
    else (bidi embedding/override/isolate controls reorder the letters on screen)."""
    if any(ch in BIDI_CONTROLS for ch in value):
        raise PydanticCustomError(
            "bidi_control",
            "must not contain bidirectional override or isolate characters (U+202A–U+202E, "
            "U+2066–U+2069): they can make a name show as another",
        )
    if value and not shows_something(value):
        raise PydanticCustomError(
            "invisible_name", "has no visible character (only spaces or invisible characters)"
        )
    return value


def shows_something(value: str) -> bool:
    """Whether a text has at least one visible character."""
    return any(_visible(ch) for ch in value)


def _visible_text(value: str) -> str:
    """A required free text (an action, a person at a meeting, a lesion, a question): one
    that would show nothing is refused like an empty one."""
    if not shows_something(value):
        raise PydanticCustomError(
            "invisible_text", "has no visible character (only spaces or invisible characters)"
        )
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
UtcTime = Annotated[datetime, BeforeValidator(_utc_timestamp)]
Text = Annotated[str, Strict(), AfterValidator(_clean_text)]
Name = Annotated[str, Strict(), AfterValidator(_clean_text), AfterValidator(_name)]
RequiredText = Annotated[str, Strict(), AfterValidator(_clean_text), AfterValidator(_visible_text)]
Integer = Annotated[int, Strict()]
Number = Annotated[float, Strict(), AfterValidator(_finite)]
Flag = Annotated[bool, Strict()]

MRN_PATTERN = r"^[A-Za-z0-9_/.\-]{1,32}$"


def _mrn(value: str) -> str:
    if not re.fullmatch(MRN_PATTERN, value):
        raise PydanticCustomError(
            "mrn", "must be 1–32 characters of A–Z, a–z, 0–9, '-', '_', '/' or '.'"
        )
    return value


Mrn = Annotated[str, Strict(), AfterValidator(_mrn)]


def _segment_list(value: list[int]) -> list[int]:
    for segment in value:
        if not 1 <= segment <= 8:
            raise PydanticCustomError(
                "segment", "Couinaud segments are 1–8, got {segment}", {"segment": segment}
            )
    if len(set(value)) != len(value):
        raise PydanticCustomError("segment", "a segment is listed twice")
    return value


SegmentList = Annotated[list[Integer], AfterValidator(_segment_list)]


def info(label: str, unit: str | None = None, **field: Any) -> Any:
    """A field with the label and unit the UI and PDF show."""
    extra: dict[str, Any] = {"label": label}
    if unit:
        extra["unit"] = unit
    return Field(default=field.pop("default", None), json_schema_extra=extra, **field)


class Record(BaseModel):
    """Base of every clinical record: unknown keys, NaN and wrong types are refused."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        validate_assignment=True,
        hide_input_in_errors=True,  # an error's text never carries a name or MRN (logs)
    )


# --------------------------------------------------------------------------------------
# Enumerations (values exactly as in case-format.md)


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class LiverBackground(StrEnum):
    NORMAL = "normal"
    STEATOSIS = "steatosis"
    STEATOHEPATITIS = "steatohepatitis"
    CIRRHOSIS = "cirrhosis"
    UNKNOWN = "unknown"


class PrimarySite(StrEnum):
    CAECUM = "caecum"
    ASCENDING = "ascending"
    HEPATIC_FLEXURE = "hepatic_flexure"
    TRANSVERSE = "transverse"
    SPLENIC_FLEXURE = "splenic_flexure"
    DESCENDING = "descending"
    SIGMOID = "sigmoid"
    RECTOSIGMOID = "rectosigmoid"
    RECTUM = "rectum"


RIGHT_SIDED_SITES = frozenset(
    {PrimarySite.CAECUM, PrimarySite.ASCENDING, PrimarySite.HEPATIC_FLEXURE, PrimarySite.TRANSVERSE}
)


class Histology(StrEnum):
    ADENOCARCINOMA = "adenocarcinoma"
    MUCINOUS = "mucinous"
    SIGNET_RING = "signet_ring"
    OTHER = "other"


class Grade(StrEnum):
    G1 = "g1"
    G2 = "g2"
    G3 = "g3"
    UNKNOWN = "unknown"


class TCategory(StrEnum):
    TX = "tx"
    T0 = "t0"
    TIS = "tis"
    T1 = "t1"
    T2 = "t2"
    T3 = "t3"
    T4A = "t4a"
    T4B = "t4b"


class NCategory(StrEnum):
    NX = "nx"
    N0 = "n0"
    N1A = "n1a"
    N1B = "n1b"
    N1C = "n1c"
    N2A = "n2a"
    N2B = "n2b"


class StagingBasis(StrEnum):
    CLINICAL = "clinical"
    PATHOLOGICAL = "pathological"


class ExtrahepaticSite(StrEnum):
    LUNG = "lung"
    PERITONEUM = "peritoneum"
    HEPATIC_PEDICLE_NODES = "hepatic_pedicle_nodes"
    PORTOCAVAL_NODES = "portocaval_nodes"
    CELIAC_NODES = "celiac_nodes"
    PARA_AORTIC_NODES = "para_aortic_nodes"
    OVARY = "ovary"
    ADRENAL = "adrenal"
    BONE = "bone"
    BRAIN = "brain"
    OTHER = "other"


class RasResult(StrEnum):
    WILD_TYPE = "wild_type"
    MUTANT = "mutant"
    UNKNOWN = "unknown"


class BrafResult(StrEnum):
    WILD_TYPE = "wild_type"
    V600E = "v600e"
    NON_V600E = "non_v600e"
    UNKNOWN = "unknown"


class MmrResult(StrEnum):
    PROFICIENT = "proficient"
    DEFICIENT = "deficient"
    UNKNOWN = "unknown"


class MsiResult(StrEnum):
    MSS = "mss"
    MSI_LOW = "msi_low"
    MSI_HIGH = "msi_high"
    UNKNOWN = "unknown"


class Her2Result(StrEnum):
    AMPLIFIED = "amplified"
    NOT_AMPLIFIED = "not_amplified"
    UNKNOWN = "unknown"


class Regimen(StrEnum):
    FOLFOX = "folfox"
    CAPOX = "capox"
    FOLFIRI = "folfiri"
    CAPIRI = "capiri"
    FOLFOXIRI = "folfoxiri"
    FLUOROURACIL_LEUCOVORIN = "fluorouracil_leucovorin"
    CAPECITABINE = "capecitabine"
    TRIFLURIDINE_TIPIRACIL = "trifluridine_tipiracil"
    OTHER = "other"


OXALIPLATIN_REGIMENS = frozenset({Regimen.FOLFOX, Regimen.CAPOX, Regimen.FOLFOXIRI})
IRINOTECAN_REGIMENS = frozenset({Regimen.FOLFIRI, Regimen.CAPIRI, Regimen.FOLFOXIRI})
THREE_WEEKLY_REGIMENS = frozenset({Regimen.CAPOX, Regimen.CAPIRI, Regimen.CAPECITABINE})
FOUR_WEEKLY_REGIMENS = frozenset({Regimen.TRIFLURIDINE_TIPIRACIL})
CYCLE_LENGTHS_DAYS = (14, 21, 28)
"""Cycle lengths a regimen is given in: two-, three- and four-weekly (trifluridine/tipiracil:
days 1–5 and 8–12 of a 28-day cycle)."""


class Biologic(StrEnum):
    NONE = "none"
    BEVACIZUMAB = "bevacizumab"
    AFLIBERCEPT = "aflibercept"
    RAMUCIRUMAB = "ramucirumab"
    CETUXIMAB = "cetuximab"
    PANITUMUMAB = "panitumumab"
    ENCORAFENIB_CETUXIMAB = "encorafenib_cetuximab"
    TRASTUZUMAB_BASED = "trastuzumab_based"


ANTI_EGFR_BIOLOGICS = frozenset(
    {Biologic.CETUXIMAB, Biologic.PANITUMUMAB, Biologic.ENCORAFENIB_CETUXIMAB}
)


class TreatmentSetting(StrEnum):
    NEOADJUVANT = "neoadjuvant"
    CONVERSION = "conversion"
    ADJUVANT = "adjuvant"
    PALLIATIVE = "palliative"


class ImmunotherapyAgent(StrEnum):
    PEMBROLIZUMAB = "pembrolizumab"
    NIVOLUMAB = "nivolumab"
    NIVOLUMAB_IPILIMUMAB = "nivolumab_ipilimumab"
    OTHER = "other"


class ProcedureType(StrEnum):
    PORTAL_VEIN_EMBOLIZATION = "portal_vein_embolization"
    HEPATIC_ARTERY_INFUSION = "hepatic_artery_infusion"
    TACE = "tace"
    DEBIRI = "debiri"
    RADIOEMBOLIZATION = "radioembolization"
    THERMAL_ABLATION = "thermal_ablation"
    FIDUCIAL_MARKING = "fiducial_marking"
    HEPATECTOMY = "hepatectomy"
    TWO_STAGE_FIRST = "two_stage_first"
    TWO_STAGE_SECOND = "two_stage_second"
    ALPPS_STAGE_1 = "alpps_stage_1"
    ALPPS_STAGE_2 = "alpps_stage_2"
    COLECTOMY = "colectomy"
    PROCTECTOMY = "proctectomy"
    LIVER_TRANSPLANT = "liver_transplant"
    OTHER = "other"


LIVER_CLEARING_PROCEDURES = frozenset(
    {
        ProcedureType.HEPATECTOMY,
        ProcedureType.TWO_STAGE_SECOND,
        ProcedureType.ALPPS_STAGE_2,
        ProcedureType.LIVER_TRANSPLANT,
    }
)


class Modality(StrEnum):
    CT = "ct"
    MRI = "mri"
    PET_CT = "pet_ct"
    ULTRASOUND = "ultrasound"
    INTRAOPERATIVE_ULTRASOUND = "intraoperative_ultrasound"


class LesionStatus(StrEnum):
    PRESENT = "present"
    DISAPPEARED = "disappeared"
    ABLATED = "ablated"
    RESECTED = "resected"


class Resectability(StrEnum):
    RESECTABLE = "resectable"
    BORDERLINE = "borderline"
    UNRESECTABLE = "unresectable"
    UNKNOWN = "unknown"


class Intent(StrEnum):
    CURATIVE = "curative"
    PALLIATIVE = "palliative"


class Strategy(StrEnum):
    UPFRONT_RESECTION = "upfront_resection"
    PERIOPERATIVE_CHEMOTHERAPY = "perioperative_chemotherapy"
    CONVERSION_CHEMOTHERAPY = "conversion_chemotherapy"
    TWO_STAGE_HEPATECTOMY = "two_stage_hepatectomy"
    ALPPS = "alpps"
    RESECTION_PLUS_ABLATION = "resection_plus_ablation"
    THERMAL_ABLATION = "thermal_ablation"
    TRANSPLANT_EVALUATION = "transplant_evaluation"
    PALLIATIVE_SYSTEMIC = "palliative_systemic"
    SURVEILLANCE = "surveillance"


class Sequence(StrEnum):
    NOT_APPLICABLE = "not_applicable"
    SIMULTANEOUS = "simultaneous"
    COLON_FIRST = "colon_first"
    LIVER_FIRST = "liver_first"


class Approach(StrEnum):
    OPEN = "open"
    LAPAROSCOPIC = "laparoscopic"
    ROBOTIC = "robotic"


class ResectionType(StrEnum):
    ANATOMICAL = "anatomical"
    NON_ANATOMICAL = "non_anatomical"
    MIXED = "mixed"


class MarginStatus(StrEnum):
    R0 = "r0"
    R1 = "r1"
    R2 = "r2"


class PathologicalResponse(StrEnum):
    COMPLETE = "complete"
    MAJOR = "major"
    PARTIAL = "partial"
    NONE = "none"


class ClavienDindo(StrEnum):
    I = "i"  # noqa: E741 - the grade's name in the classification
    II = "ii"
    IIIA = "iiia"
    IIIB = "iiib"
    IVA = "iva"
    IVB = "ivb"
    V = "v"


class Role(StrEnum):
    HEPATOBILIARY_SURGEON = "hepatobiliary_surgeon"
    COLORECTAL_SURGEON = "colorectal_surgeon"
    MEDICAL_ONCOLOGIST = "medical_oncologist"
    RADIATION_ONCOLOGIST = "radiation_oncologist"
    RADIOLOGIST = "radiologist"
    INTERVENTIONAL_RADIOLOGIST = "interventional_radiologist"
    PATHOLOGIST = "pathologist"
    HEPATOLOGIST = "hepatologist"
    SPECIALIST_NURSE = "specialist_nurse"
    COORDINATOR = "coordinator"
    OTHER = "other"


class FollowUpStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    CHANGED = "changed"
    NOT_DONE = "not_done"


class FollowUpReason(StrEnum):
    PATIENT_CHOICE = "patient_choice"
    CLINICAL_CHANGE = "clinical_change"
    CONDITION_NOT_MET = "condition_not_met"
    OTHER = "other"


# --------------------------------------------------------------------------------------
# Records


class Patient(Record):
    """Who the case is about."""

    mrn: Mrn = info("MRN", default=...)
    family_name: Name | None = info("Family name", max_length=100)
    given_name: Name | None = info("Given name", max_length=100)
    birth_date: IsoDate | None = info("Birth date")
    sex: Sex | None = info("Sex")
    ecog: Integer | None = info("ECOG performance status", ge=0, le=4)
    height_cm: Number | None = info("Height", "cm", ge=100, le=230)
    weight_kg: Number | None = info("Weight", "kg", ge=25, le=300)
    liver_background: LiverBackground | None = info("Liver background")
    comorbidities: list[Text] | None = info("Comorbidities")
    referring_clinician: Text | None = info("Referring clinician", max_length=200)
    referral_date: IsoDate | None = info("Referral date")

    def cross_checks(self, today: dt.date) -> list[tuple[str, str]]:
        """(field, message) for what single fields cannot tell."""
        problems: list[tuple[str, str]] = []
        if self.birth_date is not None:
            if self.birth_date > today:
                problems.append(("birth_date", "must not be in the future"))
            if self.birth_date < date(1900, 1, 1):
                problems.append(("birth_date", "must not be before 1900-01-01"))
        return problems


class PrimaryTumour(Record):
    """The colorectal primary tumour and its staging."""

    site: PrimarySite | None = info("Primary site")
    diagnosis_date: IsoDate | None = info("Diagnosis date")
    histology: Histology | None = info("Histology")
    grade: Grade | None = info("Grade")
    t: TCategory | None = info("T category")
    n: NCategory | None = info("N category")
    staging_basis: StagingBasis | None = info("Staging basis")
    resection_date: IsoDate | None = info("Resection date")

    def cross_checks(self, today: dt.date) -> list[tuple[str, str]]:
        if (
            self.resection_date is not None
            and self.diagnosis_date is not None
            and self.resection_date < self.diagnosis_date
        ):
            return [("resection_date", "must not be before the diagnosis date")]
        return []


class ExtrahepaticDisease(Record):
    """A site of disease outside the liver."""

    site: ExtrahepaticSite = info("Site", default=...)
    detected_on: IsoDate | None = info("Detected on")
    resectable: Flag | None = info("Resectable")


class MolecularProfile(Record):
    """RAS, BRAF, MMR/MSI and HER2 results."""

    kras: RasResult | None = info("KRAS")
    kras_variant: Text | None = info("KRAS variant", max_length=40)
    nras: RasResult | None = info("NRAS")
    nras_variant: Text | None = info("NRAS variant", max_length=40)
    braf: BrafResult | None = info("BRAF")
    mmr: MmrResult | None = info("MMR")
    msi: MsiResult | None = info("MSI")
    her2: Her2Result | None = info("HER2")
    tested_on: IsoDate | None = info("Tested on")

    def cross_checks(self, today: dt.date) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if self.kras_variant is not None and self.kras != RasResult.MUTANT:
            problems.append(("kras_variant", "only allowed when KRAS is mutant"))
        if self.nras_variant is not None and self.nras != RasResult.MUTANT:
            problems.append(("nras_variant", "only allowed when NRAS is mutant"))
        return problems


class LabResult(Record):
    """One day's laboratory values."""

    date: IsoDate = info("Date", default=...)
    cea_ng_ml: Number | None = info("CEA", "ng/mL", ge=0)
    ast_u_l: Number | None = info("AST", "U/L", ge=0)
    ast_uln_u_l: Number | None = info("AST upper limit of normal", "U/L", gt=0)
    platelets_10e9_l: Number | None = info("Platelets", "10⁹/L", ge=0)
    bilirubin_umol_l: Number | None = info("Bilirubin", "µmol/L", ge=0)
    albumin_g_l: Number | None = info("Albumin", "g/L", ge=0)


class ChemotherapyCycle(Record):
    """One cycle of chemotherapy, with its biologic."""

    date: IsoDate = info("Date given", default=...)
    regimen: Regimen = info("Regimen", default=...)
    biologic: Biologic | None = info("Biologic")
    cycle: Integer = info("Cycle", default=..., ge=1, le=200)
    cycle_length_days: Integer | None = info("Cycle length", "days")
    setting: TreatmentSetting = info("Setting", default=...)
    dose_percent: Number | None = info("Dose", "%", ge=1, le=150)
    toxicity_grade: Integer | None = info("Worst toxicity (CTCAE)", ge=0, le=5)

    @property
    def effective_biologic(self) -> Biologic:
        return self.biologic or Biologic.NONE

    @property
    def effective_cycle_length_days(self) -> int:
        if self.cycle_length_days is not None:
            return self.cycle_length_days
        if self.regimen in FOUR_WEEKLY_REGIMENS:
            return 28
        return 21 if self.regimen in THREE_WEEKLY_REGIMENS else 14

    @property
    def effective_dose_percent(self) -> float:
        return 100.0 if self.dose_percent is None else self.dose_percent

    def cross_checks(self, today: dt.date) -> list[tuple[str, str]]:
        if self.cycle_length_days is not None and self.cycle_length_days not in CYCLE_LENGTHS_DAYS:
            return [("cycle_length_days", "must be 14, 21 or 28")]
        return []


class ImmunotherapyDose(Record):
    """One dose of a checkpoint inhibitor."""

    date: IsoDate = info("Date given", default=...)
    agent: ImmunotherapyAgent = info("Agent", default=...)
    cycle: Integer | None = info("Cycle", ge=1, le=200)
    setting: TreatmentSetting = info("Setting", default=...)


class Procedure(Record):
    """An operation or intervention (PVE, ablation, hepatectomy, …)."""

    date: IsoDate = info("Date done", default=...)
    procedure: ProcedureType = info("Procedure", default=...)
    segments: SegmentList | None = info("Segments")
    lesion_ids: list[Text] | None = info("Lesions")
    note: Text | None = info("Note", max_length=2000)


class ImagingTimepointFields(Record):
    """One imaging study; its lesion measurements are on `case.ImagingTimepoint`."""

    date: IsoDate = info("Date", default=...)
    modality: Modality | None = info("Modality")
    new_lesions: Flag | None = info("New lesions")
    non_target_progression: Flag | None = info("Non-target progression")
    extrahepatic_findings: Text | None = info("Extrahepatic findings", max_length=2000)
    total_liver_volume_ml: Number | None = info("Total liver volume", "mL", gt=0)
    flr_volume_ml: Number | None = info("Future liver remnant volume", "mL", ge=0)
    flr_percent: Number | None = info("Future liver remnant", "%", ge=0, le=100)

    @property
    def flr_measure_percent(self) -> float | None:
        """The FLR percentage given, or derived from the two volumes (1 decimal)."""
        if self.flr_percent is not None:
            return self.flr_percent
        if self.flr_volume_ml is not None and self.total_liver_volume_ml:
            return round(self.flr_volume_ml / self.total_liver_volume_ml * 100, 1)
        return None

    def cross_checks(self, today: dt.date) -> list[tuple[str, str]]:
        if (
            self.flr_volume_ml is not None
            and self.total_liver_volume_ml is not None
            and self.flr_volume_ml > self.total_liver_volume_ml
        ):
            return [("flr_volume_ml", "must not exceed the total liver volume")]
        return []


class LesionMeasurement(Record):
    """One lesion's measurement at one imaging timepoint."""

    id: RequiredText = info("Lesion", default=..., min_length=1, max_length=16)
    segment: Integer | None = info("Segment", ge=1, le=8)
    longest_diameter_mm: Number | None = info("Longest diameter", "mm", ge=0, le=400)
    depth_mm: Number | None = info("Depth from capsule", "mm", ge=0, le=300)
    target: Flag | None = info("Target lesion")
    morphology_group: Integer | None = info("Morphology group", ge=1, le=3)
    status: LesionStatus | None = info("Status")


class SurgicalPlan(Record):
    """The board's current surgical plan."""

    resectability: Resectability | None = info("Resectability")
    intent: Intent | None = info("Intent")
    strategy: Strategy | None = info("Strategy")
    sequence: Sequence | None = info("Sequence")
    approach: Approach | None = info("Approach")
    resection_type: ResectionType | None = info("Resection type")
    segments_to_resect: SegmentList | None = info("Segments to resect")
    planned_flr_percent: Number | None = info("Planned FLR", "%", ge=0, le=100)
    planned_regimen: Regimen | None = info("Planned regimen")
    planned_biologic: Biologic | None = info("Planned biologic")
    planned_immunotherapy: ImmunotherapyAgent | None = info("Planned immunotherapy")
    planned_surgery_date: IsoDate | None = info("Planned surgery date")
    surgeon: Text | None = info("Surgeon", max_length=200)


class SurgeryOutcome(Record):
    """What an operation found and what followed."""

    date: IsoDate = info("Date", default=...)
    procedure: ProcedureType | None = info("Procedure")
    margin_mm: Number | None = info("Margin", "mm", ge=0, le=200)
    margin_status: MarginStatus | None = info("Margin status")
    pathological_response: PathologicalResponse | None = info("Pathological response")
    clavien_dindo: ClavienDindo | None = info("Clavien–Dindo grade")
    recurrence_date: IsoDate | None = info("Recurrence date")
    recurrence_sites: list[Text] | None = info("Recurrence sites")

    def cross_checks(self, today: dt.date) -> list[tuple[str, str]]:
        if self.recurrence_date is not None and self.recurrence_date < self.date:
            return [("recurrence_date", "must not be before the operation date")]
        return []


class Attendee(Record):
    """A person at a meeting or review, with their role."""

    name: RequiredText = info("Name", default=..., min_length=1, max_length=200)
    role: Role = info("Role", default=...)


class ReviewAction(Record):
    """An action agreed by the board."""

    text: RequiredText = info("Action", default=..., min_length=1, max_length=2000)
    owner: Text | None = info("Owner", max_length=200)
    due: IsoDate | None = info("Due")


class FollowUp(Record):
    """Whether a signed recommendation was carried out."""

    status: FollowUpStatus = info("Follow-up", default=...)
    reason: FollowUpReason | None = info("Reason")
    note: Text | None = info("Note", max_length=2000)
    recorded_on: IsoDate | None = info("Recorded on")

    def cross_checks(self, today: dt.date) -> list[tuple[str, str]]:
        if self.status in (FollowUpStatus.CHANGED, FollowUpStatus.NOT_DONE) and self.reason is None:
            return [("reason", f"required when the status is {self.status.value}")]
        return []


class ReviewFields(Record):
    """A board review's scalar fields; actions, attendees and evaluation are on `Review`."""

    meeting_date: IsoDate = info("Meeting date", default=...)
    question: Text | None = info("Question for the board", max_length=2000)
    recommendation: Strategy | None = info("Recommendation")
    decision: Text | None = info("Decision", max_length=10000)
    rationale: Text | None = info("Rationale", max_length=10000)
    next_review_date: IsoDate | None = info("Next review")
    signed_by: Text | None = info("Signed by", max_length=200)
    signed_at: UtcTime | None = info("Signed at")
    amends: Integer | None = info("Amends review", ge=0)


def field_label(model: type[BaseModel], name: str) -> str:
    """The label a person sees for a field."""
    extra = model.model_fields[name].json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("label"), str):
        return str(extra["label"])
    return name.replace("_", " ")


def field_unit(model: type[BaseModel], name: str) -> str | None:
    """The unit of a field, if it has one."""
    extra = model.model_fields[name].json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("unit"), str):
        return str(extra["unit"])
    return None


@frozen
class FieldSpec:
    """What a form needs to show and check one field (read from the model, never retyped)."""

    name: str
    label: str
    unit: str | None
    kind: str  # "text" | "integer" | "number" | "date" | "flag" | "choice" | "segments" | "texts"
    required: bool
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


def _base_type(annotation: Any) -> Any:
    """`Annotated[int, …] | None` → int; `list[…]` stays a list."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (types.UnionType, typing.Union) and len(args) == 1:
        annotation = args[0]
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def field_specs(model: type[BaseModel]) -> list[FieldSpec]:
    """Every field of a record as a form shows it, in declaration order."""
    specs = []
    for name, info_ in model.model_fields.items():
        base = _base_type(info_.annotation)
        choices: tuple[str, ...] = ()
        if isinstance(base, type) and issubclass(base, StrEnum):
            kind, choices = "choice", tuple(v.value for v in base)
        elif base is bool:
            kind = "flag"
        elif base is int:
            kind = "integer"
        elif base is float:
            kind = "number"
        elif base is dt.date:
            kind = "date"
        elif typing.get_origin(base) is list:
            inner = _base_type(typing.get_args(base)[0])
            kind = "segments" if inner is int else "texts"
        else:
            kind = "text"
        minimum = maximum = None
        for item in info_.metadata:
            for attr, bound in (("ge", "min"), ("gt", "min"), ("le", "max"), ("lt", "max")):
                value = getattr(item, attr, None)
                if value is not None:
                    if bound == "min":
                        minimum = float(value)
                    else:
                        maximum = float(value)
        specs.append(
            FieldSpec(
                name,
                field_label(model, name),
                field_unit(model, name),
                kind,
                info_.is_required(),
                choices,
                minimum,
                maximum,
            )
        )
    return specs
