"""`board.cases`: list, open, save, import and export cases."""

from __future__ import annotations

import errno
import logging
import os
import tempfile
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError, OperationalError

from crlmboard.domain.case import Case
from crlmboard.domain.caseformat import case_from_dict, case_to_dict, dumps_case, loads_case
from crlmboard.domain.validation import InvalidInput, Problem
from crlmboard.services.board import BoardError, ChangeSet
from crlmboard.services.maintenance import Busy, DiskFull, WriteStopped
from crlmboard.store.database import read_session
from crlmboard.store.repositories import (
    SORT_KEYS,
    CaseListEntry,
    CaseRepository,
    CaseSummary,
    ConflictError,
    NotFound,
)

if TYPE_CHECKING:
    from crlmboard.services.board import Board

__all__ = [
    "SORT_KEYS",
    "CaseListEntry",
    "CaseService",
    "ImportStopped",
    "ImportSummary",
    "ImportedCase",
    "ImportedCases",
    "SavedCase",
]

log = logging.getLogger("crlmboard.cases")

MAX_CASE_FILE_BYTES = 20 * 1024 * 1024


class CaseNotFound(BoardError, LookupError):
    """No case has this MRN."""


class InputNotFound(BoardError, LookupError):
    """A file or folder to read does not exist."""


class CaseConflict(BoardError):
    """Someone saved the case after it was opened here: the refused edit (`mine`), what is
    stored now (`theirs`), both versions, and each field where they differ, both values."""

    def __init__(self, mine: Case, theirs: Case, expected_version: int, stored_version: int):
        self.mine = mine
        self.theirs = theirs
        self.expected_version = expected_version
        self.stored_version = stored_version
        self.differences = differences(theirs, mine)
        super().__init__(
            f"Case {theirs.mrn} was changed by someone else after you opened it (you opened "
            f"version {expected_version}; it is now version {stored_version}). Your edit was "
            "not saved. Reopen the case to see their changes, then make your edit again."
            + "".join(f"\n{line}" for line in self.differences)
        )


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(data, list):
        out = {}
        for index, value in enumerate(data):
            out.update(_flatten(value, f"{prefix}[{index}]"))
        return out or {prefix: "[]"}
    return {prefix: data}


