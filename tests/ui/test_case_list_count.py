"""The case list's count for a broad filter (issue 21, B2): the first page and "1,000+ cases"
at once, the exact count after it (in the background, or at once when the list is scrolled
to its end), never a wrong exact number, and every match reachable past the first 1,000.
A real window over a real database of 1,500 generated cases; work bounded by count."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.models import case_list
from crlmboard.ui.models.case_list import COUNT_CAP, PAGE_SIZE

pytestmark = [pytest.mark.ui, pytest.mark.db]

TODAY = date(2026, 11, 24)
CASES = 1500
FAMILIES = ["Müller", "Tanaka", "Иванов", "Okafor", "Dubois"]


@pytest.fixture(scope="module")
def wide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 synthetic cases; every MRN holds "wide"; one in five is a Müller."""
    path = tmp_path_factory.mktemp("wide") / "board.sqlite3"
    texts = [
        json.dumps(
            {
                "format": "crlmboard.case/1",
                "patient": {
                    "mrn": f"WIDE-{i:05d}",
                    "family_name": FAMILIES[i % len(FAMILIES)],
                    "given_name": "Synthetic",
                },
            }
        )
        for i in range(CASES)
    ]
    with Board.open(path, clock=lambda: TODAY) as board:
        board.cases.import_many(texts)
    return path


@pytest.fixture
def wide(wide_file: Path, tmp_path: Path) -> Iterator[Board]:
    copy = tmp_path / "board.sqlite3"
    shutil.copyfile(wide_file, copy)
    with Board.open(copy, clock=lambda: TODAY) as board:
        yield board


def window_on(qtbot: QtBot, board: Board) -> MainWindow:
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.resize(1000, 600)
    window.show()
    qtbot.waitExposed(window)
    return window


def type_filter(window: MainWindow, text: str) -> list[str]:
    """Type a filter as a person does (the debounce timer fired at once); returns the count
    label's text at the moment the first page arrived (the list reset)."""
    seen: list[str] = []
    window.model.modelReset.connect(lambda: seen.append(window.count_label.text()))
    window.filter_edit.setText(text)
    window._filter_timer.stop()
    window._filter_timer.timeout.emit()
    return seen


def test_a_broad_filter_shows_its_first_page_and_1000_plus_then_the_exact_count(
    qtbot: QtBot, wide: Board
) -> None:
    window = window_on(qtbot, wide)
    qtbot.waitUntil(lambda: window.count_label.text() == "1,500 cases")  # no filter: exact
    model = window.model
    expected = [e.mrn for e in wide.cases.page("wide", limit=CASES)]
    at_reset = type_filter(window, "wide")
    assert at_reset == [f"{COUNT_CAP:,}+ cases"] == ["1,000+ cases"]
    assert model.rowCount() == COUNT_CAP + 1  # rows known to exist, no more
    assert not model.exact and model.canFetchMore(QModelIndex())
    assert [model.data(model.index(row, 0)) for row in range(5)] == expected[:5]
    # the exact count follows in the background
    qtbot.waitUntil(lambda: window.count_label.text() == "1,500 cases")
    assert model.exact and model.rowCount() == CASES
    assert not model.canFetchMore(QModelIndex())
    assert model.data(model.index(CASES - 1, 0)) == expected[-1]


def test_a_filter_below_the_cap_is_counted_exactly_at_once(qtbot: QtBot, wide: Board) -> None:
    window = window_on(qtbot, wide)
    assert type_filter(window, "MULLER") == ["300 cases"]  # accent-insensitive, exact
    assert window.model.exact and window.model.rowCount() == 300
    assert type_filter(window, "wide-0100") == ["10 cases"]
    assert type_filter(window, "wide-01000") == ["1 case"]
    assert type_filter(window, "zq") == ["0 cases"]


