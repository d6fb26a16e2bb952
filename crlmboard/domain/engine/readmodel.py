"""The evaluation as the UI and the PDF read it: a typed, frozen view parsed once from a
`crlmboard.evaluation/1` document (the engine's output, or a signed review's frozen copy),
so no view reads the document by string keys or re-computes an engine value.

Response categories (CR, PR, SD, PD, NE, and whatever a later engine adds) are kept as the
document gives them: opaque strings to show.  The lesions' course (status and change per
timepoint) comes from `engine.lesions`, computed here once from the case's imaging and the
assessment's targets; the document itself is unchanged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crlmboard.domain.case import Case
from crlmboard.domain.engine.lesions import LesionCell, lesion_courses

__all__ = [
    "ChemotherapyView",
    "EvaluationView",
    "FactsView",
    "FindingView",
    "FutureLiverRemnantView",
    "LesionCell",
    "RecistBaselineView",
    "RecistPoint",
    "ScoreView",
]


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


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class FindingView:
    """One rule that fired."""

    rule: str
    severity: str  # info | warning | critical
    title: str
    message: str
    values: tuple[tuple[str, Any], ...]
    sources: tuple[str, ...]


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
            tuple(str(x) for x in data.get("missing") or ()),
            _text(data.get("risk")),
        )


@dataclass(frozen=True)
class FutureLiverRemnantView:
    measured_percent: float | None
    measured_source: str | None
    measured_date: date | None
    required_percent: float | None
    basis: str | None


@dataclass(frozen=True)
class ChemotherapyView:
    preoperative_cycles: int | None
    oxaliplatin_cycles: int | None
    irinotecan_cycles: int | None
    last_bevacizumab_date: date | None


@dataclass(frozen=True)
class RecistBaselineView:
    date: date | None
    sum_mm: float | None
    target_lesions: tuple[str, ...]
    non_target_lesions: tuple[str, ...]
    targets_chosen_by: str | None

    @property
    def measurable(self) -> bool:
        return self.sum_mm is not None


@dataclass(frozen=True)
class RecistPoint:
    """One later timepoint's assessment."""

    date: date | None
    sum_mm: float | None
    nadir_mm: float | None
    change_from_baseline_percent: float | None
    change_from_nadir_percent: float | None
    response: str  # opaque: shown as given


