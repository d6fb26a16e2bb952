"""Independent review of the guideline engine against guideline-rules.md.

Every expectation below was worked out by hand from the spec text (quoted in the comments),
not from the implementation.  Tests whose expectation rests on a reading the spec leaves open
are marked `AMBIGUOUS:` with the reading chosen.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import crlmboard
from crlmboard.domain.caseformat import case_from_dict
from crlmboard.domain.engine import (
    RULES_BY_ID,
    evaluate,
    evaluation_to_dict,
    load_profile_text,
)
from crlmboard.domain.validation import InvalidInput
from tests.domain.engine.spec_tables import (
    CHEMOTHERAPY_FACTS,
    COMPLETE_MOLECULAR,
    PROFILE_DEFAULTS,
    SIDEDNESS,
    SPEC_FACTS,
    merged,
    quiet_scan,
)

TODAY = date(2030, 1, 1)
AS_OF = date(2025, 3, 1)
PROFILE_PATH = Path(crlmboard.__file__).parent / "resources" / "profiles" / "default.toml"
PROFILE_TEXT = PROFILE_PATH.read_text(encoding="utf-8")
PROFILE = load_profile_text(PROFILE_TEXT, "default")

# A quiet record: complete molecular profile, late metachronous, node-negative resected sigmoid
# primary, one 32 mm lesion in segment 6, normal CEA, BMI 21.6, no plan.  Fires nothing.
BASE: dict[str, Any] = {
    "format": "crlmboard.case/1",
    "patient": {
        "mrn": "REV-0001",
        "birth_date": "1960-06-02",
        "sex": "male",
        "ecog": 0,
        "height_cm": 180,
        "weight_kg": 70,
        "liver_background": "normal",
    },
    "primary": {
        "site": "sigmoid",
        "diagnosis_date": "2022-01-10",
        "t": "t3",
        "n": "n0",
        "resection_date": "2022-02-01",
    },
    "liver_metastases_diagnosis_date": "2025-01-06",
    "extrahepatic_disease": [],
    "molecular": COMPLETE_MOLECULAR,
    "labs": [{"date": "2025-01-06", "cea_ng_ml": 3}],
    "treatments": [],
    "imaging": [quiet_scan("2025-01-06")],
    "surgery_outcomes": [],
}


# ------------------------------------------------------------------------------------------
# helpers


def build(**blocks: Any) -> dict[str, Any]:
    """BASE with blocks replaced (lists/scalars) or merged (dicts; a None value drops a key)."""
    return merged(BASE, **blocks)


def run(data: dict[str, Any], as_of: date | str = AS_OF) -> dict[str, Any]:
    when = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    return evaluation_to_dict(evaluate(case_from_dict(data, TODAY), when, PROFILE))


def ids(doc: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in doc["findings"]}


def find(doc: dict[str, Any], rule: str) -> dict[str, Any] | None:
    hits = [f for f in doc["findings"] if f["rule"] == rule]
    assert len(hits) <= 1, f"{rule} fired more than once"
    return hits[0] if hits else None


def fact(doc: dict[str, Any], path: str) -> Any:
    value: Any = doc["facts"]
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def d(text: str, days: int = 0) -> str:
    return (date.fromisoformat(text) + timedelta(days=days)).isoformat()


def lesion(
    lid: str, mm: float, seg: int | None = 6, status: str | None = None, **extra: Any
) -> dict[str, Any]:
    out = {
        "id": lid,
        "segment": seg,
        "longest_diameter_mm": mm,
        "status": status or ("disappeared" if mm == 0 else "present"),
        **extra,
    }
    return {k: v for k, v in out.items() if v is not None}


def scan(
    when: str, lesions: list[dict[str, Any]], modality: str = "mri", **extra: Any
) -> dict[str, Any]:
    return {"date": when, "modality": modality, "lesions": lesions, **extra}


def cycles(
    first: str,
    n: int,
    regimen: str = "folfox",
    every: int | None = 14,
    setting: str = "neoadjuvant",
    biologic: str | None = None,
) -> list[dict[str, Any]]:
    step = every or (21 if regimen in ("capox", "capiri", "capecitabine") else 14)
    out = []
    for i in range(n):
        c: dict[str, Any] = {
            "kind": "chemotherapy",
            "date": d(first, step * i),
            "regimen": regimen,
            "cycle": i + 1,
            "setting": setting,
        }
        if every is not None:
            c["cycle_length_days"] = every
        if biologic is not None:
            c["biologic"] = biologic
        out.append(c)
    return out


def immuno(
    when: str, agent: str = "pembrolizumab", setting: str = "palliative", cycle: int = 1
) -> dict[str, Any]:
    return {
        "kind": "immunotherapy",
        "date": when,
        "agent": agent,
        "cycle": cycle,
        "setting": setting,
    }


def proc(when: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "procedure", "date": when, "procedure": kind, **extra}


ONE = [lesion("L1", 32)]


# ------------------------------------------------------------------------------------------
# evaluation document


def test_quiet_base_fires_nothing() -> None:
    assert run(build())["findings"] == []


def test_document_keys_and_header() -> None:
    doc = run(build())
    assert set(doc) == {
        "format",
        "engine_version",
        "profile",
        "as_of",
        "mrn",
        "input_sha256",
        "facts",
        "findings",
    }
    assert doc["format"] == "crlmboard.evaluation/1"
    assert doc["engine_version"] == "1.1.0"
    assert doc["profile"] == {
        "name": "default",
        "sha256": hashlib.sha256(PROFILE_TEXT.encode()).hexdigest(),
    }
    assert doc["as_of"] == "2025-03-01"
    assert doc["mrn"] == "REV-0001"


def test_input_sha256_is_canonical_case_json_without_reviews() -> None:
    # AMBIGUOUS: "canonical JSON" is not defined beyond "sorted keys, no reviews" (+ compact
    # separators per the brief).  For a record with every list present, integers only and no
    # nulls, every reasonable canonical form equals json.dumps(..., sort_keys, compact).
    data = build()
    expected = hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert run(data)["input_sha256"] == expected


def test_rule_catalogue_ids_severities_sources_match_spec() -> None:
    spec = {
        "DATA.MOLECULAR_INCOMPLETE": ("warning", "guo-2021, rev-nct-2020, nccn-colon"),
        "DATA.NO_IMAGING": ("warning", "wjg-2014"),
        "DATA.NO_BASELINE_IMAGING": ("warning", "eisenhauer-2009"),
        "DATA.FLR_NOT_MEASURED": ("warning", "guo-2021, wjg-2014"),
        "DATA.TARGET_NOT_MEASURABLE": ("info", "eisenhauer-2009"),
        "DATA.CEA_NOT_REMEASURED": ("info", "guo-2021"),
        "DATA.SCORE_INCOMPLETE": ("info", "fong-1999, margonis-2018, brudvik-2019"),
        "REGIMEN.ANTI_EGFR_RAS_MUTANT": ("critical", "rev-nct-2020, rev-treat-2021"),
        "REGIMEN.ANTI_EGFR_BRAF_V600E": ("warning", "rev-treat-2021, breakwater-2025, beacon-2019"),
        "REGIMEN.ANTI_EGFR_UNTESTED": ("warning", "rev-nct-2020"),
        "REGIMEN.ANTI_EGFR_RIGHT_SIDED": ("advice", "rev-nct-2020"),
        "REGIMEN.ANTI_EGFR_RESECTABLE": ("warning", "guo-2021, rev-nct-2020"),
        "REGIMEN.IMMUNOTHERAPY_DMMR": ("advice", "guo-2021, keynote-177, checkmate-8hw"),
        "REGIMEN.IMMUNOTHERAPY_PMMR": ("warning", "rev-nct-2020"),
        "REGIMEN.IRINOTECAN_STEATOHEPATITIS": ("warning", "rev-nct-2020, guo-2021"),
        "REGIMEN.OXALIPLATIN_SOS": ("advice", "rev-nct-2020, guo-2021"),
        "REGIMEN.BRAF_V600E": ("advice", "rev-treat-2021, guo-2021, breakwater-2025"),
        "PATHWAY.UPFRONT_RESECTION": ("advice", "guo-2021, rev-nct-2020, eortc-40983"),
        "PATHWAY.PERIOPERATIVE_CHEMOTHERAPY": ("advice", "rev-nct-2020, guo-2021"),
        "PATHWAY.CONVERSION_CHEMOTHERAPY": ("advice", "rev-nct-2020, guo-2021, wjg-2014"),
        "PATHWAY.SYNCHRONOUS_SEQUENCE": ("advice", "rev-treat-2021, wjg-2014"),
        "PATHWAY.SIMULTANEOUS_MAJOR_HEPATECTOMY": ("warning", "wjg-2014"),
        "PATHWAY.ABLATION_OPTION": ("advice", "rev-treat-2021, wjg-2014, collision-2025"),
        "PATHWAY.TRANSPLANT_REFERRAL": ("advice", "rev-treat-2021, transmet-2024"),
        "PATHWAY.REPEAT_HEPATECTOMY": ("advice", "wjg-2014, rev-treat-2021"),
        "PATHWAY.EXTRAHEPATIC_MULTIPLE_SITES": ("warning", "wjg-2014"),
        "PATHWAY.EXTRAHEPATIC_DISTANT_NODES": ("warning", "wjg-2014"),
        "PATHWAY.PERITONEAL_LIVER_LIMIT": ("warning", "wjg-2014"),
        "PATHWAY.EXTRAHEPATIC_UNRESECTABLE": ("warning", "wjg-2014, guo-2021"),
        "PATHWAY.REASSESS_RESECTABILITY": (
            "advice",
            "guo-2021, rev-nct-2020, wjg-2014, nccn-colon",
        ),
        "PATHWAY.FITNESS_FOR_SURGERY": ("warning", "rev-nct-2020, wjg-2014, rev-treat-2021"),
        "PATHWAY.REGIONAL_THERAPY_OPTION": ("advice", "guo-2021, rev-treat-2021, wjg-2014"),
        "TIMING.RESTAGING_OVERDUE": ("warning", "rev-nct-2020, guo-2021"),
        "TIMING.RESTAGING_DUE_SOON": ("info", "rev-nct-2020"),
        "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY": ("warning", "rev-nct-2020, rev-treat-2021"),
        "TIMING.SURGERY_TOO_SOON_AFTER_BEVACIZUMAB": ("warning", "rev-nct-2020, guo-2021"),
        "TIMING.PROLONGED_PREOPERATIVE_CHEMOTHERAPY": (
            "warning",
            "guo-2021, wjg-2014, rev-nct-2020",
        ),
        "TIMING.PROCEED_TO_SURGERY": ("advice", "rev-nct-2020, guo-2021"),
        "TIMING.PVE_REASSESSMENT": ("advice", "wjg-2014, guo-2021"),
        "RESPONSE.PROGRESSION_ON_CHEMOTHERAPY": ("critical", "wjg-2014"),
        "RESPONSE.COMPLETE_RADIOLOGICAL_RESPONSE": ("warning", "guo-2021, rev-nct-2020"),
        "RESPONSE.DISAPPEARING_METASTASIS": ("warning", "guo-2021"),
        "RESPONSE.MARK_LESIONS_AT_RISK": ("advice", "guo-2021, rev-nct-2020"),
        "RESPONSE.CEA_NOT_FALLING": ("advice", "guo-2021"),
        "RESPONSE.CEA_FALLING": ("info", "guo-2021"),
        "RESPONSE.CT_ONLY_RESTAGING": ("advice", "guo-2021"),
        "SURGERY.FLR_BELOW_REQUIRED": ("critical", "guo-2021, wjg-2014, rev-treat-2021"),
        "SURGERY.PVE_LOW_GROWTH": ("warning", "shindoh-2013"),
        "SURGERY.R1_MARGIN": ("warning", "guo-2021"),
        "SURGERY.R2_RESIDUAL_DISEASE": ("critical", "rev-treat-2021, wjg-2014"),
        "SURGERY.SECOND_STAGE_PENDING": ("advice", "rev-treat-2021, wjg-2014"),
        "SURGERY.ADJUVANT_DISCUSSION": ("advice", "guo-2021, rev-nct-2020"),
        "SCORE.FONG_HIGH_RISK": ("advice", "fong-1999, guo-2021"),
    }
    assert set(RULES_BY_ID) == set(spec)
    for rule_id, (severity, sources) in spec.items():
        rule = RULES_BY_ID[rule_id]
        assert rule.severity.value == severity, rule_id
        assert list(rule.sources) == sources.split(", "), rule_id


def test_findings_sorted_by_severity_then_id_and_each_once() -> None:
    # RAS-mutant, right-sided, synchronous, cetuximab planned, borderline: many findings.
    data = build(
        primary={"site": "caecum", "n": "n1a", "resection_date": None},
        molecular={"kras": "mutant"},
        imaging=[scan("2025-01-06", [lesion("L1", 62, 8), lesion("L2", 25, 3)])],
        plan={"resectability": "borderline", "planned_biologic": "cetuximab"},
    )
    doc = run(data)
    order = {"critical": 0, "warning": 1, "advice": 2, "info": 3}
    keys = [(order[f["severity"]], f["rule"]) for f in doc["findings"]]
    assert keys == sorted(keys)
    assert len(keys) == len(set(keys))
    assert "REGIMEN.ANTI_EGFR_RAS_MUTANT" in ids(doc)


# ------------------------------------------------------------------------------------------
# simple facts


@pytest.mark.parametrize(("as_of", "age"), [("2025-06-01", 64), ("2025-06-02", 65)])
def test_age_whole_years(as_of: str, age: int) -> None:
    assert fact(run(build(), as_of), "age_years") == age


def test_bmi_one_decimal() -> None:
    assert fact(run(build(patient={"height_cm": 200, "weight_kg": 100})), "bmi") == 25.0
    assert fact(run(build(patient={"height_cm": None})), "bmi") is None


@pytest.mark.parametrize(
    ("site", "side"),
    SIDEDNESS,
)
def test_sidedness(site: str, side: str) -> None:
    assert fact(run(build(primary={"site": site})), "sidedness") == side


def test_sidedness_unknown_without_site() -> None:
    assert fact(run(build(primary={"site": None})), "sidedness") == "unknown"


@pytest.mark.parametrize(
    ("n", "value"),
    [("n1a", True), ("n1c", True), ("n2b", True), ("n0", False), ("nx", None), (None, None)],
)
def test_node_positive(n: str | None, value: bool | None) -> None:
    assert fact(run(build(primary={"n": n})), "node_positive") is value


@pytest.mark.parametrize(
    ("molecular", "ras", "mmr"),
    [
        ({"nras": None}, "unknown", "proficient"),
        ({"nras": "mutant"}, "mutant", "proficient"),
        ({"kras": "unknown", "nras": "mutant"}, "mutant", "proficient"),
        ({"mmr": None, "msi": "msi_high"}, "wild_type", "deficient"),
        ({"mmr": "proficient", "msi": "msi_high"}, "wild_type", "deficient"),
        ({"mmr": None, "msi": "msi_low"}, "wild_type", "proficient"),
        ({"mmr": "unknown", "msi": "unknown"}, "wild_type", "unknown"),
    ],
)
def test_ras_and_mmr_status(molecular: dict[str, Any], ras: str, mmr: str) -> None:
    doc = run(build(molecular=molecular))
    assert fact(doc, "ras_status") == ras
    assert fact(doc, "mmr_status") == mmr


def test_braf_unknown_when_absent() -> None:
    assert fact(run(build(molecular={"braf": None})), "braf_status") == "unknown"
    assert fact(run(build(molecular={"braf": "non_v600e"})), "braf_status") == "non_v600e"


# ------------------------------------------------------------------------------------------
# presentation / disease-free interval


@pytest.mark.parametrize(
    ("resection", "liver", "presentation", "dfi"),
    [
        ("2023-01-01", "2023-01-01", "synchronous", 0),
        ("2023-01-01", "2022-12-20", "synchronous", 0),
        ("2023-01-01", "2023-12-02", "early_metachronous", 11.0),  # 335 d = 11.006
        ("2023-01-01", "2024-01-01", "early_metachronous", 12.0),  # 365 d = 11.99
        ("2023-01-01", "2024-01-03", "late_metachronous", 12.1),  # 367 d = 12.06
    ],
)
def test_presentation_and_dfi(resection: str, liver: str, presentation: str, dfi: float) -> None:
    doc = run(build(primary={"resection_date": resection}, liver_metastases_diagnosis_date=liver))
    assert fact(doc, "presentation") == presentation
    assert fact(doc, "disease_free_interval_months") == dfi


def test_presentation_366_days_rounds_to_12_months() -> None:
    # AMBIGUOUS: 366 days = 12.02 months, shown as 12.0.  "≤ 12 months" is read on the
    # fact as shown (1 decimal), so early metachronous.
    doc = run(
        build(
            primary={"resection_date": "2024-01-01"}, liver_metastases_diagnosis_date="2025-01-01"
        )
    )
    assert fact(doc, "disease_free_interval_months") == 12.0
    assert fact(doc, "presentation") == "early_metachronous"


def test_presentation_unresected_primary_is_synchronous() -> None:
    doc = run(build(primary={"resection_date": None}))
    assert fact(doc, "presentation") == "synchronous"
    assert fact(doc, "disease_free_interval_months") == 0


def test_presentation_resection_after_as_of_ignored() -> None:
    # records dated after as_of are ignored: at as_of the primary is unresected
    doc = run(
        build(
            primary={"resection_date": "2025-04-01"}, liver_metastases_diagnosis_date="2025-01-06"
        )
    )
    assert fact(doc, "presentation") == "synchronous"


def test_presentation_unknown_without_liver_date() -> None:
    doc = run(build(liver_metastases_diagnosis_date=None))
    assert fact(doc, "presentation") == "unknown"
    assert fact(doc, "disease_free_interval_months") is None
    assert fact(doc, "fong_crs.score") is None
    assert "DATA.SCORE_INCOMPLETE" in ids(doc)


# ------------------------------------------------------------------------------------------
# episode


def test_episode_starts_day_after_hepatectomy() -> None:
    data = build(
        treatments=[*cycles("2024-03-01", 4), proc("2024-06-01", "hepatectomy")],
        imaging=[
            scan("2024-02-20", ONE),
            scan("2024-06-01", ONE, "intraoperative_ultrasound"),
            scan("2024-06-02", [lesion("L9", 15)], "ct"),
        ],
        labs=[{"date": "2024-02-20", "cea_ng_ml": 30}, {"date": "2024-06-02", "cea_ng_ml": 4}],
    )
    doc = run(data, "2024-07-01")
    assert fact(doc, "episode_start") == "2024-06-02"
    assert fact(doc, "previous_hepatectomies") == 1
    assert fact(doc, "current_imaging.date") == "2024-06-02"
    assert fact(doc, "baseline_imaging.date") == "2024-06-02"
    assert fact(doc, "lesion_count") == 1
    assert fact(doc, "chemotherapy.preoperative_cycles") == 0
    assert fact(doc, "chemotherapy.first_cycle_date") is None
    assert fact(doc, "cea_baseline") == 4
    assert fact(doc, "earliest_safe_surgery_date") is None


def test_episode_no_imaging_after_hepatectomy() -> None:
    data = build(
        treatments=[proc("2024-06-01", "hepatectomy")], imaging=[scan("2024-05-01", ONE)], labs=[]
    )
    doc = run(data, "2024-07-01")
    assert "DATA.NO_IMAGING" in ids(doc)
    assert fact(doc, "current_imaging") is None
    assert fact(doc, "lesion_count") is None


def test_episode_ignores_operation_after_as_of() -> None:
    data = build(treatments=[proc("2025-03-02", "hepatectomy")])
    doc = run(data)
    assert fact(doc, "episode_start") is None
    assert fact(doc, "previous_hepatectomies") == 0


@pytest.mark.parametrize(
    ("kind", "clears"),
    [
        ("hepatectomy", True),
        ("two_stage_second", True),
        ("alpps_stage_2", True),
        ("liver_transplant", True),
        ("two_stage_first", False),
        ("alpps_stage_1", False),
        ("thermal_ablation", False),
        ("portal_vein_embolization", False),
        ("colectomy", False),
    ],
)
def test_liver_clearing_operations(kind: str, clears: bool) -> None:
    doc = run(build(treatments=[proc("2025-01-20", kind)]))
    assert fact(doc, "episode_start") == ("2025-01-21" if clears else None)
    assert fact(doc, "previous_hepatectomies") == (1 if clears else 0)


def test_anti_egfr_of_previous_episode_not_given() -> None:
    data = build(
        molecular={"kras": "mutant"},
        treatments=[
            *cycles("2024-01-01", 2, biologic="cetuximab"),
            proc("2024-03-01", "hepatectomy"),
        ],
        imaging=[scan("2024-12-01", ONE)],
    )
    doc = run(data)
    assert fact(doc, "chemotherapy.anti_egfr_given") is False
    assert "REGIMEN.ANTI_EGFR_RAS_MUTANT" not in ids(doc)


# ------------------------------------------------------------------------------------------
# baseline / current imaging, lesions, TBS


def test_baseline_is_latest_imaging_on_or_before_first_systemic_treatment() -> None:
    data = build(
        imaging=[
            scan("2025-01-06", ONE),
            scan("2025-01-20", ONE, "ct"),
            scan("2025-02-25", [lesion("L1", 20)]),
        ],
        treatments=cycles("2025-01-20", 3),
    )
    doc = run(data)
    assert fact(doc, "baseline_imaging.date") == "2025-01-20"
    assert fact(doc, "current_imaging.date") == "2025-02-25"


def test_baseline_counts_immunotherapy_as_first_systemic_treatment() -> None:
    data = build(
        imaging=[
            scan("2025-01-06", ONE),
            scan("2025-01-20", ONE, "ct"),
            scan("2025-02-25", [lesion("L1", 20)]),
        ],
        treatments=[immuno("2025-01-10"), *cycles("2025-01-21", 2)],
    )
    assert fact(run(data), "baseline_imaging.date") == "2025-01-06"


def test_baseline_ignores_adjuvant_setting() -> None:
    # only adjuvant therapy: "if none, the first imaging of the episode"
    data = build(
        imaging=[scan("2025-01-06", ONE), scan("2025-01-20", ONE), scan("2025-02-25", ONE)],
        treatments=cycles("2025-01-21", 2, setting="adjuvant"),
    )
    assert fact(run(data), "baseline_imaging.date") == "2025-01-06"


def test_baseline_first_imaging_when_therapy_started_before_any_imaging() -> None:
    data = build(
        imaging=[scan("2025-01-20", ONE), scan("2025-02-25", ONE)],
        treatments=cycles("2025-01-10", 3),
    )
    doc = run(data)
    assert fact(doc, "baseline_imaging.date") == "2025-01-20"
    assert "DATA.NO_BASELINE_IMAGING" in ids(doc)


def test_no_baseline_imaging_not_when_imaging_on_first_cycle_day() -> None:
    data = build(imaging=[scan("2025-01-20", ONE)], treatments=cycles("2025-01-20", 2))
    assert "DATA.NO_BASELINE_IMAGING" not in ids(run(data))


def test_lesion_count_largest_bilobar_segment1() -> None:
    lesions = [
        lesion("L1", 32, 6),
        lesion("L2", 0, 2),
        lesion("L3", 20, 3, "resected"),
        lesion("L4", 18, 4, "ablated"),
        lesion("L5", 12, 1),
    ]
    doc = run(build(imaging=[scan("2025-01-06", lesions)]))
    assert fact(doc, "lesion_count") == 2
    assert fact(doc, "largest_diameter_mm") == 32
    assert fact(doc, "bilobar") is False  # segment 1 counts for neither
    # TBS = sqrt(3.2² + 2²) = 3.77
    assert fact(doc, "tumor_burden_score") == pytest.approx(3.77)


def test_bilobar_true_segments_4_and_5() -> None:
    doc = run(build(imaging=[scan("2025-01-06", [lesion("L1", 32, 4), lesion("L2", 12, 5)])]))
    assert fact(doc, "bilobar") is True


def test_tbs_baseline_and_current() -> None:
    data = build(
        imaging=[
            scan("2025-01-06", [lesion("L1", 28), lesion("L2", 10, 7)]),
            scan("2025-02-25", [lesion("L1", 20), lesion("L2", 0, 7)]),
        ],
        treatments=cycles("2025-01-07", 3),
    )
    doc = run(data)
    assert fact(doc, "tumor_burden_score_baseline") == pytest.approx(3.44)  # √(7.84+4)
    assert fact(doc, "tumor_burden_score") == pytest.approx(2.24)  # √(4+1)


# ------------------------------------------------------------------------------------------
# CEA


def test_cea_baseline_latest_change() -> None:
    data = build(
        labs=[
            {"date": "2025-01-02", "cea_ng_ml": 50},
            {"date": "2025-01-20", "cea_ng_ml": 40},
            {"date": "2025-02-20", "cea_ng_ml": 30},
            {"date": "2025-03-05", "cea_ng_ml": 1},
        ],
        treatments=cycles("2025-01-20", 3),
    )
    doc = run(data)
    assert fact(doc, "cea_baseline") == 40
    assert fact(doc, "cea_latest") == 30
    assert fact(doc, "cea_change_percent") == -25.0


def test_cea_baseline_first_of_episode_without_systemic() -> None:
    data = build(
        labs=[{"date": "2025-01-02", "cea_ng_ml": 50}, {"date": "2025-02-20", "cea_ng_ml": 45}]
    )
    doc = run(data)
    assert fact(doc, "cea_baseline") == 50
    assert fact(doc, "cea_change_percent") == -10.0


def test_cea_null_not_zero_without_labs() -> None:
    doc = run(build(labs=[]))
    assert fact(doc, "cea_baseline") is None
    assert fact(doc, "cea_latest") is None
    assert fact(doc, "cea_change_percent") is None


# ------------------------------------------------------------------------------------------
# chemotherapy exposure


@pytest.mark.parametrize(
    ("regimen", "n", "weeks", "extensive"),
    [
        ("folfox", 6, 12.0, False),  # (70 + 14) / 7
        ("folfox", 7, 14.0, True),  # 7 cycles > 6
        ("capox", 4, 12.0, False),  # (63 + 21) / 7, default 21-day length
        ("capox", 5, 15.0, True),  # weeks 15 > 12 with only 5 cycles
    ],
)
def test_preoperative_weeks_and_extensive(
    regimen: str, n: int, weeks: float, extensive: bool
) -> None:
    data = build(
        treatments=cycles("2024-10-01", n, regimen, every=None), imaging=[scan("2024-09-30", ONE)]
    )
    doc = run(data)
    assert fact(doc, "chemotherapy.preoperative_cycles") == n
    assert fact(doc, "chemotherapy.preoperative_weeks") == weeks
    assert fact(doc, "extensive_chemotherapy") is extensive


def test_preoperative_settings_and_drug_counts() -> None:
    data = build(
        treatments=[
            *cycles("2024-10-01", 2, "folfoxiri", setting="palliative"),
            *cycles(
                "2024-11-01", 1, "capiri", setting="conversion", biologic="encorafenib_cetuximab"
            ),
            *cycles("2024-12-01", 3, "folfox", setting="adjuvant"),
        ],
        imaging=[scan("2024-09-30", ONE)],
    )
    doc = run(data)
    assert fact(doc, "chemotherapy.preoperative_cycles") == 3
    # oxaliplatin_cycles / irinotecan_cycles: every cycle of the episode (no setting filter)
    assert fact(doc, "chemotherapy.oxaliplatin_cycles") == 5
    assert fact(doc, "chemotherapy.irinotecan_cycles") == 3
    assert fact(doc, "chemotherapy.first_cycle_date") == "2024-10-01"
    assert fact(doc, "chemotherapy.last_cycle_date") == "2024-12-29"
    assert fact(doc, "chemotherapy.anti_egfr_given") is True
    assert fact(doc, "chemotherapy.immunotherapy_given") is False


@pytest.mark.parametrize(("gap", "on"), [(35, True), (36, False)])
def test_on_treatment_window(gap: int, on: bool) -> None:
    data = build(treatments=cycles("2025-01-06", 1), imaging=[scan("2025-01-06", ONE)])
    doc = run(data, d("2025-01-06", gap))
    assert fact(doc, "chemotherapy.on_treatment") is on


def test_on_treatment_counts_immunotherapy() -> None:
    data = build(treatments=[immuno("2025-02-20")], molecular={"mmr": "deficient"})
    doc = run(data)
    assert fact(doc, "chemotherapy.on_treatment") is True
    assert fact(doc, "chemotherapy.immunotherapy_given") is True


# ------------------------------------------------------------------------------------------
# APRI, FLR, PVE, major hepatectomy, dates


def test_apri_latest_complete_lab() -> None:
    data = build(
        labs=[
            {
                "date": "2025-01-06",
                "cea_ng_ml": 3,
                "ast_u_l": 46,
                "ast_uln_u_l": 40,
                "platelets_10e9_l": 118,
            },
            {"date": "2025-02-01", "ast_u_l": 90, "ast_uln_u_l": 40},
        ]
    )
    assert fact(run(data), "apri") == pytest.approx(0.97)


def test_flr_derived_from_volumes_beats_plan() -> None:
    data = build(
        imaging=[scan("2025-01-06", ONE, total_liver_volume_ml=1620, flr_volume_ml=421)],
        plan={"planned_flr_percent": 40},
    )
    doc = run(data)
    assert fact(doc, "flr.measured_percent") == 26.0
    assert fact(doc, "flr.required_percent") == 20
    assert fact(doc, "flr.basis") == "normal"


def test_flr_percent_beats_volumes_and_plan_fallback() -> None:
    data = build(
        imaging=[
            scan("2025-01-06", ONE, total_liver_volume_ml=1000, flr_volume_ml=300, flr_percent=28)
        ]
    )
    assert fact(run(data), "flr.measured_percent") == 28
    assert fact(run(build(plan={"planned_flr_percent": 25})), "flr.measured_percent") == 25
    assert fact(run(build()), "flr.measured_percent") is None


@pytest.mark.parametrize(
    ("background", "required", "basis"),
    [
        ("cirrhosis", 40, "cirrhosis"),
        ("steatosis", 30, "injured_liver"),
        ("steatohepatitis", 30, "injured_liver"),
        ("normal", 20, "normal"),
    ],
)
def test_flr_required_basis(background: str, required: int, basis: str) -> None:
    doc = run(build(patient={"liver_background": background}))
    assert fact(doc, "flr.required_percent") == required
    assert fact(doc, "flr.basis") == basis


def test_flr_extensive_chemotherapy_basis_and_finding() -> None:
    data = build(
        treatments=cycles("2024-10-01", 7),
        imaging=[scan("2024-09-30", ONE)],
        plan={"planned_flr_percent": 26, "intent": "palliative"},
    )
    doc = run(data)
    assert fact(doc, "flr.required_percent") == 30
    assert fact(doc, "flr.basis") == "extensive_chemotherapy"
    hit = find(doc, "SURGERY.FLR_BELOW_REQUIRED")
    assert hit is not None and hit["severity"] == "critical"
    assert hit["values"]["flr_percent"] == 26 and hit["values"]["required_percent"] == 30
    assert hit["values"]["basis"] == "extensive_chemotherapy"
    assert "26" in hit["message"] and "30" in hit["message"]


def test_flr_equal_to_required_is_enough() -> None:
    doc = run(build(patient={"liver_background": "steatosis"}, plan={"planned_flr_percent": 30}))
    assert "SURGERY.FLR_BELOW_REQUIRED" not in ids(doc)


def _pve_case(after_percent: float | None, after_date: str = "2025-02-07") -> dict[str, Any]:
    imaging = [scan("2025-01-06", ONE, flr_percent=20)]
    if after_percent is not None:
        imaging.append(scan(after_date, ONE, "ct", flr_percent=after_percent))
    return build(treatments=[proc("2025-01-10", "portal_vein_embolization")], imaging=imaging)


def test_pve_kinetics_and_low_growth() -> None:
    doc = run(_pve_case(26))  # 28 days = 4.0 weeks, +6.0 pp → 1.5 %/week
    assert fact(doc, "pve.date") == "2025-01-10"
    assert fact(doc, "pve.flr_before_percent") == 20
    assert fact(doc, "pve.flr_after_percent") == 26
    assert fact(doc, "pve.degree_of_hypertrophy") == 6.0
    assert fact(doc, "pve.weeks") == 4.0
    assert fact(doc, "pve.kinetic_growth_rate") == 1.5
    hit = find(doc, "SURGERY.PVE_LOW_GROWTH")
    assert hit is not None and hit["values"]["kinetic_growth_rate"] == 1.5
    assert "TIMING.PVE_REASSESSMENT" not in ids(doc)


def test_pve_growth_exactly_threshold_is_sufficient() -> None:
    doc = run(_pve_case(28))  # 8.0 / 4.0 = 2.0, not < 2.0
    assert fact(doc, "pve.kinetic_growth_rate") == 2.0
    assert "SURGERY.PVE_LOW_GROWTH" not in ids(doc)


def test_pve_uses_first_measure_after() -> None:
    data = _pve_case(26)
    data["imaging"].append(scan("2025-02-20", ONE, "ct", flr_percent=40))
    assert fact(run(data), "pve.flr_after_percent") == 26


@pytest.mark.parametrize(("days", "fires"), [(21, True), (20, False)])
def test_pve_reassessment(days: int, fires: bool) -> None:
    doc = run(_pve_case(None), d("2025-01-10", days))
    assert fact(doc, "pve.flr_after_percent") is None
    assert fact(doc, "pve.kinetic_growth_rate") is None
    assert ("TIMING.PVE_REASSESSMENT" in ids(doc)) is fires


def test_pve_null_without_pve() -> None:
    assert fact(run(build()), "pve") is None


@pytest.mark.parametrize(("segments", "major"), [([5, 6, 7], True), ([6, 7], False), (None, None)])
def test_major_hepatectomy(segments: list[int] | None, major: bool | None) -> None:
    doc = run(build(plan={"segments_to_resect": segments, "resectability": "unknown"}))
    assert fact(doc, "major_hepatectomy") is major
    assert ("DATA.FLR_NOT_MEASURED" in ids(doc)) is bool(major)


def test_flr_not_measured_silenced_by_planned_flr() -> None:
    doc = run(build(plan={"segments_to_resect": [5, 6, 7], "planned_flr_percent": 45}))
    assert "DATA.FLR_NOT_MEASURED" not in ids(doc)


def test_earliest_safe_surgery_date() -> None:
    # last cycle 2025-02-03 (+28 = 03-03); last bevacizumab 2025-02-03 (+42 = 03-17)
    data = build(treatments=cycles("2025-01-06", 3, biologic="bevacizumab"))
    doc = run(data)
    assert fact(doc, "chemotherapy.last_bevacizumab_date") == "2025-02-03"
    assert fact(doc, "earliest_safe_surgery_date") == "2025-03-17"
    data = build(
        treatments=[*cycles("2025-01-06", 1, biologic="bevacizumab"), *cycles("2025-02-03", 2)]
    )
    # bev 01-06 + 42 = 02-17; last cycle 02-17 + 28 = 03-17
    assert fact(run(data), "earliest_safe_surgery_date") == "2025-03-17"


# ------------------------------------------------------------------------------------------
# restaging


def _restaging(extra_imaging: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return build(
        imaging=[scan("2025-01-06", ONE), *(extra_imaging or [])],
        treatments=cycles("2025-01-20", 8),
    )


def test_next_restaging_due_from_first_cycle() -> None:
    doc = run(_restaging(), "2025-02-20")
    assert fact(doc, "next_restaging_due") == "2025-03-17"  # 01-20 + 56


def test_next_restaging_due_from_current_imaging() -> None:
    doc = run(_restaging([scan("2025-02-24", ONE)]), "2025-03-01")
    assert fact(doc, "next_restaging_due") == "2025-04-21"  # 02-24 + 56


def test_next_restaging_due_null_off_treatment() -> None:
    assert fact(run(build()), "next_restaging_due") is None


@pytest.mark.parametrize(
    ("as_of", "overdue", "soon"),
    [
        ("2025-03-02", False, False),  # 15 days before due
        ("2025-03-03", False, True),  # 14 days
        ("2025-03-17", False, True),  # due today
        ("2025-03-18", True, False),  # one day late
    ],
)
def test_restaging_overdue_and_soon(as_of: str, overdue: bool, soon: bool) -> None:
    doc = run(_restaging(), as_of)
    assert ("TIMING.RESTAGING_OVERDUE" in ids(doc)) is overdue
    assert ("TIMING.RESTAGING_DUE_SOON" in ids(doc)) is soon


# ------------------------------------------------------------------------------------------
# scores


def test_fong_all_points() -> None:
    data = build(
        primary={"n": "n1a", "resection_date": None},
        imaging=[scan("2025-01-06", [lesion("L1", 51), lesion("L2", 12)])],
        labs=[{"date": "2025-01-06", "cea_ng_ml": 200.1}],
    )
    doc = run(data)
    assert fact(doc, "fong_crs.score") == 5
    assert fact(doc, "fong_crs.risk") == "high"
    assert fact(doc, "fong_crs.missing") == []


def test_fong_boundaries_zero() -> None:
    data = build(
        imaging=[scan("2025-01-06", [lesion("L1", 50)])],
        labs=[{"date": "2025-01-06", "cea_ng_ml": 200}],
    )
    doc = run(data)
    assert fact(doc, "fong_crs.score") == 0
    assert fact(doc, "fong_crs.risk") == "low"


def test_fong_dfi_under_12_months() -> None:
    doc = run(
        build(
            primary={"resection_date": "2024-02-01"}, liver_metastases_diagnosis_date="2025-01-06"
        )
    )  # 340 d = 11.2
    assert fact(doc, "fong_crs.score") == 1


def test_fong_missing_input_gives_null_score_with_known_points() -> None:
    doc = run(build(labs=[]))
    assert fact(doc, "fong_crs.score") is None
    assert len(fact(doc, "fong_crs.missing")) == 1
    assert len(fact(doc, "fong_crs.points")) == 4
    hit = find(doc, "DATA.SCORE_INCOMPLETE")
    assert hit is not None and hit["severity"] == "info"


def test_fong_high_risk_rule_at_threshold() -> None:
    # node-positive 1, synchronous 1, two lesions 1, largest 32 0, CEA 3 0 → 3
    data = build(
        primary={"n": "n1b"},
        liver_metastases_diagnosis_date="2022-01-20",
        imaging=[scan("2025-01-06", [lesion("L1", 32), lesion("L2", 12, 7)])],
    )
    doc = run(data)
    assert fact(doc, "fong_crs.score") == 3
    hit = find(doc, "SCORE.FONG_HIGH_RISK")
    assert hit is not None and "3" in hit["message"]


def test_game_score_points() -> None:
    # KRAS mutant 1, CEA 20 1, N+ 1, TBS √(3.2²+1)=3.35 → 1, extrahepatic 2 → 6
    data = build(
        molecular={"kras": "mutant"},
        primary={"n": "n1a"},
        labs=[{"date": "2025-01-06", "cea_ng_ml": 20}],
        extrahepatic_disease=[{"site": "lung", "detected_on": "2025-01-06"}],
    )
    doc = run(data)
    assert fact(doc, "game_score.score") == 6
    assert fact(doc, "game_score.risk") == "high"


@pytest.mark.parametrize(
    ("mm", "count", "cea", "score", "risk"),
    [
        (28, 1, 19.9, 0, "low"),  # TBS 2.97 → 0
        (32, 1, 19.9, 1, "low"),  # TBS 3.35 → 1
        (32, 9, 20, 3, "intermediate"),  # TBS 9.56 → 2, CEA 1
    ],
)
def test_game_score_tbs_and_cea(mm: float, count: int, cea: float, score: int, risk: str) -> None:
    lesions = [lesion("L1", mm)] + [lesion(f"M{i}", 10, 7) for i in range(count - 1)]
    data = build(
        imaging=[scan("2025-01-06", lesions)], labs=[{"date": "2025-01-06", "cea_ng_ml": cea}]
    )
    doc = run(data)
    assert fact(doc, "game_score.score") == score
    assert fact(doc, "game_score.risk") == risk


def test_game_needs_kras_mcs_uses_ras() -> None:
    doc = run(
        build(
            molecular={"kras": None, "nras": "mutant"},
            imaging=[scan("2025-01-06", [lesion("L1", 51)])],
        )
    )
    assert fact(doc, "game_score.score") is None
    assert fact(doc, "modified_clinical_score.score") == 2
    assert fact(doc, "modified_clinical_score.risk") == "medium"


def test_modified_clinical_score_high() -> None:
    doc = run(
        build(
            molecular={"kras": "mutant"},
            primary={"n": "n2a"},
            imaging=[scan("2025-01-06", [lesion("L1", 51)])],
        )
    )
    assert fact(doc, "modified_clinical_score.score") == 3
    assert fact(doc, "modified_clinical_score.risk") == "high"


# ------------------------------------------------------------------------------------------
# RECIST


def _recist(
    baseline: list[dict[str, Any]],
    *later: tuple[str, list[dict[str, Any]], dict],
    treatments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    imaging = [scan("2025-01-06", baseline)]
    imaging += [scan(when, lesions, "mri", **extra) for when, lesions, extra in later]
    return build(imaging=imaging, treatments=treatments or cycles("2025-01-07", 4))


def test_recist_targets_two_largest_measurable() -> None:
    base = [lesion("L1", 30), lesion("L2", 25, 7), lesion("L3", 12, 2), lesion("L4", 8, 3)]
    later = [lesion("L1", 20), lesion("L2", 15, 7), lesion("L3", 12, 2), lesion("L4", 8, 3)]
    doc = run(_recist(base, ("2025-02-25", later, {})))
    assert len(fact(doc, "recist")) == 1
    assert fact(doc, "recist.0.date") == "2025-02-25"
    assert fact(doc, "recist.0.sum_mm") == 35
    assert fact(doc, "recist.0.change_from_baseline_percent") == -36.4
    assert fact(doc, "recist.0.change_from_nadir_percent") == -36.4
    assert fact(doc, "recist.0.response") == "PR"
    assert fact(doc, "current_response") == "PR"
    assert fact(doc, "best_response") == "PR"


def test_recist_marked_targets_win() -> None:
    base = [lesion("L1", 30), lesion("L2", 25, 7, target=True)]
    later = [lesion("L1", 30), lesion("L2", 10, 7)]
    doc = run(_recist(base, ("2025-02-25", later, {})))
    assert fact(doc, "recist.0.sum_mm") == 10
    assert fact(doc, "recist.0.response") == "PR"


def test_recist_marked_target_below_10mm() -> None:
    # 1.1.0 (RECIST 1.1): a marked target must be measurable (≥ 10 mm); the 8 mm mark is
    # followed as a non-target and DATA.TARGET_NOT_MEASURABLE says so.
    base = [lesion("L1", 20, target=True), lesion("L2", 8, 7, target=True)]
    later = [lesion("L1", 20), lesion("L2", 8, 7)]
    doc = run(_recist(base, ("2025-02-25", later, {})))
    assert fact(doc, "recist.0.sum_mm") == 20
    assert fact(doc, "recist_baseline.non_target_lesions") == ["L2"]
    assert "DATA.TARGET_NOT_MEASURABLE" in ids(doc)


@pytest.mark.parametrize(("mm", "response"), [(24, "SD"), (25, "PD")])
def test_recist_pd_needs_5mm(mm: float, response: str) -> None:
    doc = run(_recist([lesion("L1", 20)], ("2025-02-25", [lesion("L1", mm)], {})))
    assert fact(doc, "recist.0.response") == response


@pytest.mark.parametrize(("mm", "response"), [(59, "SD"), (60, "PD")])
def test_recist_pd_needs_20_percent(mm: float, response: str) -> None:
    doc = run(_recist([lesion("L1", 50)], ("2025-02-25", [lesion("L1", mm)], {})))
    assert fact(doc, "recist.0.response") == response


def test_recist_pd_against_nadir() -> None:
    doc = run(
        _recist(
            [lesion("L1", 50)],
            ("2025-02-01", [lesion("L1", 40)], {}),
            ("2025-02-25", [lesion("L1", 48)], {}),
        )
    )
    assert fact(doc, "recist.0.response") == "SD"
    assert fact(doc, "recist.1.response") == "PD"
    assert fact(doc, "recist.1.change_from_baseline_percent") == -4.0
    assert fact(doc, "recist.1.change_from_nadir_percent") == 20.0
    assert fact(doc, "current_response") == "PD"
    assert fact(doc, "best_response") == "SD"
    hit = find(doc, "RESPONSE.PROGRESSION_ON_CHEMOTHERAPY")
    assert hit is not None and hit["severity"] == "critical"


@pytest.mark.parametrize(("mm", "response"), [(35, "PR"), (35.1, "SD")])
def test_recist_pr_boundary(mm: float, response: str) -> None:
    doc = run(_recist([lesion("L1", 50)], ("2025-02-25", [lesion("L1", mm)], {})))
    assert fact(doc, "recist.0.response") == response


def test_recist_new_lesions_and_non_target_progression_are_pd() -> None:
    doc = run(
        _recist(
            [lesion("L1", 50)],
            ("2025-02-01", [lesion("L1", 20)], {"new_lesions": True}),
            ("2025-02-25", [lesion("L1", 20)], {"non_target_progression": True}),
        )
    )
    assert fact(doc, "recist.0.response") == "PD"
    assert fact(doc, "recist.1.response") == "PD"


def test_recist_absent_target_is_ne() -> None:
    base = [lesion("L1", 30), lesion("L2", 20, 7)]
    doc = run(_recist(base, ("2025-02-25", [lesion("L1", 10)], {})))
    assert fact(doc, "recist.0.response") == "NE"
    assert fact(doc, "current_response") == "NE"
    assert fact(doc, "best_response") is None


def test_recist_absent_target_with_new_lesions() -> None:
    # 1.1.0 (RECIST 1.1): new lesions are PD in every case, also with a target absent.
    base = [lesion("L1", 30), lesion("L2", 20, 7)]
    doc = run(_recist(base, ("2025-02-25", [lesion("L1", 10)], {"new_lesions": True})))
    assert fact(doc, "recist.0.response") == "PD"


def test_recist_no_measurable_baseline_reads_nn_then_pd() -> None:
    # 1.1.0 (RECIST Table 2): non-target disease only reads NN; new lesions are PD.
    doc = run(
        _recist(
            [lesion("L1", 8)],
            ("2025-02-01", [lesion("L1", 6)], {}),
            ("2025-02-25", [lesion("L1", 9)], {"new_lesions": True}),
        )
    )
    assert fact(doc, "recist.0.response") == "NN"
    assert fact(doc, "recist.1.response") == "PD"


def test_recist_disappeared_target_counts_zero() -> None:
    base = [lesion("L1", 30), lesion("L2", 20, 7)]
    doc = run(_recist(base, ("2025-02-25", [lesion("L1", 30), lesion("L2", 0, 7)], {})))
    assert fact(doc, "recist.0.sum_mm") == 30
    assert fact(doc, "recist.0.response") == "PR"  # 30 ≤ 35
    assert "RESPONSE.DISAPPEARING_METASTASIS" in ids(doc)


def test_recist_cr_needs_non_targets_gone() -> None:
    base = [lesion("L1", 30), lesion("L2", 20, 7), lesion("L3", 12, 2)]
    gone = [lesion("L1", 0), lesion("L2", 0, 7)]
    doc = run(_recist(base, ("2025-02-25", [*gone, lesion("L3", 5, 2)], {})))
    assert fact(doc, "recist.0.response") == "PR"
    doc = run(_recist(base, ("2025-02-25", [*gone, lesion("L3", 0, 2)], {})))
    assert fact(doc, "recist.0.response") == "CR"
    assert "RESPONSE.COMPLETE_RADIOLOGICAL_RESPONSE" in ids(doc)
    assert "RESPONSE.DISAPPEARING_METASTASIS" not in ids(doc)


def test_recist_stops_at_first_liver_directed_procedure() -> None:
    data = _recist(
        [lesion("L1", 50)],
        ("2025-02-01", [lesion("L1", 30)], {}),
        ("2025-02-25", [lesion("L1", 80)], {}),
        treatments=[
            *cycles("2025-01-07", 2),
            proc("2025-02-10", "thermal_ablation", lesion_ids=["L1"]),
        ],
    )
    doc = run(data)
    assert [t["date"] for t in fact(doc, "recist")] == ["2025-02-01"]
    assert fact(doc, "current_response") is None
    assert fact(doc, "best_response") == "PR"


@pytest.mark.parametrize(
    ("kind", "cuts"),
    [
        ("tace", True),
        ("debiri", True),
        ("radioembolization", True),
        ("two_stage_first", True),
        ("portal_vein_embolization", False),
        ("fiducial_marking", False),
        ("hepatic_artery_infusion", False),
    ],
)
def test_recist_window_procedures(kind: str, cuts: bool) -> None:
    data = _recist(
        [lesion("L1", 50)],
        ("2025-02-25", [lesion("L1", 30)], {}),
        treatments=[*cycles("2025-01-07", 2), proc("2025-02-10", kind)],
    )
    assert len(fact(run(data), "recist")) == (0 if cuts else 1)


def test_morphologic_response_least_favourable() -> None:
    base = [lesion("L1", 30, morphology_group=3), lesion("L2", 20, 7, morphology_group=3)]
    later = [lesion("L1", 25, morphology_group=1), lesion("L2", 18, 7, morphology_group=2)]
    doc = run(_recist(base, ("2025-02-25", later, {})))
    assert fact(doc, "morphologic_response") == "incomplete"
    later = [lesion("L1", 25, morphology_group=1), lesion("L2", 18, 7, morphology_group=3)]
    assert fact(run(_recist(base, ("2025-02-25", later, {}))), "morphologic_response") == "none"
    later = [lesion("L1", 25, morphology_group=1), lesion("L2", 18, 7)]
    assert fact(run(_recist(base, ("2025-02-25", later, {}))), "morphologic_response") == "optimal"
    assert fact(run(build()), "morphologic_response") is None


# ------------------------------------------------------------------------------------------
# DATA / REGIMEN rules


def test_molecular_incomplete() -> None:
    assert "DATA.MOLECULAR_INCOMPLETE" in ids(run(build(molecular={"braf": None})))
    assert "DATA.MOLECULAR_INCOMPLETE" in ids(run(build(molecular={"mmr": None, "msi": None})))
    assert "DATA.MOLECULAR_INCOMPLETE" in ids(run(build(molecular=None)))


def test_anti_egfr_rules() -> None:
    doc = run(
        build(
            molecular={"kras": "mutant"},
            plan={"planned_biologic": "cetuximab", "resectability": "resectable"},
        )
    )
    assert {"REGIMEN.ANTI_EGFR_RAS_MUTANT", "REGIMEN.ANTI_EGFR_RESECTABLE"} <= ids(doc)
    doc = run(
        build(
            molecular={"braf": "v600e"}, treatments=cycles("2025-01-07", 2, biologic="panitumumab")
        )
    )
    assert {"REGIMEN.ANTI_EGFR_BRAF_V600E", "REGIMEN.BRAF_V600E"} <= ids(doc)
    doc = run(
        build(molecular={"braf": "v600e"}, plan={"planned_biologic": "encorafenib_cetuximab"})
    )
    assert "REGIMEN.ANTI_EGFR_BRAF_V600E" not in ids(doc)
    assert "REGIMEN.BRAF_V600E" in ids(doc)
    doc = run(build(molecular={"braf": None}, plan={"planned_biologic": "cetuximab"}))
    assert "REGIMEN.ANTI_EGFR_UNTESTED" in ids(doc)
    doc = run(build(primary={"site": "hepatic_flexure"}, plan={"planned_biologic": "panitumumab"}))
    assert "REGIMEN.ANTI_EGFR_RIGHT_SIDED" in ids(doc)
    doc = run(build(primary={"site": "splenic_flexure"}, plan={"planned_biologic": "panitumumab"}))
    assert "REGIMEN.ANTI_EGFR_RIGHT_SIDED" not in ids(doc)


def test_immunotherapy_rules() -> None:
    dmmr = {"mmr": None, "msi": "msi_high"}
    assert "REGIMEN.IMMUNOTHERAPY_DMMR" in ids(run(build(molecular=dmmr)))
    assert "REGIMEN.IMMUNOTHERAPY_DMMR" not in ids(
        run(build(molecular=dmmr, plan={"planned_immunotherapy": "pembrolizumab"}))
    )
    assert "REGIMEN.IMMUNOTHERAPY_DMMR" not in ids(
        run(build(molecular=dmmr, treatments=[immuno("2025-02-01")]))
    )
    assert "REGIMEN.IMMUNOTHERAPY_PMMR" in ids(
        run(build(treatments=[immuno("2025-02-01", "nivolumab")]))
    )
    assert "REGIMEN.IMMUNOTHERAPY_PMMR" in ids(run(build(plan={"planned_immunotherapy": "other"})))


@pytest.mark.parametrize(
    ("weight", "intent", "background", "fires"),
    [
        (100, "curative", "normal", False),  # BMI 25.0, not > 25
        (100.4, "curative", "normal", True),  # BMI 25.1
        (100.4, "palliative", "normal", False),
        (100.4, None, "normal", True),  # absent intent = curative
        (70, "curative", "steatosis", True),
        (70, "curative", "steatohepatitis", True),
    ],
)
def test_irinotecan_steatohepatitis(
    weight: float, intent: str | None, background: str, fires: bool
) -> None:
    data = build(
        patient={"height_cm": 200, "weight_kg": weight, "liver_background": background},
        plan={"planned_regimen": "folfiri", "intent": intent},
    )
    hit = find(run(data), "REGIMEN.IRINOTECAN_STEATOHEPATITIS")
    assert (hit is not None) is fires


def test_irinotecan_given_in_episode() -> None:
    data = build(
        patient={"liver_background": "steatosis"},
        treatments=cycles("2025-01-07", 1, "capiri", every=21),
    )
    assert "REGIMEN.IRINOTECAN_STEATOHEPATITIS" in ids(run(data))


@pytest.mark.parametrize(
    ("n", "intent", "fires"), [(6, None, True), (5, None, False), (6, "palliative", False)]
)
def test_oxaliplatin_sos(n: int, intent: str | None, fires: bool) -> None:
    data = build(
        treatments=cycles("2024-11-01", n, "capox", every=21),
        imaging=[scan("2024-10-30", ONE)],
        plan={"intent": intent},
        labs=[
            {
                "date": "2025-02-01",
                "cea_ng_ml": 3,
                "ast_u_l": 46,
                "ast_uln_u_l": 40,
                "platelets_10e9_l": 118,
            }
        ],
    )
    hit = find(run(data), "REGIMEN.OXALIPLATIN_SOS")
    assert (hit is not None) is fires
    if hit:
        assert hit["values"]["oxaliplatin_cycles"] == 6
        assert "0.97" in hit["message"]


# ------------------------------------------------------------------------------------------
# PATHWAY rules


def _lesions(n: int, segments: list[int] | None = None) -> list[dict[str, Any]]:
    segs = segments or [5, 6, 7, 8]
    return [lesion(f"L{i + 1}", 20, segs[i % len(segs)]) for i in range(n)]


def test_upfront_resection_at_4_lesions() -> None:
    data = build(imaging=[scan("2025-01-06", _lesions(4))], plan={"resectability": "resectable"})
    doc = run(data)
    assert "PATHWAY.UPFRONT_RESECTION" in ids(doc)
    assert "PATHWAY.PERIOPERATIVE_CHEMOTHERAPY" not in ids(doc)


def test_perioperative_at_5_lesions() -> None:
    data = build(imaging=[scan("2025-01-06", _lesions(5))], plan={"resectability": "resectable"})
    doc = run(data)
    assert "PATHWAY.UPFRONT_RESECTION" not in ids(doc)
    assert "PATHWAY.PERIOPERATIVE_CHEMOTHERAPY" in ids(doc)


@pytest.mark.parametrize(
    "change",
    [
        {"imaging": [scan("2025-01-06", [lesion("L1", 32, 6), lesion("L2", 12, 3)])]},  # bilobar
        {"liver_metastases_diagnosis_date": "2022-01-20"},  # synchr.
        {"extrahepatic_disease": [{"site": "portocaval_nodes"}]},
        {
            "primary": {"n": "n1a"},
            "liver_metastases_diagnosis_date": "2022-06-01",
            "imaging": [scan("2025-01-06", [lesion("L1", 32), lesion("L2", 12)])],
        },  # Fong 3
    ],
)
def test_perioperative_reasons(change: dict[str, Any]) -> None:
    doc = run(build(plan={"resectability": "resectable"}, **change))
    assert "PATHWAY.PERIOPERATIVE_CHEMOTHERAPY" in ids(doc)
    # a synchronous solitary lesion (Fong 1) meets every UPFRONT condition as well: both fire
    upfront = "liver_metastases_diagnosis_date" in change and "primary" not in change
    assert ("PATHWAY.UPFRONT_RESECTION" in ids(doc)) is upfront


def test_upfront_needs_known_fong_no_ehd_no_therapy_curative() -> None:
    plan = {"resectability": "resectable"}
    assert "PATHWAY.UPFRONT_RESECTION" not in ids(run(build(plan=plan, labs=[])))
    assert "PATHWAY.UPFRONT_RESECTION" not in ids(
        run(build(plan=plan, extrahepatic_disease=[{"site": "lung"}]))
    )
    assert "PATHWAY.UPFRONT_RESECTION" not in ids(
        run(build(plan=plan, treatments=cycles("2025-01-07", 1)))
    )
    assert "PATHWAY.UPFRONT_RESECTION" not in ids(run(build(plan={**plan, "intent": "palliative"})))
    assert "PATHWAY.UPFRONT_RESECTION" in ids(run(build(plan=plan)))


def test_conversion_chemotherapy() -> None:
    assert "PATHWAY.CONVERSION_CHEMOTHERAPY" in ids(
        run(build(plan={"resectability": "borderline"}))
    )
    assert "PATHWAY.CONVERSION_CHEMOTHERAPY" in ids(
        run(build(plan={"resectability": "unresectable"}))
    )
    assert "PATHWAY.CONVERSION_CHEMOTHERAPY" not in ids(
        run(build(plan={"resectability": "unresectable", "intent": "palliative"}))
    )
    assert "PATHWAY.CONVERSION_CHEMOTHERAPY" not in ids(
        run(build(plan={"resectability": "unresectable"}, treatments=cycles("2025-01-07", 1)))
    )


def test_synchronous_sequence() -> None:
    prim = {"resection_date": None}
    assert "PATHWAY.SYNCHRONOUS_SEQUENCE" in ids(run(build(primary=prim)))
    assert "PATHWAY.SYNCHRONOUS_SEQUENCE" in ids(
        run(build(primary=prim, plan={"sequence": "not_applicable"}))
    )
    assert "PATHWAY.SYNCHRONOUS_SEQUENCE" not in ids(
        run(build(primary=prim, plan={"sequence": "liver_first"}))
    )
    # synchronous but primary resected: no
    assert "PATHWAY.SYNCHRONOUS_SEQUENCE" not in ids(
        run(build(liver_metastases_diagnosis_date="2022-01-20"))
    )


def test_simultaneous_major_hepatectomy() -> None:
    assert "PATHWAY.SIMULTANEOUS_MAJOR_HEPATECTOMY" in ids(
        run(
            build(
                plan={
                    "sequence": "simultaneous",
                    "segments_to_resect": [4, 5, 6],
                    "planned_flr_percent": 50,
                }
            )
        )
    )
    assert "PATHWAY.SIMULTANEOUS_MAJOR_HEPATECTOMY" not in ids(
        run(build(plan={"sequence": "simultaneous", "segments_to_resect": [5, 6]}))
    )


@pytest.mark.parametrize(
    ("mm", "plan", "fires"),
    [
        (30, {"resectability": "borderline"}, True),
        (31, {"resectability": "borderline"}, False),
        (
            25,
            {
                "resectability": "resectable",
                "segments_to_resect": [5, 6, 7],
                "planned_flr_percent": 50,
            },
            True,
        ),
        # 1.1.0: a single 25 mm lesion is the COLLISION population (≤ 10 lesions ≤ 3 cm)
        (25, {"resectability": "resectable", "segments_to_resect": [6]}, True),
        (31, {"resectability": "resectable", "segments_to_resect": [6]}, False),
    ],
)
def test_ablation_option(mm: float, plan: dict[str, Any], fires: bool) -> None:
    doc = run(build(imaging=[scan("2025-01-06", [lesion("L1", mm)])], plan=plan))
    assert ("PATHWAY.ABLATION_OPTION" in ids(doc)) is fires


@pytest.mark.parametrize(("n", "fires"), [(3, True), (2, False)])
def test_transplant_referral_weeks(n: int, fires: bool) -> None:
    # 3 q14 cycles: (28 + 14) / 7 = 6.0 weeks ≥ 6; 2 cycles: 4.0
    # 1.1.0: the referral needs a documented CR/PR/SD/NN, so the case is restaged (SD)
    data = build(
        patient={"ecog": 1},
        plan={"resectability": "unresectable", "intent": "palliative"},
        treatments=cycles("2025-01-07", n),
        imaging=[scan("2025-01-06", ONE), scan("2025-02-25", ONE)],
    )
    assert ("PATHWAY.TRANSPLANT_REFERRAL" in ids(run(data))) is fires


def test_transplant_referral_exclusions() -> None:
    base = {
        "plan": {"resectability": "unresectable"},
        "treatments": cycles("2025-01-07", 3),
        "imaging": [scan("2025-01-06", ONE), scan("2025-02-25", ONE)],
    }
    # without a restaging there is no documented non-progression
    assert "PATHWAY.TRANSPLANT_REFERRAL" not in ids(
        run(build(**{**base, "imaging": [scan("2025-01-06", ONE)]}))
    )
    assert "PATHWAY.TRANSPLANT_REFERRAL" in ids(run(build(**base)))
    assert "PATHWAY.TRANSPLANT_REFERRAL" not in ids(run(build(**base, patient={"ecog": 2})))
    assert "PATHWAY.TRANSPLANT_REFERRAL" not in ids(run(build(**base, molecular={"braf": "v600e"})))
    assert "PATHWAY.TRANSPLANT_REFERRAL" not in ids(
        run(build(**base, primary={"resection_date": None}))
    )
    assert "PATHWAY.TRANSPLANT_REFERRAL" not in ids(
        run(build(**base, extrahepatic_disease=[{"site": "lung"}]))
    )


def test_repeat_hepatectomy() -> None:
    data = build(
        treatments=[proc("2024-06-01", "hepatectomy")],
        imaging=[scan("2025-01-06", ONE)],
        plan={"resectability": "borderline"},
    )
    assert "PATHWAY.REPEAT_HEPATECTOMY" in ids(run(data))
    data["plan"]["resectability"] = "unresectable"
    assert "PATHWAY.REPEAT_HEPATECTOMY" not in ids(run(data))


def test_extrahepatic_rules() -> None:
    two = [{"site": "lung"}, {"site": "bone"}]
    assert "PATHWAY.EXTRAHEPATIC_MULTIPLE_SITES" in ids(run(build(extrahepatic_disease=two)))
    same = [{"site": "lung"}, {"site": "lung"}]
    assert "PATHWAY.EXTRAHEPATIC_MULTIPLE_SITES" not in ids(run(build(extrahepatic_disease=same)))
    assert "PATHWAY.EXTRAHEPATIC_MULTIPLE_SITES" not in ids(
        run(build(extrahepatic_disease=two, plan={"intent": "palliative"}))
    )
    assert "PATHWAY.EXTRAHEPATIC_DISTANT_NODES" in ids(
        run(build(extrahepatic_disease=[{"site": "para_aortic_nodes"}]))
    )
    assert "PATHWAY.EXTRAHEPATIC_DISTANT_NODES" in ids(
        run(build(extrahepatic_disease=[{"site": "celiac_nodes"}]))
    )


@pytest.mark.parametrize(("n", "fires"), [(4, True), (3, False)])
def test_peritoneal_liver_limit(n: int, fires: bool) -> None:
    doc = run(
        build(
            extrahepatic_disease=[{"site": "peritoneum"}], imaging=[scan("2025-01-06", _lesions(n))]
        )
    )
    assert ("PATHWAY.PERITONEAL_LIVER_LIMIT" in ids(doc)) is fires


def test_extrahepatic_after_as_of_ignored() -> None:
    doc = run(
        build(
            extrahepatic_disease=[
                {"site": "lung", "detected_on": "2025-03-02"},
                {"site": "bone", "detected_on": "2025-03-02"},
            ]
        )
    )
    assert "PATHWAY.EXTRAHEPATIC_MULTIPLE_SITES" not in ids(doc)


# ------------------------------------------------------------------------------------------
# TIMING rules


@pytest.mark.parametrize(("planned", "fires"), [("2025-03-02", True), ("2025-03-03", False)])
def test_surgery_too_soon_after_chemotherapy(planned: str, fires: bool) -> None:
    data = build(treatments=cycles("2025-01-06", 3), plan={"planned_surgery_date": planned})
    hit = find(run(data), "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY")  # last 02-03 + 28
    assert (hit is not None) is fires
    if hit:
        assert "2025-03-03" in hit["message"]


@pytest.mark.parametrize(("planned", "fires"), [("2025-03-16", True), ("2025-03-17", False)])
def test_surgery_too_soon_after_bevacizumab(planned: str, fires: bool) -> None:
    data = build(
        treatments=cycles("2025-01-06", 3, biologic="bevacizumab"),
        plan={"planned_surgery_date": planned},
    )
    doc = run(data)
    assert ("TIMING.SURGERY_TOO_SOON_AFTER_BEVACIZUMAB" in ids(doc)) is fires
    assert "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY" not in ids(doc)


@pytest.mark.parametrize(
    ("plan", "fires"),
    [
        ({"resectability": "resectable"}, True),
        ({"resectability": "borderline"}, True),
        ({"resectability": "unresectable"}, False),
        ({"resectability": "resectable", "intent": "palliative"}, False),
    ],
)
def test_prolonged_preoperative_chemotherapy(plan: dict[str, Any], fires: bool) -> None:
    data = build(treatments=cycles("2024-11-01", 7), imaging=[scan("2024-10-30", ONE)], plan=plan)
    assert ("TIMING.PROLONGED_PREOPERATIVE_CHEMOTHERAPY" in ids(run(data))) is fires


def test_proceed_to_surgery() -> None:
    data = _recist(
        [lesion("L1", 50)],
        ("2025-02-25", [lesion("L1", 30)], {}),
        treatments=cycles("2025-01-07", 3),
    )
    data["plan"] = {"resectability": "resectable"}
    hit = find(run(data), "TIMING.PROCEED_TO_SURGERY")
    assert hit is not None and "2025-03-04" in hit["message"]  # 02-04 + 28
    data["plan"]["planned_surgery_date"] = "2025-03-20"
    assert "TIMING.PROCEED_TO_SURGERY" not in ids(run(data))


# ------------------------------------------------------------------------------------------
# RESPONSE rules


@pytest.mark.parametrize(
    ("size", "depth", "fires"), [(19, 5, True), (20, 10, False), (20, 11, True)]
)
def test_mark_lesions_at_risk(size: float, depth: float, fires: bool) -> None:
    data = build(
        imaging=[scan("2025-01-06", [lesion("L1", size, depth_mm=depth)])],
        treatments=cycles("2025-01-07", 4),
    )
    assert ("RESPONSE.MARK_LESIONS_AT_RISK" in ids(run(data))) is fires


def test_mark_lesions_fiducial_in_episode_only() -> None:
    small = [lesion("L1", 15)]
    data = build(
        imaging=[scan("2025-01-06", small)],
        treatments=[proc("2025-01-06", "fiducial_marking"), *cycles("2025-01-07", 4)],
    )
    assert "RESPONSE.MARK_LESIONS_AT_RISK" not in ids(run(data))
    data = build(
        imaging=[scan("2025-01-06", small)],
        treatments=[
            proc("2024-05-01", "fiducial_marking"),
            proc("2024-06-01", "hepatectomy"),
            *cycles("2025-01-07", 4),
        ],
    )
    assert "RESPONSE.MARK_LESIONS_AT_RISK" in ids(run(data))


def _cea(base: float, latest: float) -> dict[str, Any]:
    return build(
        labs=[
            {"date": "2025-01-06", "cea_ng_ml": base},
            {"date": "2025-02-20", "cea_ng_ml": latest},
        ],
        treatments=cycles("2025-01-07", 4),
    )


@pytest.mark.parametrize(
    ("base", "latest", "rule"),
    [
        (40, 37, "RESPONSE.CEA_FALLING"),  # −7.5 %
        (40, 37.1, "RESPONSE.CEA_NOT_FALLING"),  # −7.25 → −7.2 %
        (5.1, 6, "RESPONSE.CEA_NOT_FALLING"),
        (5.0, 9, None),  # baseline not > ULN
    ],
)
def test_cea_rules(base: float, latest: float, rule: str | None) -> None:
    found = ids(run(_cea(base, latest))) & {"RESPONSE.CEA_FALLING", "RESPONSE.CEA_NOT_FALLING"}
    assert found == ({rule} if rule else set())


def test_cea_rules_need_on_treatment() -> None:
    doc = run(_cea(40, 60), "2025-04-20")  # last cycle 02-18, 61 days ago
    assert not ids(doc) & {"RESPONSE.CEA_FALLING", "RESPONSE.CEA_NOT_FALLING"}


def test_cea_not_falling_single_sample() -> None:
    # 1.1.0: the CEA rules need an on-treatment sample; the baseline is never compared with
    # itself.  DATA.CEA_NOT_REMEASURED asks for the sample instead.
    data = build(labs=[{"date": "2025-01-06", "cea_ng_ml": 40}], treatments=cycles("2025-01-07", 4))
    doc = run(data)
    assert fact(doc, "cea_change_percent") == 0.0
    assert "RESPONSE.CEA_NOT_FALLING" not in ids(doc)
    assert "DATA.CEA_NOT_REMEASURED" in ids(doc)


def test_ct_only_restaging() -> None:
    data = build(
        imaging=[scan("2025-01-06", ONE), scan("2025-02-25", ONE, "ct")],
        treatments=cycles("2025-01-07", 4),
    )
    assert "RESPONSE.CT_ONLY_RESTAGING" in ids(run(data))
    data["imaging"].insert(1, scan("2025-02-01", ONE, "mri"))
    assert "RESPONSE.CT_ONLY_RESTAGING" not in ids(run(data))


def test_ct_only_restaging_after_adjuvant_cycles() -> None:
    # AMBIGUOUS: "current imaging after first cycle is ct, and no MRI since the first cycle";
    # `first_cycle_date` is a fact over every chemotherapy cycle of the episode (adjuvant
    # included).  Letter: fires after adjuvant cycles too.
    data = build(
        treatments=[
            proc("2024-10-01", "hepatectomy"),
            *cycles("2024-11-01", 4, setting="adjuvant"),
        ],
        imaging=[scan("2024-09-20", ONE), scan("2025-01-06", [lesion("L1", 0)], "ct")],
        labs=[],
    )
    assert "RESPONSE.CT_ONLY_RESTAGING" in ids(run(data))


# ------------------------------------------------------------------------------------------
# SURGERY rules


@pytest.mark.parametrize(
    ("outcome", "fires"),
    [
        ({"margin_status": "r1"}, True),
        ({"margin_status": "r0", "margin_mm": 0.9}, True),
        ({"margin_status": "r0", "margin_mm": 1.0}, False),
    ],
)
def test_r1_margin(outcome: dict[str, Any], fires: bool) -> None:
    data = build(
        treatments=[proc("2024-06-01", "hepatectomy")],
        surgery_outcomes=[{"date": "2024-06-01", "procedure": "hepatectomy", **outcome}],
    )
    assert ("SURGERY.R1_MARGIN" in ids(run(data))) is fires


def test_r1_margin_r2_letter() -> None:
    # R2 is SURGERY.R2_RESIDUAL_DISEASE, not R1_MARGIN.
    data = build(
        treatments=[proc("2024-06-01", "hepatectomy")],
        surgery_outcomes=[
            {"date": "2024-06-01", "procedure": "hepatectomy", "margin_status": "r2"}
        ],
    )
    assert "SURGERY.R1_MARGIN" not in ids(run(data))


def test_r1_margin_uses_latest_outcome() -> None:
    # 1.1.0: the latest *liver* resection decides; a later R0 colectomy says nothing of the
    # liver, so the R1 hepatectomy still fires.
    data = build(
        treatments=[proc("2024-06-01", "hepatectomy"), proc("2024-09-01", "colectomy")],
        surgery_outcomes=[
            {"date": "2024-06-01", "procedure": "hepatectomy", "margin_status": "r1"},
            {"date": "2024-09-01", "procedure": "colectomy", "margin_status": "r0", "margin_mm": 5},
        ],
    )
    assert "SURGERY.R1_MARGIN" in ids(run(data))


@pytest.mark.parametrize(("days", "fires"), [(84, True), (85, False)])
def test_adjuvant_discussion(days: int, fires: bool) -> None:
    data = build(treatments=[proc("2025-01-06", "hepatectomy")], imaging=[scan("2025-01-05", ONE)])
    assert ("SURGERY.ADJUVANT_DISCUSSION" in ids(run(data, d("2025-01-06", days)))) is fires


def test_adjuvant_discussion_not_after_chemotherapy() -> None:
    data = build(
        treatments=[
            proc("2025-01-06", "hepatectomy"),
            *cycles("2025-02-10", 1, setting="adjuvant"),
        ],
        imaging=[scan("2025-01-05", ONE)],
    )
    assert "SURGERY.ADJUVANT_DISCUSSION" not in ids(run(data))


# ------------------------------------------------------------------------------------------
# PVE across an operation (episode boundary)


def test_pve_before_hepatectomy_belongs_to_the_previous_episode() -> None:
    # AMBIGUOUS: `pve` is "for the latest portal vein embolisation ≤ as_of" — the spec scopes
    # only imaging, systemic therapy and CEA to the episode; procedures are not.  The reviewer
    # read it literally (the PVE before the hepatectomy is still reported).  CHANGED by the
    # lead's decision to keep the engine's episode handling (DECISIONS.md, "PVE"): after a
    # liver-clearing operation an earlier PVE no longer matters, so `pve` is null here.
    data = build(
        treatments=[
            proc("2024-05-01", "portal_vein_embolization"),
            proc("2024-06-20", "hepatectomy"),
        ],
        imaging=[
            scan("2024-04-20", ONE, flr_percent=22),
            scan("2024-05-29", ONE, flr_percent=30),
            scan("2024-12-01", [lesion("L5", 15)]),
        ],
    )
    doc = run(data)
    assert fact(doc, "episode_start") == "2024-06-21"
    assert fact(doc, "pve") is None
    assert "TIMING.PVE_REASSESSMENT" not in ids(doc)


# ------------------------------------------------------------------------------------------
# facts present, profile


def test_every_fact_present_even_when_null() -> None:
    doc = run(
        build(
            imaging=[], labs=[], molecular=None, primary=None, liver_metastases_diagnosis_date=None
        )
    )
    facts = doc["facts"]
    for key in SPEC_FACTS:
        assert key in facts, key
    for key in CHEMOTHERAPY_FACTS:
        assert key in facts["chemotherapy"], key
    for key in ("measured_percent", "required_percent", "basis"):
        assert key in facts["flr"], key
    for score in ("fong_crs", "game_score", "modified_clinical_score"):
        assert {"score", "points", "missing", "risk"} <= set(facts[score])
    assert facts["lesion_count"] is None and facts["apri"] is None
    assert facts["recist"] == []
    assert facts["presentation"] == "unknown"


def test_profile_defaults_match_spec_table() -> None:
    spec = PROFILE_DEFAULTS
    for key, value in spec.items():
        assert getattr(PROFILE, key) == value, key
        assert getattr(load_profile_text("", "empty"), key) == value, key


def test_profile_unknown_key_is_an_error_and_overrides_apply() -> None:
    with pytest.raises(InvalidInput):
        load_profile_text("chemo_washout_dayz = 30\n", "typo")
    custom = load_profile_text("chemo_washout_days = 30\n", "custom")
    data = build(treatments=cycles("2025-01-06", 3), plan={"planned_surgery_date": "2025-03-04"})
    case = case_from_dict(data, TODAY)
    assert "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY" not in ids(run(data))
    doc = evaluation_to_dict(evaluate(case, AS_OF, custom))
    assert "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY" in ids(doc)
    assert doc["profile"]["name"] == "custom"


# ------------------------------------------------------------------------------------------
# lesion edge cases


def test_lesion_without_diameter_not_counted() -> None:
    # AMBIGUOUS: lesion_count = "status `present` and diameter > 0"; an unknown diameter is
    # not > 0, so the lesion is not counted and the largest is that of the measured lesions.
    lesions = [lesion("L1", 32), {"id": "L2", "segment": 7, "status": "present"}]
    doc = run(build(imaging=[scan("2025-01-06", lesions)]))
    assert fact(doc, "lesion_count") == 1
    assert fact(doc, "largest_diameter_mm") == 32


def test_bilobar_false_with_unplaced_lesion() -> None:
    # AMBIGUOUS: bilobar = "present lesions in both segments 2–4 and 5–8"; a lesion with no
    # segment is in neither, so with everything else on the right the answer is false.
    lesions = [lesion("L1", 32, 6), lesion("L2", 12, None)]
    assert fact(run(build(imaging=[scan("2025-01-06", lesions)])), "bilobar") is False


def test_no_baseline_imaging_not_for_adjuvant_only() -> None:
    # AMBIGUOUS: "systemic therapy started with no imaging on or before its first cycle in the
    # episode"; read with the baseline definition (any setting but adjuvant), so adjuvant
    # therapy right after a hepatectomy does not need a pre-treatment baseline.
    data = build(
        treatments=[
            proc("2024-12-01", "hepatectomy"),
            *cycles("2024-12-20", 3, setting="adjuvant"),
        ],
        imaging=[scan("2024-11-20", ONE), scan("2025-02-20", [lesion("L1", 0)])],
    )
    assert "DATA.NO_BASELINE_IMAGING" not in ids(run(data))
