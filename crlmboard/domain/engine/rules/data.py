"""DATA rules: what is missing for the board to decide (molecular tests, imaging, FLR, scores).

These turn `null` facts into explicit findings so that no gap hides a decision.
"""

from __future__ import annotations

from crlmboard.domain.engine.recist import MAX_TARGETS_PER_ORGAN, MEASURABLE_MIN_MM
from crlmboard.domain.engine.rules import Context, Hit, Rule, Severity, day, num, rule, words
from crlmboard.domain.labels import score_input_text

DEMOTION_TEXT = {
    "below_10_mm": "below the 10 mm a measurable lesion needs",
    "not_present": "not present at baseline",
    "no_diameter": "listed without a diameter",
    "beyond_second": "beyond the 2 target lesions RECIST 1.1 allows in the liver",
}


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
    "DATA.TARGET_NOT_MEASURABLE",
    Severity.INFO,
    title="Marked target lesion followed as non-target",
    description="A lesion marked `target` at baseline is not a RECIST 1.1 target lesion (below "
    "10 mm, not present, or beyond the second marked): it is followed as a non-target.",
    sources=("eisenhauer-2009",),
)
def target_not_measurable(ctx: Context) -> Hit | None:
    """Names each demoted mark, its diameter and why."""
    baseline = ctx.facts.recist_baseline
    if baseline is None or not baseline.demoted_targets:
        return None
    parts = [
        f"{d.id} ({num(d.diameter_mm)} mm) is {DEMOTION_TEXT[d.reason]}"
        for d in baseline.demoted_targets
    ]
    targets = list(baseline.target_lesions)
    chosen = (
        f"the targets are {words(targets)} ({baseline.targets_chosen_by})"
        if targets
        else "there is no measurable target, so response is read from non-target disease"
    )
    followed = "it as a non-target lesion" if len(parts) == 1 else "them as non-target lesions"
    return Hit(
        f"Marked as target on the baseline imaging of {day(baseline.date)}: {'; '.join(parts)}, "
        f"so RECIST 1.1 follows {followed}; {chosen}.",
        {
            "baseline_date": baseline.date,
            "demoted": [
                {"lesion": d.id, "diameter_mm": d.diameter_mm, "reason": d.reason}
                for d in baseline.demoted_targets
            ],
            "target_lesions": targets,
            "targets_chosen_by": baseline.targets_chosen_by,
            "measurable_min_mm": int(MEASURABLE_MIN_MM),
            "max_targets": MAX_TARGETS_PER_ORGAN,
        },
    )


@rule(
    "DATA.CEA_NOT_REMEASURED",
    Severity.INFO,
    title="CEA not re-measured on treatment",
    description="On treatment, baseline CEA > cea_uln, and no CEA dated after the first "
    "systemic dose of the episode.",
    sources=("guo-2021",),
    profile_keys=("on_treatment_window_days", "cea_uln"),
)
def cea_not_remeasured(ctx: Context) -> Hit | None:
    f = ctx.facts
    uln = ctx.profile.cea_uln
    systemic = ctx.episode.systemic_dates
    if not f.chemotherapy.on_treatment or f.cea_baseline is None or f.cea_baseline <= uln:
        return None
    first = systemic[0]
    if any(lab.date > first for lab in ctx.episode.cea_labs):
        return None
    return Hit(
        f"CEA was {num(f.cea_baseline)} ng/mL (above {num(uln)}) on {day(f.cea_baseline_date)} "
        f"and has not been measured since systemic therapy started on {day(first)}: measure "
        "it at restaging to read the marker trend.",
        {
            "cea_baseline": f.cea_baseline,
            "cea_baseline_date": f.cea_baseline_date,
            "cea_uln": uln,
            "first_systemic_date": first,
            "cea_latest_date": f.cea_latest_date,
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
        f"{label} lacks {words([score_input_text(m) for m in missing])}"
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
    target_not_measurable,
    cea_not_remeasured,
    score_incomplete,
)
