"""The timeline of a case: every dated event on one date axis, for the app and the PDF.

`build_timeline(case, facts, as_of=...)` turns a `Case` (and, when given, the `facts` of its
`crlmboard.evaluation/1` document, for RECIST target sums and categories) into plain frozen
records: milestones of the primary and the liver disease, chemotherapy cycles grouped into
lines, immunotherapy doses, imaging timepoints with their diameter sums and RECIST category,
the CEA series, procedures, operations and board reviews, the episodes (a liver-clearing
operation starts a new one, with its own RECIST baseline), and the axis that holds them —
the whole record, with empty years shown as a short break.  It also holds the encoding
both drawings use (colours, line styles, what each series means) and the legend of what
is drawn.  The Qt timeline widget and the PDF drawing both draw this model; neither
computes anything of its own.  Pure: no clock, no Qt, no reportlab.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from crlmboard.domain.case import Case, ImagingTimepoint
from crlmboard.domain.engine import recist
from crlmboard.domain.engine.facts import build_episode
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
BREAK_MIN_DAYS = 365
"""A stretch of a year or more without any record is drawn as a short break in the axis."""
BREAK_MARGIN_DAYS = 45
"""Days kept on the axis on each side of a break (room for the records next to it)."""
BREAK_SHARE = 20
"""A break takes the width of 1/BREAK_SHARE of the rest of the axis (at least a week)."""
TICK_STEPS_MONTHS = (1, 2, 3, 6, 12, 24, 60)
VALUE_STEPS = (1.0, 2.0, 2.5, 5.0)
"""Nice steps of a value axis (× 10ⁿ)."""
VALUE_INTERVALS = 4
"""Both value axes (size, CEA) have this many intervals, so they share their gridlines."""


# -- the encoding: one table for the app and the PDF -------------------------------------


@dataclass(frozen=True)
class Ink:
    """One colour of the chart: on a light background (the PDF, a light window) and on a
    dark one (a dark window palette), the same hue."""

    light: str
    dark: str

    def on(self, dark: bool) -> str:
        return self.dark if dark else self.light


REGIMEN_INKS: tuple[Ink, ...] = (
    Ink("#4e79a7", "#7aa6d6"),
    Ink("#f28e2b", "#ffad5c"),
    Ink("#59a14f", "#86cf7b"),
    Ink("#b07aa1", "#d9a6cb"),
    Ink("#9c755f", "#c9a28b"),
    Ink("#e15759", "#ff8a8b"),
    Ink("#76b7b2", "#9fe0da"),
    Ink("#edc948", "#f5dc7a"),
)
"""Chemotherapy regimens, in order of first use."""

INKS: dict[str, Ink] = {
    "target_sum": Ink("#1f4e79", "#8cc0f0"),
    "all_lesions": Ink("#6b7780", "#aab6bf"),
    "cea": Ink("#8e44ad", "#d7a1ee"),
    "biologic": Ink("#222222", "#eeeeee"),
    "immunotherapy": Ink("#1a8a7d", "#5fd3c4"),
    "milestone": Ink("#5b6770", "#b8c4cc"),
    "procedure": Ink("#37474f", "#c9d4da"),
    "liver_clearing": Ink("#b03a2e", "#ff8f80"),
    "review": Ink("#1f4e79", "#8cc0f0"),
    "as_of": Ink("#c62828", "#ff7b7b"),
    "text": Ink("#1a1a1a", "#e8e8e8"),
    "muted": Ink("#5f6368", "#a8adb3"),
    "frame": Ink("#b0b4b8", "#6b7075"),
    "grid": Ink("#e3e7ea", "#3b4046"),
    "episode": Ink("#f4f1ec", "#2f2b27"),
}
"""Everything else the chart draws, by what it means."""

RESPONSE_INKS: dict[str, Ink] = {
    "BL": Ink("#1f4e79", "#8cc0f0"),
    "CR": Ink("#1b7f3b", "#6fdc8c"),
    "PR": Ink("#2e8b57", "#7fd8a4"),
    "SD": Ink("#8a6d00", "#e8c65a"),
    "NN": Ink("#8a6d00", "#e8c65a"),  # non-CR/non-PD: stationary, like SD
    "PD": Ink("#c0392b", "#ff8a7a"),
    "NE": Ink("#5f6368", "#a8adb3"),
}
"""RECIST categories (and BL, the baseline of an episode) written at their timepoints."""

LINE_STYLES: dict[str, tuple[float, ...]] = {
    "target_sum": (),  # solid, filled circles: the RECIST sum, one line per episode
    "all_lesions": (1.5, 1.5),  # dotted, hollow circles: every present lesion
    "cea": (4.0, 2.0),  # dashed, squares: CEA on the right axis
}
"""Dash pattern of each series, in line widths (empty: solid)."""


def regimen_ink(timeline: Timeline, regimen: str) -> Ink:
    """The colour of `regimen` on `timeline` (by order of first use)."""
    index = timeline.regimens.index(regimen) if regimen in timeline.regimens else 0
    return REGIMEN_INKS[index % len(REGIMEN_INKS)]


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
    record: Any = dataclasses.field(default=None, compare=False, repr=False)
    """The record it was drawn from (the app opens it); not part of the mark's value."""


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
    record: Any = dataclasses.field(default=None, compare=False, repr=False)
    """The record it was drawn from (the app opens it); not part of the mark's value."""


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
    record: Any = dataclasses.field(default=None, compare=False, repr=False)
    """The record it was drawn from (the app opens it); not part of the mark's value."""


