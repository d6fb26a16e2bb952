"""TIMING rules: restaging intervals, washout before hepatectomy, the length of preoperative
chemotherapy, when to operate, and re-measuring the liver after portal vein embolisation.
"""

from __future__ import annotations

from datetime import timedelta

from crlmboard.domain.engine.recist import NON_PROGRESSION
from crlmboard.domain.engine.rules import Context, Hit, Rule, Severity, day, num, rule
from crlmboard.domain.models import LIVER_CLEARING_PROCEDURES, Resectability

RESPONDING_OR_STABLE = NON_PROGRESSION  # CR, PR, SD and NN


@rule(
    "TIMING.RESTAGING_OVERDUE",
    Severity.WARNING,
    title="Restaging imaging overdue",
    description="On treatment (a systemic dose within on_treatment_window_days) and the date "
    "is past the restaging due date (last imaging, or first dose if none since, + "
    "restaging_interval_days).",
    sources=("rev-nct-2020", "guo-2021"),
    profile_keys=("on_treatment_window_days", "restaging_interval_days"),
)
def restaging_overdue(ctx: Context) -> Hit | None:
    f = ctx.facts
    due = f.next_restaging_due
    if not f.chemotherapy.on_treatment or due is None or ctx.as_of <= due:
        return None
    late = (ctx.as_of - due).days
    current = f.current_imaging.date if f.current_imaging else None
    return Hit(
        f"Restaging imaging was due on {day(due)} ({late} days ago; last imaging "
        f"{day(current)}): restage every 6–8 weeks on preoperative therapy, with MRI "
        "preferred after chemotherapy.",
        {
            "next_restaging_due": due,
            "days_overdue": late,
            "current_imaging_date": current,
            "restaging_interval_days": ctx.profile.restaging_interval_days,
        },
    )


@rule(
    "TIMING.RESTAGING_DUE_SOON",
    Severity.INFO,
    title="Restaging imaging due soon",
    description="On treatment and the restaging due date is within restaging_soon_days "
    "(and not yet past).",
    sources=("rev-nct-2020",),
    profile_keys=("on_treatment_window_days", "restaging_interval_days", "restaging_soon_days"),
)
def restaging_due_soon(ctx: Context) -> Hit | None:
    f = ctx.facts
    due = f.next_restaging_due
    window = ctx.profile.restaging_soon_days
    if not f.chemotherapy.on_treatment or due is None or ctx.as_of > due:
        return None
    remaining = (due - ctx.as_of).days
    if remaining > window:
        return None
    return Hit(
        f"Restaging imaging is due on {day(due)}, in {remaining} days.",
        {"next_restaging_due": due, "days_until_due": remaining, "restaging_soon_days": window},
    )


@rule(
    "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY",
    Severity.WARNING,
    title="Surgery planned too soon after chemotherapy",
    description="plan.planned_surgery_date is earlier than the end of the last cycle's drug "
    "delivery (the cycle date; for capox, capiri and capecitabine the last day of the "
    "capecitabine_course_days oral course) + chemo_washout_days.",
    sources=("rev-nct-2020", "rev-treat-2021"),
    profile_keys=("chemo_washout_days", "capecitabine_course_days", "bevacizumab_washout_days"),
)
def surgery_too_soon_after_chemotherapy(ctx: Context) -> Hit | None:
    planned = ctx.plan.planned_surgery_date
    chemo = ctx.facts.chemotherapy
    last = chemo.last_drug_delivery_date
    washout = ctx.profile.chemo_washout_days
    if planned is None or last is None or planned >= last + timedelta(days=washout):
        return None
    gap = (planned - last).days
    safe = ctx.facts.earliest_safe_surgery_date
    oral = f" (oral capecitabine to {day(last)})" if chemo.last_cycle_date != last else ""
    return Hit(
        f"Surgery on {day(planned)} would be {gap} days after the last chemotherapy "
        f"({day(chemo.last_cycle_date)}{oral}), under the {washout}-day minimum: hepatectomy "
        f"within 4 weeks of chemotherapy raises complications; earliest safe date {day(safe)}.",
        {
            "planned_surgery_date": planned,
            "last_cycle_date": chemo.last_cycle_date,
            "last_drug_delivery_date": last,
            "days_between": gap,
            "chemo_washout_days": washout,
            "capecitabine_course_days": ctx.profile.capecitabine_course_days,
            "earliest_safe_surgery_date": safe,
        },
    )


