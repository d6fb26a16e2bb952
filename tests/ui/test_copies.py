"""No silent copies (issue 19, item 3), driven through the real dialogs: a new imaging
timepoint's copied diameters look copied and cannot be saved until each row is confirmed
(Ctrl+Enter) or retyped; its date is typed, never today by default; a target lesion
without a diameter is refused by its row and label; Add cycle says "copied from cycle N"
only when there is one, and its copied fields follow the same rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLabel
from pytestqt.qtbot import QtBot

from crlmboard.domain import models as m
from crlmboard.domain.case import ImagingTimepoint
from crlmboard.services import Board
from crlmboard.ui import copied
from crlmboard.ui.dialogs.record_dialog import RecordDialog
from crlmboard.ui.dialogs.timepoint_dialog import COLUMNS, TimepointDialog
from crlmboard.ui.forms import locale_date
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN

pytestmark = [pytest.mark.ui, pytest.mark.db]

DIAMETER = next(i for i, s in enumerate(COLUMNS) if s.name == "longest_diameter_mm")
DEPTH = next(i for i, s in enumerate(COLUMNS) if s.name == "depth_mm")
TARGET = next(i for i, s in enumerate(COLUMNS) if s.name == "target")


@pytest.fixture
def window(qtbot: QtBot, board: Board) -> Iterator[MainWindow]:
    board.cases.import_path(GOLDEN)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.resize(1280, 720)
    shown.show()
    yield shown


def on_next_dialog(action: Any, errors: list[BaseException]) -> None:
    """Run `action(dialog)` on the next modal dialog; a failing action is recorded and
    closes the dialog (so the test fails instead of waiting)."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, act)
            return
        try:
            action(dialog)
        except BaseException as error:
            errors.append(error)
            dialog.close()

    QTimer.singleShot(0, act)


def activate(dialog: Any, qtbot: QtBot) -> None:
    """The dialog is the active window, as a user's would be (its shortcuts work)."""
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)


def labels_text(dialog: Any) -> str:
    return "\n".join(label.text() for label in dialog.findChildren(QLabel) if label.isVisible())


def ok_button(dialog: Any) -> Any:
    boxes = dialog.findChildren(QDialogButtonBox)
    return boxes[0].button(QDialogButtonBox.StandardButton.Ok)


