"""The case list paints its rows again only when they change (issue 21, B2): a broad filter's
exact count comes after "1,000+" and adds its rows below the screen — the scroll bar takes
them, the rows on screen are not painted again (at 100,000 patients that repaint fell into the
next keystroke, B2 perf-b2d). A real window over a real database of 1,500 generated cases;
paints counted on the list's viewport, not timed."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QEvent, QModelIndex, QObject
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.models import case_list
from crlmboard.ui.models.case_list import COUNT_CAP
from tests.ui import test_case_list_count as count_tests
from tests.ui.test_case_list_count import CASES, type_filter, window_on

# the 1,500 cases of the count's tests (the fixtures, shared)
wide_file, wide = count_tests.wide_file, count_tests.wide

pytestmark = [pytest.mark.ui, pytest.mark.db]


class Paints(QObject):
    """Counts the paints of a widget."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def quiet(window: MainWindow) -> None:
    """Until the door has answered and the view has laid out and painted what it was told."""
    for _ in range(3):
        while window.door.waiting or window.door.pending:
            QTest.qWait(5)
        QTest.qWait(30)
        QApplication.processEvents()


def on_screen(window: MainWindow) -> list[str]:
    table, model = window.table, window.model
    last = table.rowAt(table.viewport().height() - 1)
    return [model.data(model.index(row, 0)) for row in range(table.rowAt(0), last + 1)]


def test_the_exact_count_adds_its_rows_below_the_screen_without_painting_the_list_again(
    qtbot: QtBot, wide: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(case_list, "COUNT_AFTER_MS", 3_600_000)  # the count held back
    window = window_on(qtbot, wide)
    model, table = window.model, window.table
    assert type_filter(window, "wide") == ["1,000+ cases"]
    quiet(window)  # the screen's rows painted, the rest of the first page come
    assert model.rowCount() == COUNT_CAP + 1 and not model.exact
    screen, bar = on_screen(window), table.verticalScrollBar()
    assert len(screen) >= 10 and None not in screen
    before = bar.maximum()
    paints = Paints()
    table.viewport().installEventFilter(paints)
    model.fetchMore(QModelIndex())  # the exact count asked for (as the view at the end asks)
    qtbot.waitUntil(lambda: model.exact and model.rowCount() == CASES)
    quiet(window)
    assert window.count_label.text() == "1,500 cases"
    assert paints.count == 0  # the rows on screen did not change: not painted again
    assert on_screen(window) == screen
    assert bar.maximum() > before  # the scroll bar holds the rows that came
    # and they are there: the end of the list is the 1,500th case, painted when shown
    expected = [e.mrn for e in wide.cases.page("wide", limit=CASES)]
    table.scrollToBottom()
    quiet(window)
    assert paints.count > 0
    assert table.rowAt(table.viewport().height() - 1) == CASES - 1
    assert on_screen(window)[-1] == expected[-1]


def test_rows_that_come_into_view_are_painted(qtbot: QtBot, wide: Board) -> None:
    """Rows inserted where the view shows them (the list ended on screen) are painted."""
    window = window_on(qtbot, wide)
    model, table = window.model, window.table
    type_filter(window, "wide-0000")  # 10 cases: the list ends on screen
    quiet(window)
    assert model.rowCount() == 10 and table.rowAt(table.viewport().height() - 1) < 0
    paints = Paints()
    table.viewport().installEventFilter(paints)
    model.beginInsertRows(QModelIndex(), 10, 10)  # as the exact count adds rows
    model.total = 11
    model.endInsertRows()
    quiet(window)
    assert paints.count > 0


def test_each_cell_answers_the_roles_the_list_paints_and_nothing_else(
    qtbot: QtBot, wide: Board
) -> None:
    """The list's cells: the text, the case's MRN (UserRole), age and open findings right
    aligned; no font, colour or decoration of their own (the view's are used); the roles
    asked as ints (as Qt asks) or as the enum (as Python code asks) alike."""
    from PySide6.QtCore import Qt

    from crlmboard.ui.models.case_list import COLUMNS, RIGHT_ALIGNED

    window = window_on(qtbot, wide)
    type_filter(window, "wide-0000")
    quiet(window)
    model = window.model
    role = Qt.ItemDataRole
    expected = [e.mrn for e in wide.cases.page("wide-0000", limit=10)]
    for row, mrn in enumerate(expected):
        for column in range(len(COLUMNS)):
            index = model.index(row, column)
            for asked in (role.UserRole, int(role.UserRole)):
                assert model.data(index, asked) == mrn
            assert model.data(index, role.DisplayRole) == model.data(index) == model.data(index, 0)
            aligned = model.data(index, int(role.TextAlignmentRole))
            assert aligned == model.data(index, role.TextAlignmentRole)
            if column in RIGHT_ALIGNED:
                assert aligned == int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            else:
                assert aligned is None
            for other in (
                role.FontRole,
                role.ForegroundRole,
                role.BackgroundRole,
                role.DecorationRole,
                role.CheckStateRole,
                role.ToolTipRole,
            ):
                assert model.data(index, other) is None
                assert model.data(index, int(other)) is None
        assert model.data(model.index(row, 0)) == mrn
    outside = model.index(20, 0)  # past the rows: nothing
    assert model.data(outside) is None and model.data(outside, role.UserRole) is None
