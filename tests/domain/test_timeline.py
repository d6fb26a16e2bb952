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
    BREAK_MIN_DAYS,
    TimelineAxis,
    build_timeline,
    chemotherapy_lines,
    free_box,
    stack_labels,
    value_scale,
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


def test_early_milestones_stay_on_the_axis_with_the_empty_years_as_a_break() -> None:
    """Issue 19: a primary diagnosed ten years before the liver disease is drawn, not
    dropped; the empty years between take a short break in the axis."""
    data = copy.deepcopy(load(GOLDEN / "upfront-resection.json"))
    data["primary"]["diagnosis_date"] = "2015-03-02"
    data["primary"]["resection_date"] = "2015-04-10"
    case = case_from_dict(data, TODAY)
    timeline = build_timeline(case)
    kinds = {m.kind for m in timeline.milestones}
    assert {"primary_diagnosis", "primary_resection"} <= kinds
    axis = timeline.axis
    assert axis.start <= date(2015, 3, 2)
    assert len(axis.breaks) == 1
    (gap_start, gap_end) = axis.breaks[0]
    assert date(2015, 4, 10) < gap_start < gap_end
    assert (gap_end - gap_start).days > BREAK_MIN_DAYS // 2
    # every record on the axis, none inside the break, in order
    dates = sorted(
        [m.date for m in timeline.milestones]
        + [m.date for m in timeline.imaging]
        + [m.date for m in timeline.procedures]
    )
    assert all(0 <= axis.fraction(d) <= 1 and not axis.in_break(d) for d in dates)
    fractions = [axis.fraction(d) for d in dates]
    assert fractions == sorted(fractions)
    # the ten empty years take a twentieth of the rest, not most of the chart
    assert axis.fraction(gap_end) - axis.fraction(gap_start) == pytest.approx(
        axis.break_days / axis.days
    )
    assert axis.fraction(gap_end) - axis.fraction(gap_start) < 0.06
    ticks = axis.ticks(8)
    assert ticks and not any(axis.in_break(t) for t in ticks)
    assert any(t.year == 2015 for t in ticks) or any(
        m.date.year == 2015 for m in timeline.milestones
    )
    assert timeline.legend()[-1].shape == "break"


def demo_timeline(number: str, as_of: date = TODAY) -> Any:
    case = case_from_dict(demo(number), TODAY)
    facts = evaluation_to_dict(evaluate(case, as_of, Profile()))["facts"]
    return build_timeline(case, facts, as_of=as_of)


def test_a_hepatectomy_starts_a_new_episode_never_a_fall_to_zero() -> None:
    """Issue 19: DEMO-0012 (hepatectomy in 2025, recurrence in 2026): the operation starts
    episode 2; no line joins the last measurement before it to one after it; each episode
    has its own baseline; the first episode's RECIST is the engine's as of the day before."""
    timeline = demo_timeline("0012")
    assert [(e.number, e.operation, e.start) for e in timeline.episodes] == [
        (1, None, None),
        (2, "hepatectomy", date(2025, 3, 18)),
    ]
    before = [m for m in timeline.imaging if m.date < date(2025, 3, 17)]
    after = [m for m in timeline.imaging if m.date > date(2025, 3, 17)]
    assert {m.episode for m in before} == {1} and {m.episode for m in after} == {2}
    assert [m.tag for m in before] == ["BL", "SD", "PR"]
    assert [m.target_sum_mm for m in before] == [60, 46, 39]
    assert [m for m in timeline.imaging if m.baseline] == [before[0], after[0]]
    for key in ("target_sum", "all_lesions"):
        for run in timeline.series(key):
            assert len({m.episode for m in run}) == 1, key  # a line never crosses it
    # the episode-1 assessment is what the engine said on the day before the operation
    earlier = evaluation_to_dict(
        evaluate(case_from_dict(demo("0012"), TODAY), date(2025, 3, 16), Profile())
    )
    assert [e["response"] for e in earlier["facts"]["recist"]] == ["SD", "PR"]
    shapes = [e.shape for e in timeline.legend()]
    assert "clearing" in shapes and "line" in shapes and "dotted" in shapes


def test_each_episode_with_treatment_has_its_own_recist_line() -> None:
    """A recurrence treated and restaged: episode 2 has its own baseline (the scan before
    its first cycle) and its own categories, on a line of its own."""
    data = demo("0012")
    data["treatments"] += [
        chemo("2026-10-12", "folfiri", 1, setting="palliative"),
        chemo("2026-10-26", "folfiri", 2, setting="palliative"),
    ]
    data["imaging"].append(
        {
            "date": "2026-11-20",
            "modality": "mri",
            "lesions": [
                {"id": "L4", "segment": 8, "longest_diameter_mm": 15, "target": True},
                {"id": "L5", "segment": 3, "longest_diameter_mm": 9, "target": True},
            ],
        }
    )
    case = case_from_dict(data, TODAY)
    facts = evaluation_to_dict(evaluate(case, TODAY, Profile()))["facts"]
    timeline = build_timeline(case, facts, as_of=TODAY)
    runs = timeline.series("target_sum")
    assert [[m.tag for m in run] for run in runs] == [["BL", "SD", "PR"], ["BL", "PR"]]
    assert [run[0].target_sum_mm for run in runs] == [60, 39]
    assert {m.episode for m in runs[1]} == {2}


def test_value_scale_has_nice_steps_and_holds_the_maximum() -> None:
    assert value_scale(71) == (80, 20)
    assert value_scale(15.5) == (20, 5)
    assert value_scale(39) == (40, 10)
    assert value_scale(None) == (4, 1)
    for maximum in (0.3, 1, 7, 9.99, 12, 47, 101, 999, 12345):
        top, step = value_scale(maximum)
        assert top >= maximum and top == step * 4
        assert top < maximum * 2.6


def test_labels_are_stacked_so_that_none_overlap() -> None:
    spans = [(0, 30), (10, 40), (35, 60), (41, 50), (0, 100), (61, 70)]
    rows = stack_labels(spans)
    assert rows == [0, 1, 0, 1, 2, 0]
    for i, (a, b) in enumerate(spans):
        for j, (c, d) in enumerate(spans[:i]):
            if rows[i] == rows[j]:
                assert b <= c or a >= d
    assert free_box([(0, 0, 10, 10), (0, 20, 10, 30)], [(5, 5, 15, 15)]) == 1
    assert free_box([(0, 0, 10, 10)], [(5, 5, 15, 15)]) is None


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


@given(
    st.dates(date(1990, 1, 1), date(2030, 1, 1)),
    st.lists(st.integers(1, 4000), min_size=1, max_size=6),
    st.integers(1, 12),
)
def test_an_axis_with_breaks_keeps_order_and_ticks_outside_the_breaks(
    start: date, gaps: list[int], max_ticks: int
) -> None:
    dates = [start]
    for gap in gaps:
        dates.append(dates[-1] + timedelta(days=gap))
    case = case_from_dict(
        minimal(labs=[{"date": d.isoformat(), "cea_ng_ml": 1} for d in dates]), date(2200, 1, 1)
    )
    axis = build_timeline(case).axis
    assert len(axis.breaks) == sum(1 for g in gaps if g >= BREAK_MIN_DAYS)
    fractions = [axis.fraction(d) for d in dates]
    assert all(0 <= f <= 1 for f in fractions)
    assert fractions == sorted(fractions)
    ticks = axis.ticks(max_ticks)
    assert len(ticks) <= max_ticks
    assert ticks == sorted(set(ticks))
    assert not any(axis.in_break(t) for t in ticks)
