"""Derived facts: episodes, demographics, presentation, lesions, CEA, chemotherapy, liver."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from crlmboard.domain.caseformat import case_from_dict
from crlmboard.domain.engine import Profile, evaluate, evaluation_to_dict, evaluation_to_json
from crlmboard.domain.engine.facts import Facts
from tests.domain.engine.spec_tables import CHEMOTHERAPY_FACTS, SIDEDNESS, SPEC_FACTS

AS_OF = date(2025, 6, 1)


def facts(cb: Any, as_of: date = AS_OF, profile: Profile | None = None, **blocks: Any) -> Facts:
    result: Facts = cb.evaluate(cb.case(**blocks), as_of, profile).facts
    return result


# --------------------------------------------------------------------------------------
# Document shape


def test_every_fact_is_present_and_null_when_unknown() -> None:
    case = case_from_dict(
        {"format": "crlmboard.case/1", "patient": {"mrn": "BARE"}}, today=date(2030, 1, 1)
    )
    document = evaluation_to_dict(evaluate(case, AS_OF, Profile()))
    out = document["facts"]
    for key in SPEC_FACTS:
        assert key in out, key
    for key in CHEMOTHERAPY_FACTS:
        assert key in out["chemotherapy"], key
    # a bare case knows no value: every fact is null but the statuses, counts and objects
    known = {
        "previous_hepatectomies",
        "sidedness",
        "ras_status",
        "braf_status",
        "mmr_status",
        "presentation",
        "chemotherapy",
        "extensive_chemotherapy",
        "flr",
        "fong_crs",
        "game_score",
        "modified_clinical_score",
        "recist",
    }
    for key in SPEC_FACTS:
        if key not in known:
            assert out[key] is None, key
    assert out["sidedness"] == "unknown" and out["presentation"] == "unknown"
    assert out["ras_status"] == out["braf_status"] == out["mmr_status"] == "unknown"
    assert out["recist"] == []
    assert out["flr"] == {
        "measured_percent": None,
        "measured_source": None,
        "measured_date": None,
        "required_percent": 20,
        "basis": "normal",
    }
    assert out["fong_crs"]["score"] is None
    assert set(out["fong_crs"]) == {"score", "points", "missing", "risk"}
    assert out["chemotherapy"]["preoperative_cycles"] == 0
    assert out["chemotherapy"]["preoperative_weeks"] is None
    assert out["chemotherapy"]["on_treatment"] is False
    assert out["previous_hepatectomies"] == 0
    assert "DATA.NO_IMAGING" in [f["rule"] for f in document["findings"]]


# --------------------------------------------------------------------------------------
# Episodes


def test_a_liver_clearing_operation_starts_a_new_episode(cb: Any) -> None:
    result = facts(
        cb,
        imaging=[
            cb.scan("2024-09-01", [cb.lesion("L1", 40)]),
            cb.scan("2025-04-01", [cb.lesion("L5", 15)]),
        ],
        labs=[{"date": "2024-09-01", "cea_ng_ml": 50}, {"date": "2025-04-01", "cea_ng_ml": 8}],
        treatments=[*cb.cycles("2024-09-02", 6), cb.procedure("2024-12-01", "hepatectomy")],
    )
    assert result.episode_start == date(2024, 12, 2)
    assert result.previous_hepatectomies == 1
    assert result.chemotherapy.preoperative_cycles == 0  # the cycles were before the operation
    assert result.baseline_imaging is not None and result.current_imaging is not None
    assert result.baseline_imaging.date == result.current_imaging.date == date(2025, 4, 1)
    assert result.largest_diameter_mm == 15
    assert result.cea_baseline == result.cea_latest == 8
    assert result.earliest_safe_surgery_date is None


@pytest.mark.parametrize(
    "procedure", ["hepatectomy", "two_stage_second", "alpps_stage_2", "liver_transplant"]
)
def test_liver_clearing_procedures(cb: Any, procedure: str) -> None:
    result = facts(cb, treatments=[cb.procedure("2025-01-10", procedure)])
    assert result.episode_start == date(2025, 1, 11)


@pytest.mark.parametrize(
    "procedure",
    [
        "two_stage_first",
        "alpps_stage_1",
        "thermal_ablation",
        "portal_vein_embolization",
        "colectomy",
    ],
)
def test_other_procedures_keep_the_episode(cb: Any, procedure: str) -> None:
    assert facts(cb, treatments=[cb.procedure("2025-01-10", procedure)]).episode_start is None


def test_operations_are_counted_once_per_day_from_procedures_and_outcomes(cb: Any) -> None:
    result = facts(
        cb,
        treatments=[
            cb.procedure("2023-06-01", "hepatectomy"),
            cb.procedure("2024-06-01", "two_stage_second"),
        ],
        surgery_outcomes=[
            {"date": "2024-06-01", "procedure": "two_stage_second"},
            {"date": "2025-01-05", "procedure": "hepatectomy"},
            {"date": "2025-07-01", "procedure": "hepatectomy"},
        ],
    )
    assert result.previous_hepatectomies == 3  # the outcome after as_of is ignored
    assert result.episode_start == date(2025, 1, 6)


def test_an_operation_on_as_of_counts(cb: Any) -> None:
    result = facts(cb, treatments=[cb.procedure("2025-06-01", "hepatectomy")])
    assert result.episode_start == date(2025, 6, 2)
    assert result.current_imaging is None


def test_records_after_as_of_are_ignored(cb: Any) -> None:
    later = dict(
        imaging=[
            cb.scan("2025-04-01", [cb.lesion("L1", 32, depth_mm=5)]),
            cb.scan("2025-06-10", [cb.lesion("L1", 80)]),
        ],
        labs=[{"date": "2025-04-01", "cea_ng_ml": 3.0}, {"date": "2025-06-02", "cea_ng_ml": 900}],
        treatments=cb.cycles("2025-06-05", 3, biologic="cetuximab"),
        extrahepatic_disease=[{"site": "lung", "detected_on": "2025-06-02"}],
        surgery_outcomes=[
            {"date": "2025-06-20", "procedure": "hepatectomy", "margin_status": "r1"}
        ],
        patient={"birth_date": "1960-01-15"},
    )
    with_future = cb.evaluate(cb.case(**later))
    without = cb.evaluate(cb.case())
    assert with_future.facts == without.facts
    assert with_future.rule_ids() == without.rule_ids() == []
    assert with_future.input_sha256 != without.input_sha256


# --------------------------------------------------------------------------------------
# Patient and tumour


@pytest.mark.parametrize(("birth", "age"), [("1960-06-01", 65), ("1960-06-02", 64)])
def test_age_in_whole_years(cb: Any, birth: str, age: int) -> None:
    assert facts(cb, patient={"birth_date": birth}).age_years == age


def test_no_age_before_birth(cb: Any) -> None:
    assert facts(cb, as_of=date(1960, 1, 14)).age_years is None
    assert facts(cb, as_of=date(1960, 1, 15)).age_years == 0


def test_bmi(cb: Any) -> None:
    assert facts(cb, patient={"height_cm": 165, "weight_kg": 61}).bmi == 22.4
    assert facts(cb, patient={"height_cm": None}).bmi is None


@pytest.mark.parametrize(
    ("site", "side"),
    SIDEDNESS,
)
def test_sidedness(cb: Any, site: str | None, side: str) -> None:
    assert facts(cb, primary={"site": site}).sidedness == side


@pytest.mark.parametrize(
    ("n", "positive"),
    [("n0", False), ("n1a", True), ("n1c", True), ("n2b", True), ("nx", None), (None, None)],
)
def test_node_positive(cb: Any, n: str | None, positive: bool | None) -> None:
    assert facts(cb, primary={"n": n}).node_positive is positive


@pytest.mark.parametrize(
    ("molecular", "ras", "braf", "mmr"),
    [
        ({}, "wild_type", "wild_type", "proficient"),
        ({"kras": "mutant"}, "mutant", "wild_type", "proficient"),
        ({"kras": None, "nras": "mutant"}, "mutant", "wild_type", "proficient"),
        ({"kras": "unknown"}, "unknown", "wild_type", "proficient"),
        ({"braf": None}, "wild_type", "unknown", "proficient"),
        ({"braf": "non_v600e"}, "wild_type", "non_v600e", "proficient"),
        ({"mmr": None, "msi": "msi_low"}, "wild_type", "wild_type", "proficient"),
        ({"mmr": "proficient", "msi": "msi_high"}, "wild_type", "wild_type", "deficient"),
        ({"mmr": "unknown", "msi": "unknown"}, "wild_type", "wild_type", "unknown"),
    ],
)
def test_molecular_status(
    cb: Any, molecular: dict[str, Any], ras: str, braf: str, mmr: str
) -> None:
    result = facts(cb, molecular=molecular)
    assert (result.ras_status, result.braf_status, result.mmr_status) == (ras, braf, mmr)


@pytest.mark.parametrize(
    ("resection", "liver", "presentation", "dfi"),
    [
        ("2024-01-01", "2023-12-20", "synchronous", 0.0),
        ("2024-01-01", "2024-01-01", "synchronous", 0.0),
        (None, "2024-01-01", "synchronous", 0.0),
        ("2025-06-02", "2025-01-01", "synchronous", 0.0),  # resected after as_of: in situ then
        ("2024-01-01", "2024-12-31", "early_metachronous", 12.0),  # 365 days = 11.99 → 12.0
        ("2024-01-01", "2025-01-01", "early_metachronous", 12.0),  # 366 days = 12.02 → 12.0
        ("2024-01-01", "2025-01-02", "late_metachronous", 12.1),  # 367 days
        ("2024-01-01", None, "unknown", None),
    ],
)
def test_presentation_and_disease_free_interval(
    cb: Any, resection: str | None, liver: str | None, presentation: str, dfi: float | None
) -> None:
    result = facts(
        cb,
        primary={"diagnosis_date": "2023-12-01", "resection_date": resection},
        liver_metastases_diagnosis_date=liver,
    )
    assert result.presentation == presentation
    assert result.disease_free_interval_months == dfi


def test_presentation_unknown_without_a_primary(cb: Any) -> None:
    assert facts(cb, primary=None).presentation == "unknown"


# --------------------------------------------------------------------------------------
# Imaging and lesions


def test_baseline_and_current_imaging(cb: Any) -> None:
    result = facts(
        cb,
        imaging=[
            cb.scan("2025-01-01", [cb.lesion("L1", 40)], modality="ct"),
            cb.scan("2025-02-01", [cb.lesion("L1", 42)]),
            cb.scan("2025-04-01", [cb.lesion("L1", 30)], modality="ct"),
        ],
        treatments=(cb.cycles("2024-12-01", 2, setting="adjuvant") + cb.cycles("2025-02-03", 4)),
    )
    assert result.baseline_imaging is not None and result.current_imaging is not None
    assert result.baseline_imaging.date == date(2025, 2, 1)  # adjuvant cycles do not count
    assert result.baseline_imaging.modality == "mri"
    assert result.current_imaging.date == date(2025, 4, 1)


def test_baseline_without_pre_treatment_imaging_is_the_first_scan(cb: Any) -> None:
    result = facts(
        cb,
        imaging=[
            cb.scan("2025-03-01", [cb.lesion("L1", 40)]),
            cb.scan("2025-05-01", [cb.lesion("L1", 30)]),
        ],
        treatments=cb.cycles("2025-02-01", 4),
    )
    assert result.baseline_imaging is not None
    assert result.baseline_imaging.date == date(2025, 3, 1)
    assert "DATA.NO_BASELINE_IMAGING" in cb.rules(
        cb.case(
            imaging=[cb.scan("2025-03-01", [cb.lesion("L1", 40)])],
            treatments=cb.cycles("2025-02-01", 4),
        )
    )


def test_lesion_burden(cb: Any) -> None:
    result = facts(
        cb,
        imaging=[
            cb.scan(
                "2025-04-01",
                [
                    cb.lesion("L1", 45, segment=7),
                    cb.lesion("L2", 12, segment=1),
                    cb.lesion("L3", 0, segment=3),
                    cb.lesion("L4", 20, segment=8, status="ablated"),
                ],
            )
        ],
    )
    assert result.lesion_count == 2
    assert result.largest_diameter_mm == 45
    assert result.bilobar is False  # segment 1 counts for neither lobe; L3 is gone
    assert result.tumor_burden_score == 4.92
    assert result.tumor_burden_zone == "medium"


def test_bilobar(cb: Any) -> None:
    both = facts(
        cb,
        imaging=[
            cb.scan("2025-04-01", [cb.lesion("L1", 20, segment=4), cb.lesion("L2", 20, segment=5)])
        ],
    )
    assert both.bilobar is True
    # a lesion without a segment counts for neither lobe: false, not null (letter of the spec)
    unplaced = facts(
        cb,
        imaging=[
            cb.scan(
                "2025-04-01", [cb.lesion("L1", 20, segment=6), cb.lesion("L2", 20, segment=None)]
            )
        ],
    )
    assert unplaced.bilobar is False
    # a present lesion places its lobe even without a recorded diameter
    unmeasured = facts(
        cb,
        imaging=[
            cb.scan(
                "2025-04-01",
                [cb.lesion("L1", 20, segment=6), {"id": "L2", "segment": 3, "status": "present"}],
            )
        ],
    )
    assert unmeasured.bilobar is True
    assert unmeasured.lesion_count == 1
    gone = facts(cb, imaging=[cb.scan("2025-04-01", [cb.lesion("L1", 0, segment=3)])])
    assert gone.bilobar is False
    assert facts(cb, imaging=[]).bilobar is None


def test_a_present_lesion_without_a_size(cb: Any) -> None:
    # lesion_count is "status present and diameter > 0": the unmeasured L2 is not counted
    # and does not make the largest diameter unknown
    result = facts(
        cb,
        imaging=[
            cb.scan(
                "2025-04-01", [cb.lesion("L1", 45), {"id": "L2", "segment": 6, "status": "present"}]
            )
        ],
    )
    assert result.lesion_count == 1
    assert result.largest_diameter_mm == 45
    assert result.tumor_burden_score == 4.61
    assert "largest_diameter_mm" not in result.fong_crs.missing
    assert result.fong_crs.points["largest_over_50_mm"] == 0


def test_no_present_lesion(cb: Any) -> None:
    result = facts(cb, imaging=[cb.scan("2025-04-01", [cb.lesion("L1", 0)])])
    assert result.lesion_count == 0
    assert result.largest_diameter_mm is None
    assert result.tumor_burden_score == 0.0
    assert result.fong_crs.points["largest_over_50_mm"] == 0


def test_tumor_burden_at_baseline(cb: Any) -> None:
    result = facts(
        cb,
        imaging=[
            cb.scan("2025-01-01", [cb.lesion("L1", 62), cb.lesion("L2", 45), cb.lesion("L3", 38)]),
            cb.scan("2025-04-01", [cb.lesion("L1", 30), cb.lesion("L2", 20), cb.lesion("L3", 0)]),
        ],
        treatments=cb.cycles("2025-01-02", 4),
    )
    assert result.tumor_burden_score_baseline == 6.89
    assert result.tumor_burden_score == 3.61


# --------------------------------------------------------------------------------------
# CEA


def test_cea_baseline_latest_and_change(cb: Any) -> None:
    labs = [
        {"date": "2025-01-01", "cea_ng_ml": 80},
        {"date": "2025-02-01", "cea_ng_ml": 60},
        {"date": "2025-02-03", "ast_u_l": 30},
        {"date": "2025-04-01", "cea_ng_ml": 21},
    ]
    result = facts(cb, labs=labs, treatments=cb.cycles("2025-02-01", 4))
    assert (result.cea_baseline, result.cea_latest) == (60, 21)
    assert result.cea_baseline_date == date(2025, 2, 1)
    assert result.cea_change_percent == -65.0


def test_cea_baseline_without_a_pre_treatment_value(cb: Any) -> None:
    labs = [{"date": "2025-03-01", "cea_ng_ml": 30}, {"date": "2025-04-01", "cea_ng_ml": 33}]
    result = facts(cb, labs=labs, treatments=cb.cycles("2025-02-01", 4))
    assert (result.cea_baseline, result.cea_latest, result.cea_change_percent) == (30, 33, 10.0)
    untreated = facts(cb, labs=labs)
    assert untreated.cea_baseline == 30


def test_cea_change_needs_a_non_zero_baseline(cb: Any) -> None:
    result = facts(
        cb, labs=[{"date": "2025-03-01", "cea_ng_ml": 0}, {"date": "2025-04-01", "cea_ng_ml": 2}]
    )
    assert result.cea_change_percent is None


# --------------------------------------------------------------------------------------
# Chemotherapy


def test_chemotherapy_exposure(cb: Any) -> None:
    treatments = (
        cb.cycles("2025-01-06", 3, regimen="capox", every=21, biologic="bevacizumab")
        + cb.cycles("2025-03-03", 2, regimen="folfoxiri", biologic="panitumumab")
        + cb.cycles("2025-04-01", 1, regimen="folfiri", setting="adjuvant")
        + [
            {
                "kind": "immunotherapy",
                "date": "2025-04-20",
                "agent": "pembrolizumab",
                "setting": "palliative",
            }
        ]
    )
    c = facts(cb, treatments=treatments).chemotherapy
    assert c.preoperative_cycles == 5
    assert c.preoperative_weeks == 12.0  # (2025-03-17 − 2025-01-06 = 70 days + 14) / 7
    assert c.oxaliplatin_cycles == 5
    assert c.irinotecan_cycles == 3
    assert c.first_cycle_date == date(2025, 1, 6)
    assert c.last_cycle_date == date(2025, 4, 1)
    assert c.last_bevacizumab_date == date(2025, 2, 17)
    assert c.anti_egfr_given is True
    assert c.immunotherapy_given is True
    assert c.last_systemic_date == date(2025, 4, 20)
    assert c.on_treatment is False  # 42 days before 2025-06-01


def test_default_cycle_length(cb: Any) -> None:
    cycles = [
        {
            "kind": "chemotherapy",
            "date": "2025-01-06",
            "regimen": "capox",
            "cycle": 1,
            "setting": "neoadjuvant",
        }
    ]
    assert facts(cb, treatments=cycles).chemotherapy.preoperative_weeks == 3.0


def test_on_treatment_window(cb: Any) -> None:
    treatments = cb.cycles("2025-04-27", 1)
    assert facts(cb, treatments=treatments).chemotherapy.on_treatment is True  # 35 days
    assert (
        facts(cb, as_of=date(2025, 6, 2), treatments=treatments).chemotherapy.on_treatment is False
    )
    assert facts(
        cb,
        as_of=date(2025, 6, 2),
        treatments=treatments,
        profile=Profile(on_treatment_window_days=36),
    ).chemotherapy.on_treatment


def test_earliest_safe_surgery_date(cb: Any) -> None:
    with_bev = cb.cycles("2025-03-01", 3, biologic="bevacizumab") + cb.cycles("2025-04-12", 1)
    # bevacizumab 2025-03-29 + 42 = 2025-05-10; last cycle 2025-04-12 + 28 = 2025-05-10
    assert facts(cb, treatments=with_bev).earliest_safe_surgery_date == date(2025, 5, 10)
    assert facts(
        cb,
        treatments=cb.cycles("2025-03-01", 3, biologic="bevacizumab"),
    ).earliest_safe_surgery_date == date(2025, 5, 10)
    assert facts(cb, treatments=cb.cycles("2025-03-01", 3)).earliest_safe_surgery_date == date(
        2025, 4, 26
    )
    assert facts(cb).earliest_safe_surgery_date is None


def test_next_restaging_due(cb: Any) -> None:
    # no imaging since the first cycle: first cycle + 56 days
    assert facts(
        cb,
        treatments=cb.cycles("2025-04-10", 3),
    ).next_restaging_due == date(2025, 6, 5)
    # imaging since: that imaging + 56 days
    imaging = [
        cb.scan("2025-04-01", [cb.lesion("L1", 32)]),
        cb.scan("2025-05-20", [cb.lesion("L1", 30)]),
    ]
    assert facts(
        cb,
        imaging=imaging,
        treatments=cb.cycles("2025-04-10", 3),
    ).next_restaging_due == date(2025, 7, 15)
    # off treatment: none
    assert facts(cb, treatments=cb.cycles("2025-01-10", 3)).next_restaging_due is None


# --------------------------------------------------------------------------------------
# Liver


def test_apri_uses_the_latest_complete_lab(cb: Any) -> None:
    labs = [
        {"date": "2025-03-01", "ast_u_l": 52, "ast_uln_u_l": 40, "platelets_10e9_l": 310},
        {"date": "2025-04-01", "ast_u_l": 80, "ast_uln_u_l": 40},
    ]
    result = facts(cb, labs=labs)
    assert result.apri == 0.42
    assert result.apri_date == date(2025, 3, 1)
    assert facts(cb, labs=labs[1:]).apri is None


def test_a_ratio_that_overflows_is_not_computable(cb: Any) -> None:
    # a vanishing (but valid, non-zero) platelet count or CEA baseline overflows the ratio
    # to infinity, which is no fact and no JSON number: null, and the document still writes
    labs = [
        {
            "date": "2025-03-01",
            "ast_u_l": 1,
            "ast_uln_u_l": 1,
            "platelets_10e9_l": 5e-324,
            "cea_ng_ml": 5e-324,
        },
        {"date": "2025-04-01", "cea_ng_ml": 1},
    ]
    case = cb.case(labs=labs)
    result = cb.evaluate(case).facts
    assert (result.apri, result.apri_date) == (None, date(2025, 3, 1))
    assert (result.cea_baseline, result.cea_latest) == (5e-324, 1)
    assert result.cea_change_percent is None
    assert evaluation_to_json(cb.evaluate(case))


@pytest.mark.parametrize(
    ("background", "cycles", "required", "basis"),
    [
        ("normal", 0, 20, "normal"),
        (None, 0, 20, "normal"),
        ("steatosis", 0, 30, "injured_liver"),
        ("steatohepatitis", 8, 30, "injured_liver"),
        ("normal", 7, 30, "extensive_chemotherapy"),
        ("normal", 6, 20, "normal"),
        ("cirrhosis", 8, 40, "cirrhosis"),
    ],
)
def test_flr_requirement(
    cb: Any, background: str | None, cycles: int, required: int, basis: str
) -> None:
    treatments = cb.cycles("2024-12-01", cycles) if cycles else []
    flr = facts(cb, patient={"liver_background": background}, treatments=treatments).flr
    assert (flr.required_percent, flr.basis) == (required, basis)


def test_flr_measure(cb: Any) -> None:
    derived = facts(
        cb,
        imaging=[
            cb.scan(
                "2025-04-01", [cb.lesion("L1", 32)], total_liver_volume_ml=1620, flr_volume_ml=421
            )
        ],
        plan={"planned_flr_percent": 30},
    ).flr
    assert (derived.measured_percent, derived.measured_source) == (26.0, "imaging")
    planned = facts(cb, plan={"planned_flr_percent": 30}).flr
    assert (planned.measured_percent, planned.measured_source) == (30, "plan")
    assert planned.measured_date is None


def test_flr_thresholds_come_from_the_profile(cb: Any) -> None:
    flr = facts(
        cb, patient={"liver_background": "cirrhosis"}, profile=Profile(flr_required_cirrhosis=45)
    ).flr
    assert flr.required_percent == 45


def test_portal_vein_embolisation(cb: Any) -> None:
    imaging = [
        cb.scan("2025-03-01", [cb.lesion("L1", 32)], flr_percent=18),
        cb.scan("2025-03-20", [cb.lesion("L1", 32)], flr_percent=21),
        cb.scan("2025-04-22", [cb.lesion("L1", 32)], total_liver_volume_ml=1500, flr_volume_ml=450),
        cb.scan("2025-05-20", [cb.lesion("L1", 32)], flr_percent=33),
    ]
    pve = facts(
        cb, imaging=imaging, treatments=[cb.procedure("2025-03-25", "portal_vein_embolization")]
    ).pve
    assert pve is not None
    assert (pve.flr_before_percent, pve.flr_after_percent) == (21, 30.0)
    assert pve.degree_of_hypertrophy == 9.0
    assert pve.weeks == 4.0  # 28 days
    assert pve.kinetic_growth_rate == 2.25
    waiting = facts(
        cb, imaging=imaging[:2], treatments=[cb.procedure("2025-03-25", "portal_vein_embolization")]
    ).pve
    assert waiting is not None
    assert waiting.flr_after_percent is None and waiting.kinetic_growth_rate is None
    assert facts(cb).pve is None


@pytest.mark.parametrize(
    ("segments", "major"), [([5, 6, 7], True), ([6, 7], False), ([], None), (None, None)]
)
def test_major_hepatectomy(cb: Any, segments: list[int] | None, major: bool | None) -> None:
    assert facts(cb, plan={"segments_to_resect": segments}).major_hepatectomy is major


# --------------------------------------------------------------------------------------
# Morphologic response (Chun)


@pytest.mark.parametrize(
    ("before", "after", "response"),
    [
        ((3,), (1,), "optimal"),
        ((2,), (1,), "optimal"),
        ((3,), (2,), "incomplete"),
        ((2,), (2,), "none"),
        ((1,), (1,), "none"),
        ((1,), (3,), "none"),
        ((3, 3), (1, 2), "incomplete"),
        ((3, 2), (1, 3), "none"),
    ],
)
def test_morphologic_response(
    cb: Any, before: tuple[int, ...], after: tuple[int, ...], response: str
) -> None:
    def scan(when: str, groups: tuple[int, ...]) -> dict[str, Any]:
        made: dict[str, Any] = cb.scan(
            when, [cb.lesion(f"L{i}", 30, morphology_group=g) for i, g in enumerate(groups)]
        )
        return made

    result = facts(
        cb,
        imaging=[scan("2025-01-01", before), scan("2025-04-01", after)],
        treatments=cb.cycles("2025-01-02", 4),
    )
    assert result.morphologic_response == response


def test_morphologic_response_needs_a_lesion_graded_twice(cb: Any) -> None:
    imaging = [
        cb.scan("2025-01-01", [cb.lesion("L1", 30, morphology_group=3)]),
        cb.scan("2025-04-01", [cb.lesion("L1", 20)]),
    ]
    assert facts(cb, imaging=imaging).morphologic_response is None
    assert facts(cb, imaging=imaging[:1]).morphologic_response is None


def test_recist_facts_in_the_document_for_non_target_disease(cb: Any) -> None:
    """Engine 1.1.0: NN, the demoted marks and the missing-target fields are in the JSON."""
    case = cb.case(
        imaging=[
            cb.scan("2025-03-01", [cb.lesion("L1", 9, target=True), cb.lesion("L2", 6)]),
            cb.scan("2025-05-01", [cb.lesion("L1", 7), cb.lesion("L2", 6)]),
        ],
        treatments=cb.cycles("2025-03-03", 4),
    )
    facts = json.loads(evaluation_to_json(cb.evaluate(case)))["facts"]
    assert facts["recist_baseline"] == {
        "date": "2025-03-01",
        "sum_mm": None,
        "target_lesions": [],
        "non_target_lesions": ["L1", "L2"],
        "targets_chosen_by": None,
        "demoted_targets": [{"id": "L1", "diameter_mm": 9, "reason": "below_10_mm"}],
        "measurable": False,
    }
    assert facts["recist"] == [
        {
            "date": "2025-05-01",
            "sum_mm": None,
            "nadir_mm": None,
            "change_from_baseline_percent": None,
            "change_from_nadir_percent": None,
            "response": "NN",
            "missing_targets": [],
            "measured_sum_mm": None,
        }
    ]
    assert facts["current_response"] == "NN"
    assert facts["best_response"] == "NN"
    assert facts["baseline_imaging"] == {"date": "2025-03-01", "modality": "mri"}
    assert facts["current_imaging"] == {"date": "2025-05-01", "modality": "mri"}
