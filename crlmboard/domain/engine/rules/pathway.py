"""PATHWAY rules: which road the board should consider (upfront, perioperative, conversion,
sequence, ablation, transplantation, repeat resection, extrahepatic disease).
"""

from __future__ import annotations

from typing import Any

from crlmboard.domain.engine.facts import months_between
from crlmboard.domain.engine.recist import NON_PROGRESSION
from crlmboard.domain.engine.rules import Context, Hit, Rule, Severity, num, rule, words
from crlmboard.domain.models import (
    ExtrahepaticSite,
    Resectability,
    Sequence,
    Strategy,
    TreatmentSetting,
)

RESECTABLE = Resectability.RESECTABLE
NOT_YET_RESECTABLE = (Resectability.BORDERLINE, Resectability.UNRESECTABLE)
REGIONAL_NODES = (
    ExtrahepaticSite.HEPATIC_PEDICLE_NODES.value,
    ExtrahepaticSite.PORTOCAVAL_NODES.value,
)
DISTANT_NODES = (ExtrahepaticSite.CELIAC_NODES.value, ExtrahepaticSite.PARA_AORTIC_NODES.value)
UNCONTROLLABLE_SITES = (ExtrahepaticSite.BONE, ExtrahepaticSite.BRAIN)
"""Extrahepatic sites that a curative liver resection cannot count as controllable."""
COLLISION_MAX_LESIONS = 10
"""COLLISION (collision-2025) enrolled patients with at most 10 lesions, all ≤ 3 cm: a trial's
population definition (like RECIST's cut-offs), not an institution threshold."""
RESECTION_STRATEGIES = frozenset(
    {
        Strategy.UPFRONT_RESECTION,
        Strategy.PERIOPERATIVE_CHEMOTHERAPY,
        Strategy.TWO_STAGE_HEPATECTOMY,
        Strategy.ALPPS,
        Strategy.RESECTION_PLUS_ABLATION,
    }
)
"""Plan strategies that include a liver resection."""


def _primary_unresected(ctx: Context) -> bool:
    primary = ctx.episode.primary
    return primary is not None and (
        primary.resection_date is None or primary.resection_date > ctx.as_of
    )


@rule(
    "PATHWAY.UPFRONT_RESECTION",
    Severity.ADVICE,
    title="Upfront resection is the guideline option",
    description="Resectable, curative intent, no systemic therapy in the episode, lesion "
    "count ≤ upfront_max_lesions, not bilobar, Fong score known and < "
    "fong_high_risk, no extrahepatic disease.",
    sources=("guo-2021", "rev-nct-2020", "eortc-40983"),
    profile_keys=("upfront_max_lesions", "fong_high_risk"),
)
def upfront_resection(ctx: Context) -> Hit | None:
    f = ctx.facts
    limit = ctx.profile.upfront_max_lesions
    high = ctx.profile.fong_high_risk
    fong = f.fong_crs.score
    if (
        ctx.plan.resectability != RESECTABLE
        or not ctx.curative
        or ctx.episode.has_systemic_therapy
        or f.lesion_count is None
        or f.lesion_count > limit
        or f.bilobar is not False
        or fong is None
        or fong >= high
        or f.extrahepatic_sites
    ):
        return None
    return Hit(
        f"Resectable liver-only disease with {f.lesion_count} lesion(s) (≤ {limit}), "
        f"unilobar, Fong score {fong} (< {high}): guidelines prefer upfront resection; "
        "perioperative FOLFOX/CAPOX is optional (EORTC 40983: 3-year PFS 33.2 → 42.4 %, "
        "no OS difference).",
        {
            "lesion_count": f.lesion_count,
            "upfront_max_lesions": limit,
            "bilobar": False,
            "fong_crs": fong,
            "fong_high_risk": high,
            "extrahepatic_sites": [],
        },
    )


