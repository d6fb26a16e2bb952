"""The institution profile: defaults, overrides, refusal of unknown keys and wrong types."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from crlmboard.domain.engine import PROFILE_KEYS, Profile, load_profile_text
from crlmboard.domain.engine.profile import DEFAULT_PROFILE_RESOURCE, profile_field_names
from crlmboard.domain.validation import InvalidInput
from tests.domain.engine.spec_tables import PROFILE_DEFAULTS

RESOURCES = Path(__file__).resolve().parents[3] / "crlmboard" / "resources"
DEFAULT_TEXT = (RESOURCES / DEFAULT_PROFILE_RESOURCE).read_text(encoding="utf-8")


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        load_profile_text(text, "site")
    return [(p.path, p.message) for p in caught.value.problems]


def test_defaults_are_the_spec_table() -> None:
    profile = Profile()
    for key, value in PROFILE_DEFAULTS.items():
        assert profile.value(key) == value, key
    assert {key.name for key in PROFILE_KEYS} == set(PROFILE_DEFAULTS)


def test_every_key_has_metadata_and_a_field() -> None:
    names = {f.name for f in fields(Profile)} - {"name", "sha256", "core_roles"}
    assert names == {key.name for key in PROFILE_KEYS}
    assert set(PROFILE_DEFAULTS) <= names
    for key in PROFILE_KEYS:
        assert getattr(Profile(), key.name) == key.default, key.name
        assert isinstance(getattr(Profile(), key.name), key.kind), key.name


def test_default_toml_holds_every_key_with_the_default_values() -> None:
    data = tomllib.loads(DEFAULT_TEXT)
    assert set(data) == set(profile_field_names())
    profile = load_profile_text(DEFAULT_TEXT, "default")
    assert profile.name == "default"
    assert profile.sha256 == hashlib.sha256(DEFAULT_TEXT.encode("utf-8")).hexdigest()
    assert profile.thresholds() == Profile().thresholds()
    assert profile.core_roles == Profile().core_roles


def test_every_key_is_commented_in_the_default_toml() -> None:
    for line in DEFAULT_TEXT.splitlines():
        if "=" in line and not line.lstrip().startswith("#") and not line.startswith("core_"):
            assert "#" in line, line


def test_an_empty_profile_keeps_the_defaults() -> None:
    profile = load_profile_text("", "empty")
    assert profile.thresholds() == Profile().thresholds()
    assert profile.sha256 == hashlib.sha256(b"").hexdigest()


def test_overrides() -> None:
    profile = load_profile_text("chemo_washout_days = 35\ncea_uln = 3\n# note\n", "site")
    assert profile.chemo_washout_days == 35
    assert profile.cea_uln == 3.0 and isinstance(profile.cea_uln, float)
    assert profile.bevacizumab_washout_days == 42
    assert profile.name == "site"


def test_the_hash_is_of_the_text() -> None:
    a = load_profile_text("fong_high_risk = 3\n", "a")
    b = load_profile_text("fong_high_risk = 3 # same value, other text\n", "a")
    assert a.thresholds() == b.thresholds()
    assert a.sha256 != b.sha256


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("chemo_washout_dayz = 28", "chemo_washout_dayz", "unknown key"),
        ("chemo_washout_days = '28'", "chemo_washout_days", "must be a whole number"),
        ("chemo_washout_days = 28.0", "chemo_washout_days", "must be a whole number"),
        ("chemo_washout_days = true", "chemo_washout_days", "must be a number, not true/false"),
        ("cea_uln = 'five'", "cea_uln", "must be a number"),
        ("cea_uln = nan", "cea_uln", "must be a finite number"),
        ("chemo_washout_days = -1", "chemo_washout_days", "must be ≥ 0"),
        ("flr_required_normal = 101", "flr_required_normal", "must be ≤ 100"),
        ("[thresholds]\nchemo_washout_days = 28", "thresholds", "unknown key"),
        ("core_roles = ['surgeon']", "core_roles", "unknown role 'surgeon'"),
    ],
)
def test_refused(text: str, path: str, message: str) -> None:
    found = problems(text)
    assert len(found) == 1
    assert found[0][0] == path
    assert found[0][1].startswith(message), found[0][1]


def test_every_fault_is_listed() -> None:
    found = problems("foo = 1\nbar = 2\ncea_uln = 'x'\n")
    assert [path for path, _ in found] == ["foo", "bar", "cea_uln"]


def test_invalid_toml() -> None:
    found = problems("chemo_washout_days = = 3")
    assert found[0][0] == "" and found[0][1].startswith("not valid TOML")


def test_profile_is_frozen() -> None:
    with pytest.raises(AttributeError):
        Profile().chemo_washout_days = 3  # type: ignore[misc]


def test_a_profile_changes_the_evaluation(cb: Any) -> None:
    case = cb.case(
        imaging=[cb.scan("2025-03-20", [cb.lesion("L1", 32)])],
        treatments=cb.cycles("2025-03-25", 5),
        plan={"planned_surgery_date": "2025-06-17"},
    )
    assert "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY" not in cb.rules(case)
    strict = load_profile_text("chemo_washout_days = 29\n", "strict")
    evaluation = cb.evaluate(case, date(2025, 6, 1), strict)
    assert "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY" in evaluation.rule_ids()
    assert (evaluation.profile_name, evaluation.profile_sha256) == ("strict", strict.sha256)
    assert evaluation.facts.earliest_safe_surgery_date == date(2025, 6, 18)
