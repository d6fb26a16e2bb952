"""Golden examples: each `tests/golden/NAME.json` evaluated at its expected `as_of` gives
exactly the expected rule set and the expected facts (numbers within 0.05)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from crlmboard.domain.caseformat import loads_case
from crlmboard.domain.engine import evaluate, evaluation_to_json, load_profile_text

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
DEFAULT_TOML = (
    Path(__file__).resolve().parents[3] / "crlmboard" / "resources" / "profiles" / "default.toml"
)
PAIRS = sorted(p for p in GOLDEN.glob("*.json") if not p.name.endswith(".expected.json"))


def _at(document: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def test_golden_examples_are_present() -> None:
    assert len(PAIRS) >= 3
    for case_file in PAIRS:
        assert case_file.with_suffix(".expected.json").exists(), case_file.name


@pytest.mark.parametrize("case_file", PAIRS, ids=[p.stem for p in PAIRS])
def test_golden(case_file: Path) -> None:
    expected = json.loads(case_file.with_suffix(".expected.json").read_text(encoding="utf-8"))
    profile = load_profile_text(DEFAULT_TOML.read_text(encoding="utf-8"), "default")
    case = loads_case(case_file.read_text(encoding="utf-8"), today=date(2030, 1, 1))
    as_of = date.fromisoformat(expected["as_of"])
    document = json.loads(evaluation_to_json(evaluate(case, as_of, profile)))

    assert sorted(f["rule"] for f in document["findings"]) == sorted(expected["rules"])
    for path, want in expected["facts"].items():
        got = _at(document["facts"], path)
        if isinstance(want, int | float) and not isinstance(want, bool):
            assert isinstance(got, int | float) and not isinstance(got, bool), (path, got)
            assert abs(got - want) <= 0.05, (path, got, want)
        else:
            assert got == want, (path, got, want)
    assert document["as_of"] == expected["as_of"]
    assert document["mrn"] == case.mrn