@rule(
    "PATHWAY.PERIOPERATIVE_CHEMOTHERAPY",
    Severity.ADVICE,
    title="Perioperative chemotherapy to consider",
    description="Resectable, curative intent, no systemic therapy in the episode, and any "
    "of: lesion count > upfront_max_lesions, bilobar, Fong score ≥ "
    "fong_high_risk, synchronous presentation, hepatic pedicle or portocaval "
    "node disease.",
    sources=("rev-nct-2020", "guo-2021"),
    profile_keys=("upfront_max_lesions", "fong_high_risk"),
)
def perioperative_chemotherapy(ctx: Context) -> Hit | None:
    f = ctx.facts
    if ctx.plan.resectability != RESECTABLE or not ctx.curative or ctx.episode.has_systemic_therapy:
        return None
    limit = ctx.profile.upfront_max_lesions
    high = ctx.profile.fong_high_risk
    reasons: list[str] = []
    if f.lesion_count is not None and f.lesion_count > limit:
        reasons.append(f"{f.lesion_count} lesions (> {limit})")
    if f.bilobar is True:
        reasons.append("bilobar disease")
    if f.fong_crs.score is not None and f.fong_crs.score >= high:
        reasons.append(f"Fong score {f.fong_crs.score} (≥ {high})")
    if f.presentation == "synchronous":
        reasons.append("synchronous presentation")
    nodes = [site for site in f.extrahepatic_sites if site in REGIONAL_NODES]
    if nodes:
        reasons.append(words([site.replace("_", " ") for site in nodes]))
    if not reasons:
        return None
    return Hit(
        f"Resectable disease with {words(reasons)}: consider 2–3 months (≈ 6 cycles "
        "FOLFOX or 4 CAPOX) before resection, restage, then resect; avoid anti-EGFR "
        "agents in this setting.",
        {
            "lesion_count": f.lesion_count,
            "upfront_max_lesions": limit,
            "bilobar": f.bilobar,
            "fong_crs": f.fong_crs.score,
            "fong_high_risk": high,
            "presentation": f.presentation,
            "regional_nodes": nodes,
        },
    )


@rule(
    "PATHWAY.CONVERSION_CHEMOTHERAPY",
    Severity.ADVICE,
    title="Conversion chemotherapy options",
    description="Borderline or unresectable, curative intent, no systemic therapy in the "
    "episode; lists the eligible regimens (FOLFOXIRI up to folfoxiri_max_ecog and "
    "below folfoxiri_max_age).",
    sources=("rev-nct-2020", "guo-2021", "wjg-2014"),
    profile_keys=("folfoxiri_max_ecog", "folfoxiri_max_age"),
)
def conversion_chemotherapy(ctx: Context) -> Hit | None:
    f = ctx.facts
    if (
        ctx.plan.resectability not in NOT_YET_RESECTABLE
        or not ctx.curative
        or ctx.episode.has_systemic_therapy
    ):
        return None
    max_ecog = ctx.profile.folfoxiri_max_ecog
    max_age = ctx.profile.folfoxiri_max_age
    ecog = ctx.episode.patient.ecog
    options = ["doublet (FOLFOX, CAPOX or FOLFIRI)"]
    if ecog is not None and f.age_years is not None:
        if ecog <= max_ecog and f.age_years < max_age:
            options.append(f"FOLFOXIRI (ECOG {ecog}, age {f.age_years})")
    else:
        options.append(
            f"FOLFOXIRI if ECOG ≤ {max_ecog} and age < {max_age} "
            f"(ECOG {num(ecog)}, age {num(f.age_years)})"
        )
    if f.ras_status == "wild_type" and f.braf_status == "wild_type" and f.sidedness == "left":
        options.append("+ anti-EGFR (RAS and BRAF wild type, left-sided)")
    else:
        options.append("+ bevacizumab")
    if f.mmr_status == "deficient":
        options.append("immunotherapy (dMMR/MSI-H)")
    resectability = ctx.plan.resectability.value if ctx.plan.resectability else None
    return Hit(
        f"{str(resectability).capitalize()} disease before any systemic therapy: use the "
        f"most active regimen tolerated — {'; '.join(options)}; reassess resectability "
        "every 2 months and resect as soon as resectable.",
        {
            "resectability": resectability,
            "options": options,
            "ecog": ecog,
            "folfoxiri_max_ecog": max_ecog,
            "age_years": f.age_years,
            "folfoxiri_max_age": max_age,
            "ras_status": f.ras_status,
            "braf_status": f.braf_status,
            "sidedness": f.sidedness,
            "mmr_status": f.mmr_status,
        },
    )


