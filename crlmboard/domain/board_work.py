"""What a meeting needs besides its records: the readiness check of an agenda case, the
quorum of core roles, the follow-up worklist and the board figures of a period.

Pure functions over domain objects and evaluation documents; the date is always passed in.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crlmboard.domain.case import Case
from crlmboard.domain.meeting import Review
from crlmboard.domain.models import Attendee, FollowUpStatus, Role

# Findings that make a case not ready for the board, with what the coordinator should do.
READINESS_FINDINGS: dict[str, str] = {
    "DATA.MOLECULAR_INCOMPLETE": "molecular profile incomplete: request RAS, BRAF and MMR/MSI",
    "TIMING.RESTAGING_OVERDUE": "restaging imaging overdue",
    "DATA.FLR_NOT_MEASURED": "no FLR volumetry before a major hepatectomy",
    "DATA.NO_IMAGING": "no imaging in the current episode",
    "DATA.NO_BASELINE_IMAGING": "no imaging before the start of systemic therapy",
    "DATA.SCORE_INCOMPLETE": "risk scores incomplete",
}


@dataclass(frozen=True)
class ReadinessItem:
    """One thing missing or outdated for a case on the agenda."""

    code: str
    message: str


def readiness(evaluation: dict[str, Any]) -> list[ReadinessItem]:
    """What is missing or outdated for a case, from its evaluation as of the meeting date:
    the DATA.* findings, overdue restaging, and imaging older than the last cycles."""
    items: list[ReadinessItem] = []
    for finding in evaluation.get("findings", []):
        rule = str(finding.get("rule", ""))
        if rule in READINESS_FINDINGS or rule.startswith("DATA."):
            text = READINESS_FINDINGS.get(rule, str(finding.get("title", rule)))
            items.append(ReadinessItem(rule, f"{text} — {finding.get('message', '')}".strip()))
    facts = evaluation.get("facts", {})
    last_cycle = (facts.get("chemotherapy") or {}).get("last_cycle_date")
    current = (
        (facts.get("current_imaging") or {}).get("date")
        if isinstance(facts.get("current_imaging"), dict)
        else facts.get("current_imaging")
    )
    if last_cycle and (current is None or str(current) < str(last_cycle)):
        since = f"latest imaging {current}" if current else "no imaging"
        items.append(
            ReadinessItem(
                "IMAGING_BEFORE_LAST_CYCLE",
                f"no imaging since the last chemotherapy cycle ({last_cycle}; {since})",
            )
        )
    return items


@dataclass(frozen=True)
class Quorum:
    """Which core roles a meeting has and lacks."""

    present: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def quorum(attendees: Iterable[Attendee], core_roles: Sequence[str]) -> Quorum:
    """The core roles present among the attendees, and those missing."""
    roles = {str(a.role.value if isinstance(a.role, Role) else a.role) for a in attendees}
    return Quorum(
        tuple(r for r in core_roles if r in roles), tuple(r for r in core_roles if r not in roles)
    )


@dataclass(frozen=True)
class OverdueFollowUp:
    """A signed recommendation whose actions are due and whose follow-up is still open."""

    mrn: str
    review_index: int
    meeting_date: date
    recommendation: str | None
    due: date


def overdue_follow_ups(cases: Iterable[Case], today: date) -> list[OverdueFollowUp]:
    """Signed reviews with no follow-up (or pending) past their actions' due dates."""
    worklist: list[OverdueFollowUp] = []
    for case in cases:
        amended = {r.amends for r in case.reviews if r.amends is not None}
        for index, review in enumerate(case.reviews):
            if not review.signed or index in amended:
                continue
            status = review.follow_up.status if review.follow_up else FollowUpStatus.PENDING
            if status != FollowUpStatus.PENDING:
                continue
            dues = [a.due for a in review.actions if a.due is not None]
            if review.next_review_date is not None:
                dues.append(review.next_review_date)
            if dues and min(dues) < today:
                worklist.append(
                    OverdueFollowUp(
                        case.mrn,
                        index,
                        review.meeting_date,
                        review.recommendation.value if review.recommendation else None,
                        min(dues),
                    )
                )
    return sorted(worklist, key=lambda item: (item.due, item.mrn))


