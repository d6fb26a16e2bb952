"""RECIST 1.1 as the engine applies it to liver lesions (guideline-rules.md, eisenhauer-2009).

Given the baseline imaging timepoint and the later timepoints of the assessment window,
`assess` chooses the target lesions, sums their diameters per timepoint, tracks the nadir
and classifies each timepoint as CR, PR, SD, PD or NE.  Threshold comparisons use exact
decimal arithmetic (a sum of exactly 70 % of baseline is PR however the floats round).
The 20 %, 5 mm and 30 % figures are the definition of RECIST 1.1, not institution
thresholds, so they live here and not in the profile.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from functools import lru_cache

from crlmboard.domain.case import ImagingTimepoint
from crlmboard.domain.models import LesionMeasurement, LesionStatus

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

CR, PR, SD, PD, NE = "CR", "PR", "SD", "PD", "NE"
RESPONSE_RANK = {CR: 0, PR: 1, SD: 2, PD: 3}
"""Best first: CR > PR > SD > PD (NE is never best)."""
COHORT_TERMS = {CR: "regressive", PR: "regressive", SD: "stationary", PD: "progressive"}
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


@dataclass(frozen=True)
class RecistBaseline:
    """The baseline of the assessment: its targets and their sum."""

    date: date
    sum_mm: float | None
    target_lesions: tuple[str, ...]
    non_target_lesions: tuple[str, ...]
    targets_chosen_by: str | None  # "marked" | "engine" | None when no measurable target

    @property
    def measurable(self) -> bool:
        return self.sum_mm is not None


@dataclass(frozen=True)
class RecistTimepoint:
    """One later timepoint's assessment."""

    date: date
    sum_mm: float | None
    nadir_mm: float | None
    change_from_baseline_percent: float | None
    change_from_nadir_percent: float | None
    response: str


def _measured(lesion: LesionMeasurement) -> bool:
    """Present at baseline with a diameter (> 0 mm): the least a target needs to be summed."""
    return (
        effective_status(lesion) == LesionStatus.PRESENT
        and lesion.longest_diameter_mm is not None
        and lesion.longest_diameter_mm > 0
    )


def _measurable(lesion: LesionMeasurement) -> bool:
    """RECIST 1.1 measurable: present with a longest diameter of at least 10 mm."""
    return (
        _measured(lesion)
        and lesion.longest_diameter_mm is not None
        and exact(lesion.longest_diameter_mm) >= MEASURABLE_MIN_MM
    )


def choose_targets(baseline: ImagingTimepoint) -> tuple[list[LesionMeasurement], str | None]:
    """Targets: exactly the lesions marked `target` at baseline (present with a diameter);
    only if none is marked, the engine's choice of the two largest lesions ≥ 10 mm.

    The board's marks are taken as they are (the spec puts no size condition on them); a
    marked lesion that is not present or has no diameter at baseline is followed as a
    non-target, and if none of the marked lesions qualifies there is no measurable target
    (the engine does not replace the board's marks with its own choice).
    """
    if any(lesion.target for lesion in baseline.lesions):
        marked = [lesion for lesion in baseline.lesions if lesion.target and _measured(lesion)]
        return marked, ("marked" if marked else None)
    candidates = [lesion for lesion in baseline.lesions if _measurable(lesion)]
    # largest first; equal sizes keep the order of the baseline list (deterministic)
    ranked = sorted(candidates, key=lambda lesion: -exact(lesion.longest_diameter_mm or 0.0))
    chosen = ranked[:MAX_TARGETS_PER_ORGAN]
    return chosen, ("engine" if chosen else None)


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


def assess(
    baseline: ImagingTimepoint,
    later: Sequence[ImagingTimepoint],
) -> tuple[RecistBaseline, list[RecistTimepoint]]:
    """RECIST 1.1 for each later timepoint against `baseline` (which has no response itself).

    To the letter of guideline-rules.md, the NE lines come first: with no measurable target
    at baseline every timepoint is NE, and a timepoint from which a target lesion is absent
    is NE, even when it also has new lesions or non-target progression.  Otherwise new
    lesions or non-target progression give PD, then the sum decides (PD, CR, PR, SD); a
    target that is listed but not measurable (unmeasured, resected, ablated) leaves the sum
    unknown and the timepoint NE unless it is PD by new lesions or non-target progression.
    """
    targets, chosen_by = choose_targets(baseline)
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
    )

    results: list[RecistTimepoint] = []
    nadir = base_sum
    for timepoint in later:
        by_id = {lesion.id: lesion for lesion in timepoint.lesions}
        total = _target_sum(by_id, target_ids, sums) if base_sum is not None else None
        unequivocal = bool(timepoint.new_lesions) or bool(timepoint.non_target_progression)
        response = NE  # also when no target is measurable or one is absent (spec's NE lines)
        if base_sum is None or any(lesion_id not in by_id for lesion_id in target_ids):
            pass
        elif unequivocal:
            response = PD
        elif total is not None and nadir is not None:
            if _at_least(total, PD_RATIO, nadir) and _at_least(
                total - nadir, PD_ABSOLUTE_MM, scale
            ):
                response = PD
            elif _all_disappeared(by_id, target_ids) and _all_disappeared(by_id, non_target_ids):
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
            )
        )
        if total is not None and nadir is not None and total < nadir:
            nadir = total
    return summary, results


def _target_sum(
    by_id: dict[str, LesionMeasurement], target_ids: Sequence[str], sums: _Sums
) -> int | None:
    """Sum of the targets' diameters (disappeared = 0) × scale; None if a target is not
    assessable."""
    total = 0
    for lesion_id in target_ids:
        lesion = by_id.get(lesion_id)
        if lesion is None:
            return None
        status = effective_status(lesion)
        if status == LesionStatus.DISAPPEARED:
            continue
        if status != LesionStatus.PRESENT or lesion.longest_diameter_mm is None:
            return None  # resected/ablated or unmeasured: not evaluable
        total += sums.of(lesion.longest_diameter_mm)
    return total


def _all_disappeared(by_id: dict[str, LesionMeasurement], lesion_ids: Sequence[str]) -> bool:
    return all(
        lesion_id in by_id and effective_status(by_id[lesion_id]) == LesionStatus.DISAPPEARED
        for lesion_id in lesion_ids
    )


def best_response(timepoints: Sequence[RecistTimepoint]) -> str | None:
    """Best of CR > PR > SD > PD over the timepoints, NE ignored; None if there is none."""
    ranked = [tp.response for tp in timepoints if tp.response in RESPONSE_RANK]
    if not ranked:
        return None
    return min(ranked, key=lambda response: RESPONSE_RANK[response])
