"""Risk scores at every band boundary: TBS zones, Fong CRS, GAME, modified clinical score."""

from __future__ import annotations

import pytest

from crlmboard.domain.engine.scores import (
    fong_crs,
    game_score,
    modified_clinical_score,
    tumor_burden_score,
    tumor_burden_zone,
)


def test_tumor_burden_score() -> None:
    assert tumor_burden_score(32, 1) == 3.35
    assert tumor_burden_score(62, 6) == 8.63
    assert tumor_burden_score(None, 2) is None
    assert tumor_burden_score(30, None) is None
    assert tumor_burden_score(None, 0) == 0.0


@pytest.mark.parametrize(
    ("score", "zone"),
    [(2.99, "low"), (3.0, "medium"), (8.99, "medium"), (9.0, "high"), (None, None)],
)
def test_tumor_burden_zones(score: float | None, zone: str | None) -> None:
    assert tumor_burden_zone(score) == zone


def fong(**changes: object) -> tuple[int | None, str | None]:
    inputs: dict[str, object] = dict(
        node_positive=False,
        disease_free_interval_months=24.0,
        lesion_count=1,
        largest_diameter_mm=30.0,
        cea_latest=10.0,
        high_risk_from=3,
    )
    inputs.update(changes)
    result = fong_crs(**inputs)  # type: ignore[arg-type]
    return result.score, result.risk


@pytest.mark.parametrize(
    ("changes", "score"),
    [
        ({}, 0),
        ({"node_positive": True}, 1),
        ({"disease_free_interval_months": 11.9}, 1),
        ({"disease_free_interval_months": 12.0}, 0),
        ({"lesion_count": 2}, 1),
        ({"largest_diameter_mm": 50.0}, 0),
        ({"largest_diameter_mm": 50.1}, 1),
        ({"cea_latest": 200.0}, 0),
        ({"cea_latest": 200.1}, 1),
    ],
)
def test_fong_criteria(changes: dict[str, object], score: int) -> None:
    assert fong(**changes)[0] == score


def test_fong_risk_band() -> None:
    two = {"node_positive": True, "lesion_count": 2}
    assert fong(**two) == (2, "low")
    assert fong(**two, cea_latest=250.0) == (3, "high")
    assert fong(
        **two, cea_latest=250.0, largest_diameter_mm=60.0, disease_free_interval_months=0.0
    ) == (5, "high")
    assert fong(**two, high_risk_from=2) == (2, "high")


def test_fong_missing_inputs() -> None:
    result = fong_crs(
        node_positive=True,
        disease_free_interval_months=None,
        lesion_count=3,
        largest_diameter_mm=None,
        cea_latest=None,
        high_risk_from=3,
    )
    assert result.score is None and result.risk is None
    assert result.points == {"node_positive": 1, "more_than_one_lesion": 1}
    assert result.missing == ("disease_free_interval_months", "largest_diameter_mm", "cea_latest")


def test_fong_without_present_lesions_knows_the_size_criterion() -> None:
    result = fong_crs(
        node_positive=False,
        disease_free_interval_months=30.0,
        lesion_count=0,
        largest_diameter_mm=None,
        cea_latest=2.0,
        high_risk_from=3,
    )
    assert result.score == 0 and not result.missing


def game(**changes: object) -> tuple[int | None, str | None]:
    inputs: dict[str, object] = dict(
        kras="wild_type",
        cea_latest=5.0,
        node_positive=False,
        tumor_burden=2.0,
        extrahepatic_disease=False,
    )
    inputs.update(changes)
    result = game_score(**inputs)  # type: ignore[arg-type]
    return result.score, result.risk


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, (0, "low")),
        ({"tumor_burden": 2.99}, (0, "low")),
        ({"tumor_burden": 3.0}, (1, "low")),
        ({"tumor_burden": 8.99}, (1, "low")),
        ({"tumor_burden": 9.0}, (2, "intermediate")),
        ({"cea_latest": 19.9}, (0, "low")),
        ({"cea_latest": 20.0}, (1, "low")),
        ({"kras": "mutant", "node_positive": True}, (2, "intermediate")),
        ({"kras": "mutant", "node_positive": True, "cea_latest": 20.0}, (3, "intermediate")),
        ({"extrahepatic_disease": True, "kras": "mutant", "node_positive": True}, (4, "high")),
        ({"kras": "unknown"}, (None, None)),
        ({"kras": None}, (None, None)),
    ],
)
def test_game_bands(changes: dict[str, object], expected: tuple[int | None, str | None]) -> None:
    assert game(**changes) == expected


def test_game_points_and_missing() -> None:
    result = game_score(
        kras="mutant",
        cea_latest=None,
        node_positive=True,
        tumor_burden=9.5,
        extrahepatic_disease=False,
    )
    assert result.points == {
        "kras_mutant": 1,
        "node_positive": 1,
        "tumor_burden_score": 2,
        "extrahepatic_disease": 0,
    }
    assert result.missing == ("cea_latest",)


@pytest.mark.parametrize(
    ("ras", "node", "largest", "expected"),
    [
        ("wild_type", False, 50.0, (0, "low")),
        ("wild_type", False, 51.0, (1, "medium")),
        ("mutant", False, 30.0, (1, "medium")),
        ("mutant", True, 30.0, (2, "medium")),
        ("mutant", True, 60.0, (3, "high")),
        ("unknown", True, 60.0, (None, None)),
        ("mutant", None, 60.0, (None, None)),
    ],
)
def test_modified_clinical_score(
    ras: str, node: bool | None, largest: float, expected: tuple[int | None, str | None]
) -> None:
    result = modified_clinical_score(
        ras_status=ras, node_positive=node, largest_diameter_mm=largest, lesion_count=1
    )
    assert (result.score, result.risk) == expected
