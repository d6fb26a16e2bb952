"""Derived facts: everything the rules reason on, computed once from a case at a date.

`derive(case, as_of, profile)` ignores every record dated after `as_of`, finds the current
episode (it starts the day after the latest liver-clearing operation), and computes every
fact of guideline-rules.md: demographics, staging, molecular status, presentation,
imaging and lesion burden, CEA course, chemotherapy exposure, liver function, the future
liver remnant, portal vein embolisation, timing dates, scores, RECIST and morphologic
response.  A fact that cannot be computed is None (null), never 0.  Comparisons inside
facts use the rounded values that are shown, so every number can be checked by hand.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from dataclasses import field
from datetime import date, timedelta
from operator import attrgetter
from typing import Any, TypeVar

from crlmboard.domain.case import Case, ImagingTimepoint
from crlmboard.domain.engine import recist
from crlmboard.domain.engine.profile import Profile
from crlmboard.domain.engine.recist import RecistBaseline, RecistTimepoint
from crlmboard.domain.engine.scores import (
    Score,
    fong_crs,
    game_score,
    modified_clinical_score,
    tumor_burden_score,
    tumor_burden_zone,
)
from crlmboard.domain.models import (
    ANTI_EGFR_BIOLOGICS,
    IRINOTECAN_REGIMENS,
    LIVER_CLEARING_PROCEDURES,
    OXALIPLATIN_REGIMENS,
    RIGHT_SIDED_SITES,
    Biologic,
    BrafResult,
    ChemotherapyCycle,
    ExtrahepaticDisease,
    ImmunotherapyDose,
    LabResult,
    LesionMeasurement,
    LesionStatus,
    LiverBackground,
    MmrResult,
    MolecularProfile,
    MsiResult,
    NCategory,
    Patient,
    PrimaryTumour,
    Procedure,
    ProcedureType,
    RasResult,
    Regimen,
    SurgeryOutcome,
    SurgicalPlan,
    TreatmentSetting,
)
from crlmboard.frozen import frozen

DAYS_PER_MONTH = 30.4375
"""Months = days / 30.4375 (the spec's convention)."""
LEFT_LOBE_SEGMENTS = frozenset({2, 3, 4})
RIGHT_LOBE_SEGMENTS = frozenset({5, 6, 7, 8})
PREOPERATIVE_SETTINGS = frozenset(
    {TreatmentSetting.NEOADJUVANT, TreatmentSetting.CONVERSION, TreatmentSetting.PALLIATIVE}
)
LIVER_DIRECTED_PROCEDURES = frozenset(
    {
        ProcedureType.THERMAL_ABLATION,
        ProcedureType.TACE,
        ProcedureType.DEBIRI,
        ProcedureType.RADIOEMBOLIZATION,
        ProcedureType.HEPATECTOMY,
        ProcedureType.TWO_STAGE_FIRST,
        ProcedureType.TWO_STAGE_SECOND,
        ProcedureType.ALPPS_STAGE_1,
        ProcedureType.ALPPS_STAGE_2,
        ProcedureType.LIVER_TRANSPLANT,
    }
)
"""Procedures that end the RECIST assessment window (ablation, TACE/DEBIRI, SIRT, resection)."""
LESION_REMOVING_PROCEDURES = frozenset(
    {
        ProcedureType.THERMAL_ABLATION,
        ProcedureType.HEPATECTOMY,
        ProcedureType.TWO_STAGE_FIRST,
        ProcedureType.TWO_STAGE_SECOND,
        ProcedureType.ALPPS_STAGE_1,
        ProcedureType.ALPPS_STAGE_2,
        ProcedureType.LIVER_TRANSPLANT,
    }
)
"""Procedures that resect or ablate the lesions they name (disappearing-metastasis rule)."""
CAPECITABINE_REGIMENS = frozenset({Regimen.CAPOX, Regimen.CAPIRI, Regimen.CAPECITABINE})
"""Regimens with an oral capecitabine course (day 1 to day 14 of the cycle)."""

Dated = TypeVar(
    "Dated",
    ChemotherapyCycle,
    ImmunotherapyDose,
    Procedure,
    ImagingTimepoint,
    LabResult,
    SurgeryOutcome,
)


def months_between(start: date, end: date) -> float:
    """(end − start) in months of 30.4375 days, 1 decimal."""
    return round((end - start).days / DAYS_PER_MONTH, 1)


_DATE = attrgetter("date")


def _by_date(records: Iterable[Dated], as_of: date) -> list[Dated]:
    """Records dated on or before `as_of`, oldest first (same-day records keep file order)."""
    return sorted([r for r in records if r.date <= as_of], key=_DATE)


# --------------------------------------------------------------------------------------
# Fact records


@frozen
class ImagingRef:
    """Which imaging study a fact refers to."""

    date: date
    modality: str | None


@frozen
class ChemotherapyExposure:
    """Systemic therapy of the current episode."""

    preoperative_cycles: int
    preoperative_weeks: float | None
    oxaliplatin_cycles: int
    irinotecan_cycles: int
    first_cycle_date: date | None
    last_cycle_date: date | None
    last_drug_delivery_date: date | None
    """End of the last cycle's drug delivery: the cycle date, or for capecitabine-based
    regimens the last day of the oral course (capecitabine_course_days)."""
    last_bevacizumab_date: date | None
    anti_egfr_given: bool
    immunotherapy_given: bool
    on_treatment: bool
    last_systemic_date: date | None


@frozen
class FutureLiverRemnant:
    """Measured (or planned) FLR and the FLR the liver's condition requires."""

    measured_percent: float | None
    measured_source: str | None  # "imaging" | "plan"
    measured_date: date | None
    required_percent: int
    basis: str  # "cirrhosis" | "injured_liver" | "extensive_chemotherapy" | "normal"


@frozen
class PortalVeinEmbolisation:
    """Hypertrophy after the latest portal vein embolisation (Shindoh 2013)."""

    date: date
    flr_before_percent: float | None
    flr_before_date: datetime.date | None
    flr_after_percent: float | None
    flr_after_date: datetime.date | None
    degree_of_hypertrophy: float | None
    weeks: float | None
    kinetic_growth_rate: float | None


@frozen
class Episode:
    """The records a fact may use: dated ≤ as_of, and for the episode, after its start."""

    as_of: date
    start: date | None
    clearing_dates: tuple[date, ...]
    imaging: list[ImagingTimepoint]
    chemotherapy: list[ChemotherapyCycle]
    immunotherapy: list[ImmunotherapyDose]
    procedures: list[Procedure]
    cea_labs: list[LabResult]
    all_procedures: list[Procedure]
    all_labs: list[LabResult]
    outcomes: list[SurgeryOutcome]
    extrahepatic: list[ExtrahepaticDisease]
    molecular: MolecularProfile | None
    plan: SurgicalPlan
    patient: Patient
    primary: PrimaryTumour | None
    treatment_start: date | None
    """First systemic treatment of the episode, any setting but adjuvant."""
    baseline: ImagingTimepoint | None
    current: ImagingTimepoint | None
    recist_window: list[ImagingTimepoint]
    """Timepoints dated after the baseline's day, up to the day before the first liver-directed
    procedure (or liver resection outcome) on or after the baseline's date."""
    # derived once here, read by several facts and rules
    systemic_dates: list[date]
    """Dates of every systemic dose of the episode, oldest first."""
    biologics_given: tuple[Biologic, ...]
    """The biologics of the episode's cycles (`none` included), by date, no repeats."""
    current_lesions: list[LesionMeasurement]
    """`present_lesions` of the current imaging (none without imaging)."""
    flr_measures: list[ImagingTimepoint]
    """The episode's imaging with an FLR measure, oldest first."""

    @property
    def has_systemic_therapy(self) -> bool:
        return bool(self.chemotherapy or self.immunotherapy)

    def contains(self, when: date) -> bool:
        return self.start is None or when >= self.start


@frozen
class Facts:
    """Every fact of guideline-rules.md (None = not computable)."""

    episode_start: date | None
    previous_hepatectomies: int
    age_years: int | None
    bmi: float | None
    sidedness: str
    node_positive: bool | None
    ras_status: str
    braf_status: str
    mmr_status: str
    presentation: str
    disease_free_interval_months: float | None
    baseline_imaging: ImagingRef | None
    current_imaging: ImagingRef | None
    lesion_count: int | None
    largest_diameter_mm: float | None
    bilobar: bool | None
    tumor_burden_score: float | None
    tumor_burden_zone: str | None
    tumor_burden_score_baseline: float | None
    tumor_burden_zone_baseline: str | None
    cea_baseline: float | None
    cea_baseline_date: date | None
    cea_latest: float | None
    cea_latest_date: date | None
    cea_change_percent: float | None
    chemotherapy: ChemotherapyExposure
    extensive_chemotherapy: bool
    apri: float | None
    apri_date: date | None
    flr: FutureLiverRemnant
    pve: PortalVeinEmbolisation | None
    major_hepatectomy: bool | None
    earliest_safe_surgery_date: date | None
    next_restaging_due: date | None
    extrahepatic_sites: tuple[str, ...]
    fong_crs: Score
    game_score: Score
    modified_clinical_score: Score
    recist_baseline: RecistBaseline | None
    recist: list[RecistTimepoint] = field(default_factory=list)
    current_response: str | None = None
    best_response: str | None = None
    morphologic_response: str | None = None


# --------------------------------------------------------------------------------------
# Episode


def _clearing_dates(
    procedures: list[Procedure],
    outcomes: list[SurgeryOutcome],
) -> tuple[date, ...]:
    """Dates of liver-clearing operations, from procedures and surgery outcomes (≤ as_of)."""
    dates = {p.date for p in procedures if p.procedure in LIVER_CLEARING_PROCEDURES}
    dates |= {o.date for o in outcomes if o.procedure in LIVER_CLEARING_PROCEDURES}
    return tuple(sorted(dates))


def build_episode(case: Case, as_of: date) -> Episode:
    """Filter the case to `as_of` and find the current episode and its key timepoints."""
    cycles: list[ChemotherapyCycle] = []
    doses: list[ImmunotherapyDose] = []
    operations: list[Procedure] = []
    for treatment in case.treatments:  # as Case.chemotherapy etc., in one pass
        if isinstance(treatment, ChemotherapyCycle):
            cycles.append(treatment)
        elif isinstance(treatment, ImmunotherapyDose):
            doses.append(treatment)
        elif isinstance(treatment, Procedure):
            operations.append(treatment)
    all_procedures = _by_date(operations, as_of)
    outcomes = _by_date(case.surgery_outcomes, as_of)
    clearing = _clearing_dates(all_procedures, outcomes)
    start = clearing[-1] + timedelta(days=1) if clearing else None

    def in_episode(records: list[Dated]) -> list[Dated]:
        return records if start is None else [r for r in records if r.date >= start]

    imaging = in_episode(_by_date(case.imaging, as_of))
    chemotherapy = in_episode(_by_date(cycles, as_of))
    immunotherapy = in_episode(_by_date(doses, as_of))
    procedures = in_episode(all_procedures)
    all_labs = _by_date(case.labs, as_of)
    cea_labs = in_episode([lab for lab in all_labs if lab.cea_ng_ml is not None])
    molecular = case.molecular
    if molecular is not None and molecular.tested_on is not None and molecular.tested_on > as_of:
        molecular = None  # the results were not known yet
    extrahepatic = [
        e for e in case.extrahepatic_disease if e.detected_on is None or e.detected_on <= as_of
    ]

    starts = [c.date for c in chemotherapy if c.setting != TreatmentSetting.ADJUVANT]
    starts += [d.date for d in immunotherapy if d.setting != TreatmentSetting.ADJUVANT]
    treatment_start = min(starts) if starts else None

    baseline: ImagingTimepoint | None = None
    if treatment_start is not None:
        before = [t for t in imaging if t.date <= treatment_start]
        baseline = before[-1] if before else None
    if baseline is None and imaging:
        baseline = imaging[0]
    current = imaging[-1] if imaging else None

    window: list[ImagingTimepoint] = []
    if baseline is not None:
        # imaging on the day of a liver-directed procedure is peri-procedural: not assessed;
        # a resection recorded only as a surgery outcome is a liver-directed procedure too
        cutoffs = [
            p.date
            for p in procedures
            if p.procedure in LIVER_DIRECTED_PROCEDURES and p.date >= baseline.date
        ]
        cutoffs += [
            o.date
            for o in outcomes
            if o.procedure in LIVER_DIRECTED_PROCEDURES and o.date >= baseline.date
        ]
        cutoff = min(cutoffs) if cutoffs else None
        # "after the baseline": a second study on the baseline's own day is not a timepoint
        window = [
            t for t in imaging if t.date > baseline.date and (cutoff is None or t.date < cutoff)
        ]

    return Episode(
        as_of=as_of,
        start=start,
        clearing_dates=clearing,
        imaging=imaging,
        chemotherapy=chemotherapy,
        immunotherapy=immunotherapy,
        procedures=procedures,
        cea_labs=cea_labs,
        all_procedures=all_procedures,
        all_labs=all_labs,
        outcomes=outcomes,
        extrahepatic=extrahepatic,
        molecular=molecular,
        plan=case.plan or SurgicalPlan(),
        patient=case.patient,
        primary=case.primary,
        treatment_start=treatment_start,
        baseline=baseline,
        current=current,
        recist_window=window,
        systemic_dates=sorted([c.date for c in chemotherapy] + [d.date for d in immunotherapy]),
        biologics_given=tuple(dict.fromkeys([c.effective_biologic for c in chemotherapy])),
        current_lesions=[] if current is None else present_lesions(current),
        flr_measures=[t for t in imaging if t.flr_measure_percent is not None],
    )


# --------------------------------------------------------------------------------------
# Single facts


def _age(birth: date | None, as_of: date) -> int | None:
    if birth is None or birth > as_of:
        return None
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


def _bmi(height_cm: float | None, weight_kg: float | None) -> float | None:
    if height_cm is None or weight_kg is None:
        return None
    return round(weight_kg / (height_cm / 100) ** 2, 1)


def _ras(molecular: MolecularProfile | None) -> str:
    kras = molecular.kras if molecular else None
    nras = molecular.nras if molecular else None
    if RasResult.MUTANT in (kras, nras):
        return "mutant"
    if kras == RasResult.WILD_TYPE and nras == RasResult.WILD_TYPE:
        return "wild_type"
    return "unknown"


def _mmr(molecular: MolecularProfile | None) -> str:
    if molecular is None:
        return "unknown"
    if molecular.mmr == MmrResult.DEFICIENT or molecular.msi == MsiResult.MSI_HIGH:
        return "deficient"
    if molecular.mmr == MmrResult.PROFICIENT or molecular.msi in (MsiResult.MSS, MsiResult.MSI_LOW):
        return "proficient"
    return "unknown"


def _presentation(case: Case, as_of: date) -> tuple[str, float | None]:
    """Presentation and disease-free interval (months).

    The primary counts as unresected when its resection date is null (in situ, per the case
    format) or after `as_of`; without a primary record the presentation is unknown.
    """
    primary = case.primary
    if primary is None:
        return "unknown", None
    resection = primary.resection_date
    if resection is not None and resection > as_of:
        resection = None
    liver = case.liver_metastases_diagnosis_date
    if liver is not None and liver > as_of:
        liver = None
    if resection is None:
        return "synchronous", 0.0
    if liver is None:
        return "unknown", None
    if liver <= resection:
        return "synchronous", 0.0
    months = months_between(resection, liver)
    return ("early_metachronous" if months <= 12 else "late_metachronous"), months


def present_lesions(timepoint: ImagingTimepoint) -> list[LesionMeasurement]:
    """Lesions of a timepoint whose status is present (a recorded 0 mm is not present).

    The lesion rules (marking, ablation) read these: a present lesion may be at risk by its
    depth even when its diameter was not recorded.
    """
    return [
        lesion
        for lesion in timepoint.lesions
        if recist.effective_status(lesion) == LesionStatus.PRESENT
        and (lesion.longest_diameter_mm is None or lesion.longest_diameter_mm > 0)
    ]


def counted_lesions(timepoint: ImagingTimepoint) -> list[LesionMeasurement]:
    """The lesions of `lesion_count`: status present and diameter > 0 (an unmeasured lesion
    is not counted)."""
    return [
        lesion for lesion in present_lesions(timepoint) if lesion.longest_diameter_mm is not None
    ]


def _burden(
    timepoint: ImagingTimepoint | None,
    present: list[LesionMeasurement] | None = None,
) -> tuple[int | None, float | None, bool | None]:
    """(lesion_count, largest_diameter_mm, bilobar) at a timepoint.

    Count and largest use the counted lesions (present, diameter > 0).  `bilobar` is true iff
    present lesions lie in both segments 2–4 and segments 5–8; a lesion without a segment
    (or in segment 1) counts for neither lobe, so it is false otherwise, also with no present
    lesion.  All three are null only without imaging.  `present` is `present_lesions` of the
    timepoint when already known.
    """
    if timepoint is None:
        return None, None, None
    if present is None:
        present = present_lesions(timepoint)
    diameters = [
        lesion.longest_diameter_mm for lesion in present if lesion.longest_diameter_mm is not None
    ]  # the counted lesions' diameters
    largest = max(diameters) if diameters else None
    segments = {lesion.segment for lesion in present}
    bilobar = bool(segments & LEFT_LOBE_SEGMENTS) and bool(segments & RIGHT_LOBE_SEGMENTS)
    return len(diameters), largest, bilobar


def _cea(episode: Episode) -> tuple[LabResult | None, LabResult | None]:
    labs = episode.cea_labs
    if not labs:
        return None, None
    baseline = None
    if episode.treatment_start is not None:
        before = [lab for lab in labs if lab.date <= episode.treatment_start]
        baseline = before[-1] if before else None
    return baseline or labs[0], labs[-1]


def _chemotherapy(episode: Episode, profile: Profile) -> ChemotherapyExposure:
    cycles = episode.chemotherapy
    preoperative = [c for c in cycles if c.setting in PREOPERATIVE_SETTINGS]
    weeks = None
    if preoperative:
        span = (preoperative[-1].date - preoperative[0].date).days
        weeks = round((span + preoperative[-1].effective_cycle_length_days) / 7, 1)
    bevacizumab = [c.date for c in cycles if c.effective_biologic == Biologic.BEVACIZUMAB]
    systemic = episode.systemic_dates
    last_systemic = systemic[-1] if systemic else None
    window_start = episode.as_of - timedelta(days=profile.on_treatment_window_days)
    return ChemotherapyExposure(
        preoperative_cycles=len(preoperative),
        preoperative_weeks=weeks,
        oxaliplatin_cycles=sum(1 for c in cycles if c.regimen in OXALIPLATIN_REGIMENS),
        irinotecan_cycles=sum(1 for c in cycles if c.regimen in IRINOTECAN_REGIMENS),
        first_cycle_date=cycles[0].date if cycles else None,
        last_cycle_date=cycles[-1].date if cycles else None,
        last_drug_delivery_date=max((_delivery_end(c, profile) for c in cycles), default=None),
        last_bevacizumab_date=bevacizumab[-1] if bevacizumab else None,
        anti_egfr_given=any(c.effective_biologic in ANTI_EGFR_BIOLOGICS for c in cycles),
        immunotherapy_given=bool(episode.immunotherapy),
        on_treatment=last_systemic is not None and last_systemic >= window_start,
        last_systemic_date=last_systemic,
    )


def _delivery_end(cycle: ChemotherapyCycle, profile: Profile) -> date:
    """The last day a cycle delivers drug: capox, capiri and capecitabine run an oral course
    from day 1 to day `capecitabine_course_days`; infusional regimens end on the cycle date."""
    if cycle.regimen in CAPECITABINE_REGIMENS:
        return cycle.date + timedelta(days=profile.capecitabine_course_days - 1)
    return cycle.date


def _apri(labs: list[LabResult]) -> tuple[float | None, date | None]:
    complete = [
        lab
        for lab in labs
        if lab.ast_u_l is not None
        and lab.ast_uln_u_l is not None
        and lab.platelets_10e9_l is not None
    ]
    if not complete:
        return None, None
    lab = complete[-1]
    assert lab.ast_u_l is not None and lab.ast_uln_u_l is not None
    assert lab.platelets_10e9_l is not None
    if lab.platelets_10e9_l == 0 or lab.ast_uln_u_l == 0:
        return None, lab.date
    apri = round(lab.ast_u_l / lab.ast_uln_u_l / lab.platelets_10e9_l * 100, 2)
    if not math.isfinite(apri):  # a vanishing platelet count overflows: not computable
        return None, lab.date
    return apri, lab.date


def _flr(
    episode: Episode, background: LiverBackground | None, extensive: bool, profile: Profile
) -> FutureLiverRemnant:
    measured: float | None = None
    source: str | None = None
    when: date | None = None
    measures = episode.flr_measures
    if measures:
        measured, source, when = measures[-1].flr_measure_percent, "imaging", measures[-1].date
    elif episode.plan.planned_flr_percent is not None:
        measured, source = episode.plan.planned_flr_percent, "plan"
    if background == LiverBackground.CIRRHOSIS:
        required, basis = profile.flr_required_cirrhosis, "cirrhosis"
    elif background in (LiverBackground.STEATOSIS, LiverBackground.STEATOHEPATITIS):
        required, basis = profile.flr_required_injured, "injured_liver"
    elif extensive:
        required, basis = profile.flr_required_injured, "extensive_chemotherapy"
    else:
        required, basis = profile.flr_required_normal, "normal"
    return FutureLiverRemnant(measured, source, when, required, basis)


def _pve(episode: Episode) -> PortalVeinEmbolisation | None:
    embolisations = [
        p for p in episode.procedures if p.procedure == ProcedureType.PORTAL_VEIN_EMBOLIZATION
    ]
    if not embolisations:
        return None
    pve = embolisations[-1]
    measures = episode.flr_measures
    before = [t for t in measures if t.date <= pve.date]
    after = [t for t in measures if t.date > pve.date]
    b = before[-1] if before else None
    a = after[0] if after else None
    hypertrophy = weeks = rate = None
    if a is not None and b is not None:
        assert a.flr_measure_percent is not None and b.flr_measure_percent is not None
        hypertrophy = round(a.flr_measure_percent - b.flr_measure_percent, 1)
    if a is not None:
        # the rate divides the two shown values (hypertrophy, weeks to 1 decimal), so that a
        # reader can check it by hand; `after` is dated after the PVE, so weeks ≥ 0.1
        weeks = round((a.date - pve.date).days / 7, 1)
        if hypertrophy is not None:
            rate = round(hypertrophy / weeks, 2)
    return PortalVeinEmbolisation(
        date=pve.date,
        flr_before_percent=b.flr_measure_percent if b else None,
        flr_before_date=b.date if b else None,
        flr_after_percent=a.flr_measure_percent if a else None,
        flr_after_date=a.date if a else None,
        degree_of_hypertrophy=hypertrophy,
        weeks=weeks,
        kinetic_growth_rate=rate,
    )


def _morphologic(
    baseline: ImagingTimepoint | None,
    current: ImagingTimepoint | None,
) -> str | None:
    """Chun criteria over lesions graded at baseline and current; the least favourable wins."""
    if baseline is None or current is None or baseline is current:
        return None
    before = {
        lesion.id: lesion.morphology_group
        for lesion in baseline.lesions
        if lesion.morphology_group is not None
    }
    order = {"none": 0, "incomplete": 1, "optimal": 2}
    found: list[str] = []
    for lesion in current.lesions:
        start = before.get(lesion.id)
        end = lesion.morphology_group
        if start is None or end is None:
            continue
        if start in (2, 3) and end == 1:
            found.append("optimal")
        elif start == 3 and end == 2:
            found.append("incomplete")
        else:
            found.append("none")
    if not found:
        return None
    return min(found, key=lambda grade: order[grade])


def _restaging_due(episode: Episode, on_treatment: bool, profile: Profile) -> date | None:
    """(current imaging, or the first systemic dose if no imaging since it) + interval."""
    if not on_treatment:
        return None
    systemic = episode.systemic_dates
    first = systemic[0]
    reference = first
    if episode.current is not None and episode.current.date >= first:
        reference = episode.current.date
    return reference + timedelta(days=profile.restaging_interval_days)


def _earliest_safe(exposure: ChemotherapyExposure, profile: Profile) -> date | None:
    if exposure.last_drug_delivery_date is None:
        return None
    safe = exposure.last_drug_delivery_date + timedelta(days=profile.chemo_washout_days)
    if exposure.last_bevacizumab_date is not None:
        safe = max(
            safe, exposure.last_bevacizumab_date + timedelta(days=profile.bevacizumab_washout_days)
        )
    return safe


def _imaging_ref(timepoint: ImagingTimepoint | None) -> ImagingRef | None:
    if timepoint is None:
        return None
    modality = timepoint.modality.value if timepoint.modality is not None else None
    return ImagingRef(timepoint.date, modality)


# --------------------------------------------------------------------------------------
# All facts


def derive(case: Case, as_of: date, profile: Profile) -> tuple[Facts, Episode]:
    """Every fact of the case at `as_of`, and the episode records the rules also read."""
    episode = build_episode(case, as_of)
    patient = case.patient
    molecular = episode.molecular
    primary = case.primary

    site = primary.site if primary else None
    sidedness = "unknown" if site is None else ("right" if site in RIGHT_SIDED_SITES else "left")
    n = primary.n if primary else None
    node_positive = None if n in (None, NCategory.NX) else n != NCategory.N0
    braf = molecular.braf if molecular and molecular.braf else BrafResult.UNKNOWN
    presentation, dfi = _presentation(case, as_of)

    count, largest, bilobar = _burden(episode.current, episode.current_lesions)
    base_count, base_largest, _ = _burden(
        episode.baseline, episode.current_lesions if episode.baseline is episode.current else None
    )
    tbs = tumor_burden_score(largest, count)
    tbs_baseline = tumor_burden_score(base_largest, base_count)

    cea_base, cea_last = _cea(episode)
    cea_change = None
    if cea_base is not None and cea_last is not None:
        assert cea_base.cea_ng_ml is not None and cea_last.cea_ng_ml is not None
        if cea_base.cea_ng_ml > 0:
            cea_change = round(
                (cea_last.cea_ng_ml - cea_base.cea_ng_ml) / cea_base.cea_ng_ml * 100, 1
            )
            if not math.isfinite(cea_change):  # a vanishing baseline overflows
                cea_change = None

    exposure = _chemotherapy(episode, profile)
    extensive = exposure.preoperative_cycles > profile.prolonged_chemo_cycles or (
        exposure.preoperative_weeks is not None
        and exposure.preoperative_weeks > profile.prolonged_chemo_weeks
    )
    apri, apri_date = _apri(episode.all_labs)
    segments = episode.plan.segments_to_resect
    major = None if not segments else len(segments) >= profile.major_hepatectomy_segments
    sites = tuple(sorted({e.site.value for e in episode.extrahepatic}))
    ras = _ras(molecular)
    cea_latest = cea_last.cea_ng_ml if cea_last else None

    recist_baseline: RecistBaseline | None = None
    timepoints: list[RecistTimepoint] = []
    if episode.baseline is not None:
        recist_baseline, timepoints = recist.assess(episode.baseline, episode.recist_window)
    current_response = None
    if episode.current is not None:
        for timepoint, assessed in zip(episode.recist_window, timepoints, strict=True):
            if timepoint is episode.current:
                current_response = assessed.response

    facts = Facts(
        episode_start=episode.start,
        previous_hepatectomies=len(episode.clearing_dates),
        age_years=_age(patient.birth_date, as_of),
        bmi=_bmi(patient.height_cm, patient.weight_kg),
        sidedness=sidedness,
        node_positive=node_positive,
        ras_status=ras,
        braf_status=braf.value,
        mmr_status=_mmr(molecular),
        presentation=presentation,
        disease_free_interval_months=dfi,
        baseline_imaging=_imaging_ref(episode.baseline),
        current_imaging=_imaging_ref(episode.current),
        lesion_count=count,
        largest_diameter_mm=largest,
        bilobar=bilobar,
        tumor_burden_score=tbs,
        tumor_burden_zone=tumor_burden_zone(tbs),
        tumor_burden_score_baseline=tbs_baseline,
        tumor_burden_zone_baseline=tumor_burden_zone(tbs_baseline),
        cea_baseline=cea_base.cea_ng_ml if cea_base else None,
        cea_baseline_date=cea_base.date if cea_base else None,
        cea_latest=cea_latest,
        cea_latest_date=cea_last.date if cea_last else None,
        cea_change_percent=cea_change,
        chemotherapy=exposure,
        extensive_chemotherapy=extensive,
        apri=apri,
        apri_date=apri_date,
        flr=_flr(episode, patient.liver_background, extensive, profile),
        pve=_pve(episode),
        major_hepatectomy=major,
        earliest_safe_surgery_date=_earliest_safe(exposure, profile),
        next_restaging_due=_restaging_due(episode, exposure.on_treatment, profile),
        extrahepatic_sites=sites,
        fong_crs=fong_crs(
            node_positive=node_positive,
            disease_free_interval_months=dfi,
            lesion_count=count,
            largest_diameter_mm=largest,
            cea_latest=cea_latest,
            high_risk_from=profile.fong_high_risk,
        ),
        game_score=game_score(
            kras=molecular.kras.value if molecular and molecular.kras else None,
            cea_latest=cea_latest,
            node_positive=node_positive,
            tumor_burden=tbs,
            extrahepatic_disease=bool(sites),
        ),
        modified_clinical_score=modified_clinical_score(
            ras_status=ras,
            node_positive=node_positive,
            largest_diameter_mm=largest,
            lesion_count=count,
        ),
        recist_baseline=recist_baseline,
        recist=timepoints,
        current_response=current_response,
        best_response=recist.best_response(timepoints),
        morphologic_response=_morphologic(episode.baseline, episode.current),
    )
    return facts, episode


# --------------------------------------------------------------------------------------
# JSON


def plain(value: Any) -> Any:
    """JSON-ready value: dates ISO, integral floats as ints, dataclasses as sorted dicts."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)  # a StrEnum becomes its plain value
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: plain(getattr(value, name)) for name in value.__dataclass_fields__}
    raise TypeError(f"not JSON-ready: {type(value).__name__}")


def facts_to_dict(facts: Facts) -> dict[str, Any]:
    """The `facts` object of `crlmboard.evaluation/1` (every fact, null when unknown)."""
    out: dict[str, Any] = plain(facts)
    if facts.recist_baseline is not None:
        out["recist_baseline"]["measurable"] = facts.recist_baseline.measurable
    return out
