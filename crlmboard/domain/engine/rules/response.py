"""RESPONSE rules: what imaging (RECIST, disappearing lesions, modality) and CEA say about the
disease under treatment.
"""

from __future__ import annotations

from crlmboard.domain.engine.facts import LESION_REMOVING_PROCEDURES
from crlmboard.domain.engine.recist import effective_status
from crlmboard.domain.engine.rules import Context, Hit, Rule, Severity, day, num, rule, words
from crlmboard.domain.models import LesionStatus, Modality, ProcedureType


@rule(
    "RESPONSE.PROGRESSION_ON_CHEMOTHERAPY",
    Severity.CRITICAL,
    title="Progression on systemic therapy",
    description="The current RECIST response is PD and systemic therapy was given in the episode.",
    sources=("wjg-2014",),
)
def progression_on_chemotherapy(ctx: Context) -> Hit | None:
    f = ctx.facts
    if f.current_response != "PD" or not ctx.episode.has_systemic_therapy:
        return None
    latest = f.recist[-1]
    current = ctx.episode.current
    assert current is not None
    causes = []
    if current.new_lesions:
        causes.append("new lesions")
    if current.non_target_progression:
        causes.append("non-target progression")
    if not causes and latest.missing_targets:
        causes.append(
            f"measured targets already sum {num(latest.measured_sum_mm)} mm, at least 20 % "
            f"and 5 mm above the nadir, with {words(list(latest.missing_targets))} not measured"
        )
    elif not causes:
        causes.append(
            f"target sum {num(latest.sum_mm)} mm vs nadir {num(latest.nadir_mm)} mm "
            f"({'+' if (latest.change_from_nadir_percent or 0) > 0 else ''}"
            f"{num(latest.change_from_nadir_percent)} %)"
        )
    return Hit(
        f"Progressive disease on {day(current.date)} ({words(causes)}) during systemic "
        "therapy: progression on chemotherapy predicts poor survival after resection "
        "(5-year 8 % vs 37 % with response); re-discuss the strategy.",
        {
            "current_response": "PD",
            "imaging_date": current.date,
            "sum_mm": latest.sum_mm,
            "nadir_mm": latest.nadir_mm,
            "change_from_nadir_percent": latest.change_from_nadir_percent,
            "new_lesions": bool(current.new_lesions),
            "non_target_progression": bool(current.non_target_progression),
            "missing_targets": list(latest.missing_targets),
            "measured_sum_mm": latest.measured_sum_mm,
        },
    )


@rule(
    "RESPONSE.COMPLETE_RADIOLOGICAL_RESPONSE",
    Severity.WARNING,
    title="Complete radiological response",
    description="The current RECIST response is CR.",
    sources=("guo-2021", "rev-nct-2020"),
)
def complete_radiological_response(ctx: Context) -> Hit | None:
    f = ctx.facts
    if f.current_response != "CR":
        return None
    when = f.current_imaging.date if f.current_imaging else None
    return Hit(
        f"Every lesion has disappeared on imaging ({day(when)}), but a complete "
        "radiological response is not a cure: most sites hold viable tumour (83 %); "
        "resect all original sites.",
        {"current_response": "CR", "imaging_date": when},
    )


def _removed_lesion_ids(ctx: Context) -> set[str]:
    """Lesions a recorded resection or ablation names."""
    return {
        lesion_id
        for p in ctx.episode.all_procedures
        if p.procedure in LESION_REMOVING_PROCEDURES
        for lesion_id in (p.lesion_ids or [])
    }


