"""SCORE rules: what the prognostic scores imply for the treatment sequence."""

from __future__ import annotations

from crlmboard.domain.engine.rules import Context, Hit, Rule, Severity, rule, words
from crlmboard.domain.labels import score_criterion_text


@rule(
    "SCORE.FONG_HIGH_RISK",
    Severity.ADVICE,
    title="High Fong clinical risk score",
    description="The Fong clinical risk score is at or above fong_high_risk.",
    sources=("fong-1999", "guo-2021"),
    profile_keys=("fong_high_risk",),
)
def fong_high_risk(ctx: Context) -> Hit | None:
    fong = ctx.facts.fong_crs
    high = ctx.profile.fong_high_risk
    if fong.score is None or fong.score < high:
        return None
    met = [score_criterion_text(name) for name, points in fong.points.items() if points]
    return Hit(
        f"Fong clinical risk score {fong.score} (≥ {high}: {words(met)}): high recurrence "
        "risk; in high-risk patients preoperative chemotherapy was associated with better "
        "survival (pooled HR 0.69).",
        {"fong_crs": fong.score, "fong_high_risk": high, "points": dict(fong.points)},
    )


RULES: tuple[Rule, ...] = (fong_high_risk,)
