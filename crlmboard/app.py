"""Composition root: the QApplication, the exception hook and log, the Board, the window."""

from __future__ import annotations

import getpass
import logging
import sys
from types import TracebackType

from crlmboard.services import Board, BoardError
from crlmboard.services.log import log_path, setup_logging

log = logging.getLogger("crlmboard.app")


def _excepthook(kind: type[BaseException], value: BaseException,
                trace: TracebackType | None) -> None:
    log.error("unhandled error", exc_info=(kind, value, trace))
    from PySide6.QtWidgets import QApplication, QMessageBox

    if QApplication.instance() is not None:
        QMessageBox.critical(None, "crlmboard",
                             "Something went wrong and that action was not completed.\n"
                             f"The details are in the log: {log_path()}")


def run_app(where: str | None = None) -> int:
    """Open the database and show the main window until it is closed."""
    setup_logging()
    from PySide6.QtWidgets import QApplication, QMessageBox

    from crlmboard.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    QApplication.setOrganizationName("crlmboard")
    QApplication.setApplicationName("crlmboard")
    sys.excepthook = _excepthook
    try:
        board = Board.open(where)
    except BoardError as error:
        QMessageBox.critical(None, "crlmboard", str(error))
        return 1
    window = MainWindow(board, user=getpass.getuser())
    window.show()
    status = app.exec()
    board.close()
    return int(status)
