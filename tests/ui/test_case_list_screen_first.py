"""A keystroke in the filter reads the rows the list shows first (issue 21, B2): the first
read after a keystroke asks for a screen of rows, not a page of 200 — so the work a keystroke
waits for does not grow with the cohort — and the rest of the page follows once the list is
painted (in the background, or at once when the view needs those rows).  Every row stays
reachable, the open case stays selected, and rows of an older filter never show under a
newer one.  A real window over a real database of 1,500 generated cases; reads counted
through the door the model reads with, not timed."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.models import case_list
from crlmboard.ui.models.case_list import PAGE_SIZE
from tests.ui import test_case_list_count as count_tests
from tests.ui.test_case_list_count import CASES, type_filter, window_on

# the 1,500 cases of the count's tests (the fixtures, shared)
wide_file, wide = count_tests.wide_file, count_tests.wide

pytestmark = [pytest.mark.ui, pytest.mark.db]


def record_reads(window: MainWindow) -> list[dict[str, Any]]:
    """Every read of the case list's rows the model asks of its door, in order (the real
    door answers them)."""
    door, reads = window.door, []
    real = door.case_list_page

    def recording(*args: Any, **kwargs: Any) -> None:
        query, _sort, _descending, offset, limit = args[:5]
        reads.append({"query": query, "offset": offset, "limit": limit, **kwargs})
        real(*args, **kwargs)

    door.case_list_page = recording  # type: ignore[method-assign]
    return reads


def rows_on_screen(window: MainWindow) -> range:
    table = window.table
    first = table.rowAt(0)
    last = table.rowAt(table.viewport().height() - 1)
    if last < 0:
        last = window.model.rowCount() - 1
    return range(first, last + 1)


def shown(window: MainWindow, rows: range) -> list[str | None]:
    """The MRN column's text of `rows` as the model holds them now (None: not read yet)."""
    model = window.model
    held = {model.cached_row_of(e.mrn): e.mrn for e in model.rows}
    return [held.get(row) for row in rows]


