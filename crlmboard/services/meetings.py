"""`board.meetings` and `board.reviews`: the tumor board meeting itself — meetings and their
attendees, the agenda with its questions, the readiness check, reviews signed with the
engine's frozen evaluation, amendments, follow-up, and the board figures."""

from __future__ import annotations

import builtins
import contextlib
import csv
import functools
import gc
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from crlmboard import __version__
from crlmboard.domain.board_work import (
    BoardFigures,
    OverdueFollowUp,
    Quorum,
    ReadinessItem,
    board_figures,
    overdue_follow_ups,
    quorum,
    readiness,
)
from crlmboard.domain.case import Case
from crlmboard.domain.meeting import (
    AgendaItem,
    Meeting,
    MeetingFields,
    Review,
    ReviewDraftText,
    signing_too_early,
)
from crlmboard.domain.models import Attendee, FollowUp, ReviewAction, Strategy
from crlmboard.domain.validation import InvalidInput, Problem, problems_from_error
from crlmboard.services.cases import CaseService
from crlmboard.services.changes import BoardError, ChangeSet, MeetingMissing, NotAllowed
from crlmboard.services.database import Database
from crlmboard.services.evaluation import EvaluationService
from crlmboard.services.users import current_identity
from crlmboard.store.audit import insert_hash
from crlmboard.store.identity import (
    CAN_SIGN,
    Identity,
    IdentityError,
    server_signature,
    verify_password,
)
from crlmboard.store.meetings import (
    AgendaEntry,
    MeetingListing,
    MeetingNotFound,
    MeetingRepository,
    MeetingSummary,
)
from crlmboard.store.repositories import CaseRepository, ConflictError, NotFound

__all__ = [
    "AddedToAgenda",
    "AgendaEntry",
    "ClosedMeeting",
    "CreatedMeeting",
    "HeldBack",
    "MeetingListing",
    "MeetingMissing",
    "MeetingService",
    "MeetingSummary",
    "PackCancelled",
    "ReviewDraft",
    "ReviewService",
    "SignedReview",
]


PACK_CANCELLED = "Meeting pack cancelled: nothing written."


# a meeting or agenda entry another window (or another computer) removed meanwhile: named
# as gone, never by its database key
MEETING_GONE = (
    "This meeting is no longer in the database: it was deleted meanwhile (in another "
    "window or on another computer). Nothing was changed."
)
ITEM_GONE = (
    "This case is no longer on the agenda: it was removed, or its meeting deleted, meanwhile "
    "(in another window or on another computer). Nothing was changed."
)


@contextlib.contextmanager
def _program_set_aside() -> Iterator[None]:
    """The objects alive before a meeting pack (the program's modules, the fonts' tables,
    the window and the case list) set aside from Python's garbage collector while the
    pack is made (`gc.freeze`), given back afterwards.  The pack keeps 20 cases and their
    stories alive until it is laid out, and that made the collector's full pass fall inside
    nearly every pack; it walked the whole program (~290,000 objects in the bench, more in
    the app: 100–190 ms of CPU, a sixth to a fifth of the pack; bench/README.md, B7).  The
    collector still runs on what the pack makes.
    Someone else's freeze (an import beside) is left alone."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class PackCancelled(BoardError):
    """The meeting pack was cancelled before it was written."""


@dataclass(frozen=True)
class CreatedMeeting:
    """A new meeting: its id and what changed."""

    meeting_id: int
    changes: ChangeSet


@dataclass(frozen=True)
class AddedToAgenda:
    """A case put on an agenda: the agenda item's id and what changed."""

    item_id: int
    changes: ChangeSet


@dataclass(frozen=True)
class HeldBack:
    """A case held back: the meeting it now waits for, and what changed."""

    meeting_id: int
    changes: ChangeSet


@dataclass(frozen=True)
class ClosedMeeting:
    """A meeting closed: the MRNs moved to the next meeting, and what changed."""

    moved: tuple[str, ...]
    changes: ChangeSet


