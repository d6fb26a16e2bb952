"""`crlmboard screenshots OUTDIR`: PNGs of the main views on a fresh demo database.

The window runs as in the app (its door's worker thread); each step waits until what it
asked for has arrived before the picture is taken."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from crlmboard.ui.fonts import load_bundled_fonts
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.ops import Door, open_demo_database

RICHEST = "DEMO-0007"
REVIEWED = "DEMO-0001"  # signed at the demo's meeting last week


def _settle(door: Door) -> None:
    """Process events until every call asked of the door (and those its answers asked
    for in turn) has been answered."""
    quiet = 0
    while quiet < 3:
        QApplication.processEvents()
        if door.pending:
            quiet = 0
            QThread.msleep(5)
        else:
            quiet += 1


def _ask(door: Door, operation: Any, *args: Any) -> Any:
    """The answer of one door operation, waited for."""
    answer: list[Any] = []
    operation(*args, done=answer.append)
    _settle(door)
    return answer[0]


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
    load_bundled_fonts()
    outdir.mkdir(parents=True, exist_ok=True)
    board = open_demo_database(outdir / "demo.sqlite3")
    window = MainWindow(board)
    door = window.door
    window.resize(width, height)
    window.show()
    _settle(door)
    written = [_grab(window, outdir / "01-case-list.png")]
    window.select_case(RICHEST)
    _settle(door)
    tabs = window.workspace
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        name = tabs.tabText(index).replace("&&", "and").replace("&", "").lower()
        name = "-".join(name.split())
        written.append(_grab(window, outdir / f"{index + 2:02d}-tab-{name}.png"))

    from crlmboard.ui.dialogs.preferences import PreferencesDialog
    from crlmboard.ui.dialogs.rule_catalogue import RuleCatalogueDialog

    rules, profile = _ask(door, door.rule_catalogue)
    catalogue = RuleCatalogueDialog(rules, profile, window)
    catalogue.select_rule("SURGERY.FLR_BELOW_REQUIRED")
    _grab_dialog(catalogue, outdir / "20-rule-catalogue.png", written)
    _grab_dialog(PreferencesDialog(window), outdir / "21-preferences.png", written)
    _meeting_screenshots(window, door, outdir, written)
    window.close()
    door.stop(close_board=True)
    return written


def _meeting_screenshots(window: MainWindow, door: Door, outdir: Path, written: list[Path]) -> None:
    """The Meetings page on the upcoming demo meeting, its readiness check, the review
    dialog of its first case, the board figures, the follow-up worklist and a case's
    signed reviews."""
    from datetime import timedelta

    from crlmboard.ui.dialogs.figures_dialog import FiguresDialog
    from crlmboard.ui.dialogs.meeting_dialog import ReadinessDialog
    from crlmboard.ui.dialogs.review_dialog import ReviewDialog

    today = door.today()
    upcoming = next(m for m in _ask(door, door.meetings) if m.date >= today and m.agenda)
    window.pages.setCurrentWidget(window.meetings)
    _settle(door)
    window.meetings.select_meeting(upcoming.id)
    _settle(door)
    written.append(_grab(window, outdir / "30-meetings.png"))
    readiness = ReadinessDialog(door, upcoming.id, window)
    _settle(door)
    readiness.select_case("DEMO-0014")
    _grab_dialog(readiness, outdir / "31-readiness.png", written)
    draft = _ask(door, door.start_review, upcoming.id, upcoming.agenda[0].mrn)
    review = ReviewDialog(door, draft, window)
    review.decision_edit.setPlainText("Proceed to extended right hepatectomy in 3 weeks.")
    review.add_action()
    _grab_dialog(review, outdir / "32-review.png", written)
    figures = FiguresDialog(door, window, start=today - timedelta(days=90), end=today)
    _settle(door)
    _grab_dialog(figures, outdir / "33-board-figures.png", written)
    window.pages.setCurrentWidget(window.follow_up)
    _settle(door)
    written.append(_grab(window, outdir / "34-follow-up.png"))
    window.pages.setCurrentWidget(window.splitter)
    window.select_case(REVIEWED)
    _settle(door)
    window.workspace.setCurrentWidget(window.workspace.reviews)
    written.append(_grab(window, outdir / "35-case-reviews.png"))
