"""SURGERY rules: the future liver remnant, growth after portal vein embolisation, resection
margins, and postoperative chemotherapy.
"""

from __future__ import annotations

from datetime import timedelta

from crlmboard.domain.engine.rules import Context, Hit, Rule, Severity, day, num, rule
from crlmboard.domain.models import MarginStatus, ProcedureType, SurgeryOutcome


def _basis_text(ctx: Context) -> str:
    basis = ctx.facts.flr.basis
    if basis == "cirrhosis":
        return "with cirrhosis"
    if basis == "injured_liver":
        return f"with {ctx.liver_background}"
    if basis == "extensive_chemotherapy":
        return (
            f"after extensive chemotherapy (more than {ctx.profile.prolonged_chemo_weeks} "
            f"weeks or {ctx.profile.prolonged_chemo_cycles} cycles)"
        )
    return "for a normal liver"


@rule(
    "SURGERY.FLR_BELOW_REQUIRED",
    Severity.CRITICAL,
    title="Future liver remnant below the required volume",
    description="The measured (or planned) FLR is below the required FLR: "
    "flr_required_cirrhosis with cirrhosis; flr_required_injured with steatosis, "
    "steatohepatitis or extensive chemotherapy (> prolonged_chemo_weeks or > "
    "prolonged_chemo_cycles); else flr_required_normal.",
    sources=("guo-2021", "wjg-2014", "rev-treat-2021"),
    profile_keys=(
        "flr_required_normal",
        "flr_required_injured",
        "flr_required_cirrhosis",
        "prolonged_chemo_weeks",
        "prolonged_chemo_cycles",
    ),
)
def flr_below_required(ctx: Context) -> Hit | None:
    flr = ctx.facts.flr
    if flr.measured_percent is None or flr.measured_percent >= flr.required_percent:
        return None
    kind = "Planned" if flr.measured_source == "plan" else "Measured"
    when = f" ({day(flr.measured_date)})" if flr.measured_date else ""
    return Hit(
        f"{kind} FLR {num(flr.measured_percent)} %{when} is below the "
        f"{flr.required_percent} % required {_basis_text(ctx)}: consider portal vein "
        "embolisation, two-stage hepatectomy or ALPPS, or a parenchyma-sparing plan.",
        {
            "flr_percent": flr.measured_percent,
            "required_percent": flr.required_percent,
            "basis": flr.basis,
            "source": flr.measured_source,
            "measured_date": flr.measured_date,
        },
    )


@rule(
    "SURGERY.PVE_LOW_GROWTH",
    Severity.WARNING,
    title="Insufficient liver growth after portal vein embolisation",
    description="The kinetic growth rate after the latest portal vein embolisation is below "
    "kgr_min_percent_per_week.",
    sources=("shindoh-2013",),
    profile_keys=("kgr_min_percent_per_week",),
)
def pve_low_growth(ctx: Context) -> Hit | None:
    pve = ctx.facts.pve
    limit = ctx.profile.kgr_min_percent_per_week
    if pve is None or pve.kinetic_growth_rate is None or pve.kinetic_growth_rate >= limit:
        return None
    return Hit(
        f"After portal vein embolisation ({day(pve.date)}) the FLR went from "
        f"{num(pve.flr_before_percent)} % to {num(pve.flr_after_percent)} % in "
        f"{num(pve.weeks)} weeks: {num(pve.kinetic_growth_rate)} %/week, below "
        f"{num(limit)} %/week (post-hepatectomy liver insufficiency 21.6 % vs 0 % above "
        "that rate); reconsider timing or add liver venous deprivation / ALPPS.",
        {
            "kinetic_growth_rate": pve.kinetic_growth_rate,
            "kgr_min_percent_per_week": limit,
            "degree_of_hypertrophy": pve.degree_of_hypertrophy,
            "weeks": pve.weeks,
            "flr_before_percent": pve.flr_before_percent,
            "flr_after_percent": pve.flr_after_percent,
            "pve_date": pve.date,
        },
    )