@rule(
    "PATHWAY.SYNCHRONOUS_SEQUENCE",
    Severity.ADVICE,
    title="Sequence of primary and liver surgery to decide",
    description="Synchronous presentation, primary unresected, curative intent, and no "
    "sequence chosen (plan.sequence absent or not_applicable).",
    sources=("rev-treat-2021", "wjg-2014"),
)
def synchronous_sequence(ctx: Context) -> Hit | None:
    if (
        ctx.facts.presentation != "synchronous"
        or not _primary_unresected(ctx)
        or not ctx.curative
        or ctx.plan.sequence not in (None, Sequence.NOT_APPLICABLE)
    ):
        return None
    sequence = ctx.plan.sequence.value if ctx.plan.sequence else None
    return Hit(
        "Synchronous liver metastases with the primary in situ and no sequence chosen: "
        "decide between simultaneous resection (with a minor hepatectomy), colon-first "
        "or liver-first.",
        {"presentation": "synchronous", "primary_resected": False, "sequence": sequence},
    )


@rule(
    "PATHWAY.SIMULTANEOUS_MAJOR_HEPATECTOMY",
    Severity.WARNING,
    title="Simultaneous colorectal and major liver resection",
    description="plan.sequence is simultaneous and the planned hepatectomy is major "
    "(segments ≥ major_hepatectomy_segments).",
    sources=("wjg-2014",),
    profile_keys=("major_hepatectomy_segments",),
)
def simultaneous_major_hepatectomy(ctx: Context) -> Hit | None:
    if ctx.plan.sequence != Sequence.SIMULTANEOUS or ctx.facts.major_hepatectomy is not True:
        return None
    segments = len(ctx.plan.segments_to_resect or [])
    threshold = ctx.profile.major_hepatectomy_segments
    return Hit(
        f"A simultaneous colorectal and {segments}-segment (major, ≥ {threshold}) liver "
        "resection is planned: operative mortality up to 17 % has been reported; a "
        "staged approach is safer.",
        {
            "sequence": "simultaneous",
            "segments_to_resect": segments,
            "major_hepatectomy_segments": threshold,
        },
    )


@rule(
    "PATHWAY.ABLATION_OPTION",
    Severity.ADVICE,
    title="Thermal ablation as an option",
    description="Curative intent, no extrahepatic disease, a present lesion ≤ ablation_max_mm, "
    "and the disease is borderline/unresectable, or the plan is a major hepatectomy, or every "
    "present lesion is ≤ ablation_max_mm with at most 10 lesions (the COLLISION population).",
    sources=("rev-treat-2021", "wjg-2014", "collision-2025"),
    profile_keys=("ablation_max_mm", "major_hepatectomy_segments"),
)
def ablation_option(ctx: Context) -> Hit | None:
    current = ctx.episode.current
    limit = ctx.profile.ablation_max_mm
    if current is None or not ctx.curative or ctx.facts.extrahepatic_sites:
        return None
    present = ctx.episode.current_lesions
    small = {
        lesion.id: lesion.longest_diameter_mm
        for lesion in present
        if lesion.longest_diameter_mm is not None and lesion.longest_diameter_mm <= limit
    }
    hard = ctx.plan.resectability in NOT_YET_RESECTABLE
    major = ctx.facts.major_hepatectomy is True
    count = ctx.facts.lesion_count
    collision = len(small) == len(present) and count is not None and count <= COLLISION_MAX_LESIONS
    if not small or not (hard or major or collision):
        return None
    listed = words([f"{lesion_id} {num(size)} mm" for lesion_id, size in small.items()])
    if hard and ctx.plan.resectability:
        context = f"With {ctx.plan.resectability.value} disease"
    elif major:
        context = "With a planned major hepatectomy"
    else:
        context = (
            f"With {count} lesion(s), all ≤ {limit} mm (the COLLISION population: "
            f"≤ {COLLISION_MAX_LESIONS} lesions ≤ 3 cm)"
        )
    return Hit(
        f"{context}, lesion(s) ≤ {limit} mm ({listed}) could be ablated, alone or with "
        "resection, to spare parenchyma; outcomes are best below 25 mm.",
        {
            "lesions_mm": small,
            "ablation_max_mm": limit,
            "resectability": ctx.plan.resectability.value if ctx.plan.resectability else None,
            "major_hepatectomy": ctx.facts.major_hepatectomy,
            "lesion_count": count,
            "all_lesions_within_limit": len(small) == len(present),
            "collision_max_lesions": COLLISION_MAX_LESIONS,
        },
    )