@rule(
    "RESPONSE.DISAPPEARING_METASTASIS",
    Severity.WARNING,
    title="Disappearing liver metastasis",
    description="A lesion has disappeared at the current imaging, the response is not CR, and "
    "no resection or ablation of that lesion is recorded.",
    sources=("guo-2021",),
)
def disappearing_metastasis(ctx: Context) -> Hit | None:
    current = ctx.episode.current
    if current is None or ctx.facts.current_response == "CR":
        return None
    removed = _removed_lesion_ids(ctx)
    gone = [
        lesion.id
        for lesion in current.lesions
        if effective_status(lesion) == LesionStatus.DISAPPEARED and lesion.id not in removed
    ]
    if not gone:
        return None
    return Hit(
        f"{words(gone)} {'has' if len(gone) == 1 else 'have'} disappeared on "
        f"{day(current.date)} with no resection or ablation recorded: 61–83 % of "
        "disappearing metastases hold residual disease; plan resection of the original "
        "site, mapped with MRI and contrast-enhanced intraoperative ultrasound.",
        {
            "disappeared_lesions": gone,
            "imaging_date": current.date,
            "current_response": ctx.facts.current_response,
        },
    )


@rule(
    "RESPONSE.MARK_LESIONS_AT_RISK",
    Severity.ADVICE,
    title="Lesions at risk of disappearing: consider marking",
    description="Curative intent, on treatment or systemic therapy planned (plan regimen or "
    "immunotherapy) with none given yet in the episode, a present lesion smaller than "
    "dlm_small_mm or deeper than dlm_deep_mm, and no fiducial marking in the episode.",
    sources=("guo-2021", "rev-nct-2020"),
    profile_keys=("on_treatment_window_days", "dlm_small_mm", "dlm_deep_mm"),
)
def mark_lesions_at_risk(ctx: Context) -> Hit | None:
    current = ctx.episode.current
    on_treatment = ctx.facts.chemotherapy.on_treatment
    planned = (
        ctx.plan.planned_regimen is not None or ctx.plan.planned_immunotherapy is not None
    ) and not ctx.episode.has_systemic_therapy
    if (
        current is None
        or not (on_treatment or planned)
        or not ctx.curative
        or any(p.procedure == ProcedureType.FIDUCIAL_MARKING for p in ctx.episode.procedures)
    ):
        return None
    small_mm = ctx.profile.dlm_small_mm
    deep_mm = ctx.profile.dlm_deep_mm
    at_risk: dict[str, dict[str, float | None]] = {}
    for lesion in ctx.episode.current_lesions:
        size, depth = lesion.longest_diameter_mm, lesion.depth_mm
        if (size is not None and size < small_mm) or (depth is not None and depth > deep_mm):
            at_risk[lesion.id] = {"diameter_mm": size, "depth_mm": depth}
    if not at_risk:
        return None
    listed = words(
        [
            f"{lesion_id} ({num(v['diameter_mm'])} mm, {num(v['depth_mm'])} mm deep)"
            for lesion_id, v in at_risk.items()
        ]
    )
    when = "the next cycle" if on_treatment else "the first cycle"
    return Hit(
        f"{listed} {'is' if len(at_risk) == 1 else 'are'} smaller than {small_mm} mm or "
        f"deeper than {deep_mm} mm and may disappear on chemotherapy: mark "
        f"{'it' if len(at_risk) == 1 else 'them'} (fiducials) before {when}, or, for the "
        "highest-risk lesions, consider resection before chemotherapy.",
        {
            "lesions": at_risk,
            "dlm_small_mm": small_mm,
            "dlm_deep_mm": deep_mm,
            "on_treatment": on_treatment,
            "systemic_therapy_planned": planned,
        },
    )


def _cea_course(ctx: Context) -> tuple[float, float, float] | None:
    """(baseline, latest, change %) when the CEA rules apply, else None."""
    f = ctx.facts
    base, latest, change = f.cea_baseline, f.cea_latest, f.cea_change_percent
    base_date = f.cea_baseline_date
    if (
        not f.chemotherapy.on_treatment
        or base is None
        or latest is None
        or change is None
        or base_date is None
        or base <= ctx.profile.cea_uln
    ):
        return None
    # an on-treatment sample: the latest CEA after the baseline one, with a systemic dose on
    # or after the baseline sample's day and before the latest sample's day
    latest_date = f.cea_latest_date
    if latest_date is None or latest_date <= base_date:
        return None
    if not any(base_date <= when < latest_date for when in ctx.episode.systemic_dates):
        return None
    return base, latest, change