@dataclass(frozen=True)
class ProcedureMark:
    """An operation or intervention."""

    date: dt.date
    procedure: str
    label: str
    short_label: str
    segments: tuple[int, ...]
    liver_clearing: bool
    """A liver-clearing operation: it ends an episode and starts the next."""
    record: Any = dataclasses.field(default=None, compare=False, repr=False)
    """The record it was drawn from (the app opens it); not part of the mark's value."""


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
    """RECIST category (CR, PR, SD, PD, NE); None for a baseline and unassessed points."""
    baseline: bool
    """The RECIST baseline of its episode."""
    new_lesions: bool
    flr_percent: float | None
    episode: int = 1
    """The episode the timepoint belongs to (1 before the first liver-clearing operation)."""
    record: Any = dataclasses.field(default=None, compare=False, repr=False)
    """The record it was drawn from (the app opens it); not part of the mark's value."""

    @property
    def tag(self) -> str:
        """What is written at the point: BL for a baseline, else the RECIST category."""
        return "BL" if self.baseline else (self.response or "")


@dataclass(frozen=True)
class CeaMark:
    """One CEA value (ng/mL)."""

    date: dt.date
    value: float
    record: Any = dataclasses.field(default=None, compare=False, repr=False)
    """The record it was drawn from (the app opens it); not part of the mark's value."""


@dataclass(frozen=True)
class ReviewMark:
    """A board review."""

    date: dt.date
    recommendation: str | None
    signed: bool
    record: Any = dataclasses.field(default=None, compare=False, repr=False)
    """The record it was drawn from (the app opens it); not part of the mark's value."""


@dataclass(frozen=True)
class Episode:
    """A stretch of the disease course measured against one RECIST baseline: the record up
    to the first liver-clearing operation, then from the day after each."""

    number: int
    start: dt.date | None
    """The day after the operation that began it; None for the first episode."""
    operation: str | None
    """The liver-clearing operation that began it (`hepatectomy` …); None for the first."""
    operation_date: dt.date | None

    @property
    def label(self) -> str:
        return f"Episode {self.number}"


@dataclass(frozen=True)
class LegendEntry:
    """One line of the legend: what a shape in a colour means."""

    shape: str
    """`bar` (a regimen), `cap` (biologic given), `diamond` (immunotherapy), `line` (target
    sum), `dotted` (all lesions), `dashed` (CEA), `milestone`, `procedure`, `clearing`,
    `review`, `as_of`, `break`."""
    label: str
    ink: Ink


