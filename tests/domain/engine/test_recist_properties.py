"""Property: RECIST 1.1 never reads NE or NN at a timepoint with new lesions or non-target
progression — those are PD in every case (guideline-rules.md, engine 1.1.0).

Whole cases are generated (baseline lesions of any size, status and mark, later timepoints
with lesions missing, unmeasured, disappeared, resected or new, treatments and procedures)
and evaluated through `evaluate`, so the episode, the assessment window and the facts are
the real ones.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crlmboard.domain.engine.recist import RESPONSE_RANK

START = date(2025, 1, 6)
IDS = ("L1", "L2", "L3", "L4")

_diameter = st.one_of(
    st.none(),
    st.just(0),
    st.integers(1, 9),
    st.integers(10, 80),
    st.integers(1, 800).map(lambda n: n / 10),
)
_status = st.sampled_from([None, "present", "present", "disappeared", "resected", "ablated"])


@st.composite
def _lesion(draw: Any, lesion_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": lesion_id, "segment": draw(st.integers(1, 8))}
    diameter = draw(_diameter)
    if diameter is not None:
        out["longest_diameter_mm"] = diameter
    status = draw(_status)
    if status is not None:
        out["status"] = status
    if draw(st.booleans()):
        out["target"] = draw(st.booleans())
    return out


@st.composite
def _scan(draw: Any, when: date) -> dict[str, Any]:
    ids = draw(st.lists(st.sampled_from(IDS), unique=True, max_size=len(IDS)))
    return {
        "date": when.isoformat(),
        "modality": draw(st.sampled_from(["mri", "ct"])),
        "lesions": [draw(_lesion(i)) for i in ids],
        "new_lesions": draw(st.booleans()),
        "non_target_progression": draw(st.booleans()),
    }


@st.composite
def _case_blocks(draw: Any) -> dict[str, Any]:
    offsets = sorted(draw(st.lists(st.integers(0, 200), min_size=1, max_size=5, unique=True)))
    imaging = [draw(_scan(START + timedelta(days=o))) for o in offsets]
    treatments: list[dict[str, Any]] = []
    if draw(st.booleans()):
        first = START + timedelta(days=draw(st.integers(0, 60)))
        for i in range(draw(st.integers(1, 8))):
            treatments.append(
                {
                    "kind": "chemotherapy",
                    "date": (first + timedelta(days=14 * i)).isoformat(),
                    "regimen": draw(st.sampled_from(["folfox", "capox", "folfiri"])),
                    "cycle": i + 1,
                    "setting": draw(st.sampled_from(["neoadjuvant", "conversion", "palliative"])),
                }
            )
    if draw(st.booleans()):
        treatments.append(
            {
                "kind": "procedure",
                "date": (START + timedelta(days=draw(st.integers(0, 200)))).isoformat(),
                "procedure": draw(st.sampled_from(["thermal_ablation", "tace", "hepatectomy"])),
            }
        )
    return {"imaging": imaging, "treatments": treatments}


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(blocks=_case_blocks())
def test_new_lesions_or_non_target_progression_are_never_ne_or_nn(
    cb: Any, blocks: dict[str, Any]
) -> None:
    case = cb.case(**blocks)
    facts = cb.evaluate(case, as_of=date(2025, 9, 1)).facts
    flags = {
        scan.date: bool(scan.new_lesions) or bool(scan.non_target_progression)
        for scan in case.imaging
    }
    for timepoint in facts.recist:
        assert timepoint.response in (*RESPONSE_RANK, "NE")
        if flags[timepoint.date]:
            assert timepoint.response == "PD", (timepoint, blocks)
    if facts.current_imaging is not None and flags[facts.current_imaging.date]:
        assert facts.current_response in ("PD", None)
