"""The door between the app and the data: the only UI module that calls the services.

Every call, read or write, runs on one database worker thread, in the order it was asked
for (in the manner of Anki's `CollectionOp`/`QueryOp`); its result comes back to the GUI
thread through a queued signal, so the GUI thread never waits on SQL or reportlab.  Every
write's `ChangeSet` goes out once, as `changes_applied`, which drives every refresh: the
case list, the open case, the Meetings and Follow-up pages.  Long work (import, backup,
restore, meeting pack, check, demo) runs on the same worker behind a progress dialog modal
to the window; edits asked for meanwhile queue behind it instead of racing it.

UI tests set `SYNCHRONOUS` (tests/ui/conftest.py): each call then runs at once on the
calling thread, so a test reads the result on the next line.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from crlmboard.frozen import frozen
from crlmboard.services.changes import NO_CHANGE, BoardError, ChangeSet, ReadOnly
from crlmboard.services.files import write_file_atomically
from crlmboard.services.first_page import CaseListEntry, FirstPage, first_page
from crlmboard.services.log import log_path

if TYPE_CHECKING:
    from PySide6.QtCore import Qt
else:
    from crlmboard.ui.lazyqt import Qt  # built on first use (performance.md B1)

# The data layer (SQLAlchemy, the domain's pydantic models, the engine) is imported on
# first use, on the database worker: the window is painted before it has loaded (B1).
if TYPE_CHECKING:
    from crlmboard.domain.case import Case
    from crlmboard.domain.engine.readmodel import EvaluationView
    from crlmboard.services.board import Board
    from crlmboard.services.cases import CaseConflict, CaseStamp, ImportSummary, SavedCase
    from crlmboard.services.meetings import (
        AgendaEntry,
        MeetingListing,
        MeetingSummary,
        ReviewDraft,
    )
    from crlmboard.services.users import ROLES, BoardUser

_LAZY = {
    "CaseConflict": "crlmboard.services.cases",
    "ImportSummary": "crlmboard.services.cases",
    "SavedCase": "crlmboard.services.cases",
    "AgendaEntry": "crlmboard.services.meetings",
    "MeetingListing": "crlmboard.services.meetings",
    "MeetingSummary": "crlmboard.services.meetings",
    "ReviewDraft": "crlmboard.services.meetings",
    "ROLES": "crlmboard.services.users",
    "BoardUser": "crlmboard.services.users",
}


def __getattr__(name: str) -> Any:
    """The services' result types, loaded when a view first names one."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


# what the services hand back, named for the views (which import nothing of the services
# but the ChangeSet)
__all__ = [
    "ROLES",
    "AgendaEntry",
    "BoardError",
    "BoardUser",
    "BundlePreview",
    "CaseConflict",
    "CaseListEntry",
    "ChangeSet",
    "Door",
    "FirstPage",
    "ImportSummary",
    "MeetingListing",
    "MeetingSummary",
    "ReviewDraft",
    "SavedCase",
    "first_page",
    "log_path",
]

log = logging.getLogger("crlmboard.ui")

SYNCHRONOUS = False
"""Run each call at once on the calling thread (UI tests); the app uses the worker."""

Progress = Callable[..., bool]  # progress(done, total) or (stage, done, total)
Done = Callable[[Any], object]
Failed = Callable[[BaseException], object]
Changes = ChangeSet | Callable[[Any], ChangeSet] | None

# how often a read-only app looks whether the app holding the writer lock committed or
# has gone (a pragma and a try of the lock, on the worker, when nothing else waits)
WRITER_LOOK_MS = 1500

# cases whose list summary is recomputed per step on the worker (about 10 ms each); a
# person's call asked meanwhile ends the step after the case in hand (issue 21, B2)
SUMMARY_STEP = 25


def expected(error: BaseException) -> bool:
    """A failure a person can act on: its message is shown as it is."""
    if isinstance(error, BoardError | OSError | UnicodeDecodeError):
        return True
    from crlmboard.domain.validation import InvalidInput

    return isinstance(error, InvalidInput)


def changes_of(result: Any) -> ChangeSet:
    """The change set a service write returned: itself, its `.changes`, or one inside a
    tuple (the door's own pairs); NO_CHANGE when it returned none (a read)."""
    if isinstance(result, ChangeSet):
        return result
    found = getattr(result, "changes", None)
    if isinstance(found, ChangeSet):
        return found
    if isinstance(result, tuple):
        for part in result:
            if isinstance(part, ChangeSet):
                return part
    return NO_CHANGE


def failure_text(error: BaseException, what: str = "The work") -> str:
    """What to tell a person about a failure: its own sentence when it is one they can act
    on, else where the details are."""
    from crlmboard.domain.validation import InvalidInput

    if isinstance(error, InvalidInput):
        return "Please correct:\n" + "\n".join(str(p) for p in error.problems)
    if expected(error):
        return str(error)
    return f"{what} stopped because of an error; the details are in the log ({log_path()})."


@frozen
class BundlePreview:
    """One mCODE bundle file before it is imported: the case it carries and what of it will
    not be imported, or why it will be refused."""

    path: str
    mrn: str = ""
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


def _looks_like_bundle(path: str) -> bool:
    """Whether a JSON file is a FHIR Bundle (read up to its first 4 kB)."""
    try:
        with open(path, "rb") as file:
            head = file.read(4096)
    except OSError:
        return False
    return b'"Bundle"' in head and b'"resourceType"' in head


def upgrade_text(step: str, done: int, total: int) -> str:
    """An upgrade's step for a person: '… migration 0007 (6 of 8)', 'copying the
    database (40 %)'."""
    if total > 0:
        return f"{step} ({min(100, done * 100 // total)} %)"
    return step


class _Job:
    """One call queued for the worker.  A plain class (no `dataclasses`: its methods'
    text would be compiled before the first paint, performance.md B1)."""

    __slots__ = (
        "background",
        "cancelled",
        "changes",
        "dialog",
        "done",
        "failed",
        "id",
        "on_failure",
        "origin",
        "title",
        "work",
        "write",
    )

    def __init__(
        self,
        id: int,
        work: Callable[[], Any],
        done: Done | None,
        failed: Failed | None,
        changes: Changes,
        write: bool,
        origin: object = None,
        title: str = "",
        on_failure: ChangeSet | None = None,
    ) -> None:
        self.id = id
        self.work = work
        self.done = done
        self.failed = failed
        self.changes = changes
        self.write = write
        self.origin = origin
        self.title = title
        self.on_failure = on_failure
        self.background = False
        self.cancelled = False
        self.dialog: QProgressDialog | None = None


