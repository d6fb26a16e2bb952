"""`board.cases`: list, open, save, import and export cases."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crlmboard.domain.case import Case
from crlmboard.domain.caseformat import dumps_case
from crlmboard.domain.engine import ENGINE_VERSION
from crlmboard.domain.engine.history import EngineChange, needs_comparison
from crlmboard.domain.validation import InvalidInput, Problem
from crlmboard.services.changes import CaseConflict, CaseNotFound, ChangeSet, InputNotFound
from crlmboard.services.database import Database
from crlmboard.services.evaluation import EvaluationService
from crlmboard.services.files import write_file_atomically
from crlmboard.services.importing import (
    MAX_FILE_BYTES,
    ImportedCase,
    ImportedCases,
    Importer,
    ImportStopped,
    ImportSummary,
)
from crlmboard.store import comparisons
from crlmboard.store.database import WriteFailed
from crlmboard.store.repositories import (
    SORT_KEYS,
    CaseListEntry,
    CaseRepository,
    CaseStamp,
    CaseSummary,
    ConflictError,
    NotFound,
    SettingRepository,
    Stopped,
    filter_words,
    read_stamped,
)

__all__ = [
    "SORT_KEYS",
    "CaseConflict",
    "CaseListEntry",
    "CaseNotFound",
    "CaseService",
    "CaseStamp",
    "EngineNotes",
    "ImportStopped",
    "ImportSummary",
    "ImportedCase",
    "ImportedCases",
    "InputNotFound",
    "RefreshedSummaries",
    "SavedCase",
    "write_file_atomically",
]

MAX_CASE_FILE_BYTES = MAX_FILE_BYTES
SUMMARIES_STAMP = "case_list_summaries_as_of"  # setting: date, engine and profile last used
# setting: the stamp of a pass under way and the last MRN it stored (a pass of 100,000 cases
# takes longer than many a session: the next start goes on from there)
SUMMARIES_PROGRESS = "case_list_summaries_progress"


@dataclass(frozen=True)
class RefreshedSummaries:
    """One step of `refresh_summaries`: the last MRN done (None when every case was), and
    the cases whose summary changed."""

    next_after: str | None
    changes: ChangeSet


@dataclass(frozen=True)
class EngineNotes:
    """The older engines' comparison of a case as an open gets it: the changes, and whether
    they had to be made afresh because none was stored for this save, engine and profile
    (`missing`: the app then stores them in the background)."""

    changes: list[EngineChange]
    missing: bool = False
    profile_key: str = ""  # the profile they were made with (`EvaluationService.profile_key`)


@dataclass(frozen=True)
class SavedCase:
    """The result of a save: the case's new version and what changed."""

    mrn: str
    version: int
    changes: ChangeSet


