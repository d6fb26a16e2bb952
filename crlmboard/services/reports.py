"""`board.reports`: PDF case summaries and outcome letters of the open database's cases.

Joins the store (the case), the engine (the evaluation) and `crlmboard.report` (the PDF).
A summary for a review prints the evaluation frozen in that review; without one (a review
imported from an older file, or no review at all) it evaluates the case with the profile in
force — as of the meeting date for a review, as of today otherwise.  A summary for no review
in particular shows the current evaluation with the case's latest signed review (by meeting
date, then time of signing) under Board review, and says so.  Files are written to a
temporary name and renamed into place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from crlmboard import __version__
from crlmboard.domain.case import Case
from crlmboard.domain.meeting import Review
from crlmboard.services.cases import CaseService
from crlmboard.services.changes import BoardError, ReviewNotFound, ReviewNotSigned
from crlmboard.services.database import Database
from crlmboard.services.evaluation import EvaluationService
from crlmboard.services.files import write_file_atomically
from crlmboard.services.meetings import ReviewService

__all__ = [
    "PAGE_SIZES",
    "ReportService",
    "ReviewNotFound",
    "ReviewNotSigned",
    "latest_signed_review",
]

PAGE_SIZES = ("A4", "letter")


def latest_signed_review(case: Case) -> int | None:
    """The index of the case's latest signed review (by meeting date, then time of signing;
    an amendment is later than the review it amends), or None."""
    signed = [
        (review.meeting_date, review.signed_at, index)
        for index, review in enumerate(case.reviews)
        if review.signed_at is not None
    ]
    return max(signed)[2] if signed else None


class ReportService:
    """PDFs of the open database's cases."""

    def __init__(
        self,
        database: Database,
        evaluation: EvaluationService,
        cases: CaseService,
        reviews: ReviewService,
    ):
        self.database = database
        self.evaluation = evaluation
        self.cases = cases
        self.reviews = reviews

    # -- building blocks ------------------------------------------------------------

    def current_evaluation(self, case: Case) -> dict[str, Any]:
        """The case's `crlmboard.evaluation/1` document as of today, with the profile in force."""
        return self.evaluation.document(case, self.database.today())

    def review(self, case: Case, review_index: int) -> Review:
        """The review at `review_index` (0 = the first) or ReviewNotFound."""
        if not 0 <= review_index < len(case.reviews):
            count = len(case.reviews)
            have = (
                "it has no reviews"
                if count == 0
                else f"it has {count} review{'s' if count != 1 else ''} (1–{count})"
            )
            raise ReviewNotFound(f"Case {case.mrn} has no review {review_index + 1}: {have}.")
        return case.reviews[review_index]

    def review_evaluation(self, case: Case, review: Review) -> dict[str, Any]:
        """The evaluation a review was made on: its frozen one, else recomputed for its date."""
        if review.evaluation:
            return dict(review.evaluation)
        return self.evaluation.document(case, review.meeting_date)

    # -- documents ------------------------------------------------------------------

    def case_summary(
        self, mrn: str, review_index: int | None = None, *, page_size: str = "A4"
    ) -> bytes:
        """The case summary PDF: for a review (0-based index), or for the current evaluation
        with the latest signed review."""
        from crlmboard.report.case_summary import case_summary_pdf  # reportlab on demand

        if page_size not in PAGE_SIZES:
            raise BoardError(f"Unknown page size {page_size!r}: use A4 or letter.")
        case = self.cases.get(mrn)
        if review_index is None:
            latest = latest_signed_review(case)
            evaluation = self.current_evaluation(case)
            return case_summary_pdf(
                case,
                evaluation,
                None,
                page_size=page_size,
                app_version=__version__,
                checkpoint=self.database.printed_checkpoint(),
                engine_changes=[c.text() for c in self.evaluation.engine_changes(case)],
                latest_review=case.reviews[latest] if latest is not None else None,
                latest_review_number=latest,
                case_input_sha256=evaluation["input_sha256"],  # made of this case just now
            )
        review = self.review(case, review_index)
        head = self.reviews.audit_head_at_signing(mrn, review_index) if review.signed else None
        return case_summary_pdf(
            case,
            self.review_evaluation(case, review),
            review,
            page_size=page_size,
            app_version=__version__,
            review_number=review_index,
            audit_head=head,
            checkpoint=self.database.printed_checkpoint(),
        )

    def letter(self, mrn: str, review_index: int, *, page_size: str = "A4") -> bytes:
        """The one-page outcome letter of a signed review (0-based index)."""
        from crlmboard.report.letter import outcome_letter_pdf  # reportlab on demand

        if page_size not in PAGE_SIZES:
            raise BoardError(f"Unknown page size {page_size!r}: use A4 or letter.")
        case = self.cases.get(mrn)
        review = self.review(case, review_index)
        if not review.signed:
            raise ReviewNotSigned(
                f"Review {review_index + 1} of case {mrn} ({review.meeting_date.isoformat()}) "
                "is not signed: an outcome letter is written only from a signed review. Sign "
                "it first, or choose a signed review."
            )
        return outcome_letter_pdf(
            case,
            review,
            self.review_evaluation(case, review),
            page_size=page_size,
            app_version=__version__,
            checkpoint=self.database.printed_checkpoint(),
            audit_head=self.reviews.audit_head_at_signing(mrn, review_index),
        )

    # -- files ----------------------------------------------------------------------

    def write_case_summary(
        self,
        mrn: str,
        destination: str | os.PathLike[str],
        review_index: int | None = None,
        *,
        page_size: str = "A4",
    ) -> Path:
        """Write the case summary atomically; returns the file written."""
        data = self.case_summary(mrn, review_index, page_size=page_size)
        return write_file_atomically(Path(destination), data)

    def write_letter(
        self,
        mrn: str,
        review_index: int,
        destination: str | os.PathLike[str],
        *,
        page_size: str = "A4",
    ) -> Path:
        """Write the outcome letter atomically; returns the file written."""
        data = self.letter(mrn, review_index, page_size=page_size)
        return write_file_atomically(Path(destination), data)