@dataclass
class BoardFigures:
    """Figures of a period, as the board reports them."""

    start: date
    end: date
    cases_discussed: int = 0
    reviews: int = 0
    rediscussions: int = 0
    median_days_diagnosis_to_decision: float | None = None
    median_days_referral_to_decision: float | None = None
    median_days_diagnosis_to_treatment: float | None = None
    median_days_referral_to_treatment: float | None = None
    decisions_with_follow_up: int = 0
    decisions_carried_out: int = 0
    attendance: list[tuple[date, int, int]] = field(default_factory=list)

    @property
    def share_carried_out(self) -> float | None:
        """Done ÷ decisions whose follow-up is known (not pending)."""
        if not self.decisions_with_follow_up:
            return None
        return round(self.decisions_carried_out / self.decisions_with_follow_up, 3)

    def rows(self) -> list[tuple[str, str]]:
        """(figure, value) pairs for a table or a CSV file."""

        def show(value: object) -> str:
            return "" if value is None else str(value)

        rows = [
            ("period_start", self.start.isoformat()),
            ("period_end", self.end.isoformat()),
            ("cases_discussed", show(self.cases_discussed)),
            ("reviews_signed", show(self.reviews)),
            ("rediscussions", show(self.rediscussions)),
            (
                "median_days_liver_metastases_diagnosis_to_first_decision",
                show(self.median_days_diagnosis_to_decision),
            ),
            ("median_days_referral_to_first_decision", show(self.median_days_referral_to_decision)),
            (
                "median_days_liver_metastases_diagnosis_to_first_treatment",
                show(self.median_days_diagnosis_to_treatment),
            ),
            (
                "median_days_referral_to_first_treatment",
                show(self.median_days_referral_to_treatment),
            ),
            ("decisions_with_follow_up", show(self.decisions_with_follow_up)),
            ("decisions_carried_out", show(self.decisions_carried_out)),
            ("share_carried_out", show(self.share_carried_out)),
        ]
        for meeting_date, present, core in self.attendance:
            rows.append((f"core_roles_present_{meeting_date.isoformat()}", f"{present}/{core}"))
        return rows


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def first_treatment_after(case: Case, start: date) -> date | None:
    """The first systemic dose or procedure on or after `start`."""
    dates = [t.date for t in case.treatments if t.date >= start]
    return min(dates, default=None)


def board_figures(
    cases: Iterable[Case],
    meetings: Iterable[tuple[date, list[Attendee]]],
    core_roles: Sequence[str],
    start: date,
    end: date,
) -> BoardFigures:
    """Board figures for reviews signed with a meeting date in [start, end]."""
    figures = BoardFigures(start, end)
    discussed: set[str] = set()
    to_decision: list[int] = []
    referral_to_decision: list[int] = []
    to_treatment: list[int] = []
    referral_to_treatment: list[int] = []
    for case in cases:
        signed: list[Review] = sorted(
            (r for r in case.reviews if r.signed), key=lambda r: r.meeting_date
        )
        if not signed:
            continue
        first = signed[0].meeting_date
        for review in signed:
            if not start <= review.meeting_date <= end:
                continue
            figures.reviews += 1
            discussed.add(case.mrn)
            if review.meeting_date > first:
                figures.rediscussions += 1
            if review.follow_up is not None and review.follow_up.status != FollowUpStatus.PENDING:
                figures.decisions_with_follow_up += 1
                figures.decisions_carried_out += review.follow_up.status == FollowUpStatus.DONE
        if not start <= first <= end:
            continue
        diagnosis = case.liver_metastases_diagnosis_date
        referral = case.patient.referral_date
        if diagnosis is not None and diagnosis <= first:
            to_decision.append((first - diagnosis).days)
        if referral is not None and referral <= first:
            referral_to_decision.append((first - referral).days)
        if diagnosis is not None:
            treated = first_treatment_after(case, diagnosis)
            if treated is not None:
                to_treatment.append((treated - diagnosis).days)
        if referral is not None:
            treated = first_treatment_after(case, referral)
            if treated is not None:
                referral_to_treatment.append((treated - referral).days)
    figures.cases_discussed = len(discussed)
    figures.median_days_diagnosis_to_decision = _median(to_decision)
    figures.median_days_referral_to_decision = _median(referral_to_decision)
    figures.median_days_diagnosis_to_treatment = _median(to_treatment)
    figures.median_days_referral_to_treatment = _median(referral_to_treatment)
    for meeting_date, attendees in sorted(meetings, key=lambda m: m[0]):
        if start <= meeting_date <= end:
            q = quorum(attendees, core_roles)
            figures.attendance.append((meeting_date, len(q.present), len(core_roles)))
    return figures
