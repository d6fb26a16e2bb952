"""RECIST 1.1 edge cases: target choice, the 20 % + 5 mm rule, −30 %, nadir, NE, NN, CR vs PR.

One test per line of guideline-rules.md's rewritten RECIST section (engine 1.1.0)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crlmboard.domain.case import ImagingTimepoint
from crlmboard.domain.engine.recist import RecistTimepoint, assess, best_response


def timepoints(cb: Any, *scans: dict[str, Any]) -> list[ImagingTimepoint]:
    images: list[ImagingTimepoint] = cb.case(imaging=list(scans)).imaging
    return images


def run(
    cb: Any,
    baseline: list[Any],
    *later: list[Any],
    **flags: Any,
) -> list[RecistTimepoint]:
    scans = [
        cb.scan(f"2025-0{i + 1}-01", lesions, **(flags if i == len(later) else {}))
        for i, lesions in enumerate([baseline, *later])
    ]
    images = timepoints(cb, *scans)
    return assess(images[0], images[1:])[1]


def test_exactly_minus_30_percent_is_pr(cb: Any) -> None:
    # 0.7 × 90 is 62.99999999999999 in floating point: exact arithmetic keeps 63 a PR
    result = run(
        cb,
        [cb.lesion("L1", 50, target=True), cb.lesion("L2", 40, target=True)],
        [cb.lesion("L1", 35, target=True), cb.lesion("L2", 28, target=True)],
    )
    assert result[0].sum_mm == 63
    assert result[0].change_from_baseline_percent == -30.0
    assert result[0].response == "PR"


def test_minus_29_9_percent_is_sd(cb: Any) -> None:
    result = run(cb, [cb.lesion("L1", 100)], [cb.lesion("L1", 70.1)])
    assert result[0].response == "SD"
    assert result[0].change_from_baseline_percent == -29.9


def test_plus_20_percent_needs_5_mm(cb: Any) -> None:
    # +20 % but only +4 mm: SD; +20 % and +5 mm: PD; +19.7 % and +5.9 mm: SD
    assert run(cb, [cb.lesion("L1", 20)], [cb.lesion("L1", 24)])[0].response == "SD"
    assert run(cb, [cb.lesion("L1", 25)], [cb.lesion("L1", 30)])[0].response == "PD"
    assert run(cb, [cb.lesion("L1", 30)], [cb.lesion("L1", 35.9)])[0].response == "SD"


def test_nadir_after_a_response(cb: Any) -> None:
    # 100 → 60 (PR) → 72: still below baseline, but +20 % and +12 mm over the nadir = PD
    result = run(
        cb,
        [cb.lesion("L1", 60), cb.lesion("L2", 40)],
        [cb.lesion("L1", 36), cb.lesion("L2", 24)],
        [cb.lesion("L1", 44), cb.lesion("L2", 28)],
    )
    assert [r.response for r in result] == ["PR", "PD"]
    assert result[1].nadir_mm == 60
    assert result[1].change_from_baseline_percent == -28.0
    assert result[1].change_from_nadir_percent == 20.0
    assert best_response(result) == "PR"


def test_nadir_includes_the_baseline(cb: Any) -> None:
    result = run(cb, [cb.lesion("L1", 50)], [cb.lesion("L1", 55)], [cb.lesion("L1", 60)])
    assert [r.nadir_mm for r in result] == [50, 50]
    assert [r.response for r in result] == ["SD", "PD"]


def test_a_missing_target_is_ne(cb: Any) -> None:
    result = run(cb, [cb.lesion("L1", 40), cb.lesion("L2", 30)], [cb.lesion("L1", 20)])
    assert result[0].response == "NE"
    assert result[0].sum_mm is None
    assert result[0].change_from_baseline_percent is None
    unmeasured = run(cb, [cb.lesion("L1", 40)], [{"id": "L1", "status": "present"}])
    assert unmeasured[0].response == "NE"


def test_ne_timepoints_do_not_set_the_nadir(cb: Any) -> None:
    result = run(
        cb,
        [cb.lesion("L1", 40), cb.lesion("L2", 30)],
        [cb.lesion("L1", 10)],
        [cb.lesion("L1", 40), cb.lesion("L2", 32)],
    )
    assert [r.response for r in result] == ["NE", "SD"]
    assert result[1].nadir_mm == 70
    assert best_response(result) == "SD"


def test_new_lesions_are_pd_even_with_a_missing_target(cb: Any) -> None:
    # RECIST 1.1: new lesions or non-target progression are PD in every case
    result = run(
        cb, [cb.lesion("L1", 40), cb.lesion("L2", 30)], [cb.lesion("L1", 20)], new_lesions=True
    )
    assert result[0].response == "PD"
    assert result[0].missing_targets == ("L2",)
    result = run(
        cb,
        [cb.lesion("L1", 40), cb.lesion("L2", 30)],
        [cb.lesion("L1", 20)],
        non_target_progression=True,
    )
    assert result[0].response == "PD"


def test_a_missing_target_gives_pd_when_the_measured_ones_already_progress(cb: Any) -> None:
    # baseline (= nadir) 40 + 30 = 70; L2 not measured: L1 alone at 84 is +20 % and +14 mm
    baseline = [cb.lesion("L1", 40), cb.lesion("L2", 30)]
    result = run(cb, baseline, [cb.lesion("L1", 84)])
    assert result[0].response == "PD"
    assert result[0].sum_mm is None
    assert result[0].measured_sum_mm == 84
    assert result[0].missing_targets == ("L2",)
    # one millimetre less (83 < 1.2 × 70 = 84) cannot show progression: NE
    result = run(cb, baseline, [cb.lesion("L1", 83)])
    assert result[0].response == "NE"
    assert result[0].measured_sum_mm == 83
    # listed without a diameter counts as missing too
    result = run(cb, baseline, [cb.lesion("L1", 84), {"id": "L2", "status": "present"}])
    assert result[0].response == "PD"


def test_a_missing_target_progresses_against_the_nadir(cb: Any) -> None:
    # nadir 20 + 10 = 30 after a PR; L1 alone at 36 is +20 % and +6 mm over it: PD
    baseline = [cb.lesion("L1", 40), cb.lesion("L2", 30)]
    result = run(cb, baseline, [cb.lesion("L1", 20), cb.lesion("L2", 10)], [cb.lesion("L1", 36)])
    assert [r.response for r in result] == ["PR", "PD"]
    result = run(cb, baseline, [cb.lesion("L1", 20), cb.lesion("L2", 10)], [cb.lesion("L1", 35)])
    assert [r.response for r in result] == ["PR", "NE"]


def test_an_unmeasured_target_with_new_lesions_is_pd(cb: Any) -> None:
    # the target is listed (not absent), only its size is unknown: the PD line applies
    result = run(cb, [cb.lesion("L1", 40)], [{"id": "L1", "status": "present"}], new_lesions=True)
    assert result[0].response == "PD"
    assert result[0].sum_mm is None


def test_non_target_progression_is_pd(cb: Any) -> None:
    result = run(cb, [cb.lesion("L1", 40)], [cb.lesion("L1", 20)], non_target_progression=True)
    assert result[0].response == "PD"


def test_targets_chosen_when_none_is_marked(cb: Any) -> None:
    images = timepoints(
        cb,
        cb.scan(
            "2025-01-01",
            [cb.lesion("L1", 12), cb.lesion("L2", 40), cb.lesion("L3", 9), cb.lesion("L4", 25)],
        ),
    )
    baseline, _ = assess(images[0], [])
    assert baseline.target_lesions == ("L2", "L4")
    assert baseline.non_target_lesions == ("L1", "L3")
    assert baseline.sum_mm == 65
    assert baseline.targets_chosen_by == "engine"


def test_equal_sizes_keep_list_order(cb: Any) -> None:
    images = timepoints(
        cb, cb.scan("2025-01-01", [cb.lesion("L3", 20), cb.lesion("L1", 20), cb.lesion("L2", 20)])
    )
    assert assess(images[0], [])[0].target_lesions == ("L3", "L1")


def test_marked_targets_win_over_size(cb: Any) -> None:
    images = timepoints(
        cb, cb.scan("2025-01-01", [cb.lesion("L1", 50), cb.lesion("L2", 15, target=True)])
    )
    baseline, _ = assess(images[0], [])
    assert baseline.target_lesions == ("L2",)
    assert baseline.non_target_lesions == ("L1",)
    assert baseline.targets_chosen_by == "marked"


def test_auto_selection_needs_10_mm(cb: Any) -> None:
    # no lesion ≥ 10 mm: no target; non-target disease only reads NN while lesions remain
    result = run(
        cb, [cb.lesion("L1", 9.9), cb.lesion("L2", 5)], [cb.lesion("L1", 3), cb.lesion("L2", 2)]
    )
    assert result[0].response == "NN"
    assert result[0].sum_mm is None
    images = timepoints(cb, cb.scan("2025-01-01", [cb.lesion("L1", 10)]))
    assert assess(images[0], [])[0].target_lesions == ("L1",)


def test_no_measurable_baseline_with_new_lesions_is_pd(cb: Any) -> None:
    # the critical 1.0.0 miss: new lesions are progression, measurable baseline or not
    small = [cb.lesion("L1", 8)]
    assert run(cb, small, [cb.lesion("L1", 4)], new_lesions=True)[0].response == "PD"
    assert run(cb, small, [cb.lesion("L1", 12)], non_target_progression=True)[0].response == "PD"
    # a marked lesion that is not present at baseline is no target either
    gone = [cb.lesion("L1", 0, target=True), cb.lesion("L2", 30)]
    result = run(cb, gone, [cb.lesion("L1", 0), cb.lesion("L2", 30)], new_lesions=True)
    assert result[0].response == "PD"


def test_non_target_only_disease_reads_cr_nn_or_ne(cb: Any) -> None:
    # RECIST Table 2: CR when every lesion has gone, NN while any remains (all assessed),
    # NE when a baseline lesion was not assessed
    small = [cb.lesion("L1", 8), cb.lesion("L2", 6)]
    assert run(cb, small, [cb.lesion("L1", 8), cb.lesion("L2", 0)])[0].response == "NN"
    assert run(cb, small, [cb.lesion("L1", 14), cb.lesion("L2", 9)])[0].response == "NN"
    assert run(cb, small, [cb.lesion("L1", 0), cb.lesion("L2", 0)])[0].response == "CR"
    assert run(cb, small, [cb.lesion("L1", 0)])[0].response == "NE"
    assert run(cb, small, [cb.lesion("L1", 4), {"id": "L2"}])[0].response == "NN"
    resected = [cb.lesion("L1", 4), cb.lesion("L2", 5, status="resected")]
    assert run(cb, small, resected)[0].response == "NE"
    # a present lesion under a new id keeps CR from being called
    assert (
        run(cb, small, [cb.lesion("L1", 0), cb.lesion("L2", 0), cb.lesion("L9", 7)])[0].response
        == "NN"
    )


def test_no_baseline_disease_is_not_evaluable(cb: Any) -> None:
    # nothing to follow (e.g. after a clearing operation): NE unless new lesions appear
    assert run(cb, [], [cb.lesion("L1", 0)])[0].response == "NE"
    assert run(cb, [], [cb.lesion("L4", 12)], new_lesions=True)[0].response == "PD"


def test_a_marked_6_mm_target_is_demoted(cb: Any) -> None:
    # RECIST 1.1: measurable means ≥ 10 mm, whatever the board marked
    images = timepoints(
        cb,
        cb.scan(
            "2025-01-01",
            [
                cb.lesion("L1", 20, target=True),
                cb.lesion("L2", 6, target=True),
                cb.lesion("L3", 30),
            ],
        ),
    )
    baseline, _ = assess(images[0], [])
    assert baseline.target_lesions == ("L1",)
    assert baseline.non_target_lesions == ("L2", "L3")
    assert baseline.sum_mm == 20
    assert baseline.targets_chosen_by == "marked"
    assert [(d.id, d.diameter_mm, d.reason) for d in baseline.demoted_targets] == [
        ("L2", 6, "below_10_mm")
    ]
    # 10 mm exactly is measurable
    images = timepoints(cb, cb.scan("2025-01-01", [cb.lesion("L1", 10, target=True)]))
    assert assess(images[0], [])[0].demoted_targets == ()


def test_only_marked_lesions_below_10_mm_let_the_engine_choose(cb: Any) -> None:
    images = timepoints(
        cb,
        cb.scan(
            "2025-01-01",
            [cb.lesion("L1", 6, target=True), cb.lesion("L2", 12), cb.lesion("L3", 30)],
        ),
    )
    baseline, _ = assess(images[0], [])
    assert baseline.target_lesions == ("L3", "L2")
    assert baseline.targets_chosen_by == "engine"
    assert [d.id for d in baseline.demoted_targets] == ["L1"]


def test_at_most_two_targets(cb: Any) -> None:
    images = timepoints(
        cb,
        cb.scan(
            "2025-01-01",
            [
                cb.lesion("L1", 20, target=True),
                cb.lesion("L2", 15, target=True),
                cb.lesion("L3", 40, target=True),
            ],
        ),
    )
    baseline, _ = assess(images[0], [])
    assert baseline.target_lesions == ("L1", "L2")
    assert baseline.non_target_lesions == ("L3",)
    assert [(d.id, d.reason) for d in baseline.demoted_targets] == [("L3", "beyond_second")]


def test_a_marked_lesion_without_a_diameter_is_a_non_target(cb: Any) -> None:
    images = timepoints(
        cb,
        cb.scan(
            "2025-01-01",
            [cb.lesion("L1", 20, target=True), {"id": "L2", "status": "present", "target": True}],
        ),
    )
    baseline, _ = assess(images[0], [])
    assert baseline.target_lesions == ("L1",)
    assert baseline.non_target_lesions == ("L2",)
    assert [(d.id, d.reason) for d in baseline.demoted_targets] == [("L2", "no_diameter")]


def test_cr_needs_every_lesion_gone(cb: Any) -> None:
    result = run(cb, [cb.lesion("L1", 40)], [cb.lesion("L1", 0)])
    assert result[0].response == "CR"
    assert result[0].sum_mm == 0


def test_targets_gone_with_a_non_target_present_is_pr(cb: Any) -> None:
    baseline = [cb.lesion("L1", 40), cb.lesion("L2", 30), cb.lesion("L3", 8)]
    result = run(cb, baseline, [cb.lesion("L1", 0), cb.lesion("L2", 0), cb.lesion("L3", 6)])
    assert result[0].response == "PR"
    # a non-target not reported at the timepoint cannot be called gone either
    assert run(cb, baseline, [cb.lesion("L1", 0), cb.lesion("L2", 0)])[0].response == "PR"
    gone = run(cb, baseline, [cb.lesion("L1", 0), cb.lesion("L2", 0), cb.lesion("L3", 0)])
    assert gone[0].response == "CR"


def test_reappearance_after_cr_is_pd(cb: Any) -> None:
    result = run(cb, [cb.lesion("L1", 40)], [cb.lesion("L1", 0)], [cb.lesion("L1", 6)])
    assert [r.response for r in result] == ["CR", "PD"]
    assert result[1].change_from_nadir_percent is None  # nadir 0: no percentage


def test_a_resected_target_is_not_evaluable(cb: Any) -> None:
    result = run(cb, [cb.lesion("L1", 40)], [cb.lesion("L1", 40, status="resected")])
    assert result[0].response == "NE"


def test_best_response_ignores_ne() -> None:
    from datetime import date

    def tp(response: str) -> RecistTimepoint:
        return RecistTimepoint(date(2025, 1, 1), None, None, None, None, response)

    assert best_response([tp("NE"), tp("SD"), tp("PD")]) == "SD"
    assert best_response([tp("NE")]) is None
    assert best_response([]) is None
    assert best_response([tp("PD"), tp("CR"), tp("PR")]) == "CR"
    assert best_response([tp("PD"), tp("NN")]) == "NN"
    assert best_response([tp("NN"), tp("SD")]) == "SD"


def test_recist_facts_stop_at_the_first_liver_directed_procedure(cb: Any) -> None:
    case = cb.case(
        imaging=[
            cb.scan("2025-01-01", [cb.lesion("L1", 40)]),
            cb.scan("2025-02-01", [cb.lesion("L1", 30)]),
            cb.scan("2025-04-01", [cb.lesion("L1", 0, status="ablated")]),
        ],
        treatments=[
            *cb.cycles("2025-01-02", 4),
            cb.procedure("2025-03-01", "thermal_ablation", lesion_ids=["L1"]),
        ],
    )
    facts = cb.evaluate(case).facts
    assert [r.date.isoformat() for r in facts.recist] == ["2025-02-01"]
    assert facts.best_response == "SD"
    assert facts.current_response is None  # the current scan follows the ablation


def test_imaging_on_the_day_of_a_liver_directed_procedure_is_not_assessed(cb: Any) -> None:
    def facts(procedure_day: str) -> Any:
        case = cb.case(
            imaging=[
                cb.scan("2025-01-01", [cb.lesion("L1", 40)]),
                cb.scan("2025-02-01", [cb.lesion("L1", 30)]),
                cb.scan("2025-03-01", [cb.lesion("L1", 26)]),
            ],
            treatments=[
                *cb.cycles("2025-01-02", 4),
                cb.procedure(procedure_day, "tace"),
            ],
        )
        return cb.evaluate(case).facts

    same_day = facts("2025-03-01")
    assert [r.date.isoformat() for r in same_day.recist] == ["2025-02-01"]
    assert same_day.current_response is None
    day_after = facts("2025-03-02")
    assert [r.date.isoformat() for r in day_after.recist] == ["2025-02-01", "2025-03-01"]
    assert day_after.current_response == "PR"


def test_baseline_is_the_latest_scan_before_treatment(cb: Any) -> None:
    case = cb.case(
        imaging=[
            cb.scan("2025-01-01", [cb.lesion("L1", 60)]),
            cb.scan("2025-02-01", [cb.lesion("L1", 50)]),
            cb.scan("2025-04-01", [cb.lesion("L1", 34)]),
        ],
        treatments=cb.cycles("2025-02-03", 4),
    )
    facts = cb.evaluate(case).facts
    assert facts.recist_baseline is not None
    assert facts.recist_baseline.date.isoformat() == "2025-02-01"
    assert [(r.sum_mm, r.response) for r in facts.recist] == [(34, "PR")]
    assert facts.current_response == "PR"


# The sums and thresholds are exact decimal arithmetic on what was typed; `assess` does it
# in integers over one power of ten.  This reference does it with Fractions, as written.
_typed = st.one_of(
    st.integers(1, 4000).map(lambda n: n / 10),
    st.integers(1, 400_000).map(lambda n: n / 1000),
    st.floats(min_value=1e-6, max_value=400, allow_nan=False),
)


def _reference(base: list[float], later: list[list[float]]) -> list[tuple[Any, ...]]:
    def exact(value: float) -> Fraction:
        return Fraction(repr(value))

    def percent(value: Fraction, reference: Fraction) -> float:
        return round((float(value) - float(reference)) / float(reference) * 100, 1)

    base_sum = sum((exact(d) for d in base), Fraction(0))
    nadir = base_sum
    out = []
    for sizes in later:
        total = sum((exact(d) for d in sizes), Fraction(0))
        if total >= Fraction(6, 5) * nadir and total - nadir >= 5:
            response = "PD"
        elif total <= Fraction(7, 10) * base_sum:
            response = "PR"
        else:
            response = "SD"
        out.append(
            (float(total), float(nadir), percent(total, base_sum), percent(total, nadir), response)
        )
        nadir = min(nadir, total)
    return out


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    base=st.lists(_typed.filter(lambda d: Fraction(repr(d)) >= 10), min_size=1, max_size=2),
    later=st.lists(st.lists(_typed, min_size=2, max_size=2), min_size=1, max_size=4),
)
def test_sums_and_thresholds_are_exact_decimal_arithmetic(
    cb: Any, base: list[float], later: list[list[float]]
) -> None:
    ids = [f"L{i + 1}" for i in range(len(base))]
    scans = [[cb.lesion(i, d, target=True) for i, d in zip(ids, base, strict=True)]]
    scans += [
        [cb.lesion(i, d, target=True) for i, d in zip(ids, sizes, strict=False)] for sizes in later
    ]
    results = run(cb, *scans)
    expected = _reference(base, [sizes[: len(base)] for sizes in later])
    assert [
        (
            r.sum_mm,
            r.nadir_mm,
            r.change_from_baseline_percent,
            r.change_from_nadir_percent,
            r.response,
        )
        for r in results
    ] == expected


def test_a_vanishing_nadir_gives_no_percentage_rather_than_infinity(cb: Any) -> None:
    # 5e-324 mm is a valid (> 0) diameter; dividing by it as the nadir overflows to infinity
    result = run(
        cb,
        [cb.lesion("L1", 30, target=True)],
        [cb.lesion("L1", 5e-324, target=True)],
        [cb.lesion("L1", 30, target=True)],
    )
    assert result[1].change_from_nadir_percent is None
    assert result[1].response == "PD"


# --------------------------------------------------------------------------------------
# Audit against RECIST 1.1 itself (engine-audit)


def test_a_scan_on_the_baseline_day_is_not_a_later_timepoint(cb: Any) -> None:
    # guideline-rules.md, `recist`: "list per imaging timepoint of the episode **after** the
    # baseline". A second study on the baseline's own day (CT and MRI the same morning) is
    # part of the baseline work-up, not a response assessment.
    case = cb.case(
        imaging=[
            cb.scan("2025-01-01", [cb.lesion("L1", 40)], "ct"),
            cb.scan("2025-01-01", [cb.lesion("L1", 40)], "mri"),
            cb.scan("2025-03-01", [cb.lesion("L1", 20)]),
        ],
    )
    facts = cb.evaluate(case).facts
    assert facts.recist_baseline is not None
    assert facts.recist_baseline.date.isoformat() == "2025-01-01"
    assert [(r.date.isoformat(), r.response) for r in facts.recist] == [("2025-03-01", "PR")]
    # just after: a study the next day is a later timepoint
    case = cb.case(
        imaging=[
            cb.scan("2025-01-01", [cb.lesion("L1", 40)], "ct"),
            cb.scan("2025-01-02", [cb.lesion("L1", 40)], "mri"),
        ],
    )
    assert [r.date.isoformat() for r in cb.evaluate(case).facts.recist] == ["2025-01-02"]


def test_a_resection_recorded_only_as_an_outcome_ends_the_window(cb: Any) -> None:
    # guideline-rules.md, `recist`: "up to the day before the first liver-directed procedure
    # of the episode (… resection …)". A first-stage resection recorded in surgery_outcomes
    # without a matching procedure entry is still a resection.
    def recist_dates(outcome_day: str) -> list[str]:
        case = cb.case(
            imaging=[
                cb.scan("2025-01-01", [cb.lesion("L1", 40), cb.lesion("L2", 30)]),
                cb.scan("2025-02-01", [cb.lesion("L1", 30), cb.lesion("L2", 25)]),
                cb.scan(
                    "2025-03-01",
                    [cb.lesion("L1", 30, status="resected"), cb.lesion("L2", 25)],
                ),
            ],
            treatments=cb.cycles("2025-01-02", 2),
            surgery_outcomes=[
                {"date": outcome_day, "procedure": "two_stage_first", "margin_status": "r0"}
            ],
        )
        return [r.date.isoformat() for r in cb.evaluate(case).facts.recist]

    assert recist_dates("2025-02-15") == ["2025-02-01"]
    assert recist_dates("2025-03-02") == ["2025-02-01", "2025-03-01"]


def test_a_target_too_small_to_measure_counts_5_mm(cb: Any) -> None:
    # RECIST 1.1 (eisenhauer-2009, "target lesions that become too small to measure"): a
    # target believed present but too small to measure is given the default 5 mm; 0 mm is
    # for a lesion that has likely disappeared. In the case format that is `status: present`
    # with 0 mm. The default prevents false progressions and responses: after a CR (nadir 0),
    # a target seen again but too small to measure is PD (5 mm ≥ 5 mm above the nadir).
    result = run(
        cb,
        [cb.lesion("L1", 12, target=True)],
        [cb.lesion("L1", 0, target=True)],
        [cb.lesion("L1", 0, target=True, status="present")],
    )
    assert [(r.sum_mm, r.response) for r in result] == [(0, "CR"), (5, "PD")]
    # against a 16 mm baseline, 5 mm is a fall of 68.8 %: PR, with the default in the sum
    result = run(
        cb,
        [cb.lesion("L1", 16, target=True), cb.lesion("L2", 4)],
        [cb.lesion("L1", 0, target=True, status="present"), cb.lesion("L2", 4)],
    )
    assert [(r.sum_mm, r.change_from_baseline_percent, r.response) for r in result] == [
        (5, -68.8, "PR")
    ]
    # an actual measurement is used as it is, even below 5 mm (RECIST: "if the radiologist is
    # able to provide an actual measure, that should be recorded, even if it is below 5 mm")
    result = run(
        cb,
        [cb.lesion("L1", 12, target=True)],
        [cb.lesion("L1", 0, target=True)],
        [cb.lesion("L1", 4.9, target=True)],
    )
    assert [(r.sum_mm, r.response) for r in result] == [(0, "CR"), (4.9, "PR")]


def test_a_marked_target_just_under_10_mm_is_demoted(cb: Any) -> None:
    # guideline-rules.md: "Measurable: … ≥ 10 mm at baseline … whatever the board marked"
    images = timepoints(
        cb,
        cb.scan("2025-01-01", [cb.lesion("L1", 9.9, target=True), cb.lesion("L2", 15)]),
    )
    baseline, _ = assess(images[0], [])
    assert baseline.target_lesions == ("L2",)
    assert baseline.targets_chosen_by == "engine"
    assert [(d.id, d.reason) for d in baseline.demoted_targets] == [("L1", "below_10_mm")]


def test_the_5_mm_leg_of_pd_at_its_boundary(cb: Any) -> None:
    # guideline-rules.md, RECIST 4.: "PD if sum ≥ 1.2 × nadir **and** sum − nadir ≥ 5 mm".
    # Nadir 20 mm: 25 mm (+25 %, +5 mm) is PD; 24.9 mm (+24.5 %, +4.9 mm) is not.
    assert run(cb, [cb.lesion("L1", 20)], [cb.lesion("L1", 25)])[0].response == "PD"
    assert run(cb, [cb.lesion("L1", 20)], [cb.lesion("L1", 24.9)])[0].response == "SD"
    # the same leg when a target is missing (RECIST 3.): L1 alone against a nadir of 20
    baseline = [cb.lesion("L1", 10), cb.lesion("L2", 10)]
    assert run(cb, baseline, [cb.lesion("L1", 25)])[0].response == "PD"
    assert run(cb, baseline, [cb.lesion("L1", 24.9)])[0].response == "NE"
