"""The institution profile: every threshold the guideline engine uses, read from TOML text.

A department adapts the engine by overriding values of the spec's profile table in a TOML
file; a key the engine does not know, or a value of the wrong type, is refused whole with a
`path: message` problem per fault.  The engine never reads files: callers pass the TOML
text, and the profile's SHA-256 is that text's UTF-8 bytes, so an evaluation names exactly
the thresholds it was made with.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import fields
from typing import Any

from crlmboard.domain.models import Role
from crlmboard.domain.validation import InvalidInput, Problem
from crlmboard.frozen import frozen

DEFAULT_PROFILE_RESOURCE = "profiles/default.toml"
"""Package-data path (under `crlmboard/resources/`) of the default profile's TOML text."""


@frozen
class ProfileKey:
    """One key of the profile table: its type, default, bounds, unit and meaning."""

    name: str
    kind: type  # int or float
    default: float
    minimum: float
    maximum: float
    unit: str
    meaning: str


PROFILE_KEYS: tuple[ProfileKey, ...] = (
    ProfileKey(
        "chemo_washout_days",
        int,
        28,
        0,
        365,
        "days",
        "minimum days from last chemotherapy to hepatectomy",
    ),
    ProfileKey(
        "bevacizumab_washout_days",
        int,
        42,
        0,
        365,
        "days",
        "minimum days from last bevacizumab to hepatectomy",
    ),
    ProfileKey(
        "restaging_interval_days",
        int,
        56,
        1,
        365,
        "days",
        "imaging due this long after the last imaging while on therapy",
    ),
    ProfileKey("restaging_soon_days", int, 14, 0, 365, "days", '"due soon" window before that'),
    ProfileKey(
        "on_treatment_window_days",
        int,
        35,
        0,
        365,
        "days",
        "systemic therapy within this many days = on treatment",
    ),
    ProfileKey(
        "prolonged_chemo_weeks",
        int,
        12,
        0,
        520,
        "weeks",
        'preoperative chemotherapy longer than this is "prolonged"/"extensive"',
    ),
    ProfileKey("prolonged_chemo_cycles", int, 6, 0, 200, "cycles", "… or more cycles than this"),
    ProfileKey(
        "flr_required_normal", int, 20, 0, 100, "%", "% of total liver volume, normal liver"
    ),
    ProfileKey(
        "flr_required_injured",
        int,
        30,
        0,
        100,
        "%",
        "% after extensive chemotherapy, steatosis or steatohepatitis",
    ),
    ProfileKey("flr_required_cirrhosis", int, 40, 0, 100, "%", "% with cirrhosis"),
    ProfileKey(
        "major_hepatectomy_segments", int, 3, 1, 8, "segments", "this many segments or more = major"
    ),
    ProfileKey(
        "pve_reassess_days",
        int,
        21,
        0,
        365,
        "days",
        "re-measure FLR this long after portal vein embolisation",
    ),
    ProfileKey(
        "dlm_small_mm", int, 20, 0, 400, "mm", "lesions smaller than this risk disappearing"
    ),
    ProfileKey("dlm_deep_mm", int, 10, 0, 300, "mm", "lesions deeper than this risk disappearing"),
    ProfileKey(
        "ablation_max_mm",
        int,
        30,
        0,
        400,
        "mm",
        "largest lesion for which thermal ablation is an option",
    ),
    ProfileKey("cea_uln", float, 5.0, 0, 10000, "ng/mL", "upper limit of normal"),
    ProfileKey(
        "cea_decline_percent",
        float,
        7.5,
        0,
        100,
        "%",
        "fall from baseline that supports non-progression",
    ),
    ProfileKey(
        "irinotecan_bmi",
        float,
        25,
        0,
        100,
        "kg/m²",
        "BMI above which irinotecan steatohepatitis risk is flagged",
    ),
    ProfileKey(
        "oxaliplatin_sos_cycles",
        int,
        6,
        0,
        200,
        "cycles",
        "oxaliplatin cycles from which SOS risk is flagged",
    ),
    ProfileKey("margin_min_mm", float, 1, 0, 200, "mm", "narrower margins are R1"),
    ProfileKey("fong_high_risk", int, 3, 0, 5, "points", "Fong CRS at or above this is high risk"),
    ProfileKey(
        "upfront_max_lesions",
        int,
        4,
        0,
        200,
        "lesions",
        "more lesions than this favour perioperative chemotherapy",
    ),
    ProfileKey(
        "peritoneal_max_liver_lesions",
        int,
        3,
        0,
        200,
        "lesions",
        "with peritoneal disease, at most this many liver lesions",
    ),
    ProfileKey(
        "transplant_min_systemic_weeks",
        int,
        6,
        0,
        520,
        "weeks",
        "systemic therapy before transplant referral",
    ),
    ProfileKey("oslo_largest_mm", int, 55, 0, 400, "mm", "Oslo score: largest lesion above this"),
    ProfileKey("oslo_cea", float, 80, 0, 100000, "ng/mL", "Oslo score: CEA above this (ng/mL)"),
    ProfileKey(
        "oslo_interval_months",
        int,
        24,
        0,
        600,
        "months",
        "Oslo score: primary resection to now below this",
    ),
    ProfileKey(
        "kgr_min_percent_per_week",
        float,
        2.0,
        0,
        100,
        "%/week",
        "kinetic growth rate after PVE below this is insufficient",
    ),
    ProfileKey(
        "capecitabine_course_days",
        int,
        14,
        1,
        28,
        "days",
        "days of oral capecitabine in a capecitabine-based cycle (washout counts from its "
        "last day)",
    ),
    ProfileKey(
        "surgery_fitness_ecog",
        int,
        2,
        0,
        5,
        "ECOG",
        "ECOG at or above this calls for a fitness-for-surgery assessment",
    ),
    ProfileKey(
        "surgery_fitness_age",
        int,
        80,
        0,
        130,
        "years",
        "age in years at or above this calls for a fitness-for-surgery assessment",
    ),
    ProfileKey(
        "folfoxiri_max_ecog",
        int,
        1,
        0,
        4,
        "ECOG",
        "FOLFOXIRI is listed as a conversion option up to this ECOG status",
    ),
    ProfileKey(
        "folfoxiri_max_age",
        int,
        75,
        0,
        130,
        "years",
        "FOLFOXIRI is listed as a conversion option below this age",
    ),
    ProfileKey(
        "transplant_max_ecog",
        int,
        1,
        0,
        4,
        "ECOG",
        "transplant referral is suggested up to this ECOG status",
    ),
    ProfileKey(
        "adjuvant_discussion_weeks",
        int,
        12,
        0,
        520,
        "weeks",
        "postoperative chemotherapy is discussed this long after a liver-clearing operation",
    ),
)

