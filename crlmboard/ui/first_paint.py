"""The app's start: the main window and the case list's first page before the data layer.

Showing the window used to wait for SQLAlchemy, the domain's pydantic models, Alembic, the
engine, `quick_check` and the open-time backup (performance.md B1).  Now, for a plain SQLite
file, the list's count and first page are read with the standard library (read-only,
`services/first_page.py`) and the main window is shown with them at once: the list can be
read and a case chosen.  After the first paint the door imports the data layer and opens
the database on its worker, and the window completes itself (the open case, the pages,
the menus).  `quick_check` and the open-time backup then
run in the background: writes wait for them, visibly in the status bar; reads do not.

Everything else — PostgreSQL, an encrypted file, a missing or unreadable one, a URL with
options — takes the normal path (`crlmboard.app.open_window`): opened first, then shown.
This module imports only Qt and the light parts of the UI: the data layer must not load
before the first paint (tests/ui/test_first_paint.py counts the modules).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from PySide6.QtCore import QObject, QTimer

from crlmboard.ui import ops
from crlmboard.ui.fonts import load_bundled_fonts
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.models.case_list import PAGE_SIZE

log = logging.getLogger("crlmboard.ui")

# without a paint (a window opened minimised) the database opens after this many ms anyway
OPEN_AFTER_MS = 300


def _preload_views() -> None:
    """The views' modules, imported on the worker while the list is shown (so completing
    the window on the GUI thread only builds widgets)."""
    import crlmboard.ui.controllers.meetings
    import crlmboard.ui.views.timeline
    import crlmboard.ui.workspace  # noqa: F401


class _FirstPaint(QObject):
    """Calls `then` once, after the case list's first paint (or OPEN_AFTER_MS)."""

    def __init__(self, window: MainWindow, then: Any):
        super().__init__(window)
        self._then = then
        self._done = False
        self._table = window.table
        self._table.after_paint.append(self._painted)
        QTimer.singleShot(OPEN_AFTER_MS, self._go)

    def _painted(self) -> None:
        if not self._done:
            QTimer.singleShot(0, self._go)  # after this paint has finished

    def _go(self) -> None:
        if self._done:
            return
        self._done = True
        if self._painted in self._table.after_paint:
            self._table.after_paint.remove(self._painted)
        self._then()


def show_window(
    where: str | None,
    profile: str | None,
    *,
    today: date | None = None,
    preload: bool = True,
) -> MainWindow | None:
    """Show the main window with the case list's first page read without the data layer,
    then open the database behind it; None when the database is not a plain SQLite file
    this can read (the caller opens it the normal way)."""
    # the count now, the rows the window shows once it knows its height (MainWindow), the
    # rest of the page after the first paint: one read-only read (store/first_page.py).
    # The bundled fonts are loaded before rows whose names need them (models/case_list.py)
    page = ops.first_page(where, today or date.today(), PAGE_SIZE, rows=0)
    if page is None:
        return None
    window = MainWindow(None, first_page=page, location=str(page.path))

    def opened(_board: Any) -> None:
        window.complete()

    def failed(error: BaseException) -> None:
        """Opening failed (a newer schema, a damaged file, an unreadable profile): said as
        the normal path says it, and the app ends."""
        from PySide6.QtWidgets import QMessageBox

        text = (
            str(error) if isinstance(error, ops.BoardError) else f"crlmboard cannot start: {error}"
        )
        QMessageBox.critical(window, "crlmboard", text)
        window.open_failed = True
        window.close()

    def open_database() -> None:
        load_bundled_fonts()
        window.model.finish_first_page()  # the read-only read ends before the open
        window.door.open_board(
            str(page.path) if where is None else where,
            profile,
            opened,
            failed,
            preload=_preload_views if preload else None,
        )

    window.first_paint = _FirstPaint(window, open_database)  # type: ignore[attr-defined]
    window.show()
    return window