LIVER_RESECTIONS = frozenset(
    {
        ProcedureType.HEPATECTOMY,
        ProcedureType.TWO_STAGE_FIRST,
        ProcedureType.TWO_STAGE_SECOND,
        ProcedureType.ALPPS_STAGE_1,
        ProcedureType.ALPPS_STAGE_2,
        ProcedureType.LIVER_TRANSPLANT,
    }
)
"""Operations on the liver whose margin says something of the liver disease."""
FIRST_STAGES = frozenset({ProcedureType.TWO_STAGE_FIRST, ProcedureType.ALPPS_STAGE_1})
SECOND_STAGES = frozenset({ProcedureType.TWO_STAGE_SECOND, ProcedureType.ALPPS_STAGE_2})


def _outcome_procedure(ctx: Context, outcome: SurgeryOutcome) -> ProcedureType | None:
    """The outcome's procedure; without one, the liver resection recorded on its day."""
    if outcome.procedure is not None:
        return outcome.procedure
    same_day = [
        p.procedure
        for p in ctx.episode.all_procedures
        if p.date == outcome.date and p.procedure in LIVER_RESECTIONS
    ]
    return same_day[0] if same_day else None


def latest_liver_outcomes(ctx: Context) -> list[tuple[SurgeryOutcome, ProcedureType]]:
    """The outcomes of the latest liver resection ≤ as_of (all of that day's, so that the file
    order of one day does not matter); a colectomy or proctectomy never counts."""
    liver = [
        (o, procedure)
        for o in ctx.episode.outcomes
        if (procedure := _outcome_procedure(ctx, o)) in LIVER_RESECTIONS
    ]
    if not liver:
        return []
    last_day = liver[-1][0].date
    return [(o, procedure) for o, procedure in liver if o.date == last_day]


def _procedure_text(procedure: ProcedureType) -> str:
    return procedure.value.replace("_", " ")


@rule(
    "SURGERY.R1_MARGIN",
    Severity.WARNING,
    title="Involved or narrow resection margin",
    description="The latest liver resection (hepatectomy, two-stage or ALPPS stage, liver "
    "transplant; never a colectomy or proctectomy) has margin status R1, or a margin "
    "narrower than margin_min_mm and is not R2.",
    sources=("guo-2021",),
    profile_keys=("margin_min_mm", "adjuvant_discussion_weeks"),
)
def r1_margin(ctx: Context) -> Hit | None:
    limit = ctx.profile.margin_min_mm

    def involved(o: SurgeryOutcome) -> bool:
        return o.margin_status == MarginStatus.R1

    def narrow(o: SurgeryOutcome) -> bool:
        return (
            o.margin_mm is not None and o.margin_mm < limit and o.margin_status != MarginStatus.R2
        )

    hits = [(o, p) for o, p in latest_liver_outcomes(ctx) if involved(o) or narrow(o)]
    if not hits:
        return None
    latest, procedure = hits[0]
    parts = []
    if latest.margin_status is not None:
        parts.append(latest.margin_status.value.upper())
    if latest.margin_mm is not None:
        below = f" (< {num(limit)} mm)" if latest.margin_mm < limit else ""
        parts.append(f"margin {num(latest.margin_mm)} mm{below}")
    weeks = ctx.profile.adjuvant_discussion_weeks
    elapsed = (ctx.as_of - latest.date).days
    recent = elapsed <= weeks * 7
    advice = (
        "plan close surveillance and discuss adjuvant therapy"
        if recent
        else "plan close surveillance; a recurrence now follows an R1 resection"
    )
    return Hit(
        f"The {_procedure_text(procedure)} of {day(latest.date)} was {', '.join(parts)}: "
        f"submillimetre margins shorten survival (36 vs 65 months); {advice}.",
        {
            "operation_date": latest.date,
            "procedure": procedure.value,
            "margin_status": latest.margin_status.value if latest.margin_status else None,
            "margin_mm": latest.margin_mm,
            "margin_min_mm": limit,
            "days_since_operation": elapsed,
            "adjuvant_discussion_weeks": weeks,
        },
    )