@dataclass(frozen=True)
class SignedReview:
    """A review signed: its case, its index in the case (0 = the first), its record id, and
    what changed."""

    mrn: str
    index: int
    review_id: int
    changes: ChangeSet


def _validated(model: Any, values: dict[str, Any], path: str = "") -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise InvalidInput(problems_from_error(error, path)) from None


class MeetingService:
    """Meetings, agendas and the readiness check."""

    def __init__(self, database: Database, evaluation: EvaluationService, cases: CaseService):
        self.database = database
        self.evaluation = evaluation
        self.cases = cases

    # -- reading --------------------------------------------------------------------

    def get(self, meeting_id: int) -> MeetingSummary:
        with self.database.read() as session:
            try:
                return MeetingRepository(session).get(meeting_id)
            except MeetingNotFound:
                raise MeetingMissing(MEETING_GONE) from None

    def list(self) -> list[MeetingSummary]:
        """Upcoming meetings first (soonest first), then past ones (latest first)."""
        today = self.database.today()
        with self.database.read() as session:
            repository = MeetingRepository(session)
            dated = repository.ids_by_date()
            upcoming = [i for i, d in dated if d >= today]
            past = [i for i, d in reversed(dated) if d < today]
            return [repository.get(i) for i in upcoming + past]

    def listing(self) -> builtins.list[MeetingListing]:
        """The meetings in the order of `list` — upcoming first (soonest first), then past
        ones (latest first) — each with its agenda counts but not its agenda: what a list
        of meetings shows, read in two queries however many meetings there are."""
        today = self.database.today()
        with self.database.read() as session:
            dated = MeetingRepository(session).listing()
        return [m for m in dated if m.date >= today] + [
            m for m in reversed(dated) if m.date < today
        ]

    def on_date(self, when: date) -> MeetingSummary:
        with self.database.read() as session:
            repository = MeetingRepository(session)
            found = repository.on_date(when)
            if not found:
                raise MeetingMissing(f"There is no meeting on {when.isoformat()}.")
            return repository.get(found[0])

    def quorum(self, meeting: MeetingSummary | MeetingListing) -> Quorum:
        """Core roles (from the institution profile) present and missing."""
        core = self.evaluation.profile.core_roles
        if isinstance(meeting, MeetingListing):
            return Quorum(
                tuple(r for r in core if r in meeting.roles),
                tuple(r for r in core if r not in meeting.roles),
            )
        return quorum(meeting.attendees, core)

    # -- meetings -------------------------------------------------------------------

    def create(
        self,
        when: date | str,
        time: str | None = None,
        location: str | None = None,
        attendees: Sequence[Attendee | dict[str, Any]] = (),
    ) -> CreatedMeeting:
        fields = _validated(
            MeetingFields, {"date": when, "time": time or None, "location": location or None}
        )
        people = [
            a if isinstance(a, Attendee) else _validated(Attendee, a, f"attendees[{i}]")
            for i, a in enumerate(attendees)
        ]
        with self.database.write() as session:
            meeting_id = MeetingRepository(session).create(fields, people)
        return CreatedMeeting(meeting_id, ChangeSet(meetings=frozenset({meeting_id})))

    def update(
        self,
        meeting_id: int,
        when: date | str,
        time: str | None = None,
        location: str | None = None,
        attendees: Sequence[Attendee | dict[str, Any]] = (),
    ) -> ChangeSet:
        fields = _validated(
            MeetingFields, {"date": when, "time": time or None, "location": location or None}
        )
        people = [
            a if isinstance(a, Attendee) else _validated(Attendee, a, f"attendees[{i}]")
            for i, a in enumerate(attendees)
        ]
        with self.database.write() as session:
            repository = MeetingRepository(session)
            try:
                repository.update(meeting_id, fields, people)
                agenda = repository.agenda(meeting_id)
            except MeetingNotFound:
                raise MeetingMissing(MEETING_GONE) from None
        # the agenda's cases: their next meeting may have moved with the date
        return ChangeSet(meetings=frozenset({meeting_id}), cases=frozenset(e.mrn for e in agenda))

    def delete(self, meeting_id: int) -> ChangeSet:
        meeting = self.get(meeting_id)
        if any(e.status == "discussed" for e in meeting.agenda):
            raise BoardError("This meeting has signed reviews; it cannot be deleted.")
        with self.database.write() as session:
            MeetingRepository(session).delete(meeting_id)
        return ChangeSet(
            meetings=frozenset({meeting_id}), cases=frozenset(e.mrn for e in meeting.agenda)
        )

    # -- agenda ---------------------------------------------------------------------

    def add_to_agenda(self, meeting_id: int, mrn: str, question: str) -> AddedToAgenda:
        """Put a case on an agenda with its question for the board (mandatory)."""
        _validated(AgendaItem, {"mrn": mrn, "question": question.strip()})
        with self.database.write() as session:
            cases = CaseRepository(session)
            meetings = MeetingRepository(session)
            try:
                case_id = cases.id_of(mrn)
                meetings.get(meeting_id)
            except NotFound:
                raise InvalidInput([Problem("mrn", f"there is no case with MRN {mrn}")]) from None
            except MeetingNotFound:
                raise MeetingMissing(MEETING_GONE) from None
            existing = meetings.item_for_case(meeting_id, case_id)
            if existing is not None and existing.status not in ("held", "moved"):
                raise InvalidInput([Problem("mrn", f"case {mrn} is already on this agenda")])
            item_id = meetings.add_item(meeting_id, case_id, question.strip())
        return AddedToAgenda(
            item_id, ChangeSet(cases=frozenset({mrn}), meetings=frozenset({meeting_id}))
        )

    def edit_question(self, item_id: int, question: str) -> ChangeSet:
        _validated(AgendaItem, {"mrn": "X", "question": question.strip()})
        with self.database.write() as session:
            repository = MeetingRepository(session)
            meeting_id = _item(repository, item_id).meeting_id
            repository.update_item(item_id, question=question.strip())
        return ChangeSet(meetings=frozenset({meeting_id}))

    def reorder(self, meeting_id: int, item_ids: Sequence[int]) -> ChangeSet:
        with self.database.write() as session:
            try:
                MeetingRepository(session).reorder(meeting_id, list(item_ids))
            except ValueError as error:
                raise BoardError(str(error)) from None
        return ChangeSet(meetings=frozenset({meeting_id}))

    def remove_from_agenda(self, item_id: int) -> ChangeSet:
        with self.database.write() as session:
            repository = MeetingRepository(session)
            item = _item(repository, item_id)
            if item.status == "discussed":
                raise BoardError(
                    "This case was discussed and its review signed; it stays on the agenda."
                )
            meeting_id, mrn = item.meeting_id, CaseRepository(session).mrn_of(item.case_id)
            repository.remove_item(item_id)
        return ChangeSet(cases=frozenset({mrn}), meetings=frozenset({meeting_id}))

    @staticmethod
    def _move_to_next(
        repository: MeetingRepository, item_id: int, status: str, note: str | None
    ) -> int:
        following = repository.move_to_next(item_id, status, note)
        if following is None:
            raise BoardError(
                "There is no later meeting to move the case to: create the next meeting first."
            )
        return following

    def hold_back(self, item_id: int, note: str) -> HeldBack:
        """Hold a case back to the next meeting with a note."""
        if not note.strip():
            raise InvalidInput([Problem("note", "say why the case is held back")])
        with self.database.write() as session:
            repository = MeetingRepository(session)
            item = _item(repository, item_id)
            if item.status == "discussed":
                raise BoardError("This case was already discussed.")
            source, mrn = item.meeting_id, CaseRepository(session).mrn_of(item.case_id)
            following = self._move_to_next(repository, item_id, "held", note.strip())
        return HeldBack(
            following,
            ChangeSet(cases=frozenset({mrn}), meetings=frozenset({source, following})),
        )

    def close(self, meeting_id: int) -> ClosedMeeting:
        """After the meeting: agenda cases not discussed move to the next meeting."""
        moved: builtins.list[str] = []
        meetings = {meeting_id}
        with self.database.write() as session:
            repository = MeetingRepository(session)
            for entry in repository.agenda(meeting_id):
                if entry.status == "planned":
                    meetings.add(
                        self._move_to_next(
                            repository, entry.id, "moved", "not reached at the meeting"
                        )
                    )
                    moved.append(entry.mrn)
        return ClosedMeeting(
            tuple(moved), ChangeSet(cases=frozenset(moved), meetings=frozenset(meetings))
        )

    def prepare(
        self, meeting_id: int
    ) -> builtins.list[tuple[AgendaEntry, builtins.list[ReadinessItem]]]:
        """The readiness check: per agenda case, what is missing or outdated as of the
        meeting date."""
        meeting = self.get(meeting_id)
        result = []
        for entry in meeting.agenda:
            if entry.status in ("held", "moved"):
                continue
            case = self.cases.get(entry.mrn)
            document = self.evaluation.document(case, meeting.date)
            result.append((entry, readiness(document)))
        return result

    # -- figures --------------------------------------------------------------------

    def figures(self, start: date, end: date) -> BoardFigures:
        if end < start:
            raise InvalidInput([Problem("to", "must not be before the start of the period")])
        with self.database.read() as session:
            mrns = CaseRepository(session).mrns_with_signed_reviews()
            attendance = MeetingRepository(session).attendance()
        cases = [self.cases.get(mrn) for mrn in mrns]
        return board_figures(cases, attendance, self.evaluation.profile.core_roles, start, end)

    def figures_csv(self, start: date, end: date) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["figure", "value"])
        writer.writerows(self.figures(start, end).rows())
        return out.getvalue()

    def worklist(self) -> builtins.list[OverdueFollowUp]:
        """Signed recommendations with no follow-up past their due dates."""
        with self.database.read() as session:
            mrns = CaseRepository(session).mrns_with_signed_reviews()
        return overdue_follow_ups((self.cases.get(m) for m in mrns), self.database.today())

    def meeting_pack(
        self,
        meeting_id: int,
        *,
        page_size: str = "A4",
        progress: Callable[[int, int], bool] | None = None,
    ) -> bytes:
        """The meeting pack PDF: cover, agenda, every case's summary.  `progress(done,
        total)` is asked before each case and once the PDF is built; False stops the pack
        there (`PackCancelled`)."""
        with _program_set_aside():
            return self._meeting_pack(meeting_id, page_size, progress)

    def _meeting_pack(
        self, meeting_id: int, page_size: str, progress: Callable[[int, int], bool] | None
    ) -> bytes:
        from crlmboard.report.meeting_pack import meeting_pack_pdf  # reportlab on demand

        summary = self.get(meeting_id)
        # stored values, read as trusted: a text written before a rule was added still prints
        meeting = Meeting.model_construct(
            date=summary.date,
            time=summary.fields.time,
            location=summary.fields.location,
            attendees=list(summary.attendees),
            agenda=[
                AgendaItem.model_construct(mrn=e.mrn, question=e.question, position=i)
                for i, e in enumerate(summary.agenda)
                if e.status not in ("held", "moved")
            ],
        )
        cases = []
        hashes: dict[str, str] = {}
        entries = [e for e in summary.agenda if e.status not in ("held", "moved")]
        for done, entry in enumerate(entries):
            if progress is not None and progress(done, len(entries)) is False:
                raise PackCancelled(PACK_CANCELLED)
            case = self.cases.get(entry.mrn)
            review = None
            if entry.review_id is not None:
                review = next(
                    (
                        r
                        for r in reversed(case.reviews)
                        if r.meeting_date == summary.date and r.signed
                    ),
                    None,
                )
            if review is not None and review.evaluation:
                evaluation = review.evaluation
            else:
                evaluation = self.evaluation.document(case, summary.date)
                hashes[case.mrn] = evaluation["input_sha256"]  # made of this case just now
            cases.append((case, evaluation, review))
        pdf = meeting_pack_pdf(
            meeting,
            cases,
            page_size=page_size,
            app_version=__version__,
            checkpoint=self.database.printed_checkpoint(),
            input_hashes=hashes,
        )
        if progress is not None and progress(len(entries), len(entries)) is False:
            raise PackCancelled(PACK_CANCELLED)  # cancelled while the PDF was laid out
        return pdf