@dataclass(frozen=True)
class FactsView:
    """The facts the app shows; `raw` keeps the document's whole facts object for what
    reads every fact (the timeline, the PDF's citations)."""

    presentation: str | None = None
    sidedness: str | None = None
    ras_status: str | None = None
    braf_status: str | None = None
    mmr_status: str | None = None
    disease_free_interval_months: float | None = None
    lesion_count: int | None = None
    largest_diameter_mm: float | None = None
    bilobar: bool | None = None
    tumor_burden_score: float | None = None
    flr: FutureLiverRemnantView | None = None
    chemotherapy: ChemotherapyView | None = None
    earliest_safe_surgery_date: date | None = None
    next_restaging_due: date | None = None
    fong_crs: ScoreView | None = None
    game_score: ScoreView | None = None
    modified_clinical_score: ScoreView | None = None
    recist_baseline: RecistBaselineView | None = None
    recist: tuple[RecistPoint, ...] = ()
    current_response: str | None = None
    best_response: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, data: Any) -> FactsView:
        facts = _mapping(data)
        flr = facts.get("flr")
        chemo = facts.get("chemotherapy")
        baseline = facts.get("recist_baseline")
        bilobar = facts.get("bilobar")
        return cls(
            presentation=_text(facts.get("presentation")),
            sidedness=_text(facts.get("sidedness")),
            ras_status=_text(facts.get("ras_status")),
            braf_status=_text(facts.get("braf_status")),
            mmr_status=_text(facts.get("mmr_status")),
            disease_free_interval_months=_number(facts.get("disease_free_interval_months")),
            lesion_count=_whole(facts.get("lesion_count")),
            largest_diameter_mm=_number(facts.get("largest_diameter_mm")),
            bilobar=bilobar if isinstance(bilobar, bool) else None,
            tumor_burden_score=_number(facts.get("tumor_burden_score")),
            flr=FutureLiverRemnantView(
                _number(flr.get("measured_percent")),
                _text(flr.get("measured_source")),
                _day(flr.get("measured_date")),
                _number(flr.get("required_percent")),
                _text(flr.get("basis")),
            )
            if isinstance(flr, Mapping)
            else None,
            chemotherapy=ChemotherapyView(
                _whole(chemo.get("preoperative_cycles")),
                _whole(chemo.get("oxaliplatin_cycles")),
                _whole(chemo.get("irinotecan_cycles")),
                _day(chemo.get("last_bevacizumab_date")),
            )
            if isinstance(chemo, Mapping)
            else None,
            earliest_safe_surgery_date=_day(facts.get("earliest_safe_surgery_date")),
            next_restaging_due=_day(facts.get("next_restaging_due")),
            fong_crs=ScoreView.parse(facts.get("fong_crs")),
            game_score=ScoreView.parse(facts.get("game_score")),
            modified_clinical_score=ScoreView.parse(facts.get("modified_clinical_score")),
            recist_baseline=RecistBaselineView(
                _day(baseline.get("date")),
                _number(baseline.get("sum_mm")),
                tuple(str(x) for x in baseline.get("target_lesions") or ()),
                tuple(str(x) for x in baseline.get("non_target_lesions") or ()),
                _text(baseline.get("targets_chosen_by")),
            )
            if isinstance(baseline, Mapping)
            else None,
            recist=tuple(
                RecistPoint(
                    _day(entry.get("date")),
                    _number(entry.get("sum_mm")),
                    _number(entry.get("nadir_mm")),
                    _number(entry.get("change_from_baseline_percent")),
                    _number(entry.get("change_from_nadir_percent")),
                    str(entry.get("response") or ""),
                )
                for entry in facts.get("recist") or ()
                if isinstance(entry, Mapping)
            ),
            current_response=_text(facts.get("current_response")),
            best_response=_text(facts.get("best_response")),
            raw=facts,
        )


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
    document: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, document: Mapping[str, Any], case: Case | None = None) -> EvaluationView:
        """The view of a document; with the case, its lesions' course as of the
        document's date, with the assessment's targets marked."""
        profile = _mapping(document.get("profile"))
        facts = FactsView.parse(document.get("facts"))
        as_of = _day(document.get("as_of"))
        lesions: tuple[LesionCell, ...] = ()
        if case is not None:
            imaging = [tp for tp in case.imaging if as_of is None or tp.date <= as_of]
            targets = facts.recist_baseline.target_lesions if facts.recist_baseline else ()
            lesions = lesion_courses(imaging, targets)
        return cls(
            engine_version=str(document.get("engine_version") or ""),
            profile_name=str(profile.get("name") or ""),
            profile_sha256=str(profile.get("sha256") or ""),
            as_of=as_of,
            mrn=str(document.get("mrn") or ""),
            input_sha256=str(document.get("input_sha256") or ""),
            facts=facts,
            findings=tuple(
                FindingView(
                    rule=str(f.get("rule") or ""),
                    severity=str(f.get("severity") or ""),
                    title=str(f.get("title") or ""),
                    message=str(f.get("message") or ""),
                    values=tuple(_mapping(f.get("values")).items()),
                    sources=tuple(str(s) for s in f.get("sources") or ()),
                )
                for f in document.get("findings") or ()
                if isinstance(f, Mapping)
            ),
            lesions=lesions,
            document=document,
        )

    def rules(self) -> list[str]:
        """The ids of the findings, in order."""
        return [f.rule for f in self.findings]

    def lesion(self, lesion_id: str, when: date) -> LesionCell | None:
        """A lesion's cell at a timepoint (None when it was not recorded there)."""
        return self._cells.get((lesion_id, when))

    @property
    def _cells(self) -> Mapping[tuple[str, date], LesionCell]:
        cells = self.__dict__.get("_cell_index")
        if cells is None:
            cells = {(c.lesion_id, c.date): c for c in self.lesions}
            object.__setattr__(self, "_cell_index", cells)
        return cells

    def response_at(self, when: date) -> RecistPoint | None:
        """The RECIST assessment of a later timepoint."""
        return next((p for p in self.facts.recist if p.date == when), None)