@rule(
    "SURGERY.R2_RESIDUAL_DISEASE",
    Severity.CRITICAL,
    title="Macroscopic residual liver disease (R2)",
    description="The latest liver resection has margin status R2.",
    sources=("rev-treat-2021", "wjg-2014"),
)
def r2_residual_disease(ctx: Context) -> Hit | None:
    hits = [(o, p) for o, p in latest_liver_outcomes(ctx) if o.margin_status == MarginStatus.R2]
    if not hits:
        return None
    latest, procedure = hits[0]
    return Hit(
        f"The {_procedure_text(procedure)} of {day(latest.date)} was R2: macroscopic tumour "
        "was left behind and the patient still has liver disease; restage and plan "
        "completion treatment (re-resection, ablation or systemic therapy); adjuvant advice "
        "does not apply.",
        {
            "operation_date": latest.date,
            "procedure": procedure.value,
            "margin_status": "r2",
        },
    )


@rule(
    "SURGERY.SECOND_STAGE_PENDING",
    Severity.ADVICE,
    title="Second stage pending",
    description="The latest liver resection of the record is a two-stage first stage or ALPPS "
    "stage 1, with no second stage after it.",
    sources=("rev-treat-2021", "wjg-2014"),
)
def second_stage_pending(ctx: Context) -> Hit | None:
    operations = [
        (p.date, p.procedure) for p in ctx.episode.all_procedures if p.procedure in LIVER_RESECTIONS
    ]
    operations += [
        (o.date, o.procedure) for o in ctx.episode.outcomes if o.procedure in LIVER_RESECTIONS
    ]
    if not operations:
        return None
    last_day = max(when for when, _ in operations)
    latest = {procedure for when, procedure in operations if when == last_day}
    if latest & SECOND_STAGES or not latest & FIRST_STAGES:
        return None
    first = sorted(latest & FIRST_STAGES)[0]
    assert first is not None
    elapsed = (ctx.as_of - last_day).days
    return Hit(
        f"The {_procedure_text(first)} of {day(last_day)} ({elapsed} days ago) has no second "
        "stage yet: restage and re-measure the FLR before the second stage; 25–38 % of "
        "patients drop out between the stages (progression or insufficient growth), and "
        "ALPPS completes more often (LIGRO 92 % vs 57–75 %).",
        {"first_stage_date": last_day, "procedure": first.value, "days_since": elapsed},
    )


@rule(
    "SURGERY.ADJUVANT_DISCUSSION",
    Severity.ADVICE,
    title="Postoperative chemotherapy to discuss",
    description="The latest liver-clearing operation was within adjuvant_discussion_weeks, its "
    "outcome is not R2, and no chemotherapy has been given after it.",
    sources=("guo-2021", "rev-nct-2020"),
    profile_keys=("adjuvant_discussion_weeks",),
)
def adjuvant_discussion(ctx: Context) -> Hit | None:
    dates = ctx.episode.clearing_dates
    weeks = ctx.profile.adjuvant_discussion_weeks
    if not dates or ctx.episode.chemotherapy:
        return None
    operation = dates[-1]
    if any(
        o.date == operation and o.margin_status == MarginStatus.R2 for o in ctx.episode.outcomes
    ):
        return None  # residual disease: SURGERY.R2_RESIDUAL_DISEASE, not adjuvant advice
    elapsed = (ctx.as_of - operation).days
    if elapsed > weeks * 7:
        return None
    return Hit(
        f"The liver-clearing operation of {day(operation)} was {elapsed} days ago "
        f"(within {weeks} weeks) with no chemotherapy since: discuss postoperative "
        "chemotherapy (about 6 months perioperative in total).",
        {
            "operation_date": operation,
            "days_since_operation": elapsed,
            "adjuvant_discussion_weeks": weeks,
            "discussion_until": operation + timedelta(days=weeks * 7),
        },
    )


RULES: tuple[Rule, ...] = (
    flr_below_required,
    pve_low_growth,
    r1_margin,
    r2_residual_disease,
    second_stage_pending,
    adjuvant_discussion,
)
