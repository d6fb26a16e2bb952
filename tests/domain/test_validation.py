"""Every bound, enumeration and cross-field rule of case-format.md: refused with its path and
the same message on every entry path."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from crlmboard.domain.caseformat import case_from_dict, loads_case
from crlmboard.domain.models import ChemotherapyCycle, LesionMeasurement, Patient
from crlmboard.domain.validation import InvalidInput, problems_from_error

TODAY = date(2026, 11, 24)


def problems(data: Any) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        case_from_dict(data, TODAY)
    return [str(p) for p in caught.value.problems]


def chemo(**fields: Any) -> dict[str, Any]:
    base = {
        "kind": "chemotherapy",
        "date": "2025-01-01",
        "regimen": "folfox",
        "cycle": 1,
        "setting": "neoadjuvant",
    }
    return {**base, **fields}


def lesion(**fields: Any) -> dict[str, Any]:
    return {"id": "L1", "segment": 4, "longest_diameter_mm": 20, "status": "present", **fields}


BOUNDS = [
    # (block path, key, bad value, message)
    ("patient", "ecog", 5, "must be ≤ 4"),
    ("patient", "ecog", -1, "must be ≥ 0"),
    ("patient", "ecog", 1.5, "must be a whole number"),
    ("patient", "ecog", True, "must be a whole number"),
    ("patient", "height_cm", 99.9, "must be ≥ 100"),
    ("patient", "height_cm", 230.5, "must be ≤ 230"),
    ("patient", "weight_kg", 24, "must be ≥ 25"),
    ("patient", "weight_kg", 301, "must be ≤ 300"),
    ("patient", "weight_kg", "70", "must be a number"),
    ("patient", "family_name", "x" * 101, "must be at most 100 characters"),
    ("patient", "given_name", "x" * 101, "must be at most 100 characters"),
    ("patient", "sex", "f", "must be one of: female, male, other, unknown"),
    (
        "patient",
        "liver_background",
        "fatty",
        "must be one of: normal, steatosis, steatohepatitis, cirrhosis, unknown",
    ),
    ("patient", "birth_date", "14/05/1962", "must be a date YYYY-MM-DD"),
    ("patient", "birth_date", "1962-02-30", "not a real calendar date"),
    ("patient", "birth_date", 19620514, "must be a date YYYY-MM-DD"),
    ("patient", "birth_date", "2026-11-25", "must not be in the future"),
    ("patient", "birth_date", "1899-12-31", "must not be before 1900-01-01"),
    ("patient", "comorbidities", "diabetes", "must be a list"),
    ("patient", "mrn", "", "must be 1–32 characters of A–Z, a–z, 0–9, '-', '_', '/' or '.'"),
    ("patient", "mrn", "A" * 33, "must be 1–32 characters of A–Z, a–z, 0–9, '-', '_', '/' or '.'"),
    ("patient", "mrn", "AB 12", "must be 1–32 characters of A–Z, a–z, 0–9, '-', '_', '/' or '.'"),
    (
        "primary",
        "site",
        "colon",
        "must be one of: caecum, ascending, hepatic_flexure, transverse, "
        "splenic_flexure, descending, sigmoid, rectosigmoid, rectum",
    ),
    ("primary", "t", "T3", "must be one of: tx, t0, tis, t1, t2, t3, t4a, t4b"),
    ("primary", "n", "n3", "must be one of: nx, n0, n1a, n1b, n1c, n2a, n2b"),
    ("primary", "grade", "g4", "must be one of: g1, g2, g3, unknown"),
    (
        "primary",
        "histology",
        "squamous",
        "must be one of: adenocarcinoma, mucinous, signet_ring, other",
    ),
    ("primary", "staging_basis", "radiological", "must be one of: clinical, pathological"),
    ("molecular", "kras", "positive", "must be one of: wild_type, mutant, unknown"),
    ("molecular", "braf", "mutant", "must be one of: wild_type, v600e, non_v600e, unknown"),
    ("molecular", "mmr", "dmmr", "must be one of: proficient, deficient, unknown"),
    ("molecular", "msi", "high", "must be one of: mss, msi_low, msi_high, unknown"),
    ("molecular", "her2", "positive", "must be one of: amplified, not_amplified, unknown"),
    ("plan", "planned_flr_percent", 100.5, "must be ≤ 100"),
    ("plan", "planned_flr_percent", -1, "must be ≥ 0"),
    ("plan", "segments_to_resect", [0, 4], "Couinaud segments are 1–8, got 0"),
    ("plan", "segments_to_resect", [9], "Couinaud segments are 1–8, got 9"),
    ("plan", "segments_to_resect", [4, 4], "a segment is listed twice"),
    (
        "plan",
        "strategy",
        "resection",
        "must be one of: upfront_resection, "
        "perioperative_chemotherapy, conversion_chemotherapy, two_stage_hepatectomy, alpps, "
        "resection_plus_ablation, thermal_ablation, transplant_evaluation, palliative_systemic, "
        "surveillance",
    ),
    (
        "plan",
        "sequence",
        "reverse",
        "must be one of: not_applicable, simultaneous, colon_first, liver_first",
    ),
    (
        "plan",
        "resectability",
        "maybe",
        "must be one of: resectable, borderline, unresectable, unknown",
    ),
    ("plan", "intent", "cure", "must be one of: curative, palliative"),
    ("plan", "approach", "hybrid", "must be one of: open, laparoscopic, robotic"),
    ("plan", "resection_type", "wedge", "must be one of: anatomical, non_anatomical, mixed"),
    (
        "plan",
        "planned_immunotherapy",
        "ipilimumab",
        "must be one of: pembrolizumab, nivolumab, nivolumab_ipilimumab, other",
    ),
]


@pytest.mark.parametrize(("block", "key", "value", "message"), BOUNDS)
def test_field_bounds_are_refused_with_path_and_message(
    upfront: dict[str, Any], block: str, key: str, value: Any, message: str
) -> None:
    upfront.setdefault(block, {})[key] = value
    assert problems(upfront) == [f"{block}.{key}: {message}"]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("cea_ng_ml", -0.1, "must be ≥ 0"),
        ("ast_u_l", -1, "must be ≥ 0"),
        ("ast_uln_u_l", 0, "must be > 0"),
        ("platelets_10e9_l", -1, "must be ≥ 0"),
        ("bilirubin_umol_l", -1, "must be ≥ 0"),
        ("albumin_g_l", -1, "must be ≥ 0"),
    ],
)
def test_lab_values_are_not_negative(
    upfront: dict[str, Any], key: str, value: Any, message: str
) -> None:
    upfront["labs"][0][key] = value
    assert problems(upfront) == [f"labs[0].{key}: {message}"]


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    [
        (
            {"regimen": "folfoxx"},
            "regimen",
            "must be one of: folfox, capox, folfiri, capiri, "
            "folfoxiri, fluorouracil_leucovorin, capecitabine, trifluridine_tipiracil, other",
        ),
        (
            {"biologic": "avastin"},
            "biologic",
            "must be one of: none, bevacizumab, aflibercept, "
            "ramucirumab, cetuximab, panitumumab, encorafenib_cetuximab, trastuzumab_based",
        ),
        ({"cycle": 0}, "cycle", "must be ≥ 1"),
        ({"cycle_length_days": 30}, "cycle_length_days", "must be 14, 21 or 28"),
        (
            {"setting": "first_line"},
            "setting",
            "must be one of: neoadjuvant, conversion, adjuvant, palliative",
        ),
        ({"dose_percent": 0}, "dose_percent", "must be ≥ 1"),
        ({"dose_percent": 151}, "dose_percent", "must be ≤ 150"),
        ({"toxicity_grade": 6}, "toxicity_grade", "must be ≤ 5"),
        (
            {"setting": None},
            "setting",
            "must be one of: neoadjuvant, conversion, adjuvant, palliative",
        ),
    ],
)
def test_chemotherapy_cycle_rules(
    upfront: dict[str, Any], fields: dict[str, Any], path: str, message: str
) -> None:
    upfront["treatments"] = [chemo(**fields)]
    assert problems(upfront) == [f"treatments[0].{path}: {message}"]


def test_required_treatment_fields(upfront: dict[str, Any]) -> None:
    upfront["treatments"] = [
        {"kind": "chemotherapy", "date": "2025-01-01"},
        {"kind": "immunotherapy", "date": "2025-01-01"},
        {"kind": "procedure", "date": "2025-01-01"},
        {"kind": "radiotherapy", "date": "2025-01-01"},
    ]
    assert problems(upfront) == [
        "treatments[0].regimen: is required",
        "treatments[0].cycle: is required",
        "treatments[0].setting: is required",
        "treatments[1].agent: is required",
        "treatments[1].setting: is required",
        "treatments[2].procedure: is required",
        "treatments[3].kind: must be one of: chemotherapy, immunotherapy, procedure",
    ]


def test_procedure_segments_and_immunotherapy_agent(upfront: dict[str, Any]) -> None:
    upfront["treatments"] = [
        {"kind": "procedure", "date": "2025-01-01", "procedure": "hepatectomy", "segments": [2, 9]},
        {
            "kind": "immunotherapy",
            "date": "2025-01-01",
            "agent": "atezolizumab",
            "cycle": 1,
            "setting": "palliative",
        },
    ]
    assert problems(upfront) == [
        "treatments[0].segments: Couinaud segments are 1–8, got 9",
        "treatments[1].agent: must be one of: pembrolizumab, nivolumab, nivolumab_ipilimumab, "
        "other",
    ]


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    [
        ({"longest_diameter_mm": -1}, "longest_diameter_mm", "must be ≥ 0"),
        ({"segment": 0}, "segment", "must be ≥ 1"),
        ({"segment": 9}, "segment", "must be ≤ 8"),
        ({"morphology_group": 4}, "morphology_group", "must be ≤ 3"),
        ({"status": "gone"}, "status", "must be one of: present, disappeared, ablated, resected"),
        ({"target": "yes"}, "target", "must be true or false"),
        ({"depth_mm": -2}, "depth_mm", "must be ≥ 0"),
        ({"id": ""}, "id", "must not be empty"),
    ],
)
def test_lesion_rules(
    upfront: dict[str, Any], fields: dict[str, Any], path: str, message: str
) -> None:
    upfront["imaging"][1]["lesions"] = [lesion(**fields)]
    assert problems(upfront) == [f"imaging[1].lesions[0].{path}: {message}"]


def test_the_spec_example_message(upfront: dict[str, Any]) -> None:
    upfront["imaging"].append(
        {"date": "2025-02-05", "modality": "ct", "lesions": [lesion(longest_diameter_mm=-3)]}
    )
    assert problems(upfront) == ["imaging[2].lesions[0].longest_diameter_mm: must be ≥ 0"]


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    [
        (
            {"modality": "xray"},
            "modality",
            "must be one of: ct, mri, pet_ct, ultrasound, intraoperative_ultrasound",
        ),
        ({"flr_percent": 101}, "flr_percent", "must be ≤ 100"),
        ({"total_liver_volume_ml": 0}, "total_liver_volume_ml", "must be > 0"),
        (
            {"total_liver_volume_ml": 1000, "flr_volume_ml": 1001},
            "flr_volume_ml",
            "must not exceed the total liver volume",
        ),
        ({"new_lesions": 1}, "new_lesions", "must be true or false"),
    ],
)
def test_imaging_rules(
    upfront: dict[str, Any], fields: dict[str, Any], path: str, message: str
) -> None:
    upfront["imaging"][0].update(fields)
    assert problems(upfront) == [f"imaging[0].{path}: {message}"]


def test_flr_volume_equal_to_total_is_accepted(upfront: dict[str, Any]) -> None:
    upfront["imaging"][0].update(total_liver_volume_ml=1000, flr_volume_ml=1000)
    case = case_from_dict(upfront, TODAY)
    assert case.imaging[0].flr_measure_percent == 100.0


def test_lesion_id_once_per_timepoint(upfront: dict[str, Any]) -> None:
    upfront["imaging"][0]["lesions"].append(lesion(segment=7))
    assert problems(upfront) == [
        "imaging[0].lesions[1].id: lesion L1 appears twice at this timepoint"
    ]


def test_resection_not_before_diagnosis(upfront: dict[str, Any]) -> None:
    upfront["primary"]["resection_date"] = "2023-02-19"
    assert problems(upfront) == ["primary.resection_date: must not be before the diagnosis date"]
    upfront["primary"]["resection_date"] = "2023-02-20"
    assert case_from_dict(upfront, TODAY).primary is not None


def test_dates_not_before_birth(upfront: dict[str, Any]) -> None:
    upfront["treatments"] = [chemo(date="1962-05-13")]
    upfront["imaging"][0]["date"] = "1962-05-13"
    assert problems(upfront) == [
        "treatments[0].date: must not be before the birth date",
        "imaging[0].date: must not be before the birth date",
    ]
    upfront["treatments"] = [chemo(date="1962-05-14")]
    upfront["imaging"][0]["date"] = "1962-05-14"
    case_from_dict(upfront, TODAY)


def test_no_date_more_than_a_year_ahead_except_planned_surgery(upfront: dict[str, Any]) -> None:
    upfront["labs"][0]["date"] = "2027-11-26"
    upfront["plan"]["planned_surgery_date"] = "2029-01-01"
    assert problems(upfront) == ["labs[0].date: must not be more than a year after today"]
    upfront["labs"][0]["date"] = "2027-11-24"
    assert case_from_dict(upfront, TODAY).plan is not None


def test_variant_only_with_mutant(upfront: dict[str, Any]) -> None:
    upfront["molecular"]["kras_variant"] = "G12D"
    assert problems(upfront) == ["molecular.kras_variant: only allowed when KRAS is mutant"]
    upfront["molecular"]["kras"] = "mutant"
    assert case_from_dict(upfront, TODAY).molecular is not None


def test_follow_up_reason_required(upfront: dict[str, Any]) -> None:
    upfront["reviews"] = [
        {
            "meeting_date": "2025-02-04",
            "recommendation": "upfront_resection",
            "follow_up": {"status": "not_done"},
        }
    ]
    assert problems(upfront) == [
        "reviews[0].follow_up.reason: required when the status is not_done"
    ]


def test_review_roles_and_amends(upfront: dict[str, Any]) -> None:
    upfront["reviews"] = [
        {
            "meeting_date": "2025-02-04",
            "amends": 0,
            "attendees": [{"name": "A. Surgeon", "role": "surgeon"}],
        }
    ]
    found = problems(upfront)
    assert found[0].startswith(
        "reviews[0].attendees[0].role: must be one of: hepatobiliary_surgeon, colorectal_surgeon"
    )


def test_unknown_keys_everywhere(upfront: dict[str, Any]) -> None:
    upfront["extra"] = 1
    upfront["patient"]["nickname"] = "x"
    upfront["imaging"][0]["lesions"][0]["volume"] = 3
    upfront["treatments"] = [chemo(drug="x")]
    assert problems(upfront) == [
        "extra: unknown key",
        "patient.nickname: unknown key",
        "treatments[0].drug: unknown key",
        "imaging[0].lesions[0].volume: unknown key",
    ]


def test_required_keys(upfront: dict[str, Any]) -> None:
    del upfront["patient"]["mrn"]
    del upfront["format"]
    assert problems(upfront) == ["format: must be 'crlmboard.case/1'", "patient.mrn: is required"]
    assert problems({"format": "crlmboard.case/1"}) == ["patient: is required"]
    assert problems([]) == ["a case file must hold one JSON object"]


def test_nan_infinity_and_nul_are_refused(upfront: dict[str, Any]) -> None:
    text = json.dumps(upfront).replace('"cea_ng_ml": 12.0', '"cea_ng_ml": NaN')
    text = text.replace('"weight_kg": 61', '"weight_kg": Infinity')
    text = text.replace('"hypertension"', '"hyper\\u0000tension"')
    with pytest.raises(InvalidInput) as caught:
        loads_case(text, TODAY)
    assert [str(p) for p in caught.value.problems] == [
        "patient.weight_kg: must be a finite number",
        "patient.comorbidities[0]: must not contain a NUL character",
        "labs[0].cea_ng_ml: must be a finite number",
    ]


def test_malformed_json_is_a_problem_not_a_crash() -> None:
    with pytest.raises(InvalidInput) as caught:
        loads_case('{"format": "crlmboard.case/1",', TODAY)
    assert str(caught.value.problems[0]).startswith("not valid JSON (line 1")


def test_every_problem_is_listed_at_once(upfront: dict[str, Any]) -> None:
    upfront["patient"]["ecog"] = 9
    upfront["labs"][0]["cea_ng_ml"] = -5
    upfront["imaging"][1]["lesions"][0]["segment"] = 12
    assert problems(upfront) == [
        "patient.ecog: must be ≤ 4",
        "labs[0].cea_ng_ml: must be ≥ 0",
        "imaging[1].lesions[0].segment: must be ≤ 8",
    ]


def test_forms_get_the_same_messages_as_files() -> None:
    """A UI form validates through the same model and gets the same words."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        LesionMeasurement(id="L1", longest_diameter_mm=-1)  # type: ignore[arg-type]
    assert [str(p) for p in problems_from_error(caught.value, "lesion")] == [
        "lesion.longest_diameter_mm: must be ≥ 0"
    ]
    patient = Patient(mrn="X1")
    with pytest.raises(ValidationError) as caught:
        patient.ecog = 7
    assert [str(p) for p in problems_from_error(caught.value)] == ["ecog: must be ≤ 4"]


def test_defaults_are_derived_not_stored() -> None:
    cycle = ChemotherapyCycle(
        date=date(2025, 1, 1),
        regimen="capox",
        cycle=1,  # type: ignore[arg-type]
        setting="neoadjuvant",
    )  # type: ignore[arg-type]
    assert cycle.biologic is None and cycle.effective_biologic == "none"
    assert cycle.effective_cycle_length_days == 21
    assert cycle.effective_dose_percent == 100
    folfox = cycle.model_copy(update={"regimen": "folfox"})
    assert folfox.effective_cycle_length_days == 14
    # trifluridine/tipiracil: days 1–5 and 8–12 of a four-week cycle (issue 19)
    tas = cycle.model_copy(update={"regimen": "trifluridine_tipiracil"})
    assert tas.effective_cycle_length_days == 28
    four_weekly = ChemotherapyCycle.model_validate(
        {**cycle.model_dump(), "regimen": "trifluridine_tipiracil", "cycle_length_days": 28}
    )
    assert four_weekly.cross_checks(date(2025, 1, 1)) == []
