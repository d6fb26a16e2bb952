"""What the clinic reads for the risk scores' criteria and missing inputs: words, never the
engine's names for them."""

from __future__ import annotations

from crlmboard.domain.engine.scores import fong_crs, game_score, modified_clinical_score
from crlmboard.domain.labels import (
    SCORE_CRITERIA,
    SCORE_INPUTS,
    score_criterion_text,
    score_input_text,
)


def test_every_input_a_score_can_miss_and_every_criterion_has_words() -> None:
    unknown = [
        fong_crs(
            node_positive=None,
            disease_free_interval_months=None,
            lesion_count=None,
            largest_diameter_mm=None,
            cea_latest=None,
            high_risk_from=3,
        ),
        game_score(
            kras=None,
            cea_latest=None,
            node_positive=None,
            tumor_burden=None,
            extrahepatic_disease=None,
        ),
        modified_clinical_score(
            ras_status="unknown", node_positive=None, largest_diameter_mm=None, lesion_count=None
        ),
    ]
    missing = {name for score in unknown for name in score.missing}
    assert missing and missing <= set(SCORE_INPUTS)
    known = fong_crs(
        node_positive=True,
        disease_free_interval_months=3,
        lesion_count=4,
        largest_diameter_mm=60,
        cea_latest=300,
        high_risk_from=3,
    )
    assert set(known.points) <= set(SCORE_CRITERIA)
    assert score_input_text("cea_latest") == "latest CEA"
    assert score_criterion_text("largest_over_50_mm") == "largest > 50 mm"
    assert all("_" not in score_input_text(name) for name in missing)