def oslo_score(ctx: Context) -> dict[str, Any]:
    """Oslo score (largest, CEA, interval since primary resection, PD) with its points."""
    f = ctx.facts
    p = ctx.profile
    points: dict[str, int] = {}
    missing: list[str] = []
    if f.lesion_count == 0:
        points["largest_over_limit"] = 0
    elif f.largest_diameter_mm is None:
        missing.append("largest_diameter_mm")
    else:
        points["largest_over_limit"] = int(f.largest_diameter_mm > p.oslo_largest_mm)
    if f.cea_latest is None:
        missing.append("cea_latest")
    else:
        points["cea_over_limit"] = int(f.cea_latest > p.oslo_cea)
    primary = ctx.episode.primary
    interval = None
    if primary is not None and primary.resection_date is not None:
        interval = months_between(primary.resection_date, ctx.as_of)
        points["interval_under_limit"] = int(interval < p.oslo_interval_months)
    else:
        missing.append("primary_resection_date")
    if f.current_response is None:
        missing.append("current_response")
    else:
        points["progression_on_chemotherapy"] = int(f.current_response == "PD")
    return {
        "score": None if missing else sum(points.values()),
        "points": points,
        "missing": missing,
        "months_since_primary_resection": interval,
    }


@rule(
    "PATHWAY.TRANSPLANT_REFERRAL",
    Severity.ADVICE,
    title="Liver transplantation to consider",
    description="Unresectable, no extrahepatic disease, primary resected, ECOG ≤ "
    "transplant_max_ecog, BRAF not V600E, ≥ transplant_min_systemic_weeks of "
    "systemic therapy, current response documented as CR, PR, SD or NN; shows the Oslo "
    "score (largest > oslo_largest_mm, CEA > oslo_cea, < oslo_interval_months from "
    "primary resection, PD).",
    sources=("rev-treat-2021", "transmet-2024"),
    profile_keys=(
        "transplant_max_ecog",
        "transplant_min_systemic_weeks",
        "oslo_largest_mm",
        "oslo_cea",
        "oslo_interval_months",
    ),
)
def transplant_referral(ctx: Context) -> Hit | None:
    f = ctx.facts
    p = ctx.profile
    ecog = ctx.episode.patient.ecog
    primary = ctx.episode.primary
    weeks = f.chemotherapy.preoperative_weeks
    if (
        ctx.plan.resectability != Resectability.UNRESECTABLE
        or f.extrahepatic_sites
        or primary is None
        or _primary_unresected(ctx)
        or ecog is None
        or ecog > p.transplant_max_ecog
        or f.braf_status == "v600e"
        or weeks is None
        or weeks < p.transplant_min_systemic_weeks
        or f.current_response not in NON_PROGRESSION
    ):
        return None  # SECA-II and TRANSMET required response or stability on chemotherapy
    oslo = oslo_score(ctx)
    oslo_text = (
        f"Oslo score {oslo['score']}"
        if oslo["score"] is not None
        else f"Oslo score incomplete (missing {words(oslo['missing'])})"
    )
    return Hit(
        f"Unresectable liver-only disease after {num(weeks)} weeks of systemic therapy "
        f"(≥ {p.transplant_min_systemic_weeks}), ECOG {ecog}, response "
        f"{f.current_response}: liver transplantation can be considered "
        f"(SECA-I 5-year OS 60 %; TRANSMET 57 % vs 13 % with chemotherapy alone); "
        f"{oslo_text}.",
        {
            "preoperative_weeks": weeks,
            "transplant_min_systemic_weeks": p.transplant_min_systemic_weeks,
            "ecog": ecog,
            "transplant_max_ecog": p.transplant_max_ecog,
            "braf_status": f.braf_status,
            "current_response": f.current_response,
            "oslo_score": oslo["score"],
            "oslo_points": oslo["points"],
            "oslo_missing": oslo["missing"],
            "months_since_primary_resection": oslo["months_since_primary_resection"],
            "largest_diameter_mm": f.largest_diameter_mm,
            "cea_latest": f.cea_latest,
            "oslo_largest_mm": p.oslo_largest_mm,
            "oslo_cea": p.oslo_cea,
            "oslo_interval_months": p.oslo_interval_months,
        },
    )


