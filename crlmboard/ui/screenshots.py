"""`crlmboard screenshots OUTDIR`: PNGs of every view and dialog on a fresh demo database.

Three looks of the same pictures, each drawn by its own process (Qt's scale and the palette
are chosen when the application starts): `NN-name.png` at 100 % in the light palette,
`NN-name@2x.png` at 200 % (QT_SCALE_FACTOR=2: the window is still 1280×720 in logical
pixels, the picture 2560×1440) and `NN-name-dark.png` in a dark palette.  The screen is
1280×720, so a dialog larger than that is cut off in the picture as it would be on it.

A dialog is opened the way the app opens it (its menu action or button), drawn over the
window where Qt places it, with a plain title bar, and closed with Cancel.  The window runs as
in the app (its door's worker thread); each step waits until what it asked for has arrived
before the picture is taken."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QPoint, QRect, Qt, QThread, QTimer
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QWidget,
)

from crlmboard.ui import ops
from crlmboard.ui.fonts import load_bundled_fonts
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.models.case_list import PAGE_SIZE
from crlmboard.ui.ops import Door, open_demo_database

WIDTH, HEIGHT = 1280, 720
RICHEST = "DEMO-0007"  # on the upcoming meeting; PVE, FLR, lesions at every timepoint
REVIEWED = "DEMO-0001"  # signed at the demo's meeting last week
RECURRENCE = "DEMO-0012"  # hepatectomy in 2025, new lesions in 2026: two episodes

# suffix of the file names -> (scale, dark palette)
VARIANTS: dict[str, tuple[int, bool]] = {"": (1, False), "@2x": (2, False), "-dark": (1, True)}
# the look's name on the command line (`crlmboard screenshots OUTDIR --look NAME`) -> suffix
LOOKS = {"light": "", "200": "@2x", "dark": "-dark"}

# the pictures, in the order they are taken (each written once per variant)
NAMES = (
    "01-case-list",
    "02-tab-overview",
    "03-tab-timeline",
    "04-tab-staging",
    "05-tab-plan",
    "06-tab-chemotherapy",
    "07-tab-imaging",
    "08-tab-procedures",
    "09-tab-labs",
    "10-tab-reviews",
    "11-timeline-recurrence",
    "12-new-case",
    "13-new-case-problems",
    "14-add-cycle",
    "15-add-timepoint",
    "16-add-procedure",
    "17-add-immunotherapy-dose",
    "18-add-surgery-outcome",
    "19-remove-record",
    "20-rule-catalogue",
    "21-preferences",
    "22-history",
    "23-check-database",
    "24-restore-backup",
    "25-about",
    "30-meetings",
    "31-readiness",
    "32-review",
    "33-board-figures",
    "34-follow-up",
    "35-case-reviews",
    "36-new-meeting",
    "37-edit-meeting",
    "38-add-to-agenda",
    "39-edit-question",
    "40-hold-back",
    "41-amend-review",
    "42-record-follow-up",
    "43-erase-patient",
    "44-erase-refused-signed",
    "45-no-case-matches",
    "46-add-timepoint-many-lesions",
    "47-upgrade-progress",
    "48-opening-upgrade-status",
    "49-no-cases-yet",
)


def file_names() -> list[str]:
    """Every file `crlmboard screenshots` writes."""
    return [f"{name}{suffix}.png" for suffix in VARIANTS for name in NAMES]


# -- the command: one process per look ------------------------------------------------------


def take_all(outdir: Path) -> list[Path]:
    """Write every variant, each in its own process; the paths written."""
    outdir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for look, suffix in LOOKS.items():
        scale = VARIANTS[suffix][0]
        with tempfile.TemporaryDirectory(prefix="crlmboard-shots-") as scratch:
            home = Path(scratch)
            screen = home / "screen.json"
            screen.write_text(
                json.dumps(
                    {
                        "screens": [
                            {
                                "name": "screenshots",
                                "x": 0,
                                "y": 0,
                                "width": WIDTH * scale,
                                "height": HEIGHT * scale,
                                "logicalDpi": 96,
                                "logicalBaseDpi": 96,
                                "dpr": 1,
                            }
                        ]
                    }
                )
            )
            env = {
                **os.environ,
                "QT_QPA_PLATFORM": f"offscreen:configfile={screen}",
                "QT_SCALE_FACTOR": str(scale),
                # settings, data and log of a throw-away user: the pictures never depend on
                # (or change) the user's own window sizes and preferences
                "XDG_CONFIG_HOME": str(home / "config"),
                "XDG_DATA_HOME": str(home / "data"),
                "XDG_STATE_HOME": str(home / "state"),
                "XDG_CACHE_HOME": str(home / "cache"),
            }
            for name in ("QT_SCREEN_SCALE_FACTORS", "QT_AUTO_SCREEN_SCALE_FACTOR", "CRLMBOARD_DB"):
                env.pop(name, None)
            run = subprocess.run(
                [*_this_program(), "screenshots", str(outdir), "--look", look],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if run.returncode != 0:
                raise RuntimeError(
                    f"screenshots{suffix or ' (100 %)'} failed (exit {run.returncode}):\n"
                    + "\n".join(run.stderr.splitlines()[-40:])
                )
            written.extend(Path(line) for line in run.stdout.splitlines() if line.endswith(".png"))
    return written


def _this_program() -> list[str]:
    """The command that runs this program again: the frozen app's own executable, or this
    Python with the package."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "crlmboard"]


