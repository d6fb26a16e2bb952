"""REGIMEN rules: drug choice against the tumour's biology, and chemotherapy liver toxicity.

"Planned or given" for a drug means in the plan (`planned_regimen`, `planned_biologic`,
`planned_immunotherapy`) or in a treatment of the current episode.
"""

from __future__ import annotations

from crlmboard.domain.engine.rules import Context, Hit, Rule, Severity, day, num, rule
from crlmboard.domain.models import (
    ANTI_EGFR_BIOLOGICS,
    IRINOTECAN_REGIMENS,
    Biologic,
    LiverBackground,
    Resectability,
)

EGFR_ANTIBODIES_ALONE = frozenset({Biologic.CETUXIMAB, Biologic.PANITUMUMAB})


def biologics_planned_or_given(ctx: Context) -> list[Biologic]:
    """Biologics in the plan or given in the episode (plan first, then by date, no repeats)."""
    given = ctx.episode.biologics_given
    planned = ctx.plan.planned_biologic
    if planned is None:
        return list(given)
    return list(dict.fromkeys((planned, *given)))


def anti_egfr(ctx: Context) -> list[str]:
    """Anti-EGFR agents planned or given."""
    return [b.value for b in biologics_planned_or_given(ctx) if b in ANTI_EGFR_BIOLOGICS]


def immunotherapy_planned_or_given(ctx: Context) -> bool:
    return ctx.plan.planned_immunotherapy is not None or bool(ctx.episode.immunotherapy)


def irinotecan_regimens(ctx: Context) -> list[str]:
    """Irinotecan-containing regimens planned or given."""
    regimens = []
    if ctx.plan.planned_regimen in IRINOTECAN_REGIMENS:
        regimens.append(ctx.plan.planned_regimen.value)
    regimens += [
        c.regimen.value for c in ctx.episode.chemotherapy if c.regimen in IRINOTECAN_REGIMENS
    ]
    return list(dict.fromkeys(regimens))


def _agents(names: list[str]) -> str:
    return ", ".join(
        name.replace("_", " + ") if name == "encorafenib_cetuximab" else name for name in names
    )


@rule(
    "REGIMEN.ANTI_EGFR_RAS_MUTANT",
    Severity.CRITICAL,
    title="Anti-EGFR therapy in a RAS-mutant tumour",
    description="Cetuximab, panitumumab or encorafenib + cetuximab is planned or given and "
    "the tumour is RAS mutant.",
    sources=("rev-nct-2020", "rev-treat-2021"),
)
def anti_egfr_ras_mutant(ctx: Context) -> Hit | None:
    agents = anti_egfr(ctx)
    if not agents or ctx.facts.ras_status != "mutant":
        return None
    return Hit(
        f"{_agents(agents)} is planned or given but the tumour is RAS mutant: "
        "RAS-mutant tumours do not respond to cetuximab or panitumumab.",
        {"anti_egfr": agents, "ras_status": ctx.facts.ras_status},
    )


@rule(
    "REGIMEN.ANTI_EGFR_BRAF_V600E",
    Severity.WARNING,
    title="EGFR blockade alone in a BRAF V600E tumour",
    description="Cetuximab or panitumumab (not encorafenib + cetuximab) is planned or given "
    "and BRAF is V600E mutant.",
    sources=("rev-treat-2021", "breakwater-2025", "beacon-2019"),
)
def anti_egfr_braf_v600e(ctx: Context) -> Hit | None:
    agents = [b.value for b in biologics_planned_or_given(ctx) if b in EGFR_ANTIBODIES_ALONE]
    if not agents or ctx.facts.braf_status != "v600e":
        return None
    return Hit(
        f"{_agents(agents)} is planned or given in a BRAF V600E tumour, which resists "
        "EGFR blockade alone: the targeted option is encorafenib + cetuximab (with "
        "mFOLFOX6 in first line, BREAKWATER; alone after first line, BEACON).",
        {"anti_egfr": agents, "braf_status": ctx.facts.braf_status},
    )


