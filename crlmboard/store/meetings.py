"""Meetings, their attendees and agendas in SQL; every change writes its audit rows in the
caller's transaction.  Returns domain objects and light dataclasses, never rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from crlmboard.domain.meeting import MeetingFields, ReviewDraftFields, ReviewDraftText
from crlmboard.domain.models import Attendee
from crlmboard.domain.trusted import construct
from crlmboard.store import tables as t
from crlmboard.store.audit import AuditLog, jsonable


class MeetingNotFound(LookupError):
    """No such meeting or agenda item."""


@dataclass(frozen=True)
class AgendaEntry:
    """A case on an agenda as the meeting views show it."""

    id: int
    meeting_id: int
    position: int
    mrn: str
    family_name: str | None
    given_name: str | None
    question: str
    status: str  # planned | discussed | held | moved
    note: str | None
    review_id: int | None


@dataclass(frozen=True)
class MeetingSummary:
    """A meeting with its attendees and agenda."""

    id: int
    fields: MeetingFields
    attendees: tuple[Attendee, ...]
    agenda: tuple[AgendaEntry, ...]

    @property
    def date(self) -> date:
        return self.fields.date


@dataclass(frozen=True)
class MeetingListing:
    """A meeting as the meeting list shows it: its fields, its attendees' roles and the
    counts of its agenda (not the agenda itself)."""

    id: int
    fields: MeetingFields
    roles: tuple[str, ...]  # the attendees' roles (distinct, in attendee order)
    cases: int  # on the agenda and not held back or moved on
    discussed: int  # of those, discussed (review signed)

    @property
    def date(self) -> date:
        return self.fields.date


class MeetingRepository:
    """Meetings in one session."""

    def __init__(self, session: Session):
        self.session = session

    @property
    def audit(self) -> AuditLog:
        return AuditLog.of(self.session)

    # -- reading --------------------------------------------------------------------

    def _meeting_row(self, meeting_id: int) -> t.MeetingRow:
        row = self.session.get(t.MeetingRow, meeting_id)
        if row is None:
            raise MeetingNotFound(meeting_id)
        return row

    def get(self, meeting_id: int) -> MeetingSummary:
        row = self._meeting_row(meeting_id)
        attendees = (
            self.session.execute(
                sa.select(t.MeetingAttendeeRow)
                .where(col(t.MeetingAttendeeRow.meeting_id) == meeting_id)
                .order_by(col(t.MeetingAttendeeRow.position))
            )
            .scalars()
            .all()
        )
        return MeetingSummary(
            meeting_id,
            construct(
                MeetingFields, {"date": row.date, "time": row.time, "location": row.location}
            ),
            tuple(construct(Attendee, {"name": a.name, "role": a.role}) for a in attendees),
            tuple(self.agenda(meeting_id)),
        )

    def agenda(self, meeting_id: int) -> list[AgendaEntry]:
        query = (
            sa.select(
                t.AgendaItemRow,
                col(t.CaseRow.mrn),
                col(t.CaseRow.family_name),
                col(t.CaseRow.given_name),
            )
            .join(t.CaseRow, col(t.CaseRow.id) == col(t.AgendaItemRow.case_id))
            .where(col(t.AgendaItemRow.meeting_id) == meeting_id)
            .order_by(col(t.AgendaItemRow.position), col(t.AgendaItemRow.id))
        )
        return [
            AgendaEntry(
                int(item.id or 0),
                item.meeting_id,
                item.position,
                mrn,
                family,
                given,
                item.question,
                item.status or "planned",
                item.note,
                item.review_id,
            )
            for item, mrn, family, given in self.session.execute(query).all()
        ]

    def listing(self) -> list[MeetingListing]:
        """Every meeting in date order with its agenda counts and attendee roles: two
        queries whatever the number of meetings (the meeting list, without agendas)."""
        item = t.AgendaItemRow
        moved = sa.func.coalesce(col(item.status), "planned").in_(("held", "moved"))
        agenda = (
            sa.select(
                col(item.meeting_id).label("meeting_id"),
                sa.func.sum(sa.case((moved, 0), else_=1)).label("cases"),
                sa.func.sum(sa.case((col(item.status) == "discussed", 1), else_=0)).label(
                    "discussed"
                ),
            )
            .group_by(col(item.meeting_id))
            .subquery()
        )
        query = (
            sa.select(
                col(t.MeetingRow.id),
                col(t.MeetingRow.date),
                col(t.MeetingRow.time),
                col(t.MeetingRow.location),
                agenda.c.cases,
                agenda.c.discussed,
            )
            .outerjoin(agenda, agenda.c.meeting_id == col(t.MeetingRow.id))
            .order_by(col(t.MeetingRow.date), col(t.MeetingRow.time), col(t.MeetingRow.id))
        )
        roles: dict[int, list[str]] = {}
        for meeting_id, role in self.session.execute(
            sa.select(
                col(t.MeetingAttendeeRow.meeting_id), col(t.MeetingAttendeeRow.role)
            ).order_by(col(t.MeetingAttendeeRow.meeting_id), col(t.MeetingAttendeeRow.position))
        ).all():
            value = str(getattr(role, "value", role))
            held = roles.setdefault(int(meeting_id), [])
            if value not in held:
                held.append(value)
        return [
            MeetingListing(
                int(i or 0),
                construct(MeetingFields, {"date": d, "time": time, "location": location}),
                tuple(roles.get(int(i or 0), ())),
                int(cases or 0),
                int(discussed or 0),
            )
            for i, d, time, location, cases, discussed in self.session.execute(query).all()
        ]

    def ids_by_date(self, *, since: date | None = None) -> list[tuple[int, date]]:
        """Meetings (id, date) in date order, from `since` on when given."""
        query = sa.select(col(t.MeetingRow.id), col(t.MeetingRow.date)).order_by(
            col(t.MeetingRow.date), col(t.MeetingRow.time), col(t.MeetingRow.id)
        )
        if since is not None:
            query = query.where(col(t.MeetingRow.date) >= since)
        return [(int(i or 0), d) for i, d in self.session.execute(query).all()]

    def on_date(self, when: date) -> list[int]:
        query = sa.select(col(t.MeetingRow.id)).where(col(t.MeetingRow.date) == when)
        return [int(i or 0) for i in self.session.execute(query).scalars()]

    def next_after(self, meeting_id: int) -> int | None:
        """The meeting that follows this one in date order."""
        row = self._meeting_row(meeting_id)
        query = (
            sa.select(col(t.MeetingRow.id))
            .where(
                sa.or_(
                    col(t.MeetingRow.date) > row.date,
                    sa.and_(col(t.MeetingRow.date) == row.date, col(t.MeetingRow.id) > meeting_id),
                )
            )
            .order_by(col(t.MeetingRow.date), col(t.MeetingRow.id))
            .limit(1)
        )
        found = self.session.execute(query).scalar()
        return None if found is None else int(found)

    def item(self, item_id: int) -> t.AgendaItemRow:
        row = self.session.get(t.AgendaItemRow, item_id)
        if row is None:
            raise MeetingNotFound(item_id)
        return row

    def item_for_case(self, meeting_id: int, case_id: int) -> t.AgendaItemRow | None:
        query = sa.select(t.AgendaItemRow).where(
            col(t.AgendaItemRow.meeting_id) == meeting_id, col(t.AgendaItemRow.case_id) == case_id
        )
        return self.session.execute(query).scalars().first()

    # -- writing --------------------------------------------------------------------

    def create(self, fields: MeetingFields, attendees: Sequence[Attendee]) -> int:
        # the fields come from MeetingFields, a plain pydantic model mypy's view of SQLModel's
        # constructor does not follow
        row = t.MeetingRow(date=fields.date, time=fields.time, location=fields.location)  # type: ignore[call-arg]
        self.session.add(row)
        self.session.flush()
        assert row.id is not None
        self.audit.inserted(t.MeetingRow, row, None)
        self._write_attendees(row.id, attendees)
        self.audit.flush()
        return row.id

    def update(self, meeting_id: int, fields: MeetingFields, attendees: Sequence[Attendee]) -> None:
        row = self._meeting_row(meeting_id)
        self._set(
            t.MeetingRow,
            row,
            {"date": fields.date, "time": fields.time, "location": fields.location},
            None,
        )
        self._write_attendees(meeting_id, attendees)
        self.audit.flush()

    def _set(self, model: type[Any], row: Any, values: dict[str, Any], case_id: int | None) -> None:
        before, after = {}, {}
        for name, value in values.items():
            old, new = jsonable(getattr(row, name)), jsonable(value)
            if old != new:
                before[name], after[name] = old, new
                setattr(row, name, value)
        if after:
            self.audit.updated(model, row, case_id, before, after)
        self.session.flush()

    def _write_attendees(self, meeting_id: int, attendees: Sequence[Attendee]) -> None:
        stored = (
            self.session.execute(
                sa.select(t.MeetingAttendeeRow)
                .where(col(t.MeetingAttendeeRow.meeting_id) == meeting_id)
                .order_by(col(t.MeetingAttendeeRow.position))
            )
            .scalars()
            .all()
        )
        for i in range(max(len(stored), len(attendees))):
            if i < len(stored) and i < len(attendees):
                self._set(
                    t.MeetingAttendeeRow,
                    stored[i],
                    {"name": attendees[i].name, "role": attendees[i].role.value},
                    None,
                )
            elif i < len(attendees):
                row = t.MeetingAttendeeRow(  # type: ignore[call-arg]
                    name=attendees[i].name,
                    role=attendees[i].role,
                    meeting_id=meeting_id,
                    position=i,
                )
                self.session.add(row)
                self.session.flush()
                self.audit.inserted(t.MeetingAttendeeRow, row, None)
            else:
                self.audit.deleted(t.MeetingAttendeeRow, stored[i], None)
                self.session.delete(stored[i])
        self.session.flush()

    def add_item(self, meeting_id: int, case_id: int, question: str) -> int:
        """Put a case at the end of an agenda."""
        self._meeting_row(meeting_id)
        last = self.session.execute(
            sa.select(sa.func.max(col(t.AgendaItemRow.position))).where(
                col(t.AgendaItemRow.meeting_id) == meeting_id
            )
        ).scalar()
        row = t.AgendaItemRow(
            meeting_id=meeting_id,
            case_id=case_id,
            position=0 if last is None else int(last) + 1,
            question=question,
        )
        self.session.add(row)
        self.session.flush()
        assert row.id is not None
        self.audit.inserted(t.AgendaItemRow, row, case_id)
        self.audit.flush()
        return row.id

    def update_item(self, item_id: int, **values: Any) -> t.AgendaItemRow:
        row = self.item(item_id)
        self._set(t.AgendaItemRow, row, values, row.case_id)
        self.audit.flush()
        return row

    def move_to_next(self, item_id: int, status: str, note: str | None) -> int | None:
        """Mark an agenda item `status` (held, moved) with a note and put its case, with its
        question, on the next meeting's agenda (unless it is there already).  The next
        meeting's id, or None when there is none (then nothing changed)."""
        item = self.item(item_id)
        following = self.next_after(item.meeting_id)
        if following is None:
            return None
        self.update_item(item_id, status=status, note=note)
        if self.item_for_case(following, item.case_id) is None:
            self.add_item(following, item.case_id, item.question)
        return following

    def reorder(self, meeting_id: int, item_ids: Sequence[int]) -> None:
        """Give the agenda the order of `item_ids` (every item of the meeting once)."""
        stored = {e.id: e for e in self.agenda(meeting_id)}
        if sorted(stored) != sorted(item_ids):
            raise ValueError("the new order must list every agenda item once")
        for position, item_id in enumerate(item_ids):
            if stored[item_id].position != position:
                row = self.item(item_id)
                self._set(t.AgendaItemRow, row, {"position": position}, row.case_id)
        self.audit.flush()

    def remove_item(self, item_id: int) -> None:
        row = self.item(item_id)
        # a review being written there goes with its agenda item (first: the foreign key)
        for draft in self._drafts(item_id, None, every=True):
            self.audit.deleted(t.ReviewDraftRow, draft, draft.case_id)
            self.session.delete(draft)
        self.session.flush()
        self.audit.deleted(t.AgendaItemRow, row, row.case_id)
        self.session.delete(row)
        self.session.flush()
        self.audit.flush()

    def delete(self, meeting_id: int) -> None:
        """Remove a meeting with no discussed case on its agenda."""
        row = self._meeting_row(meeting_id)
        for entry in self.agenda(meeting_id):
            self.remove_item(entry.id)
        self._write_attendees(meeting_id, [])
        self.audit.deleted(t.MeetingRow, row, None)
        self.session.delete(row)
        self.session.flush()
        self.audit.flush()

    # -- drafts of reviews -------------------------------------------------------------

    def _drafts(
        self, item_id: int, amends: int | None, *, every: bool = False
    ) -> list[t.ReviewDraftRow]:
        """The drafts at an agenda item (of a review when `amends` is None, of an amendment
        of review `amends`; all of them with `every`), oldest first."""
        query = sa.select(t.ReviewDraftRow).where(col(t.ReviewDraftRow.agenda_item_id) == item_id)
        if not every:
            found = col(t.ReviewDraftRow.amends)
            query = query.where(found.is_(None) if amends is None else found == amends)
        return list(self.session.execute(query.order_by(col(t.ReviewDraftRow.id))).scalars())

    def draft(self, item_id: int, amends: int | None) -> ReviewDraftText | None:
        """The stored draft of a review (or of an amendment) at an agenda item."""
        rows = self._drafts(item_id, amends)
        if not rows:
            return None
        row = rows[-1]
        saved_at = row.saved_at
        if saved_at is not None and saved_at.tzinfo is None:  # stored as UTC
            saved_at = saved_at.replace(tzinfo=UTC)
        return ReviewDraftText.model_validate(
            {
                **{name: getattr(row, name) for name in ReviewDraftFields.model_fields},
                "saved_at": saved_at,
                "actions": row.actions or [],
                "attendees": row.attendees or [],
            }
        )

    def save_draft(self, item_id: int, amends: int | None, draft: ReviewDraftText) -> None:
        """Store a draft over the one before (audited like every clinical write)."""
        item = self.item(item_id)
        values: dict[str, Any] = {
            **{name: getattr(draft, name) for name in ReviewDraftFields.model_fields},
            "actions": [a.model_dump(mode="json") for a in draft.actions],
            "attendees": [a.model_dump(mode="json") for a in draft.attendees],
        }
        rows = self._drafts(item_id, amends)
        for extra in rows[:-1]:  # two saved at once on a server: one is kept
            self.audit.deleted(t.ReviewDraftRow, extra, extra.case_id)
            self.session.delete(extra)
        if rows:
            self._set(t.ReviewDraftRow, rows[-1], values, item.case_id)
        else:
            row = t.ReviewDraftRow(
                agenda_item_id=item_id, case_id=item.case_id, amends=amends, **values
            )
            self.session.add(row)
            self.session.flush()
            self.audit.inserted(t.ReviewDraftRow, row, item.case_id)
        self.session.flush()
        self.audit.flush()

    def delete_draft(self, item_id: int, amends: int | None) -> bool:
        """Remove the draft of a review at an agenda item (signed or discarded); False when
        there was none."""
        rows = self._drafts(item_id, amends)
        for row in rows:
            self.audit.deleted(t.ReviewDraftRow, row, row.case_id)
            self.session.delete(row)
        self.session.flush()
        self.audit.flush()
        return bool(rows)

    def attendance(self) -> list[tuple[date, list[Attendee]]]:
        """Every meeting's date and attendees (for the board figures)."""
        rows = self.session.execute(sa.select(col(t.MeetingRow.id), col(t.MeetingRow.date))).all()
        people: dict[int, list[Attendee]] = {int(i or 0): [] for i, _ in rows}
        for a in self.session.execute(
            sa.select(t.MeetingAttendeeRow).order_by(col(t.MeetingAttendeeRow.position))
        ).scalars():
            people.setdefault(a.meeting_id, []).append(
                construct(Attendee, {"name": a.name, "role": a.role})
            )
        return [(d, people[int(i or 0)]) for i, d in rows]
