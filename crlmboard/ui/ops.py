"""Long work off the GUI thread (folder import, demo, reports) with a cancellable progress
dialog, in the manner of Anki's background operations.  Short reads and single-case saves
run directly: they take milliseconds."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

log = logging.getLogger("crlmboard.ui")

Progress = Callable[[int, int], bool]


class _Worker(QObject):
    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, work: Callable[[Progress], Any]):
        super().__init__()
        self.work = work
        self.cancelled = False

    def run(self) -> None:
        def progress(done: int, total: int) -> bool:
            self.progressed.emit(done, total)
            return not self.cancelled

        try:
            result = self.work(progress)
        except Exception as error:  # reported to the GUI thread, logged there
            self.failed.emit(error)
        else:
            self.finished.emit(result)


class _Relay(QObject):
    """Lives in the GUI thread: the worker's signals reach the callbacks through it, queued,
    so every callback runs on the GUI thread (a plain function would run in the worker)."""

    def __init__(
        self,
        parent: QObject,
        progressed: Callable[[int, int], None],
        finished: Callable[[Any], None],
        failed: Callable[[Any], None],
    ):
        super().__init__(parent)
        self._progressed, self._finished, self._failed = progressed, finished, failed

    @Slot(int, int)
    def progressed(self, done: int, total: int) -> None:
        self._progressed(done, total)

    @Slot(object)
    def finished(self, result: Any) -> None:
        self._finished(result)

    @Slot(object)
    def failed(self, error: Any) -> None:
        self._failed(error)


def run_with_progress(
    parent: QWidget,
    label: str,
    work: Callable[[Progress], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
) -> QThread:
    """Run `work(progress)` on a worker thread; `progress(done, total)` returns False once
    the user pressed Cancel."""
    dialog = QProgressDialog(label, "Cancel", 0, 0, parent)
    dialog.setMinimumDuration(300)
    dialog.setAutoClose(False)
    thread = QThread(parent)
    worker = _Worker(work)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)

    def progressed(done: int, total: int) -> None:
        dialog.setMaximum(max(total, 1))
        dialog.setValue(done)

    def finish(result: Any) -> None:
        dialog.close()
        thread.quit()
        on_done(result)

    def fail(error: Any) -> None:
        dialog.close()
        thread.quit()
        log.error("background work failed", exc_info=error)
        on_error(error)

    relay = _Relay(parent, progressed, finish, fail)
    worker.progressed.connect(relay.progressed)
    worker.finished.connect(relay.finished)
    worker.failed.connect(relay.failed)
    thread.finished.connect(relay.deleteLater)
    dialog.canceled.connect(lambda: setattr(worker, "cancelled", True))
    thread.finished.connect(worker.deleteLater)
    thread._worker = worker  # type: ignore[attr-defined]  # keep it alive with the thread
    thread.start()
    return thread
