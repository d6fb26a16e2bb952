"""The timeline of a case: every dated event on one date axis, for the app and the PDF.

`build_timeline(case, facts, as_of=...)` turns a `Case` (and, when given, the `facts` of its
`crlmboard.evaluation/1` document, for RECIST target sums and categories) into plain frozen
records: milestones of the primary and the liver disease, chemotherapy cycles grouped into
lines, immunotherapy doses, imaging timepoints with their diameter sums and RECIST category,
the CEA series, procedures, operations and board reviews, and the axis that holds them.  The
Qt timeline widget and the PDF drawing both draw this model; neither computes anything of
its own.  Pure: no clock, no Qt, no reportlab.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from crlmboard.domain.case import Case, ImagingTimepoint
from crlmboard.domain.labels import value_label
from crlmboard.domain.models import (
    LIVER_CLEARING_PROCEDURES,
    Biologic,
    ChemotherapyCycle,
    LesionStatus,
)

SHORT_LABELS: dict[str, str] = {
    "primary_diagnosis": "Primary dx",
    "primary_resection": "Primary resected",
    "liver_metastases": "CRLM dx",
    "recurrence": "Recurrence",
    "planned_surgery": "Planned surgery",
    "portal_vein_embolization": "PVE",
    "hepatic_artery_infusion": "HAI",
    "tace": "TACE",
    "debiri": "DEBIRI",
    "radioembolization": "SIRT",
    "thermal_ablation": "Ablation",
    "fiducial_marking": "Fiducials",
    "hepatectomy": "Hepatectomy",
    "two_stage_first": "2-stage (1st)",
    "two_stage_second": "2-stage (2nd)",
    "alpps_stage_1": "ALPPS 1",
    "alpps_stage_2": "ALPPS 2",
    "colectomy": "Colectomy",
    "proctectomy": "Proctectomy",
    "liver_transplant": "Transplant",
    "other": "Procedure",
}
"""Short names of milestones and procedures for a crowded chart."""

MIN_AXIS_DAYS = 28
"""An axis spans at least four weeks, so a single event is not drawn on a zero-width axis."""
EARLY_GAP_DAYS = 548
"""Milestones more than ~18 months before the rest of the course are listed, not plotted."""
TICK_STEPS_MONTHS = (1, 2, 3, 6, 12, 24, 60)


@dataclass(frozen=True)
class Milestone:
    """A single dated event of the disease course (diagnosis, resection, recurrence…)."""

    date: dt.date
    kind: str
    """`primary_diagnosis`, `primary_resection`, `liver_metastases`, `extrahepatic`,
    `recurrence` or `planned_surgery`."""
    label: str
    short_label: str
    """A few characters for a crowded chart."""


@dataclass(frozen=True)
class ChemotherapyMark:
    """One chemotherapy cycle: the day given and the day its cycle ends."""

    date: dt.date
    end: dt.date
    regimen: str
    biologic: str | None
    """The biologic given with the cycle; None when none was given."""
    cycle: int
    setting: str
    line: int
    dose_percent: float


@dataclass(frozen=True)
class ChemotherapyLine:
    """A line of chemotherapy: consecutive cycles of one regimen and setting."""

    number: int
    regimen: str
    setting: str
    cycles: int
    first_date: dt.date
    last_date: dt.date
    end: dt.date
    biologics: tuple[tuple[str, int], ...]
    """(biologic, cycles given with it) in order of first use; cycles without one are left out."""

    @property
    def label(self) -> str:
        """`FOLFOX + bevacizumab` (every biologic of the line)."""
        parts = [value_label(self.regimen)] + [value_label(b) for b, _ in self.biologics]
        return " + ".join(parts)


@dataclass(frozen=True)
class ImmunotherapyMark:
    """One dose of a checkpoint inhibitor."""

    date: dt.date
    agent: str
    cycle: int | None
    setting: str


@dataclass(frozen=True)
class ProcedureMark:
    """An operation or intervention."""

    date: dt.date
    procedure: str
    label: str
    short_label: str
    segments: tuple[int, ...]
    liver_clearing: bool


@dataclass(frozen=True)
class ImagingMark:
    """One imaging timepoint and what it measured."""

    date: dt.date
    modality: str | None
    lesion_count: int
    """Lesions present (diameter > 0, or present with the diameter unknown)."""
    total_diameter_mm: float | None
    """Sum of the longest diameters of every present, measured lesion."""
    target_sum_mm: float | None
    """RECIST sum of target diameters, when the evaluation assessed this timepoint."""
    response: str | None
    """RECIST category (CR, PR, SD, PD, NE); None for the baseline and unassessed points."""
    baseline: bool
    """The RECIST baseline of the evaluation."""
    new_lesions: bool
    flr_percent: float | None


@dataclass(frozen=True)
class CeaMark:
    """One CEA value (ng/mL)."""

    date: dt.date
    value: float


@dataclass(frozen=True)
class ReviewMark:
    """A board review."""

    date: dt.date
    recommendation: str | None
    signed: bool


@dataclass(frozen=True)
class TimelineAxis:
    """The date range the chart spans (inclusive)."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return max((self.end - self.start).days, 1)

    def fraction(self, when: date) -> float:
        """Where `when` lies on the axis: 0 at the start, 1 at the end (not clamped)."""
        return (when - self.start).days / self.days

    def ticks(self, max_ticks: int = 8) -> list[dt.date]:
        """First-of-month dates inside the axis, 1, 2, 3, 6, 12, 24, 60 (or more) months
        apart: the closest spacing that gives at most `max_ticks` of them."""
        limit = max(max_ticks, 1)
        step_index = 0
        while True:
            step = (
                TICK_STEPS_MONTHS[step_index]
                if step_index < len(TICK_STEPS_MONTHS)
                else 120 * (step_index - len(TICK_STEPS_MONTHS) + 1)
            )
            ticks = self._month_ticks(step)
            if len(ticks) <= limit:
                return ticks
            step_index += 1

    def _month_ticks(self, step: int) -> list[dt.date]:
        ticks: list[dt.date] = []
        index = self.start.year * 12 + self.start.month - 1
        if self.start.day != 1:
            index += 1
        index += (-index) % step  # align to multiples of the step (Jan, Apr, Jul, Oct …)
        while True:
            tick = date(index // 12, index % 12 + 1, 1)
            if tick > self.end:
                return ticks
            ticks.append(tick)
            index += step


@dataclass(frozen=True)
class Timeline:
    """Everything a timeline chart draws, on one axis."""

    axis: TimelineAxis
    as_of: dt.date | None
    milestones: tuple[Milestone, ...]
    before_axis: tuple[Milestone, ...]
    """Milestones far earlier than the rest of the course; named, not plotted."""
    chemotherapy: tuple[ChemotherapyMark, ...]
    lines: tuple[ChemotherapyLine, ...]
    immunotherapy: tuple[ImmunotherapyMark, ...]
    procedures: tuple[ProcedureMark, ...]
    imaging: tuple[ImagingMark, ...]
    cea: tuple[CeaMark, ...]
    reviews: tuple[ReviewMark, ...]

    @property
    def empty(self) -> bool:
        """Nothing dated to draw."""
        return not (
            self.milestones
            or self.chemotherapy
            or self.immunotherapy
            or self.procedures
            or self.imaging
            or self.cea
            or self.reviews
        )

    @property
    def regimens(self) -> tuple[str, ...]:
        """Regimens in order of first use (one colour each)."""
        return tuple(dict.fromkeys(mark.regimen for mark in self.chemotherapy))

    @property
    def max_sum_mm(self) -> float | None:
        """Largest diameter sum (target or total) for the size axis."""
        values = [
            v for m in self.imaging for v in (m.target_sum_mm, m.total_diameter_mm) if v is not None
        ]
        return max(values) if values else None

    @property
    def max_cea(self) -> float | None:
        return max((m.value for m in self.cea), default=None)


# --------------------------------------------------------------------------------------


def _present(timepoint: ImagingTimepoint) -> list[float | None]:
    """Diameters of the present lesions (None where the diameter is unknown)."""
    sizes: list[float | None] = []
    for lesion in timepoint.lesions:
        status = lesion.status
        if status is None:
            status = (
                LesionStatus.DISAPPEARED
                if lesion.longest_diameter_mm == 0
                else LesionStatus.PRESENT
            )
        if status == LesionStatus.PRESENT and lesion.longest_diameter_mm != 0:
            sizes.append(lesion.longest_diameter_mm)
    return sizes


def _group_cycles(cycles: Iterable[ChemotherapyCycle]) -> list[list[ChemotherapyCycle]]:
    """Cycles by line, oldest first: a new line starts when the regimen or the setting
    changes, or when the cycle number does not go up (numbering restarted)."""
    groups: list[list[ChemotherapyCycle]] = []
    for cycle in sorted(cycles, key=lambda c: c.date):
        last = groups[-1][-1] if groups else None
        if (
            last is None
            or cycle.regimen != last.regimen
            or cycle.setting != last.setting
            or cycle.cycle <= last.cycle
        ):
            groups.append([cycle])
        else:
            groups[-1].append(cycle)
    return groups


def chemotherapy_lines(cycles: Iterable[ChemotherapyCycle]) -> list[ChemotherapyLine]:
    """The lines of chemotherapy of `cycles` (see `_group_cycles` for what starts a line)."""
    lines: list[ChemotherapyLine] = []
    for number, group in enumerate(_group_cycles(cycles), start=1):
        biologics: dict[str, int] = {}
        for cycle in group:
            if cycle.effective_biologic != Biologic.NONE:
                key = cycle.effective_biologic.value
                biologics[key] = biologics.get(key, 0) + 1
        last = group[-1]
        lines.append(
            ChemotherapyLine(
                number=number,
                regimen=group[0].regimen.value,
                setting=group[0].setting.value,
                cycles=len(group),
                first_date=group[0].date,
                last_date=last.date,
                end=last.date + timedelta(days=last.effective_cycle_length_days),
                biologics=tuple(biologics.items()),
            )
        )
    return lines


def _recist_by_date(
    facts: Mapping[str, Any] | None,
) -> tuple[date | None, float | None, dict[date, tuple[float | None, str]]]:
    """(baseline date, baseline sum, {date: (sum, response)}) from evaluation facts."""
    if not facts:
        return None, None, {}
    baseline_date: date | None = None
    baseline_sum: float | None = None
    baseline = facts.get("recist_baseline")
    if isinstance(baseline, Mapping) and baseline.get("date"):
        baseline_date = date.fromisoformat(str(baseline["date"]))
        baseline_sum = _number(baseline.get("sum_mm"))
    assessed: dict[date, tuple[float | None, str]] = {}
    for entry in facts.get("recist") or ():
        if isinstance(entry, Mapping) and entry.get("date"):
            assessed[date.fromisoformat(str(entry["date"]))] = (
                _number(entry.get("sum_mm")),
                str(entry.get("response") or "NE"),
            )
    return baseline_date, baseline_sum, assessed


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def build_timeline(
    case: Case, facts: Mapping[str, Any] | None = None, *, as_of: date | None = None
) -> Timeline:
    """The timeline of `case`, with records dated after `as_of` left out (when given).

    `facts` is the `facts` object of an evaluation document; its `recist_baseline` and
    `recist` entries give the target sums and RECIST categories of the timepoints they cover.
    """

    def seen(when: date | None) -> bool:
        return when is not None and (as_of is None or when <= as_of)

    milestones: list[Milestone] = []
    primary = case.primary
    if primary is not None:
        if seen(primary.diagnosis_date):
            assert primary.diagnosis_date is not None
            milestones.append(
                _milestone(primary.diagnosis_date, "primary_diagnosis", "Primary diagnosed")
            )
        if seen(primary.resection_date):
            assert primary.resection_date is not None
            milestones.append(
                _milestone(primary.resection_date, "primary_resection", "Primary resected")
            )
    if seen(case.liver_metastases_diagnosis_date):
        assert case.liver_metastases_diagnosis_date is not None
        milestones.append(
            _milestone(
                case.liver_metastases_diagnosis_date,
                "liver_metastases",
                "Liver metastases diagnosed",
            )
        )
    for disease in case.extrahepatic_disease:
        if seen(disease.detected_on):
            assert disease.detected_on is not None
            site = value_label(disease.site).lower()
            milestones.append(
                Milestone(
                    disease.detected_on,
                    "extrahepatic",
                    f"Extrahepatic disease: {site}",
                    site.capitalize(),
                )
            )
    for outcome in case.surgery_outcomes:
        if seen(outcome.recurrence_date):
            assert outcome.recurrence_date is not None
            milestones.append(_milestone(outcome.recurrence_date, "recurrence", "Recurrence"))
    plan = case.plan
    if (
        plan is not None
        and plan.planned_surgery_date is not None
        and (as_of is None or plan.planned_surgery_date >= as_of)
    ):
        milestones.append(
            _milestone(plan.planned_surgery_date, "planned_surgery", "Planned surgery")
        )
    milestones.sort(key=lambda m: m.date)

    cycles = [c for c in case.chemotherapy if seen(c.date)]
    lines = chemotherapy_lines(cycles)
    chemotherapy = tuple(
        ChemotherapyMark(
            date=c.date,
            end=c.date + timedelta(days=c.effective_cycle_length_days),
            regimen=c.regimen.value,
            biologic=None if c.effective_biologic == Biologic.NONE else c.effective_biologic.value,
            cycle=c.cycle,
            setting=c.setting.value,
            line=number,
            dose_percent=c.effective_dose_percent,
        )
        for number, group in enumerate(_group_cycles(cycles), start=1)
        for c in group
    )

    immunotherapy = tuple(
        sorted(
            (
                ImmunotherapyMark(d.date, d.agent.value, d.cycle, d.setting.value)
                for d in case.immunotherapy
                if seen(d.date)
            ),
            key=lambda m: m.date,
        )
    )
    procedures = tuple(
        sorted(
            (
                ProcedureMark(
                    p.date,
                    p.procedure.value,
                    value_label(p.procedure),
                    SHORT_LABELS.get(p.procedure.value, value_label(p.procedure)),
                    tuple(p.segments or ()),
                    p.procedure in LIVER_CLEARING_PROCEDURES,
                )
                for p in case.procedures
                if seen(p.date)
            ),
            key=lambda m: m.date,
        )
    )

    baseline_date, baseline_sum, assessed = _recist_by_date(facts)
    imaging: list[ImagingMark] = []
    for timepoint in sorted((t for t in case.imaging if seen(t.date)), key=lambda t: t.date):
        sizes = _present(timepoint)
        measured = [s for s in sizes if s is not None]
        total = float(sum(measured)) if measured or not sizes else None
        is_baseline = baseline_date is not None and timepoint.date == baseline_date
        target_sum, response = (
            (baseline_sum, None) if is_baseline else assessed.get(timepoint.date, (None, None))
        )
        imaging.append(
            ImagingMark(
                date=timepoint.date,
                modality=timepoint.modality.value if timepoint.modality else None,
                lesion_count=len(sizes),
                total_diameter_mm=total,
                target_sum_mm=target_sum,
                response=response,
                baseline=is_baseline,
                new_lesions=bool(timepoint.new_lesions),
                flr_percent=timepoint.flr_measure_percent,
            )
        )

    cea = tuple(
        CeaMark(lab.date, lab.cea_ng_ml)
        for lab in sorted(case.labs, key=lambda lab: lab.date)
        if lab.cea_ng_ml is not None and seen(lab.date)
    )
    reviews = tuple(
        ReviewMark(r.meeting_date, r.recommendation.value if r.recommendation else None, r.signed)
        for r in sorted(case.reviews, key=lambda r: r.meeting_date)
        if seen(r.meeting_date)
    )

    course: list[date] = (
        [m.date for m in chemotherapy]
        + [m.end for m in chemotherapy]
        + [m.date for m in immunotherapy]
        + [m.date for m in procedures]
        + [m.date for m in imaging]
        + [m.date for m in cea]
        + [m.date for m in reviews]
    )
    plotted, before = _split_early(milestones, course)
    dates = course + [m.date for m in plotted]
    if as_of is not None and dates:
        dates.append(as_of)
    axis = _axis(dates, as_of)
    return Timeline(
        axis=axis,
        as_of=as_of,
        milestones=tuple(plotted),
        before_axis=tuple(before),
        chemotherapy=chemotherapy,
        lines=tuple(lines),
        immunotherapy=immunotherapy,
        procedures=procedures,
        imaging=tuple(imaging),
        cea=cea,
        reviews=reviews,
    )


def _milestone(when: date, kind: str, label: str) -> Milestone:
    return Milestone(when, kind, label, SHORT_LABELS.get(kind, label))


def _split_early(
    milestones: Sequence[Milestone],
    course: Sequence[date],
) -> tuple[list[Milestone], list[Milestone]]:
    """Milestones to plot, and those so much earlier than the rest that they would squash it."""
    later = list(course) + [
        m.date for m in milestones if m.kind not in ("primary_diagnosis", "primary_resection")
    ]
    if not later:
        return list(milestones), []
    first = min(later)
    plotted = [m for m in milestones if (first - m.date).days <= EARLY_GAP_DAYS]
    before = [m for m in milestones if (first - m.date).days > EARLY_GAP_DAYS]
    return plotted, before


def _axis(dates: Sequence[date], as_of: date | None) -> TimelineAxis:
    """The range of `dates` with a little room on both sides (at least MIN_AXIS_DAYS)."""
    if not dates:
        anchor = as_of or date(2000, 1, 1)
        return TimelineAxis(anchor - timedelta(days=MIN_AXIS_DAYS), anchor)
    start, end = min(dates), max(dates)
    span = max((end - start).days, MIN_AXIS_DAYS)
    pad = max(span // 40, 3)
    if (end - start).days < MIN_AXIS_DAYS:
        middle = start + timedelta(days=(end - start).days // 2)
        start = middle - timedelta(days=MIN_AXIS_DAYS // 2)
        end = start + timedelta(days=MIN_AXIS_DAYS)
    return TimelineAxis(start - timedelta(days=pad), end + timedelta(days=pad))
