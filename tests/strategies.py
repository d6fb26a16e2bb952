"""Hypothesis strategies for valid and invalid `crlmboard.case/1` documents."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from crlmboard.domain import models as m

FIRST = date(1990, 1, 1)
LAST = date(2026, 11, 24)


def enum(kind: type[Any]) -> st.SearchStrategy[str]:
    return st.sampled_from([v.value for v in kind])


def dates(start: date = FIRST, end: date = LAST) -> st.SearchStrategy[str]:
    return st.dates(start, end).map(date.isoformat)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def record(
    required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """A dict with the required keys and any subset of the optional ones (some null)."""
    return st.fixed_dictionaries(required, optional=optional)


numbers = st.floats(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False)
# the case format's texts: no lone surrogate, no control character but tab and line breaks
text = st.text(
    st.one_of(st.characters(blacklist_categories=["Cs", "Cc"]), st.sampled_from("\t\n\r")),
    max_size=30,
)
# a required free text (an action, a question) shows at least one character
visible_text = text.filter(m.shows_something)
names = st.text(st.characters(whitelist_categories=["Lu", "Ll", "Lo"]), min_size=1, max_size=20)

patient = record(
    {"mrn": st.from_regex(r"\A[A-Za-z0-9_/.\-]{1,32}\Z")},
    {
        "family_name": maybe(names),
        "given_name": maybe(names),
        "birth_date": dates(date(1930, 1, 1), date(1989, 12, 31)),
        "sex": enum(m.Sex),
        "ecog": st.integers(0, 4),
        "height_cm": st.floats(100, 230),
        "weight_kg": st.floats(25, 300),
        "liver_background": enum(m.LiverBackground),
        "comorbidities": st.lists(text, max_size=3),
        "referring_clinician": text,
        "referral_date": dates(),
    },
)

primary = st.builds(
    lambda diag, delta, rest: {
        "diagnosis_date": diag.isoformat(),
        **(
            {"resection_date": (diag + timedelta(days=delta)).isoformat()}
            if delta is not None
            else {}
        ),
        **rest,
    },
    st.dates(FIRST, LAST - timedelta(days=400)),
    maybe(st.integers(0, 400)),
    record(
        {},
        {
            "site": enum(m.PrimarySite),
            "histology": enum(m.Histology),
            "grade": enum(m.Grade),
            "t": enum(m.TCategory),
            "n": enum(m.NCategory),
            "staging_basis": enum(m.StagingBasis),
        },
    ),
)

molecular = record(
    {},
    {
        "kras": enum(m.RasResult),
        "nras": enum(m.RasResult),
        "braf": enum(m.BrafResult),
        "mmr": enum(m.MmrResult),
        "msi": enum(m.MsiResult),
        "her2": enum(m.Her2Result),
        "tested_on": dates(),
    },
)

lab = record(
    {"date": dates()},
    {
        "cea_ng_ml": numbers,
        "ast_u_l": numbers,
        "ast_uln_u_l": st.floats(1, 100),
        "platelets_10e9_l": numbers,
        "bilirubin_umol_l": numbers,
        "albumin_g_l": numbers,
    },
)

chemotherapy = record(
    {
        "kind": st.just("chemotherapy"),
        "date": dates(),
        "regimen": enum(m.Regimen),
        "cycle": st.integers(1, 30),
        "setting": enum(m.TreatmentSetting),
    },
    {
        "biologic": enum(m.Biologic),
        "cycle_length_days": st.sampled_from([14, 21]),
        "dose_percent": st.floats(1, 150),
        "toxicity_grade": maybe(st.integers(0, 5)),
    },
)
immunotherapy = record(
    {
        "kind": st.just("immunotherapy"),
        "date": dates(),
        "agent": enum(m.ImmunotherapyAgent),
        "setting": enum(m.TreatmentSetting),
    },
    {"cycle": st.integers(1, 30)},
)
segments = st.lists(st.integers(1, 8), unique=True, max_size=8)
procedure = record(
    {"kind": st.just("procedure"), "date": dates(), "procedure": enum(m.ProcedureType)},
    {
        "segments": segments,
        "lesion_ids": st.lists(st.sampled_from(["L1", "L2", "L3"])),
        "note": text,
    },
)

lesion = record(
    {"id": st.sampled_from(["L1", "L2", "L3", "L4"])},
    {
        "segment": st.integers(1, 8),
        "longest_diameter_mm": st.floats(0, 200),
        "depth_mm": st.floats(0, 100),
        "target": st.booleans(),
        "morphology_group": st.integers(1, 3),
        "status": enum(m.LesionStatus),
    },
)


def _unique_lesions(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for item in items:
        seen.setdefault(item["id"], item)
    return list(seen.values())


imaging = st.builds(
    lambda base, lesions, volumes: {**base, "lesions": _unique_lesions(lesions), **volumes},
    record(
        {"date": dates()},
        {
            "modality": enum(m.Modality),
            "new_lesions": st.booleans(),
            "non_target_progression": st.booleans(),
            "extrahepatic_findings": text,
            "flr_percent": st.floats(0, 100),
        },
    ),
    st.lists(lesion, max_size=4),
    st.one_of(
        st.just({}),
        st.builds(
            lambda total, share: {"total_liver_volume_ml": total, "flr_volume_ml": total * share},
            st.floats(500, 3000),
            st.floats(0, 1),
        ),
    ),
)

plan = record(
    {},
    {
        "resectability": enum(m.Resectability),
        "intent": enum(m.Intent),
        "strategy": enum(m.Strategy),
        "sequence": enum(m.Sequence),
        "approach": enum(m.Approach),
        "resection_type": enum(m.ResectionType),
        "segments_to_resect": segments,
        "planned_flr_percent": st.floats(0, 100),
        "planned_regimen": enum(m.Regimen),
        "planned_biologic": enum(m.Biologic),
        "planned_immunotherapy": enum(m.ImmunotherapyAgent),
        "planned_surgery_date": dates(LAST, date(2028, 1, 1)),
        "surgeon": text,
    },
)

outcome = record(
    {"date": dates()},
    {
        "procedure": enum(m.ProcedureType),
        "margin_mm": st.floats(0, 50),
        "margin_status": enum(m.MarginStatus),
        "pathological_response": enum(m.PathologicalResponse),
        "clavien_dindo": maybe(enum(m.ClavienDindo)),
        "recurrence_sites": st.lists(text, max_size=2),
    },
)

extrahepatic = record(
    {"site": enum(m.ExtrahepaticSite)}, {"detected_on": dates(), "resectable": maybe(st.booleans())}
)

review = record(
    {"meeting_date": dates(date(2024, 1, 1), date(2025, 12, 31))},
    {
        "question": text,
        "recommendation": enum(m.Strategy),
        "decision": text,
        "actions": st.lists(
            record({"text": visible_text}, {"owner": text, "due": dates()}), max_size=2
        ),
        "attendees": st.lists(record({"name": names, "role": enum(m.Role)}, {}), max_size=3),
        "follow_up": record(
            {"status": st.sampled_from(["pending", "done"])}, {"note": text, "recorded_on": dates()}
        ),
        "evaluation": st.just({"format": "crlmboard.evaluation/1", "facts": {"bmi": None}}),
    },
)

valid_case = st.fixed_dictionaries(
    {"format": st.just("crlmboard.case/1"), "patient": patient},
    optional={
        "primary": primary,
        "liver_metastases_diagnosis_date": dates(),
        "extrahepatic_disease": st.lists(extrahepatic, max_size=2),
        "molecular": molecular,
        "labs": st.lists(lab, max_size=3),
        "treatments": st.lists(st.one_of(chemotherapy, immunotherapy, procedure), max_size=4),
        "imaging": st.lists(imaging, max_size=3),
        "plan": plan,
        "surgery_outcomes": st.lists(outcome, max_size=2),
        "reviews": st.lists(review, max_size=2),
    },
)

# One change that breaks the contract, with the path it must be reported at.
BREAKAGES: list[tuple[str, Any]] = [
    ("patient.ecog", 5),
    ("patient.height_cm", 99),
    ("patient.sex", "F"),
    ("patient.mrn", "has space"),
    ("patient.unknown_key", 1),
    ("patient.weight_kg", "70"),
    ("primary.site", "colon"),
    ("molecular.braf", "positive"),
    ("plan.segments_to_resect", [9]),
    ("plan.planned_flr_percent", 120),
    ("format", "crlmboard.case/2"),
    ("surprise", True),
]
