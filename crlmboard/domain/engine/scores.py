"""Published risk scores: Fong clinical risk score, GAME score, modified clinical score, TBS.

Each score is reported with its points per criterion and the inputs that were missing; a
score with a missing input has no total (it is never guessed as 0).  The cut-offs inside
each criterion (12 months, 50 mm, 200 ng/mL, …) are part of the published definitions
(fong-1999, margonis-2018, brudvik-2019, sasaki-2018), not institution thresholds; the
only profile value used here is the Fong high-risk cut-off, passed in by the caller.
"""

from __future__ import annotations

import math
from dataclasses import field

from crlmboard.frozen import frozen

# Fong 1999: the five preoperative criteria
FONG_DFI_MONTHS = 12.0
FONG_LARGEST_MM = 50.0
FONG_CEA = 200.0
# Margonis 2018 (GAME)
GAME_CEA = 20.0
GAME_TBS_LOW = 3.0
GAME_TBS_HIGH = 9.0
# Brudvik 2019 (modified clinical score)
MCS_LARGEST_MM = 50.0
# Sasaki 2018 (tumour burden score zones)
TBS_MEDIUM_FROM = 3.0
TBS_HIGH_FROM = 9.0


@frozen
class Score:
    """A score: total (None if an input is missing), points of known criteria, missing inputs."""

    score: int | None
    points: dict[str, int] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    risk: str | None = None


def tumor_burden_score(largest_mm: float | None, count: int | None) -> float | None:
    """√((largest cm)² + count²), 2 decimals; 0 with no lesion, None if an input is unknown."""
    if count is None:
        return None
    if count == 0:
        return 0.0
    if largest_mm is None:
        return None
    return round(math.sqrt((largest_mm / 10) ** 2 + count**2), 2)


def tumor_burden_zone(score: float | None) -> str | None:
    """`low` < 3, `medium` < 9, `high` ≥ 9 (Sasaki 2018)."""
    if score is None:
        return None
    if score < TBS_MEDIUM_FROM:
        return "low"
    if score < TBS_HIGH_FROM:
        return "medium"
    return "high"


def _largest_over(largest_mm: float | None, count: int | None, limit: float) -> bool | None:
    """Whether the largest present lesion exceeds `limit`; False when no lesion is present."""
    if count == 0:
        return False
    if largest_mm is None:
        return None
    return largest_mm > limit


class _Tally:
    def __init__(self) -> None:
        self.points: dict[str, int] = {}
        self.missing: list[str] = []

    def add(self, criterion: str, known: bool | None, weight: int, input_name: str) -> None:
        if known is None:
            if input_name not in self.missing:
                self.missing.append(input_name)
        else:
            self.points[criterion] = weight if known else 0

    def total(self) -> int | None:
        return None if self.missing else sum(self.points.values())


def fong_crs(
    *,
    node_positive: bool | None,
    disease_free_interval_months: float | None,
    lesion_count: int | None,
    largest_diameter_mm: float | None,
    cea_latest: float | None,
    high_risk_from: int,
) -> Score:
    """Fong clinical risk score: one point per criterion; `high` at or above `high_risk_from`."""
    tally = _Tally()
    tally.add("node_positive", node_positive, 1, "node_positive")
    tally.add(
        "disease_free_interval_under_12_months",
        None
        if disease_free_interval_months is None
        else disease_free_interval_months < FONG_DFI_MONTHS,
        1,
        "disease_free_interval_months",
    )
    tally.add(
        "more_than_one_lesion",
        None if lesion_count is None else lesion_count > 1,
        1,
        "lesion_count",
    )
    tally.add(
        "largest_over_50_mm",
        _largest_over(largest_diameter_mm, lesion_count, FONG_LARGEST_MM),
        1,
        "largest_diameter_mm",
    )
    tally.add(
        "cea_over_200", None if cea_latest is None else cea_latest > FONG_CEA, 1, "cea_latest"
    )
    total = tally.total()
    risk = None if total is None else ("high" if total >= high_risk_from else "low")
    return Score(total, tally.points, tuple(tally.missing), risk)


def game_score(
    *,
    kras: str | None,
    cea_latest: float | None,
    node_positive: bool | None,
    tumor_burden: float | None,
    extrahepatic_disease: bool | None,
) -> Score:
    """GAME score (Margonis 2018): `low` 0–1, `intermediate` 2–3, `high` ≥ 4.

    `kras` is the KRAS result (`mutant`, `wild_type`, or None/`unknown` when not known).
    """
    tally = _Tally()
    kras_known = None if kras not in ("mutant", "wild_type") else kras == "mutant"
    tally.add("kras_mutant", kras_known, 1, "kras")
    tally.add(
        "cea_20_or_more", None if cea_latest is None else cea_latest >= GAME_CEA, 1, "cea_latest"
    )
    tally.add("node_positive", node_positive, 1, "node_positive")
    if tumor_burden is None:
        tally.add("tumor_burden_score", None, 0, "tumor_burden_score")
    else:
        tbs_points = (
            2 if tumor_burden >= GAME_TBS_HIGH else (1 if tumor_burden >= GAME_TBS_LOW else 0)
        )
        tally.points["tumor_burden_score"] = tbs_points
    tally.add("extrahepatic_disease", extrahepatic_disease, 2, "extrahepatic_disease")
    total = tally.total()
    risk = None
    if total is not None:
        risk = "low" if total <= 1 else ("intermediate" if total <= 3 else "high")
    return Score(total, tally.points, tuple(tally.missing), risk)


def modified_clinical_score(
    *,
    ras_status: str,
    node_positive: bool | None,
    largest_diameter_mm: float | None,
    lesion_count: int | None,
) -> Score:
    """Modified clinical score (Brudvik 2019): `low` 0, `medium` 1–2, `high` 3."""
    tally = _Tally()
    ras_known = None if ras_status == "unknown" else ras_status == "mutant"
    tally.add("ras_mutant", ras_known, 1, "ras_status")
    tally.add("node_positive", node_positive, 1, "node_positive")
    tally.add(
        "largest_over_50_mm",
        _largest_over(largest_diameter_mm, lesion_count, MCS_LARGEST_MM),
        1,
        "largest_diameter_mm",
    )
    total = tally.total()
    risk = None
    if total is not None:
        risk = "low" if total == 0 else ("medium" if total <= 2 else "high")
    return Score(total, tally.points, tuple(tally.missing), risk)