@rule(
    "PATHWAY.REPEAT_HEPATECTOMY",
    Severity.ADVICE,
    title="Repeat hepatectomy for intrahepatic recurrence",
    description="At least one previous liver-clearing operation, at least one present lesion, "
    "and the disease is resectable or borderline.",
    sources=("wjg-2014", "rev-treat-2021"),
)
def repeat_hepatectomy(ctx: Context) -> Hit | None:
    f = ctx.facts
    if (
        f.previous_hepatectomies < 1
        or f.lesion_count is None
        or f.lesion_count < 1
        or ctx.plan.resectability not in (Resectability.RESECTABLE, Resectability.BORDERLINE)
    ):
        return None
    assert ctx.plan.resectability is not None
    return Hit(
        f"{f.lesion_count} lesion(s) after {f.previous_hepatectomies} previous "
        f"liver-clearing operation(s), judged {ctx.plan.resectability.value}: repeat "
        "hepatectomy for intrahepatic recurrence gives survival comparable to the first "
        "resection.",
        {
            "previous_hepatectomies": f.previous_hepatectomies,
            "lesion_count": f.lesion_count,
            "resectability": ctx.plan.resectability.value,
        },
    )


@rule(
    "PATHWAY.EXTRAHEPATIC_MULTIPLE_SITES",
    Severity.WARNING,
    title="Extrahepatic disease at more than one site",
    description="Curative intent and extrahepatic disease at two or more distinct sites.",
    sources=("wjg-2014",),
)
def extrahepatic_multiple_sites(ctx: Context) -> Hit | None:
    sites = list(ctx.facts.extrahepatic_sites)
    if not ctx.curative or len(sites) < 2:
        return None
    return Hit(
        f"Extrahepatic disease at {len(sites)} sites "
        f"({words([s.replace('_', ' ') for s in sites])}) with curative intent: resection "
        "of CRLM with more than one extrahepatic site has shown no benefit.",
        {"extrahepatic_sites": sites, "site_count": len(sites)},
    )


@rule(
    "PATHWAY.EXTRAHEPATIC_DISTANT_NODES",
    Severity.WARNING,
    title="Celiac or para-aortic node disease",
    description="Curative intent and celiac or para-aortic node disease.",
    sources=("wjg-2014",),
)
def extrahepatic_distant_nodes(ctx: Context) -> Hit | None:
    nodes = [s for s in ctx.facts.extrahepatic_sites if s in DISTANT_NODES]
    if not ctx.curative or not nodes:
        return None
    return Hit(
        f"{words([s.replace('_', ' ') for s in nodes]).capitalize()} with curative intent: "
        "there were no 5-year survivors with celiac/para-aortic nodes vs 25–27 % with "
        "hepatic pedicle/portocaval nodes.",
        {"distant_nodes": nodes},
    )