def dark_palette() -> QPalette:
    """A dark palette as a dark desktop gives Qt's Fusion style."""
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#2b2b2b",
        QPalette.ColorRole.WindowText: "#e8e8e8",
        QPalette.ColorRole.Base: "#1e1e1e",
        QPalette.ColorRole.AlternateBase: "#2a2a2a",
        QPalette.ColorRole.ToolTipBase: "#3a3a3a",
        QPalette.ColorRole.ToolTipText: "#e8e8e8",
        QPalette.ColorRole.PlaceholderText: "#9a9a9a",
        QPalette.ColorRole.Text: "#e8e8e8",
        QPalette.ColorRole.Button: "#353535",
        QPalette.ColorRole.ButtonText: "#e8e8e8",
        QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Light: "#4a4a4a",
        QPalette.ColorRole.Midlight: "#3c3c3c",
        QPalette.ColorRole.Mid: "#262626",
        QPalette.ColorRole.Dark: "#1a1a1a",
        QPalette.ColorRole.Shadow: "#000000",
        QPalette.ColorRole.Highlight: "#2f6fb3",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#6cb4ff",
        QPalette.ColorRole.LinkVisited: "#b48cff",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette


# -- one look, in this process --------------------------------------------------------------


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


def _modal_dialog(kind: type[QDialog] = QDialog) -> QDialog | None:
    """The dialog of `kind` the app has just opened (a progress dialog is not one to
    picture)."""
    widget = QApplication.activeModalWidget()
    if isinstance(widget, kind) and not isinstance(widget, QProgressDialog):
        return widget
    return None


def _type(widget: QWidget, text: str) -> None:
    """Type `text` into a field as a person does, key by key (QtTest is not in the frozen
    app)."""
    for character in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(
                widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, character)
            )


def over_window(window: QWidget, dialog: QWidget) -> QPixmap:
    """The window's picture with the dialog drawn where it is on the screen, under a plain
    title bar (a window manager's) with its title; a dialog over another dialog (a message
    about what was asked in it) is drawn over that one."""
    layers = [dialog]
    while (parent := layers[0].parentWidget()) is not None and parent.window() is not window:
        if not parent.window().isVisible():
            break
        layers.insert(0, parent.window())
    shot = window.grab()
    painter = QPainter(shot)
    for layer in layers:
        picture = layer.grab()
        offset = layer.mapToGlobal(QPoint(0, 0)) - window.mapToGlobal(QPoint(0, 0))
        bar = layer.fontMetrics().height() + 10
        frame = QRect(
            offset.x() - 1, offset.y() - bar - 1, layer.width() + 2, layer.height() + bar + 2
        )
        painter.fillRect(frame, QColor("#505050"))
        painter.setPen(QColor("#ffffff"))
        painter.drawText(
            QRect(offset.x() + 8, offset.y() - bar, layer.width() - 16, bar),
            int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
            layer.windowTitle(),
        )
        painter.drawPixmap(offset, picture)
    painter.end()
    return shot