def differences(theirs: Case, mine: Case, limit: int = 12) -> list[str]:
    """`path: theirs → yours` for each field where two versions of a case differ."""
    a, b = _flatten(case_to_dict(theirs)), _flatten(case_to_dict(mine))
    lines = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            lines.append(f"{key}: theirs {a.get(key, '—')!s} → yours {b.get(key, '—')!s}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"… and {len(lines) - limit} more"]
    return lines


@dataclass(frozen=True)
class SavedCase:
    """The result of a save: the case's new version and what changed."""

    mrn: str
    version: int
    changes: ChangeSet


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
    """A file written in the open batch transaction (stored once it commits)."""

    file: str
    mrns: tuple[str, ...]
    notes: tuple[str, ...]
    changes: ChangeSet


class CaseService:
    """Use cases on the cases of one Board."""

    def __init__(self, board: Board):
        self.board = board

    def _summary(self, case: Case) -> CaseSummary:
        """What the case list shows: resectability and the engine's view as of today."""
        plan = case.plan
        resectability = plan.resectability.value if plan and plan.resectability else None
        evaluation = self.board.evaluation.evaluate(case)
        severities = [f.severity.value for f in evaluation.findings]
        return CaseSummary(
            resectability=resectability,
            current_response=evaluation.facts.current_response,
            open_warnings=severities.count("warning"),
            open_criticals=severities.count("critical"),
        )

    # -- reading --------------------------------------------------------------------

    def count(self, query: str = "") -> int:
        with read_session(self.board.engine) as session:
            return CaseRepository(session).count(query)

    def page(
        self,
        query: str = "",
        *,
        sort: str = "name",
        descending: bool = False,
        offset: int = 0,
        limit: int = 200,
    ) -> list[CaseListEntry]:
        """A page of the case list; `query` matches MRN and names (every word)."""
        with read_session(self.board.engine) as session:
            return CaseRepository(session).page(
                query,
                sort=sort,
                descending=descending,
                offset=offset,
                limit=limit,
                today=self.board.today(),
            )

    def position(
        self, mrn: str, query: str = "", *, sort: str = "name", descending: bool = False
    ) -> int | None:
        """The row of a case in the list `page` reads with the same query and order (None
        when the query leaves it out)."""
        with read_session(self.board.engine) as session:
            return CaseRepository(session).position(
                mrn, query, sort=sort, descending=descending, today=self.board.today()
            )

    def get(self, mrn: str) -> Case:
        with read_session(self.board.engine) as session:
            try:
                return CaseRepository(session).get(mrn)
            except NotFound:
                raise CaseNotFound(f"There is no case with MRN {mrn}.") from None

    def get_with_version(self, mrn: str) -> tuple[Case, int]:
        """A case and the version to pass back to `save`."""
        with read_session(self.board.engine) as session:
            repository = CaseRepository(session)
            try:
                return repository.get_with_version(mrn)
            except NotFound:
                raise CaseNotFound(f"There is no case with MRN {mrn}.") from None

    # -- writing --------------------------------------------------------------------

    def validate(self, case: Case) -> Case:
        """Re-check a case built by a form; raise InvalidInput with every problem."""
        problems = case.problems(self.board.today())
        if problems:
            raise InvalidInput(problems)
        return case

    def create(self, case: Case) -> SavedCase:
        """Store a new case."""
        self.validate(case)
        try:
            with self.board.writing() as session:
                repository = CaseRepository(session)
                if repository.exists(case.mrn):
                    raise InvalidInput(
                        [Problem("patient.mrn", f"a case with MRN {case.mrn} already exists")]
                    )
                repository.create(case, self._summary(case))
        except OperationalError as error:
            raise _busy(error) from None
        return SavedCase(case.mrn, 1, ChangeSet(cases=frozenset({case.mrn})))

    def save(self, case: Case, expected_version: int, *, mrn: str | None = None) -> SavedCase:
        """Replace a case's record if nobody saved it since `expected_version`.

        `mrn` is the case's MRN before this edit, when the edit changes it.
        """
        self.validate(case)
        old = mrn or case.mrn
        try:
            with self.board.writing() as session:
                repository = CaseRepository(session)
                if not repository.exists(old):
                    raise CaseNotFound(f"There is no case with MRN {old}.")
                if old != case.mrn and repository.exists(case.mrn):
                    raise InvalidInput(
                        [Problem("patient.mrn", f"a case with MRN {case.mrn} already exists")]
                    )
                version = repository.update(
                    case, expected_version, self._summary(case), rename_from=old
                )
        except ConflictError:
            theirs, stored_version = self.get_with_version(old)
            raise CaseConflict(case, theirs, expected_version, stored_version) from None
        except OperationalError as error:
            raise _busy(error) from None
        return SavedCase(case.mrn, version, ChangeSet(cases=frozenset({old, case.mrn})))

    # -- files ----------------------------------------------------------------------

    def import_text(self, text: str, *, replace: bool = False) -> ImportedCase:
        """Import one case file's text, all or nothing."""
        return self._import_case(loads_case(text, self.board.today()), replace)

    def import_document(self, data: dict[str, Any], *, replace: bool = False) -> ImportedCase:
        """Import one case file already read as JSON (`caseformat.parse_json`)."""
        return self._import_case(case_from_dict(data, self.board.today()), replace)

    def _import_case(self, case: Case, replace: bool) -> ImportedCase:
        try:
            with self.board.writing() as session:
                repository = CaseRepository(session)
                if repository.exists(case.mrn):
                    if not replace:
                        raise InvalidInput(
                            [
                                Problem(
                                    "patient.mrn",
                                    f"a case with MRN {case.mrn} already exists (use --replace to "
                                    "update it from this file)",
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
                    repository.update(case, version, self._summary(case))
                else:
                    repository.create(case, self._summary(case))
        except IntegrityError as error:
            raise InvalidInput(
                [Problem("", f"the database refused the case: {error.orig}")]
            ) from None
        except OperationalError as error:
            raise _busy(error) from None
        return ImportedCase(case.mrn, ChangeSet(cases=frozenset({case.mrn})))

    def import_many(self, texts: Iterable[str]) -> ImportedCases:
        """Import many new cases' file texts in one transaction, all or nothing (bulk loads
        such as the benchmark cohort).  Each text is checked as `import_text` checks it and
        written through the repository with its audit rows; a problem in any text, or an
        MRN already stored or given twice, refuses the whole batch with every problem as
        `[n].path: message`."""
        today = self.board.today()
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
        summaries = [self._summary(case) for case in cases]  # the engine, outside the lock
        try:
            with self.board.writing() as session:
                repository = CaseRepository(session)
                for n, (case, summary) in enumerate(zip(cases, summaries, strict=True)):
                    if repository.exists(case.mrn):
                        raise InvalidInput(
                            [
                                Problem(
                                    f"[{n}].patient.mrn",
                                    f"a case with MRN {case.mrn} already exists",
                                )
                            ]
                        )
                    repository.create(case, summary)
        except IntegrityError as error:
            raise InvalidInput(
                [Problem("", f"the database refused the cases: {error.orig}")]
            ) from None
        except OperationalError as error:
            raise _busy(error) from None
        mrns = tuple(case.mrn for case in cases)
        return ImportedCases(mrns, ChangeSet(cases=frozenset(mrns)))

    def import_path(
        self,
        path: str | os.PathLike[str],
        *,
        replace: bool = False,
        progress: Callable[[int, int], bool] | None = None,
    ) -> ImportSummary:
        """Import a case file, an mCODE bundle, a referral CSV, or every `*.json` file of a
        folder; each file all or nothing.

        `progress(done, total)` may return False to stop before the next file.
        """
        source = Path(path)
        if source.is_dir():
            files = sorted(
                p
                for p in source.iterdir()
                if p.suffix.lower() == ".json"
                and p.is_file()
                and not p.name.endswith(".expected.json")
            )
            self.board.check_writable()
            self.board.maintenance.backup_before("folder import")
        elif source.is_file():
            self.board.check_writable()
            files = [source]
        else:
            raise InputNotFound(f"{source} is neither a case file nor a folder.")
        summary = ImportSummary()
        pending: list[_Done] = []
        tried: list[Path] = []
        try:
            with self.board.batched():
                self._import_files(files, summary, replace, progress, pending, tried)
        except (WriteStopped, OperationalError) as error:
            reason = str(error) if isinstance(error, BoardError) else str(_busy(error))
            message = self._stopped(summary, reason, pending, files, tried)
            raise ImportStopped(message, summary) from None
        _stored(summary, pending)
        return summary

    def _stopped(
        self,
        summary: ImportSummary,
        reason: str,
        pending: list[_Done],
        files: list[Path],
        tried: list[Path],
    ) -> str:
        """Fill in what an import that stopped did not store; the message to show."""
        summary.stopped = reason
        summary.not_stored += [
            (done.file, "rolled back when the import stopped") for done in pending
        ]
        refused = {file for file, _problems in summary.refused}
        summary.not_stored += [
            (str(file), "not imported: the import stopped before it")
            for file in files[len(tried) :]
            if str(file) not in refused
        ]
        if (
            tried
            and str(tried[-1]) not in refused
            and all(str(tried[-1]) != done.file for done in pending)
        ):
            summary.not_stored.insert(
                len(pending), (str(tried[-1]), "not stored: the import stopped at it")
            )
        stored = len({file for file, _mrn in summary.imported})
        log.warning("an import stopped: %d files stored, %d not", stored, len(summary.not_stored))
        return (
            f"{reason} The import stopped: {stored} of {len(files)} files stored, "
            f"{len(summary.not_stored)} not stored, {len(summary.refused)} refused."
        )

    def _import_files(
        self,
        files: list[Path],
        summary: ImportSummary,
        replace: bool,
        progress: Callable[[int, int], bool] | None,
        pending: list[_Done],
        tried: list[Path],
    ) -> None:
        for done, file in enumerate(files):
            if progress is not None and progress(done, len(files)) is False:
                break
            tried.append(file)
            try:
                if file.stat().st_size > MAX_CASE_FILE_BYTES:
                    raise InvalidInput([Problem("", "the file is larger than 20 MB")])
                # case file, mCODE bundle or referral CSV (services/interop.py)
                imported = self.board.interop.import_file(file, replace=replace)
            except InvalidInput as error:
                summary.refused.append((str(file), error.problems))
            except UnicodeDecodeError:
                summary.refused.append((str(file), [Problem("", "the file is not UTF-8 text")]))
            except OSError as error:
                summary.refused.append(
                    (str(file), [Problem("", f"cannot read it: {error.strerror}")])
                )
            except (WriteStopped, OperationalError):
                raise  # the import stops here (import_path says what is stored)
            except BoardError as error:
                summary.refused.append((str(file), [Problem("", str(error))]))
            except Exception as error:  # a fault in crlmboard: this file only, the rest go on
                log.error(
                    "importing a file failed (%s); traceback without values:\n%s",
                    type(error).__name__,
                    "".join(traceback.format_tb(error.__traceback__)),
                )
                summary.internal_errors += 1
                summary.refused.append(
                    (
                        str(file),
                        [
                            Problem(
                                "",
                                f"crlmboard could not import it (an internal error, "
                                f"{type(error).__name__}; the details are in the log); "
                                "nothing of it was stored",
                            )
                        ],
                    )
                )
            else:
                pending.append(
                    _Done(str(file), tuple(imported.mrns), tuple(imported.notes), imported.changes)
                )
            batch = self.board.batch
            if batch is None or not batch.in_transaction:
                _stored(summary, pending)  # committed
        if progress is not None:
            progress(len(files), len(files))

    def export_text(self, mrn: str) -> str:
        """The case file of a case."""
        return dumps_case(self.get(mrn))

    def export(self, mrn: str, destination: str | os.PathLike[str]) -> Path:
        """Write a case file atomically (temporary file, fsync, rename)."""
        text = self.export_text(mrn)
        return write_file_atomically(Path(destination), text.encode("utf-8"))


def write_file_atomically(target: Path, data: bytes) -> Path:
    """Write `data` so that `target` is either the old file or the whole new one."""
    target = target.expanduser().resolve()
    try:
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as error:  # named as the file asked for, not a temporary one
        raise OSError(error.errno, error.strerror, str(target)) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror, str(target)) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _stored(summary: ImportSummary, pending: list[_Done]) -> None:
    """The files of a committed transaction are stored: count them as imported."""
    for done in pending:
        summary.imported.extend((done.file, mrn) for mrn in done.mrns)
        if done.notes:
            summary.notes.append((done.file, list(done.notes)))
        summary.changes = summary.changes | done.changes
    pending.clear()


def _busy(error: OperationalError) -> BoardError:
    text = str(error.orig).lower()
    if "locked" in text or "busy" in text:
        return Busy("The database is busy with another program's change; try again in a moment.")
    if "full" in text:
        return DiskFull("The disk holding the database is full; the change was not stored.")
    return BoardError(f"The database could not complete the change: {error.orig}")
