"""The timeline model: one date axis for every dated record, built from a case and its
evaluation facts, the same for the app's chart and the PDF's."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crlmboard.domain.caseformat import case_from_dict
from crlmboard.domain.engine import evaluate, evaluation_to_dict
from crlmboard.domain.engine.profile import Profile
from crlmboard.domain.labels import value_label
from crlmboard.domain.timeline import (
    EARLY_GAP_DAYS,
    TimelineAxis,
    build_timeline,
    chemotherapy_lines,
)
from tests.conftest import GOLDEN, golden_cases

TODAY = date(2026, 11, 24)
DEMO = Path(__file__).resolve().parents[2] / "crlmboard" / "resources" / "demo"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def demo(number: str) -> dict[str, Any]:
    return load(next(DEMO.glob(f"DEMO-{number}-*.json")))


def chemo(
    when: str,
    regimen: str = "folfox",
    cycle: int = 1,
    biologic: str = "none",
    setting: str = "neoadjuvant",
) -> dict[str, Any]:
    return {
        "kind": "chemotherapy",
        "date": when,
        "regimen": regimen,
        "biologic": biologic,
        "cycle": cycle,
        "setting": setting,
    }


def minimal(**blocks: Any) -> dict[str, Any]:
    return {"format": "crlmboard.case/1", "patient": {"mrn": "TL-1"}, **blocks}


def test_empty_case_has_an_empty_timeline_on_a_real_axis() -> None:
    timeline = build_timeline(case_from_dict(minimal(), TODAY), as_of=TODAY)
    assert timeline.empty
    assert timeline.axis.end == TODAY
    assert timeline.axis.days >= 28
    assert timeline.max_sum_mm is None and timeline.max_cea is None


def test_lines_start_at_a_new_regimen_setting_or_restarted_numbering() -> None:
    case = case_from_dict(
        minimal(
            treatments=[
                chemo("2025-01-06", "capox", 1, setting="adjuvant"),
                chemo("2025-01-27", "capox", 2, setting="adjuvant"),
                chemo("2025-06-02", "folfox", 1, "cetuximab"),
                chemo("2025-06-16", "folfox", 2, "cetuximab"),
                chemo("2025-06-30", "folfox", 3, "bevacizumab"),
                chemo("2025-09-01", "folfox", 1),  # numbering restarted: a new line
                chemo("2025-09-15", "folfiri", 2, "bevacizumab"),
            ]
        ),
        TODAY,
    )
    lines = chemotherapy_lines(case.chemotherapy)
    assert [(line.regimen, line.cycles) for line in lines] == [
        ("capox", 2),
        ("folfox", 3),
        ("folfox", 1),
        ("folfiri", 1),
    ]
    assert lines[0].end == date(2025, 1, 27) + timedelta(days=21)  # CAPOX is three-weekly
    assert lines[1].biologics == (("cetuximab", 2), ("bevacizumab", 1))
    assert lines[1].label == "FOLFOX + Cetuximab + Bevacizumab"
    assert lines[2].biologics == ()
    timeline = build_timeline(case)
    assert [m.line for m in timeline.chemotherapy] == [1, 1, 2, 2, 2, 3, 4]
    assert [m.biologic for m in timeline.chemotherapy][2:5] == [
        "cetuximab",
        "cetuximab",
        "bevacizumab",
    ]
    assert timeline.regimens == ("capox", "folfox", "folfiri")


def test_every_kind_of_record_is_on_the_axis() -> None:
    data = load(GOLDEN / "flr-after-chemotherapy.json")
    case = case_from_dict(data, TODAY)
    timeline = build_timeline(case)
    assert len(timeline.chemotherapy) == len(case.chemotherapy)
    assert len(timeline.imaging) == len(case.imaging)
    assert [m.value for m in timeline.cea] == [
        lab.cea_ng_ml for lab in case.labs if lab.cea_ng_ml is not None
    ]
    kinds = {m.kind for m in timeline.milestones}
    assert {"primary_diagnosis", "primary_resection", "liver_metastases"} <= kinds
    dates = (
        [m.date for m in timeline.milestones]
        + [m.date for m in timeline.chemotherapy]
        + [m.end for m in timeline.chemotherapy]
        + [m.date for m in timeline.imaging]
        + [m.date for m in timeline.cea]
        + [m.date for m in timeline.procedures]
    )
    assert all(timeline.axis.start <= d <= timeline.axis.end for d in dates)
    assert all(0 <= timeline.axis.fraction(d) <= 1 for d in dates)


def test_imaging_marks_take_target_sums_and_recist_from_the_evaluation() -> None:
    data = load(GOLDEN / "flr-after-chemotherapy.json")
    case = case_from_dict(data, TODAY)
    as_of = date(2025, 3, 24)
    facts = evaluation_to_dict(evaluate(case, as_of, Profile()))["facts"]
    timeline = build_timeline(case, facts, as_of=as_of)
    baseline = [m for m in timeline.imaging if m.baseline]
    assert len(baseline) == 1
    assert baseline[0].date.isoformat() == facts["recist_baseline"]["date"]
    assert baseline[0].target_sum_mm == facts["recist_baseline"]["sum_mm"]
    assessed = {m.date.isoformat(): m for m in timeline.imaging if m.response}
    for entry in facts["recist"]:
        mark = assessed[entry["date"]]
        assert mark.response == entry["response"]
        assert mark.target_sum_mm == entry["sum_mm"]
    # without the evaluation the sums of all lesions are still there, RECIST is not
    plain = build_timeline(case, as_of=as_of)
    assert all(m.target_sum_mm is None and m.response is None for m in plain.imaging)
    assert all(m.total_diameter_mm is not None for m in plain.imaging)


def test_total_diameter_counts_present_lesions_only() -> None:
    case = case_from_dict(
        minimal(
            imaging=[
                {
                    "date": "2025-02-03",
                    "modality": "mri",
                    "lesions": [
                        {"id": "L1", "longest_diameter_mm": 30, "status": "present"},
                        {"id": "L2", "longest_diameter_mm": 0, "status": "disappeared"},
                        {"id": "L3", "longest_diameter_mm": 12},
                        {"id": "L4", "longest_diameter_mm": 15, "status": "resected"},
                    ],
                    "flr_volume_ml": 400,
                    "total_liver_volume_ml": 1600,
                }
            ]
        ),
        TODAY,
    )
    (mark,) = build_timeline(case).imaging
    assert mark.total_diameter_mm == 42
    assert mark.lesion_count == 2
    assert mark.flr_percent == 25.0
    assert mark.modality == "mri"


def test_as_of_leaves_later_records_out() -> None:
    data = load(GOLDEN / "flr-after-chemotherapy.json")
    case = case_from_dict(data, TODAY)
    cut = date(2025, 1, 1)
    timeline = build_timeline(case, as_of=cut)
    assert all(m.date <= cut for m in timeline.chemotherapy)
    assert all(m.date <= cut for m in timeline.imaging)
    assert all(m.date <= cut for m in timeline.cea)
    assert timeline.axis.end >= cut
    assert len(timeline.chemotherapy) < len(case.chemotherapy)


def test_procedures_reviews_and_planned_surgery_are_events() -> None:
    data = demo("0007")
    data["reviews"] = [
        {
            "meeting_date": "2026-10-01",
            "recommendation": "two_stage_hepatectomy",
            "signed_by": "A. Surgeon",
            "signed_at": "2026-10-01T17:00:00Z",
        },
        {"meeting_date": "2026-11-20"},
    ]
    case = case_from_dict(data, TODAY)
    timeline = build_timeline(case, as_of=TODAY)
    pve = [p for p in timeline.procedures if p.procedure == "portal_vein_embolization"]
    assert pve and pve[0].short_label == "PVE"
    assert pve[0].label == value_label("portal_vein_embolization")
    assert [(r.signed, r.recommendation) for r in timeline.reviews] == [
        (True, "two_stage_hepatectomy"),
        (False, None),
    ]
    planned = [m for m in timeline.milestones if m.kind == "planned_surgery"]
    assert planned and planned[0].date == case.plan.planned_surgery_date  # type: ignore[union-attr]
    assert timeline.axis.end >= planned[0].date


def test_immunotherapy_doses() -> None:
    case = case_from_dict(demo("0006"), TODAY)
    timeline = build_timeline(case, as_of=TODAY)
    assert len(timeline.immunotherapy) == 10
    assert {m.agent for m in timeline.immunotherapy} == {"pembrolizumab"}
    assert not timeline.chemotherapy


def test_milestones_long_before_the_course_are_listed_not_plotted() -> None:
    data = copy.deepcopy(load(GOLDEN / "upfront-resection.json"))
    data["primary"]["diagnosis_date"] = "2015-03-02"
    data["primary"]["resection_date"] = "2015-04-10"
    case = case_from_dict(data, TODAY)
    timeline = build_timeline(case)
    early = {m.kind for m in timeline.before_axis}
    assert early == {"primary_diagnosis", "primary_resection"}
    assert timeline.axis.start > date(2015, 4, 10) + timedelta(days=EARLY_GAP_DAYS)


@pytest.mark.parametrize("path", golden_cases(), ids=lambda p: p.stem)
def test_golden_cases_build(path: Path) -> None:
    case = case_from_dict(load(path), TODAY)
    timeline = build_timeline(case, as_of=TODAY)
    assert not timeline.empty
    ticks = timeline.axis.ticks(8)
    assert ticks == sorted(ticks)
    assert all(timeline.axis.start <= t <= timeline.axis.end for t in ticks)


@given(st.dates(date(1990, 1, 1), date(2030, 1, 1)), st.integers(1, 20000), st.integers(1, 12))
def test_ticks_are_first_of_month_inside_the_axis_and_few(
    start: date, days: int, max_ticks: int
) -> None:
    axis = TimelineAxis(start, start + timedelta(days=days))
    ticks = axis.ticks(max_ticks)
    assert len(ticks) <= max_ticks
    assert all(t.day == 1 and axis.start <= t <= axis.end for t in ticks)
    assert ticks == sorted(set(ticks))