class _Camera:
    """Takes the pictures of one look."""

    def __init__(self, window: MainWindow, outdir: Path, suffix: str):
        self.window = window
        self.door = window.door
        self.outdir = outdir
        self.suffix = suffix
        self.written: list[Path] = []

    def _save(self, picture: QPixmap, name: str) -> None:
        assert name in NAMES, name
        path = self.outdir / f"{name}{self.suffix}.png"
        if not picture.save(str(path)):
            raise RuntimeError(f"cannot write {path}")
        self.written.append(path)

    def view(self, name: str) -> None:
        _settle(self.door)
        self._save(self.window.grab(), name)

    def dialog(
        self,
        name: str,
        open_it: Callable[[], Any],
        prepare: Callable[[Any], Any] | None = None,
        kind: type[QDialog] = QDialog,
    ) -> None:
        """Open a dialog as the app does, picture it over the window, cancel it (the first
        modal dialog of `kind`: a message box that a dialog's OK led to)."""
        taken: list[bool] = []
        tries = [0]

        def shoot() -> None:
            dialog = _modal_dialog(kind)
            if dialog is None:
                tries[0] += 1
                if tries[0] > 2000:  # ten seconds and more
                    taken.append(False)
                else:
                    QTimer.singleShot(5, shoot)
                return
            _settle(self.door)
            if prepare is not None:
                prepare(dialog)
                _settle(self.door)
            self._save(over_window(self.window, dialog), name)
            taken.append(True)
            dialog.done(QDialog.DialogCode.Rejected)

        QTimer.singleShot(0, shoot)
        open_it()
        while not taken:
            QApplication.processEvents()
            QThread.msleep(2)
        if not taken[0]:
            raise RuntimeError(f"{name}: the dialog did not open")
        _settle(self.door)


def take_screenshots(outdir: Path, suffix: str = "") -> list[Path]:
    """Write one look's pictures (this process's scale and palette) and return their
    paths; the demo database is made in a temporary folder."""
    load_bundled_fonts()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crlmboard-demo-") as temporary:
        board = open_demo_database(Path(temporary) / "demo.sqlite3")
        window = MainWindow(board)  # the user is the login running the command
        window.resize(WIDTH, HEIGHT)
        window.move(0, 0)
        window.show()
        camera = _Camera(window, outdir, suffix)
        try:
            _case_screenshots(camera)
            _tool_screenshots(camera)
            _meeting_screenshots(camera)
            _recent_screenshots(camera, Path(temporary))
        finally:
            window.close()
            window.door.stop(close_board=True)
            # the window and the dialogs the app left under it go now, not in the
            # interpreter's shutdown (where PySide may free them in a bad order)
            window.deleteLater()
            QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return camera.written


def _case_screenshots(camera: _Camera) -> None:
    """The case list, every tab of the richest case, the timeline with two episodes, and
    the dialogs that add to a case."""
    window, door = camera.window, camera.door
    camera.view("01-case-list")
    window.select_case(RICHEST)
    _settle(door)
    tabs = window.workspace
    timeline = tabs.timeline
    assert timeline is not None
    pages: tuple[tuple[str, QWidget], ...] = (
        ("02-tab-overview", tabs.overview),
        ("03-tab-timeline", timeline),
        ("04-tab-staging", tabs.staging),
        ("05-tab-plan", tabs.plan),
        ("06-tab-chemotherapy", tabs.chemotherapy),
        ("07-tab-imaging", tabs.imaging),
        ("08-tab-procedures", tabs.procedures),
        ("09-tab-labs", tabs.labs),
        ("10-tab-reviews", tabs.reviews),
    )
    for name, page in pages:
        tabs.setCurrentWidget(page)
        camera.view(name)

    window.select_case(RECURRENCE)
    _settle(door)
    tabs.setCurrentWidget(timeline)
    camera.view("11-timeline-recurrence")

    window.select_case(RICHEST)
    _settle(door)
    tabs.setCurrentWidget(tabs.overview)
    camera.dialog("12-new-case", window.new_case)

    def bad_entries(dialog: Any) -> None:
        editors = dialog.form.editors
        _type(editors["mrn"].line, "DEMO 0099/?")
        _type(editors["birth_date"].line, "31.02.1961")
        _type(editors["height_cm"].line, "1.72")

    camera.dialog("13-new-case-problems", window.new_case, bad_entries)
    tabs.setCurrentWidget(tabs.chemotherapy)
    camera.dialog("14-add-cycle", tabs.add_cycle)
    tabs.setCurrentWidget(tabs.imaging)
    camera.dialog("15-add-timepoint", tabs.add_timepoint)
    tabs.setCurrentWidget(tabs.procedures)
    camera.dialog("16-add-procedure", tabs.add_procedure)
    camera.dialog("17-add-immunotherapy-dose", tabs.add_immunotherapy)
    camera.dialog("18-add-surgery-outcome", tabs.add_outcome)
    tabs.setCurrentWidget(tabs.chemotherapy)
    tabs.chemotherapy.select_row(0)
    camera.dialog("19-remove-record", tabs.chemotherapy.remove_button.click)


