"""Readiness, quorum, follow-up worklist and board figures on cases with known answers."""

from __future__ import annotations

from datetime import date
from typing import Any

from crlmboard.domain.board_work import (
    board_figures,
    overdue_follow_ups,
    quorum,
    readiness,
)
from crlmboard.domain.caseformat import case_from_dict
from crlmboard.domain.models import Attendee, Role

TODAY = date(2026, 11, 24)
CORE = ("hepatobiliary_surgeon", "medical_oncologist", "radiologist", "pathologist", "coordinator")


def case(
    mrn: str,
    diagnosis: str,
    referral: str,
    reviews: list[dict[str, Any]],
    treatments: list[dict[str, Any]] | None = None,
) -> Any:
    return case_from_dict(
        {
            "format": "crlmboard.case/1",
            "patient": {"mrn": mrn, "referral_date": referral},
            "liver_metastases_diagnosis_date": diagnosis,
            "treatments": treatments or [],
            "reviews": reviews,
        },
        TODAY,
    )


def signed(meeting: str, **extra: Any) -> dict[str, Any]:
    return {
        "meeting_date": meeting,
        "recommendation": "upfront_resection",
        "signed_by": "A. Surgeon",
        "signed_at": f"{meeting}T17:00:00Z",
        **extra,
    }


def test_quorum_names_missing_core_roles() -> None:
    people = [
        Attendee(name="A", role=Role.HEPATOBILIARY_SURGEON),
        Attendee(name="B", role=Role.RADIOLOGIST),
    ]
    q = quorum(people, CORE)
    assert q.present == ("hepatobiliary_surgeon", "radiologist")
    assert q.missing == ("medical_oncologist", "pathologist", "coordinator")
    assert not q.complete
    everyone = [Attendee(name=r, role=Role(r)) for r in CORE]
    assert quorum(everyone, CORE).complete


def test_readiness_lists_data_findings_and_stale_imaging() -> None:
    evaluation = {
        "findings": [
            {"rule": "DATA.MOLECULAR_INCOMPLETE", "title": "t", "message": "RAS unknown."},
            {"rule": "TIMING.RESTAGING_OVERDUE", "title": "t", "message": "Due 2026-10-01."},
            {"rule": "PATHWAY.UPFRONT_RESECTION", "title": "t", "message": "advice"},
        ],
        "facts": {
            "chemotherapy": {"last_cycle_date": "2026-11-01"},
            "current_imaging": {"date": "2026-09-01", "modality": "ct"},
        },
    }
    codes = [item.code for item in readiness(evaluation)]
    assert codes == [
        "DATA.MOLECULAR_INCOMPLETE",
        "TIMING.RESTAGING_OVERDUE",
        "IMAGING_BEFORE_LAST_CYCLE",
    ]
    ready = {
        "findings": [],
        "facts": {
            "chemotherapy": {"last_cycle_date": "2026-08-01"},
            "current_imaging": {"date": "2026-09-01"},
        },
    }
    assert readiness(ready) == []


def test_overdue_follow_ups() -> None:
    cases = [
        case(
            "A",
            "2026-01-01",
            "2026-01-05",
            [signed("2026-02-01", actions=[{"text": "Book PVE", "due": "2026-02-10"}])],
        ),
        case(
            "B",
            "2026-01-01",
            "2026-01-05",
            [
                signed(
                    "2026-02-01",
                    actions=[{"text": "x", "due": "2026-02-10"}],
                    follow_up={"status": "done"},
                )
            ],
        ),
        case(
            "C",
            "2026-01-01",
            "2026-01-05",
            [signed("2026-11-20", actions=[{"text": "x", "due": "2026-12-10"}])],
        ),
    ]
    assert [(o.mrn, o.due.isoformat()) for o in overdue_follow_ups(cases, TODAY)] == [
        ("A", "2026-02-10")
    ]


def test_board_figures_with_known_answers() -> None:
    chemo = {"kind": "chemotherapy", "regimen": "folfox", "cycle": 1, "setting": "neoadjuvant"}
    cases = [
        # diagnosis→decision 10 days, referral→decision 5, diagnosis→treatment 20
        case(
            "A",
            "2026-03-01",
            "2026-03-06",
            [
                signed("2026-03-11", follow_up={"status": "done"}),
                signed("2026-04-15", follow_up={"status": "not_done", "reason": "patient_choice"}),
            ],
            [{**chemo, "date": "2026-03-21"}],
        ),
        # 30 / 10 / 40 days
        case(
            "B",
            "2026-03-01",
            "2026-03-21",
            [signed("2026-03-31")],
            [{**chemo, "date": "2026-04-10"}],
        ),
        # reviewed before the period only
        case("C", "2025-01-01", "2025-01-02", [signed("2025-02-01")]),
    ]
    meetings = [
        (date(2026, 3, 11), [Attendee(name="x", role=Role.RADIOLOGIST)]),
        (date(2025, 2, 1), []),
    ]
    figures = board_figures(cases, meetings, CORE, date(2026, 3, 1), date(2026, 6, 30))
    assert figures.cases_discussed == 2
    assert figures.reviews == 3
    assert figures.rediscussions == 1
    assert figures.median_days_diagnosis_to_decision == 20.0
    assert figures.median_days_referral_to_decision == 7.5
    assert figures.median_days_diagnosis_to_treatment == 30.0
    assert figures.decisions_with_follow_up == 2
    assert figures.decisions_carried_out == 1
    assert figures.share_carried_out == 0.5
    assert figures.attendance == [(date(2026, 3, 11), 1, 5)]
    assert ("cases_discussed", "2") in figures.rows()