@rule(
    "PATHWAY.PERITONEAL_LIVER_LIMIT",
    Severity.WARNING,
    title="Peritoneal disease with too many liver lesions",
    description="Curative intent, peritoneal metastases, and lesion count > "
    "peritoneal_max_liver_lesions.",
    sources=("wjg-2014",),
    profile_keys=("peritoneal_max_liver_lesions",),
)
def peritoneal_liver_limit(ctx: Context) -> Hit | None:
    f = ctx.facts
    limit = ctx.profile.peritoneal_max_liver_lesions
    if (
        not ctx.curative
        or ExtrahepaticSite.PERITONEUM.value not in f.extrahepatic_sites
        or f.lesion_count is None
        or f.lesion_count <= limit
    ):
        return None
    return Hit(
        f"Peritoneal metastases with {f.lesion_count} liver lesions (> {limit}): consensus "
        f"limits resection to ≤ {limit} easily resectable liver lesions when the peritoneum "
        "is involved.",
        {
            "lesion_count": f.lesion_count,
            "peritoneal_max_liver_lesions": limit,
            "extrahepatic_sites": list(f.extrahepatic_sites),
        },
    )


@rule(
    "PATHWAY.EXTRAHEPATIC_UNRESECTABLE",
    Severity.WARNING,
    title="Extrahepatic disease that cannot be resected or controlled",
    description="Curative intent and an extrahepatic site recorded as not resectable, or in "
    "bone or brain.",
    sources=("wjg-2014", "guo-2021"),
)
def extrahepatic_unresectable(ctx: Context) -> Hit | None:
    if not ctx.curative:
        return None
    sites = sorted(
        {
            e.site.value
            for e in ctx.episode.extrahepatic
            if e.resectable is False or e.site in UNCONTROLLABLE_SITES
        }
    )
    if not sites:
        return None
    return Hit(
        f"Extrahepatic disease that is not resectable or controllable "
        f"({words([s.replace('_', ' ') for s in sites])}) with curative intent: a curative "
        "liver resection requires all extrahepatic disease to be resectable or controllable "
        "(JSCCR criteria; EORTC 40983 excluded extrahepatic disease).",
        {"sites": sites},
    )


@rule(
    "PATHWAY.REASSESS_RESECTABILITY",
    Severity.ADVICE,
    title="Responding to conversion therapy: reassess resectability",
    description="Borderline or unresectable, curative intent, at least one chemotherapy cycle "
    "in the conversion or neoadjuvant setting in the episode, and current response CR or PR.",
    sources=("guo-2021", "rev-nct-2020", "wjg-2014", "nccn-colon"),
)
def reassess_resectability(ctx: Context) -> Hit | None:
    f = ctx.facts
    cycles = sum(
        1
        for c in ctx.episode.chemotherapy
        if c.setting in (TreatmentSetting.CONVERSION, TreatmentSetting.NEOADJUVANT)
    )
    if (
        ctx.plan.resectability not in NOT_YET_RESECTABLE
        or not ctx.curative
        or cycles < 1
        or f.current_response not in ("CR", "PR")
    ):
        return None
    assert ctx.plan.resectability is not None
    when = f.current_imaging.date if f.current_imaging else None
    return Hit(
        f"{ctx.plan.resectability.value.capitalize()} disease with response "
        f"{f.current_response} ({when.isoformat() if when else 'unknown'}) after {cycles} "
        "conversion/neoadjuvant cycle(s): re-present it to the liver surgeons now and resect "
        "as soon as it is resectable (re-evaluate every 2 months; operate between maximum "
        "response and progression).",
        {
            "resectability": ctx.plan.resectability.value,
            "current_response": f.current_response,
            "conversion_cycles": cycles,
            "imaging_date": when,
        },
    )


