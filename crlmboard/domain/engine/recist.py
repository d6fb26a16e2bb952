"""RECIST 1.1 as the engine applies it to liver lesions (guideline-rules.md, eisenhauer-2009).

Given the baseline imaging timepoint and the later timepoints of the assessment window,
`assess` chooses the target lesions (measurable: ≥ 10 mm, at most 2), sums their diameters per
timepoint, tracks the nadir and classifies each timepoint as CR, PR, SD, PD, NN (non-CR/
non-PD, for non-target-only disease) or NE.  New lesions or non-target progression are PD in
every case, before anything else.  Threshold comparisons use exact decimal arithmetic (63 mm
against a 90 mm baseline is PR however the floats round).  The 20 %, 5 mm, 30 % and 10 mm
figures are the definition of RECIST 1.1, not institution thresholds, so they live here and
not in the profile.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from fractions import Fraction
from functools import lru_cache

from crlmboard.domain.case import ImagingTimepoint
from crlmboard.domain.models import LesionMeasurement, LesionStatus
from crlmboard.frozen import frozen

MEASURABLE_MIN_MM = Fraction(10)
"""RECIST 1.1: a lesion is measurable with a longest diameter of at least 10 mm."""
MAX_TARGETS_PER_ORGAN = 2
"""RECIST 1.1: at most two target lesions per organ (our lesion list is liver only)."""
PD_RATIO = Fraction(6, 5)
"""PD: sum at least 20 % above the nadir …"""
PD_ABSOLUTE_MM = Fraction(5)
"""… and at least 5 mm above it."""
PR_RATIO = Fraction(7, 10)
"""PR: sum at most 70 % of the baseline sum (a fall of at least 30 %)."""
TOO_SMALL_TO_MEASURE_MM = 5.0
"""RECIST 1.1: a target believed present but too small to measure counts 5 mm (recorded as
`status: present` with 0 mm; 0 mm alone, or `disappeared`, is a lesion that has gone)."""

CR, PR, SD, NN, PD, NE = "CR", "PR", "SD", "NN", "PD", "NE"
RESPONSE_RANK = {CR: 0, PR: 1, SD: 2, NN: 3, PD: 4}
"""Best first: CR > PR > SD > NN > PD (NE is never best)."""
NON_PROGRESSION = (CR, PR, SD, NN)
"""Documented responses that are not progression."""
COHORT_TERMS = {
    CR: "regressive",
    PR: "regressive",
    SD: "stationary",
    NN: "stationary",
    PD: "progressive",
}
"""Display names in the cohort language of the literature (cairo-2024)."""


def effective_status(lesion: LesionMeasurement) -> LesionStatus:
    """The lesion's status; without one, 0 mm reads as disappeared and anything else present."""
    if lesion.status is not None:
        return lesion.status
    if lesion.longest_diameter_mm == 0:
        return LesionStatus.DISAPPEARED
    return LesionStatus.PRESENT


@lru_cache(maxsize=4096)
def exact(value: float) -> Fraction:
    """The decimal a person typed (via the float's shortest repr), as an exact fraction
    (cached: lesion sizes repeat, and a Fraction is immutable)."""
    return Fraction(repr(value))


