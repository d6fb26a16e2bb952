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

import copy
import dataclasses
import datetime as dt
import functools
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from crlmboard.domain.case import Case
from crlmboard.domain.engine import recist
from crlmboard.domain.engine.evaluation import Evaluation, evaluation_to_dict
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


_READERS: dict[str, Callable[[Any], Any]] = {
    "date | None": _day,
    "dt.date | None": _day,
    "float | None": _number,
    "int | None": _whole,
    "bool | None": _flag,
    "str | None": _text,
    "str": lambda value: str(value or ""),
    "tuple[str, ...]": _texts,
}
"""How a field of each declared type is read from JSON."""

View = TypeVar("View")


def _read(cls: type[View], data: Mapping[str, Any], **given: Any) -> View:
    """The view `cls` of `data`: each field is the document's key of the same name, read by
    its declared type (another view by its own `parse`); `given` fields the caller read."""
    values: dict[str, Any] = dict(given)
    for spec in dataclasses.fields(cls):  # type: ignore[arg-type]
        if spec.name in given or not spec.init:
            continue
        kind = str(spec.type)
        reader = _READERS.get(kind) or globals()[kind.removesuffix(" | None")].parse
        values[spec.name] = reader(data.get(spec.name))
    return cls(**values)


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
        # a copy: the view never shares a mutable part with the (possibly signed) document
        values = copy.deepcopy(dict(_mapping(data.get("values"))))
        return _read(cls, data, values=tuple(values.items()))


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
        return _read(cls, data, points=points)


@dataclass(frozen=True)
class ImagingRef:
    """An imaging timepoint the facts refer to (`baseline_imaging`, `current_imaging`)."""

    date: date | None
    modality: str | None

    @classmethod
    def parse(cls, data: Any) -> ImagingRef | None:
        if isinstance(data, Mapping):
            return _read(cls, data)
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
        return _read(cls, data) if isinstance(data, Mapping) else None


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
        return _read(cls, data) if isinstance(data, Mapping) else None


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
        return _read(cls, data) if isinstance(data, Mapping) else None


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
        measurable = _flag(data.get("measurable"))  # engine 1.0.0 too; else from the sum
        return _read(
            cls,
            data,
            measurable=measurable
            if measurable is not None
            else _number(data.get("sum_mm")) is not None,
            demoted_targets=tuple(
                _read(DemotedTargetView, d) for d in _items(data.get("demoted_targets"))
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
        return _read(cls, data)

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
        recist = tuple(RecistPoint.parse(entry) for entry in _items(facts.get("recist")))
        return _read(cls, facts, recist=recist)


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


@dataclass(frozen=True, eq=False)
class EvaluationView:
    """One evaluation, parsed once.

    What the views read from the case's records (each lesion's course, the earlier
    episodes) and the input hash are computed when first read, once, from the view's own
    case and evaluation (`_case`, `_hash`): opening a case fills the overview, which needs
    neither (issue 21, B3).  A view never reads another case than the one it was made with."""

    engine_version: str
    profile_name: str
    profile_sha256: str
    as_of: date | None
    mrn: str
    facts: FactsView
    findings: tuple[FindingView, ...]
    _case: Case | None = field(default=None, repr=False)
    """The case the document was made of (lesions and episodes read from it)."""
    _hash: str | Callable[[], str] = field(default="", repr=False)
    """The document's input hash, or how to compute it (an evaluation made just now)."""
    _earlier: bool = field(default=False, repr=False)
    """Whether the earlier episodes are assessed (the document has facts)."""

    @classmethod
    def parse(cls, document: Mapping[str, Any], case: Case | None = None) -> EvaluationView:
        """The view of a document; with the case, its lesions' course and its episodes as of
        the document's date, with the assessment's targets marked."""
        return cls._of_document(document, case, str(document.get("input_sha256") or ""))

    @classmethod
    def of(cls, evaluation: Evaluation) -> EvaluationView:
        """The view of an evaluation made just now, of the case it evaluated: equal to the
        view of its document, without computing the document's input hash until read."""
        document = evaluation_to_dict(evaluation, input_hash=False)
        return cls._of_document(document, evaluation.case, lambda: evaluation.input_sha256)

    @classmethod
    def _of_document(
        cls, document: Mapping[str, Any], case: Case | None, input_hash: str | Callable[[], str]
    ) -> EvaluationView:
        profile = _mapping(document.get("profile"))
        facts = document.get("facts")
        return cls(
            engine_version=str(document.get("engine_version") or ""),
            profile_name=str(profile.get("name") or ""),
            profile_sha256=str(profile.get("sha256") or ""),
            as_of=_day(document.get("as_of")),
            mrn=str(document.get("mrn") or ""),
            facts=FactsView.parse(facts),
            findings=tuple(FindingView.parse(f) for f in _items(document.get("findings"))),
            _case=case,
            _hash=input_hash,
            _earlier=bool(isinstance(facts, Mapping) and facts),
        )

    @functools.cached_property
    def input_sha256(self) -> str:
        found = self._hash
        return found if isinstance(found, str) else found()

    @functools.cached_property
    def lesions(self) -> tuple[LesionCell, ...]:
        """Each lesion at each timepoint the evaluation saw (with the case only)."""
        case, as_of, facts = self._case, self.as_of, self.facts
        if case is None:
            return ()
        imaging = [tp for tp in case.imaging if as_of is None or tp.date <= as_of]
        targets = facts.recist_baseline.target_lesions if facts.recist_baseline else ()
        return lesion_courses(imaging, targets)

    @functools.cached_property
    def episodes(self) -> tuple[EpisodeView, ...]:
        """The record's episodes, oldest first, the evaluation's own last (with the case;
        without it, only the evaluation's own)."""
        case, facts = self._case, self.facts
        own = EpisodeSpan((facts.previous_hepatectomies or 0) + 1, facts.episode_start, None, None)
        episodes: list[EpisodeView] = []
        if case is not None:
            spans = episode_spans(case, self.as_of)
            if self._earlier:
                episodes = [
                    _earlier_episode(case, span, following.operation_date - timedelta(days=1))
                    for span, following in itertools.pairwise(spans)
                    if following.operation_date is not None
                ]
            own = spans[-1]
        episodes.append(EpisodeView(own, facts.recist_baseline, facts.recist, current=True))
        return tuple(episodes)

    @functools.cached_property
    def _cells(self) -> Mapping[tuple[str, date], LesionCell]:
        return {(c.lesion_id, c.date): c for c in self.lesions}

    def _values(self) -> tuple[Any, ...]:
        return (
            self.engine_version,
            self.profile_name,
            self.profile_sha256,
            self.as_of,
            self.mrn,
            self.input_sha256,
            self.facts,
            self.findings,
            self.lesions,
            self.episodes,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EvaluationView):
            return NotImplemented
        return self is other or self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # (equal by value, and not immutable inside)

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