PROFILE_KEY_BY_NAME: dict[str, ProfileKey] = {key.name: key for key in PROFILE_KEYS}

DEFAULT_CORE_ROLES: tuple[str, ...] = (
    Role.HEPATOBILIARY_SURGEON.value,
    Role.MEDICAL_ONCOLOGIST.value,
    Role.RADIOLOGIST.value,
    Role.PATHOLOGIST.value,
    Role.COORDINATOR.value,
)
"""Roles a meeting needs for quorum (product.md); the only non-numeric profile key."""


@frozen
class Profile:
    """The thresholds in force (defaults = the spec's table), with the profile's name and hash."""

    name: str = "default"
    sha256: str = ""
    chemo_washout_days: int = 28
    bevacizumab_washout_days: int = 42
    restaging_interval_days: int = 56
    restaging_soon_days: int = 14
    on_treatment_window_days: int = 35
    prolonged_chemo_weeks: int = 12
    prolonged_chemo_cycles: int = 6
    flr_required_normal: int = 20
    flr_required_injured: int = 30
    flr_required_cirrhosis: int = 40
    major_hepatectomy_segments: int = 3
    pve_reassess_days: int = 21
    dlm_small_mm: int = 20
    dlm_deep_mm: int = 10
    ablation_max_mm: int = 30
    cea_uln: float = 5.0
    cea_decline_percent: float = 7.5
    irinotecan_bmi: float = 25.0
    oxaliplatin_sos_cycles: int = 6
    margin_min_mm: float = 1.0
    fong_high_risk: int = 3
    upfront_max_lesions: int = 4
    peritoneal_max_liver_lesions: int = 3
    transplant_min_systemic_weeks: int = 6
    oslo_largest_mm: int = 55
    oslo_cea: float = 80.0
    oslo_interval_months: int = 24
    kgr_min_percent_per_week: float = 2.0
    folfoxiri_max_ecog: int = 1
    folfoxiri_max_age: int = 75
    transplant_max_ecog: int = 1
    adjuvant_discussion_weeks: int = 12
    capecitabine_course_days: int = 14
    surgery_fitness_ecog: int = 2
    surgery_fitness_age: int = 80
    core_roles: tuple[str, ...] = DEFAULT_CORE_ROLES

    def value(self, key: str) -> float:
        """The numeric threshold named `key`."""
        if key not in PROFILE_KEY_BY_NAME:
            raise KeyError(key)
        number: float = getattr(self, key)
        return number

    def thresholds(self) -> dict[str, float]:
        """Every numeric threshold by key, in table order."""
        return {key.name: self.value(key.name) for key in PROFILE_KEYS}


