"""Tumor board meetings, their agenda, and the reviews a board signs.

A `Review` is the board's record on one case at one meeting; once signed it is never
changed, only amended by a new review that names it.
"""

from __future__ import annotations

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
    ReviewAction,
    ReviewFields,
    Text,
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


class Meeting(MeetingFields):
    """A meeting with its attendees and agenda."""

    attendees: list[Attendee] = PydanticField(default_factory=list)
    agenda: list[AgendaItem] = PydanticField(default_factory=list)


class AgendaItem(Record):
    """A case on a meeting's agenda, with the question the board must answer."""

    mrn: Mrn = info("MRN", default=...)
    question: Text = info("Question for the board", default=..., min_length=1, max_length=2000)
    position: Integer = info("Position", default=0, ge=0)


Meeting.model_rebuild()


def signing_too_early(meeting_date: date, today: date) -> str:
    """Why a review of a meeting on `meeting_date` cannot be signed `today` ('' if it can):
    the board signs what it decided, so never before the meeting has taken place."""
    if today >= meeting_date:
        return ""
    return (
        f"the meeting is on {meeting_date.isoformat()}; a review is signed on or after "
        f"the meeting's date, not before (today is {today.isoformat()})"
    )
