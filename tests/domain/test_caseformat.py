"""Case files: lossless round trip, golden files, and refusal of broken documents."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crlmboard.domain.caseformat import (
    canonical_json,
    case_from_dict,
    case_to_dict,
    dumps_case,
    loads_case,
    normalised,
)
from crlmboard.domain.validation import InvalidInput
from tests.conftest import golden_cases
from tests.strategies import BREAKAGES, valid_case

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize("path", golden_cases(), ids=lambda p: p.stem)
def test_golden_files_round_trip_unchanged(path: Path) -> None:
    source = json.loads(path.read_text("utf-8"))
    exported = json.loads(dumps_case(loads_case(path.read_text("utf-8"), TODAY)))
    assert normalised(exported) == normalised(source)
    # same keys written, nothing derived added
    assert exported.keys() == {k for k, v in source.items() if v is not None}


@given(valid_case)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_generated_cases_round_trip(document: dict[str, Any]) -> None:
    case = case_from_dict(document, TODAY)
    again = case_from_dict(json.loads(dumps_case(case)), TODAY)
    assert again == case
    assert normalised(case_to_dict(case)) == normalised(document)


def test_export_leaves_out_unknowns_and_defaults(upfront: dict[str, Any]) -> None:
    upfront["treatments"] = [
        {
            "kind": "chemotherapy",
            "date": "2025-01-01",
            "regimen": "capox",
            "cycle": 1,
            "setting": "neoadjuvant",
            "toxicity_grade": None,
        }
    ]
    exported = case_to_dict(case_from_dict(upfront, TODAY))
    assert exported["treatments"] == [
        {
            "kind": "chemotherapy",
            "date": "2025-01-01",
            "regimen": "capox",
            "cycle": 1,
            "setting": "neoadjuvant",
        }
    ]


def test_canonical_json_has_no_reviews_and_sorted_compact_keys(upfront: dict[str, Any]) -> None:
    upfront["reviews"] = [{"meeting_date": "2025-02-04", "decision": "Resect."}]
    text = canonical_json(case_from_dict(upfront, TODAY))
    assert "reviews" not in json.loads(text)
    assert ", " not in text and ": " not in text
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_frozen_evaluation_is_kept_verbatim(upfront: dict[str, Any]) -> None:
    evaluation = {"format": "crlmboard.evaluation/1", "facts": {"bmi": None, "apri": 0.25}}
    upfront["reviews"] = [
        {
            "meeting_date": "2025-02-04",
            "signed_by": "A. Surgeon",
            "signed_at": "2025-02-04T17:42:00Z",
            "evaluation": evaluation,
        }
    ]
    exported = json.loads(dumps_case(case_from_dict(upfront, TODAY)))
    assert exported["reviews"][0]["evaluation"] == evaluation
    assert exported["reviews"][0]["signed_at"] == "2025-02-04T17:42:00Z"


@given(valid_case, st.sampled_from(BREAKAGES))
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_generated_broken_cases_are_refused_at_the_path(
    document: dict[str, Any], breakage: tuple[str, Any]
) -> None:
    path, value = breakage
    parts = path.split(".")
    target = document
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
    with pytest.raises(InvalidInput) as caught:
        case_from_dict(document, TODAY)
    assert path in [p.path for p in caught.value.problems]
