"""Tumor board meetings, their agenda, and the reviews a board signs.

A `Review` is the board's record on one case at one meeting; once signed it is never
changed, only amended by a new review that names it.
"""

from datetime import date
from typing import Any

from pydantic import Field as PydanticField

from crlmboard.domain.models import (
    Attendee,
    FollowUp,
    Integer,
    IsoDate,
    Mrn,
    Record,
    RequiredText,
    ReviewAction,
    ReviewFields,
    Text,
    UtcTime,
    info,
)

SIGNATURE_MEANING = "approved as the board's decision"


class Review(ReviewFields):
    """A board review with its actions, attendees, follow-up and frozen evaluation."""

    actions: list[ReviewAction] = PydanticField(default_factory=list)
    attendees: list[Attendee] = PydanticField(default_factory=list)
    follow_up: FollowUp | None = None
    evaluation: dict[str, Any] | None = None

    @property
    def signed(self) -> bool:
        return self.signed_at is not None

    @property
    def meaning(self) -> str:
        """What the signature means (21 CFR 11.50), shown and printed with it."""
        if self.amends is not None:
            return f"amendment of review {self.amends + 1} approved as the board's decision"
        return SIGNATURE_MEANING

    def cross_checks(self, today: date) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if (self.signed_at is None) != (self.signed_by is None):
            problems.append(("signed_by", "signed_by and signed_at are given together"))
        if self.next_review_date is not None and self.next_review_date < self.meeting_date:
            problems.append(("next_review_date", "must not be before the meeting date"))
        return problems


class MeetingFields(Record):
    """A tumor board meeting."""

    date: IsoDate = info("Date", default=...)
    time: Text | None = info("Time", max_length=5, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    location: Text | None = info("Location", max_length=200)


class AgendaItem(Record):
    """A case on a meeting's agenda, with the question the board must answer."""

    mrn: Mrn = info("MRN", default=...)
    question: RequiredText = info(
        "Question for the board", default=..., min_length=1, max_length=2000
    )
    position: Integer = info("Position", default=0, ge=0)


class Meeting(MeetingFields):
    """A meeting with its attendees and agenda."""

    attendees: list[Attendee] = PydanticField(default_factory=list)
    agenda: list[AgendaItem] = PydanticField(default_factory=list)


class ReviewDraftFields(Record):
    """A review being written and not signed yet, as typed: kept (stored) until it is
    signed or discarded, so that Esc, a closed window or a crash never loses a typed
    decision.  Dates and action rows stay as typed; they are checked when it is signed."""

    recommendation: Text | None = info("Recommendation", max_length=40)
    decision: Text | None = info("Decision", max_length=10000)
    rationale: Text | None = info("Rationale", max_length=10000)
    next_review: Text | None = info("Next review", max_length=40)
    saved_at: UtcTime | None = info("Draft saved at")


class DraftAction(Record):
    """An action row of a draft, as typed (its due date too)."""

    text: Text | None = info("Action", max_length=2000)
    owner: Text | None = info("Owner", max_length=200)
    due: Text | None = info("Due", max_length=40)


class ReviewDraftText(ReviewDraftFields):
    """A draft with its action rows and the attendees ticked present."""

    actions: list[DraftAction] = PydanticField(default_factory=list)
    attendees: list[Attendee] = PydanticField(default_factory=list)

    def empty(self) -> bool:
        """Nothing typed (a draft of nothing is not kept)."""
        return not (
            self.recommendation
            or (self.decision or "").strip()
            or (self.rationale or "").strip()
            or (self.next_review or "").strip()
            or any(a.text or a.owner or a.due for a in self.actions)
            or self.attendees
        )


def signing_too_early(meeting_date: date, today: date) -> str:
    """Why a review of a meeting on `meeting_date` cannot be signed `today` ('' if it can):
    the board signs what it decided, so never before the meeting has taken place."""
    if today >= meeting_date:
        return ""
    return (
        f"the meeting is on {meeting_date.isoformat()}; a review is signed on or after "
        f"the meeting's date, not before (today is {today.isoformat()})"
    )
