"""`crlmboard screenshots OUTDIR`: PNGs of the main views on a fresh demo database."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from crlmboard.services.board import Board
from crlmboard.services.demo import create_demo_database
from crlmboard.ui.main_window import MainWindow

RICHEST = "DEMO-0007"
REVIEWED = "DEMO-0001"  # signed at the demo's meeting last week


def _grab(widget: QWidget, path: Path) -> Path:
    QApplication.processEvents()
    widget.grab().save(str(path))
    return path


def _grab_dialog(dialog: QDialog, path: Path, written: list[Path]) -> None:
    def shoot() -> None:
        written.append(_grab(dialog, path))
        dialog.reject()

    QTimer.singleShot(0, shoot)
    dialog.exec()


def take_screenshots(outdir: Path, *, width: int = 1280, height: int = 720) -> list[Path]:
    """Write the screenshots and return their paths."""
    from crlmboard.app import load_bundled_fonts

    load_bundled_fonts()
    outdir.mkdir(parents=True, exist_ok=True)
    board, _summary = create_demo_database(outdir / "demo.sqlite3")
    window = MainWindow(board)
    window.resize(width, height)
    window.show()
    written = [_grab(window, outdir / "01-case-list.png")]
    window.select_case(RICHEST)
    tabs = window.workspace
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        name = tabs.tabText(index).replace("&&", "and").replace("&", "").lower()
        name = "-".join(name.split())
        written.append(_grab(window, outdir / f"{index + 2:02d}-tab-{name}.png"))

    from crlmboard.ui.dialogs.preferences import PreferencesDialog
    from crlmboard.ui.dialogs.rule_catalogue import RuleCatalogueDialog

    catalogue = RuleCatalogueDialog(
        board.evaluation.catalogue(), board.evaluation.profile.name, window
    )
    catalogue.select_rule("SURGERY.FLR_BELOW_REQUIRED")
    _grab_dialog(catalogue, outdir / "20-rule-catalogue.png", written)
    _grab_dialog(PreferencesDialog(window), outdir / "21-preferences.png", written)
    _meeting_screenshots(window, board, outdir, written)
    window.close()
    board.close()
    return written


def _meeting_screenshots(
    window: MainWindow, board: Board, outdir: Path, written: list[Path]
) -> None:
    """The Meetings page on the upcoming demo meeting, its readiness check, the review
    dialog of its first case, the board figures, the follow-up worklist and a case's
    signed reviews."""
    from datetime import timedelta

    from crlmboard.ui.dialogs.figures_dialog import FiguresDialog
    from crlmboard.ui.dialogs.meeting_dialog import ReadinessDialog
    from crlmboard.ui.dialogs.review_dialog import ReviewDialog

    today = board.today()
    upcoming = next(m for m in board.meetings.list() if m.date >= today and m.agenda)
    window.pages.setCurrentWidget(window.meetings)
    window.meetings.select_meeting(upcoming.id)
    written.append(_grab(window, outdir / "30-meetings.png"))
    readiness = ReadinessDialog(board, upcoming.id, window)
    readiness.select_case("DEMO-0014")
    _grab_dialog(readiness, outdir / "31-readiness.png", written)
    draft = board.reviews.start(upcoming.id, upcoming.agenda[0].mrn)
    review = ReviewDialog(board, draft, window)
    review.decision_edit.setPlainText("Proceed to extended right hepatectomy in 3 weeks.")
    review.add_action()
    _grab_dialog(review, outdir / "32-review.png", written)
    figures = FiguresDialog(board, window, start=today - timedelta(days=90), end=today)
    _grab_dialog(figures, outdir / "33-board-figures.png", written)
    window.pages.setCurrentWidget(window.follow_up)
    written.append(_grab(window, outdir / "34-follow-up.png"))
    window.pages.setCurrentWidget(window.splitter)
    window.select_case(REVIEWED)
    window.workspace.setCurrentWidget(window.workspace.reviews)
    written.append(_grab(window, outdir / "35-case-reviews.png"))