@dataclass(frozen=True)
class TimelineAxis:
    """The date range the chart spans (inclusive), with the empty stretches it shows
    compressed (`breaks`, each drawn BREAK_SHOWN_DAYS wide)."""

    start: dt.date
    end: dt.date
    breaks: tuple[tuple[dt.date, dt.date], ...] = ()
    break_days: int = 7
    """The width each break takes, in days of the rest of the axis."""

    @property
    def days(self) -> int:
        """The axis length in shown days (a break counts `break_days`)."""
        hidden = sum((b - a).days for a, b in self.breaks)
        shown = (self.end - self.start).days - hidden + self.break_days * len(self.breaks)
        return max(shown, 1)

    def _shown_days(self, when: date) -> float:
        """Shown days from the start to `when`."""
        offset = float((when - self.start).days)
        for a, b in self.breaks:
            if when <= a:
                break
            length = (b - a).days
            if when >= b:
                offset -= length - self.break_days
            else:
                offset -= (when - a).days - (when - a).days / length * self.break_days
        return offset

    def fraction(self, when: date) -> float:
        """Where `when` lies on the axis: 0 at the start, 1 at the end (not clamped)."""
        return self._shown_days(when) / self.days

    def in_break(self, when: date) -> bool:
        return any(a < when < b for a, b in self.breaks)

    @property
    def spans(self) -> list[tuple[dt.date, dt.date]]:
        """The parts of the axis drawn to scale (between the breaks)."""
        spans: list[tuple[dt.date, dt.date]] = []
        first = self.start
        for a, b in self.breaks:
            spans.append((first, a))
            first = b
        spans.append((first, self.end))
        return spans

    def ticks(self, max_ticks: int = 8) -> list[dt.date]:
        """First-of-month dates inside the drawn parts of the axis, 1, 2, 3, 6, 12, 24, 60
        (or more) months apart: the closest spacing that gives at most `max_ticks` of them;
        a part that would have none gets its first month (while that stays within
        `max_ticks`)."""
        limit = max(max_ticks, 1)
        step_index = 0
        while True:
            step = (
                TICK_STEPS_MONTHS[step_index]
                if step_index < len(TICK_STEPS_MONTHS)
                else 120 * (step_index - len(TICK_STEPS_MONTHS) + 1)
            )
            ticks: list[dt.date] = []
            bare: list[dt.date] = []
            for first, last in self.spans:
                found = _month_ticks(first, last, step)
                ticks += found
                if not found:
                    bare += _month_ticks(first, last, 1)[:1]
            if len(ticks) <= limit:
                room = limit - len(ticks)
                return sorted(ticks + bare[:room])
            step_index += 1


