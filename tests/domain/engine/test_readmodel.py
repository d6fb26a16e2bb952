"""The evaluation's read model: parsed once from a `crlmboard.evaluation/1` document, typed,
equal to what the engine computed; response categories kept as given (a category a later
engine adds passes through); each lesion's status and change computed once, as the engine
reads a lesion."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from crlmboard.domain.case import Case, ImagingTimepoint
from crlmboard.domain.caseformat import loads_case
from crlmboard.domain.engine import evaluate, evaluation_to_dict
from crlmboard.domain.engine.lesions import lesion_courses
from crlmboard.domain.engine.profile import Profile
from crlmboard.domain.engine.readmodel import (
    ChemotherapyView,
    DemotedTargetView,
    EvaluationView,
    FactsView,
    FindingView,
    FutureLiverRemnantView,
    ImagingRef,
    PortalVeinEmbolisationView,
    RecistBaselineView,
    RecistPoint,
    ScoreView,
)
from crlmboard.domain.models import LesionMeasurement

DEMO = Path(str(resources.files("crlmboard") / "resources" / "demo"))
AS_OF = date(2026, 11, 24)


@pytest.mark.parametrize("path", sorted(DEMO.glob("*.json")), ids=lambda p: p.stem)
def test_the_view_holds_what_the_engine_computed(path: Path) -> None:
    case = loads_case(path.read_text("utf-8"), AS_OF)
    evaluation = evaluate(case, AS_OF, Profile())
    document = json.loads(json.dumps(evaluation_to_dict(evaluation)))  # as stored
    view = EvaluationView.parse(document, case)
    facts = evaluation.facts
    assert view.as_of == AS_OF and view.mrn == case.mrn
    assert view.engine_version == evaluation.engine_version
    assert view.rules() == evaluation.rule_ids()
    assert [(f.severity, f.title) for f in view.findings] == [
        (f.severity.value, f.title) for f in evaluation.findings
    ]
    assert view.facts.current_response == facts.current_response
    assert view.facts.best_response == facts.best_response
    assert view.facts.lesion_count == facts.lesion_count
    assert [(p.date, p.response, p.sum_mm) for p in view.facts.recist] == [
        (p.date, p.response, p.sum_mm) for p in facts.recist
    ]
    if facts.recist_baseline is None:
        assert view.facts.recist_baseline is None
    else:
        assert view.facts.recist_baseline is not None
        assert view.facts.recist_baseline.target_lesions == facts.recist_baseline.target_lesions
        assert view.facts.recist_baseline.measurable == facts.recist_baseline.measurable
    chemo = view.facts.chemotherapy
    assert chemo is not None and chemo.oxaliplatin_cycles == facts.chemotherapy.oxaliplatin_cycles
    assert chemo.last_bevacizumab_date == facts.chemotherapy.last_bevacizumab_date
    assert view.facts.fong_crs is not None and view.facts.fong_crs.score == facts.fong_crs.score
    measured = sum(len(tp.lesions) for tp in case.imaging if tp.date <= AS_OF)
    assert len(view.lesions) == measured


def test_a_response_category_a_later_engine_adds_passes_through() -> None:
    case = loads_case(
        (DEMO / "DEMO-0004-progression-on-chemotherapy.json").read_text("utf-8"), AS_OF
    )
    document = copy.deepcopy(evaluation_to_dict(evaluate(case, AS_OF, Profile())))
    document["facts"]["recist"][-1]["response"] = "NN"
    document["facts"]["current_response"] = "NN"
    view = EvaluationView.parse(document, case)
    assert view.facts.recist[-1].response == "NN"
    assert view.facts.current_response == "NN"


def test_each_lesion_status_and_change_as_the_engine_reads_it() -> None:
    def scan(day: int, *lesions: LesionMeasurement) -> ImagingTimepoint:
        return ImagingTimepoint(date=date(2025, 1, day), modality="ct", lesions=list(lesions))

    def lesion(name: str, mm: float | None, status: str | None = None) -> LesionMeasurement:
        return LesionMeasurement(id=name, longest_diameter_mm=mm, status=status)  # type: ignore[arg-type]

    imaging = [
        scan(1, lesion("L1", 40), lesion("L2", 20)),
        scan(15, lesion("L1", 30), lesion("L2", 0)),  # L2: 0 mm and no status
        scan(29, lesion("L1", 33), lesion("L2", None, "resected")),
    ]
    cells = {(c.lesion_id, c.date.day): c for c in lesion_courses(imaging, ["L1"])}
    assert cells["L1", 1].change_percent is None and cells["L1", 1].target
    assert cells["L1", 15].change_percent == pytest.approx(-25)
    assert cells["L1", 29].change_percent == pytest.approx(10)  # from its last size
    assert cells["L2", 15].status == "disappeared" and not cells["L2", 15].target
    assert cells["L2", 15].change_percent == pytest.approx(-100)
    assert cells["L2", 29].status == "resected" and cells["L2", 29].change_percent is None
    case = Case.model_validate(
        {"patient": {"mrn": "RM-0001"}, "imaging": [tp.model_dump() for tp in imaging]}
    )
    view = EvaluationView.parse({"as_of": "2025-01-20", "facts": {}}, case)
    assert {c.date.day for c in view.lesions} == {1, 15}  # what the evaluation saw
    assert view.lesion("L2", date(2025, 1, 15)) == cells["L2", 15]
    assert view.lesion("L2", date(2025, 1, 29)) is None


def plain(value: Any) -> Any:
    """A view's value as the document writes it: dates as ISO text, tuples as lists, a
    score's points and a finding's values as objects."""
    if isinstance(value, ScoreView):
        return {
            "missing": list(value.missing),
            "points": dict(value.points),
            "risk": value.risk,
            "score": value.score,
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def written_as(view: Any, document: Any) -> bool:
    """The view holds every value the document wrote (and may hold more, as None)."""
    if isinstance(document, dict):
        return isinstance(view, dict) and all(
            k in view and written_as(view[k], v) for k, v in document.items()
        )
    if isinstance(document, list):
        return (
            isinstance(view, list)
            and len(view) == len(document)
            and all(written_as(a, b) for a, b in zip(view, document, strict=True))
        )
    return bool(view == document)


FIXTURES = Path(__file__).parents[2] / "services" / "fixtures"
ENGINE_1_0_0 = FIXTURES / "signed-review-engine-1.0.0.evaluation.json"


@pytest.mark.parametrize("path", sorted(DEMO.glob("*.json")), ids=lambda p: p.stem)
def test_the_view_holds_every_fact_of_the_document(path: Path) -> None:
    """The document's whole vocabulary, typed: every fact (and every part of a fact) of
    the document is a field of the view with the same value, and the view has no field the
    document does not fill."""
    case = loads_case(path.read_text("utf-8"), AS_OF)
    document = json.loads(json.dumps(evaluation_to_dict(evaluate(case, AS_OF, Profile()))))
    view = EvaluationView.parse(document, case)
    assert plain(view.facts) == document["facts"]
    assert [
        {
            "rule": f.rule,
            "severity": f.severity,
            "title": f.title,
            "message": f.message,
            "values": dict(f.values),
            "sources": list(f.sources),
        }
        for f in view.findings
    ] == document["findings"]
    assert view.sources() == tuple(
        dict.fromkeys(s for f in document["findings"] for s in f["sources"])
    )


def test_an_engine_1_0_0_document_parses_with_what_it_has() -> None:
    """A review signed with engine 1.0.0: its facts are read as written (NE, no measurable
    target), and what 1.0.0 did not write is None or empty, never guessed."""
    document = json.loads(ENGINE_1_0_0.read_text("utf-8"))
    view = EvaluationView.parse(document)
    assert view.engine_version == "1.0.0" and view.as_of == date(2025, 3, 4)
    facts = view.facts
    assert facts.current_response == "NE" and facts.best_response is None
    assert [(p.date, p.response, p.sum_mm) for p in facts.recist] == [
        (date(2025, 3, 3), "NE", None)
    ]
    assert facts.recist[0].missing_targets == () and facts.recist[0].measured_sum_mm is None
    baseline = facts.recist_baseline
    assert baseline is not None and not baseline.measurable
    assert baseline.non_target_lesions == ("L1", "L2") and baseline.demoted_targets == ()
    assert facts.chemotherapy is not None
    assert facts.chemotherapy.last_drug_delivery_date is None  # added in 1.1.0
    assert facts.chemotherapy.on_treatment is True
    assert facts.current_imaging == ImagingRef(date(2025, 3, 3), "mri")
    assert "PATHWAY.TRANSPLANT_REFERRAL" in view.rules()
    # every fact 1.0.0 wrote reads back as written
    assert written_as(plain(facts), document["facts"])
    # an older document that wrote an imaging reference as a bare date
    older = copy.deepcopy(document)
    older["facts"]["current_imaging"] = "2025-03-03"
    assert EvaluationView.parse(older).facts.current_imaging == ImagingRef(date(2025, 3, 3), None)
    # and the view of a document is the same whether read once or twice
    assert EvaluationView.parse(document) == view


def test_the_episodes_of_the_record_each_with_its_recist() -> None:
    """DEMO-0012: a hepatectomy on 2025-03-17 starts episode 2.  Episode 1 holds the
    engine's assessment as of the day before the operation; episode 2 the document's."""
    case = loads_case(next(DEMO.glob("DEMO-0012-*.json")).read_text("utf-8"), AS_OF)
    document = json.loads(json.dumps(evaluation_to_dict(evaluate(case, AS_OF, Profile()))))
    view = EvaluationView.parse(document, case)
    first, second = view.episodes
    assert (first.span.number, first.span.start, first.current) == (1, None, False)
    assert (second.span.number, second.span.operation, second.span.start) == (
        2,
        "hepatectomy",
        date(2025, 3, 18),
    )
    assert second.current and second.recist == view.facts.recist
    assert second.baseline == view.facts.recist_baseline
    before = evaluate(case, date(2025, 3, 16), Profile()).facts
    assert first.baseline is not None and before.recist_baseline is not None
    assert first.baseline.date == before.recist_baseline.date
    assert first.baseline.sum_mm == before.recist_baseline.sum_mm == 60
    assert [p.response for p in first.recist] == [p.response for p in before.recist]
    assert [p.response for p in first.recist] == ["SD", "PR"]
    assert view.facts.episode_start == date(2025, 3, 18)
    # without the case only the evaluation's own episode, from the document
    (own,) = EvaluationView.parse(document).episodes
    assert (own.span.number, own.span.start, own.current) == (2, date(2025, 3, 18), True)
    assert own.recist == view.facts.recist


def test_every_part_reads_an_empty_object_and_a_demoted_target() -> None:
    """Each part of the view reads `{}` (every field of every declared type has a reader),
    and 1.1.0's demoted targets come through with their reasons."""
    for part in (
        FactsView,
        ChemotherapyView,
        FutureLiverRemnantView,
        PortalVeinEmbolisationView,
        RecistBaselineView,
        ImagingRef,
        ScoreView,
    ):
        assert part.parse({}) is not None, part
    assert RecistPoint.parse({}).response == ""
    assert FindingView.parse({}) == FindingView("", "", "", "", (), ())
    baseline = RecistBaselineView.parse(
        {
            "date": "2025-01-06",
            "sum_mm": None,
            "target_lesions": [],
            "non_target_lesions": ["L1"],
            "demoted_targets": [{"id": "L1", "diameter_mm": 8, "reason": "below_10_mm"}],
        }
    )
    assert baseline is not None and not baseline.measurable  # no measurable target: no sum
    assert baseline.demoted_targets == (DemotedTargetView("L1", 8.0, "below_10_mm"),)