@lru_cache(maxsize=4096)
def _decimal(value: float) -> tuple[int, int]:
    """`exact(value)` as (n, k) with exact(value) = n / 10**k (k as small as it can be).

    The assessment sums and compares these as integers over one power of ten, which is the
    exact arithmetic of `exact` without the cost of Fraction operations.
    """
    fraction = exact(value)
    k = 0
    while 10**k % fraction.denominator:  # a typed decimal: the denominator is 2^a 5^b
        k += 1
    return fraction.numerator * (10**k // fraction.denominator), k


@frozen
class DemotedTarget:
    """A lesion the board marked `target` that is not a RECIST target lesion."""

    id: str
    diameter_mm: float | None
    reason: str  # "below_10_mm" | "not_present" | "no_diameter" | "beyond_second"


@frozen
class RecistBaseline:
    """The baseline of the assessment: its targets and their sum."""

    date: date
    sum_mm: float | None
    target_lesions: tuple[str, ...]
    non_target_lesions: tuple[str, ...]
    targets_chosen_by: str | None  # "marked" | "engine" | None when no measurable target
    demoted_targets: tuple[DemotedTarget, ...] = ()

    @property
    def measurable(self) -> bool:
        return self.sum_mm is not None


@frozen
class RecistTimepoint:
    """One later timepoint's assessment."""

    date: date
    sum_mm: float | None
    nadir_mm: float | None
    change_from_baseline_percent: float | None
    change_from_nadir_percent: float | None
    response: str
    missing_targets: tuple[str, ...] = ()
    """Targets absent from the timepoint or listed without a diameter."""
    measured_sum_mm: float | None = None
    """With missing targets: the sum of those that were measured (null otherwise)."""


def _present_with_diameter(lesion: LesionMeasurement) -> bool:
    return (
        effective_status(lesion) == LesionStatus.PRESENT
        and lesion.longest_diameter_mm is not None
        and lesion.longest_diameter_mm > 0
    )


def _measurable(lesion: LesionMeasurement) -> bool:
    """RECIST 1.1 measurable: present with a longest diameter of at least 10 mm."""
    return (
        _present_with_diameter(lesion)
        and lesion.longest_diameter_mm is not None
        and exact(lesion.longest_diameter_mm) >= MEASURABLE_MIN_MM
    )


def _demotion(lesion: LesionMeasurement) -> str | None:
    """Why a marked lesion cannot be a target (None if it is measurable)."""
    if effective_status(lesion) != LesionStatus.PRESENT:
        return "not_present"
    if lesion.longest_diameter_mm is None:
        return "no_diameter"
    if not _measurable(lesion):
        return "below_10_mm"
    return None


def choose_targets(
    baseline: ImagingTimepoint,
) -> tuple[list[LesionMeasurement], str | None, list[DemotedTarget]]:
    """The target lesions, who chose them, and the marked lesions that could not be targets.

    Targets are the lesions marked `target` that are measurable (present, ≥ 10 mm), at most
    two, in the order listed.  A marked lesion that is not measurable, or beyond the second,
    is followed as a non-target and reported.  If no marked lesion qualifies, the engine
    chooses the two largest measurable lesions (ties: the order listed).
    """
    marked: list[LesionMeasurement] = []
    demoted: list[DemotedTarget] = []
    for lesion in baseline.lesions:
        if not lesion.target:
            continue
        reason = _demotion(lesion)
        if reason is None and len(marked) >= MAX_TARGETS_PER_ORGAN:
            reason = "beyond_second"
        if reason is None:
            marked.append(lesion)
        else:
            demoted.append(DemotedTarget(lesion.id, lesion.longest_diameter_mm, reason))
    if marked:
        return marked, "marked", demoted
    candidates = [lesion for lesion in baseline.lesions if _measurable(lesion)]
    # largest first; equal sizes keep the order of the baseline list (deterministic)
    ranked = sorted(candidates, key=lambda lesion: -exact(lesion.longest_diameter_mm or 0.0))
    chosen = ranked[:MAX_TARGETS_PER_ORGAN]
    return chosen, ("engine" if chosen else None), demoted


def _percent(value: int, reference: int, scale: int) -> float | None:
    """(value − reference) / reference in percent, 1 decimal, from the shown sums (value and
    reference are exact sums × scale)."""
    if reference == 0:
        return None
    percent = round((value / scale - reference / scale) / (reference / scale) * 100, 1)
    return percent if math.isfinite(percent) else None  # a vanishing reference overflows


def _at_least(value: int, ratio: Fraction, reference: int) -> bool:
    """value ≥ ratio × reference, in integers."""
    return value * ratio.denominator >= ratio.numerator * reference


def _at_most(value: int, ratio: Fraction, reference: int) -> bool:
    """value ≤ ratio × reference, in integers."""
    return value * ratio.denominator <= ratio.numerator * reference


class _Sums:
    """Diameters as integers over one power of ten (`scale`), so that sums and the RECIST
    ratios are exact (a sum of exactly 70 % of baseline is PR however the floats round)."""

    def __init__(self, diameters: list[float]) -> None:
        self.digits = max((_decimal(d)[1] for d in diameters), default=0)
        self.scale = 10**self.digits

    def of(self, diameter: float) -> int:
        n, k = _decimal(diameter)
        shift: int = 10 ** (self.digits - k)
        return n * shift


def _progressed(total: int, nadir: int, scale: int) -> bool:
    """RECIST PD by the sum: at least 20 % and at least 5 mm above the nadir."""
    return _at_least(total, PD_RATIO, nadir) and _at_least(total - nadir, PD_ABSOLUTE_MM, scale)


def _gone(lesion: LesionMeasurement | None) -> bool:
    return lesion is not None and effective_status(lesion) == LesionStatus.DISAPPEARED


def _assessed(lesion: LesionMeasurement | None) -> bool:
    """Listed at the timepoint as present or disappeared (resected/ablated says nothing of
    the response)."""
    return lesion is not None and effective_status(lesion) in (
        LesionStatus.PRESENT,
        LesionStatus.DISAPPEARED,
    )


def _everything_gone(timepoint: ImagingTimepoint, baseline_ids: Sequence[str]) -> bool:
    """CR: every baseline lesion listed as disappeared, and no lesion present at all."""
    by_id = {lesion.id: lesion for lesion in timepoint.lesions}
    if not all(_gone(by_id.get(lesion_id)) for lesion_id in baseline_ids):
        return False
    return not any(effective_status(lesion) == LesionStatus.PRESENT for lesion in timepoint.lesions)


def assess(
    baseline: ImagingTimepoint,
    later: Sequence[ImagingTimepoint],
) -> tuple[RecistBaseline, list[RecistTimepoint]]:
    """RECIST 1.1 for each later timepoint against `baseline` (which has no response itself).

    In this order: PD with new lesions or non-target progression, always; without a
    measurable target at baseline CR / NN / NE (RECIST Table 2); with a target missing, PD if
    the measured targets already progress, else NE; otherwise the sum decides PD, CR, PR, SD.
    """
    targets, chosen_by, demoted = choose_targets(baseline)
    target_ids = [lesion.id for lesion in targets]
    non_target_ids = [
        lesion.id
        for lesion in baseline.lesions
        if effective_status(lesion) == LesionStatus.PRESENT and lesion.id not in target_ids
    ]
    # every diameter that can enter a sum, to put them all over one power of ten
    wanted = set(target_ids)
    diameters = [lesion.longest_diameter_mm or 0.0 for lesion in targets]
    if targets:
        diameters += [
            lesion.longest_diameter_mm
            for timepoint in later
            for lesion in timepoint.lesions
            if lesion.id in wanted and lesion.longest_diameter_mm is not None
        ]
    sums = _Sums(diameters)
    scale = sums.scale
    base_sum = (
        sum(sums.of(lesion.longest_diameter_mm or 0.0) for lesion in targets) if targets else None
    )
    summary = RecistBaseline(
        date=baseline.date,
        sum_mm=None if base_sum is None else base_sum / scale,
        target_lesions=tuple(target_ids),
        non_target_lesions=tuple(non_target_ids),
        targets_chosen_by=chosen_by,
        demoted_targets=tuple(demoted),
    )

    results: list[RecistTimepoint] = []
    nadir = base_sum
    for timepoint in later:
        by_id = {lesion.id: lesion for lesion in timepoint.lesions}
        unequivocal = bool(timepoint.new_lesions) or bool(timepoint.non_target_progression)
        total: int | None = None
        measured: int | None = None
        missing: list[str] = []
        if base_sum is None or nadir is None:
            # non-target disease only (RECIST Table 2)
            if unequivocal:
                response = PD
            elif non_target_ids and _everything_gone(timepoint, non_target_ids):
                response = CR
            elif non_target_ids and all(_assessed(by_id.get(i)) for i in non_target_ids):
                response = NN
            else:
                response = NE  # a baseline lesion not assessed, or no baseline disease at all
        else:
            measured, missing = _target_sum(by_id, target_ids, sums)
            if not missing:
                total = measured
                measured = None
            if unequivocal:
                response = PD
            elif missing:
                # RECIST §4.3.4: a missing target cannot undo progression the others show
                assert measured is not None
                response = PD if _progressed(measured, nadir, scale) else NE
            else:
                assert total is not None
                if _progressed(total, nadir, scale):
                    response = PD
                elif _everything_gone(timepoint, [*target_ids, *non_target_ids]):
                    response = CR
                elif _at_most(total, PR_RATIO, base_sum):
                    response = PR
                else:
                    response = SD
        results.append(
            RecistTimepoint(
                date=timepoint.date,
                sum_mm=None if total is None else total / scale,
                nadir_mm=None if nadir is None or total is None else nadir / scale,
                change_from_baseline_percent=(
                    None if total is None or base_sum is None else _percent(total, base_sum, scale)
                ),
                change_from_nadir_percent=(
                    None if total is None or nadir is None else _percent(total, nadir, scale)
                ),
                response=response,
                missing_targets=tuple(missing),
                measured_sum_mm=None if measured is None else measured / scale,
            )
        )
        if total is not None and nadir is not None and total < nadir:
            nadir = total
    return summary, results


def _target_sum(
    by_id: dict[str, LesionMeasurement], target_ids: Sequence[str], sums: _Sums
) -> tuple[int, list[str]]:
    """(sum of the measured targets' diameters × scale, targets that could not be measured).

    A disappeared target counts 0; a present one recorded at 0 mm (too small to measure)
    counts the RECIST default of 5 mm; a target absent from the timepoint, listed without a
    diameter, or resected/ablated is missing.
    """
    total = 0
    missing: list[str] = []
    for lesion_id in target_ids:
        lesion = by_id.get(lesion_id)
        if lesion is None:
            missing.append(lesion_id)
            continue
        status = effective_status(lesion)
        if status == LesionStatus.DISAPPEARED:
            continue
        if status != LesionStatus.PRESENT or lesion.longest_diameter_mm is None:
            missing.append(lesion_id)
            continue
        if lesion.longest_diameter_mm == 0:  # present, too small to measure
            total += sums.of(TOO_SMALL_TO_MEASURE_MM)
            continue
        total += sums.of(lesion.longest_diameter_mm)
    return total, missing


def best_response(timepoints: Sequence[RecistTimepoint]) -> str | None:
    """Best of CR > PR > SD > NN > PD over the timepoints, NE ignored; None if there is none."""
    ranked = [tp.response for tp in timepoints if tp.response in RESPONSE_RANK]
    if not ranked:
        return None
    return min(ranked, key=lambda response: RESPONSE_RANK[response])
