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
from PySide6.QtWidgets import QApplication, QTableView
from pytestqt.qtbot import QtBot

from crlmboard.domain import models as m
from crlmboard.services import Board
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
    shown = MainWindow(board, user="coordinator")
    qtbot.addWidget(shown)
    shown.resize(1280, 720)
    shown.show()
    yield shown


def on_next_dialog(action: Any) -> None:
    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, act)
            return
        action(dialog)

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
