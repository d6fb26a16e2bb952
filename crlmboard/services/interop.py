"""`board.interop`: mCODE FHIR bundles out and in, and the referral CSV in.

Export evaluates the case with the guideline engine as of today and the profile in force (the
RECIST response per timepoint) and writes the bundle atomically.  Import of a bundle maps it
to a case document, validates it like a case file and stores it through `board.cases`; what
the bundle holds that a case cannot is returned as notes.  The referral CSV is previewed
(nothing written) or imported all or nothing in one transaction.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError, OperationalError

from crlmboard.domain.case import Case
from crlmboard.domain.caseformat import case_from_dict, case_to_dict, dumps_case, parse_json
from crlmboard.domain.validation import InvalidInput, Problem
from crlmboard.interop.mcode import case_to_bundle
from crlmboard.interop.mcode_import import bundle_to_document, is_bundle
from crlmboard.interop.referrals import Referral, column_of, parse_referrals
from crlmboard.services.board import BoardError, ChangeSet
from crlmboard.store.repositories import CaseRepository

if TYPE_CHECKING:
    from crlmboard.services.board import Board

log = logging.getLogger("crlmboard.interop")

__all__ = ["FileImport", "InteropService", "ReferralPlan", "ReferralPreview"]

MAX_FILE_BYTES = 20 * 1024 * 1024
QUESTION_NOTE = (
    "row {row} ({mrn}): the question for the board is not stored without a meeting date; "
    "put the case on a meeting's agenda with it"
)


@dataclass(frozen=True)
class FileImport:
    """What one imported file brought in: the MRNs, what changed and notes for the user."""

    mrns: tuple[str, ...]
    changes: ChangeSet
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReferralPlan:
    """What importing one row will do."""

    row: int
    mrn: str
    action: str  # "create" | "update" | "unchanged"
    fields: dict[str, Any]  # the fields that will be written
    kept: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field → (stored, file)
    question: str | None = None
    meeting_date: date | None = None


@dataclass(frozen=True)
class ReferralPreview:
    """The whole file as it will be imported."""

    rows: tuple[ReferralPlan, ...]

    @property
    def creates(self) -> int:
        return sum(r.action == "create" for r in self.rows)

    @property
    def updates(self) -> int:
        return sum(r.action == "update" for r in self.rows)


def _flat(document: dict[str, Any]) -> dict[str, Any]:
    """The referral fields of a case document by template column name."""
    out = dict(document.get("patient") or {})
    primary = document.get("primary") or {}
    if primary.get("site") is not None:
        out["primary_site"] = primary["site"]
    if primary.get("diagnosis_date") is not None:
        out["diagnosis_date"] = primary["diagnosis_date"]
    if document.get("liver_metastases_diagnosis_date") is not None:
        out["liver_metastases_diagnosis_date"] = document["liver_metastases_diagnosis_date"]
    return out


def _merge(
    stored: dict[str, Any], referral: Referral
) -> tuple[dict[str, Any], dict[str, Any], dict[str, tuple[Any, Any]]]:
    """Fill only the empty fields of a stored case; returns (document, filled, kept)."""
    document = json.loads(json.dumps(stored))
    have = _flat(stored)
    filled: dict[str, Any] = {}
    kept: dict[str, tuple[Any, Any]] = {}
    for column, value in referral.fields().items():
        if column == "mrn":
            continue
        if have.get(column) is None:
            filled[column] = value
        elif have[column] != value:
            kept[column] = (have[column], value)
    for column, value in filled.items():
        if column == "primary_site":
            document.setdefault("primary", {})["site"] = value
        elif column == "diagnosis_date":
            document.setdefault("primary", {})["diagnosis_date"] = value
        elif column == "liver_metastases_diagnosis_date":
            document[column] = value
        else:
            document["patient"][column] = value
    return document, filled, kept


class InteropService:
    """Exchange formats of one Board."""

    def __init__(self, board: Board):
        self.board = board

    # -- mCODE export -------------------------------------------------------------------

    def export_fhir(self, mrn: str) -> dict[str, Any]:
        """The mCODE bundle of a case, as of today with the profile in force."""
        case = self.board.cases.get(mrn)
        return case_to_bundle(case, as_of=self.board.today(), profile=self.board.evaluation.profile)

    def fhir_text(self, mrn: str) -> str:
        return json.dumps(self.export_fhir(mrn), indent=2, ensure_ascii=False) + "\n"

    def write_fhir(self, mrn: str, destination: str | os.PathLike[str]) -> Path:
        """Write the bundle atomically (temporary file, fsync, rename)."""
        from crlmboard.services.cases import write_file_atomically

        return write_file_atomically(Path(destination), self.fhir_text(mrn).encode("utf-8"))

    # -- mCODE import -------------------------------------------------------------------

    def bundle_case(self, bundle: Any) -> tuple[Case, list[str]]:
        """The case a bundle carries (validated like a case file) and the unmapped notes."""
        try:
            mapped = bundle_to_document(bundle)
        except InvalidInput:
            raise
        except (
            AttributeError,
            KeyError,
            IndexError,
            TypeError,
            ValueError,
            RecursionError,
        ) as error:
            # A bundle of an unexpected shape the reader did not foresee: refused as bad
            # input (exit 2), the type of the fault logged without values.
            log.warning("an mCODE bundle could not be read (%s)", type(error).__name__)
            raise InvalidInput(
                [
                    Problem(
                        "",
                        "the mCODE bundle has a structure crlmboard cannot read (a resource "
                        f"or value of an unexpected type: {type(error).__name__}); nothing "
                        "was imported",
                    )
                ]
            ) from None
        case = case_from_dict(mapped.document, self.board.today())
        return case, mapped.notes

    def import_bundle(self, bundle: Any, *, replace: bool = False) -> FileImport:
        case, notes = self.bundle_case(bundle)
        imported = self.board.cases.import_text(dumps_case(case), replace=replace)
        return FileImport((imported.mrn,), imported.changes, tuple(notes))

    # -- files, as `crlmboard import` meets them ----------------------------------------

    def import_file(self, path: str | os.PathLike[str], *, replace: bool = False) -> FileImport:
        """Import a case file, an mCODE bundle (JSON with resourceType Bundle) or a referral
        CSV (by its suffix).  Raises InvalidInput with every problem."""
        file = Path(path)
        if file.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput([Problem("", "the file is larger than 20 MB")])
        if file.suffix.lower() == ".csv":
            return self.import_referrals(file)
        text = file.read_text(encoding="utf-8")
        try:
            data = parse_json(text)
        except json.JSONDecodeError:
            data = None  # the case-file reader reports it with line and column
        if is_bundle(data):
            return self.import_bundle(data, replace=replace)
        if isinstance(data, dict):  # read once, not again by import_text
            imported = self.board.cases.import_document(data, replace=replace)
        else:
            imported = self.board.cases.import_text(text, replace=replace)
        return FileImport((imported.mrn,), imported.changes)

    # -- referral CSV -------------------------------------------------------------------

    def _referrals(self, path: str | os.PathLike[str]) -> list[Referral]:
        return parse_referrals(Path(path).read_bytes(), self.board.today())

    def _plan(
        self, referrals: list[Referral], repository: CaseRepository
    ) -> list[tuple[ReferralPlan, Case | None, int]]:
        """What each row will do, with the case to write (None: nothing) and its version."""
        today = self.board.today()
        plans: list[tuple[ReferralPlan, Case | None, int]] = []
        problems: list[Problem] = []
        for referral in referrals:
            if referral.meeting_date is not None and not (referral.question or "").strip():
                problems.append(
                    Problem(
                        f"row {referral.row}, question",
                        "the question for the board is needed to put the case on the agenda "
                        f"of the meeting on {referral.meeting_date.isoformat()}",
                    )
                )
            if repository.exists(referral.mrn):
                stored = case_to_dict(repository.get(referral.mrn))
                document, filled, kept = _merge(stored, referral)
                action = "update" if filled else "unchanged"
                fields = filled
                version = repository.version(referral.mrn)
            else:
                document, fields, kept = referral.document, referral.fields(), {}
                action, version = "create", 0
            try:
                case = case_from_dict(document, today) if action != "unchanged" else None
            except InvalidInput as error:
                problems.extend(
                    Problem(f"row {referral.row}, {column_of(p.path)}", p.message)
                    for p in error.problems
                )
                continue
            plans.append(
                (
                    ReferralPlan(
                        referral.row,
                        referral.mrn,
                        action,
                        fields,
                        kept,
                        referral.question,
                        referral.meeting_date,
                    ),
                    case,
                    version,
                )
            )
        if problems:
            raise InvalidInput(problems)
        return plans

    def preview_referrals(self, path: str | os.PathLike[str]) -> ReferralPreview:
        """What importing the file would create and fill in; nothing is written."""
        referrals = self._referrals(path)
        from crlmboard.store.database import read_session

        with read_session(self.board.engine) as session:
            plans = self._plan(referrals, CaseRepository(session))
        return ReferralPreview(tuple(plan for plan, _, _ in plans))

    def import_referrals(self, path: str | os.PathLike[str]) -> FileImport:
        """Create or fill in a case per row, all rows in one transaction or none."""
        referrals = self._referrals(path)
        self.board.check_writable()
        self.board.maintenance.backup_before("referral import")
        try:
            with self.board.writing() as session:
                repository = CaseRepository(session)
                plans = self._plan(referrals, repository)
                for plan, case, version in plans:
                    if case is None:
                        continue
                    summary = self.board.cases._summary(case)
                    if plan.action == "create":
                        repository.create(case, summary)
                    else:
                        repository.update(case, version, summary)
                agenda_notes, meetings = _put_on_agendas(session, repository, plans)
        except IntegrityError as error:
            raise InvalidInput(
                [Problem("", f"the database refused a case: {error.orig}")]
            ) from None
        except OperationalError as error:
            raise BoardError(f"The database could not complete the import: {error.orig}") from None
        changed = frozenset(plan.mrn for plan, case, _ in plans if case is not None)
        notes = [
            f"row {plan.row} ({plan.mrn}): kept the stored {column} {old!r}, the file has {new!r}"
            for plan, _, _ in plans
            for column, (old, new) in plan.kept.items()
        ]
        notes += [
            f"row {plan.row} ({plan.mrn}): nothing to fill in"
            for plan, case, _ in plans
            if case is None
        ]
        notes += agenda_notes
        notes += [
            QUESTION_NOTE.format(row=plan.row, mrn=plan.mrn)
            for plan, _, _ in plans
            if plan.question and plan.meeting_date is None
        ]
        on_agenda = frozenset(plan.mrn for plan, _, _ in plans if plan.meeting_date)
        return FileImport(
            tuple(plan.mrn for plan, case, _ in plans if case is not None),
            ChangeSet(cases=changed | on_agenda, meetings=meetings),
            tuple(notes),
        )


def _put_on_agendas(
    session: Any, cases: CaseRepository, plans: list[tuple[ReferralPlan, Case | None, int]]
) -> tuple[list[str], frozenset[int]]:
    """Put each row with a meeting date on that meeting's agenda with its question (the
    meeting is created when there is none that day), in the import's transaction.  A case
    already on that agenda is left there.  Returns notes and the meetings changed."""
    from crlmboard.domain.meeting import MeetingFields
    from crlmboard.store.meetings import MeetingRepository

    meetings = MeetingRepository(session)
    notes: list[str] = []
    changed: set[int] = set()
    for plan, _case, _version in plans:
        if plan.meeting_date is None or not plan.question:
            continue
        when = plan.meeting_date.isoformat()
        found = meetings.on_date(plan.meeting_date)
        if found:
            meeting_id = found[0]
        else:
            meeting_id = meetings.create(MeetingFields(date=plan.meeting_date), [])
            notes.append(f"created the meeting on {when}")
        case_id = cases.id_of(plan.mrn)
        existing = meetings.item_for_case(meeting_id, case_id)
        if existing is not None and existing.status not in ("held", "moved"):
            notes.append(
                f"row {plan.row} ({plan.mrn}): already on the agenda of the meeting on {when}"
            )
            continue
        meetings.add_item(meeting_id, case_id, plan.question.strip())
        changed.add(meeting_id)
        notes.append(f"row {plan.row} ({plan.mrn}): put on the agenda of the meeting on {when}")
    return notes, frozenset(changed)