def _tool_screenshots(camera: _Camera) -> None:
    """Tools and Help: rule catalogue, preferences, history, check, restore, about."""
    window, door = camera.window, camera.door
    camera.dialog(
        "20-rule-catalogue", lambda: window.show_rule_catalogue("SURGERY.FLR_BELOW_REQUIRED")
    )
    camera.dialog("21-preferences", window.show_preferences)
    camera.dialog("22-history", window.show_history)
    camera.dialog("23-check-database", window.check_database)
    made: list[Any] = []
    door.backup(made.append, lambda error: made.append(error))
    while not made:
        _settle(door)
    camera.dialog("24-restore-backup", window.restore_backup)
    camera.dialog("25-about", window.show_about)


def _meeting_screenshots(camera: _Camera) -> None:
    """The Meetings page on the upcoming demo meeting and its dialogs, the board figures,
    the follow-up worklist and a case's signed reviews with the amend and follow-up
    dialogs."""
    window, door = camera.window, camera.door
    meetings = window.meetings
    today = door.today()
    upcoming = next(m for m in _ask(door, door.meetings) if m.date >= today and m.agenda)
    window.pages.setCurrentWidget(meetings.view)
    _settle(door)
    meetings.select_meeting(upcoming.id)
    _settle(door)
    camera.view("30-meetings")

    def readiness(dialog: Any) -> None:
        dialog.select_case("DEMO-0014")

    camera.dialog("31-readiness", meetings.prepare, readiness)

    def typed(dialog: Any) -> None:
        dialog.decision_edit.setPlainText("Proceed to extended right hepatectomy in 3 weeks.")
        dialog.add_action()

    meetings.select_entry(upcoming.agenda[0].id)
    _settle(door)
    camera.dialog("32-review", meetings.review, typed)
    camera.dialog("33-board-figures", meetings.board_figures)
    window.pages.setCurrentWidget(window.follow_up.view)
    camera.view("34-follow-up")
    window.pages.setCurrentWidget(meetings.view)
    _settle(door)
    camera.dialog("36-new-meeting", meetings.new_meeting)
    meetings.select_meeting(upcoming.id)
    _settle(door)
    camera.dialog("37-edit-meeting", meetings.edit_meeting)
    camera.dialog("38-add-to-agenda", meetings.add_open_case)
    meetings.select_entry(upcoming.agenda[0].id)
    _settle(door)
    camera.dialog("39-edit-question", meetings.edit_question)
    camera.dialog("40-hold-back", meetings.hold_back)

    window.pages.setCurrentWidget(window.splitter)
    window.select_case(REVIEWED)
    _settle(door)
    tabs = window.workspace
    tabs.setCurrentWidget(tabs.reviews)
    tabs.reviews.select_row(0)
    camera.view("35-case-reviews")
    camera.dialog("41-amend-review", lambda: tabs.amend_review(0))
    camera.dialog("42-record-follow-up", lambda: tabs.follow_up_review(0))


