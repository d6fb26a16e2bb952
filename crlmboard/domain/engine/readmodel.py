"""The evaluation as the UI and the PDF read it: a typed, frozen view parsed once from a
`crlmboard.evaluation/1` document (the engine's output, or a signed review's frozen copy,
of engine 1.0.0 or 1.1.0), so no view reads the document by string keys or re-computes an
engine value.

Every fact of guideline-rules.md has a typed field here (`FactsView`); a fact the document
does not hold (an older engine's) is None, never guessed.  Response categories (CR, PR, SD,
NN, PD, NE, and whatever a later engine adds) are kept as the document gives them: opaque
strings to show.  Findings keep their values and sources.

Parsed with the case, the view also holds what the engine reads from the case's records as
of the document's date, computed here once: each lesion's course (status and change per
timepoint, `engine.lesions`) and the episodes of the record (a liver-clearing operation
starts a new one), each with its RECIST baseline and assessments — the current episode's
from the document, an earlier one's as the engine assessed it on the day before the
operation that ended it.  The document itself is never changed."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from crlmboard.domain.case import Case
from crlmboard.domain.engine import recist
from crlmboard.domain.engine.facts import build_episode
from crlmboard.domain.engine.lesions import LesionCell, lesion_courses
from crlmboard.domain.models import LIVER_CLEARING_PROCEDURES

__all__ = [
    "ChemotherapyView",
    "DemotedTargetView",
    "EpisodeSpan",
    "EpisodeView",
    "EvaluationView",
    "FactsView",
    "FindingView",
    "FutureLiverRemnantView",
    "ImagingRef",
    "LesionCell",
    "PortalVeinEmbolisationView",
    "RecistBaselineView",
    "RecistPoint",
    "ScoreView",
    "episode_spans",
]


# -- reading JSON values -----------------------------------------------------------------


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _whole(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(x) for x in value)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list | tuple):
        return []
    return [x for x in value if isinstance(x, Mapping)]


# -- the parts of the facts --------------------------------------------------------------


@dataclass(frozen=True)
class FindingView:
    """One rule that fired: what it says, the values it compared and its sources."""

    rule: str
    severity: str  # critical | warning | advice | info (or what a later engine adds)
    title: str
    message: str
    values: tuple[tuple[str, Any], ...]
    """(name, value) in the document's order; a value is JSON (number, text, list, object)."""
    sources: tuple[str, ...]
    """Keys of the engine's Sources table."""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> FindingView:
        return cls(
            rule=str(data.get("rule") or ""),
            severity=str(data.get("severity") or ""),
            title=str(data.get("title") or ""),
            message=str(data.get("message") or ""),
            values=tuple(_mapping(data.get("values")).items()),
            sources=_texts(data.get("sources")),
        )


@dataclass(frozen=True)
class ScoreView:
    """A prognostic score: its total (None while incomplete), its points and risk."""

    score: int | None
    points: tuple[tuple[str, int], ...]
    missing: tuple[str, ...]
    risk: str | None

    @classmethod
    def parse(cls, data: Any) -> ScoreView | None:
        if not isinstance(data, Mapping):
            return None
        points = tuple(
            (str(k), int(v))
            for k, v in _mapping(data.get("points")).items()
            if _whole(v) is not None
        )
        return cls(
            _whole(data.get("score")),
            points,
            _texts(data.get("missing")),
            _text(data.get("risk")),
        )


@dataclass(frozen=True)
class ImagingRef:
    """An imaging timepoint the facts refer to (`baseline_imaging`, `current_imaging`)."""

    date: date | None
    modality: str | None

    @classmethod
    def parse(cls, data: Any) -> ImagingRef | None:
        if isinstance(data, Mapping):
            return cls(_day(data.get("date")), _text(data.get("modality")))
        when = _day(data)  # a bare date, as an engine before 1.1.0 may have written it
        return cls(when, None) if when is not None else None


