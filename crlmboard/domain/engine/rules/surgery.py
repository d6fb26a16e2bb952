"""SURGERY rules: the future liver remnant, growth after portal vein embolisation, resection
margins, and postoperative chemotherapy.
"""

from __future__ import annotations

from datetime import timedelta

from crlmboard.domain.engine.rules import Context, Hit, Rule, Severity, day, num, rule
from crlmboard.domain.models import MarginStatus, SurgeryOutcome


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


@rule(
    "SURGERY.R1_MARGIN",
    Severity.WARNING,
    title="Involved or narrow resection margin",
    description="The latest surgery outcome (any procedure) has margin status R1, or a "
    "margin narrower than margin_min_mm.",
    sources=("guo-2021",),
    profile_keys=("margin_min_mm",),
)
def r1_margin(ctx: Context) -> Hit | None:
    outcomes = ctx.episode.outcomes
    if not outcomes:
        return None
    limit = ctx.profile.margin_min_mm

    def involved(o: SurgeryOutcome) -> bool:
        return o.margin_status == MarginStatus.R1

    def narrow(o: SurgeryOutcome) -> bool:
        return o.margin_mm is not None and o.margin_mm < limit

    # the latest outcome; outcomes recorded on that same day (e.g. a simultaneous colectomy
    # and hepatectomy) are all "the latest", so the file order of one day does not matter
    last_day = outcomes[-1].date
    hits = [o for o in outcomes if o.date == last_day and (involved(o) or narrow(o))]
    if not hits:
        return None
    latest = hits[0]
    parts = []
    if latest.margin_status is not None:
        parts.append(latest.margin_status.value.upper())
    if latest.margin_mm is not None:
        below = f" (< {num(limit)} mm)" if narrow(latest) else ""
        parts.append(f"margin {num(latest.margin_mm)} mm{below}")
    what = latest.procedure.value.replace("_", " ") if latest.procedure else "operation"
    return Hit(
        f"The {what} of {day(latest.date)} was {', '.join(parts)}: "
        "submillimetre margins shorten survival (36 vs 65 months); plan close "
        "surveillance and discuss adjuvant therapy.",
        {
            "operation_date": latest.date,
            "procedure": latest.procedure.value if latest.procedure else None,
            "margin_status": latest.margin_status.value if latest.margin_status else None,
            "margin_mm": latest.margin_mm,
            "margin_min_mm": limit,
        },
    )


@rule(
    "SURGERY.ADJUVANT_DISCUSSION",
    Severity.ADVICE,
    title="Postoperative chemotherapy to discuss",
    description="The latest liver-clearing operation was within adjuvant_discussion_weeks "
    "and no chemotherapy has been given after it.",
    sources=("guo-2021", "rev-nct-2020"),
    profile_keys=("adjuvant_discussion_weeks",),
)
def adjuvant_discussion(ctx: Context) -> Hit | None:
    dates = ctx.episode.clearing_dates
    weeks = ctx.profile.adjuvant_discussion_weeks
    if not dates or ctx.episode.chemotherapy:
        return None
    operation = dates[-1]
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


RULES: tuple[Rule, ...] = (flr_below_required, pve_low_growth, r1_margin, adjuvant_discussion)