@rule(
    "REGIMEN.ANTI_EGFR_UNTESTED",
    Severity.WARNING,
    title="Anti-EGFR therapy without RAS and BRAF results",
    description="Anti-EGFR therapy is planned or given and RAS or BRAF status is unknown.",
    sources=("rev-nct-2020",),
)
def anti_egfr_untested(ctx: Context) -> Hit | None:
    agents = anti_egfr(ctx)
    f = ctx.facts
    if not agents or "unknown" not in (f.ras_status, f.braf_status):
        return None
    missing = [
        name
        for name, status in (("RAS", f.ras_status), ("BRAF", f.braf_status))
        if status == "unknown"
    ]
    return Hit(
        f"{_agents(agents)} is planned or given but {' and '.join(missing)} status is "
        "unknown: test RAS and BRAF before anti-EGFR therapy.",
        {"anti_egfr": agents, "ras_status": f.ras_status, "braf_status": f.braf_status},
    )


@rule(
    "REGIMEN.ANTI_EGFR_RIGHT_SIDED",
    Severity.ADVICE,
    title="Anti-EGFR therapy with a right-sided primary",
    description="Anti-EGFR therapy is planned or given and the primary is right-sided "
    "(caecum to transverse colon).",
    sources=("rev-nct-2020",),
)
def anti_egfr_right_sided(ctx: Context) -> Hit | None:
    agents = anti_egfr(ctx)
    if not agents or ctx.facts.sidedness != "right":
        return None
    site = ctx.primary_site
    return Hit(
        f"{_agents(agents)} is planned or given with a right-sided primary ({site}): "
        "anti-EGFR benefit is confined mainly to left-sided primaries; bevacizumab-based "
        "therapy or FOLFOXIRI are the usual choice on the right.",
        {"anti_egfr": agents, "sidedness": "right", "primary_site": site},
    )


@rule(
    "REGIMEN.ANTI_EGFR_RESECTABLE",
    Severity.WARNING,
    title="Anti-EGFR therapy with resectable metastases",
    description="Anti-EGFR therapy is planned or given while the plan's resectability is "
    "resectable.",
    sources=("guo-2021", "rev-nct-2020"),
)
def anti_egfr_resectable(ctx: Context) -> Hit | None:
    agents = anti_egfr(ctx)
    if not agents or ctx.plan.resectability != Resectability.RESECTABLE:
        return None
    return Hit(
        f"{_agents(agents)} is planned or given with resectable metastases: in New EPOC, "
        "adding cetuximab to perioperative chemotherapy shortened overall survival (81.0 vs "
        "55.4 months; the PFS difference was not significant in the final analysis).",
        {"anti_egfr": agents, "resectability": "resectable"},
    )


@rule(
    "REGIMEN.IMMUNOTHERAPY_DMMR",
    Severity.ADVICE,
    title="MMR-deficient (dMMR/MSI-H) tumour without checkpoint inhibition",
    description="MMR status is deficient (dMMR or MSI-H) and no immunotherapy is planned or given.",
    sources=("guo-2021", "keynote-177", "checkmate-8hw"),
)
def immunotherapy_dmmr(ctx: Context) -> Hit | None:
    if ctx.facts.mmr_status != "deficient" or immunotherapy_planned_or_given(ctx):
        return None
    return Hit(
        "The tumour is dMMR/MSI-H and no checkpoint inhibitor is planned or given: "
        "first-line checkpoint inhibition outperforms chemotherapy (pembrolizumab, "
        "KEYNOTE-177: PFS 16.5 vs 8.2 months; nivolumab + ipilimumab, CheckMate 8HW: "
        "PFS HR 0.21); its neoadjuvant role is still under study.",
        {"mmr_status": "deficient", "immunotherapy_planned_or_given": False},
    )


@rule(
    "REGIMEN.IMMUNOTHERAPY_PMMR",
    Severity.WARNING,
    title="Checkpoint inhibitor in an MMR-proficient tumour",
    description="Immunotherapy is planned or given and MMR status is proficient (pMMR/MSS).",
    sources=("rev-nct-2020",),
)
def immunotherapy_pmmr(ctx: Context) -> Hit | None:
    if ctx.facts.mmr_status != "proficient" or not immunotherapy_planned_or_given(ctx):
        return None
    agents = []
    if ctx.plan.planned_immunotherapy is not None:
        agents.append(ctx.plan.planned_immunotherapy.value)
    agents += [d.agent.value for d in ctx.episode.immunotherapy]
    agents = list(dict.fromkeys(agents))
    return Hit(
        f"{_agents(agents)} is planned or given in an MMR-proficient tumour: checkpoint "
        "inhibitors have shown no substantial activity in pMMR colorectal cancer outside "
        "trials.",
        {"immunotherapy": agents, "mmr_status": "proficient"},
    )