@dataclass(frozen=True)
class FutureLiverRemnantView:
    measured_percent: float | None
    measured_source: str | None  # imaging | plan
    measured_date: date | None
    required_percent: float | None
    basis: str | None

    @classmethod
    def parse(cls, data: Any) -> FutureLiverRemnantView | None:
        if not isinstance(data, Mapping):
            return None
        return cls(
            _number(data.get("measured_percent")),
            _text(data.get("measured_source")),
            _day(data.get("measured_date")),
            _number(data.get("required_percent")),
            _text(data.get("basis")),
        )


@dataclass(frozen=True)
class PortalVeinEmbolisationView:
    """Hypertrophy after the latest portal vein embolisation."""

    date: date | None
    flr_before_percent: float | None
    flr_before_date: dt.date | None
    flr_after_percent: float | None
    flr_after_date: dt.date | None
    degree_of_hypertrophy: float | None
    weeks: float | None
    kinetic_growth_rate: float | None

    @classmethod
    def parse(cls, data: Any) -> PortalVeinEmbolisationView | None:
        if not isinstance(data, Mapping):
            return None
        return cls(
            _day(data.get("date")),
            _number(data.get("flr_before_percent")),
            _day(data.get("flr_before_date")),
            _number(data.get("flr_after_percent")),
            _day(data.get("flr_after_date")),
            _number(data.get("degree_of_hypertrophy")),
            _number(data.get("weeks")),
            _number(data.get("kinetic_growth_rate")),
        )


@dataclass(frozen=True)
class ChemotherapyView:
    """Systemic therapy of the current episode."""

    preoperative_cycles: int | None
    oxaliplatin_cycles: int | None
    irinotecan_cycles: int | None
    last_bevacizumab_date: date | None
    preoperative_weeks: float | None = None
    first_cycle_date: date | None = None
    last_cycle_date: date | None = None
    last_drug_delivery_date: date | None = None  # engine 1.1.0
    last_systemic_date: date | None = None
    anti_egfr_given: bool | None = None
    immunotherapy_given: bool | None = None
    on_treatment: bool | None = None

    @classmethod
    def parse(cls, data: Any) -> ChemotherapyView | None:
        if not isinstance(data, Mapping):
            return None
        return cls(
            preoperative_cycles=_whole(data.get("preoperative_cycles")),
            oxaliplatin_cycles=_whole(data.get("oxaliplatin_cycles")),
            irinotecan_cycles=_whole(data.get("irinotecan_cycles")),
            last_bevacizumab_date=_day(data.get("last_bevacizumab_date")),
            preoperative_weeks=_number(data.get("preoperative_weeks")),
            first_cycle_date=_day(data.get("first_cycle_date")),
            last_cycle_date=_day(data.get("last_cycle_date")),
            last_drug_delivery_date=_day(data.get("last_drug_delivery_date")),
            last_systemic_date=_day(data.get("last_systemic_date")),
            anti_egfr_given=_flag(data.get("anti_egfr_given")),
            immunotherapy_given=_flag(data.get("immunotherapy_given")),
            on_treatment=_flag(data.get("on_treatment")),
        )


@dataclass(frozen=True)
class DemotedTargetView:
    """A lesion marked as target that RECIST follows as non-target (engine 1.1.0)."""

    id: str
    diameter_mm: float | None
    reason: str  # below_10_mm | not_present | no_diameter | beyond_second


@dataclass(frozen=True)
class RecistBaselineView:
    date: date | None
    sum_mm: float | None
    target_lesions: tuple[str, ...]
    non_target_lesions: tuple[str, ...]
    targets_chosen_by: str | None  # marked | engine | None
    measurable: bool = False
    """The baseline has a measurable target (RECIST: else non-target disease only)."""
    demoted_targets: tuple[DemotedTargetView, ...] = ()

    @classmethod
    def parse(cls, data: Any) -> RecistBaselineView | None:
        if not isinstance(data, Mapping):
            return None
        sum_mm = _number(data.get("sum_mm"))
        measurable = _flag(data.get("measurable"))
        return cls(
            _day(data.get("date")),
            sum_mm,
            _texts(data.get("target_lesions")),
            _texts(data.get("non_target_lesions")),
            _text(data.get("targets_chosen_by")),
            measurable if measurable is not None else sum_mm is not None,
            tuple(
                DemotedTargetView(
                    str(d.get("id") or ""), _number(d.get("diameter_mm")), str(d.get("reason"))
                )
                for d in _items(data.get("demoted_targets"))
            ),
        )

    @classmethod
    def of(cls, baseline: recist.RecistBaseline) -> RecistBaselineView:
        """The engine's own baseline (an earlier episode's, assessed here)."""
        return cls(
            baseline.date,
            baseline.sum_mm,
            baseline.target_lesions,
            baseline.non_target_lesions,
            baseline.targets_chosen_by,
            baseline.measurable,
            tuple(
                DemotedTargetView(d.id, d.diameter_mm, d.reason) for d in baseline.demoted_targets
            ),
        )