def test_the_view_shares_nothing_mutable_with_the_document() -> None:
    """A signed review's frozen document stays byte for byte what it was, whatever a reader
    of its view does."""
    frozen = ENGINE_1_0_0.read_text("utf-8")
    document = json.loads(frozen)
    view = EvaluationView.parse(document)
    for finding in view.findings:
        for _name, value in finding.values:
            if isinstance(value, dict):
                value.clear()
            elif isinstance(value, list):
                value.append("changed")
    assert json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n" == frozen


# -- the read model of an evaluation made just now (a case opened: issue 21, B3) ----------


@pytest.mark.parametrize("path", sorted(DEMO.glob("*.json")), ids=lambda p: p.stem)
def test_the_view_of_an_evaluation_equals_the_view_of_its_document(path: Path) -> None:
    """`EvaluationView.of(evaluation)` (what an open builds) holds exactly what the view of
    the evaluation's stored document holds: findings, facts, input hash, lesion courses and
    episodes."""
    case = loads_case(path.read_text("utf-8"), AS_OF)
    evaluation = evaluate(case, AS_OF, Profile())
    document = json.loads(json.dumps(evaluation_to_dict(evaluation)))  # as stored
    parsed = EvaluationView.parse(document, case)
    made = EvaluationView.of(evaluate(case, AS_OF, Profile()))
    assert made == parsed
    assert made.input_sha256 == parsed.input_sha256 == document["input_sha256"]
    assert made.lesions == parsed.lesions and made.episodes == parsed.episodes
    assert [made.lesion(c.lesion_id, c.date) for c in parsed.lesions] == list(parsed.lesions)