def _check_value(key: ProfileKey, value: Any) -> tuple[float | None, str | None]:
    """The value converted to the key's type, or the reason it is refused."""
    if isinstance(value, bool):
        return None, "must be a number, not true/false"
    if key.kind is int:
        if not isinstance(value, int):
            return None, "must be a whole number"
        number: float = value
    else:
        if not isinstance(value, int | float):
            return None, "must be a number"
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            return None, "must be a finite number"
    if number < key.minimum:
        return None, f"must be ≥ {_plain(key.minimum)}"
    if number > key.maximum:
        return None, f"must be ≤ {_plain(key.maximum)}"
    return number, None


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _check_roles(value: Any) -> tuple[tuple[str, ...] | None, str | None]:
    allowed = [role.value for role in Role]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None, "must be a list of role names"
    unknown = [v for v in value if v not in allowed]
    if unknown:
        return None, f"unknown role {unknown[0]!r}; must be one of: {', '.join(allowed)}"
    return tuple(value), None


MAX_PROFILE_CHARACTERS = 100_000  # the full table with comments is about 5,000

# Thresholds that must keep an order (the first at most the second, or below it): a profile
# that reverses them contradicts itself and is refused rather than evaluated.
ORDERED_THRESHOLDS: tuple[tuple[str, str, bool], ...] = (
    ("flr_required_normal", "flr_required_injured", False),
    ("flr_required_injured", "flr_required_cirrhosis", False),
    ("restaging_soon_days", "restaging_interval_days", True),
)


def _contradictions(values: dict[str, Any]) -> list[Problem]:
    problems = []
    for low, high, strict in ORDERED_THRESHOLDS:
        if values[low] > values[high] or (strict and values[low] == values[high]):
            relation = "below" if strict else "at most"
            problems.append(
                Problem(
                    low,
                    f"{_plain(values[low])} contradicts {high} = {_plain(values[high])} "
                    f"({low} must be {relation} {high})",
                )
            )
    return problems


def load_profile_text(text: str, name: str) -> Profile:
    """Parse a profile's TOML text; unspecified keys keep their defaults.

    Raises `InvalidInput` listing every unknown key and every wrong type or bound.
    """
    if len(text) > MAX_PROFILE_CHARACTERS:
        raise InvalidInput(
            [Problem("", f"the file is too large for a profile ({len(text):,} characters)")]
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput([Problem("", f"not valid TOML: {error}")]) from None
    except RecursionError:
        raise InvalidInput([Problem("", "the TOML is nested too deeply")]) from None
    except ValueError as error:  # e.g. an integer of thousands of digits
        raise InvalidInput([Problem("", f"not valid TOML: {error}")]) from None
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "core_roles":
            roles, reason = _check_roles(value)
            if reason is not None:
                problems.append(Problem(key, reason))
            else:
                values[key] = roles
            continue
        spec = PROFILE_KEY_BY_NAME.get(key)
        if spec is None:
            problems.append(
                Problem(
                    key, "unknown key (not a threshold of the guideline engine; check the spelling)"
                )
            )
            continue
        number, reason = _check_value(spec, value)
        if reason is not None:
            problems.append(Problem(key, reason))
        else:
            values[key] = int(number) if spec.kind is int and number is not None else number
    if not problems:
        problems += _contradictions({**Profile().thresholds(), **values})
    if problems:
        raise InvalidInput(problems)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Profile(name=name, sha256=digest, **values)


def profile_field_names() -> tuple[str, ...]:
    """Names of every field of `Profile` that a TOML file may set."""
    return tuple(f.name for f in fields(Profile) if f.name not in ("name", "sha256"))
