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


# -- the JSON reader's limits, read the quick way (issue 21, B5) ---------------------------


def _reference_parse(text: str) -> Any:
    """parse_json as it was before the quick checks: every number and every key looked
    at one by one, the depth found by walking every value."""
    import math as _math

    from crlmboard.domain import caseformat as cf

    def pairs(found_pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, value in found_pairs:
            if key in found:
                shown = key if len(key) <= 40 else key[:40] + "…"
                raise ValueError(f"the key {shown!r} appears twice in one object")
            found[key] = value
        return found

    def number(t: str, kind: Any) -> Any:
        if len(t) > cf.MAX_NUMBER_CHARACTERS:
            raise ValueError("too long")
        return kind(t)

    def depth(data: Any) -> int:
        deepest, stack = 0, [(data, 1)]
        while stack:
            value, level = stack.pop()
            if isinstance(value, dict | list):
                deepest = max(deepest, level)
                if level > cf.MAX_JSON_DEPTH:
                    break
                children = value.values() if isinstance(value, dict) else value
                stack.extend((child, level + 1) for child in children)
        return deepest

    try:
        data = json.loads(
            text,
            parse_constant=lambda _c: _math.nan,
            object_pairs_hook=pairs,
            parse_int=lambda t: number(t, int),
            parse_float=lambda t: number(t, float),
        )
    except json.JSONDecodeError:
        return ("not JSON",)
    except ValueError as error:
        return ("refused", "twice" if "twice" in str(error) else "long")
    except RecursionError:
        return ("refused", "deep")
    if depth(data) > cf.MAX_JSON_DEPTH:
        return ("refused", "deep")
    return ("read", data)


def _quick_parse(text: str) -> Any:
    from crlmboard.domain.caseformat import parse_json

    try:
        data = parse_json(text)
    except json.JSONDecodeError:
        return ("not JSON",)
    except InvalidInput as error:
        message = error.problems[0].message
        return (
            "refused",
            "twice" if "twice" in message else "deep" if "deep" in message else "long",
        )
    return ("read", data)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet="ab9e.-", max_size=60),
    st.from_regex(r"-?[1-9][0-9]{44,55}(\.[0-9])?", fullmatch=True).map(
        lambda digits: ("NUMBER", digits)
    ),
    # long numbers whose digits come in three runs of 15–17 (the quick look for a run of
    # 16 digits must still find every number of more than 50 characters)
    st.from_regex(r"-?[1-9][0-9]{14,16}\.[0-9]{15,17}[eE][-+]?[0-9]{15,17}", fullmatch=True).map(
        lambda digits: ("NUMBER", digits)
    ),
)


def _text(value: Any, dup: bool) -> str:
    """JSON text of a generated value; ("NUMBER", digits) is a bare number token; with
    `dup`, every object of two keys or more gives its first key twice."""
    if isinstance(value, tuple):
        return value[1]
    if isinstance(value, list):
        return "[" + ",".join(_text(v, dup) for v in value) + "]"
    if isinstance(value, dict):
        items = [json.dumps(k) + ":" + _text(v, dup) for k, v in value.items()]
        if dup and len(items) > 1:
            items.append(items[0])
        return "{" + ",".join(items) + "}"
    return json.dumps(value)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.recursive(
        _SCALARS,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.text(alphabet="kx", max_size=3), inner, max_size=4)
        ),
        max_leaves=30,
    ),
    st.booleans(),
    st.integers(min_value=0, max_value=3),
)
def test_the_quick_json_checks_read_as_the_careful_ones(value: Any, dup: bool, wrap: int) -> None:
    """Long numbers, keys given twice and deep nesting are refused exactly as before."""
    from crlmboard.domain.caseformat import MAX_JSON_DEPTH

    text = _text(value, dup)
    for depth in (MAX_JSON_DEPTH - 2 + wrap,):  # nesting around the limit
        nested = "[" * depth + text + "]" * depth
        assert _quick_parse(nested) == _reference_parse(nested)
    assert _quick_parse(text) == _reference_parse(text)