class CaseService:
    """Use cases on the cases of the open database."""

    def __init__(self, database: Database, evaluation: EvaluationService, importer: Importer):
        self.database = database
        self.evaluation = evaluation
        self.importer = importer

    # -- reading --------------------------------------------------------------------

    def count(self, query: str = "", *, cap: int | None = None) -> int:
        """How many cases the list shows for `query`; with `cap`, a filter's matches are
        counted no further than `cap + 1` ("more than `cap`", `CaseRepository.count`)."""
        with self.database.read() as session:
            return CaseRepository(session).count(query, cap=cap)

    def list_count(self, query: str, cap: int | None) -> tuple[int, bool]:
        """The case list's count for `query` and whether it is exact: a filter matching
        more than `cap` cases gives `(cap + 1, False)` after reading about `cap` matches."""
        total = self.count(query, cap=cap)
        return total, cap is None or total <= cap or not filter_words(query)

    def count_until(self, query: str, stop: Callable[[], bool]) -> int | None:
        """The exact count for `query`, or None when `stop()` became true first (a newer
        filter was typed: the case list's count in the background gives way to it)."""
        with self.database.read() as session:
            repository = CaseRepository(session)
            try:
                with repository.stopping(stop):
                    return repository.count(query)
            except Stopped:
                return None

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
        with self.database.read() as session:
            return CaseRepository(session).page(
                query,
                sort=sort,
                descending=descending,
                offset=offset,
                limit=limit,
                today=self.database.today(),
            )

    def position(
        self, mrn: str, query: str = "", *, sort: str = "name", descending: bool = False
    ) -> int | None:
        """The row of a case in the list `page` reads with the same query and order (None
        when the query leaves it out)."""
        with self.database.read() as session:
            return CaseRepository(session).position(
                mrn, query, sort=sort, descending=descending, today=self.database.today()
            )

    def get(self, mrn: str) -> Case:
        return self.get_stamped(mrn)[0]

    def get_with_version(self, mrn: str) -> tuple[Case, int]:
        """A case and the version to pass back to `save`."""
        case, stamp = self.get_stamped(mrn)
        return case, stamp.version

    def get_stamped(self, mrn: str) -> tuple[Case, CaseStamp]:
        """A case and which stored case and save it is (`stamp.version` goes back to
        `save`; the whole stamp keys the evaluation's cache).  Read in one transaction, on
        SQLite without an ORM session around it (`read_stamped`)."""
        try:
            return read_stamped(self.database.engine, mrn)
        except NotFound:
            raise CaseNotFound(f"There is no case with MRN {mrn}.") from None

    def engine_changes(self, case: Case, stamp: CaseStamp) -> EngineNotes:
        """What today's engine reads differently in the reviews of `case` (read as `stamp`)
        signed with older engines: the comparison stored for exactly this save, engine and
        profile when there is one, else made afresh (`missing`).  A case without such a
        review has none, at once; nothing is written here (an open only reads)."""
        evaluation = self.evaluation
        if not needs_comparison(case):
            return EngineNotes([])  # (what `engine_changes` gives such a case)
        profile_key = evaluation.profile_key
        stored = comparisons.read(self.database.engine, stamp, ENGINE_VERSION, profile_key)
        if stored is not None:
            return EngineNotes([EngineChange.from_json(c) for c in stored], False, profile_key)
        return EngineNotes(evaluation.engine_changes(case), True, profile_key)

    def keep_engine_changes(
        self,
        mrn: str,
        made: tuple[CaseStamp, EngineNotes] | None = None,
    ) -> bool:
        """Store the older engines' comparison of case `mrn` when it has reviews signed
        with another engine and none is stored for its save, this engine and profile (the
        app's background step after an open found none).  `made`: the stamp of the case
        that open read and what it made of it — stored only if the case is still that save
        and the profile is still the one it was made with, without running the engine
        again; without it the case is read and compared now.  Nothing when the database
        is read-only here; a save meanwhile wins (nothing stored).  True when stored."""
        if self.database.read_only:
            return False
        evaluation = self.evaluation
        profile_key = evaluation.profile_key
        if made is not None:
            stamp, notes = made
            if notes.profile_key != profile_key:  # another profile since: not for this one
                return False
            changes = notes.changes
        else:
            case, stamp = self.get_stamped(mrn)
            if not needs_comparison(case):
                return False
            stored = comparisons.read(self.database.engine, stamp, ENGINE_VERSION, profile_key)
            found = None if stored is not None else evaluation.comparison(case)
            if found is None:
                return False
            changes = found
        with self.database.write() as session:
            return comparisons.put(
                session, mrn, ENGINE_VERSION, profile_key, [c.to_json() for c in changes], stamp
            )

    # -- writing --------------------------------------------------------------------

    def validate(self, case: Case) -> Case:
        """Re-check a case built by a form; raise InvalidInput with every problem."""
        problems = case.problems(self.database.today())
        if problems:
            raise InvalidInput(problems)
        return case

    def create(self, case: Case) -> SavedCase:
        """Store a new case."""
        self.validate(case)
        try:
            with self.database.write() as session:
                repository = CaseRepository(session)
                if repository.exists(case.mrn):
                    raise InvalidInput(
                        [Problem("patient.mrn", f"a case with MRN {case.mrn} already exists")]
                    )
                repository.create(  # the comparison joins the new case's audit row
                    case,
                    self.evaluation.summary(case),
                    then=lambda: self.evaluation.keep_comparison(session, case),
                )
        except WriteFailed as error:
            raise _refused(error) from None
        finally:
            self.evaluation.forget()  # whatever was written, no evaluation of before is kept
        return SavedCase(case.mrn, 1, ChangeSet(cases=frozenset({case.mrn})))

    def save(self, case: Case, expected_version: int, *, mrn: str | None = None) -> SavedCase:
        """Replace a case's record if nobody saved it since `expected_version`.

        `mrn` is the case's MRN before this edit, when the edit changes it.
        """
        self.validate(case)
        old = mrn or case.mrn
        try:
            with self.database.write() as session:
                repository = CaseRepository(session)
                if not repository.exists(old):
                    raise CaseNotFound(f"There is no case with MRN {old}.")
                if old != case.mrn and repository.exists(case.mrn):
                    raise InvalidInput(
                        [Problem("patient.mrn", f"a case with MRN {case.mrn} already exists")]
                    )
                version = repository.update(
                    case, expected_version, self.evaluation.summary(case), rename_from=old
                )
                self.evaluation.keep_comparison(session, case)
            self.evaluation.forget()
        except ConflictError:
            try:
                theirs, stored_version = self.get_with_version(old)
            except CaseNotFound:
                raise CaseNotFound(
                    f"Case {old} was renamed or removed by someone else after you opened it. "
                    "Your edit was not saved."
                ) from None
            raise CaseConflict(case, theirs, expected_version, stored_version) from None
        except WriteFailed as error:
            raise _refused(error) from None
        return SavedCase(case.mrn, version, ChangeSet(cases=frozenset({old, case.mrn})))

    # -- the list's summaries ---------------------------------------------------------

    def _summaries_stamp(self) -> str:
        """What the stored summaries depend on besides the cases: the date, the engine
        and the profile in force."""
        profile = self.evaluation.profile
        today = self.database.today().isoformat()
        return f"{today} {ENGINE_VERSION} {profile.name} {profile.sha256}"

    def refresh_summaries(
        self,
        after: str | None = None,
        *,
        limit: int = 200,
        give_way: Callable[[], bool] | None = None,
    ) -> RefreshedSummaries:
        """Recompute the case list's summary (open findings, response, resectability) of up
        to `limit` cases after MRN `after`, as of today with the profile in force, and
        store those that differ (no new case version, no audit row: the summary is derived
        from the case).  Call again with `next_after` until it is None.  A pass from the
        start does nothing when the summaries were last refreshed on the same date, engine
        and profile, or when the database is read-only here.  The same pass stores the
        older engines' comparison of each case that has reviews signed with another engine
        and none stored for its save, this engine and profile (after an engine upgrade or
        a change of profile, every such case).  A case saved meanwhile keeps
        the summary its save stored.  While `give_way()` is true (a person's call waits for
        the worker), the step ends after the case in hand: at least one case per step.  A
        pass left unfinished (the app closed) goes on from its last step when started
        again on the same date, engine and profile."""
        if self.database.read_only:
            return RefreshedSummaries(None, ChangeSet())
        stamp = self._summaries_stamp()
        evaluation = self.evaluation
        profile_key = evaluation.profile_key
        with self.database.read() as session:
            if after is None:
                settings = SettingRepository(session)
                if settings.get(SUMMARIES_STAMP) == stamp:
                    return RefreshedSummaries(None, ChangeSet())
                progress_stamp, _, done = (settings.get(SUMMARIES_PROGRESS) or "").partition("\n")
                if progress_stamp == stamp and done:
                    after = done
            repository = CaseRepository(session)
            listed = repository.mrns_after(after, limit)
            # each stamp with its case row, before the records: a save committed while
            # this reads makes set_summary below skip the case, never store a stale summary
            cases: list[tuple[Case, CaseStamp]] = []
            for mrn in listed:
                if cases and give_way is not None and give_way():
                    break
                cases.append(repository.get_stamped(mrn))
            # the older engines' comparisons already stored for these saves (after an
            # engine or profile change, none are)
            compared = [s for c, s in cases if needs_comparison(c)]
            stored = comparisons.stored_for(session, compared, ENGINE_VERSION, profile_key)
        summaries: list[CaseSummary] = []
        kept: dict[str, tuple[CaseStamp, list[EngineChange]]] = {}
        for case, case_stamp in cases:  # outside the lock
            if summaries and give_way is not None and give_way():
                break
            summaries.append(evaluation.summary(case))
            if case_stamp.case_id not in stored:
                changes = evaluation.comparison(case)
                if changes is not None:
                    kept[case.mrn] = (case_stamp, changes)
        mrns = listed[: len(summaries)]
        finished = len(listed) < limit and len(mrns) == len(listed)
        changed: set[str] = set()
        with self.database.write() as session:
            repository = CaseRepository(session)
            for mrn, (_, case_stamp), summary in zip(mrns, cases, summaries, strict=False):
                if repository.set_summary(mrn, summary, case_stamp.version):
                    changed.add(mrn)
            for mrn, (case_stamp, changes) in kept.items():
                # only for the save it was made from (a save meanwhile stored its own)
                comparisons.keep(
                    session,
                    mrn,
                    ENGINE_VERSION,
                    profile_key,
                    [c.to_json() for c in changes],
                    case_stamp,
                )
            settings = SettingRepository(session)
            if finished:
                settings.put(SUMMARIES_STAMP, stamp)
                settings.put(SUMMARIES_PROGRESS, "")
            elif mrns:
                settings.put(SUMMARIES_PROGRESS, f"{stamp}\n{mrns[-1]}")
        more = None if finished else mrns[-1]
        return RefreshedSummaries(more, ChangeSet(cases=frozenset(changed)))

    # -- files ----------------------------------------------------------------------

    def import_text(self, text: str, *, replace: bool = False) -> ImportedCase:
        """Import one case file's text, all or nothing."""
        return self.importer.text(text, replace)

    def import_document(self, data: dict[str, Any], *, replace: bool = False) -> ImportedCase:
        """Import one case file already read as JSON (`caseformat.parse_json`)."""
        return self.importer.document(data, replace)

    def import_many(self, texts: Iterable[str]) -> ImportedCases:
        """Import many new cases' file texts in one transaction, all or nothing (bulk loads
        such as the benchmark cohort).  Each text is checked as `import_text` checks it and
        written through the repository with its audit rows; a problem in any text, or an
        MRN already stored or given twice, refuses the whole batch with every problem as
        `[n].path: message`."""
        return self.importer.many(texts)

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
        return self.importer.path(path, replace, progress)

    def export_text(self, mrn: str) -> str:
        """The case file of a case."""
        return dumps_case(self.get(mrn))

    def export(self, mrn: str, destination: str | os.PathLike[str]) -> Path:
        """Write a case file atomically (temporary file, fsync, rename)."""
        text = self.export_text(mrn)
        return write_file_atomically(Path(destination), text.encode("utf-8"))


def _refused(error: WriteFailed) -> Exception:
    if error.kind == "refused":
        return InvalidInput([Problem("", f"the database refused the case: {error.reason}")])
    return error