@rule(
    "REGIMEN.IRINOTECAN_STEATOHEPATITIS",
    Severity.WARNING,
    title="Irinotecan before resection with a steatohepatitis risk",
    description="An irinotecan regimen (FOLFIRI, CAPIRI, FOLFOXIRI) is planned or given with "
    "curative intent and BMI > irinotecan_bmi or the liver background is steatosis "
    "or steatohepatitis.",
    sources=("rev-nct-2020", "guo-2021"),
    profile_keys=("irinotecan_bmi",),
)
def irinotecan_steatohepatitis(ctx: Context) -> Hit | None:
    if not ctx.curative:
        return None
    bmi = ctx.facts.bmi
    threshold = ctx.profile.irinotecan_bmi
    background = ctx.liver_background
    heavy = bmi is not None and bmi > threshold
    fatty = background in (LiverBackground.STEATOSIS.value, LiverBackground.STEATOHEPATITIS.value)
    if not heavy and not fatty:
        return None
    regimens = irinotecan_regimens(ctx)
    if not regimens:
        return None
    reason = f"BMI {num(bmi)} > {num(threshold)}" if heavy else f"a {background} liver"
    if heavy and fatty:
        reason += f" and a {background} liver"
    return Hit(
        f"{', '.join(regimens).upper()} is planned or given before a curative resection "
        f"with {reason}: irinotecan causes steatohepatitis (14.8 % vs 3.4 % with "
        "oxaliplatin; OR 10 with BMI > 25), linked to post-hepatectomy mortality; prefer "
        "an oxaliplatin backbone before resection.",
        {
            "irinotecan_regimens": regimens,
            "bmi": bmi,
            "irinotecan_bmi": threshold,
            "liver_background": background,
        },
    )


@rule(
    "REGIMEN.OXALIPLATIN_SOS",
    Severity.ADVICE,
    title="Oxaliplatin exposure: sinusoidal obstruction risk",
    description="Oxaliplatin cycles in the episode ≥ oxaliplatin_sos_cycles, with curative intent.",
    sources=("rev-nct-2020", "guo-2021"),
    profile_keys=("oxaliplatin_sos_cycles",),
)
def oxaliplatin_sos(ctx: Context) -> Hit | None:
    cycles = ctx.facts.chemotherapy.oxaliplatin_cycles
    threshold = ctx.profile.oxaliplatin_sos_cycles
    if cycles < threshold or not ctx.curative:
        return None
    apri = ctx.facts.apri
    apri_text = (
        f"APRI is {num(apri)} ({day(ctx.facts.apri_date)})"
        if apri is not None
        else "APRI is not known"
    )
    return Hit(
        f"{cycles} oxaliplatin cycles (≥ {threshold}) carry a risk of sinusoidal "
        f"obstruction syndrome: check platelets, spleen size and APRI before hepatectomy; "
        f"{apri_text}.",
        {
            "oxaliplatin_cycles": cycles,
            "oxaliplatin_sos_cycles": threshold,
            "apri": apri,
            "apri_date": ctx.facts.apri_date,
        },
    )


@rule(
    "REGIMEN.BRAF_V600E",
    Severity.ADVICE,
    title="BRAF V600E mutation",
    description="BRAF status is V600E.",
    sources=("rev-treat-2021", "guo-2021", "breakwater-2025"),
)
def braf_v600e(ctx: Context) -> Hit | None:
    if ctx.facts.braf_status != "v600e":
        return None
    return Hit(
        "BRAF V600E predicts early recurrence and short survival (10.4 vs 34.7 months): "
        "weigh this in the surgical decision; first-line options include encorafenib + "
        "cetuximab + mFOLFOX6 (BREAKWATER: OS 30.3 vs 15.1 months).",
        {"braf_status": "v600e"},
    )


RULES: tuple[Rule, ...] = (
    anti_egfr_ras_mutant,
    anti_egfr_braf_v600e,
    anti_egfr_untested,
    anti_egfr_right_sided,
    anti_egfr_resectable,
    immunotherapy_dmmr,
    immunotherapy_pmmr,
    irinotecan_steatohepatitis,
    oxaliplatin_sos,
    braf_v600e,
)