@rule(
    "RESPONSE.CEA_NOT_FALLING",
    Severity.ADVICE,
    title="CEA not falling on treatment",
    description="On treatment, baseline CEA > cea_uln, an on-treatment CEA (after the baseline "
    "sample, with a systemic dose between them), and the change from baseline is above "
    "−cea_decline_percent.",
    sources=("guo-2021",),
    profile_keys=("on_treatment_window_days", "cea_uln", "cea_decline_percent"),
)
def cea_not_falling(ctx: Context) -> Hit | None:
    course = _cea_course(ctx)
    decline = ctx.profile.cea_decline_percent
    if course is None or course[2] <= -decline:
        return None
    base, latest, change = course
    f = ctx.facts
    return Hit(
        f"CEA went from {num(base)} to {num(latest)} ng/mL ({num(change)} %) on treatment, "
        f"so the fall of at least {num(decline)} % that supports "
        "non-progression is not shown: correlate with imaging.",
        {
            "cea_baseline": base,
            "cea_baseline_date": f.cea_baseline_date,
            "cea_latest": latest,
            "cea_latest_date": f.cea_latest_date,
            "cea_change_percent": change,
            "cea_decline_percent": decline,
            "cea_uln": ctx.profile.cea_uln,
        },
    )


@rule(
    "RESPONSE.CEA_FALLING",
    Severity.INFO,
    title="CEA falling on treatment",
    description="On treatment, baseline CEA > cea_uln, an on-treatment CEA (after the baseline "
    "sample, with a systemic dose between them), and the change from baseline is at or "
    "below −cea_decline_percent.",
    sources=("guo-2021",),
    profile_keys=("on_treatment_window_days", "cea_uln", "cea_decline_percent"),
)
def cea_falling(ctx: Context) -> Hit | None:
    course = _cea_course(ctx)
    decline = ctx.profile.cea_decline_percent
    if course is None or course[2] > -decline:
        return None
    base, latest, change = course
    f = ctx.facts
    return Hit(
        f"CEA fell from {num(base)} to {num(latest)} ng/mL ({num(change)} %, at least "
        f"{num(decline)} %), which supports non-progression (sensitivity 71.6 %, "
        "specificity 76.2 %).",
        {
            "cea_baseline": base,
            "cea_baseline_date": f.cea_baseline_date,
            "cea_latest": latest,
            "cea_latest_date": f.cea_latest_date,
            "cea_change_percent": change,
            "cea_decline_percent": decline,
            "cea_uln": ctx.profile.cea_uln,
        },
    )


@rule(
    "RESPONSE.CT_ONLY_RESTAGING",
    Severity.ADVICE,
    title="Restaged by CT only after chemotherapy",
    description="Curative intent, the current imaging after the first chemotherapy cycle of "
    "the episode (any setting) is CT, and no MRI is dated strictly after that cycle (an MRI "
    "on the first cycle's day is the pre-treatment baseline).",
    sources=("guo-2021",),
)
def ct_only_restaging(ctx: Context) -> Hit | None:
    first = ctx.facts.chemotherapy.first_cycle_date
    current = ctx.episode.current
    if (
        not ctx.curative
        or first is None
        or current is None
        or current.date <= first
        or current.modality != Modality.CT
        or any(t.modality == Modality.MRI and t.date > first for t in ctx.episode.imaging)
    ):
        return None
    return Hit(
        f"Restaging on {day(current.date)} was by CT and no MRI has been done since "
        f"the first chemotherapy cycle ({day(first)}): after chemotherapy CT "
        "sensitivity falls to 71 %; MRI is the most sensitive restaging test.",
        {"imaging_date": current.date, "modality": "ct", "first_cycle_date": first},
    )


RULES: tuple[Rule, ...] = (
    progression_on_chemotherapy,
    complete_radiological_response,
    disappearing_metastasis,
    mark_lesions_at_risk,
    cea_not_falling,
    cea_falling,
    ct_only_restaging,
)