def test_scrolling_to_the_end_counts_at_once_and_reaches_every_match(
    qtbot: QtBot, wide: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the count in the background has come (held back here): the view at the end of
    the known rows asks for the exact count; then every page past the first 1,000 rows is
    read, and the view stays where it was when the rows come below it."""
    monkeypatch.setattr(case_list, "COUNT_AFTER_MS", 3_600_000)
    window = window_on(qtbot, wide)
    model, table = window.model, window.table
    expected = [e.mrn for e in wide.cases.page("w", limit=CASES)]
    assert type_filter(window, "w") == ["1,000+ cases"]
    QApplication.processEvents()
    assert model.rowCount() == COUNT_CAP + 1 and not model.exact
    assert window.count_label.text() == "1,000+ cases"
    table.scrollToBottom()  # the scroll bar at its end: the view fetches more
    qtbot.waitUntil(lambda: model.rowCount() == CASES)
    QApplication.processEvents()
    assert table.rowAt(0) > COUNT_CAP - 50  # the rows came below: the view stays put
    assert window.count_label.text() == "1,500 cases"
    for row in range(0, CASES, PAGE_SIZE // 2):
        assert model.data(model.index(row, 0)) == expected[row], row
    table.scrollToBottom()
    QApplication.processEvents()
    last = table.rowAt(table.viewport().height() - 1)
    assert last == CASES - 1
    assert model.data(model.index(last, 0)) == expected[-1]


def test_a_case_past_the_first_thousand_is_found_and_selected(qtbot: QtBot, wide: Board) -> None:
    window = window_on(qtbot, wide)
    model = window.model
    expected = [e.mrn for e in wide.cases.page("wide", limit=CASES)]
    assert type_filter(window, "wide") == ["1,000+ cases"]
    mrn = expected[1400]
    rows: list[int | None] = []
    model.locate(mrn, rows.append)
    qtbot.waitUntil(lambda: bool(rows))
    assert rows == [1400]
    assert model.data(model.index(1400, 0)) == mrn


def test_a_newer_filter_drops_the_older_count(qtbot: QtBot, wide: Board) -> None:
    """Typed before the broad filter's exact count came: that count is never shown."""
    window = window_on(qtbot, wide)
    shown: list[str] = []
    window.model.counted.connect(lambda: shown.append(window.count_label.text()))
    assert type_filter(window, "w") == ["1,000+ cases"]
    assert type_filter(window, "wide-0100") == ["10 cases"]
    qtbot.wait(50)
    QApplication.processEvents()
    assert window.count_label.text() == "10 cases" and window.model.rowCount() == 10
    assert "1,500 cases" not in shown


@pytest.mark.usefixtures("threaded")
def test_with_the_worker_thread_the_exact_count_arrives_and_a_stale_one_does_not(
    qtbot: QtBot, wide: Board
) -> None:
    window = window_on(qtbot, wide)
    door = window.door
    try:
        qtbot.waitUntil(lambda: window.count_label.text() == "1,500 cases", timeout=20_000)
        shown: list[str] = []
        window.model.counted.connect(lambda: shown.append(window.count_label.text()))
        type_filter(window, "wide")
        qtbot.waitUntil(lambda: shown[-1:] == ["1,500 cases"], timeout=20_000)
        assert shown[0] == "1,000+ cases" and shown[-1] == "1,500 cases"
        shown.clear()
        type_filter(window, "w")
        type_filter(window, "wide-0100")  # at once: the count of "w" is stale
        qtbot.waitUntil(lambda: door.pending == 0, timeout=20_000)
        QApplication.processEvents()
        assert window.count_label.text() == "10 cases" and window.model.rowCount() == 10
        assert "1,500 cases" not in shown
    finally:
        window.close()


def test_a_failed_count_keeps_1000_plus_and_answers_a_search_with_none(
    qtbot: QtBot, wide: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exact count failing (a server gone, say) never shows a number it does not know:
    "1,000+ cases" stays, a case looked for past the rows known is answered (not found
    there) instead of waiting forever, and a later count is asked again."""
    window = window_on(qtbot, wide)
    model = window.model
    expected = [e.mrn for e in wide.cases.page("wide", limit=CASES)]

    def unreachable(*_a: object) -> int:
        raise OSError("the database cannot be read")

    monkeypatch.setattr(wide.cases, "count_until", unreachable)
    assert type_filter(window, "wide") == ["1,000+ cases"]
    rows: list[int | None] = []
    model.locate(expected[1400], rows.append)
    qtbot.waitUntil(lambda: bool(rows))
    assert rows == [None]
    QApplication.processEvents()
    assert window.count_label.text() == "1,000+ cases" and model.rowCount() == COUNT_CAP + 1
    monkeypatch.undo()
    model.fetchMore(QModelIndex())  # asked again: now it comes
    qtbot.waitUntil(lambda: window.count_label.text() == "1,500 cases")