@dataclass(frozen=True)
class RecistPoint:
    """One later timepoint's assessment."""

    date: date | None
    sum_mm: float | None
    nadir_mm: float | None
    change_from_baseline_percent: float | None
    change_from_nadir_percent: float | None
    response: str  # opaque: shown as given ("" when the document has none)
    missing_targets: tuple[str, ...] = ()
    measured_sum_mm: float | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> RecistPoint:
        return cls(
            _day(data.get("date")),
            _number(data.get("sum_mm")),
            _number(data.get("nadir_mm")),
            _number(data.get("change_from_baseline_percent")),
            _number(data.get("change_from_nadir_percent")),
            str(data.get("response") or ""),
            _texts(data.get("missing_targets")),
            _number(data.get("measured_sum_mm")),
        )

    @classmethod
    def of(cls, point: recist.RecistTimepoint) -> RecistPoint:
        return cls(
            point.date,
            point.sum_mm,
            point.nadir_mm,
            point.change_from_baseline_percent,
            point.change_from_nadir_percent,
            point.response,
            point.missing_targets,
            point.measured_sum_mm,
        )


@dataclass(frozen=True)
class FactsView:
    """Every fact of the document, typed (None: not known, or not in this engine's
    document)."""

    episode_start: date | None = None
    previous_hepatectomies: int | None = None
    age_years: int | None = None
    bmi: float | None = None
    sidedness: str | None = None
    node_positive: bool | None = None
    ras_status: str | None = None
    braf_status: str | None = None
    mmr_status: str | None = None
    presentation: str | None = None
    disease_free_interval_months: float | None = None
    baseline_imaging: ImagingRef | None = None
    current_imaging: ImagingRef | None = None
    lesion_count: int | None = None
    largest_diameter_mm: float | None = None
    bilobar: bool | None = None
    tumor_burden_score: float | None = None
    tumor_burden_zone: str | None = None
    tumor_burden_score_baseline: float | None = None
    tumor_burden_zone_baseline: str | None = None
    cea_baseline: float | None = None
    cea_baseline_date: date | None = None
    cea_latest: float | None = None
    cea_latest_date: date | None = None
    cea_change_percent: float | None = None
    chemotherapy: ChemotherapyView | None = None
    extensive_chemotherapy: bool | None = None
    apri: float | None = None
    apri_date: date | None = None
    flr: FutureLiverRemnantView | None = None
    pve: PortalVeinEmbolisationView | None = None
    major_hepatectomy: bool | None = None
    earliest_safe_surgery_date: date | None = None
    next_restaging_due: date | None = None
    extrahepatic_sites: tuple[str, ...] = ()
    fong_crs: ScoreView | None = None
    game_score: ScoreView | None = None
    modified_clinical_score: ScoreView | None = None
    recist_baseline: RecistBaselineView | None = None
    recist: tuple[RecistPoint, ...] = ()
    current_response: str | None = None
    best_response: str | None = None
    morphologic_response: str | None = None

    @classmethod
    def parse(cls, data: Any) -> FactsView:
        facts = _mapping(data)
        return cls(
            episode_start=_day(facts.get("episode_start")),
            previous_hepatectomies=_whole(facts.get("previous_hepatectomies")),
            age_years=_whole(facts.get("age_years")),
            bmi=_number(facts.get("bmi")),
            sidedness=_text(facts.get("sidedness")),
            node_positive=_flag(facts.get("node_positive")),
            ras_status=_text(facts.get("ras_status")),
            braf_status=_text(facts.get("braf_status")),
            mmr_status=_text(facts.get("mmr_status")),
            presentation=_text(facts.get("presentation")),
            disease_free_interval_months=_number(facts.get("disease_free_interval_months")),
            baseline_imaging=ImagingRef.parse(facts.get("baseline_imaging")),
            current_imaging=ImagingRef.parse(facts.get("current_imaging")),
            lesion_count=_whole(facts.get("lesion_count")),
            largest_diameter_mm=_number(facts.get("largest_diameter_mm")),
            bilobar=_flag(facts.get("bilobar")),
            tumor_burden_score=_number(facts.get("tumor_burden_score")),
            tumor_burden_zone=_text(facts.get("tumor_burden_zone")),
            tumor_burden_score_baseline=_number(facts.get("tumor_burden_score_baseline")),
            tumor_burden_zone_baseline=_text(facts.get("tumor_burden_zone_baseline")),
            cea_baseline=_number(facts.get("cea_baseline")),
            cea_baseline_date=_day(facts.get("cea_baseline_date")),
            cea_latest=_number(facts.get("cea_latest")),
            cea_latest_date=_day(facts.get("cea_latest_date")),
            cea_change_percent=_number(facts.get("cea_change_percent")),
            chemotherapy=ChemotherapyView.parse(facts.get("chemotherapy")),
            extensive_chemotherapy=_flag(facts.get("extensive_chemotherapy")),
            apri=_number(facts.get("apri")),
            apri_date=_day(facts.get("apri_date")),
            flr=FutureLiverRemnantView.parse(facts.get("flr")),
            pve=PortalVeinEmbolisationView.parse(facts.get("pve")),
            major_hepatectomy=_flag(facts.get("major_hepatectomy")),
            earliest_safe_surgery_date=_day(facts.get("earliest_safe_surgery_date")),
            next_restaging_due=_day(facts.get("next_restaging_due")),
            extrahepatic_sites=_texts(facts.get("extrahepatic_sites")),
            fong_crs=ScoreView.parse(facts.get("fong_crs")),
            game_score=ScoreView.parse(facts.get("game_score")),
            modified_clinical_score=ScoreView.parse(facts.get("modified_clinical_score")),
            recist_baseline=RecistBaselineView.parse(facts.get("recist_baseline")),
            recist=tuple(RecistPoint.parse(entry) for entry in _items(facts.get("recist"))),
            current_response=_text(facts.get("current_response")),
            best_response=_text(facts.get("best_response")),
            morphologic_response=_text(facts.get("morphologic_response")),
        )