def test_an_opened_case_s_view_computes_lesions_episodes_and_hash_only_when_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The overview needs the findings and the facts; the lesions' courses (Imaging tab),
    the earlier episodes (Timeline) and the input hash (a PDF) are computed when first read,
    once, from the view's own case."""
    from crlmboard.domain.engine import evaluation as evaluation_module
    from crlmboard.domain.engine import readmodel

    calls: dict[str, int] = {"courses": 0, "episodes": 0, "hash": 0}

    def counted(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(readmodel, "lesion_courses", counted("courses", lesion_courses))
    monkeypatch.setattr(readmodel, "episode_spans", counted("episodes", readmodel.episode_spans))
    monkeypatch.setattr(
        evaluation_module, "input_sha256", counted("hash", evaluation_module.input_sha256)
    )
    case = loads_case((DEMO / "DEMO-0003-conversion-resected.json").read_text("utf-8"), AS_OF)
    view = EvaluationView.of(evaluate(case, AS_OF, Profile()))
    assert view.findings and view.facts.lesion_count is not None
    assert calls == {"courses": 0, "episodes": 0, "hash": 0}
    assert len(view.episodes) > 1 and view.lesions and len(view.input_sha256) == 64
    assert view.lesions and view.episodes and view.input_sha256
    assert calls == {"courses": 1, "episodes": 1, "hash": 1}


def test_a_view_s_lazily_computed_parts_are_its_own_case_s() -> None:
    """Two cases' views built one after the other, read in the other order: each view's
    lesions, episodes and hash are its own case's (never the case built last)."""
    first = loads_case((DEMO / "DEMO-0003-conversion-resected.json").read_text("utf-8"), AS_OF)
    second = loads_case(
        (DEMO / "DEMO-0012-recurrence-after-hepatectomy.json").read_text("utf-8"), AS_OF
    )
    first_view = EvaluationView.of(evaluate(first, AS_OF, Profile()))
    second_view = EvaluationView.of(evaluate(second, AS_OF, Profile()))
    for view, case in ((second_view, second), (first_view, first)):
        eager = EvaluationView.parse(evaluation_to_dict(evaluate(case, AS_OF, Profile())), case)
        assert view.mrn == case.mrn
        assert view.lesions == eager.lesions and view.episodes == eager.episodes
        assert view.input_sha256 == eager.input_sha256
        recorded = {(le.id, tp.date) for tp in case.imaging for le in tp.lesions}
        assert {(c.lesion_id, c.date) for c in view.lesions} <= recorded
    assert first_view.input_sha256 != second_view.input_sha256
    assert first_view.lesions != second_view.lesions
    assert first_view.episodes != second_view.episodes
