"""The spec's own tables, written once for the engine's tests: the facts every evaluation
document holds (guideline-rules.md, Facts), the institution profile's defaults (its Profile
table) and the sidedness of each primary site; the quiet base records' scan; and `merged`,
which writes a case document as a base with blocks changed."""

from __future__ import annotations

import copy
from typing import Any

SPEC_FACTS = (
    "episode_start",
    "previous_hepatectomies",
    "age_years",
    "bmi",
    "sidedness",
    "node_positive",
    "ras_status",
    "braf_status",
    "mmr_status",
    "presentation",
    "disease_free_interval_months",
    "baseline_imaging",
    "current_imaging",
    "lesion_count",
    "largest_diameter_mm",
    "bilobar",
    "tumor_burden_score",
    "tumor_burden_score_baseline",
    "cea_baseline",
    "cea_latest",
    "cea_change_percent",
    "chemotherapy",
    "extensive_chemotherapy",
    "apri",
    "flr",
    "pve",
    "major_hepatectomy",
    "earliest_safe_surgery_date",
    "next_restaging_due",
    "fong_crs",
    "game_score",
    "modified_clinical_score",
    "recist",
    "current_response",
    "best_response",
    "morphologic_response",
)
CHEMOTHERAPY_FACTS = (
    "preoperative_cycles",
    "preoperative_weeks",
    "oxaliplatin_cycles",
    "irinotecan_cycles",
    "first_cycle_date",
    "last_cycle_date",
    "last_bevacizumab_date",
    "anti_egfr_given",
    "immunotherapy_given",
    "on_treatment",
)

PROFILE_DEFAULTS = {
    "chemo_washout_days": 28,
    "bevacizumab_washout_days": 42,
    "restaging_interval_days": 56,
    "restaging_soon_days": 14,
    "on_treatment_window_days": 35,
    "prolonged_chemo_weeks": 12,
    "prolonged_chemo_cycles": 6,
    "flr_required_normal": 20,
    "flr_required_injured": 30,
    "flr_required_cirrhosis": 40,
    "major_hepatectomy_segments": 3,
    "pve_reassess_days": 21,
    "dlm_small_mm": 20,
    "dlm_deep_mm": 10,
    "ablation_max_mm": 30,
    "cea_uln": 5.0,
    "cea_decline_percent": 7.5,
    "irinotecan_bmi": 25,
    "oxaliplatin_sos_cycles": 6,
    "margin_min_mm": 1,
    "fong_high_risk": 3,
    "upfront_max_lesions": 4,
    "peritoneal_max_liver_lesions": 3,
    "transplant_min_systemic_weeks": 6,
    "oslo_largest_mm": 55,
    "oslo_cea": 80,
    "oslo_interval_months": 24,
    "kgr_min_percent_per_week": 2.0,
    # engine 1.1.0: the keys the 1.0.0 implementation had to add, and three new ones
    "capecitabine_course_days": 14,
    "surgery_fitness_ecog": 2,
    "surgery_fitness_age": 80,
    "adjuvant_discussion_weeks": 12,
    "folfoxiri_max_ecog": 1,
    "folfoxiri_max_age": 75,
    "transplant_max_ecog": 1,
}

SIDEDNESS = [
    ("caecum", "right"),
    ("ascending", "right"),
    ("hepatic_flexure", "right"),
    ("transverse", "right"),
    ("splenic_flexure", "left"),
    ("descending", "left"),
    ("sigmoid", "left"),
    ("rectosigmoid", "left"),
    ("rectum", "left"),
    (None, "unknown"),
]
"""The primary's site and the side the spec derives from it (no site: unknown)."""

COMPLETE_MOLECULAR: dict[str, Any] = {
    "kras": "wild_type",
    "nras": "wild_type",
    "braf": "wild_type",
    "mmr": "proficient",
    "msi": "mss",
}
"""A complete molecular profile that no rule remarks on (the quiet base records')."""


def quiet_scan(when: str) -> dict[str, Any]:
    """An MRI with one 32 mm lesion in segment 6, 5 mm under the capsule: the imaging of the
    tests' quiet base records, which fire no rule."""
    lesion = {"id": "L1", "segment": 6, "longest_diameter_mm": 32, "depth_mm": 5}
    return {"date": when, "modality": "mri", "lesions": [{**lesion, "status": "present"}]}


def merged(base: dict[str, Any], **blocks: Any) -> dict[str, Any]:
    """`base` with blocks replaced (lists, scalars) or merged (objects; a None value drops a
    key); a block given as None is dropped."""
    data = copy.deepcopy(base)
    for key, value in blocks.items():
        if value is None:
            data.pop(key, None)
        elif isinstance(value, dict) and isinstance(data.get(key), dict):
            merged_block = {**data[key], **value}
            data[key] = {k: v for k, v in merged_block.items() if v is not None}
        else:
            data[key] = value
    return data