class _Worker(QThread):
    """The one database worker: runs the queued jobs one after the other, in the order
    they were asked for; background work only when nothing else waits, so a person's call
    waits for one step at most — and the steps of long background work (the list's
    summaries, `idle`) only once no person's call has come for IDLE_S: while someone
    types into the filter they wait, instead of each keystroke waiting for one."""

    job_finished = Signal(int, bool, object)  # job id, ok, result or the error
    job_progressed = Signal(int, int, int)  # job id, done, total

    OPENING, PERSON, BACKGROUND, IDLE, END = range(5)  # the queue's priorities
    IDLE_S = 0.5

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self.jobs: queue.PriorityQueue[tuple[int, int, _Job | None]] = queue.PriorityQueue()
        self._arrived = threading.Event()  # a job was queued (wakes an idle wait)
        self._last_person = 0.0  # when the last person's call ended (time.monotonic)
        self._ending = False

    def put(
        self,
        job: _Job | None,
        *,
        background: bool = False,
        idle: bool = False,
        opening: bool = False,
    ) -> None:
        """Queue a job (None ends the worker once everything before it has run); `opening`:
        the database's open, before every call queued while the window showed its first
        page (they read the board it opens)."""
        if job is None:
            self._ending = True
            priority, order = self.END, 1 << 62
        else:
            priority = self.IDLE if idle else self.BACKGROUND if background else self.PERSON
            priority = self.OPENING if opening else priority
            order = job.id
        self.jobs.put((priority, order, job))
        self._arrived.set()

    def person_waiting(self) -> bool:
        """A call a person asked for is queued (looked at by background work, on this
        thread, to give way to it)."""
        with self.jobs.mutex:
            return bool(self.jobs.queue) and self.jobs.queue[0][0] <= self.PERSON

    def run(self) -> None:
        while True:
            self._arrived.clear()
            priority, order, job = self.jobs.get()
            if job is None:
                return
            if priority == self.IDLE and not self._ending:
                rest = self._last_person + self.IDLE_S - time.monotonic()
                if rest > 0:  # someone is at work: back in the queue, wait for quiet
                    self.jobs.put((priority, order, job))
                    self._arrived.wait(rest)
                    continue
            try:
                result = job.work()
            except BaseException as error:  # reported on the GUI thread
                self.job_finished.emit(job.id, False, error)
            else:
                self.job_finished.emit(job.id, True, result)
            if priority == self.PERSON:
                self._last_person = time.monotonic()