def _month_ticks(start: date, end: date, step: int) -> list[dt.date]:
    ticks: list[dt.date] = []
    index = start.year * 12 + start.month - 1
    if start.day != 1:
        index += 1
    index += (-index) % step  # align to multiples of the step (Jan, Apr, Jul, Oct …)
    while True:
        tick = date(index // 12, index % 12 + 1, 1)
        if tick > end:
            return ticks
        ticks.append(tick)
        index += step


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month_label(when: date) -> str:
    """A date-axis tick: `Mar 2025` (a four-digit year, the same in the app and the PDF)."""
    return f"{MONTHS[when.month - 1]} {when.year}"


def value_scale(maximum: float | None) -> tuple[float, float]:
    """(top, step) of a value axis from 0 holding `maximum`: VALUE_INTERVALS steps of a
    nice size (1, 2, 2.5 or 5 × 10ⁿ)."""
    if maximum is None or maximum <= 0 or not math.isfinite(maximum):
        return float(VALUE_INTERVALS), 1.0
    rough = maximum / VALUE_INTERVALS
    power = 10.0 ** math.floor(math.log10(rough))
    for factor in (*VALUE_STEPS, 10.0):
        step = factor * power
        if step * VALUE_INTERVALS >= maximum * (1 - 1e-9):
            return step * VALUE_INTERVALS, step
    return 10 * power * VALUE_INTERVALS, 10 * power  # pragma: no cover (10 always fits)


def value_text(value: float) -> str:
    """A value-axis label: `2.5`, `40`."""
    return f"{round(value, 6):g}"


def stack_labels(spans: Sequence[tuple[float, float]], gap: float = 0.0) -> list[int]:
    """The row of each label, given as (left, right) in drawing order: the first row where
    it does not overlap a label already placed (so no two labels ever collide)."""
    rows: list[list[tuple[float, float]]] = []
    placed: list[int] = []
    for left, right in spans:
        for number, row in enumerate(rows):
            if all(right + gap <= a or left >= b + gap for a, b in row):
                row.append((left, right))
                placed.append(number)
                break
        else:
            rows.append([(left, right)])
            placed.append(len(rows) - 1)
    return placed


Box = tuple[float, float, float, float]
"""(left, top, right, bottom) of something drawn, in the drawing's units."""


def free_box(options: Sequence[Box], taken: Sequence[Box]) -> int | None:
    """The first of `options` that overlaps nothing in `taken` (None: all would collide)."""
    for index, (left, top, right, bottom) in enumerate(options):
        if all(
            right <= b_left or left >= b_right or bottom <= b_top or top >= b_bottom
            for b_left, b_top, b_right, b_bottom in taken
        ):
            return index
    return None


def spaced_ticks(ticks: Sequence[date], x_of: Any, width: float) -> list[date]:
    """The ticks whose labels (`width` wide, centred) do not run into the previous one's."""
    kept: list[date] = []
    last = -math.inf
    for tick in ticks:
        x = x_of(tick)
        if x - last >= width:
            kept.append(tick)
            last = x
    return kept


@dataclass(frozen=True)
class Timeline:
    """Everything a timeline chart draws, on one axis."""

    axis: TimelineAxis
    as_of: dt.date | None
    milestones: tuple[Milestone, ...]
    chemotherapy: tuple[ChemotherapyMark, ...]
    lines: tuple[ChemotherapyLine, ...]
    immunotherapy: tuple[ImmunotherapyMark, ...]
    procedures: tuple[ProcedureMark, ...]
    imaging: tuple[ImagingMark, ...]
    cea: tuple[CeaMark, ...]
    reviews: tuple[ReviewMark, ...]
    episodes: tuple[Episode, ...] = (Episode(1, None, None, None),)

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

    def series(self, key: str) -> list[list[ImagingMark]]:
        """The imaging points of a size series — `target_sum` or `all_lesions` — as the
        runs a line joins: one per episode, broken where a point has no value (a line never
        crosses a liver-clearing operation, so an operation never reads as a response)."""
        runs: list[list[ImagingMark]] = []
        run: list[ImagingMark] = []
        episode = None
        for mark in self.imaging:
            value = mark.target_sum_mm if key == "target_sum" else mark.total_diameter_mm
            if value is None or mark.episode != episode:
                if run:
                    runs.append(run)
                run = []
                episode = mark.episode
            if value is not None:
                run.append(mark)
        if run:
            runs.append(run)
        return runs

    @property
    def as_of_shown(self) -> bool:
        return self.as_of is not None and self.axis.start <= self.as_of <= self.axis.end

    def legend(self) -> list[LegendEntry]:
        """What the chart draws, each once, in the order drawn (and nothing it does not)."""
        entries: list[LegendEntry] = []
        kinds = {m.kind for m in self.milestones}
        if kinds:
            entries.append(LegendEntry("milestone", "Milestone", INKS["milestone"]))
        if any(not p.liver_clearing for p in self.procedures):
            entries.append(LegendEntry("procedure", "Procedure", INKS["procedure"]))
        if len(self.episodes) > 1:
            entries.append(
                LegendEntry(
                    "clearing", "Liver-clearing operation: a new episode", INKS["liver_clearing"]
                )
            )
        if self.reviews:
            entries.append(LegendEntry("review", "Board review", INKS["review"]))
        for regimen in self.regimens:
            entries.append(LegendEntry("bar", value_label(regimen), regimen_ink(self, regimen)))
        biologics = sorted({m.biologic for m in self.chemotherapy if m.biologic})
        if biologics:
            names = ", ".join(value_label(b) for b in biologics)
            entries.append(LegendEntry("cap", f"with {names}", INKS["biologic"]))
        agents = sorted({m.agent for m in self.immunotherapy})
        if agents:
            names = ", ".join(value_label(a) for a in agents)
            entries.append(LegendEntry("diamond", f"Immunotherapy: {names}", INKS["immunotherapy"]))
        if any(m.target_sum_mm is not None for m in self.imaging):
            per = " per episode" if len(self.episodes) > 1 else ""
            entries.append(
                LegendEntry(
                    "line",
                    f"Sum of target diameters, mm (RECIST category; BL = baseline{per})",
                    INKS["target_sum"],
                )
            )
        if any(m.total_diameter_mm is not None for m in self.imaging):
            entries.append(LegendEntry("dotted", "Sum of all lesions, mm", INKS["all_lesions"]))
        if self.cea:
            entries.append(LegendEntry("dashed", "CEA ng/mL (right axis)", INKS["cea"]))
        if self.as_of_shown:
            entries.append(LegendEntry("as_of", "Evaluated on", INKS["as_of"]))
        if self.axis.breaks:
            entries.append(LegendEntry("break", "Years without records (shortened)", INKS["muted"]))
        return entries


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


Assessed = dict[date, tuple[float | None, str | None, bool]]
"""{timepoint date: (target sum, RECIST category, baseline?)}."""


def _recist_of_facts(facts: Mapping[str, Any]) -> Assessed:
    """The current episode's baseline and assessments, from evaluation facts."""
    assessed: Assessed = {}
    baseline = facts.get("recist_baseline")
    if isinstance(baseline, Mapping) and baseline.get("date"):
        when = date.fromisoformat(str(baseline["date"]))
        assessed[when] = (_number(baseline.get("sum_mm")), None, True)
    for entry in facts.get("recist") or ():
        if isinstance(entry, Mapping) and entry.get("date"):
            assessed[date.fromisoformat(str(entry["date"]))] = (
                _number(entry.get("sum_mm")),
                str(entry.get("response") or "NE"),
                False,
            )
    return assessed


def _recist_of_episode(case: Case, last_day: date) -> Assessed:
    """An earlier episode's baseline and assessments, as the engine made them on its last
    day (the day before the operation that ended it)."""
    episode = build_episode(case, last_day)
    if episode.baseline is None:
        return {}
    baseline, points = recist.assess(episode.baseline, episode.recist_window)
    assessed: Assessed = {baseline.date: (baseline.sum_mm, None, True)}
    for point in points:
        assessed[point.date] = (point.sum_mm, point.response, False)
    return assessed


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _episodes(case: Case, seen: Any) -> tuple[Episode, ...]:
    """The episodes of the record: a new one the day after each liver-clearing operation
    (from the procedures and the surgery outcomes, as the engine finds them)."""
    operations: dict[date, str] = {}
    for outcome in case.surgery_outcomes:
        if outcome.procedure in LIVER_CLEARING_PROCEDURES and seen(outcome.date):
            operations.setdefault(outcome.date, outcome.procedure.value)
    for procedure in case.procedures:  # a procedure names it before an outcome does
        if procedure.procedure in LIVER_CLEARING_PROCEDURES and seen(procedure.date):
            operations[procedure.date] = procedure.procedure.value
    episodes = [Episode(1, None, None, None)]
    for number, when in enumerate(sorted(operations), start=2):
        episodes.append(Episode(number, when + timedelta(days=1), operations[when], when))
    return tuple(episodes)


def _episode_of(episodes: Sequence[Episode], when: date) -> int:
    number = 1
    for episode in episodes:
        if episode.start is not None and when >= episode.start:
            number = episode.number
    return number


def build_timeline(
    case: Case, facts: Mapping[str, Any] | None = None, *, as_of: date | None = None
) -> Timeline:
    """The timeline of `case`, with records dated after `as_of` left out (when given).

    `facts` is the `facts` object of an evaluation document; its `recist_baseline` and
    `recist` entries give the target sums and RECIST categories of the current episode.
    With them, each earlier episode gets its own baseline and categories, as the engine
    assessed it on the day before the operation that ended it.
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
                    disease,
                )
            )
    for outcome in case.surgery_outcomes:
        if seen(outcome.recurrence_date):
            assert outcome.recurrence_date is not None
            milestones.append(
                _milestone(outcome.recurrence_date, "recurrence", "Recurrence", outcome)
            )
    plan = case.plan
    if (
        plan is not None
        and plan.planned_surgery_date is not None
        and (as_of is None or plan.planned_surgery_date >= as_of)
    ):
        milestones.append(
            _milestone(plan.planned_surgery_date, "planned_surgery", "Planned surgery", plan)
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
            record=c,
        )
        for number, group in enumerate(_group_cycles(cycles), start=1)
        for c in group
    )

    immunotherapy = tuple(
        sorted(
            (
                ImmunotherapyMark(d.date, d.agent.value, d.cycle, d.setting.value, d)
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
                    p,
                )
                for p in case.procedures
                if seen(p.date)
            ),
            key=lambda m: m.date,
        )
    )

    episodes = _episodes(case, seen)
    assessed: Assessed = {}
    if facts:
        for following in episodes[1:]:
            assert following.operation_date is not None
            assessed.update(_recist_of_episode(case, following.operation_date - timedelta(days=1)))
        assessed.update(_recist_of_facts(facts))
    imaging: list[ImagingMark] = []
    for timepoint in sorted((t for t in case.imaging if seen(t.date)), key=lambda t: t.date):
        sizes = _present(timepoint)
        measured = [s for s in sizes if s is not None]
        total = float(sum(measured)) if measured or not sizes else None
        target_sum, response, is_baseline = assessed.get(timepoint.date, (None, None, False))
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
                episode=_episode_of(episodes, timepoint.date),
                record=timepoint,
            )
        )

    cea = tuple(
        CeaMark(lab.date, lab.cea_ng_ml, lab)
        for lab in sorted(case.labs, key=lambda lab: lab.date)
        if lab.cea_ng_ml is not None and seen(lab.date)
    )
    reviews = tuple(
        ReviewMark(
            r.meeting_date, r.recommendation.value if r.recommendation else None, r.signed, r
        )
        for r in sorted(case.reviews, key=lambda r: r.meeting_date)
        if seen(r.meeting_date)
    )

    dates: list[date] = (
        [m.date for m in chemotherapy]
        + [m.end for m in chemotherapy]
        + [m.date for m in immunotherapy]
        + [m.date for m in procedures]
        + [m.date for m in imaging]
        + [m.date for m in cea]
        + [m.date for m in reviews]
        + [m.date for m in milestones]
        + [e.operation_date for e in episodes if e.operation_date is not None]
    )
    if as_of is not None and dates:
        dates.append(as_of)
    return Timeline(
        axis=_axis(dates, as_of),
        as_of=as_of,
        milestones=tuple(milestones),
        chemotherapy=chemotherapy,
        lines=tuple(lines),
        immunotherapy=immunotherapy,
        procedures=procedures,
        imaging=tuple(imaging),
        cea=cea,
        reviews=reviews,
        episodes=episodes,
    )


def _milestone(when: date, kind: str, label: str, record: Any = None) -> Milestone:
    return Milestone(when, kind, label, SHORT_LABELS.get(kind, label), record)


def _axis(dates: Sequence[date], as_of: date | None) -> TimelineAxis:
    """The range of `dates` with a little room on both sides (at least MIN_AXIS_DAYS), every
    stretch of BREAK_MIN_DAYS or more without a date shown as a break."""
    if not dates:
        anchor = as_of or date(2000, 1, 1)
        return TimelineAxis(anchor - timedelta(days=MIN_AXIS_DAYS), anchor)
    ordered = sorted(set(dates))
    breaks: list[tuple[date, date]] = []
    for before, after in itertools.pairwise(ordered):
        if (after - before).days >= BREAK_MIN_DAYS:
            breaks.append(
                (
                    before + timedelta(days=BREAK_MARGIN_DAYS),
                    after - timedelta(days=BREAK_MARGIN_DAYS),
                )
            )
    start, end = ordered[0], ordered[-1]
    shown = (end - start).days - sum((b - a).days for a, b in breaks)
    span = max(shown, MIN_AXIS_DAYS)
    pad = max(span // 40, 3)
    if (end - start).days < MIN_AXIS_DAYS:
        middle = start + timedelta(days=(end - start).days // 2)
        start = middle - timedelta(days=MIN_AXIS_DAYS // 2)
        end = start + timedelta(days=MIN_AXIS_DAYS)
    return TimelineAxis(
        start - timedelta(days=pad),
        end + timedelta(days=pad),
        tuple(breaks),
        max(7, (span + 2 * pad) // BREAK_SHARE),
    )