@rule(
    "PATHWAY.FITNESS_FOR_SURGERY",
    Severity.WARNING,
    title="Fitness for hepatectomy to assess",
    description="Curative intent, a resection planned (segments to resect, or strategy upfront "
    "resection, perioperative chemotherapy, two-stage hepatectomy, ALPPS or resection plus "
    "ablation), and ECOG ≥ surgery_fitness_ecog or age ≥ surgery_fitness_age.",
    sources=("rev-nct-2020", "wjg-2014", "rev-treat-2021"),
    profile_keys=("surgery_fitness_ecog", "surgery_fitness_age"),
)
def fitness_for_surgery(ctx: Context) -> Hit | None:
    p = ctx.profile
    ecog = ctx.episode.patient.ecog
    age = ctx.facts.age_years
    planned = bool(ctx.plan.segments_to_resect) or ctx.plan.strategy in RESECTION_STRATEGIES
    reasons = []
    if ecog is not None and ecog >= p.surgery_fitness_ecog:
        reasons.append(f"ECOG {ecog} (≥ {p.surgery_fitness_ecog})")
    if age is not None and age >= p.surgery_fitness_age:
        reasons.append(f"age {age} (≥ {p.surgery_fitness_age})")
    if not ctx.curative or not planned or not reasons:
        return None
    return Hit(
        f"A liver resection is planned with {words(reasons)}: assess fitness for hepatectomy "
        "(performance status, comorbidity, age) before planning; for a patient unfit for "
        "resection, thermal ablation and systemic therapy are the alternatives.",
        {
            "ecog": ecog,
            "surgery_fitness_ecog": p.surgery_fitness_ecog,
            "age_years": age,
            "surgery_fitness_age": p.surgery_fitness_age,
            "strategy": ctx.plan.strategy.value if ctx.plan.strategy else None,
            "segments_to_resect": len(ctx.plan.segments_to_resect or []),
        },
    )


@rule(
    "PATHWAY.REGIONAL_THERAPY_OPTION",
    Severity.ADVICE,
    title="Liver-directed regional therapy as an option",
    description="Unresectable, no extrahepatic disease, and progression (PD) on systemic "
    "therapy in the episode or chemotherapy of two or more regimens in the episode.",
    sources=("guo-2021", "rev-treat-2021", "wjg-2014"),
)
def regional_therapy_option(ctx: Context) -> Hit | None:
    f = ctx.facts
    if ctx.plan.resectability != Resectability.UNRESECTABLE or f.extrahepatic_sites:
        return None
    regimens = list(dict.fromkeys(c.regimen.value for c in ctx.episode.chemotherapy))
    progression = f.current_response == "PD" and ctx.episode.has_systemic_therapy
    if not progression and len(regimens) < 2:
        return None
    reasons = []
    if progression:
        reasons.append("progression on systemic therapy")
    if len(regimens) >= 2:
        reasons.append(f"{len(regimens)} chemotherapy regimens ({', '.join(regimens)})")
    return Hit(
        f"Unresectable liver-only disease with {words(reasons)}: hepatic arterial infusion or "
        "DEBIRI in an experienced centre can convert about 30 % to resection.",
        {
            "resectability": "unresectable",
            "current_response": f.current_response,
            "regimens": regimens,
            "regimen_count": len(regimens),
        },
    )


RULES: tuple[Rule, ...] = (
    upfront_resection,
    perioperative_chemotherapy,
    conversion_chemotherapy,
    synchronous_sequence,
    simultaneous_major_hepatectomy,
    ablation_option,
    transplant_referral,
    repeat_hepatectomy,
    extrahepatic_multiple_sites,
    extrahepatic_distant_nodes,
    peritoneal_liver_limit,
    extrahepatic_unresectable,
    reassess_resectability,
    fitness_for_surgery,
    regional_therapy_option,
)