# -- episodes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EpisodeSpan:
    """A stretch of the record measured against one RECIST baseline: the record up to the
    first liver-clearing operation, then from the day after each."""

    number: int
    start: date | None
    """The day after the operation that began it; None for the first episode."""
    operation: str | None
    """The liver-clearing operation that began it (`hepatectomy` …); None for the first."""
    operation_date: date | None

    @property
    def label(self) -> str:
        return f"Episode {self.number}"


def episode_spans(case: Case, as_of: date | None = None) -> tuple[EpisodeSpan, ...]:
    """The episodes of `case` up to `as_of` (all of them without): a new one the day after
    each liver-clearing operation, from the procedures and the surgery outcomes as the
    engine finds them (a procedure names the operation before an outcome does)."""

    def seen(when: date) -> bool:
        return as_of is None or when <= as_of

    operations: dict[date, str] = {}
    for outcome in case.surgery_outcomes:
        if outcome.procedure in LIVER_CLEARING_PROCEDURES and seen(outcome.date):
            operations.setdefault(outcome.date, outcome.procedure.value)
    for procedure in case.procedures:
        if procedure.procedure in LIVER_CLEARING_PROCEDURES and seen(procedure.date):
            operations[procedure.date] = procedure.procedure.value
    spans = [EpisodeSpan(1, None, None, None)]
    for number, when in enumerate(sorted(operations), start=2):
        spans.append(EpisodeSpan(number, when + timedelta(days=1), operations[when], when))
    return tuple(spans)