class Door(QObject):
    """One open database, reached from the UI only through here."""

    changes_applied = Signal(object, object)  # ChangeSet, the object that asked (or None)
    busy_changed = Signal(bool)  # long work started / ended
    board_replaced = Signal()  # another database opened (or the same one after a restore,
    # or open for writing here now that the app that held its writer lock has gone)
    access_changed = Signal()  # read-only here or not: changed (before board_replaced)
    checks_finished = Signal(object)  # the deferred quick_check ended: None or its error
    # a schema upgrade while a database opens (T30): the step in words, done, total (0 of 0
    # when the step cannot count); emitted on the worker, delivered on the GUI thread
    upgrade_progress = Signal(str, int, int)

    def __init__(
        self,
        board: Board | None,
        parent: QObject | None = None,
        *,
        synchronous: bool | None = None,
        location: str = "",
    ):
        """`board` None: the database is opened on the worker afterwards (`open_board`);
        until then the door answers only the case list's pages, queued behind the open."""
        super().__init__(parent)
        self.board: Board = board  # type: ignore[assignment]  # set by open_board
        self.window: QWidget | None = None  # parent of progress dialogs and messages
        self.synchronous = SYNCHRONOUS if synchronous is None else synchronous
        self._ids = itertools.count(1)
        self._jobs: dict[int, _Job] = {}
        self._long = 0
        self._recompute = 0  # the latest summary recompute asked for
        self._stopped = False  # after stop(): nothing more is run
        # calls asked before the database's open was queued: queued right behind it
        self._waiting_open: list[_Job] = []
        self._open_queued = board is not None
        self.progress_dialog: QProgressDialog | None = None  # the long work's, while it runs
        # read-only because another app holds the writer lock: follow it (`follow_writer`)
        self._writer_timer = QTimer(self)
        self._writer_timer.setInterval(WRITER_LOOK_MS)
        self._writer_timer.timeout.connect(self.follow_writer)
        self._following = False  # a look on its way
        self._follow_failed = False  # the last look failed (said once in the log)
        self.checking = False  # the deferred quick_check runs; writes wait for it
        self.checks_finished.connect(self._checked)  # before any view's slot
        self.upgrade_progress.connect(self._upgrading)
        if board is not None:
            self._remember(board)
        else:  # nothing can be changed before the database is open
            self.location, self.url, self.user = location, "", ""
            self.read_only, self.read_only_reason = True, None
            self.writer_elsewhere, self.lock_holder = False, None
            self.identity: Any = None  # who is acting: known once the database is open
            self.is_server = self.needs_password = self.encrypted = False
            self.profile: Any = None
            self._clock = dt.date.today
        self._worker: _Worker | None = None
        if not self.synchronous:
            self._worker = _Worker(self)
            self._worker.job_finished.connect(self._finished)
            self._worker.job_progressed.connect(self._progressed)
            self._worker.start()

    # -- what the GUI may read without asking the worker -------------------------------

    def _remember(self, board: Board) -> None:
        """Facts about the open database kept on the GUI side (no SQL to read them)."""
        self.location = board.location
        self.url = board.url
        self.read_only = bool(getattr(board, "read_only", False))
        self.read_only_reason = getattr(board, "read_only_reason", None)
        self.writer_elsewhere = bool(getattr(board, "writer_elsewhere", False))
        self.lock_holder = getattr(board, "lock_holder", None)
        if self.writer_elsewhere and not self._stopped:
            self._writer_timer.start()
        else:
            self._writer_timer.stop()
        self.identity = board.identity  # who is acting (the server says, on PostgreSQL)
        self.user = self.identity.login
        self.is_server = board.database.is_server
        self.needs_password = board.reviews.needs_password  # signing re-authenticates
        self.encrypted = board.passphrase is not None
        self.profile = board.evaluation.profile
        self._clock = board.today

    def today(self) -> dt.date:
        """The board's date (its clock: no database)."""
        return self._clock()

    @property
    def read_only_text(self) -> str | None:
        """Why nothing can be changed here, in a sentence for a tooltip or a banner (None
        when the database is writable here)."""
        if not self.read_only:
            return None
        holder = self.lock_holder
        if self.writer_elsewhere and holder is not None:
            return (
                f"Read-only: another crlmboard ({holder.user}@{holder.host}, pid "
                f"{holder.pid}) is writing to this database"
            )
        if self.writer_elsewhere:
            return "Read-only: another crlmboard is writing to this database"
        return f"Read-only: {self.read_only_reason or 'this database cannot be changed here'}"

    @property
    def busy(self) -> bool:
        """True while long work runs."""
        return self._long > 0

    @property
    def pending(self) -> int:
        """Calls asked for and not yet answered."""
        return len(self._jobs)

    @property
    def waiting(self) -> int:
        """Calls asked for and not yet answered, background steps left out."""
        return sum(not job.background for job in self._jobs.values())

    # -- the queue --------------------------------------------------------------------

    def _submit(
        self,
        work: Callable[[], Any],
        done: Done | None,
        failed: Failed | None,
        *,
        changes: Changes = None,
        write: bool = False,
        origin: object = None,
        title: str = "",
        on_failure: ChangeSet | None = None,
        long: str = "",
        cancellable: bool = False,
        progress: Callable[[_Job], Callable[[], Any]] | None = None,
        background: bool = False,
        idle: bool = False,
        any_access: bool = False,
        opening: bool = False,
    ) -> None:
        """Queue `work` for the worker (`write`: it changes the database, and is refused
        at once while the database is read-only here, unless it works with either access,
        `any_access`: opening another database, choosing a profile).  `background`: after
        every person's call queued; `idle`: also only once no person's call has come for
        a moment (the steps of long background work)."""
        if self._stopped:  # the window closed: nothing runs on a closed database
            log.debug("%s asked after the door closed", title or "a call")
            return
        if write and self.read_only and not any_access:
            # refused here already: nothing reaches a database that is read-only here
            refusal = ReadOnly(f"{self.read_only_text}; nothing was changed.")
            if failed is not None:
                failed(refusal)
            else:
                self._tell(title or "crlmboard", str(refusal))
            return
        job = _Job(next(self._ids), work, done, failed, changes, write, origin, title, on_failure)
        job.background = background or idle
        if progress is not None:
            job.work = progress(job)
        self._jobs[job.id] = job
        if long:
            self._start_long(job, long, cancellable)
        if self._worker is None:
            try:
                result = job.work()
            except Exception as error:
                self._finished(job.id, False, error)
            else:
                self._finished(job.id, True, result)
        elif not (self._open_queued or opening or any_access):
            self._waiting_open.append(job)  # it reads the board: queued once the open is
        else:
            self._worker.put(job, background=background or idle, idle=idle, opening=opening)
            if opening:  # everything asked after this is queued behind it
                self._open_queued = True
                for waiting in self._waiting_open:
                    self._worker.put(waiting, background=waiting.background)
                self._waiting_open = []

    @Slot(int, bool, object)
    def _finished(self, job_id: int, ok: bool, result: Any) -> None:
        job = self._jobs.pop(job_id, None)
        if job is None:
            return
        if job.dialog is not None:
            self._end_long(job)
        if ok:
            if job.done is not None:
                job.done(result)
            if job.write:
                changes = job.changes(result) if callable(job.changes) else job.changes
                self._announce((changes or NO_CHANGE) | changes_of(result), job.origin)
        else:
            error: BaseException = result
            if not expected(error):
                log.error("%s failed", job.title or "a database call", exc_info=error)
            if job.on_failure is not None:  # an import may have committed whole batches
                self._announce(job.on_failure, job.origin)
            if job.failed is not None:
                job.failed(error)
            elif self.synchronous and not expected(error):
                raise error
            else:
                self._tell(job.title or "crlmboard", failure_text(error))

    def _announce(self, changes: ChangeSet, origin: object) -> None:
        if not changes.empty:
            self.changes_applied.emit(changes, origin)

    def _tell(self, title: str, text: str) -> None:
        QMessageBox.warning(self.window, title, text)

    # -- long work --------------------------------------------------------------------

    def _start_long(self, job: _Job, label: str, cancellable: bool) -> None:
        self._long += 1
        if self._long == 1:
            self.busy_changed.emit(True)
        if self.synchronous:
            return
        dialog = QProgressDialog(label, "Cancel" if cancellable else "", 0, 0, self.window)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setWindowTitle(job.title or "crlmboard")
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(0)
        if not cancellable:
            dialog.setCancelButton(None)
        dialog.canceled.connect(lambda: setattr(job, "cancelled", True))
        job.dialog = self.progress_dialog = dialog
        # shown at once: the window is closed to input while the work runs
        dialog.show()

    def _end_long(self, job: _Job) -> None:
        if job.dialog is not None:
            job.dialog.close()
            job.dialog.deleteLater()
            if self.progress_dialog is job.dialog:
                self.progress_dialog = None
            job.dialog = None
        self._long -= 1
        if self._long == 0:
            self.busy_changed.emit(False)

    @Slot(int, int, int)
    def _progressed(self, job_id: int, done: int, total: int) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.dialog is not None:
            job.dialog.setMaximum(max(total, 1))
            job.dialog.setValue(min(done, max(total, 1)))

    def _with_progress(self, work: Callable[[Board, Progress], Any]) -> Callable[[_Job], Any]:
        """Wrap `work(board, progress)`: progress goes to the dialog; False once Cancel was
        pressed (the work stops where it can)."""

        def wrap(job: _Job) -> Callable[[], Any]:
            board = self.board

            def progress(*step: Any) -> bool:
                # (done, total), or (stage, done, total) from the check
                if self._worker is not None:
                    self._worker.job_progressed.emit(job.id, int(step[-2]), int(step[-1]))
                return not job.cancelled

            return lambda: work(board, progress)

        return wrap

    def _long_work(
        self,
        label: str,
        work: Callable[[Board, Progress], Any],
        done: Done | None,
        failed: Failed | None,
        *,
        title: str,
        write: bool = False,
        changes: Changes = None,
        cancellable: bool = True,
        origin: object = None,
        on_failure: ChangeSet | None = None,
        any_access: bool = False,
    ) -> None:
        self._submit(
            lambda: None,
            done,
            failed,
            changes=changes,
            write=write,
            any_access=any_access,
            origin=origin,
            title=title,
            on_failure=on_failure,
            long=label,
            cancellable=cancellable,
            progress=self._with_progress(work),
        )

    # -- shutting down ----------------------------------------------------------------

    def stop(self, *, close_board: bool = False) -> None:
        """Finish the queued calls and end the worker (closing the database if asked);
        nothing asked afterwards runs.  Safe to repeat."""
        self._writer_timer.stop()
        if close_board:  # the board read on the worker: it may still be opening
            self._submit(
                lambda: self.board.close() if self.board is not None else None,
                None,
                lambda _e: None,
                title="Closing the database",
            )
        self._stopped = True
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.put(None, background=True)  # after every job, background ones too
            worker.wait()
            self._drain()

    def _drain(self) -> None:
        """Deliver what finished while the worker was stopping (their signals are queued)."""
        from PySide6.QtCore import QCoreApplication

        QCoreApplication.sendPostedEvents(self)

    # ==================================================================================
    # The operations, in the clinic's words.  `done(result)` runs on the GUI thread.
    # ==================================================================================

    # -- database ---------------------------------------------------------------------

    def open_board(
        self,
        where: str,
        profile: str | None,
        done: Done,
        failed: Failed,
        *,
        preload: Callable[[], object] | None = None,
    ) -> None:
        """Open the database on the worker, for a door made without one (the window
        already shows the case list's first page): the data layer loads there (and
        `preload`, the views' modules), then the checks a deferred open left
        (`quick_check`, the open-time backup) run on a thread of their own.  Reads go on
        meanwhile; a write waits for them (reliability.md); `checks_finished` says when
        they are over."""

        def work() -> Any:
            load_data_layer()
            if preload is not None:
                preload()
            from crlmboard.services.board import Board

            board = Board.open(
                where,
                profile=profile,
                create=False,
                defer_checks=True,
                progress=self._upgrade_step,
            )
            self.board = board  # the calls queued behind this one read it
            return board

        def opened(board: Board) -> None:
            self._remember(board)
            if board.database.checks_pending:
                self._run_checks(board)
            done(board)

        self._submit(work, opened, failed, title="Open database", opening=True)

    def _upgrade_step(self, step: str, done: int, total: int) -> None:
        """An upgrade's progress, from the worker (queued to the GUI thread)."""
        with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
            self.upgrade_progress.emit(step, done, total)

    @Slot(str, int, int)
    def _upgrading(self, step: str, done: int, total: int) -> None:
        """An upgrade's step in the progress dialog of the open under way (File ▸ Open);
        the window-first start shows it in the status bar (MainWindow)."""
        dialog = self.progress_dialog
        if dialog is not None:
            dialog.setLabelText(f"Upgrading the database: {upgrade_text(step, done, total)}")
            dialog.setMaximum(max(total, 0))
            dialog.setValue(min(done, total) if total > 0 else 0)

    def _run_checks(self, board: Board) -> None:
        self.checking = True

        def run() -> None:
            error: BaseException | None = None
            try:
                board.database.run_deferred_checks()
            except BaseException as failure:
                error = failure
            with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
                self.checks_finished.emit(error)  # queued to the GUI thread

        if self.synchronous:
            run()
        else:
            import threading

            threading.Thread(target=run, name="crlmboard-open-checks", daemon=True).start()

    @Slot(object)
    def _checked(self, error: BaseException | None) -> None:
        self.checking = False
        if error is not None:
            self.read_only = True
            self.read_only_reason = getattr(self.board, "read_only_reason", None)

    def replace_board(
        self,
        open_board: Callable[[], Board],
        done: Done | None = None,
        failed: Failed | None = None,
        *,
        before: Callable[[Board], Any] | None = None,
        label: str = "Opening the database…",
    ) -> None:
        """Open another database on the worker (after `before(old board)`, e.g. a restore,
        and closing the old one when the new one opened); every view reloads."""
        state: dict[str, Any] = {}

        def work(board: Board, _progress: Progress) -> Any:
            result = before(board) if before is not None else None
            if before is not None:
                board.close()  # gives up the writer lock so the new Board can take it
            new = open_board()
            if before is None:
                board.close()
            state["board"] = new
            return result

        def opened(result: Any) -> None:
            self.board = state["board"]
            self._remember(self.board)
            self.access_changed.emit()
            self.board_replaced.emit()
            if done is not None:
                done(result)

        self._long_work(
            label,
            work,
            opened,
            failed,
            title="Open database",
            write=True,
            changes=ChangeSet.all(),
            cancellable=False,
            any_access=before is None,  # a restore writes; opening another database not
        )

    def follow_writer(self) -> None:
        """One look, on the worker, at the app holding the writer lock while the database
        is read-only here because of it (the timer asks every `WRITER_LOOK_MS`): when it
        committed, every view reads again; when it has gone, the database is open for
        writing here (the banner goes, the controls come back) and every view reads again.
        At most one look is on its way; a look waits for every call a person asked for."""
        if not self.writer_elsewhere or self._following or self._stopped:
            return
        self._following = True
        board = self.board

        def seen(news: Any) -> None:
            self._following = self._follow_failed = False
            if board is not self.board:
                return  # another database opened meanwhile
            if news.taken_over:
                self._remember(board)
                self.access_changed.emit()
                self.board_replaced.emit()
            self._announce(news.changes, None)

        def failed(error: BaseException) -> None:
            self._following = False
            if not self._follow_failed:  # once, not every look while it lasts
                self._follow_failed = True
                log.warning("could not look at the database's writer: %s", type(error).__name__)

        self._submit(board.follow_writer, seen, failed, title="Read-only", background=True)

    def open_database(
        self,
        where: str,
        profile: str | None,
        done: Done | None,
        failed: Failed,
        *,
        create: bool = False,
    ) -> None:
        """Open another database (File > Open, Recent) in place of this one; a new one is
        made only with `create` (File > New database): a mistyped path never becomes an
        empty database."""
        clock = self.board.today

        def open_board() -> Board:
            from crlmboard.services.board import Board, init_database

            if create:
                init_database(where).close()
            return Board.open(
                where, clock=clock, profile=profile, create=False, progress=self._upgrade_step
            )

        self.replace_board(open_board, done, failed)

    @staticmethod
    def location_warning(where: str | None) -> str | None:
        """The warning to show before opening a SQLite database on a network share or in
        a sync folder (T16); None for a local disk or a PostgreSQL server.  Cheap: it
        reads the mount table, never the database."""
        from crlmboard.services.database import location_warning

        return location_warning(where)

    def resume_rotation(self) -> None:
        self._submit(lambda: self.board.maintenance.resume_rotation(), None, None)

    # -- case list --------------------------------------------------------------------

    def case_list_page(
        self,
        query: str,
        sort: str,
        descending: bool,
        offset: int,
        limit: int,
        done: Done,
        *,
        count: bool = False,
        cap: int | None = None,
        background: bool = False,
    ) -> None:
        """A page of the case list; `done((count, entries, exact))`.  With `count`, the
        matching cases are counted first — with `cap`, a filter's no further than
        `cap + 1`: `exact` is False when more than `cap` match (`case_list_count` then
        gives the number).  Without `count`: `(None, entries, True)`.  `background`: rows
        no one waits for yet (the rest of a page after the rows on screen)."""

        def work() -> Any:
            board = self.board  # read on the worker: the database may be opening still
            total, exact = board.cases.list_count(query, cap) if count else (None, True)
            entries = board.cases.page(
                query, sort=sort, descending=descending, offset=offset, limit=limit
            )
            return total, entries, exact

        self._submit(work, done, None, title="Case list", background=background)

    def case_list_count(
        self,
        query: str,
        stale: Callable[[], bool],
        done: Done,
        *,
        background: bool = True,
    ) -> None:
        """The exact number of cases matching `query`, in the background (after what a
        person asked for): `done(number)`, or `done(None)` when `stale()` became true first
        — a newer filter was typed; on SQLite a count under way then stops at once."""

        def failed(error: BaseException) -> None:
            log.warning("the case list's count failed: %s", type(error).__name__)
            done(None)

        self._submit(
            lambda: self.board.cases.count_until(query, stale),
            done,
            failed,
            title="Case list",
            background=background,
        )

    def case_position(self, mrn: str, query: str, sort: str, descending: bool, done: Done) -> None:
        self._submit(
            lambda: self.board.cases.position(mrn, query, sort=sort, descending=descending),
            done,
            None,
            title="Case list",
        )

    def _person_waiting(self) -> bool:
        """A person's call is queued behind the work running (never with no worker)."""
        worker = self._worker
        return worker is not None and worker.person_waiting()

    def recompute_summaries(self, done: Done | None = None) -> None:
        """Recompute the case list's summary columns for today and the profile in force,
        in the background: a step of cases per call, so what the user asks for meanwhile
        waits one step at most; the list reads again once, at the end, if any changed.  A
        newer recompute (another day, another profile) supersedes one under way.  A
        department user who may not edit cases (a viewer) leaves it to those who may."""
        if self.read_only or not self.identity.can_edit:
            return
        self._recompute += 1
        generation, total = self._recompute, [NO_CHANGE]

        def step(after: str | None) -> None:
            board = self.board
            self._submit(
                lambda: board.cases.refresh_summaries(
                    after, limit=SUMMARY_STEP, give_way=self._person_waiting
                ),
                stepped,
                lambda error: log.error("case list summaries not recomputed", exc_info=error),
                title="Case list",
                idle=True,  # a step waits while someone is at work (the filter typed)
            )

        def stepped(result: Any) -> None:
            if generation != self._recompute:
                return
            total[0] = total[0] | result.changes
            if result.next_after is not None:
                step(result.next_after)
                return
            self._announce(total[0], None)
            if done is not None:
                done(total[0])

        step(None)

    # -- one case ---------------------------------------------------------------------

    def open_case(self, mrn: str, done: Done, failed: Failed | None = None) -> None:
        """The case, its version, its evaluation (parsed once into its read model; None
        when the engine failed: that never keeps a case from opening) and the notes on
        reviews signed with another engine that today's engine reads differently.  The
        evaluation and the notes are made once per stored case and save, date and profile
        (`EvaluationService.remembered`); the notes are read as stored with the case for
        its save, engine and profile, and made afresh only when none is stored — then
        stored in the background, where this login may write (`keep_engine_notes`)."""
        board = self.board
        missing: list[tuple[CaseStamp, Any]] = []

        def work() -> Any:
            case, stamp = board.cases.get_stamped(mrn)
            evaluation, notes = board.evaluation.remembered(
                stamp,
                lambda: (_evaluated(board, case), _engine_notes(board, case, stamp, missing)),
            )
            return case, stamp.version, evaluation, notes

        def opened(result: Any) -> None:
            done(result)
            if missing:
                self.keep_engine_notes(mrn, missing[0])

        self._submit(work, opened, failed, title="Open case")

    def keep_engine_notes(self, mrn: str, made: tuple[CaseStamp, Any]) -> None:
        """Store in the background the older engines' comparison an open had to make
        (`made`: the stamp of the case it was made from, and the changes), so the next
        open at the same save reads it; nothing where this database or login may not
        write, and never in a person's way (idle)."""
        if self.read_only or self.identity is None or not self.identity.can_edit:
            return
        board = self.board
        self._submit(
            lambda: board.cases.keep_engine_changes(mrn, made),
            None,
            lambda error: log.warning("engine comparison not stored: %s", type(error).__name__),
            title="Engine notes",
            idle=True,
        )

    def get_case(self, mrn: str, done: Done, failed: Failed | None = None) -> None:
        board = self.board
        self._submit(lambda: board.cases.get(mrn), done, failed, title="Open case")

    def save_case(
        self,
        case: Case,
        version: int,
        mrn: str,
        done: Done,
        failed: Failed,
        *,
        origin: object = None,
    ) -> None:
        """Save an edited case with its version check; `done((SavedCase, its evaluation
        or None, the engine notes))`."""
        board = self.board

        def work() -> Any:
            saved = board.cases.save(case, version, mrn=mrn)
            return saved, _evaluated(board, case), _engine_notes(board, case)

        self._submit(
            work,
            done,
            failed,
            write=True,
            changes=lambda result: result[0].changes,
            origin=origin,
            title="Save",
        )

    def create_case(self, case: Case, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(
            lambda: board.cases.create(case),
            done,
            failed,
            write=True,
            title="New case",
        )

    def case_history(self, mrn: str, done: Done) -> None:
        """The case's audit entries, and each meeting's id with its date, time and place
        (the history names an agenda item's meeting by these, not by its id)."""
        board = self.board

        def work() -> Any:
            entries = board.maintenance.case_history(mrn)
            return entries, {m.id: m.fields for m in board.meetings.listing()}

        self._submit(work, done, None, title="History")

    def export_case(self, mrn: str, path: str, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(lambda: board.cases.export(mrn, path), done, failed, title="Export case")

    def export_fhir(self, mrn: str, path: str, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(lambda: board.interop.write_fhir(mrn, path), done, failed, title="Export FHIR")

    def write_case_summary(
        self, mrn: str, path: str, done: Done, failed: Failed, review_index: int | None = None
    ) -> None:
        """The case summary PDF (for review `review_index`, 0-based, when given)."""
        self._long_work(
            "Writing the PDF summary…",
            lambda board, _p: board.reports.write_case_summary(mrn, path, review_index),
            done,
            failed,
            title="Export PDF",
            cancellable=False,
        )

    def write_letter(
        self, mrn: str, review_index: int, path: str, done: Done, failed: Failed
    ) -> None:
        """The outcome letter PDF of signed review `review_index` (0-based)."""
        self._long_work(
            "Writing the outcome letter…",
            lambda board, _p: board.reports.write_letter(mrn, review_index, path),
            done,
            failed,
            title="Export outcome letter",
            cancellable=False,
        )

    # -- import -----------------------------------------------------------------------

    def import_paths(self, paths: Sequence[str], done: Done, failed: Failed) -> None:
        """Import case files and folders (cancellable between batches)."""

        def work(board: Board, progress: Progress) -> Any:
            from crlmboard.services.cases import ImportSummary

            summary = ImportSummary()
            for path in paths:
                part = board.cases.import_path(path, progress=progress)
                summary.imported += part.imported
                summary.refused += part.refused
                summary.notes += part.notes
                summary.changes = summary.changes | part.changes
            return summary

        # a failed import may have committed whole batches before the failure: the views
        # read again then too
        self._long_work(
            "Importing case files…",
            work,
            done,
            failed,
            title="Import",
            write=True,
            on_failure=ChangeSet.all(),
        )

    def preview_bundles(self, paths: Sequence[str], done: Done, failed: Failed) -> None:
        """`done(list[BundlePreview])`: each mCODE bundle among the files, read and mapped
        without writing anything (case files and folders are left out)."""
        board = self.board

        def work() -> Any:
            from crlmboard.domain.validation import InvalidInput

            previews: list[BundlePreview] = []
            for path in paths:
                if not os.path.isfile(path) or not _looks_like_bundle(path):
                    continue
                try:
                    case, notes = board.interop.preview_bundle(path)
                except InvalidInput as error:
                    problems = tuple(str(p) for p in error.problems)
                    previews.append(BundlePreview(path, problems=problems))
                else:
                    previews.append(BundlePreview(path, case.mrn, tuple(notes)))
            return previews

        self._submit(work, done, failed, title="Import")

    def preview_referrals(self, path: str, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(
            lambda: board.interop.preview_referrals(path), done, failed, title="Import referrals"
        )

    def import_referrals(self, path: str, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(
            lambda: board.interop.import_referrals(path),
            done,
            failed,
            write=True,
            title="Import referrals",
        )

    # -- data safety ------------------------------------------------------------------

    def backup(self, done: Done, failed: Failed) -> None:
        """The user's own backup (File ▸ Backup now): the dialog counts the pages copied and
        has a Cancel; `done(info)`, or `done(None)` when Cancel was pressed (the copy stops
        at its next step and nothing is written).  The backups the board takes by itself
        (before an upgrade, a restore, an erasure, a folder import) are never cancellable."""

        def work(board: Board, progress: Progress) -> Any:
            from crlmboard.services.maintenance import BackupCancelled

            try:
                return board.maintenance.backup(progress=progress)
            except BackupCancelled:
                return None

        self._long_work("Backing up the database…", work, done, failed, title="Backup")

    def list_backups(self, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(lambda: board.maintenance.list_backups(), done, failed, title="Restore")

    def restore(
        self,
        path: str | os.PathLike[str],
        profile: str | None,
        done: Done,
        failed: Failed,
    ) -> None:
        """Restore a backup and open the restored database (every view reloads)."""
        old = self.board

        def open_again() -> Board:
            from crlmboard.services.board import Board

            return Board.open(  # the same login or passphrase as before the restore
                old.url,
                clock=old.today,
                profile=profile,
                create=False,
                password=old.password,
                passphrase=old.passphrase,
            )

        def restored(result: Any) -> None:
            self.resume_rotation()
            # `done` (the "Restored …" message) once the views show the restored database:
            # the restore's change is announced right after this, and the views' reads it
            # asks for queue on the worker; the message is queued behind them
            QTimer.singleShot(
                0, self, lambda: self._submit(lambda: result, done, failed, title="Restore")
            )

        self.replace_board(
            open_again,
            restored,
            failed,
            before=lambda board: board.maintenance.restore(path),
            label="Restoring the backup…",
        )

    def erase_case(
        self,
        mrn: str,
        *,
        reason: str,
        confirm_mrn: str,
        including_signed: bool,
        done: Done,
        failed: Failed,
    ) -> None:
        """Erase one patient for good (T39), then vacuum and back up: every view reloads."""
        self._long_work(
            "Erasing the patient…",
            lambda board, _p: board.erasure.erase(
                mrn, reason=reason, confirm_mrn=confirm_mrn, including_signed=including_signed
            ),
            done,
            failed,
            title="Erase patient",
            write=True,
            cancellable=False,
        )

    def check(self, done: Done, failed: Failed) -> None:
        self._long_work(
            "Checking the database…",
            lambda board, progress: board.maintenance.check(progress),
            done,
            failed,
            title="Check database",
        )

    # -- settings ---------------------------------------------------------------------

    def use_profile(self, profile: str | None, done: Done | None, failed: Failed) -> None:
        """Switch the institution profile; the case list's summaries follow."""
        board = self.board

        def changed(result: Any) -> None:
            self.profile = result[1]
            if done is not None:
                done(result[1])

        def work() -> Any:
            changes = board.evaluation.use_profile(profile)
            return changes, board.evaluation.profile

        self._submit(
            work,
            changed,
            failed,
            write=True,
            title="Institution profile",
            any_access=True,  # a setting of this app: the case list's columns follow it
        )

    # -- users (a department's PostgreSQL store) ----------------------------------------

    def list_users(self, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(lambda: board.users.list(), done, failed, title="Users")

    def add_user(
        self,
        login: str,
        name: str,
        roles: list[str],
        password: str | None,
        done: Done,
        failed: Failed,
    ) -> None:
        board = self.board
        self._submit(
            lambda: board.users.add(login, name, roles, password),
            done,
            failed,
            write=True,
            title="Add user",
        )

    def disable_user(self, login: str, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(
            lambda: board.users.disable(login), done, failed, write=True, title="Disable user"
        )

    def enable_user(self, login: str, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(
            lambda: board.users.enable(login), done, failed, write=True, title="Enable user"
        )

    def rule_catalogue(self, done: Done) -> None:
        board = self.board
        self._submit(
            lambda: (board.evaluation.catalogue(), board.evaluation.profile.name),
            done,
            None,
            title="Rule catalogue",
        )

    # -- meetings ---------------------------------------------------------------------

    def meeting_listing(self, done: Done) -> None:
        """The meetings with their quorums."""
        board = self.board

        def work() -> Any:
            meetings = board.meetings.listing()
            return meetings, [board.meetings.quorum(m) for m in meetings]

        self._submit(work, done, None, title="Meetings")

    def meeting(self, meeting_id: int, done: Done, failed: Failed | None = None) -> None:
        """A meeting with its quorum."""
        board = self.board

        def work() -> Any:
            found = board.meetings.get(meeting_id)
            return found, board.meetings.quorum(found)

        self._submit(work, done, failed, title="Meeting")

    def meetings(self, done: Done) -> None:
        board = self.board
        self._submit(lambda: board.meetings.list(), done, None, title="Meetings")

    def prepare(
        self,
        meeting_id: int,
        done: Done,
        failed: Failed | None = None,
        *,
        with_meeting: bool = True,
    ) -> None:
        """The readiness of each case on a meeting's agenda: `done((the meeting or None,
        [(agenda entry, readiness items)]))`."""
        board = self.board

        def work() -> Any:
            meeting = board.meetings.get(meeting_id) if with_meeting else None
            return meeting, board.meetings.prepare(meeting_id)

        self._submit(work, done, failed, title="Readiness")

    def create_meeting(self, fields: dict[str, Any], done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(
            lambda: board.meetings.create(**fields),
            done,
            failed,
            write=True,
            title="New meeting",
        )

    def update_meeting(
        self, meeting_id: int, fields: dict[str, Any], done: Done, failed: Failed
    ) -> None:
        board = self.board
        self._submit(
            lambda: board.meetings.update(meeting_id, **fields),
            done,
            failed,
            write=True,
            title="Edit meeting",
        )

    def delete_meeting(self, meeting_id: int, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(
            lambda: board.meetings.delete(meeting_id),
            done,
            failed,
            write=True,
            title="Delete meeting",
        )

    def add_to_agenda(
        self, meeting_id: int, mrn: str, question: str, done: Done, failed: Failed
    ) -> None:
        board = self.board
        self._submit(
            lambda: board.meetings.add_to_agenda(meeting_id, mrn, question),
            done,
            failed,
            write=True,
            title="Agenda",
        )

    def edit_question(self, item_id: int, question: str, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(
            lambda: board.meetings.edit_question(item_id, question),
            done,
            failed,
            write=True,
            title="Agenda",
        )

    def reorder_agenda(
        self, meeting_id: int, item_ids: Sequence[int], done: Done, failed: Failed
    ) -> None:
        board = self.board
        self._submit(
            lambda: board.meetings.reorder(meeting_id, list(item_ids)),
            done,
            failed,
            write=True,
            title="Agenda",
        )

    def remove_from_agenda(self, item_id: int, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(
            lambda: board.meetings.remove_from_agenda(item_id),
            done,
            failed,
            write=True,
            title="Agenda",
        )

    def hold_back(self, item_id: int, note: str, done: Done, failed: Failed) -> None:
        """Hold a case back to the next meeting; `done(the new agenda item id)`."""
        board = self.board
        self._submit(
            lambda: board.meetings.hold_back(item_id, note),
            done,
            failed,
            write=True,
            title="Hold back",
        )

    def close_meeting(self, meeting_id: int, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(
            lambda: board.meetings.close(meeting_id),
            done,
            failed,
            write=True,
            title="Close meeting",
        )

    def meeting_pack(self, meeting_id: int, path: Path, done: Done, failed: Failed) -> None:
        """Write the meeting pack to `path`; `done(path)`, or `done(None)` when Cancel was
        pressed (it stops between cases, and nothing is written)."""

        def work(board: Board, progress: Progress) -> Path | None:
            from crlmboard.services.meetings import PackCancelled

            try:
                pdf = board.meetings.meeting_pack(meeting_id, progress=progress)
            except PackCancelled:
                return None
            # patients' data: written owner-only (0600) and whole, as every export (a
            # temporary file in the same folder, renamed when complete)
            return write_file_atomically(path, pdf)

        self._long_work("Writing the meeting pack…", work, done, failed, title="Meeting pack")

    def figures(self, start: dt.date, end: dt.date, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(lambda: board.meetings.figures(start, end), done, failed, title="Figures")

    def figures_csv(self, start: dt.date, end: dt.date, done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(lambda: board.meetings.figures_csv(start, end), done, failed, title="Figures")

    def write_figures_csv(
        self, start: dt.date, end: dt.date, path: Path, done: Done, failed: Failed
    ) -> None:
        """The board figures as a CSV file, written owner-only (0600) and whole."""
        board = self.board

        def work() -> Path:
            text = board.meetings.figures_csv(start, end)
            return write_file_atomically(path, text.encode("utf-8"))

        self._submit(work, done, failed, title="Figures")

    def worklist(self, done: Done) -> None:
        """The follow-up worklist with the names of its cases."""
        board = self.board

        def work() -> Any:
            items = board.meetings.worklist()
            names: dict[str, str] = {}
            for mrn in {item.mrn for item in items}:
                try:
                    names[mrn] = board.cases.get(mrn).display_name()
                except BoardError:
                    names[mrn] = mrn
            return items, names

        self._submit(work, done, None, title="Follow-up")

    # -- reviews ----------------------------------------------------------------------

    def start_review(
        self, meeting_id: int, mrn: str, done: Done, failed: Failed | None = None
    ) -> None:
        board = self.board
        self._submit(lambda: board.reviews.start(meeting_id, mrn), done, failed, title="Review")

    def amendment(
        self,
        mrn: str,
        meeting_date: dt.date,
        done: Done,
        failed: Failed,
        *,
        amends: int | None = None,
    ) -> None:
        """The draft for amending review `amends`, signed at a meeting."""
        board = self.board

        def work() -> Any:
            meeting = board.meetings.on_date(meeting_date)
            return board.reviews.start(meeting.id, mrn, amends)

        self._submit(work, done, failed, title="Amend")

    def save_review_draft(
        self,
        meeting_id: int,
        mrn: str,
        amends: int | None,
        fields: dict[str, Any],
        done: Done | None,
        failed: Failed,
    ) -> None:
        """Keep what was typed in a review not signed yet (audited; nothing to refresh)."""
        board = self.board
        self._submit(
            lambda: board.reviews.save_draft(meeting_id, mrn, fields, amends),
            done,
            failed,
            write=True,
            title="Review draft",
        )

    def discard_review_draft(
        self, meeting_id: int, mrn: str, amends: int | None, done: Done | None, failed: Failed
    ) -> None:
        board = self.board
        self._submit(
            lambda: board.reviews.discard_draft(meeting_id, mrn, amends),
            done,
            failed,
            write=True,
            title="Discard draft",
        )

    def sign_review(self, draft: Any, values: dict[str, Any], done: Done, failed: Failed) -> None:
        board = self.board
        self._submit(
            lambda: board.reviews.sign(draft, **values),
            done,
            failed,
            write=True,
            title="Sign",
        )

    def amend_review(
        self,
        mrn: str,
        index: int,
        meeting_id: int,
        values: dict[str, Any],
        done: Done,
        failed: Failed,
    ) -> None:
        board = self.board
        self._submit(
            lambda: board.reviews.amend(mrn, index, meeting_id, **values),
            done,
            failed,
            write=True,
            title="Amend",
        )

    def set_follow_up(
        self, mrn: str, index: int, fields: dict[str, Any], done: Done, failed: Failed
    ) -> None:
        board = self.board
        self._submit(
            lambda: board.reviews.set_follow_up(mrn, index, **fields),
            done,
            failed,
            write=True,
            title="Follow-up",
        )


def _evaluated(board: Board, case: Case) -> EvaluationView | None:
    """The case's evaluation as of today, as the views read it (None if the engine
    failed: logged, and the case still opens).  What only other tabs or a PDF read of it
    (the lesions' courses, the earlier episodes, the input hash) is computed when first
    read, from this case (`EvaluationView.of`)."""
    from crlmboard.domain.engine.readmodel import EvaluationView

    try:
        return EvaluationView.of(board.evaluation.evaluate(case))
    except Exception:
        log.exception("evaluation failed")
        return None


def _engine_notes(
    board: Board,
    case: Case,
    stamp: CaseStamp | None = None,
    missing: list[tuple[CaseStamp, Any]] | None = None,
) -> list[str]:
    """Where today's engine reads a review signed with another engine differently (a note
    about older reviews never keeps a case from opening).  With `stamp` (the case as an
    open read it), the comparison stored for that save, engine and profile is read, and
    only made afresh when there is none (then `missing` gets the stamp and what was made,
    for the door to store)."""
    try:
        if stamp is None:
            return [change.text() for change in board.evaluation.engine_changes(case)]
        notes = board.cases.engine_changes(case, stamp)
        if notes.missing and missing is not None:
            missing.append((stamp, notes))
        return [change.text() for change in notes.changes]
    except Exception:
        log.exception("engine comparison failed")
        return []


def load_data_layer() -> None:
    """Import the services, the store and the domain (SQLAlchemy, pydantic, the engine):
    on the worker, at the app's start, while the window shows the case list."""
    import crlmboard.domain.engine.readmodel
    import crlmboard.services.board  # noqa: F401


def open_demo_database(path: str | os.PathLike[str]) -> Board:
    """A fresh demo database (for the screenshots, before any window exists)."""
    from crlmboard.services.demo import create_demo_database

    board, _summary = create_demo_database(path)
    return board


def open_empty_database(path: str | os.PathLike[str]) -> Board:
    """A new database without cases (for the screenshots' empty list)."""
    from crlmboard.services.board import Board

    return Board.open(path)


def about() -> dict[str, str]:
    """Versions of the app and what it runs on (no database)."""
    from crlmboard.services.board import versions

    return versions()