def _recent_screenshots(camera: _Camera, scratch: Path) -> None:
    """Erasing a patient, the empty list's texts, a timepoint with many lesions, and an
    upgrade's progress (the dialog of the normal open and the status bar of the
    window-first start)."""
    window, door = camera.window, camera.door
    window.pages.setCurrentWidget(window.splitter)
    window.select_case(REVIEWED)
    _settle(door)

    def filled(dialog: Any) -> None:
        _type(dialog.confirm, REVIEWED)
        _type(dialog.reason, "synthetic test patient entered by mistake")

    camera.dialog("43-erase-patient", window.erase_case, filled)

    def erase_refused() -> None:
        # the case has a signed review: the erasure is refused, nothing is changed
        def confirm() -> None:
            dialog = _modal_dialog()
            if dialog is None or not hasattr(dialog, "erase_button"):
                QTimer.singleShot(5, confirm)
                return
            filled(dialog)
            dialog.erase_button.click()
            QTimer.singleShot(5, lambda: cancel_when_answered(dialog))

        def cancel_when_answered(dialog: Any) -> None:
            # the refusal leaves the dialog open behind its message: cancelled once the
            # message (pictured below) is closed
            if dialog.busy or _modal_dialog(QMessageBox) is not None:
                QTimer.singleShot(5, lambda: cancel_when_answered(dialog))
                return
            dialog.reject()

        QTimer.singleShot(0, confirm)
        window.erase_case()

    camera.dialog("44-erase-refused-signed", erase_refused, kind=QMessageBox)

    _type(window.filter_edit, "ZZZ-NO-SUCH")
    window.model.set_query(window.filter_edit.text())  # at once, not after the typing pause
    camera.view("45-no-case-matches")
    window.filter_edit.clear()
    window.model.set_query("")
    _settle(door)

    window.select_case(RICHEST)
    _settle(door)
    tabs = window.workspace
    tabs.setCurrentWidget(tabs.imaging)

    def many_lesions(dialog: Any) -> None:
        add = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Add lesion")
        while dialog.table.rowCount() < 12:
            add.click()

    camera.dialog("46-add-timepoint-many-lesions", tabs.add_timepoint, many_lesions)

    from crlmboard.ui.dialogs.upgrade import UpgradeProgress

    progress = UpgradeProgress(window)
    progress("copying the database", 4, 10)
    _settle(door)
    assert progress.dialog is not None
    camera._save(over_window(window, progress.dialog), "47-upgrade-progress")
    progress.finish()

    # the window-first start: the list's first page shown, the database upgraded behind it
    page = ops.first_page(str(door.location), door.today(), PAGE_SIZE)
    if page is None:
        raise RuntimeError("the demo database's first page could not be read")
    opening = MainWindow(None, first_page=page, location=str(page.path))
    try:
        opening.setGeometry(window.geometry())
        opening.show()
        opening._upgrade_progress("migration 0010 (1 of 1)", 0, 0)
        _settle(opening.door)
        camera._save(opening.grab(), "48-opening-upgrade-status")
    finally:
        opening.close()
        opening.deleteLater()

    empty = MainWindow(ops.open_empty_database(scratch / "empty.sqlite3"))
    try:
        empty.setGeometry(window.geometry())
        empty.show()
        _settle(empty.door)
        camera._save(empty.grab(), "49-no-cases-yet")
    finally:
        empty.close()  # closes its database too
        empty.deleteLater()


def take_look(outdir: Path, look: str) -> int:
    """One look, in this process: `crlmboard screenshots OUTDIR --look NAME`, run by
    `take_all` with the scale and the screen in its environment."""
    suffix = LOOKS[look]
    from crlmboard.app import application

    application()
    if VARIANTS[suffix][1]:
        QApplication.setStyle("Fusion")
        QApplication.setPalette(dark_palette())
    failure: list[BaseException] = []

    def run() -> None:
        # inside the event loop, as the app's own calls are: Qt deletes what was given
        # to deleteLater (a closed progress dialog) only when control is back in a loop
        try:
            for path in take_screenshots(outdir, suffix):
                print(path, flush=True)
        except BaseException as error:  # reported by the parent process
            failure.append(error)
            raise
        finally:
            QApplication.quit()

    QTimer.singleShot(0, run)
    QApplication.exec()
    return 1 if failure else 0