@dataclass(frozen=True)
class EpisodeView:
    """One episode with its RECIST baseline and the assessments after it."""

    span: EpisodeSpan
    baseline: RecistBaselineView | None
    recist: tuple[RecistPoint, ...]
    current: bool
    """The evaluation's own episode (its assessments are the document's)."""


def _earlier_episode(case: Case, span: EpisodeSpan, ended: date) -> EpisodeView:
    """An earlier episode as the engine assessed it on `ended` (the day before the
    operation that ended it)."""
    episode = build_episode(case, ended)
    if episode.baseline is None:
        return EpisodeView(span, None, (), current=False)
    baseline, points = recist.assess(episode.baseline, episode.recist_window)
    return EpisodeView(
        span,
        RecistBaselineView.of(baseline),
        tuple(RecistPoint.of(p) for p in points),
        current=False,
    )


# -- the evaluation ----------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationView:
    """One evaluation, parsed once."""

    engine_version: str
    profile_name: str
    profile_sha256: str
    as_of: date | None
    mrn: str
    input_sha256: str
    facts: FactsView
    findings: tuple[FindingView, ...]
    lesions: tuple[LesionCell, ...] = ()
    """Each lesion at each timepoint the evaluation saw (with the case only)."""
    episodes: tuple[EpisodeView, ...] = ()
    """The record's episodes, oldest first, the evaluation's own last (with the case; without
    it, only the evaluation's own)."""
    _cells: Mapping[tuple[str, date], LesionCell] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cells", {(c.lesion_id, c.date): c for c in self.lesions})

    @classmethod
    def parse(cls, document: Mapping[str, Any], case: Case | None = None) -> EvaluationView:
        """The view of a document; with the case, its lesions' course and its episodes as of
        the document's date, with the assessment's targets marked."""
        profile = _mapping(document.get("profile"))
        facts = FactsView.parse(document.get("facts"))
        as_of = _day(document.get("as_of"))
        lesions: tuple[LesionCell, ...] = ()
        own = EpisodeSpan((facts.previous_hepatectomies or 0) + 1, facts.episode_start, None, None)
        episodes: list[EpisodeView] = []
        if case is not None:
            imaging = [tp for tp in case.imaging if as_of is None or tp.date <= as_of]
            targets = facts.recist_baseline.target_lesions if facts.recist_baseline else ()
            lesions = lesion_courses(imaging, targets)
            spans = episode_spans(case, as_of)
            if isinstance(document.get("facts"), Mapping) and document.get("facts"):
                episodes = [
                    _earlier_episode(case, span, following.operation_date - timedelta(days=1))
                    for span, following in itertools.pairwise(spans)
                    if following.operation_date is not None
                ]
            own = spans[-1]
        episodes.append(EpisodeView(own, facts.recist_baseline, facts.recist, current=True))
        return cls(
            engine_version=str(document.get("engine_version") or ""),
            profile_name=str(profile.get("name") or ""),
            profile_sha256=str(profile.get("sha256") or ""),
            as_of=as_of,
            mrn=str(document.get("mrn") or ""),
            input_sha256=str(document.get("input_sha256") or ""),
            facts=facts,
            findings=tuple(FindingView.parse(f) for f in _items(document.get("findings"))),
            lesions=lesions,
            episodes=tuple(episodes),
        )

    def rules(self) -> list[str]:
        """The ids of the findings, in order."""
        return [f.rule for f in self.findings]

    def lesion(self, lesion_id: str, when: date) -> LesionCell | None:
        """A lesion's cell at a timepoint (None when it was not recorded there)."""
        return self._cells.get((lesion_id, when))

    def response_at(self, when: date) -> RecistPoint | None:
        """The RECIST assessment of a later timepoint of the evaluation's own episode."""
        return next((p for p in self.facts.recist if p.date == when), None)

    def sources(self) -> tuple[str, ...]:
        """Every source the findings cite, in order of first citation."""
        return tuple(dict.fromkeys(s for f in self.findings for s in f.sources))
