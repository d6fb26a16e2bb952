"""DATA rules: what is missing for the board to decide (molecular tests, imaging, FLR, scores).

These turn `null` facts into explicit findings so that no gap hides a decision.
"""

from __future__ import annotations

from crlmboard.domain.engine.rules import Context, Hit, Rule, Severity, day, rule, words


@rule(
    "DATA.MOLECULAR_INCOMPLETE",
    Severity.WARNING,
    title="Molecular profile incomplete",
    description="RAS status, BRAF status or MMR/MSI status is unknown.",
    sources=("guo-2021", "rev-nct-2020", "nccn-colon"),
)
def molecular_incomplete(ctx: Context) -> Hit | None:
    """RAS, BRAF or MMR status unknown."""
    f = ctx.facts
    statuses = {
        "ras_status": f.ras_status,
        "braf_status": f.braf_status,
        "mmr_status": f.mmr_status,
    }
    names = {
        "ras_status": "extended RAS (KRAS/NRAS exons 2–4)",
        "braf_status": "BRAF V600E",
        "mmr_status": "MMR/MSI",
    }
    unknown = [names[key] for key, value in statuses.items() if value == "unknown"]
    if not unknown:
        return None
    return Hit(
        f"{words(unknown)} status is unknown: order the testing, as it decides "
        "anti-EGFR and immunotherapy eligibility.",
        statuses,
    )


@rule(
    "DATA.NO_IMAGING",
    Severity.WARNING,
    title="No imaging in the current episode",
    description="The current episode has no imaging study.",
    sources=("wjg-2014",),
)
def no_imaging(ctx: Context) -> Hit | None:
    """The episode has no imaging."""
    if ctx.episode.imaging:
        return None
    since = ctx.facts.episode_start
    scope = f" since {day(since)}" if since else ""
    return Hit(
        f"No imaging is recorded{scope}: resectability and response cannot be assessed.",
        {"imaging_count": 0, "episode_start": since},
    )


@rule(
    "DATA.NO_BASELINE_IMAGING",
    Severity.WARNING,
    title="No pre-treatment baseline imaging",
    description="Systemic therapy (other than adjuvant) started in the episode with no "
    "imaging on or before its first dose.",
    sources=("eisenhauer-2009",),
)
def no_baseline_imaging(ctx: Context) -> Hit | None:
    """Systemic therapy started with no imaging on or before its first cycle."""
    start = ctx.episode.treatment_start
    if start is None or any(t.date <= start for t in ctx.episode.imaging):
        return None
    first = ctx.episode.imaging[0].date if ctx.episode.imaging else None
    return Hit(
        f"Systemic therapy started on {day(start)} with no imaging on or before that "
        f"day (first imaging {day(first)}): response cannot be measured against a "
        "pre-treatment baseline.",
        {"treatment_start": start, "first_imaging_date": first},
    )


@rule(
    "DATA.FLR_NOT_MEASURED",
    Severity.WARNING,
    title="Future liver remnant not measured before a major hepatectomy",
    description="The plan is a major hepatectomy (segments to resect ≥ "
    "major_hepatectomy_segments) and no FLR is measured or planned.",
    sources=("guo-2021", "wjg-2014"),
    profile_keys=("major_hepatectomy_segments",),
)
def flr_not_measured(ctx: Context) -> Hit | None:
    """Major hepatectomy planned without an FLR measure."""
    if ctx.facts.major_hepatectomy is not True or ctx.facts.flr.measured_percent is not None:
        return None
    segments = len(ctx.plan.segments_to_resect or [])
    return Hit(
        f"A {segments}-segment resection is a major hepatectomy and no future liver "
        "remnant is recorded: CT/MRI volumetry of the FLR is needed before it.",
        {
            "segments_to_resect": segments,
            "major_hepatectomy_segments": ctx.profile.major_hepatectomy_segments,
        },
    )


@rule(
    "DATA.SCORE_INCOMPLETE",
    Severity.INFO,
    title="Risk scores incomplete",
    description="An input of the Fong clinical risk score, the GAME score or the modified "
    "clinical score is missing.",
    sources=("fong-1999", "margonis-2018", "brudvik-2019"),
)
def score_incomplete(ctx: Context) -> Hit | None:
    """Lists the missing inputs per score."""
    f = ctx.facts
    scores = {
        "fong_crs": ("Fong score", f.fong_crs.missing),
        "game_score": ("GAME score", f.game_score.missing),
        "modified_clinical_score": ("modified clinical score", f.modified_clinical_score.missing),
    }
    parts = [
        f"{label} lacks {words([m.replace('_', ' ') for m in missing])}"
        for label, missing in scores.values()
        if missing
    ]
    if not parts:
        return None
    values = {key: list(missing) for key, (_, missing) in scores.items() if missing}
    return Hit("Not evaluable: " + "; ".join(parts) + ".", values)


RULES: tuple[Rule, ...] = (
    molecular_incomplete,
    no_imaging,
    no_baseline_imaging,
    flr_not_measured,
    score_incomplete,
)
