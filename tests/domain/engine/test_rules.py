"""Every rule: a minimal case that fires it, and one that just misses its threshold.

The base case of `conftest.py` fires nothing at 2025-06-01; each test adds only what its
rule needs.  Boundaries are one day, one millimetre, one cycle, one percent (or the
smallest step of the rounded value the rule compares).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from crlmboard.domain.engine import RULES, Profile, Severity

AS_OF = date(2025, 6, 1)


def fires(
    cb: Any, rule_id: str, as_of: date = AS_OF, profile: Profile | None = None, **blocks: Any
) -> bool:
    return rule_id in cb.rules(cb.case(**blocks), as_of, profile)


def lesions(count: int, size: float = 25, segments: tuple[int, ...] = (5, 6, 7, 8)) -> list[Any]:
    return [
        {
            "id": f"L{i + 1}",
            "segment": segments[i % len(segments)],
            "longest_diameter_mm": size,
            "status": "present",
        }
        for i in range(count)
    ]


# --------------------------------------------------------------------------------------
# DATA


def test_molecular_incomplete(cb: Any) -> None:
    assert fires(cb, "DATA.MOLECULAR_INCOMPLETE", molecular={"nras": None})
    assert fires(cb, "DATA.MOLECULAR_INCOMPLETE", molecular={"braf": "unknown"})
    assert fires(cb, "DATA.MOLECULAR_INCOMPLETE", molecular={"mmr": None, "msi": None})
    assert fires(cb, "DATA.MOLECULAR_INCOMPLETE", molecular=None)
    # MSS alone makes MMR status known (proficient)
    assert not fires(cb, "DATA.MOLECULAR_INCOMPLETE", molecular={"mmr": None, "msi": "mss"})
    assert not fires(cb, "DATA.MOLECULAR_INCOMPLETE")


def test_molecular_tested_after_as_of_is_not_known_yet(cb: Any) -> None:
    assert fires(cb, "DATA.MOLECULAR_INCOMPLETE", molecular={"tested_on": "2025-06-02"})
    assert not fires(cb, "DATA.MOLECULAR_INCOMPLETE", molecular={"tested_on": "2025-06-01"})


def test_no_imaging(cb: Any) -> None:
    assert fires(cb, "DATA.NO_IMAGING", imaging=[])
    assert not fires(cb, "DATA.NO_IMAGING")
    # imaging after as_of is ignored
    assert fires(cb, "DATA.NO_IMAGING", as_of=date(2025, 3, 31))


def test_no_imaging_in_a_new_episode(cb: Any) -> None:
    """A hepatectomy after the last scan starts an episode without imaging."""
    surgery = [cb.procedure("2025-04-15", "hepatectomy")]
    assert fires(cb, "DATA.NO_IMAGING", treatments=surgery)
    assert not fires(cb, "DATA.NO_IMAGING", treatments=surgery, as_of=date(2025, 4, 14))


def test_no_baseline_imaging(cb: Any) -> None:
    # scan on 2025-04-01: chemotherapy from the day before has no baseline, from that day has
    assert fires(cb, "DATA.NO_BASELINE_IMAGING", treatments=cb.cycles("2025-03-31", 2))
    assert not fires(cb, "DATA.NO_BASELINE_IMAGING", treatments=cb.cycles("2025-04-01", 2))
    # adjuvant chemotherapy needs no response baseline
    assert not fires(
        cb, "DATA.NO_BASELINE_IMAGING", treatments=cb.cycles("2025-03-31", 2, setting="adjuvant")
    )


def test_flr_not_measured(cb: Any) -> None:
    assert fires(cb, "DATA.FLR_NOT_MEASURED", plan={"segments_to_resect": [5, 6, 7]})
    assert not fires(cb, "DATA.FLR_NOT_MEASURED", plan={"segments_to_resect": [6, 7]})
    assert not fires(
        cb,
        "DATA.FLR_NOT_MEASURED",
        plan={"segments_to_resect": [5, 6, 7], "planned_flr_percent": 35},
    )
    assert not fires(
        cb,
        "DATA.FLR_NOT_MEASURED",
        plan={"segments_to_resect": [5, 6, 7]},
        profile=Profile(major_hepatectomy_segments=4),
    )


def test_score_incomplete(cb: Any) -> None:
    case = cb.case(labs=[])
    finding = cb.finding(case, "DATA.SCORE_INCOMPLETE")
    assert finding.severity == Severity.INFO
    assert finding.values == {"fong_crs": ["cea_latest"], "game_score": ["cea_latest"]}
    assert "lacks latest CEA" in finding.message
    assert fires(cb, "DATA.SCORE_INCOMPLETE", primary={"n": "nx"})
    assert not fires(cb, "DATA.SCORE_INCOMPLETE")


# --------------------------------------------------------------------------------------
# REGIMEN


def test_anti_egfr_ras_mutant(cb: Any) -> None:
    mutant = {"kras": "mutant", "kras_variant": "G12D"}
    assert fires(
        cb, "REGIMEN.ANTI_EGFR_RAS_MUTANT", molecular=mutant, plan={"planned_biologic": "cetuximab"}
    )
    assert fires(
        cb,
        "REGIMEN.ANTI_EGFR_RAS_MUTANT",
        molecular={"nras": "mutant"},
        treatments=cb.cycles("2025-04-02", 1, biologic="panitumumab"),
    )
    assert not fires(
        cb,
        "REGIMEN.ANTI_EGFR_RAS_MUTANT",
        molecular=mutant,
        plan={"planned_biologic": "bevacizumab"},
    )
    assert not fires(cb, "REGIMEN.ANTI_EGFR_RAS_MUTANT", plan={"planned_biologic": "cetuximab"})


def test_anti_egfr_given_before_the_episode_does_not_count(cb: Any) -> None:
    given = cb.cycles("2024-10-01", 2, biologic="cetuximab")
    operation = [cb.procedure("2024-12-01", "hepatectomy")]
    assert fires(cb, "REGIMEN.ANTI_EGFR_RAS_MUTANT", molecular={"nras": "mutant"}, treatments=given)
    assert not fires(
        cb,
        "REGIMEN.ANTI_EGFR_RAS_MUTANT",
        molecular={"nras": "mutant"},
        treatments=given + operation,
    )


def test_anti_egfr_braf_v600e(cb: Any) -> None:
    assert fires(
        cb,
        "REGIMEN.ANTI_EGFR_BRAF_V600E",
        molecular={"braf": "v600e"},
        plan={"planned_biologic": "panitumumab"},
    )
    assert not fires(
        cb,
        "REGIMEN.ANTI_EGFR_BRAF_V600E",
        molecular={"braf": "v600e"},
        plan={"planned_biologic": "encorafenib_cetuximab"},
    )
    assert not fires(
        cb,
        "REGIMEN.ANTI_EGFR_BRAF_V600E",
        molecular={"braf": "non_v600e"},
        plan={"planned_biologic": "cetuximab"},
    )


def test_anti_egfr_untested(cb: Any) -> None:
    assert fires(
        cb,
        "REGIMEN.ANTI_EGFR_UNTESTED",
        molecular={"braf": "unknown"},
        plan={"planned_biologic": "cetuximab"},
    )
    assert fires(
        cb,
        "REGIMEN.ANTI_EGFR_UNTESTED",
        molecular={"nras": None},
        plan={"planned_biologic": "cetuximab"},
    )
    assert not fires(cb, "REGIMEN.ANTI_EGFR_UNTESTED", plan={"planned_biologic": "cetuximab"})
    assert not fires(
        cb,
        "REGIMEN.ANTI_EGFR_UNTESTED",
        molecular={"braf": "unknown"},
        plan={"planned_biologic": "bevacizumab"},
    )


def test_anti_egfr_right_sided(cb: Any) -> None:
    egfr = {"planned_biologic": "cetuximab"}
    assert fires(cb, "REGIMEN.ANTI_EGFR_RIGHT_SIDED", primary={"site": "transverse"}, plan=egfr)
    assert not fires(
        cb, "REGIMEN.ANTI_EGFR_RIGHT_SIDED", primary={"site": "splenic_flexure"}, plan=egfr
    )
    assert not fires(cb, "REGIMEN.ANTI_EGFR_RIGHT_SIDED", primary={"site": "transverse"})


def test_anti_egfr_resectable(cb: Any) -> None:
    assert fires(
        cb,
        "REGIMEN.ANTI_EGFR_RESECTABLE",
        plan={"resectability": "resectable", "planned_biologic": "cetuximab"},
    )
    assert not fires(
        cb,
        "REGIMEN.ANTI_EGFR_RESECTABLE",
        plan={"resectability": "borderline", "planned_biologic": "cetuximab"},
    )


def test_immunotherapy_dmmr(cb: Any) -> None:
    assert fires(cb, "REGIMEN.IMMUNOTHERAPY_DMMR", molecular={"mmr": None, "msi": "msi_high"})
    assert fires(cb, "REGIMEN.IMMUNOTHERAPY_DMMR", molecular={"mmr": "deficient"})
    assert not fires(
        cb,
        "REGIMEN.IMMUNOTHERAPY_DMMR",
        molecular={"mmr": "deficient"},
        plan={"planned_immunotherapy": "pembrolizumab"},
    )
    dose = [
        {
            "kind": "immunotherapy",
            "date": "2025-04-02",
            "agent": "pembrolizumab",
            "setting": "palliative",
        }
    ]
    assert not fires(
        cb, "REGIMEN.IMMUNOTHERAPY_DMMR", molecular={"mmr": "deficient"}, treatments=dose
    )


def test_immunotherapy_pmmr(cb: Any) -> None:
    assert fires(cb, "REGIMEN.IMMUNOTHERAPY_PMMR", plan={"planned_immunotherapy": "nivolumab"})
    assert not fires(
        cb,
        "REGIMEN.IMMUNOTHERAPY_PMMR",
        molecular={"mmr": "unknown", "msi": "unknown"},
        plan={"planned_immunotherapy": "nivolumab"},
    )
    assert not fires(cb, "REGIMEN.IMMUNOTHERAPY_PMMR")


def test_irinotecan_steatohepatitis_bmi_boundary(cb: Any) -> None:
    folfiri = {"planned_regimen": "folfiri"}
    # 170 cm: 72.5 kg → BMI 25.1 (> 25); 72.3 kg → BMI 25.0 (not above)
    assert fires(
        cb, "REGIMEN.IRINOTECAN_STEATOHEPATITIS", patient={"weight_kg": 72.5}, plan=folfiri
    )
    assert not fires(
        cb, "REGIMEN.IRINOTECAN_STEATOHEPATITIS", patient={"weight_kg": 72.3}, plan=folfiri
    )
    assert not fires(
        cb,
        "REGIMEN.IRINOTECAN_STEATOHEPATITIS",
        patient={"weight_kg": 72.5},
        plan={**folfiri, "intent": "palliative"},
    )
    assert not fires(
        cb,
        "REGIMEN.IRINOTECAN_STEATOHEPATITIS",
        patient={"weight_kg": 72.5},
        plan={"planned_regimen": "folfox"},
    )


def test_irinotecan_steatohepatitis_liver_background(cb: Any) -> None:
    given = cb.cycles("2025-04-02", 1, regimen="capiri", every=21)
    assert fires(
        cb,
        "REGIMEN.IRINOTECAN_STEATOHEPATITIS",
        patient={"liver_background": "steatosis"},
        treatments=given,
    )
    assert not fires(cb, "REGIMEN.IRINOTECAN_STEATOHEPATITIS", treatments=given)


def test_oxaliplatin_sos(cb: Any) -> None:
    scan = [cb.scan("2025-02-20", [cb.lesion("L1", 32)])]
    assert fires(cb, "REGIMEN.OXALIPLATIN_SOS", imaging=scan, treatments=cb.cycles("2025-03-01", 6))
    assert not fires(
        cb, "REGIMEN.OXALIPLATIN_SOS", imaging=scan, treatments=cb.cycles("2025-03-01", 5)
    )
    assert not fires(
        cb,
        "REGIMEN.OXALIPLATIN_SOS",
        imaging=scan,
        treatments=cb.cycles("2025-03-01", 6),
        plan={"intent": "palliative"},
    )
    finding = cb.finding(
        cb.case(
            imaging=scan,
            treatments=cb.cycles("2025-03-01", 6),
            labs=[
                {
                    "date": "2025-05-01",
                    "cea_ng_ml": 3,
                    "ast_u_l": 60,
                    "ast_uln_u_l": 40,
                    "platelets_10e9_l": 100,
                }
            ],
        ),
        "REGIMEN.OXALIPLATIN_SOS",
    )
    assert finding.values["apri"] == 1.5
    assert "APRI is 1.5" in finding.message


def test_braf_v600e(cb: Any) -> None:
    assert fires(cb, "REGIMEN.BRAF_V600E", molecular={"braf": "v600e"})
    assert not fires(cb, "REGIMEN.BRAF_V600E", molecular={"braf": "non_v600e"})


# --------------------------------------------------------------------------------------
# PATHWAY


def test_upfront_resection(cb: Any) -> None:
    resectable = {"resectability": "resectable", "intent": "curative"}
    four = [cb.scan("2025-04-01", lesions(4))]
    five = [cb.scan("2025-04-01", lesions(5))]
    assert fires(cb, "PATHWAY.UPFRONT_RESECTION", plan=resectable, imaging=four)
    assert not fires(cb, "PATHWAY.UPFRONT_RESECTION", plan=resectable, imaging=five)
    assert fires(cb, "PATHWAY.UPFRONT_RESECTION", plan={"resectability": "resectable"})
    assert not fires(cb, "PATHWAY.UPFRONT_RESECTION", plan={"resectability": "borderline"})
    bilobar = [cb.scan("2025-04-01", lesions(2, segments=(4, 5)))]
    assert not fires(cb, "PATHWAY.UPFRONT_RESECTION", plan=resectable, imaging=bilobar)
    assert not fires(
        cb, "PATHWAY.UPFRONT_RESECTION", plan=resectable, extrahepatic_disease=[{"site": "lung"}]
    )
    assert not fires(
        cb, "PATHWAY.UPFRONT_RESECTION", plan=resectable, treatments=cb.cycles("2025-04-02", 1)
    )


def test_upfront_resection_needs_a_known_fong_score_below_high_risk(cb: Any) -> None:
    resectable = {"resectability": "resectable"}
    # n1a + 2 lesions + DFI < 12 months → Fong 3 (high); with n0 → 2
    early = {"resection_date": "2024-10-01", "diagnosis_date": "2024-09-01"}
    two = [cb.scan("2025-04-01", lesions(2))]
    assert fires(cb, "PATHWAY.UPFRONT_RESECTION", plan=resectable, imaging=two, primary=early)
    assert not fires(
        cb, "PATHWAY.UPFRONT_RESECTION", plan=resectable, imaging=two, primary={**early, "n": "n1a"}
    )
    assert not fires(cb, "PATHWAY.UPFRONT_RESECTION", plan=resectable, labs=[])


def test_perioperative_chemotherapy(cb: Any) -> None:
    resectable = {"resectability": "resectable"}
    assert fires(
        cb,
        "PATHWAY.PERIOPERATIVE_CHEMOTHERAPY",
        plan=resectable,
        imaging=[cb.scan("2025-04-01", lesions(5))],
    )
    assert not fires(
        cb,
        "PATHWAY.PERIOPERATIVE_CHEMOTHERAPY",
        plan=resectable,
        imaging=[cb.scan("2025-04-01", lesions(4))],
    )
    assert fires(
        cb,
        "PATHWAY.PERIOPERATIVE_CHEMOTHERAPY",
        plan=resectable,
        imaging=[cb.scan("2025-04-01", lesions(2, segments=(3, 7)))],
    )
    assert fires(
        cb, "PATHWAY.PERIOPERATIVE_CHEMOTHERAPY", plan=resectable, primary={"resection_date": None}
    )
    assert fires(
        cb,
        "PATHWAY.PERIOPERATIVE_CHEMOTHERAPY",
        plan=resectable,
        extrahepatic_disease=[{"site": "hepatic_pedicle_nodes"}],
    )
    assert not fires(
        cb,
        "PATHWAY.PERIOPERATIVE_CHEMOTHERAPY",
        plan={**resectable, "intent": "palliative"},
        imaging=[cb.scan("2025-04-01", lesions(5))],
    )


def test_conversion_chemotherapy(cb: Any) -> None:
    assert fires(cb, "PATHWAY.CONVERSION_CHEMOTHERAPY", plan={"resectability": "unresectable"})
    assert fires(cb, "PATHWAY.CONVERSION_CHEMOTHERAPY", plan={"resectability": "borderline"})
    assert not fires(
        cb,
        "PATHWAY.CONVERSION_CHEMOTHERAPY",
        plan={"resectability": "unresectable"},
        treatments=cb.cycles("2025-04-02", 1),
    )
    assert not fires(cb, "PATHWAY.CONVERSION_CHEMOTHERAPY", plan={"resectability": "resectable"})


@pytest.mark.parametrize(
    ("birth", "ecog", "listed"),
    [
        ("1950-06-02", 1, True),  # 74 years on 2025-06-01
        ("1950-06-01", 1, False),  # 75 years that day
        ("1960-01-01", 2, False),
    ],
)
def test_conversion_lists_folfoxiri_by_age_and_ecog(
    cb: Any, birth: str, ecog: int, listed: bool
) -> None:
    case = cb.case(
        plan={"resectability": "unresectable"}, patient={"birth_date": birth, "ecog": ecog}
    )
    options = cb.finding(case, "PATHWAY.CONVERSION_CHEMOTHERAPY").values["options"]
    assert any(o.startswith("FOLFOXIRI (") for o in options) is listed


def test_conversion_biologic_options(cb: Any) -> None:
    def options(**blocks: Any) -> list[str]:
        case = cb.case(plan={"resectability": "unresectable"}, **blocks)
        found = cb.finding(case, "PATHWAY.CONVERSION_CHEMOTHERAPY").values["options"]
        assert isinstance(found, list)
        return found

    assert "+ anti-EGFR (RAS and BRAF wild type, left-sided)" in options()
    assert "+ bevacizumab" in options(primary={"site": "caecum"})
    assert "+ bevacizumab" in options(molecular={"braf": "v600e"})
    assert "immunotherapy (dMMR/MSI-H)" in options(molecular={"mmr": "deficient"})


def test_synchronous_sequence(cb: Any) -> None:
    in_situ = {"resection_date": None}
    assert fires(cb, "PATHWAY.SYNCHRONOUS_SEQUENCE", primary=in_situ)
    assert fires(
        cb, "PATHWAY.SYNCHRONOUS_SEQUENCE", primary=in_situ, plan={"sequence": "not_applicable"}
    )
    assert not fires(
        cb, "PATHWAY.SYNCHRONOUS_SEQUENCE", primary=in_situ, plan={"sequence": "liver_first"}
    )
    assert not fires(
        cb, "PATHWAY.SYNCHRONOUS_SEQUENCE", primary=in_situ, plan={"intent": "palliative"}
    )
    # resected on the day the metastases were found: synchronous but no longer in situ
    assert not fires(cb, "PATHWAY.SYNCHRONOUS_SEQUENCE", primary={"resection_date": "2025-04-01"})


def test_simultaneous_major_hepatectomy(cb: Any) -> None:
    assert fires(
        cb,
        "PATHWAY.SIMULTANEOUS_MAJOR_HEPATECTOMY",
        plan={"sequence": "simultaneous", "segments_to_resect": [5, 6, 7]},
    )
    assert not fires(
        cb,
        "PATHWAY.SIMULTANEOUS_MAJOR_HEPATECTOMY",
        plan={"sequence": "simultaneous", "segments_to_resect": [6, 7]},
    )
    assert not fires(
        cb,
        "PATHWAY.SIMULTANEOUS_MAJOR_HEPATECTOMY",
        plan={"sequence": "colon_first", "segments_to_resect": [5, 6, 7]},
    )


def test_ablation_option(cb: Any) -> None:
    unresectable = {"resectability": "unresectable"}
    assert fires(
        cb,
        "PATHWAY.ABLATION_OPTION",
        plan=unresectable,
        imaging=[cb.scan("2025-04-01", [cb.lesion("L1", 30)])],
    )
    assert not fires(
        cb,
        "PATHWAY.ABLATION_OPTION",
        plan=unresectable,
        imaging=[cb.scan("2025-04-01", [cb.lesion("L1", 31)])],
    )
    # resectable: a planned major hepatectomy, or the COLLISION population
    small_and_large = [cb.scan("2025-04-01", [cb.lesion("L1", 30), cb.lesion("L2", 31)])]
    assert fires(
        cb,
        "PATHWAY.ABLATION_OPTION",
        imaging=small_and_large,
        plan={"resectability": "resectable", "segments_to_resect": [5, 6, 7]},
    )
    assert not fires(
        cb,
        "PATHWAY.ABLATION_OPTION",
        imaging=small_and_large,
        plan={"resectability": "resectable", "segments_to_resect": [6, 7]},
    )
    small = [cb.scan("2025-04-01", [cb.lesion("L1", 30)])]
    assert not fires(
        cb,
        "PATHWAY.ABLATION_OPTION",
        imaging=small,
        plan={"resectability": "unresectable", "intent": "palliative"},
    )
    assert not fires(
        cb,
        "PATHWAY.ABLATION_OPTION",
        imaging=small,
        plan=unresectable,
        extrahepatic_disease=[{"site": "lung"}],
    )
    assert fires(
        cb,
        "PATHWAY.ABLATION_OPTION",
        plan=unresectable,
        imaging=[cb.scan("2025-04-01", [cb.lesion("L1", 31)])],
        profile=Profile(ablation_max_mm=31),
    )


def test_ablation_option_covers_the_collision_population(cb: Any) -> None:
    # every present lesion ≤ 30 mm and at most 10 of them, resectable, minor resection
    def scan(count: int, size: float = 30) -> list[Any]:
        return [cb.scan("2025-04-01", lesions(count, size))]

    resectable = {"resectability": "resectable"}
    assert fires(cb, "PATHWAY.ABLATION_OPTION", imaging=scan(1), plan=resectable)
    assert fires(cb, "PATHWAY.ABLATION_OPTION", imaging=scan(10), plan=resectable)
    assert not fires(cb, "PATHWAY.ABLATION_OPTION", imaging=scan(11), plan=resectable)
    assert not fires(cb, "PATHWAY.ABLATION_OPTION", imaging=scan(1, 31), plan=resectable)
    assert fires(cb, "PATHWAY.ABLATION_OPTION", imaging=scan(1))  # no plan: curative


def _transplant_case(cb: Any, cycles: int = 3, ecog: int = 1, **blocks: Any) -> Any:
    return dict(
        patient={"ecog": ecog},
        plan={"resectability": "unresectable"},
        imaging=[
            cb.scan("2025-03-01", [cb.lesion("L1", 60)]),
            cb.scan("2025-04-20", [cb.lesion("L1", 50)]),
        ],
        labs=[{"date": "2025-03-01", "cea_ng_ml": 90}],
        treatments=cb.cycles("2025-03-03", cycles),
        **blocks,
    )


def test_transplant_referral(cb: Any) -> None:
    # 3 cycles q14 = (28 + 14) / 7 = 6.0 weeks (≥ 6); 2 cycles = 4.0 weeks
    assert fires(cb, "PATHWAY.TRANSPLANT_REFERRAL", **_transplant_case(cb, cycles=3))
    assert not fires(cb, "PATHWAY.TRANSPLANT_REFERRAL", **_transplant_case(cb, cycles=2))
    assert not fires(cb, "PATHWAY.TRANSPLANT_REFERRAL", **_transplant_case(cb, ecog=2))
    assert not fires(
        cb, "PATHWAY.TRANSPLANT_REFERRAL", **_transplant_case(cb, molecular={"braf": "v600e"})
    )
    assert not fires(
        cb, "PATHWAY.TRANSPLANT_REFERRAL", **_transplant_case(cb, primary={"resection_date": None})
    )
    assert not fires(
        cb,
        "PATHWAY.TRANSPLANT_REFERRAL",
        **_transplant_case(cb, extrahepatic_disease=[{"site": "lung"}]),
    )


def test_transplant_referral_not_on_progression(cb: Any) -> None:
    blocks = _transplant_case(cb)
    blocks["imaging"][1]["new_lesions"] = True
    assert not fires(cb, "PATHWAY.TRANSPLANT_REFERRAL", **blocks)


def test_transplant_referral_needs_a_documented_non_progression(cb: Any) -> None:
    # SECA-II and TRANSMET required response or stability: NE or no response does not pass
    no_restaging = _transplant_case(cb)
    no_restaging["imaging"] = no_restaging["imaging"][:1]
    assert not fires(cb, "PATHWAY.TRANSPLANT_REFERRAL", **no_restaging)
    missing_target = _transplant_case(cb)
    missing_target["imaging"][1]["lesions"] = []
    assert not fires(cb, "PATHWAY.TRANSPLANT_REFERRAL", **missing_target)
    # non-target-only disease documented as NN passes
    nn = _transplant_case(cb)
    nn["imaging"] = [
        cb.scan("2025-03-01", [cb.lesion("L1", 8)]),
        cb.scan("2025-04-20", [cb.lesion("L1", 7)]),
    ]
    evaluation = cb.evaluate(cb.case(**nn))
    assert evaluation.facts.current_response == "NN"
    assert "PATHWAY.TRANSPLANT_REFERRAL" in evaluation.rule_ids()


def test_transplant_referral_shows_the_oslo_score(cb: Any) -> None:
    case = cb.case(**_transplant_case(cb))
    values = cb.finding(case, "PATHWAY.TRANSPLANT_REFERRAL").values
    # largest 50 (not > 55), CEA 90 (> 80), 28 months since resection (not < 24), SD
    assert values["oslo_points"] == {
        "largest_over_limit": 0,
        "cea_over_limit": 1,
        "interval_under_limit": 0,
        "progression_on_chemotherapy": 0,
    }
    assert values["oslo_score"] == 1
    assert values["months_since_primary_resection"] == 28.0


def test_repeat_hepatectomy(cb: Any) -> None:
    operated = [cb.procedure("2024-06-01", "hepatectomy")]
    assert fires(
        cb, "PATHWAY.REPEAT_HEPATECTOMY", treatments=operated, plan={"resectability": "borderline"}
    )
    assert not fires(cb, "PATHWAY.REPEAT_HEPATECTOMY", plan={"resectability": "borderline"})
    assert not fires(
        cb,
        "PATHWAY.REPEAT_HEPATECTOMY",
        treatments=operated,
        plan={"resectability": "unresectable"},
    )
    # no present lesion since the operation
    assert not fires(
        cb,
        "PATHWAY.REPEAT_HEPATECTOMY",
        treatments=operated,
        plan={"resectability": "resectable"},
        imaging=[cb.scan("2025-04-01", [cb.lesion("L1", 0)])],
    )


def test_extrahepatic_multiple_sites(cb: Any) -> None:
    assert fires(
        cb,
        "PATHWAY.EXTRAHEPATIC_MULTIPLE_SITES",
        extrahepatic_disease=[{"site": "lung"}, {"site": "bone"}],
    )
    assert not fires(
        cb,
        "PATHWAY.EXTRAHEPATIC_MULTIPLE_SITES",
        extrahepatic_disease=[{"site": "lung"}, {"site": "lung"}],
    )
    assert not fires(
        cb,
        "PATHWAY.EXTRAHEPATIC_MULTIPLE_SITES",
        extrahepatic_disease=[{"site": "lung"}, {"site": "bone", "detected_on": "2025-06-02"}],
    )
    assert not fires(
        cb,
        "PATHWAY.EXTRAHEPATIC_MULTIPLE_SITES",
        extrahepatic_disease=[{"site": "lung"}, {"site": "bone"}],
        plan={"intent": "palliative"},
    )


def test_extrahepatic_distant_nodes(cb: Any) -> None:
    assert fires(
        cb,
        "PATHWAY.EXTRAHEPATIC_DISTANT_NODES",
        extrahepatic_disease=[{"site": "para_aortic_nodes"}],
    )
    assert fires(
        cb, "PATHWAY.EXTRAHEPATIC_DISTANT_NODES", extrahepatic_disease=[{"site": "celiac_nodes"}]
    )
    assert not fires(
        cb,
        "PATHWAY.EXTRAHEPATIC_DISTANT_NODES",
        extrahepatic_disease=[{"site": "portocaval_nodes"}],
    )


def test_peritoneal_liver_limit(cb: Any) -> None:
    peritoneum = [{"site": "peritoneum"}]
    assert fires(
        cb,
        "PATHWAY.PERITONEAL_LIVER_LIMIT",
        extrahepatic_disease=peritoneum,
        imaging=[cb.scan("2025-04-01", lesions(4))],
    )
    assert not fires(
        cb,
        "PATHWAY.PERITONEAL_LIVER_LIMIT",
        extrahepatic_disease=peritoneum,
        imaging=[cb.scan("2025-04-01", lesions(3))],
    )
    assert not fires(
        cb, "PATHWAY.PERITONEAL_LIVER_LIMIT", imaging=[cb.scan("2025-04-01", lesions(4))]
    )


# --------------------------------------------------------------------------------------
# TIMING


def _on_chemotherapy(cb: Any, **blocks: Any) -> dict[str, Any]:
    """Baseline 2025-03-20, cycles q14 from 2025-03-25 to 2025-05-20, restaged 2025-04-01."""
    return dict(
        imaging=[
            cb.scan("2025-03-20", [cb.lesion("L1", 32, depth_mm=5)]),
            cb.scan("2025-04-01", [cb.lesion("L1", 30, depth_mm=5)]),
        ],
        treatments=cb.cycles("2025-03-25", 5),
        **blocks,
    )


def test_restaging_overdue(cb: Any) -> None:
    # due 2025-04-01 + 56 days = 2025-05-27
    blocks = _on_chemotherapy(cb)
    assert fires(cb, "TIMING.RESTAGING_OVERDUE", as_of=date(2025, 5, 28), **blocks)
    assert not fires(cb, "TIMING.RESTAGING_OVERDUE", as_of=date(2025, 5, 27), **blocks)
    finding = cb.finding(cb.case(**blocks), "TIMING.RESTAGING_OVERDUE", as_of=date(2025, 5, 28))
    assert finding.values["next_restaging_due"] == date(2025, 5, 27)


def test_restaging_overdue_needs_treatment_within_the_window(cb: Any) -> None:
    # last cycle 2025-05-20: on treatment until 2025-06-24 (35 days)
    blocks = _on_chemotherapy(cb)
    assert fires(cb, "TIMING.RESTAGING_OVERDUE", as_of=date(2025, 6, 24), **blocks)
    assert not fires(cb, "TIMING.RESTAGING_OVERDUE", as_of=date(2025, 6, 25), **blocks)


def test_restaging_due_soon(cb: Any) -> None:
    blocks = _on_chemotherapy(cb)
    assert fires(cb, "TIMING.RESTAGING_DUE_SOON", as_of=date(2025, 5, 13), **blocks)
    assert fires(cb, "TIMING.RESTAGING_DUE_SOON", as_of=date(2025, 5, 27), **blocks)
    assert not fires(cb, "TIMING.RESTAGING_DUE_SOON", as_of=date(2025, 5, 12), **blocks)
    assert not fires(cb, "TIMING.RESTAGING_DUE_SOON", as_of=date(2025, 5, 28), **blocks)


def test_surgery_too_soon_after_chemotherapy(cb: Any) -> None:
    blocks = _on_chemotherapy(cb)  # last cycle 2025-05-20
    assert fires(
        cb,
        "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY",
        plan={"planned_surgery_date": "2025-06-16"},
        **blocks,
    )
    assert not fires(
        cb,
        "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY",
        plan={"planned_surgery_date": "2025-06-17"},
        **blocks,
    )
    assert not fires(
        cb,
        "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY",
        plan={"planned_surgery_date": "2025-06-16"},
        **blocks,
        profile=Profile(chemo_washout_days=27),
    )


def test_surgery_too_soon_after_bevacizumab(cb: Any) -> None:
    blocks = _on_chemotherapy(cb)
    blocks["treatments"] = cb.cycles("2025-03-25", 5, biologic="bevacizumab")
    assert fires(
        cb,
        "TIMING.SURGERY_TOO_SOON_AFTER_BEVACIZUMAB",
        plan={"planned_surgery_date": "2025-06-30"},
        **blocks,
    )
    assert not fires(
        cb,
        "TIMING.SURGERY_TOO_SOON_AFTER_BEVACIZUMAB",
        plan={"planned_surgery_date": "2025-07-01"},
        **blocks,
    )
    assert not fires(
        cb,
        "TIMING.SURGERY_TOO_SOON_AFTER_BEVACIZUMAB",
        plan={"planned_surgery_date": "2025-06-30"},
        **_on_chemotherapy(cb),
    )


def test_prolonged_preoperative_chemotherapy_by_cycles(cb: Any) -> None:
    scan = [cb.scan("2025-01-01", [cb.lesion("L1", 32)])]
    plan = {"resectability": "resectable"}
    # 7 cycles q14 (> 6); 6 cycles q14 = 12.0 weeks and 6 cycles: not extensive
    assert fires(
        cb,
        "TIMING.PROLONGED_PREOPERATIVE_CHEMOTHERAPY",
        imaging=scan,
        plan=plan,
        treatments=cb.cycles("2025-01-02", 7),
    )
    assert not fires(
        cb,
        "TIMING.PROLONGED_PREOPERATIVE_CHEMOTHERAPY",
        imaging=scan,
        plan=plan,
        treatments=cb.cycles("2025-01-02", 6),
    )
    assert not fires(
        cb,
        "TIMING.PROLONGED_PREOPERATIVE_CHEMOTHERAPY",
        imaging=scan,
        plan={"resectability": "unresectable"},
        treatments=cb.cycles("2025-01-02", 7),
    )


def test_prolonged_preoperative_chemotherapy_by_weeks(cb: Any) -> None:
    scan = [cb.scan("2025-01-01", [cb.lesion("L1", 32)])]
    plan = {"resectability": "borderline"}

    def course(last_day: int) -> list[Any]:
        days = [0, 21, 42, last_day]
        return [
            {
                "kind": "chemotherapy",
                "date": cb.days(date(2025, 1, 2), d),
                "regimen": "capox",
                "cycle": i + 1,
                "setting": "conversion",
            }
            for i, d in enumerate(days)
        ]

    # (64 + 21) / 7 = 12.1 weeks (> 12) with 4 cycles; (63 + 21) / 7 = 12.0
    assert fires(
        cb,
        "TIMING.PROLONGED_PREOPERATIVE_CHEMOTHERAPY",
        imaging=scan,
        plan=plan,
        treatments=course(64),
    )
    assert not fires(
        cb,
        "TIMING.PROLONGED_PREOPERATIVE_CHEMOTHERAPY",
        imaging=scan,
        plan=plan,
        treatments=course(63),
    )


def _responding(cb: Any, **blocks: Any) -> dict[str, Any]:
    return dict(
        imaging=[
            cb.scan("2025-03-01", [cb.lesion("L1", 40)]),
            cb.scan("2025-05-01", [cb.lesion("L1", 30)]),
        ],
        treatments=cb.cycles("2025-03-03", 4),
        **blocks,
    )


def test_proceed_to_surgery(cb: Any) -> None:
    assert fires(
        cb, "TIMING.PROCEED_TO_SURGERY", plan={"resectability": "resectable"}, **_responding(cb)
    )
    assert not fires(
        cb,
        "TIMING.PROCEED_TO_SURGERY",
        plan={"resectability": "resectable", "planned_surgery_date": "2025-07-01"},
        **_responding(cb),
    )
    assert not fires(
        cb, "TIMING.PROCEED_TO_SURGERY", plan={"resectability": "borderline"}, **_responding(cb)
    )
    blocks = _responding(cb)
    blocks["treatments"] = cb.cycles("2025-03-03", 4, setting="adjuvant")
    assert not fires(
        cb, "TIMING.PROCEED_TO_SURGERY", plan={"resectability": "resectable"}, **blocks
    )
    progressing = _responding(cb)
    progressing["imaging"][1]["new_lesions"] = True
    assert not fires(
        cb, "TIMING.PROCEED_TO_SURGERY", plan={"resectability": "resectable"}, **progressing
    )


def test_pve_reassessment(cb: Any) -> None:
    def pve(when: str) -> list[Any]:
        return [cb.procedure(when, "portal_vein_embolization")]

    assert fires(cb, "TIMING.PVE_REASSESSMENT", treatments=pve("2025-05-11"))  # 21 days
    assert not fires(cb, "TIMING.PVE_REASSESSMENT", treatments=pve("2025-05-12"))  # 20 days
    measured = [
        cb.scan("2025-04-01", [cb.lesion("L1", 32)]),
        cb.scan("2025-05-30", [cb.lesion("L1", 32)], flr_percent=31),
    ]
    assert not fires(cb, "TIMING.PVE_REASSESSMENT", treatments=pve("2025-05-01"), imaging=measured)


# --------------------------------------------------------------------------------------
# RESPONSE


def test_progression_on_chemotherapy(cb: Any) -> None:
    def blocks(after_mm: float) -> dict[str, Any]:
        return dict(
            imaging=[
                cb.scan("2025-03-01", [cb.lesion("L1", 40)]),
                cb.scan("2025-05-01", [cb.lesion("L1", after_mm)]),
            ],
            treatments=cb.cycles("2025-03-03", 4),
        )

    # 48 = 1.2 × 40 and +8 mm → PD; 47 → SD
    assert fires(cb, "RESPONSE.PROGRESSION_ON_CHEMOTHERAPY", **blocks(48))
    assert not fires(cb, "RESPONSE.PROGRESSION_ON_CHEMOTHERAPY", **blocks(47))
    untreated = blocks(48)
    untreated["treatments"] = []
    assert not fires(cb, "RESPONSE.PROGRESSION_ON_CHEMOTHERAPY", **untreated)
    finding = cb.finding(cb.case(**blocks(48)), "RESPONSE.PROGRESSION_ON_CHEMOTHERAPY")
    assert finding.severity == Severity.CRITICAL
    assert finding.values["sum_mm"] == 48 and finding.values["nadir_mm"] == 40


def test_complete_radiological_response(cb: Any) -> None:
    before = cb.scan("2025-03-01", [cb.lesion("L1", 40)])
    gone = cb.scan("2025-05-01", [cb.lesion("L1", 0)])
    assert fires(
        cb,
        "RESPONSE.COMPLETE_RADIOLOGICAL_RESPONSE",
        imaging=[before, gone],
        treatments=cb.cycles("2025-03-03", 4),
    )
    with_non_target = [
        cb.scan("2025-03-01", [cb.lesion("L1", 40), cb.lesion("L2", 8)]),
        cb.scan("2025-05-01", [cb.lesion("L1", 0), cb.lesion("L2", 5)]),
    ]
    assert not fires(
        cb,
        "RESPONSE.COMPLETE_RADIOLOGICAL_RESPONSE",
        imaging=with_non_target,
        treatments=cb.cycles("2025-03-03", 4),
    )


def test_disappearing_metastasis(cb: Any) -> None:
    imaging = [
        cb.scan("2025-03-01", [cb.lesion("L1", 40), cb.lesion("L2", 15)]),
        cb.scan("2025-05-01", [cb.lesion("L1", 30), cb.lesion("L2", 0)]),
    ]
    assert fires(cb, "RESPONSE.DISAPPEARING_METASTASIS", imaging=imaging)
    ablated = [cb.procedure("2025-05-10", "thermal_ablation", lesion_ids=["L2"])]
    assert not fires(cb, "RESPONSE.DISAPPEARING_METASTASIS", imaging=imaging, treatments=ablated)
    # every lesion gone = CR, reported by its own rule instead
    all_gone = [imaging[0], cb.scan("2025-05-01", [cb.lesion("L1", 0), cb.lesion("L2", 0)])]
    assert not fires(cb, "RESPONSE.DISAPPEARING_METASTASIS", imaging=all_gone)


def test_mark_lesions_at_risk(cb: Any) -> None:
    def blocks(mm: float, depth: float, **extra: Any) -> dict[str, Any]:
        return dict(
            imaging=[cb.scan("2025-03-01", [cb.lesion("L1", mm, depth_mm=depth)])],
            treatments=cb.cycles("2025-04-01", 4) + extra.get("procedures", []),
        )

    assert fires(cb, "RESPONSE.MARK_LESIONS_AT_RISK", **blocks(19, 5))
    assert not fires(cb, "RESPONSE.MARK_LESIONS_AT_RISK", **blocks(20, 10))
    assert fires(cb, "RESPONSE.MARK_LESIONS_AT_RISK", **blocks(25, 11))
    marked = [cb.procedure("2025-03-20", "fiducial_marking")]
    assert not fires(cb, "RESPONSE.MARK_LESIONS_AT_RISK", **blocks(19, 5, procedures=marked))
    # not on treatment any more (last cycle 2025-05-13; 36 days later)
    assert not fires(cb, "RESPONSE.MARK_LESIONS_AT_RISK", as_of=date(2025, 6, 18), **blocks(19, 5))
    assert fires(cb, "RESPONSE.MARK_LESIONS_AT_RISK", as_of=date(2025, 6, 17), **blocks(19, 5))


def test_mark_lesions_at_risk_before_the_first_cycle(cb: Any) -> None:
    # systemic therapy planned and none given yet: mark before the first cycle
    small = [cb.scan("2025-03-01", [cb.lesion("L1", 19, depth_mm=5)])]
    finding = cb.finding(
        cb.case(imaging=small, plan={"planned_regimen": "folfoxiri"}),
        "RESPONSE.MARK_LESIONS_AT_RISK",
    )
    assert "before the first cycle" in finding.message
    assert fires(
        cb,
        "RESPONSE.MARK_LESIONS_AT_RISK",
        imaging=small,
        plan={"planned_immunotherapy": "pembrolizumab"},
    )
    # nothing planned: nothing to mark for
    assert not fires(cb, "RESPONSE.MARK_LESIONS_AT_RISK", imaging=small)
    assert not fires(
        cb,
        "RESPONSE.MARK_LESIONS_AT_RISK",
        imaging=[cb.scan("2025-03-01", [cb.lesion("L1", 20, depth_mm=10)])],
        plan={"planned_regimen": "folfox"},
    )
    # planned but given long ago (no longer on treatment): not "none given yet"
    assert not fires(
        cb,
        "RESPONSE.MARK_LESIONS_AT_RISK",
        imaging=small,
        plan={"planned_regimen": "folfox"},
        treatments=cb.cycles("2025-03-02", 2),
    )


def _cea(cb: Any, baseline: float, latest: float) -> dict[str, Any]:
    return dict(
        imaging=[cb.scan("2025-03-01", [cb.lesion("L1", 32)])],
        labs=[
            {"date": "2025-03-01", "cea_ng_ml": baseline},
            {"date": "2025-05-20", "cea_ng_ml": latest},
        ],
        treatments=cb.cycles("2025-03-03", 6),
    )


def test_cea_not_falling_and_falling(cb: Any) -> None:
    # 40 → 37.4 = −6.5 %: not falling; 40 → 37 = −7.5 %: falling
    assert fires(cb, "RESPONSE.CEA_NOT_FALLING", **_cea(cb, 40, 37.4))
    assert not fires(cb, "RESPONSE.CEA_FALLING", **_cea(cb, 40, 37.4))
    assert fires(cb, "RESPONSE.CEA_FALLING", **_cea(cb, 40, 37))
    assert not fires(cb, "RESPONSE.CEA_NOT_FALLING", **_cea(cb, 40, 37))
    # −7.4 % is not enough
    assert fires(cb, "RESPONSE.CEA_NOT_FALLING", **_cea(cb, 50, 46.3))


def test_cea_not_falling_message_shows_the_decline_it_needs(cb: Any) -> None:
    # guideline-rules.md, Output: "`message` is one or two sentences with the actual values"
    found = cb.finding(cb.case(**_cea(cb, 40, 37.4)), "RESPONSE.CEA_NOT_FALLING")
    assert "at least 7.5 %" in found.message
    assert "{" not in found.message and "}" not in found.message


def test_cea_rules_need_a_raised_baseline(cb: Any) -> None:
    # baseline at the upper limit of normal (5.0): neither fires; 5.1: one does
    assert not {"RESPONSE.CEA_NOT_FALLING", "RESPONSE.CEA_FALLING"} & cb.rules(
        cb.case(**_cea(cb, 5.0, 6.0))
    )
    assert "RESPONSE.CEA_NOT_FALLING" in cb.rules(cb.case(**_cea(cb, 5.1, 6.0)))


def test_cea_rules_need_an_on_treatment_sample(cb: Any) -> None:
    # the latest CEA after the baseline one, with a dose on/after the baseline sample's day
    # and before the latest sample's day
    blocks = _cea(cb, 40, 45)
    blocks["labs"][1]["date"] = "2025-03-04"  # the day after cycle 1
    assert fires(cb, "RESPONSE.CEA_NOT_FALLING", **blocks)
    blocks["labs"][1]["date"] = "2025-03-03"  # drawn on the day of cycle 1: pre-dose
    assert not fires(cb, "RESPONSE.CEA_NOT_FALLING", **blocks)
    # the latest CEA is the baseline itself: never compared with itself
    blocks["labs"] = blocks["labs"][:1]
    assert not fires(cb, "RESPONSE.CEA_NOT_FALLING", **blocks)
    assert not fires(cb, "RESPONSE.CEA_FALLING", **blocks)
    # every sample after the last dose (the first of the episode is then the baseline): no
    # dose between the two samples
    blocks["labs"] = [
        {"date": "2025-05-13", "cea_ng_ml": 40},
        {"date": "2025-05-20", "cea_ng_ml": 45},
    ]  # last cycle 2025-05-12
    assert not fires(cb, "RESPONSE.CEA_NOT_FALLING", as_of=date(2025, 5, 20), **blocks)
    blocks["treatments"] = cb.cycles("2025-03-03", 7)  # cycle 7 on 2025-05-26
    blocks["labs"].append({"date": "2025-05-27", "cea_ng_ml": 45})
    assert fires(cb, "RESPONSE.CEA_NOT_FALLING", as_of=date(2025, 5, 27), **blocks)


def test_ct_only_restaging(cb: Any) -> None:
    mri = cb.scan("2025-03-01", [cb.lesion("L1", 32)])
    ct = cb.scan("2025-05-01", [cb.lesion("L1", 30)], modality="ct")
    assert fires(
        cb, "RESPONSE.CT_ONLY_RESTAGING", imaging=[mri, ct], treatments=cb.cycles("2025-03-03", 4)
    )
    # an MRI on the first cycle's day is the pre-treatment baseline, not a restaging MRI
    mri_same_day = cb.scan("2025-03-03", [cb.lesion("L1", 32)])
    assert fires(
        cb,
        "RESPONSE.CT_ONLY_RESTAGING",
        imaging=[mri, mri_same_day, ct],
        treatments=cb.cycles("2025-03-03", 4),
    )
    mri_after = cb.scan("2025-03-04", [cb.lesion("L1", 32)])
    assert not fires(
        cb,
        "RESPONSE.CT_ONLY_RESTAGING",
        imaging=[mri, mri_after, ct],
        treatments=cb.cycles("2025-03-03", 4),
    )
    # CT on the day chemotherapy starts is the baseline, not a restaging
    ct_baseline = cb.scan("2025-05-01", [cb.lesion("L1", 30)], modality="ct")
    assert not fires(
        cb,
        "RESPONSE.CT_ONLY_RESTAGING",
        imaging=[ct_baseline],
        treatments=cb.cycles("2025-05-01", 2),
    )


def test_ct_only_restaging_counts_from_the_first_cycle_of_any_setting(cb: Any) -> None:
    # "first cycle" is chemotherapy.first_cycle_date: adjuvant cycles count too
    operated = [
        cb.procedure("2025-01-10", "hepatectomy"),
        *cb.cycles("2025-02-10", 4, setting="adjuvant"),
    ]
    ct = cb.scan("2025-04-20", [cb.lesion("L1", 0)], modality="ct")
    assert fires(cb, "RESPONSE.CT_ONLY_RESTAGING", treatments=operated, imaging=[ct])
    mri = cb.scan("2025-02-11", [cb.lesion("L1", 0)])
    assert not fires(cb, "RESPONSE.CT_ONLY_RESTAGING", treatments=operated, imaging=[mri, ct])
    # immunotherapy alone has no chemotherapy cycle
    dose = [
        {
            "kind": "immunotherapy",
            "date": "2025-03-03",
            "agent": "pembrolizumab",
            "cycle": 1,
            "setting": "palliative",
        }
    ]
    ct = cb.scan("2025-05-01", [cb.lesion("L1", 30)], modality="ct")
    assert not fires(
        cb,
        "RESPONSE.CT_ONLY_RESTAGING",
        treatments=dose,
        imaging=[cb.scan("2025-03-01", [cb.lesion("L1", 32)]), ct],
    )


# --------------------------------------------------------------------------------------
# SURGERY


def test_flr_below_required(cb: Any) -> None:
    assert fires(cb, "SURGERY.FLR_BELOW_REQUIRED", plan={"planned_flr_percent": 19})
    assert not fires(cb, "SURGERY.FLR_BELOW_REQUIRED", plan={"planned_flr_percent": 20})
    cirrhosis = {"liver_background": "cirrhosis"}
    assert fires(
        cb, "SURGERY.FLR_BELOW_REQUIRED", patient=cirrhosis, plan={"planned_flr_percent": 39}
    )
    assert not fires(
        cb, "SURGERY.FLR_BELOW_REQUIRED", patient=cirrhosis, plan={"planned_flr_percent": 40}
    )
    steatosis = {"liver_background": "steatohepatitis"}
    assert fires(
        cb, "SURGERY.FLR_BELOW_REQUIRED", patient=steatosis, plan={"planned_flr_percent": 29}
    )
    assert not fires(
        cb, "SURGERY.FLR_BELOW_REQUIRED", patient=steatosis, plan={"planned_flr_percent": 30}
    )


def test_flr_below_required_uses_the_latest_imaging_measure(cb: Any) -> None:
    # imaging 390 / 1600 mL = 24.4 % wins over the planned 35 %
    imaging = [
        cb.scan("2025-04-01", [cb.lesion("L1", 32)], total_liver_volume_ml=1600, flr_volume_ml=390)
    ]
    finding = cb.finding(
        cb.case(imaging=imaging, plan={"planned_flr_percent": 35}),
        "SURGERY.FLR_BELOW_REQUIRED",
        profile=Profile(flr_required_normal=25),
    )
    assert finding.values["flr_percent"] == 24.4
    assert finding.values["required_percent"] == 25
    assert finding.values["source"] == "imaging"


def _pve(cb: Any, after_percent: float) -> dict[str, Any]:
    return dict(
        treatments=[cb.procedure("2025-04-01", "portal_vein_embolization")],
        imaging=[
            cb.scan("2025-03-25", [cb.lesion("L1", 32)], flr_percent=20),
            cb.scan("2025-04-29", [cb.lesion("L1", 32)], flr_percent=after_percent),
        ],
    )


def test_pve_low_growth(cb: Any) -> None:
    # 4.0 weeks: +7.9 points = 1.98 %/week (< 2); +8.0 = 2.0 %/week
    assert fires(cb, "SURGERY.PVE_LOW_GROWTH", **_pve(cb, 27.9))
    assert not fires(cb, "SURGERY.PVE_LOW_GROWTH", **_pve(cb, 28))
    values = cb.finding(cb.case(**_pve(cb, 27.9)), "SURGERY.PVE_LOW_GROWTH").values
    assert values["kinetic_growth_rate"] == 1.98
    assert values["weeks"] == 4.0


def test_pve_growth_rate_divides_the_shown_weeks(cb: Any) -> None:
    # 31 days = 4.4 weeks (shown); +8.8 points / 4.4 = 2.0 %/week: not low
    # (8.8 / 4.43 would be 1.99 and fire although the shown numbers give 2.0)
    blocks = _pve(cb, 28.8)
    blocks["imaging"][1]["date"] = "2025-05-02"
    assert not fires(cb, "SURGERY.PVE_LOW_GROWTH", **blocks)
    assert cb.evaluate(cb.case(**blocks)).facts.pve.kinetic_growth_rate == 2.0


def test_r1_margin(cb: Any) -> None:
    def outcome(**fields: Any) -> list[Any]:
        return [{"date": "2025-05-01", "procedure": "hepatectomy", **fields}]

    assert fires(cb, "SURGERY.R1_MARGIN", surgery_outcomes=outcome(margin_status="r1"))
    assert fires(cb, "SURGERY.R1_MARGIN", surgery_outcomes=outcome(margin_mm=0.9))
    assert not fires(
        cb, "SURGERY.R1_MARGIN", surgery_outcomes=outcome(margin_status="r0", margin_mm=1.0)
    )
    # R2 is SURGERY.R2_RESIDUAL_DISEASE, also with a margin below the limit
    assert not fires(cb, "SURGERY.R1_MARGIN", surgery_outcomes=outcome(margin_status="r2"))
    assert not fires(
        cb, "SURGERY.R1_MARGIN", surgery_outcomes=outcome(margin_status="r2", margin_mm=0)
    )
    # the latest liver resection decides: a later R0 resection supersedes an earlier R1 …
    both = [
        *outcome(margin_status="r1"),
        {"date": "2025-05-20", "procedure": "hepatectomy", "margin_status": "r0", "margin_mm": 5},
    ]
    assert not fires(cb, "SURGERY.R1_MARGIN", surgery_outcomes=both)
    # … but a later colectomy or proctectomy says nothing of the liver (liver-first pathway)
    for later in ("colectomy", "proctectomy", "other"):
        after = [
            *outcome(margin_status="r1"),
            {"date": "2025-05-20", "procedure": later, "margin_status": "r0"},
        ]
        assert fires(cb, "SURGERY.R1_MARGIN", surgery_outcomes=after), later
    rectum = [
        *outcome(margin_status="r0"),
        {"date": "2025-05-20", "procedure": "proctectomy", "margin_status": "r1"},
    ]
    assert not fires(cb, "SURGERY.R1_MARGIN", surgery_outcomes=rectum)
    # first stages count as liver resections
    first = [{"date": "2025-05-01", "procedure": "two_stage_first", "margin_status": "r1"}]
    assert fires(cb, "SURGERY.R1_MARGIN", surgery_outcomes=first)
    # outcomes after as_of are ignored
    assert not fires(
        cb,
        "SURGERY.R1_MARGIN",
        as_of=date(2025, 4, 30),
        surgery_outcomes=outcome(margin_status="r1"),
    )


def test_r1_margin_adjuvant_sentence_only_within_the_discussion_window(cb: Any) -> None:
    outcome = [{"date": "2025-03-09", "procedure": "hepatectomy", "margin_status": "r1"}]
    recent = cb.finding(cb.case(surgery_outcomes=outcome), "SURGERY.R1_MARGIN")  # 84 days
    assert "discuss adjuvant therapy" in recent.message
    later = cb.finding(
        cb.case(surgery_outcomes=outcome), "SURGERY.R1_MARGIN", as_of=date(2025, 6, 2)
    )  # 85 days
    assert "adjuvant" not in later.message
    assert "recurrence now follows an R1 resection" in later.message


def test_r1_margin_outcome_without_procedure_reads_the_same_day_operation(cb: Any) -> None:
    outcome = [{"date": "2025-05-01", "margin_status": "r1"}]
    assert fires(
        cb,
        "SURGERY.R1_MARGIN",
        surgery_outcomes=outcome,
        treatments=[cb.procedure("2025-05-01", "hepatectomy")],
    )
    assert not fires(
        cb,
        "SURGERY.R1_MARGIN",
        surgery_outcomes=outcome,
        treatments=[cb.procedure("2025-05-01", "colectomy")],
    )


def test_r1_margin_same_day_outcomes_do_not_depend_on_file_order(cb: Any) -> None:
    liver = {
        "date": "2025-05-01",
        "procedure": "hepatectomy",
        "margin_status": "r1",
        "margin_mm": 0.5,
    }
    colon = {"date": "2025-05-01", "procedure": "colectomy", "margin_status": "r0"}
    for outcomes in ([liver, colon], [colon, liver]):
        evaluation = cb.evaluate(cb.case(surgery_outcomes=outcomes))
        hits = [f for f in evaluation.findings if f.rule == "SURGERY.R1_MARGIN"]
        assert len(hits) == 1
        assert hits[0].values["procedure"] == "hepatectomy"
        assert hits[0].values["margin_mm"] == 0.5


def test_adjuvant_discussion(cb: Any) -> None:
    def operated(when: str, *extra: Any) -> list[Any]:
        return [cb.procedure(when, "hepatectomy"), *extra]

    assert fires(cb, "SURGERY.ADJUVANT_DISCUSSION", treatments=operated("2025-03-09"))  # 84 d
    assert not fires(
        cb, "SURGERY.ADJUVANT_DISCUSSION", treatments=operated("2025-03-08")
    )  # 85 days
    adjuvant = cb.cycles("2025-04-10", 2, setting="adjuvant")
    assert not fires(
        cb, "SURGERY.ADJUVANT_DISCUSSION", treatments=operated("2025-03-09", *adjuvant)
    )
    # not after an R2 operation (residual disease, not adjuvant)
    for margin, expected in (("r2", False), ("r1", True), ("r0", True)):
        outcome = [{"date": "2025-03-09", "procedure": "hepatectomy", "margin_status": margin}]
        assert (
            fires(
                cb,
                "SURGERY.ADJUVANT_DISCUSSION",
                treatments=operated("2025-03-09"),
                surgery_outcomes=outcome,
            )
            is expected
        ), margin


# --------------------------------------------------------------------------------------
# SCORE


def test_fong_high_risk(cb: Any) -> None:
    # node-positive + DFI < 12 months + 2 lesions = 3; with n0 = 2
    early = {"resection_date": "2024-10-01", "diagnosis_date": "2024-09-01", "n": "n1b"}
    two = [cb.scan("2025-04-01", lesions(2))]
    assert fires(cb, "SCORE.FONG_HIGH_RISK", primary=early, imaging=two)
    assert not fires(cb, "SCORE.FONG_HIGH_RISK", primary={**early, "n": "n0"}, imaging=two)
    assert not fires(
        cb, "SCORE.FONG_HIGH_RISK", primary=early, imaging=two, profile=Profile(fong_high_risk=4)
    )


# --------------------------------------------------------------------------------------
# Every rule is covered


def test_every_rule_has_a_firing_and_a_missing_test() -> None:
    """Every catalogue rule id is exercised by a `fires(...)` call in this module (a case that
    fires it) and by a `not fires(...)` call (a case that just misses it)."""
    source = Path(__file__).read_text(encoding="utf-8")
    untested = [
        r.id
        for r in RULES
        if not re.search(r'(?<!not )fires\(\s*cb,\s*"' + re.escape(r.id), source)
    ]
    assert not untested, untested
    unmissed = [
        r.id for r in RULES if not re.search(r'not fires\(\s*cb,\s*"' + re.escape(r.id), source)
    ]
    assert not unmissed, unmissed
    assert len(RULES) == 53


# --------------------------------------------------------------------------------------
# Engine 1.1.0: the new rules and the corrected ones (fire / just miss)


def test_target_not_measurable(cb: Any) -> None:
    def marked(mm: float) -> list[Any]:
        return [cb.scan("2025-04-01", [cb.lesion("L1", 32), cb.lesion("L2", mm, target=True)])]

    assert fires(cb, "DATA.TARGET_NOT_MEASURABLE", imaging=marked(6))
    assert fires(cb, "DATA.TARGET_NOT_MEASURABLE", imaging=marked(9.9))
    assert not fires(cb, "DATA.TARGET_NOT_MEASURABLE", imaging=marked(10))
    finding = cb.finding(cb.case(imaging=marked(6)), "DATA.TARGET_NOT_MEASURABLE")
    assert "L2 (6 mm)" in finding.message
    assert finding.values["demoted"] == [
        {"lesion": "L2", "diameter_mm": 6, "reason": "below_10_mm"}
    ]
    # a third marked lesion is beyond the two RECIST allows
    three = [
        cb.scan(
            "2025-04-01",
            [cb.lesion(f"L{i}", 20, target=True) for i in (1, 2, 3)],
        )
    ]
    assert fires(cb, "DATA.TARGET_NOT_MEASURABLE", imaging=three)
    assert not fires(
        cb, "DATA.TARGET_NOT_MEASURABLE", imaging=[{**three[0], "lesions": three[0]["lesions"][:2]}]
    )


def _raised_cea_on_treatment(cb: Any, *later: dict[str, Any]) -> dict[str, Any]:
    return dict(
        imaging=[cb.scan("2025-04-01", [cb.lesion("L1", 32)])],
        labs=[{"date": "2025-04-01", "cea_ng_ml": 40}, *later],
        treatments=cb.cycles("2025-04-02", 4),  # to 2025-05-14: on treatment on 2025-06-01
    )


def test_cea_not_remeasured(cb: Any) -> None:
    assert fires(cb, "DATA.CEA_NOT_REMEASURED", **_raised_cea_on_treatment(cb))
    # a sample on the day of the first dose is not after it …
    same_day = {"date": "2025-04-02", "cea_ng_ml": 30}
    assert fires(cb, "DATA.CEA_NOT_REMEASURED", **_raised_cea_on_treatment(cb, same_day))
    # … the day after is
    after = {"date": "2025-04-03", "cea_ng_ml": 30}
    assert not fires(cb, "DATA.CEA_NOT_REMEASURED", **_raised_cea_on_treatment(cb, after))
    # a normal baseline (≤ cea_uln) needs no trend
    normal = _raised_cea_on_treatment(cb)
    normal["labs"] = [{"date": "2025-04-01", "cea_ng_ml": 5.0}]
    assert not fires(cb, "DATA.CEA_NOT_REMEASURED", **normal)
    normal["labs"] = [{"date": "2025-04-01", "cea_ng_ml": 5.1}]
    assert fires(cb, "DATA.CEA_NOT_REMEASURED", **normal)
    # not on treatment (last dose 2025-05-14 + 35 days = 2025-06-18)
    assert not fires(
        cb, "DATA.CEA_NOT_REMEASURED", as_of=date(2025, 6, 19), **_raised_cea_on_treatment(cb)
    )


def test_extrahepatic_unresectable(cb: Any) -> None:
    assert fires(
        cb,
        "PATHWAY.EXTRAHEPATIC_UNRESECTABLE",
        extrahepatic_disease=[{"site": "lung", "resectable": False}],
    )
    assert not fires(
        cb,
        "PATHWAY.EXTRAHEPATIC_UNRESECTABLE",
        extrahepatic_disease=[{"site": "lung", "resectable": True}],
    )
    assert not fires(
        cb, "PATHWAY.EXTRAHEPATIC_UNRESECTABLE", extrahepatic_disease=[{"site": "lung"}]
    )
    for site in ("bone", "brain"):
        assert fires(
            cb,
            "PATHWAY.EXTRAHEPATIC_UNRESECTABLE",
            extrahepatic_disease=[{"site": site, "resectable": True}],
        )
    assert not fires(
        cb,
        "PATHWAY.EXTRAHEPATIC_UNRESECTABLE",
        extrahepatic_disease=[{"site": "bone"}],
        plan={"intent": "palliative"},
    )


def _converting(cb: Any, later_mm: float, setting: str = "conversion") -> dict[str, Any]:
    return dict(
        plan={"resectability": "unresectable"},
        imaging=[
            cb.scan("2025-03-01", [cb.lesion("L1", 50)]),
            cb.scan("2025-05-01", [cb.lesion("L1", later_mm)]),
        ],
        treatments=cb.cycles("2025-03-03", 4, setting=setting),
    )


def test_reassess_resectability(cb: Any) -> None:
    # 35 of 50 mm = −30 %: PR; 35.1 = SD
    assert fires(cb, "PATHWAY.REASSESS_RESECTABILITY", **_converting(cb, 35))
    assert not fires(cb, "PATHWAY.REASSESS_RESECTABILITY", **_converting(cb, 35.1))
    assert fires(cb, "PATHWAY.REASSESS_RESECTABILITY", **_converting(cb, 35, "neoadjuvant"))
    assert not fires(cb, "PATHWAY.REASSESS_RESECTABILITY", **_converting(cb, 35, "palliative"))
    borderline = _converting(cb, 0)
    borderline["plan"] = {"resectability": "borderline"}
    assert fires(cb, "PATHWAY.REASSESS_RESECTABILITY", **borderline)  # CR
    resectable = _converting(cb, 35)
    resectable["plan"] = {"resectability": "resectable"}
    assert not fires(cb, "PATHWAY.REASSESS_RESECTABILITY", **resectable)


def test_fitness_for_surgery(cb: Any) -> None:
    planned = {"segments_to_resect": [6, 7]}
    assert fires(cb, "PATHWAY.FITNESS_FOR_SURGERY", patient={"ecog": 2}, plan=planned)
    assert not fires(cb, "PATHWAY.FITNESS_FOR_SURGERY", patient={"ecog": 1}, plan=planned)
    # born 1945-06-01: 80 on 2025-06-01; a day later born, 79
    assert fires(
        cb, "PATHWAY.FITNESS_FOR_SURGERY", patient={"birth_date": "1945-06-01"}, plan=planned
    )
    assert not fires(
        cb, "PATHWAY.FITNESS_FOR_SURGERY", patient={"birth_date": "1945-06-02"}, plan=planned
    )
    for strategy in ("upfront_resection", "two_stage_hepatectomy", "alpps"):
        assert fires(
            cb, "PATHWAY.FITNESS_FOR_SURGERY", patient={"ecog": 3}, plan={"strategy": strategy}
        )
    # no resection planned, or not curative
    assert not fires(
        cb,
        "PATHWAY.FITNESS_FOR_SURGERY",
        patient={"ecog": 3},
        plan={"strategy": "thermal_ablation"},
    )
    assert not fires(
        cb,
        "PATHWAY.FITNESS_FOR_SURGERY",
        patient={"ecog": 3},
        plan={**planned, "intent": "palliative"},
    )


def test_regional_therapy_option(cb: Any) -> None:
    two_lines = [*cb.cycles("2025-01-06", 4), *cb.cycles("2025-03-03", 4, regimen="folfiri")]
    unresectable = {"resectability": "unresectable"}
    assert fires(cb, "PATHWAY.REGIONAL_THERAPY_OPTION", plan=unresectable, treatments=two_lines)
    one_line = cb.cycles("2025-01-06", 8)
    assert not fires(cb, "PATHWAY.REGIONAL_THERAPY_OPTION", plan=unresectable, treatments=one_line)
    assert not fires(
        cb,
        "PATHWAY.REGIONAL_THERAPY_OPTION",
        plan={"resectability": "borderline"},
        treatments=two_lines,
    )
    assert not fires(
        cb,
        "PATHWAY.REGIONAL_THERAPY_OPTION",
        plan=unresectable,
        treatments=two_lines,
        extrahepatic_disease=[{"site": "lung"}],
    )
    # progression on one regimen
    progressing = [
        cb.scan("2025-01-01", [cb.lesion("L1", 40)]),
        cb.scan("2025-04-01", [cb.lesion("L1", 40)], new_lesions=True),
    ]
    assert fires(
        cb,
        "PATHWAY.REGIONAL_THERAPY_OPTION",
        plan=unresectable,
        treatments=one_line,
        imaging=progressing,
    )


def test_r2_residual_disease(cb: Any) -> None:
    def outcome(margin: str, procedure: str = "hepatectomy") -> list[Any]:
        return [{"date": "2025-05-01", "procedure": procedure, "margin_status": margin}]

    assert fires(cb, "SURGERY.R2_RESIDUAL_DISEASE", surgery_outcomes=outcome("r2"))
    assert not fires(cb, "SURGERY.R2_RESIDUAL_DISEASE", surgery_outcomes=outcome("r1"))
    assert not fires(cb, "SURGERY.R2_RESIDUAL_DISEASE", surgery_outcomes=outcome("r2", "colectomy"))
    assert fires(cb, "SURGERY.R2_RESIDUAL_DISEASE", surgery_outcomes=outcome("r2", "alpps_stage_1"))
    # a later R0 liver resection supersedes it; a later proctectomy does not
    later_r0 = [
        *outcome("r2"),
        {"date": "2025-05-20", "procedure": "hepatectomy", "margin_status": "r0"},
    ]
    assert not fires(cb, "SURGERY.R2_RESIDUAL_DISEASE", surgery_outcomes=later_r0)
    later_rectum = [
        *outcome("r2"),
        {"date": "2025-05-20", "procedure": "proctectomy", "margin_status": "r0"},
    ]
    assert fires(cb, "SURGERY.R2_RESIDUAL_DISEASE", surgery_outcomes=later_rectum)
    evaluation = cb.evaluate(cb.case(surgery_outcomes=outcome("r2")))
    assert evaluation.findings[0].rule == "SURGERY.R2_RESIDUAL_DISEASE"
    assert evaluation.findings[0].severity == Severity.CRITICAL


def test_second_stage_pending(cb: Any) -> None:
    first = [cb.procedure("2025-04-01", "two_stage_first")]
    assert fires(cb, "SURGERY.SECOND_STAGE_PENDING", treatments=first)
    assert fires(
        cb, "SURGERY.SECOND_STAGE_PENDING", treatments=[cb.procedure("2025-04-01", "alpps_stage_1")]
    )
    done = [*first, cb.procedure("2025-05-20", "two_stage_second")]
    assert not fires(cb, "SURGERY.SECOND_STAGE_PENDING", treatments=done)
    # the second stage after as_of has not happened yet
    assert fires(cb, "SURGERY.SECOND_STAGE_PENDING", treatments=done, as_of=date(2025, 5, 19))
    # PVE between the stages does not end the wait; an outcome alone counts as the operation
    with_pve = [*first, cb.procedure("2025-04-20", "portal_vein_embolization")]
    assert fires(cb, "SURGERY.SECOND_STAGE_PENDING", treatments=with_pve)
    assert fires(
        cb,
        "SURGERY.SECOND_STAGE_PENDING",
        surgery_outcomes=[{"date": "2025-04-01", "procedure": "two_stage_first"}],
    )
    assert not fires(
        cb, "SURGERY.SECOND_STAGE_PENDING", treatments=[cb.procedure("2025-04-01", "hepatectomy")]
    )


def test_surgery_too_soon_after_capecitabine(cb: Any) -> None:
    # CAPOX on 2025-04-01: oral capecitabine to 2025-04-14, so the 28-day washout ends
    # 2025-05-12 (not 2025-04-29 as counted from the cycle date)
    capox = dict(
        imaging=[cb.scan("2025-03-20", [cb.lesion("L1", 32)])],
        treatments=cb.cycles("2025-04-01", 1, regimen="capox", every=21),
    )
    assert fires(
        cb,
        "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY",
        plan={"planned_surgery_date": "2025-05-11"},
        **capox,
    )
    assert not fires(
        cb,
        "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY",
        plan={"planned_surgery_date": "2025-05-12"},
        **capox,
    )
    facts = cb.evaluate(cb.case(**capox)).facts
    assert facts.earliest_safe_surgery_date == date(2025, 5, 12)
    assert facts.chemotherapy.last_drug_delivery_date == date(2025, 4, 14)
    shorter = Profile(capecitabine_course_days=7)
    assert not fires(
        cb,
        "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY",
        plan={"planned_surgery_date": "2025-05-05"},
        profile=shorter,
        **capox,
    )


def test_proceed_to_surgery_accepts_nn(cb: Any) -> None:
    nn = dict(
        plan={"resectability": "resectable"},
        imaging=[
            cb.scan("2025-03-01", [cb.lesion("L1", 8)]),
            cb.scan("2025-05-01", [cb.lesion("L1", 7)]),
        ],
        treatments=cb.cycles("2025-03-03", 4),
    )
    assert cb.evaluate(cb.case(**nn)).facts.current_response == "NN"
    assert fires(cb, "TIMING.PROCEED_TO_SURGERY", **nn)
    nn["imaging"][1]["new_lesions"] = True
    assert not fires(cb, "TIMING.PROCEED_TO_SURGERY", **nn)


def test_progression_on_chemotherapy_with_new_lesions_and_no_measurable_baseline(cb: Any) -> None:
    """The clinical review's worst case: new lesions, no measurable target at baseline."""
    blocks = dict(
        plan={"resectability": "unresectable"},
        patient={"ecog": 0},
        imaging=[
            cb.scan("2025-03-01", [cb.lesion("L1", 8)]),
            cb.scan("2025-05-01", [cb.lesion("L1", 8)], new_lesions=True),
        ],
        treatments=cb.cycles("2025-03-03", 4),
    )
    rules = cb.rules(cb.case(**blocks))
    assert "RESPONSE.PROGRESSION_ON_CHEMOTHERAPY" in rules
    assert "PATHWAY.TRANSPLANT_REFERRAL" not in rules
    blocks["imaging"][1]["new_lesions"] = False
    assert not fires(cb, "RESPONSE.PROGRESSION_ON_CHEMOTHERAPY", **blocks)


def test_anti_egfr_resectable_says_overall_survival(cb: Any) -> None:
    finding = cb.finding(
        cb.case(plan={"resectability": "resectable", "planned_biologic": "cetuximab"}),
        "REGIMEN.ANTI_EGFR_RESECTABLE",
    )
    assert "overall survival (81.0 vs 55.4 months" in finding.message
    assert "PFS difference was not significant" in finding.message