@rule(
    "TIMING.SURGERY_TOO_SOON_AFTER_BEVACIZUMAB",
    Severity.WARNING,
    title="Surgery planned too soon after bevacizumab",
    description="plan.planned_surgery_date is earlier than the last bevacizumab dose + "
    "bevacizumab_washout_days.",
    sources=("rev-nct-2020", "guo-2021"),
    profile_keys=("bevacizumab_washout_days",),
)
def surgery_too_soon_after_bevacizumab(ctx: Context) -> Hit | None:
    planned = ctx.plan.planned_surgery_date
    last = ctx.facts.chemotherapy.last_bevacizumab_date
    washout = ctx.profile.bevacizumab_washout_days
    if planned is None or last is None or planned >= last + timedelta(days=washout):
        return None
    gap = (planned - last).days
    return Hit(
        f"Surgery on {day(planned)} would be {gap} days after the last bevacizumab dose "
        f"({day(last)}), under the {washout}-day minimum: bevacizumab impairs wound and "
        f"liver healing; resect 6–8 weeks after the last dose, not before "
        f"{day(last + timedelta(days=washout))}.",
        {
            "planned_surgery_date": planned,
            "last_bevacizumab_date": last,
            "days_between": gap,
            "bevacizumab_washout_days": washout,
        },
    )


@rule(
    "TIMING.PROLONGED_PREOPERATIVE_CHEMOTHERAPY",
    Severity.WARNING,
    title="Prolonged preoperative chemotherapy",
    description="Curative intent, resectable or borderline, preoperative chemotherapy longer "
    "than prolonged_chemo_weeks or more cycles than prolonged_chemo_cycles, and no "
    "liver-clearing operation yet in the episode.",
    sources=("guo-2021", "wjg-2014", "rev-nct-2020"),
    profile_keys=("prolonged_chemo_weeks", "prolonged_chemo_cycles"),
)
def prolonged_preoperative_chemotherapy(ctx: Context) -> Hit | None:
    f = ctx.facts
    operated = any(p.procedure in LIVER_CLEARING_PROCEDURES for p in ctx.episode.procedures)
    if (
        not ctx.curative
        or not f.extensive_chemotherapy
        or operated
        or ctx.plan.resectability not in (Resectability.RESECTABLE, Resectability.BORDERLINE)
    ):
        return None
    c = f.chemotherapy
    weeks_limit = ctx.profile.prolonged_chemo_weeks
    cycles_limit = ctx.profile.prolonged_chemo_cycles
    return Hit(
        f"{c.preoperative_cycles} preoperative cycles over {num(c.preoperative_weeks)} "
        f"weeks (limits {cycles_limit} cycles / {weeks_limit} weeks): longer chemotherapy "
        "brings more complications, liver injury, atrophy and disappearing metastases; "
        "operate as soon as resectable.",
        {
            "preoperative_cycles": c.preoperative_cycles,
            "preoperative_weeks": c.preoperative_weeks,
            "prolonged_chemo_cycles": cycles_limit,
            "prolonged_chemo_weeks": weeks_limit,
        },
    )


@rule(
    "TIMING.PROCEED_TO_SURGERY",
    Severity.ADVICE,
    title="Resectable and responding: proceed to surgery",
    description="Resectable, curative intent, at least one preoperative cycle, current "
    "response CR, PR, SD or NN, and no planned surgery date.",
    sources=("rev-nct-2020", "guo-2021"),
    profile_keys=("chemo_washout_days", "bevacizumab_washout_days"),
)
def proceed_to_surgery(ctx: Context) -> Hit | None:
    f = ctx.facts
    if (
        ctx.plan.resectability != Resectability.RESECTABLE
        or not ctx.curative
        or f.chemotherapy.preoperative_cycles < 1
        or f.current_response not in RESPONDING_OR_STABLE
        or ctx.plan.planned_surgery_date is not None
    ):
        return None
    safe = f.earliest_safe_surgery_date
    return Hit(
        f"Resectable with response {f.current_response} after "
        f"{f.chemotherapy.preoperative_cycles} cycles and no operation date set: resect "
        f"as soon as deemed resectable; earliest safe date {day(safe)}.",
        {
            "current_response": f.current_response,
            "preoperative_cycles": f.chemotherapy.preoperative_cycles,
            "earliest_safe_surgery_date": safe,
        },
    )


@rule(
    "TIMING.PVE_REASSESSMENT",
    Severity.ADVICE,
    title="FLR not re-measured after portal vein embolisation",
    description="Portal vein embolisation at least pve_reassess_days ago and no imaging with "
    "an FLR measure after it.",
    sources=("wjg-2014", "guo-2021"),
    profile_keys=("pve_reassess_days",),
)
def pve_reassessment(ctx: Context) -> Hit | None:
    pve = ctx.facts.pve
    wait = ctx.profile.pve_reassess_days
    if pve is None or pve.flr_after_percent is not None:
        return None
    elapsed = (ctx.as_of - pve.date).days
    if elapsed < wait:
        return None
    return Hit(
        f"Portal vein embolisation was {elapsed} days ago ({day(pve.date)}, ≥ {wait}) "
        "and the FLR has not been re-measured: re-measure it (expected hypertrophy "
        "20–40 % within 2–4 weeks).",
        {"pve_date": pve.date, "days_since_pve": elapsed, "pve_reassess_days": wait},
    )


RULES: tuple[Rule, ...] = (
    restaging_overdue,
    restaging_due_soon,
    surgery_too_soon_after_chemotherapy,
    surgery_too_soon_after_bevacizumab,
    prolonged_preoperative_chemotherapy,
    proceed_to_surgery,
    pve_reassessment,
)
