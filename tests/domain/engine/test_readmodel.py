"""The evaluation's read model: parsed once from a `crlmboard.evaluation/1` document, typed,
equal to what the engine computed; response categories kept as given (a category a later
engine adds passes through); each lesion's status and change computed once, as the engine
reads a lesion."""

from __future__ import annotations

import copy
import json
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from crlmboard.domain.case import Case, ImagingTimepoint
from crlmboard.domain.caseformat import loads_case
from crlmboard.domain.engine import evaluate, evaluation_to_dict
from crlmboard.domain.engine.lesions import lesion_courses
from crlmboard.domain.engine.profile import Profile
from crlmboard.domain.engine.readmodel import EvaluationView
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
