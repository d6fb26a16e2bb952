"""Dates and forms driven through real widgets (issue 19, items 5 and 10): dates typed in
ISO or the locale's own format, or picked from a calendar, shown in one format with a
four-digit year; messages in the form's own words; clinic codes as the clinic writes
them; 28-day cycles; immunotherapy doses from the app; Remove asks first."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QDate, QLocale, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QTableView
from pytestqt.qtbot import QtBot

from crlmboard.domain import models as m
from crlmboard.services import Board
from crlmboard.ui.dialogs.record_dialog import RecordDialog
from crlmboard.ui.forms import RecordForm, locale_date, parse_date
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN

pytestmark = [pytest.mark.ui, pytest.mark.db]


@pytest.fixture
def us_locale() -> Iterator[None]:
    before = QLocale()
    QLocale.setDefault(QLocale("en_US"))
    yield
    QLocale.setDefault(before)


@pytest.fixture
def window(qtbot: QtBot, board: Board) -> Iterator[MainWindow]:
    board.cases.import_path(GOLDEN)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.resize(1280, 720)
    shown.show()
    yield shown


def on_next_dialog(action: Any) -> None:
    """Run `action(dialog)` on the next modal dialog; a failing action closes the dialog
    (so the test fails instead of waiting for it)."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, act)
            return
        try:
            action(dialog)
        except BaseException:
            dialog.close()
            raise

    QTimer.singleShot(0, act)


def cell_texts(view: QTableView) -> list[str]:
    model = view.model()
    return [
        str(model.data(model.index(row, column)) or "")
        for row in range(model.rowCount())
        for column in range(model.columnCount())
    ]


# -- item 5: dates ---------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["2026-06-22", "6/22/2026", "6/22/26", "06/22/2026"])
def test_a_date_is_typed_in_iso_or_the_locales_format(
    qtbot: QtBot, us_locale: None, typed: str
) -> None:
    form = RecordForm(m.LabResult)
    qtbot.addWidget(form)
    editor = form.editors["date"]
    assert editor.line is not None
    qtbot.keyClicks(editor.line, typed)
    record = form.record()
    assert record is not None and record.date == dt.date(2026, 6, 22)  # type: ignore[attr-defined]
    assert editor.reason.text() == ""
    # shown back in the screen's one format, four-digit year
    form.set_record(record)
    assert editor.line.text() == "6/22/2026"


def test_a_bad_date_says_how_to_write_it(qtbot: QtBot, us_locale: None) -> None:
    form = RecordForm(m.LabResult)
    qtbot.addWidget(form)
    editor = form.editors["date"]
    assert editor.line is not None
    qtbot.keyClicks(editor.line, "22/6/2026")  # day first: not this locale's order
    assert form.record() is None
    assert editor.reason.text() == "not a date: write it as M/d/yyyy or yyyy-mm-dd"


def test_a_date_is_picked_from_the_calendar_with_the_keyboard(
    qtbot: QtBot, us_locale: None
) -> None:
    form = RecordForm(m.ChemotherapyCycle)
    qtbot.addWidget(form)
    form.show()
    editor = form.editors["date"]
    assert editor.line is not None and editor.date_edit is not None
    qtbot.keyClicks(editor.line, "2026-06-22")
    editor.line.setFocus()
    qtbot.keyClick(editor.line, Qt.Key.Key_F4)
    calendar = editor.date_edit.calendar
    assert calendar is not None and calendar.isVisible()
    assert calendar.selectedDate() == QDate(2026, 6, 22)  # opens on the date typed
    grid = calendar.findChild(QTableView)  # the calendar's day grid takes the keys
    assert grid is not None
    qtbot.keyClick(grid, Qt.Key.Key_Right)  # the next day
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert editor.date_edit.calendar is None
    assert editor.line.text() == "6/23/2026"
    values, problems = form.values()
    assert values["date"] == dt.date(2026, 6, 23) and not problems


