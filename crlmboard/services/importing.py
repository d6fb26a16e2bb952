"""Bringing files into the database: case files, mCODE bundles and referral CSVs, each all or
nothing, one at a time or a whole folder in one write batch.

`board.cases` (case files, folders) and `board.interop` (bundles, referral CSVs) both import
through the `Importer`, so neither part needs the other.  A bundle is mapped to a case
document and validated like a case file; what it holds that a case cannot is returned as
notes.  A referral CSV is previewed (nothing written) or imported in one transaction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import json
import logging
import operator
import os
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crlmboard.domain.case import Case
from crlmboard.domain.caseformat import case_from_dict, case_to_dict, loads_case, parse_json
from crlmboard.domain.engine.history import EngineChange
from crlmboard.domain.meeting import MeetingFields
from crlmboard.domain.validation import InvalidInput, Problem
from crlmboard.services.changes import BoardError, ChangeSet, InputNotFound, WriteStopped
from crlmboard.services.database import Database, WriteBatch
from crlmboard.services.evaluation import EvaluationService
from crlmboard.store.database import Session, WriteFailed
from crlmboard.store.meetings import MeetingRepository
from crlmboard.store.repositories import CaseRepository, CaseSummary, ConflictError

if TYPE_CHECKING:
    from crlmboard.interop.referrals import Referral

# The exchange-format readers (crlmboard.interop) are imported where a bundle or a CSV is
# read, not at start-up: the app and the command line start without them (bench B1).

__all__ = [
    "FILES_PER_WRITE",
    "MAX_FILE_BYTES",
    "QUESTION_NOTE",
    "FileImport",
    "ImportStopped",
    "ImportSummary",
    "ImportedCase",
    "ImportedCases",
    "Importer",
    "ReferralPlan",
    "ReferralPreview",
]

log = logging.getLogger("crlmboard.cases")

MAX_FILE_BYTES = 20 * 1024 * 1024
# Case files written together by a folder import: one INSERT per table for all of them
FILES_PER_WRITE = 100
QUESTION_NOTE = (
    "row {row} ({mrn}): the question for the board is not stored without a meeting date; "
    "put the case on a meeting's agenda with it"
)
Progress = Callable[[int, int], bool]


@dataclass(frozen=True)
class ImportedCase:
    """One case file imported: its MRN and what changed."""

    mrn: str
    changes: ChangeSet


@dataclass(frozen=True)
class ImportedCases:
    """Many case files imported in one transaction: their MRNs (in order) and what changed."""

    mrns: tuple[str, ...]
    changes: ChangeSet


@dataclass(frozen=True)
class FileImport:
    """What one imported file brought in: the MRNs, what changed and notes for the user."""

    mrns: tuple[str, ...]
    changes: ChangeSet
    notes: tuple[str, ...] = ()


@dataclass
class ImportSummary:
    """What an import took in (stored: committed), what it refused and why, and — when it
    stopped (a full disk, the database taken by another program) — every file that is not
    stored."""

    imported: list[tuple[str, str]] = field(default_factory=list)  # (file, MRN), stored
    refused: list[tuple[str, list[Problem]]] = field(default_factory=list)
    notes: list[tuple[str, list[str]]] = field(default_factory=list)  # (file, notes)
    changes: ChangeSet = field(default_factory=ChangeSet)
    not_stored: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    stopped: str | None = None  # why the import stopped before its end
    internal_errors: int = 0  # files refused because of an error in crlmboard itself

    @property
    def ok(self) -> bool:
        return not self.refused and self.stopped is None


class ImportStopped(BoardError):
    """An import stopped part-way; `summary` says exactly which files are stored."""

    def __init__(self, message: str, summary: ImportSummary):
        super().__init__(message)
        self.summary = summary


@dataclass
class _Done:
    """A file written in the batch's transaction number `commits` (stored once that
    transaction is committed)."""

    file: str
    mrns: tuple[str, ...]
    notes: tuple[str, ...]
    changes: ChangeSet
    commits: int


@dataclass(frozen=True)
class _Read:
    """A case file read and validated, with the engine's summary: waiting for its batch's
    write."""

    file: str
    case: Case
    notes: tuple[str, ...]
    summary: CaseSummary
    comparison: list[EngineChange] | None = None  # the older engines' (EvaluationService)


@dataclass(frozen=True)
class _Refused:
    """A file of a batch refused before the write (or by it), with every reason."""

    file: str
    problems: list[Problem]


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
    notes: tuple[str, ...] = ()  # how the file was read (its encoding)

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


def _refused(error: WriteFailed, what: str) -> Exception:
    if error.kind == "refused":
        return InvalidInput([Problem("", f"the database refused {what}: {error.reason}")])
    return error


class Importer:
    """Imports into one open database, with the engine's summary of every case written."""

    def __init__(self, database: Database, evaluation: EvaluationService):
        self.database = database
        self.evaluation = evaluation

    # -- case files -----------------------------------------------------------------------

    def case(
        self,
        case: Case,
        replace: bool,
        batch: WriteBatch | None = None,
        summary: CaseSummary | None = None,
    ) -> ImportedCase:
        """Store one case read from a file (a new one, or with `replace` over the stored one,
        whose signed reviews the file cannot rewrite).  `summary`: the engine's summary of
        `case`, when it was made before (outside the writer lock)."""
        try:
            with self.database.write(batch) as session:
                repository = CaseRepository(session)
                if repository.exists(case.mrn):
                    if not replace:
                        raise InvalidInput(
                            [
                                Problem(
                                    "patient.mrn",
                                    f"a case with MRN {case.mrn} already exists (use --replace "
                                    "to update it from this file)",
                                )
                            ]
                        )
                    # the version before the case (see ReviewService.sign): a save committed
                    # in between is refused by the version check, never overwritten
                    version = repository.version(case.mrn)
                    stored = repository.get(case.mrn)
                    # Reviews already stored are history: the file cannot rewrite them.
                    case = case.model_copy(
                        update={"reviews": stored.reviews + case.reviews[len(stored.reviews) :]}
                    )
                    repository.update(case, version, self.evaluation.summary(case))
                    self.evaluation.keep_comparison(session, case)
                else:
                    repository.create(
                        case,
                        summary or self.evaluation.summary(case),
                        then=lambda: self.evaluation.keep_comparison(session, case),
                    )
        except WriteFailed as error:
            raise _refused(error, "the case") from None
        return ImportedCase(case.mrn, ChangeSet(cases=frozenset({case.mrn})))

    def text(self, text: str, replace: bool, batch: WriteBatch | None = None) -> ImportedCase:
        return self.case(loads_case(text, self.database.today()), replace, batch)

    def document(
        self, data: dict[str, Any], replace: bool, batch: WriteBatch | None = None
    ) -> ImportedCase:
        return self.case(case_from_dict(data, self.database.today()), replace, batch)

    def _store_comparisons(
        self, session: Any, cases: Sequence[Case], compared: Sequence[Any]
    ) -> None:
        """Store each new case's older engines' comparison (made before the write) while
        `create_many` has the cases' audit rows still to write: each joins its case's row,
        as when the file is imported alone."""
        for case, changes in zip(cases, compared, strict=True):
            self.evaluation.store_comparison(session, case.mrn, changes)

    def many(self, texts: Iterable[str]) -> ImportedCases:
        """Many new cases' file texts in one transaction, all or nothing (see
        `CaseService.import_many`)."""
        today = self.database.today()
        cases: list[Case] = []
        problems: list[Problem] = []
        for n, text in enumerate(texts):
            try:
                cases.append(loads_case(text, today))
            except InvalidInput as error:
                problems += [
                    Problem(f"[{n}].{p.path}" if p.path else f"[{n}]", p.message)
                    for p in error.problems
                ]
        seen: set[str] = set()
        for n, case in enumerate(cases):
            if case.mrn in seen:
                problems.append(Problem(f"[{n}].patient.mrn", f"MRN {case.mrn} is given twice"))
            seen.add(case.mrn)
        if problems:
            raise InvalidInput(problems)
        summaries = [self.evaluation.summary(case) for case in cases]  # outside the lock
        compared = [self.evaluation.comparison(case) for case in cases]
        try:
            with self.database.write() as session:
                repository = CaseRepository(session)
                existing = repository.existing([case.mrn for case in cases])
                for n, case in enumerate(cases):
                    if case.mrn in existing:
                        raise InvalidInput(
                            [
                                Problem(
                                    f"[{n}].patient.mrn",
                                    f"a case with MRN {case.mrn} already exists",
                                )
                            ]
                        )
                repository.create_many(
                    list(zip(cases, summaries, strict=True)),
                    then=lambda: self._store_comparisons(session, cases, compared),
                )
        except WriteFailed as error:
            raise _refused(error, "the cases") from None
        mrns = tuple(case.mrn for case in cases)
        return ImportedCases(mrns, ChangeSet(cases=frozenset(mrns)))

    # -- mCODE bundles --------------------------------------------------------------------

    def bundle_case(self, bundle: Any) -> tuple[Case, list[str]]:
        """The case a bundle carries (validated like a case file) and the unmapped notes."""
        from crlmboard.interop.mcode_import import bundle_to_document

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
        case = case_from_dict(mapped.document, self.database.today())
        return case, mapped.notes

    def bundle(self, bundle: Any, replace: bool, batch: WriteBatch | None = None) -> FileImport:
        case, notes = self.bundle_case(bundle)
        imported = self.case(case, replace, batch)
        return FileImport((imported.mrn,), imported.changes, tuple(notes))

    # -- any file, a folder ---------------------------------------------------------------

    def file(
        self, path: str | os.PathLike[str], replace: bool, batch: WriteBatch | None = None
    ) -> FileImport:
        """A case file, an mCODE bundle (JSON with resourceType Bundle) or a referral CSV
        (by its suffix).  Raises InvalidInput with every problem."""
        file = Path(path)
        if file.suffix.lower() == ".csv":
            _check_size(file)
            return self.referrals(file)
        case, notes = self.read_case(file)
        imported = self.case(case, replace, batch)
        return FileImport((imported.mrn,), imported.changes, notes)

    def read_case(self, file: Path) -> tuple[Case, tuple[str, ...]]:
        """The case of a case file or an mCODE bundle, validated (nothing written), and
        the bundle's notes.  Raises InvalidInput with every problem."""
        _check_size(file)
        text = file.read_text(encoding="utf-8")
        try:
            data = parse_json(text)
        except json.JSONDecodeError:
            data = None  # the case-file reader reports it with line and column
        from crlmboard.interop.mcode_import import is_bundle

        if is_bundle(data):
            case, notes = self.bundle_case(data)
            return case, tuple(notes)
        if isinstance(data, dict):  # read once, not again by `loads_case`
            return case_from_dict(data, self.database.today()), ()
        return loads_case(text, self.database.today()), ()

    def path(
        self, path: str | os.PathLike[str], replace: bool, progress: Progress | None
    ) -> ImportSummary:
        """A file, or every `*.json` file of a folder in one write batch (each file all or
        nothing).  `progress(done, total)` may return False to stop before the next file.
        A full disk, a read-only database or the writer lock taken elsewhere stops the
        import: `ImportStopped` carries the summary naming what is stored and what is not."""
        source = Path(path)
        if source.is_dir():
            files = sorted(
                p
                for p in source.iterdir()
                if p.suffix.lower() == ".json"
                and p.is_file()
                and not p.name.endswith(".expected.json")
            )
            self.database.check_writable()
            self.database.backup_before("folder import")
        elif source.is_file():
            self.database.check_writable()
            files = [source]
        else:
            raise InputNotFound(f"{source} is neither a case file nor a folder.")
        summary = ImportSummary()
        pending: list[_Done] = []
        tried: list[Path] = []
        writing: list[str] = []  # the files of the write in progress
        try:
            with _fewer_collections() as collect, self.database.batched() as batch:
                self._files(
                    files, summary, replace, progress, batch, pending, tried, writing, collect
                )
        except WriteStopped as error:
            message = _stopped(summary, str(error), pending, files, tried, writing)
            raise ImportStopped(message, summary) from None
        _stored(summary, pending)
        return summary

    def _files(
        self,
        files: list[Path],
        summary: ImportSummary,
        replace: bool,
        progress: Progress | None,
        batch: WriteBatch,
        pending: list[_Done],
        tried: list[Path],
        writing: list[str],
        collect: Callable[[], None],
    ) -> None:
        """Read and validate the files (outside the writer lock) and write them
        FILES_PER_WRITE at a time (`_write`); a referral CSV is written alone.  `collect`
        runs the garbage collector after each batch (`_fewer_collections`)."""
        chunk: list[_Read | _Refused] = []
        ready = 0
        for done, file in enumerate(files):
            if progress is not None and progress(done, len(files)) is False:
                break
            _stored(summary, pending, batch.commits)  # committed meanwhile (another write)
            tried.append(file)
            if file.suffix.lower() == ".csv":  # committed in a transaction of its own
                self._write(chunk, summary, replace, batch, pending, writing)
                chunk, ready = [], 0
                collect()
                writing[:] = [str(file)]
                try:
                    imported = self.file(file, replace, batch)
                except WriteStopped:
                    raise  # the import stops here (`path` says what is stored)
                except Exception as error:
                    summary.refused.append((str(file), _problems(error, summary)))
                else:
                    pending.append(
                        _Done(str(file), imported.mrns, imported.notes, imported.changes, -1)
                    )
                writing.clear()
                continue
            try:
                case, notes = self.read_case(file)
                evaluation = self.evaluation
                chunk.append(
                    _Read(
                        str(file),
                        case,
                        notes,
                        evaluation.summary(case),
                        evaluation.comparison(case),
                    )
                )
                ready += 1
            except Exception as error:
                chunk.append(_Refused(str(file), _problems(error, summary)))
            if ready >= FILES_PER_WRITE:
                self._write(chunk, summary, replace, batch, pending, writing)
                chunk, ready = [], 0
                collect()
        self._write(chunk, summary, replace, batch, pending, writing)
        _stored(summary, pending, batch.commits)
        if progress is not None:
            progress(len(files), len(files))

    def _write(
        self,
        chunk: list[_Read | _Refused],
        summary: ImportSummary,
        replace: bool,
        batch: WriteBatch,
        pending: list[_Done],
        writing: list[str],
    ) -> None:
        """Write the files of a chunk that were read: the new cases all together (one
        INSERT per table, their audit rows in one), each still all or nothing — when the
        database refuses the batch, it is rolled back and its files are written one by
        one, so that only a file it refuses is refused.  A case whose MRN is stored
        already (or comes twice) is written alone (refused, or replaced with `replace`).
        Every refusal of the chunk goes to the summary in file order."""
        refused: dict[str, list[Problem]] = {
            entry.file: entry.problems for entry in chunk if isinstance(entry, _Refused)
        }
        read = [entry for entry in chunk if isinstance(entry, _Read)]
        writing[:] = [entry.file for entry in read]
        try:
            alone = self._write_together(read, batch, pending) if read else []
            for entry in alone:
                transaction = batch.commits
                try:
                    imported = self.case(entry.case, replace, batch, entry.summary)
                except WriteStopped:
                    raise
                except Exception as error:
                    refused[entry.file] = _problems(error, summary)
                else:
                    pending.append(
                        _Done(
                            entry.file, (imported.mrn,), entry.notes, imported.changes, transaction
                        )
                    )
        finally:
            summary.refused += [(e.file, refused[e.file]) for e in chunk if e.file in refused]
        writing.clear()

    def _write_together(
        self, read: list[_Read], batch: WriteBatch, pending: list[_Done]
    ) -> list[_Read]:
        """Create the new cases of `read` in one savepoint of the batch; returns the files
        to write one by one (all of them when the database refused the batch)."""
        transaction = batch.commits
        fresh: list[_Read] = []
        alone: list[_Read] = []
        try:
            with self.database.write(batch, counts=len(read)) as session:
                repository = CaseRepository(session)
                seen = repository.existing([entry.case.mrn for entry in read])
                for entry in read:
                    (alone if entry.case.mrn in seen else fresh).append(entry)
                    seen.add(entry.case.mrn)
                repository.create_many(
                    [(entry.case, entry.summary) for entry in fresh],
                    then=lambda: self._store_comparisons(
                        session, [e.case for e in fresh], [e.comparison for e in fresh]
                    ),
                )
        except WriteStopped:
            raise
        except Exception as error:  # each file on its own says which one it was
            log.warning(
                "%d files could not be written together (%s); writing them one by one",
                len(read),
                type(error).__name__,
            )
            return read
        pending += [
            _Done(
                entry.file,
                (entry.case.mrn,),
                entry.notes,
                ChangeSet(cases=frozenset({entry.case.mrn})),
                transaction,
            )
            for entry in fresh
        ]
        return alone

    # -- referral CSV ---------------------------------------------------------------------

    def _referrals(self, path: str | os.PathLike[str]) -> tuple[list[Referral], list[str]]:
        """The file's rows and how it was read (its encoding)."""
        from crlmboard.interop.referrals import read_referrals

        return read_referrals(Path(path).read_bytes(), self.database.today())

    def _plan(
        self, referrals: list[Referral], repository: CaseRepository
    ) -> list[tuple[ReferralPlan, Case | None, int]]:
        """What each row will do, with the case to write (None: nothing) and its version."""
        from crlmboard.interop.referrals import column_of

        today = self.database.today()
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
                # the version with the case row, before its records: a save committed
                # meanwhile fails the version check instead of being undone
                found, version = repository.get_with_version(referral.mrn)
                stored = case_to_dict(found)
                document, filled, kept = _merge(stored, referral)
                action = "update" if filled else "unchanged"
                fields = filled
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
        referrals, notes = self._referrals(path)
        with self.database.read() as session:
            plans = self._plan(referrals, CaseRepository(session))
        return ReferralPreview(tuple(plan for plan, _, _ in plans), tuple(notes))

    def referrals(self, path: str | os.PathLike[str]) -> FileImport:
        """Create or fill in a case per row, all rows in one transaction or none."""
        referrals, read_notes = self._referrals(path)
        self.database.check_writable()
        self.database.backup_before("referral import")
        try:
            with self.database.write() as session:
                repository = CaseRepository(session)
                plans = self._plan(referrals, repository)
                for plan, case, version in plans:
                    if case is None:
                        continue
                    summary = self.evaluation.summary(case)
                    if plan.action == "create":
                        repository.create(case, summary)
                        continue
                    try:
                        repository.update(case, version, summary)
                    except ConflictError:
                        raise BoardError(
                            f"Case {plan.mrn} (row {plan.row}) changed while the file was "
                            "being imported; nothing of the file was stored. Import it again."
                        ) from None
                agenda_notes, meetings = _put_on_agendas(session, repository, plans)
        except WriteFailed as error:
            raise _refused(error, "a case") from None
        changed = frozenset(plan.mrn for plan, case, _ in plans if case is not None)
        notes = [*read_notes]
        notes += [
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


@contextlib.contextmanager
def _fewer_collections() -> Iterator[Callable[[], None]]:
    """Python's garbage collector between two batches only while files are imported.  It
    runs after every 700 objects made and not yet freed, and an import keeps a batch of
    cases and their rows alive while it writes them: each run walked the batch again, and
    its survivors again in the older generations (a tenth of the import's time at 700,
    bench/README.md, B5; 7 % still at every 10,000 objects).  Its automatic runs are off
    for the import, which calls the function given here after each batch is written and
    freed: the young generations are collected when little is alive (a batch's cyclic
    garbage does not outlive it).  The objects alive before the import (the program's
    modules, schemas, the window) are frozen for its length (`gc.freeze`).  All restored
    afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    frozen = gc.get_freeze_count() == 0
    if frozen:
        gc.freeze()

    def between_batches() -> None:
        if enabled:
            gc.collect(1)

    try:
        yield between_batches
    finally:
        if frozen:
            gc.unfreeze()
        if enabled:
            gc.enable()


def _check_size(file: Path) -> None:
    if file.stat().st_size > MAX_FILE_BYTES:
        raise InvalidInput([Problem("", "the file is larger than 20 MB")])


def _problems(error: Exception, summary: ImportSummary) -> list[Problem]:
    """Why a file was refused, said plainly; a fault in crlmboard itself is logged (its
    traceback, without values) and counted: that file only, the rest go on."""
    if isinstance(error, InvalidInput):
        return list(error.problems)
    if isinstance(error, UnicodeDecodeError):
        return [Problem("", "the file is not UTF-8 text")]
    if isinstance(error, OSError):
        return [Problem("", f"cannot read it: {error.strerror}")]
    if isinstance(error, BoardError):
        return [Problem("", str(error))]
    log.error(
        "importing a file failed (%s); traceback without values:\n%s",
        type(error).__name__,
        "".join(traceback.format_tb(error.__traceback__)),
    )
    summary.internal_errors += 1
    return [
        Problem(
            "",
            f"crlmboard could not import it (an internal error, {type(error).__name__}; "
            "the details are in the log); nothing of it was stored",
        )
    ]


def _stored(summary: ImportSummary, pending: list[_Done], commits: int | None = None) -> None:
    """The files whose transaction is committed (all of them without `commits`, the
    batch's count of commits) are stored: count them as imported."""
    stored = [d for d in pending if commits is None or d.commits < commits]
    if not stored:
        return
    for done in stored:
        summary.imported.extend((done.file, mrn) for mrn in done.mrns)
        if done.notes:
            summary.notes.append((done.file, list(done.notes)))
    # one union for them all (file by file, each union copied the whole import's MRNs:
    # quadratic in the files of a folder)
    summary.changes = functools.reduce(
        operator.or_, _by_kind(done.changes for done in stored), summary.changes
    )
    kept = {id(done) for done in stored}
    pending[:] = [d for d in pending if id(d) not in kept]


def _by_kind(changes: Iterable[ChangeSet]) -> list[ChangeSet]:
    """The changes of many files as one change set (each kind's sets joined at once, as
    `ChangeSet.__or__` joins two)."""
    found = list(changes)
    if len(found) <= 1:
        return found
    joined: dict[str, Any] = {}
    for kind in dataclasses.fields(ChangeSet):
        values = [getattr(c, kind.name) for c in found]
        joined[kind.name] = (
            any(values) if isinstance(values[0], bool) else frozenset().union(*values)
        )
    return [ChangeSet(**joined)]


def _stopped(
    summary: ImportSummary,
    reason: str,
    pending: list[_Done],
    files: list[Path],
    tried: list[Path],
    writing: list[str],
) -> str:
    """Fill in what an import that stopped did not store; the message to show.  `writing`:
    the files of the write it stopped at."""
    summary.stopped = reason
    summary.not_stored += [(done.file, "rolled back when the import stopped") for done in pending]
    refused = {file for file, _problems in summary.refused}
    done = {d.file for d in pending} | {file for file, _mrn in summary.imported}
    summary.not_stored += [
        (file, "not stored: the import stopped at it")
        for file in writing
        if file not in refused and file not in done
    ]
    summary.not_stored += [
        (str(file), "not imported: the import stopped before it")
        for file in files[len(tried) :]
        if str(file) not in refused
    ]
    stored = len({file for file, _mrn in summary.imported})
    log.warning("an import stopped: %d files stored, %d not", stored, len(summary.not_stored))
    return (
        f"{reason} The import stopped: {stored} of {len(files)} files stored, "
        f"{len(summary.not_stored)} not stored, {len(summary.refused)} refused."
    )


def _put_on_agendas(
    session: Session, cases: CaseRepository, plans: list[tuple[ReferralPlan, Case | None, int]]
) -> tuple[list[str], frozenset[int]]:
    """Put each row with a meeting date on that meeting's agenda with its question (the
    meeting is created when there is none that day), in the import's transaction.  A case
    already on that agenda is left there.  Returns notes and the meetings changed."""
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