@dataclass(frozen=True)
class ReviewDraft:
    """What the review dialog opens on: the case, the question and the frozen evaluation."""

    meeting: MeetingSummary
    entry: AgendaEntry
    case: Case
    evaluation: dict[str, Any]
    saved: ReviewDraftText | None = None  # what was typed before and not signed
    amends: int | None = None  # the signed review an amendment corrects


class ReviewService:
    """Reviews: start (freeze the evaluation), sign, amend, follow up."""

    def __init__(
        self,
        database: Database,
        evaluation: EvaluationService,
        cases: CaseService,
        meetings: MeetingService,
    ):
        self.database = database
        self.evaluation = evaluation
        self.cases = cases
        self.meetings = meetings

    def now(self) -> datetime:
        return self.database.now().astimezone(UTC).replace(microsecond=0)

    @functools.cached_property
    def identity(self) -> Identity:
        """Who signs: the session user on PostgreSQL, the OS account on SQLite."""
        return current_identity(self.database)

    def start(self, meeting_id: int, mrn: str, amends: int | None = None) -> ReviewDraft:
        """Open a case's review at a meeting (an amendment of review `amends`): its
        evaluation as of the meeting date, and the draft typed before if one is stored."""
        meeting = self.meetings.get(meeting_id)
        entry = next((e for e in meeting.agenda if e.mrn == mrn and e.status != "held"), None)
        if entry is None:
            raise MeetingMissing(f"Case {mrn} is not on the agenda of this meeting.")
        case = self.cases.get(mrn)
        with self.database.read() as session:
            saved = MeetingRepository(session).draft(entry.id, amends)
        return ReviewDraft(
            meeting, entry, case, self.evaluation.document(case, meeting.date), saved, amends
        )

    # -- drafts: what was typed and not signed yet --------------------------------------

    def _item(self, meetings: MeetingRepository, meeting_id: int, mrn: str) -> int:
        """The agenda item a review of `mrn` at a meeting is written at."""
        for entry in meetings.agenda(meeting_id):
            if entry.mrn == mrn and entry.status != "held":
                return entry.id
        raise MeetingMissing(f"Case {mrn} is not on the agenda of this meeting.")

    def draft(self, meeting_id: int, mrn: str, amends: int | None = None) -> ReviewDraftText | None:
        """The stored draft of a case's review at a meeting (of an amendment of review
        `amends`), or None."""
        with self.database.read() as session:
            meetings = MeetingRepository(session)
            try:
                item = self._item(meetings, meeting_id, mrn)
            except MeetingMissing:
                return None
            return meetings.draft(item, amends)

    def save_draft(
        self,
        meeting_id: int,
        mrn: str,
        fields: dict[str, Any],
        amends: int | None = None,
    ) -> ChangeSet:
        """Keep what was typed in a review not signed yet (an empty draft removes the
        stored one).  Audited; no view reads anything again for it."""
        draft = _validated(ReviewDraftText, {**fields, "saved_at": self.now()}, "draft")
        with self.database.write() as session:
            meetings = MeetingRepository(session)
            item = self._item(meetings, meeting_id, mrn)
            if draft.empty():
                meetings.delete_draft(item, amends)
            else:
                meetings.save_draft(item, amends, draft)
        return ChangeSet(drafts=frozenset({item}))

    def discard_draft(self, meeting_id: int, mrn: str, amends: int | None = None) -> ChangeSet:
        """Remove the draft of a review (the user discarded it)."""
        with self.database.write() as session:
            meetings = MeetingRepository(session)
            item = self._item(meetings, meeting_id, mrn)
            removed = meetings.delete_draft(item, amends)
        return ChangeSet(drafts=frozenset({item} if removed else ()))

    @property
    def needs_password(self) -> bool:
        """Whether signing asks the signer to re-enter their password (PostgreSQL) or the
        database's passphrase (an encrypted file): 21 CFR 11.200."""
        return self.database.is_server or self.database.passphrase is not None

    def check_signer(self, password: str | None) -> None:
        """Refuse unless the user may sign and `password` authenticates them again."""
        who = self.identity
        if not who.can(CAN_SIGN):
            raise NotAllowed(
                f"Only a clinician can sign or amend a review; {who.name} is {who.role_text}."
            )
        if not self.needs_password:
            return
        # named as the field asks for it: the login's password on a server, the encrypted
        # file's passphrase otherwise
        what = "password" if self.database.is_server else "passphrase"
        if not password:
            raise InvalidInput([Problem(what, f"re-enter your {what} to sign")])
        if self.database.is_server:
            if not verify_password(self.database.url, who.login, password):
                raise InvalidInput([Problem(what, "not right; nothing was signed")])
        elif password != self.database.passphrase:
            raise InvalidInput([Problem(what, "not right; nothing was signed")])

    def sign(
        self,
        draft: ReviewDraft,
        *,
        recommendation: str | None,
        decision: str,
        rationale: str = "",
        actions: Sequence[ReviewAction | dict[str, Any]] = (),
        next_review_date: date | str | None = None,
        attendees: Sequence[Attendee] | None = None,
        amends: int | None = None,
        password: str | None = None,
    ) -> SignedReview:
        """Sign a review: stored with the frozen evaluation, never changed afterwards.

        The signer is who is acting, never a name typed in: on PostgreSQL the server gives
        the printed name of the session user and its own time (and refuses anyone but a
        clinician); on SQLite the OS account and this computer's clock.  `password`
        re-authenticates the signer where the database has one (see `needs_password`)."""
        if not decision.strip():
            raise InvalidInput([Problem("decision", "record the board's decision")])
        early = signing_too_early(draft.meeting.date, self.database.today())
        if early:
            raise InvalidInput([Problem("meeting_date", early)])
        values: dict[str, Any] = {
            "meeting_date": draft.meeting.date,
            "question": draft.entry.question,
            "recommendation": recommendation or None,
            "decision": decision.strip(),
            "rationale": rationale.strip() or None,
            "next_review_date": next_review_date,
            "signed_by": self.identity.name,
            "signed_at": self.now(),
            "amends": amends,
            "actions": list(actions),
            "attendees": list(attendees if attendees is not None else draft.meeting.attendees),
            "follow_up": {"status": "pending"},
            "evaluation": draft.evaluation,
        }
        if recommendation is not None and recommendation not in {s.value for s in Strategy}:
            raise InvalidInput([Problem("recommendation", "must be a plan strategy")])
        review = _validated(Review, values)
        problems = review.cross_checks(self.database.today())
        if problems:
            raise InvalidInput([Problem(f, msg) for f, msg in problems])
        self.check_signer(password)
        return self._store_signed(draft, review)

    def _store_signed(self, draft: ReviewDraft, review: Review) -> SignedReview:
        """Store a signed review whose signer `check_signer` authenticated (the demo's
        reviews skip that step; the database still enforces who may sign)."""
        amends = review.amends
        with self.database.write() as session:
            if self.database.is_server:
                try:
                    signer, moment = server_signature(session)
                except IdentityError as error:
                    raise NotAllowed(str(error)) from None
                review = review.model_copy(update={"signed_by": signer, "signed_at": moment})
            cases = CaseRepository(session)
            meetings = MeetingRepository(session)
            try:
                # the version first: on PostgreSQL (read committed) a save committed between
                # the two reads then fails the version check instead of being overwritten
                version = cases.version(draft.case.mrn)
                case = cases.get(draft.case.mrn)
            except NotFound:
                raise MeetingMissing(f"There is no case with MRN {draft.case.mrn}.") from None
            if amends is not None and not (
                0 <= amends < len(case.reviews) and case.reviews[amends].signed
            ):
                raise InvalidInput([Problem("amends", "must name a signed review of the case")])
            updated = case.model_copy(update={"reviews": [*case.reviews, review]})
            try:
                cases.update(updated, version, self.evaluation.summary(updated))
            except ConflictError:
                raise BoardError(
                    "The case changed while the review was being signed; open the review again."
                ) from None
            self.evaluation.keep_comparison(session, updated)
            index = len(updated.reviews) - 1
            review_id = cases.review_id(draft.case.mrn, index)
            item = meetings.item(draft.entry.id)
            if amends is None or item.review_id is None:
                meetings.update_item(draft.entry.id, status="discussed", review_id=review_id)
            meetings.delete_draft(draft.entry.id, amends)  # signed: the draft has served
        return SignedReview(
            draft.case.mrn,
            index,
            review_id,
            ChangeSet(
                cases=frozenset({draft.case.mrn}),
                meetings=frozenset({draft.meeting.id}),
                reviews=frozenset({review_id}),
            ),
        )

    def amend(self, mrn: str, review_index: int, meeting_id: int, **fields: Any) -> SignedReview:
        """A new signed review that corrects review `review_index` (which stays as it was),
        signed the same way."""
        draft = self.start(meeting_id, mrn, review_index)
        return self.sign(draft, amends=review_index, **fields)

    def set_follow_up(
        self,
        mrn: str,
        review_index: int,
        status: str,
        reason: str | None = None,
        note: str | None = None,
    ) -> ChangeSet:
        """Record whether a signed recommendation was carried out."""
        follow_up = _validated(
            FollowUp,
            {
                "status": status,
                "reason": reason or None,
                "note": note or None,
                "recorded_on": self.database.today(),
            },
            "follow_up",
        )
        problems = follow_up.cross_checks(self.database.today())
        if problems:
            raise InvalidInput([Problem(f"follow_up.{f}", msg) for f, msg in problems])
        with self.database.write() as session:
            cases = CaseRepository(session)
            # the version with the case row, before its records: a save committed while
            # this reads fails the version check below instead of being undone
            case, version = cases.get_with_version(mrn)
            if not 0 <= review_index < len(case.reviews) or not case.reviews[review_index].signed:
                raise InvalidInput([Problem("review", "must be a signed review of the case")])
            reviews = list(case.reviews)
            reviews[review_index] = reviews[review_index].model_copy(
                update={"follow_up": follow_up}
            )
            updated = case.model_copy(update={"reviews": reviews})
            try:
                cases.update(updated, version, self.evaluation.summary(updated))
            except ConflictError:
                raise BoardError(
                    f"Case {mrn} changed while the follow-up was being recorded; nothing was "
                    "saved. Open the case again and record the follow-up."
                ) from None
            self.evaluation.keep_comparison(session, updated)
            review_id = cases.review_id(mrn, review_index)
        return ChangeSet(cases=frozenset({mrn}), follow_ups=frozenset({review_id}))

    def audit_head_at_signing(self, mrn: str, review_index: int) -> str | None:
        """The audit-chain head recorded when a review was signed (for its PDF footer)."""
        with self.database.read() as session:
            try:
                repository = CaseRepository(session)
                review_id = repository.review_id(mrn, review_index)
                case_id = repository.id_of(mrn)
            except NotFound:
                return None
            return insert_hash(session, "review", review_id, case_id)


def _item(repository: MeetingRepository, item_id: int) -> Any:
    """An agenda entry, or `MeetingMissing` in words when it is gone."""
    try:
        return repository.item(item_id)
    except MeetingNotFound:
        raise MeetingMissing(ITEM_GONE) from None