def test_a_new_timepoint_saves_only_confirmed_or_retyped_values(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.select_case("EX-0003")
    before = window.door.board.cases.get("EX-0003")
    previous = max(before.imaging, key=lambda tp: tp.date)
    assert previous.date == dt.date(2025, 3, 17)
    errors: list[BaseException] = []
    seen: dict[str, Any] = {}

    def work(dialog: Any) -> None:
        assert isinstance(dialog, TimepointDialog)
        activate(dialog, qtbot)
        table = dialog.table
        date = dialog.form.editors["date"].line
        # the date is typed, never today by default: empty, with a hint
        assert date.text() == ""
        assert "date of the scan" in date.placeholderText()
        # copied values look copied, and say from when
        source = locale_date(dt.date(2025, 3, 17))
        assert f"copied from {source}" in labels_text(dialog)
        cell = table.item(0, DIAMETER)
        assert cell.text() == "36"
        assert cell.font().italic()
        assert cell.foreground().color().name() == copied.grey()
        assert f"copied from {source}" in cell.toolTip()
        assert not table.item(0, 0).font().italic()  # the lesion's id is its name
        # modality + L1 (diameter, depth, morphology, status) + L2 (4) + L3 (3)
        seen["first count"] = dialog.count_label.text()
        assert not ok_button(dialog).isEnabled()
        qtbot.keyClicks(date, "2025-05-02")
        # Enter and Ctrl+S are refused with a message; nothing is saved
        qtbot.keyClick(date, Qt.Key.Key_Return)
        assert dialog.isVisible() and dialog.result_timepoint is None
        assert "Not saved: 12 copied values to confirm" in dialog.problems_label.text()
        dialog.problems_label.clear()
        qtbot.keyClick(table, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
        assert "Not saved" in dialog.problems_label.text()
        dialog.accept()
        assert dialog.isVisible() and dialog.result_timepoint is None
        # typing a new diameter makes that cell the user's own; the rest stays copied
        table.setCurrentCell(0, DIAMETER)
        table.item(0, DIAMETER).setText("30")
        assert not table.item(0, DIAMETER).font().italic()
        assert table.item(0, DEPTH).font().italic()
        assert dialog.count_label.text() == "11 copied values to confirm"
        # Ctrl+Enter confirms the rest of the row, and moves on to the next one
        table.setFocus()
        qtbot.keyClick(table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert not table.item(0, DEPTH).font().italic()
        assert dialog.count_label.text() == "8 copied values to confirm"
        assert table.currentRow() == 1
        qtbot.keyClick(table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClick(table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert dialog.count_label.text() == "1 copied value to confirm"  # the modality
        assert not ok_button(dialog).isEnabled()
        modality = dialog.form.editors["modality"].combo
        modality.setFocus()
        qtbot.keyClick(modality, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert dialog.count_label.text() == ""
        assert ok_button(dialog).isEnabled()
        qtbot.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)

    on_next_dialog(work, errors)
    window.workspace.add_timepoint()
    assert not errors, errors
    assert seen["first count"] == "12 copied values to confirm"
    case = window.door.board.cases.get("EX-0003")
    added = max(case.imaging, key=lambda tp: tp.date)
    assert added.date == dt.date(2025, 5, 2)
    assert [(le.id, le.longest_diameter_mm) for le in added.lesions] == [
        ("L1", 30),
        ("L2", 26),
        ("L3", 0),
    ]
    assert added.modality == previous.modality


def test_an_unconfirmed_copy_never_reaches_the_store(window: MainWindow, qtbot: QtBot) -> None:
    window.select_case("EX-0001")
    errors: list[BaseException] = []

    def give_up(dialog: Any) -> None:
        assert isinstance(dialog, TimepointDialog)
        qtbot.keyClicks(dialog.form.editors["date"].line, "2025-05-02")
        dialog.accept()  # the row is still copied
        assert dialog.isVisible()
        assert "copied value" in dialog.problems_label.text()
        dialog.reject()

    on_next_dialog(give_up, errors)
    window.workspace.add_timepoint()
    assert not errors, errors
    assert len(window.door.board.cases.get("EX-0001").imaging) == 2  # nothing added


def test_the_first_timepoint_has_no_copy_and_no_date_of_today(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.select_case("EX-0001")
    case = window.door.board.cases.get("EX-0001")
    window.door.board.cases.save(
        case.model_copy(update={"imaging": []}),
        window.door.board.cases.get_with_version("EX-0001")[1],
    )
    window.select_case("EX-0002")
    window.select_case("EX-0001")
    errors: list[BaseException] = []
    seen: list[str] = []

    def look(dialog: Any) -> None:
        assert isinstance(dialog, TimepointDialog)
        assert dialog.form.editors["date"].line.text() == ""
        assert dialog.table.rowCount() == 0
        seen.append(labels_text(dialog))
        assert ok_button(dialog).isEnabled()
        dialog.accept()  # without a date: refused, with the reason at the field
        assert dialog.isVisible()
        assert dialog.form.editors["date"].reason.text()
        dialog.reject()

    on_next_dialog(look, errors)
    window.workspace.add_timepoint()
    assert not errors, errors
    assert "copied" not in seen[0].lower()


def test_a_target_lesion_without_a_diameter_is_refused_by_row_and_label(qtbot: QtBot) -> None:
    timepoint = ImagingTimepoint(
        date=dt.date(2025, 2, 3),
        modality="mri",  # type: ignore[arg-type]
        lesions=[
            m.LesionMeasurement(id="L1", segment=7, longest_diameter_mm=30, target=True),
            m.LesionMeasurement(id="L7", segment=6, longest_diameter_mm=20, target=True),
            m.LesionMeasurement(id="L9", segment=5, target=False),
        ],
    )
    dialog = TimepointDialog(timepoint, "Edit imaging timepoint", today=dt.date(2026, 11, 24))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.table.item(1, DIAMETER).setText("")
    dialog.accept()
    assert dialog.result_timepoint is None
    assert dialog.problems_label.text() == (
        "Row 2, Longest diameter: target lesion L7 needs its longest diameter "
        "(0 if it has disappeared)"
    )
    assert dialog.table.item(1, DIAMETER).background().color().name() == "#f8d7da"
    # typed into the cell and saved at once (Ctrl+S): the typed value is taken, not lost
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    dialog.table.setCurrentCell(1, DIAMETER)
    qtbot.keyClick(dialog.table, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert editor is not dialog.table and dialog.table.isAncestorOf(editor)
    editor.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClicks(editor, "0")
    qtbot.keyClick(editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert dialog.result_timepoint is not None  # a non-target without one is allowed
    assert [le.longest_diameter_mm for le in dialog.result_timepoint.lesions] == [30, 0, None]


def test_a_diameter_typed_over_a_copied_one_is_the_users_own(qtbot: QtBot) -> None:
    """Typed in the grid as a coordinator does — F2 (or a double-click), the new value,
    Enter — the diameter is the user's own at once: upright, in the text's colour, no
    longer counted.  The grid's cell editor was taken for the cell's own widget, so every
    value typed stayed grey, italic and counted until its row was confirmed; Ctrl+S said
    "Not saved: 5 copied values to confirm" after each of them had been retyped."""
    previous = ImagingTimepoint(
        date=dt.date(2026, 10, 5),
        modality="ct",  # type: ignore[arg-type]
        lesions=[
            m.LesionMeasurement(id="L4", segment=8, longest_diameter_mm=25, target=True),
            m.LesionMeasurement(id="L5", segment=3, longest_diameter_mm=14, target=True),
        ],
    )
    dialog = TimepointDialog(
        previous, "Add imaging timepoint", today=dt.date(2026, 12, 7), copied_from=previous.date
    )
    qtbot.addWidget(dialog)
    dialog.show()
    activate(dialog, qtbot)
    table = dialog.table
    before = dialog.copied_count()
    assert table.item(1, DIAMETER).font().italic()
    table.setFocus()
    table.setCurrentCell(1, DIAMETER)
    qtbot.keyClick(table, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert editor is not table and table.isAncestorOf(editor)
    editor.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClicks(editor, "20")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: table.state() != table.State.EditingState)  # the grid's commit
    cell = table.item(1, DIAMETER)
    assert cell.text() == "20"
    assert not cell.font().italic()
    assert not copied.item_source(cell)
    assert dialog.copied_count() == before - 1
    assert copied.item_source(table.item(0, DIAMETER))  # L4 not retyped: still copied


def test_add_cycle_says_copied_from_cycle_n_and_asks_to_confirm(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.select_case("EX-0003")
    last = max(window.door.board.cases.get("EX-0003").chemotherapy, key=lambda c: c.date)
    assert last.cycle == 8
    errors: list[BaseException] = []
    seen: dict[str, Any] = {}

    def work(dialog: Any) -> None:
        assert isinstance(dialog, RecordDialog)
        activate(dialog, qtbot)
        text = labels_text(dialog)
        assert "copied from cycle 8" in text.lower()
        regimen = dialog.form.editors["regimen"].combo
        assert "italic" in regimen.styleSheet()
        assert "copied from cycle 8" in regimen.toolTip()
        seen["count"] = dialog.count_label.text()
        assert not ok_button(dialog).isEnabled()
        qtbot.keyClick(regimen, Qt.Key.Key_Return)
        assert dialog.isVisible() and dialog.result_record is None
        assert "Not saved" in dialog.message.text()
        # typing the date clears that one; Ctrl+Enter confirms the rest
        date = dialog.form.editors["date"].line
        date.clear()
        qtbot.keyClicks(date, "2025-03-25")
        assert "italic" not in date.styleSheet()
        qtbot.keyClick(date, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert dialog.count_label.text() == ""
        assert ok_button(dialog).isEnabled()
        qtbot.keyClick(date, Qt.Key.Key_Return)

    on_next_dialog(work, errors)
    window.workspace.add_cycle()
    assert not errors, errors
    assert seen["count"] == "7 copied values to confirm"  # date, regimen, biologic,
    # cycle, cycle length, setting, dose (toxicity is not copied)
    cycles = sorted(window.door.board.cases.get("EX-0003").chemotherapy, key=lambda c: c.date)
    added = cycles[-1]
    assert added.date == dt.date(2025, 3, 25)
    assert (added.regimen, added.cycle, added.setting) == (last.regimen, 9, last.setting)


def test_add_cycle_without_a_previous_one_says_nothing_of_a_copy(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.select_case("EX-0001")
    errors: list[BaseException] = []
    seen: list[str] = []

    def look(dialog: Any) -> None:
        assert isinstance(dialog, RecordDialog)
        seen.append(labels_text(dialog))
        assert dialog.form.editors["date"].line.text() == ""  # not today
        assert dialog.count_label.text() == ""
        dialog.reject()

    on_next_dialog(look, errors)
    window.workspace.add_cycle()
    assert not errors, errors
    assert "copied" not in seen[0].lower()


@pytest.mark.parametrize("how", ["escape", "cancel"])
def test_esc_or_cancel_asks_before_what_was_typed_is_lost(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Esc, Cancel (or the window's close button) in a dialog with values typed asks before
    they are thrown away, and goes back to the dialog unless told to discard; with nothing
    typed it closes at once.  A timepoint's date and six retyped diameters went with one
    Esc pressed for a cell's editor a moment too late."""
    from PySide6.QtWidgets import QMessageBox

    from crlmboard.domain.case import ImagingTimepoint as Timepoint

    asked: list[str] = []
    answer = [QMessageBox.StandardButton.Cancel]

    def question(_parent: Any, _title: str, text: str, *_args: Any) -> Any:
        asked.append(text)
        return answer[0]

    monkeypatch.setattr(QMessageBox, "question", question)

    def close(dialog: Any) -> None:
        if how == "escape":
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        else:
            boxes = dialog.findChildren(QDialogButtonBox)
            qtbot.mouseClick(
                boxes[0].button(QDialogButtonBox.StandardButton.Cancel), Qt.MouseButton.LeftButton
            )

    # nothing typed: closed at once
    untouched = RecordDialog(m.ChemotherapyCycle, None, "Add chemotherapy cycle")
    qtbot.addWidget(untouched)
    untouched.show()
    close(untouched)
    assert not untouched.isVisible() and asked == []

    # a record dialog with a value typed: asked; Cancel keeps it open with the value
    dialog = RecordDialog(m.Patient, None, "New case")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.form.editors["family_name"].line, "Typedname")
    close(dialog)
    assert len(asked) == 1 and "Discard what you typed" in asked[0]
    assert dialog.isVisible()
    assert dialog.form.editors["family_name"].line.text() == "Typedname"  # type: ignore[union-attr]
    answer[0] = QMessageBox.StandardButton.Discard
    close(dialog)
    assert not dialog.isVisible() and dialog.result() == 0 and len(asked) == 2

    # a timepoint with a diameter retyped in the grid (its date not typed yet)
    previous = Timepoint(
        date=dt.date(2026, 10, 5),
        modality="ct",  # type: ignore[arg-type]
        lesions=[m.LesionMeasurement(id="L4", segment=8, longest_diameter_mm=25, target=True)],
    )
    timepoint = TimepointDialog(
        previous, "Add imaging timepoint", today=dt.date(2026, 12, 7), copied_from=previous.date
    )
    qtbot.addWidget(timepoint)
    timepoint.show()
    answer[0] = QMessageBox.StandardButton.Cancel
    close(timepoint)  # nothing typed yet
    assert not timepoint.isVisible() and len(asked) == 2
    timepoint.show()
    timepoint.table.item(0, DIAMETER).setText("22")
    close(timepoint)
    assert len(asked) == 3 and timepoint.isVisible()
    assert timepoint.table.item(0, DIAMETER).text() == "22"
    answer[0] = QMessageBox.StandardButton.Discard
    close(timepoint)
    assert not timepoint.isVisible() and timepoint.result_timepoint is None