def test_a_keystroke_reads_the_rows_on_screen_first_and_the_rest_after_the_paint(
    qtbot: QtBot, wide: Board
) -> None:
    window = window_on(qtbot, wide)
    model = window.model
    expected = [e.mrn for e in wide.cases.page("wide", limit=CASES)]
    reads = record_reads(window)
    at_reset: list[list[str | None]] = []
    model.modelReset.connect(lambda: at_reset.append(shown(window, rows_on_screen(window))))
    assert type_filter(window, "wide") == ["1,000+ cases"]
    # the keystroke's read: the count (capped) and the rows the view shows, no more
    assert len(reads) == 1 and reads[0]["count"] and reads[0]["offset"] == 0
    screen = rows_on_screen(window)
    assert len(screen) >= 10  # the view shows rows, all of them read ...
    assert at_reset == [expected[: len(screen)]]
    assert len(screen) <= reads[0]["limit"] <= len(screen) + 10  # ... and about no others
    assert len(model.rows) == reads[0]["limit"] < PAGE_SIZE
    # the rest of the page once the list is painted, in the background
    qtbot.waitUntil(lambda: len(reads) >= 2)
    first = reads[0]["limit"]
    assert reads[1] == {
        "query": "wide",
        "offset": first,
        "limit": PAGE_SIZE - first,
        "background": True,
    }
    QApplication.processEvents()
    assert [model.data(model.index(row, 0)) for row in range(PAGE_SIZE)] == expected[:PAGE_SIZE]
    # Ctrl+End reaches the last match (the exact count comes; again: the last row)
    window.table.setFocus()
    QTest.keyClick(window.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: model.exact and model.rowCount() == CASES)
    QTest.keyClick(window.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    QApplication.processEvents()
    assert window.table.currentIndex().row() == CASES - 1
    assert model.data(model.index(CASES - 1, 0)) == expected[-1]


def test_page_down_before_the_rest_of_the_page_came_reads_it_and_reaches_every_row(
    qtbot: QtBot, wide: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rest held back: the view moving past the screen's rows asks for them itself."""
    monkeypatch.setattr(case_list, "REST_AFTER_MS", 3_600_000)
    monkeypatch.setattr(case_list, "COUNT_AFTER_MS", 3_600_000)
    window = window_on(qtbot, wide)
    model, table = window.model, window.table
    expected = [e.mrn for e in wide.cases.page("wide", limit=CASES)]
    reads = record_reads(window)
    type_filter(window, "wide")
    first = reads[0]["limit"]
    assert len(model.rows) == first < PAGE_SIZE
    table.setFocus()
    table.setCurrentIndex(model.index(0, 0))
    while table.currentIndex().row() < PAGE_SIZE + 50:
        QTest.keyClick(table, Qt.Key.Key_PageDown)
        QApplication.processEvents()
        row = table.currentIndex().row()
        assert model.data(model.index(row, 0)) == expected[row]
        assert None not in shown(window, rows_on_screen(window))
    rest = [r for r in reads if r["offset"] == first and r["limit"] == PAGE_SIZE - first]
    assert len(rest) == 1 and not rest[0].get("background")  # asked by the view, at once
    assert [model.data(model.index(row, 0)) for row in range(PAGE_SIZE)] == expected[:PAGE_SIZE]


def test_the_open_case_below_the_screen_is_selected_when_its_row_comes(
    qtbot: QtBot, wide: Board
) -> None:
    """A filter's first read holds the screen's rows only: the open case further down the
    first page is selected once its row has come, not left unselected."""
    window = window_on(qtbot, wide)
    expected = [e.mrn for e in wide.cases.page("synthetic", limit=CASES)]
    mrn = expected[150]
    window.open_case(mrn)
    window.filter_edit.setFocus()  # typing: the list does not get the focus (that selects)
    QApplication.processEvents()
    type_filter(window, "synthetic")
    qtbot.waitUntil(lambda: window.model.cached_row_of(mrn) == 150)
    selection = window.table.selectionModel()
    qtbot.waitUntil(lambda: [index.row() for index in selection.selectedRows()] == [150])
    assert window.workspace.case is not None and window.workspace.case.mrn == mrn
    assert window.filter_edit.hasFocus()


def test_read_again_the_list_keeps_the_rows_on_screen_and_a_new_filter_shows_its_top(
    qtbot: QtBot, wide: Board
) -> None:
    """A change reads the list again where the view is: its first read reaches the last
    row on screen (no row on screen left empty at the reset).  Another filter's list
    shows from its top, whose rows its first read holds."""
    window = window_on(qtbot, wide)
    model, table = window.model, window.table
    type_filter(window, "wide")
    qtbot.waitUntil(lambda: not model.completing)
    table.scrollTo(model.index(150, 0), table.ScrollHint.PositionAtBottom)
    QApplication.processEvents()
    screen = rows_on_screen(window)
    assert 150 <= screen.stop - 1 < 160
    reads = record_reads(window)
    at_reset: list[list[str | None]] = []
    model.modelReset.connect(lambda: at_reset.append(shown(window, rows_on_screen(window))))
    window._refresh_list()  # what every change to the cases does
    assert reads[0]["offset"] == 0 and screen.stop <= reads[0]["limit"] <= PAGE_SIZE
    assert rows_on_screen(window) == screen and None not in at_reset[0]
    at_reset.clear()
    type_filter(window, "wide-01")
    assert rows_on_screen(window).start == 0 and None not in at_reset[0]
    assert reads[-1]["limit"] < PAGE_SIZE and len(model.rows) == reads[-1]["limit"]


@pytest.mark.usefixtures("threaded")
def test_typing_fast_ends_with_the_last_filters_rows_only(qtbot: QtBot, wide: Board) -> None:
    """Several keystrokes before the worker answers, and one typed while the rest of a
    broad filter's page is on its way: the list ends with the last filter's rows, and no
    row of an older filter is ever held under the newer one."""
    window = window_on(qtbot, wide)
    model, door = window.model, window.door
    try:
        qtbot.waitUntil(lambda: window.count_label.text() == "1,500 cases", timeout=20_000)
        final = "wide-001"
        matches = {e.mrn for e in wide.cases.page(final, limit=CASES)}
        expected = [e.mrn for e in wide.cases.page(final, limit=CASES)]
        assert len(expected) == 100
        wrong: list[tuple[str, list[str]]] = []

        def look() -> None:
            if model.query == final:
                stray = [e.mrn for e in model.rows if e.mrn not in matches]
                if stray:
                    wrong.append((model.query, stray))

        model.modelReset.connect(look)
        model.dataChanged.connect(lambda *_: look())
        for text in ("w", "wi", "wid", "wide"):
            type_filter(window, text)
        resets: list[int] = []
        model.modelReset.connect(lambda: resets.append(1))
        qtbot.waitUntil(lambda: bool(resets) and model.query == "wide", timeout=20_000)
        type_filter(window, final)  # while the rest of "wide"'s page is asked for
        qtbot.waitUntil(lambda: door.pending == 0, timeout=20_000)
        QApplication.processEvents()
        assert model.query == final and model.rowCount() == 100 and model.exact
        assert [model.data(model.index(row, 0)) for row in range(100)] == expected
        assert window.count_label.text() == "100 cases"
        assert wrong == []
    finally:
        window.close()


@pytest.mark.usefixtures("threaded")
def test_rows_of_the_rest_shown_empty_are_painted_again_when_they_come(
    qtbot: QtBot, wide: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the worker thread: the view scrolled past the screen's rows before the rest of
    the page came shows them empty, asks for them, and is told when they come."""
    monkeypatch.setattr(case_list, "REST_AFTER_MS", 3_600_000)
    window = window_on(qtbot, wide)
    model, table, door = window.model, window.table, window.door
    try:
        qtbot.waitUntil(lambda: window.count_label.text() == "1,500 cases", timeout=20_000)
        expected = [e.mrn for e in wide.cases.page("wide", limit=CASES)]
        type_filter(window, "wide")
        qtbot.waitUntil(lambda: model.query == "wide" and not model.reloading, timeout=20_000)
        assert model.completing
        changed: list[tuple[int, int]] = []
        model.dataChanged.connect(lambda first, last, *_: changed.append((first.row(), last.row())))
        table.scrollTo(model.index(120, 0), table.ScrollHint.PositionAtTop)
        table.viewport().repaint()  # the rows shown empty: their page's rest asked for
        qtbot.waitUntil(lambda: not model.completing and door.waiting == 0, timeout=20_000)
        screen = rows_on_screen(window)
        assert any(first <= screen.start and last >= screen.stop - 1 for first, last in changed)
        assert shown(window, screen) == expected[screen.start : screen.stop]
    finally:
        window.close()


def test_ctrl_end_goes_to_the_last_case_and_keeps_the_mrn_and_name_in_sight(
    qtbot: QtBot, wide: Board
) -> None:
    """A table's Ctrl+End went to the last row and the last column, scrolling the MRN and
    the name out of sight beside the selected row; Home and End go by rows in the column
    in hand."""
    window = window_on(qtbot, wide)
    model, table = window.model, window.table
    window.resize(800, 600)  # narrower than the list's columns: it scrolls sideways
    QApplication.processEvents()
    table.setFocus()
    table.setCurrentIndex(model.index(0, 1))
    bar = table.horizontalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0
    QTest.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: table.currentIndex().row() == model.rowCount() - 1)
    assert table.currentIndex().column() == 1 and bar.value() == 0
    QTest.keyClick(table, Qt.Key.Key_Home)
    assert (table.currentIndex().row(), table.currentIndex().column()) == (0, 1)
    QTest.keyClick(table, Qt.Key.Key_End)
    assert table.currentIndex().row() == model.rowCount() - 1
    assert bar.value() == 0