def test_one_date_format_on_the_case_screen(
    window: MainWindow, us_locale: None, qtbot: QtBot
) -> None:
    """Never "6/22/26" next to "2026-06-22": the case list, the tabs, the forms."""
    window.select_case("EX-0003")
    workspace = window.workspace
    workspace.ensure_filled()  # every tab at once (a tab is otherwise filled when shown)
    texts = cell_texts(workspace.chemotherapy.view) + cell_texts(workspace.labs.view)
    texts += cell_texts(workspace.imaging.timepoints.view)
    texts += cell_texts(window.table)
    staging = workspace.staging
    for form in staging.forms.values():
        texts += [e.line.text() for e in form.editors.values() if e.line is not None]
    dates = [t for t in texts if re.search(r"\d+[/.-]\d+[/.-]\d+", t)]
    assert dates
    assert not [t for t in dates if re.search(r"\d{4}-\d{2}-\d{2}", t)], dates
    assert all(re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", t) for t in dates), dates
    birth = workspace.case.patient.birth_date  # type: ignore[union-attr]
    assert staging.forms["patient"].editors["birth_date"].line.text() == (  # type: ignore[union-attr]
        f"{birth.month}/{birth.day}/{birth.year}"
    )


def test_parse_date_two_digit_years_and_other_locales(us_locale: None) -> None:
    today = dt.date(2026, 11, 24)
    assert parse_date("6/22/26", today) == dt.date(2026, 6, 22)
    assert parse_date("3/5/45", today) == dt.date(1945, 3, 5)  # not 2045
    assert parse_date("2/30/2026", today) is None
    QLocale.setDefault(QLocale("de_DE"))
    assert parse_date("22.06.2026") == dt.date(2026, 6, 22)
    assert parse_date("1.2.1962") == dt.date(1962, 2, 1)
    assert locale_date(dt.date(2026, 6, 22)) == "22.06.2026"
    assert parse_date("2026-06-22") == dt.date(2026, 6, 22)


# -- item 10: forms --------------------------------------------------------------------


def test_lesion_rows_are_numbered_as_shown_and_the_bad_cell_is_marked(qtbot: QtBot) -> None:
    from crlmboard.domain.case import ImagingTimepoint
    from crlmboard.ui.dialogs.timepoint_dialog import COLUMNS, TimepointDialog

    timepoint = ImagingTimepoint(
        date=dt.date(2025, 2, 3),
        modality="mri",  # type: ignore[arg-type]
        lesions=[
            m.LesionMeasurement(id="L1", segment=7, longest_diameter_mm=30),
            m.LesionMeasurement(id="L2", segment=6, longest_diameter_mm=20),
        ],
    )
    dialog = TimepointDialog(timepoint, "Edit imaging timepoint", today=dt.date(2026, 11, 24))
    qtbot.addWidget(dialog)
    dialog.show()
    column = next(i for i, s in enumerate(COLUMNS) if s.name == "longest_diameter_mm")
    segment = next(i for i, s in enumerate(COLUMNS) if s.name == "segment")
    dialog.table.item(1, column).setText("abc")
    dialog.table.item(0, segment).setText("9")
    dialog.accept()
    assert dialog.result() != dialog.DialogCode.Accepted
    text = dialog.problems_label.text()
    assert text.splitlines() == [
        "Row 1, Segment: must be ≤ 8",
        "Row 2, Longest diameter: must be a number",
    ]
    assert "lesions[" not in text and "_mm" not in text
    header = dialog.table.verticalHeaderItem(1)
    shown_number = header.text() if header is not None else str(1 + 1)  # Qt numbers from 1
    assert shown_number == "2"
    assert dialog.table.item(1, column).background().color().name() == "#f8d7da"
    assert dialog.table.item(0, segment).background().color().name() == "#f8d7da"
    assert dialog.table.item(0, column).background().style() == Qt.BrushStyle.NoBrush
    assert (dialog.table.currentRow(), dialog.table.currentColumn()) == (0, segment)
    # corrected: the marks go, the dialog accepts
    dialog.table.item(1, column).setText("21")
    dialog.table.item(0, segment).setText("8")
    dialog.accept()
    assert dialog.result_timepoint is not None
    assert [lesion.longest_diameter_mm for lesion in dialog.result_timepoint.lesions] == [30, 21]


def test_messages_use_the_labels_the_form_shows(qtbot: QtBot) -> None:
    from crlmboard.domain.validation import Problem
    from crlmboard.ui.forms import problem_text

    form = RecordForm(m.ImagingTimepointFields)
    qtbot.addWidget(form)
    qtbot.keyClicks(form.editors["date"].line, "2025-02-03")  # type: ignore[arg-type]
    qtbot.keyClicks(form.editors["total_liver_volume_ml"].line, "1000")  # type: ignore[arg-type]
    qtbot.keyClicks(form.editors["flr_volume_ml"].line, "1001")  # type: ignore[arg-type]
    assert form.record() is None
    reason = form.editors["flr_volume_ml"].reason.text()
    assert reason == "must not exceed the total liver volume"
    # a whole case refused on save names each place as the tabs do
    assert (
        problem_text(Problem("imaging[2].lesions[0].longest_diameter_mm", "must be ≥ 0"))
        == "Imaging timepoint 3, Row 1, Longest diameter: must be ≥ 0"
    )
    assert (
        problem_text(Problem("treatments[4].cycle_length_days", "must be 14, 21 or 28"))
        == "Treatment 5, Cycle length: must be 14, 21 or 28"
    )
    assert problem_text(
        Problem("total_liver_volume_ml", "must be > 0"), m.ImagingTimepointFields
    ) == ("Total liver volume: must be > 0")


def test_codes_read_as_the_clinic_writes_them(window: MainWindow, qtbot: QtBot) -> None:
    def items(model: type[Any], name: str) -> list[str]:
        form = RecordForm(model)
        qtbot.addWidget(form)
        combo = form.editors[name].combo
        assert combo is not None
        return [combo.itemText(i) for i in range(combo.count())]

    assert {"T3", "T4b", "Tis"} <= set(items(m.PrimaryTumour, "t"))
    assert {"FOLFOX", "CAPOX", "Trifluridine/tipiracil"} <= set(
        items(m.ChemotherapyCycle, "regimen")
    )
    assert {"CT", "MRI", "PET-CT"} <= set(items(m.ImagingTimepointFields, "modality"))
    window.select_case("EX-0003")
    workspace = window.workspace
    workspace.setCurrentWidget(workspace.chemotherapy)  # a tab is filled when shown
    assert "FOLFOX" in cell_texts(workspace.chemotherapy.view)
    workspace.setCurrentWidget(workspace.imaging)
    assert not any(
        t in ("folfox", "ct", "mri") for t in cell_texts(workspace.imaging.timepoints.view)
    )
    assert "MRI" in cell_texts(workspace.imaging.timepoints.view)


def test_the_new_case_dialog_is_wide_enough_for_its_messages(qtbot: QtBot) -> None:
    dialog = RecordDialog(m.Patient, None, "New case", today=dt.date(2026, 11, 24))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    mrn = dialog.form.editors["mrn"]
    assert mrn.line is not None
    qtbot.keyClicks(mrn.line, "bad mrn!")
    QApplication.processEvents()
    reason = mrn.reason
    assert reason.isVisible() and "characters of A–Z" in reason.text()
    assert dialog.width() >= 600
    # the whole message is shown: no line cut off, nothing beyond the dialog's edge
    assert reason.height() >= reason.heightForWidth(reason.width())
    right = reason.mapTo(dialog, reason.rect().topRight()).x()
    assert right <= dialog.width()
    assert reason.heightForWidth(reason.width()) <= 3 * reason.fontMetrics().height()


def test_a_28_day_cycle_is_accepted(window: MainWindow, qtbot: QtBot) -> None:
    window.select_case("EX-0001")

    def fill(dialog: Any) -> None:
        assert isinstance(dialog, RecordDialog)
        editors = dialog.form.editors
        editors["date"].line.setText("2025-02-05")
        combo = editors["regimen"].combo
        combo.setCurrentIndex(combo.findData("trifluridine_tipiracil"))
        editors["setting"].combo.setCurrentIndex(editors["setting"].combo.findData("palliative"))
        editors["cycle_length_days"].line.clear()
        qtbot.keyClicks(editors["cycle_length_days"].line, "28")
        assert editors["cycle_length_days"].reason.text() == ""
        dialog.accept()

    on_next_dialog(fill)
    window.workspace.add_cycle()
    (cycle,) = window.door.board.cases.get("EX-0001").chemotherapy
    assert cycle.cycle_length_days == 28 and cycle.regimen == "trifluridine_tipiracil"


def answer_remove(button: str) -> None:
    def click(box: Any) -> None:
        assert isinstance(box, QMessageBox), box
        assert "DEMO" not in box.text() and "EXAMPLE" in box.text()  # whose record
        chosen = next(b for b in box.buttons() if b.text().startswith(button))
        chosen.click()

    on_next_dialog(click)


def test_immunotherapy_doses_are_added_edited_and_removed_and_remove_asks(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.select_case("EX-0001")
    workspace = window.workspace
    workspace.setCurrentWidget(workspace.procedures)

    def fill(dialog: Any) -> None:
        assert (
            isinstance(dialog, RecordDialog)
            and dialog.windowTitle() == "Add immunotherapy dose — EXAMPLE, Ada"
        )
        editors = dialog.form.editors
        editors["date"].line.setText("2025-02-10")
        editors["agent"].combo.setCurrentIndex(editors["agent"].combo.findData("pembrolizumab"))
        editors["setting"].combo.setCurrentIndex(editors["setting"].combo.findData("palliative"))
        qtbot.keyClicks(editors["cycle"].line, "1")
        dialog.accept()

    on_next_dialog(fill)
    qtbot.mouseClick(workspace.add_dose_button, Qt.MouseButton.LeftButton)
    (dose,) = window.door.board.cases.get("EX-0001").immunotherapy
    assert (dose.agent, dose.cycle) == ("pembrolizumab", 1)

    tab = workspace.procedures
    row = next(i for i, r in enumerate(tab.model.records) if isinstance(r, m.ImmunotherapyDose))

    def change(dialog: Any) -> None:
        assert dialog.windowTitle() == "Edit immunotherapy dose — EXAMPLE, Ada"
        cycle = dialog.form.editors["cycle"].line
        cycle.clear()
        qtbot.keyClicks(cycle, "2")
        dialog.accept()

    tab.select_row(row)
    on_next_dialog(change)
    qtbot.mouseClick(tab.edit_button, Qt.MouseButton.LeftButton)
    assert window.door.board.cases.get("EX-0001").immunotherapy[0].cycle == 2

    row = next(i for i, r in enumerate(tab.model.records) if isinstance(r, m.ImmunotherapyDose))
    tab.select_row(row)
    answer_remove("Keep")
    qtbot.mouseClick(tab.remove_button, Qt.MouseButton.LeftButton)
    assert len(window.door.board.cases.get("EX-0001").immunotherapy) == 1  # kept
    tab.select_row(row)
    answer_remove("Remove")
    qtbot.mouseClick(tab.remove_button, Qt.MouseButton.LeftButton)
    assert window.door.board.cases.get("EX-0001").immunotherapy == []


def test_removing_a_cycle_asks_first(window: MainWindow, qtbot: QtBot) -> None:
    window.select_case("EX-0003")
    before = len(window.door.board.cases.get("EX-0003").chemotherapy)
    tab = window.workspace.chemotherapy
    window.workspace.setCurrentWidget(tab)
    tab.select_row(0)
    answer_remove("Keep")
    qtbot.mouseClick(tab.remove_button, Qt.MouseButton.LeftButton)
    assert len(window.door.board.cases.get("EX-0003").chemotherapy) == before
    answer_remove("Remove")
    qtbot.mouseClick(tab.remove_button, Qt.MouseButton.LeftButton)
    assert len(window.door.board.cases.get("EX-0003").chemotherapy) == before - 1


def _contrast(one: Any, other: Any) -> float:
    """WCAG contrast ratio of two QColors."""

    def luminance(colour: Any) -> float:
        def channel(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(x) for x in (colour.redF(), colour.greenF(), colour.blueF()))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("look", ["light", "dark"])
def test_a_refusal_reads_on_a_light_and_on_a_dark_palette(
    qtbot: QtBot, look: str, request: pytest.FixtureRequest
) -> None:
    """The reason under a field is red on the form's own background, readable (contrast
    ≥ 4.5, WCAG AA) in both; a dark desktop used to get #b00020 on dark grey (1.9)."""
    if look == "dark":
        request.getfixturevalue("dark_palette")
    dialog = RecordDialog(m.Patient, None, "New case")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.form.editors["height_cm"].line, "1.72")
    reason = dialog.form.editors["height_cm"].reason
    assert reason.isVisible() and reason.text()
    match = re.search(r"color:\s*(#[0-9a-fA-F]{6})", reason.styleSheet())
    assert match is not None
    from PySide6.QtGui import QColor, QPalette

    background = dialog.palette().color(QPalette.ColorRole.Window)
    assert _contrast(QColor(match.group(1)), background) >= 4.5


@pytest.mark.parametrize("look", ["light", "dark"])
def test_the_dialogs_not_saved_line_reads_on_a_light_and_on_a_dark_palette(
    qtbot: QtBot, look: str, request: pytest.FixtureRequest
) -> None:
    """The line above the buttons that says why OK saved nothing (a date left empty, copied
    values not confirmed, an MRN in use) reads like the reasons under the fields; it kept
    #b00020 on the dark palette's grey (contrast 1.9)."""
    if look == "dark":
        request.getfixturevalue("dark_palette")
    dialog = RecordDialog(m.ChemotherapyCycle, None, "Add chemotherapy cycle")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.message.text().startswith("Not saved")
    match = re.search(r"color:\s*(#[0-9a-fA-F]{6})", dialog.message.styleSheet())
    assert match is not None
    from PySide6.QtGui import QColor, QPalette

    background = dialog.palette().color(QPalette.ColorRole.Window)
    assert _contrast(QColor(match.group(1)), background) >= 4.5


def test_fields_with_a_unit_end_in_one_line(qtbot: QtBot) -> None:
    """Seen in the screenshots: Height (cm) ended further right than Weight (kg), Volume (mL)
    than FLR (%): the units were as wide as their text."""
    form = RecordForm(m.Patient)
    qtbot.addWidget(form)
    form.resize(600, 500)
    form.show()
    qtbot.waitExposed(form)
    ends = {
        name: editor.line.mapTo(form, editor.line.rect().topRight()).x()
        for name, editor in form.editors.items()
        if editor.unit is not None and editor.line is not None
    }
    assert set(ends) == {"height_cm", "weight_kg"}
    assert len(set(ends.values())) == 1, ends


def test_every_bad_field_says_so_at_once(qtbot: QtBot) -> None:
    """Seen in the screenshots: with a date that cannot be read, an MRN with a space and a
    height of 1.72 cm, only the date was marked; the others appeared after it was mended."""
    dialog = RecordDialog(m.Patient, None, "New case")
    qtbot.addWidget(dialog)
    dialog.show()
    editors = dialog.form.editors
    qtbot.keyClicks(editors["mrn"].line, "DEMO 0099/?")
    qtbot.keyClicks(editors["birth_date"].line, "31.02.1961")
    qtbot.keyClicks(editors["height_cm"].line, "1.72")
    marked = {name for name, editor in editors.items() if editor.reason.isVisible()}
    assert marked == {"mrn", "birth_date", "height_cm"}
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()


def test_a_pasted_control_character_is_named_at_its_field(qtbot: QtBot) -> None:
    """Text pasted from another program can carry a form feed or an escape; the form says
    which character and where, as the case file and the CSV import do."""
    from crlmboard.domain.validation import Problem
    from crlmboard.ui.forms import problem_text

    form = RecordForm(m.SurgicalPlan)
    qtbot.addWidget(form)
    line = form.editors["surgeon"].line
    assert line is not None
    line.setText("A.\x0cSurgeon")  # (the form trims one at either end, as it trims spaces)
    assert form.record() is None
    assert form.editors["surgeon"].reason.text() == (
        "must not contain the invisible control character U+000C (form feed); "
        "only tab and line breaks are allowed"
    )
    assert form.editors["surgeon"].reason.isVisibleTo(form)
    line.setText("A. Surgeon")
    assert form.record() is not None
    assert not form.editors["surgeon"].reason.isVisibleTo(form)
    assert (
        problem_text(Problem("reviews[0].actions[1].text", "has no visible character"))
        == "Review 1, Action row 2, Action: has no visible character"
    )
