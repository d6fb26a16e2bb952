"""`board.cases`: list, open, save, import and export cases."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError, OperationalError

from crlmboard.domain.case import Case
from crlmboard.domain.caseformat import case_from_dict, dumps_case, loads_case
from crlmboard.domain.validation import InvalidInput, Problem
from crlmboard.services.board import BoardError, ChangeSet
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
    "ImportSummary",
    "ImportedCase",
    "ImportedCases",
    "SavedCase",
]

MAX_CASE_FILE_BYTES = 20 * 1024 * 1024


class CaseNotFound(BoardError, LookupError):
    """No case has this MRN."""


class CaseConflict(BoardError):
    """Someone saved the case after it was opened here."""


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
    """What an import took in, and what it refused and why."""

    imported: list[tuple[str, str]] = field(default_factory=list)  # (file, MRN)
    refused: list[tuple[str, list[Problem]]] = field(default_factory=list)
    notes: list[tuple[str, list[str]]] = field(default_factory=list)  # (file, notes)
    changes: ChangeSet = field(default_factory=ChangeSet)

    @property
    def ok(self) -> bool:
        return not self.refused


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
                return repository.get(mrn), repository.version(mrn)
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
            raise CaseConflict(
                f"Case {old} was changed by someone else after you opened it. Reopen it to see "
                "their changes, then make your edit again."
            ) from None
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
                    stored = repository.get(case.mrn)
                    # Reviews already stored are history: the file cannot rewrite them.
                    case = case.model_copy(
                        update={"reviews": stored.reviews + case.reviews[len(stored.reviews) :]}
                    )
                    repository.update(case, repository.version(case.mrn), self._summary(case))
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
            files = [source]
        else:
            raise BoardError(f"{source} is neither a case file nor a folder.")
        summary = ImportSummary()
        with self.board.batched():
            self._import_files(files, summary, replace, progress)
        return summary

    def _import_files(
        self,
        files: list[Path],
        summary: ImportSummary,
        replace: bool,
        progress: Callable[[int, int], bool] | None,
    ) -> None:
        for done, file in enumerate(files):
            if progress is not None and progress(done, len(files)) is False:
                break
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
            else:
                summary.imported.extend((str(file), mrn) for mrn in imported.mrns)
                if imported.notes:
                    summary.notes.append((str(file), list(imported.notes)))
                summary.changes = summary.changes | imported.changes
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
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _busy(error: OperationalError) -> BoardError:
    if "locked" in str(error).lower() or "busy" in str(error).lower():
        return BoardError(
            "The database is busy with another program's change; try again in a moment."
        )
    return BoardError(f"The database could not complete the change: {error.orig}")
