"""The case list as a window on the list: every row counted, only the pages shown read and
a few kept, a case found in a page not read, the open case kept selected after a change.
Real database, real widgets; pages made small so a few dozen cases span many of them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from crlmboard.domain import models as m
from crlmboard.domain.case import Case
from crlmboard.services import Board
from crlmboard.services.changes import ChangeSet
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.models import case_list
from crlmboard.ui.models.case_list import COLUMNS, CaseListModel
from crlmboard.ui.ops import Door
from tests.conftest import GOLDEN

pytestmark = [pytest.mark.ui, pytest.mark.db]

FAMILIES = ["Okafor", "Åberg", "Tanaka", None, "Müller", "Petrov", "Lee", "Dubois", "Tanaka"]
GIVEN = ["Ada", "Björn", None, "Chen", "Dana", "Ivan", "Eun", "Léa", "Kenji"]


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_list, "PAGE_SIZE", 4)
    monkeypatch.setattr(case_list, "CACHED_PAGES", 3)


@pytest.fixture
def many(board: Board) -> Board:
    """33 cases: the golden three and 30 with names (some missing) and birth dates."""
    board.cases.import_path(GOLDEN)
    for i in range(30):
        patient = m.Patient(
            mrn=f"LIST-{i:03d}",
            family_name=FAMILIES[i % len(FAMILIES)],
            given_name=GIVEN[(i * 5) % len(GIVEN)],
            birth_date=date(1940 + (i * 7) % 45, 1 + i % 12, 1 + i % 27) if i % 4 else None,
        )
        board.cases.create(Case(patient=patient))
    return board


def row_of(model: CaseListModel, mrn: str) -> int | None:
    """The row of a case (the door answers at once in these tests)."""
    found: list[int | None] = []
    model.locate(mrn, found.append)
    return found[0]


def column(model: CaseListModel, index: int) -> list[str]:
    return [model.data(model.index(row, index)) for row in range(model.rowCount())]


def test_every_row_is_counted_but_only_the_pages_read_are_held(
    many: Board, small_pages: None, qtmodeltester: object
) -> None:
    model = CaseListModel(Door(many))
    entries = many.cases.page(limit=1000)
    expected = [e.mrn for e in entries]
    assert model.rowCount() == model.total == len(expected) == 33
    assert model.pages_read == 1  # the first page only, until rows are asked for
    assert model.data(model.index(32, 0)) == expected[32]  # its page, read on demand
    assert model.pages_read == 2
    assert column(model, 0) == expected  # every page read in turn ...
    assert len(model.rows) <= 3 * 4  # ... but at most three pages held
    first = entries[0]
    assert model.data(model.index(0, 1)) == f"{first.family_name.upper()}, {first.given_name}"
    assert model.data(model.index(33, 0)) is None
    qtmodeltester.check(model)  # type: ignore[attr-defined]


@pytest.mark.parametrize("descending", [False, True])
def test_a_case_is_found_in_a_page_not_read(
    many: Board, small_pages: None, descending: bool
) -> None:
    model = CaseListModel(Door(many))
    order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
    for number, (key, _title) in enumerate(COLUMNS):
        model.sort(number, order)
        expected = [e.mrn for e in many.cases.page(sort=key, descending=descending, limit=1000)]
        for mrn in (expected[-1], expected[17], expected[1]):
            assert model.cached_row_of(mrn) is None or mrn == expected[1]
            row = row_of(model, mrn)
            assert row == expected.index(mrn), (key, descending, mrn)
            assert model.data(model.index(row, 0)) == mrn
    model.sort(1, Qt.SortOrder.AscendingOrder)
    model.set_query("tanaka")
    assert model.rowCount() == 7
    tanakas = [e.mrn for e in many.cases.page("tanaka", limit=1000)]
    assert row_of(model, tanakas[-1]) == 6
    assert row_of(model, "EX-0001") is None  # filtered out


def test_the_view_reads_the_pages_it_shows(qtbot: QtBot, many: Board, small_pages: None) -> None:
    window = MainWindow(many)
    qtbot.addWidget(window)
    window.table.verticalHeader().setDefaultSectionSize(150)  # a few rows fill the view
    window.resize(1000, 400)
    window.show()
    qtbot.waitExposed(window)
    QApplication.processEvents()
    model, table = window.model, window.table
    expected = [e.mrn for e in many.cases.page(limit=1000)]
    assert window.count_label.text() == "33 cases"
    assert table.rowAt(table.viewport().height() - 1) < 4
    assert model.pages_read == 1  # the list read once when the window was made
    table.scrollToBottom()
    QApplication.processEvents()
    first = table.rowAt(0)
    assert first > 20 and model.data(model.index(32, 0)) == expected[32]
    # only the pages shown at the end were read, not those scrolled over
    assert model.pages_read == 1 + len({row // 4 for row in range(first, 33)})
    assert len(model.rows) <= 3 * 4
    assert not model.canFetchMore(QModelIndex())


def test_the_open_case_stays_selected_after_a_change(
    qtbot: QtBot, many: Board, small_pages: None
) -> None:
    window = MainWindow(many)
    qtbot.addWidget(window)
    window.show()
    expected = [e.mrn for e in many.cases.page(limit=1000)]
    mrn = expected[21]
    window.select_case(mrn)  # a row on a page not read yet
    assert window.table.currentIndex().row() == 21
    assert window.workspace.case is not None and window.workspace.case.mrn == mrn
    other, version = many.cases.get_with_version(expected[2])
    changed = other.model_copy(update={"patient": other.patient.model_copy(update={"ecog": 1})})
    many.cases.save(changed, version)
    window.door.changes_applied.emit(ChangeSet(cases=frozenset({other.mrn})), None)
    assert window.table.currentIndex().row() == 21
    assert window.model.data(window.table.currentIndex(), Qt.ItemDataRole.UserRole) == mrn
    assert window.workspace.case.mrn == mrn


DEMO = Path(__file__).resolve().parents[2] / "crlmboard" / "resources" / "demo"


@pytest.mark.parametrize(
    ("typed", "mrn"),
    [
        ("Mockford, Julia", "DEMO-0009"),  # the name as the list shows it, pasted back
        ("MOCKFORD, Julia", "DEMO-0009"),
        ("ελενη", "DEMO-0002"),  # stored as Δοκιμή Ελένη
        ("δοκιμη, ελενη", "DEMO-0002"),
        ("testov ivan", None),  # Latin letters do not find Cyrillic names
    ],
)
def test_the_filter_finds_names_as_shown_and_without_accents(
    qtbot: QtBot, board: Board, typed: str, mrn: str | None
) -> None:
    """Issue 19, item 6: typed into the filter box of a real window over the demo cases."""
    board.cases.import_path(DEMO)
    board.cases.create(
        Case(patient=m.Patient(mrn="ACC-0001", family_name="Müller", given_name="Jürgen"))
    )
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    rows: list[int | None] = []
    window.model.locate("DEMO-0009", rows.append)
    qtbot.waitUntil(lambda: bool(rows))
    shown = window.model.data(window.model.index(rows[0] or 0, 1))
    assert shown == "MOCKFORD, Julia"
    if typed.isascii():
        qtbot.keyClicks(window.filter_edit, typed)
    else:  # QTest types ASCII only: as an input method would, the text at the cursor
        window.filter_edit.insert(typed)
    if mrn is None:
        qtbot.waitUntil(lambda: window.model.rowCount() == 0)
        return
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    assert window.model.data(window.model.index(0, 0)) == mrn
    window.filter_edit.clear()
    qtbot.keyClicks(window.filter_edit, "muller")
    qtbot.waitUntil(lambda: window.model.data(window.model.index(0, 0)) == "ACC-0001")
    assert window.model.rowCount() == 1


def test_an_empty_list_says_why(qtbot: QtBot, board: Board) -> None:
    """Seen driving the app on a new database: an empty grid, with nothing to say that there
    is no case yet or how to add one; a filter matching nothing looked the same."""
    from PySide6.QtGui import QImage

    def ink() -> int:
        viewport = window.table.viewport()
        image = viewport.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        return len({image.pixel(x, y) for y in range(0, 40) for x in range(image.width())})

    window = MainWindow(board)
    qtbot.addWidget(window)
    window.resize(1000, 600)
    window.show()
    qtbot.waitExposed(window)
    assert window.model.rowCount() == 0
    assert ink() > 3  # the text is drawn; an empty grid is one or two colours
    board.cases.import_path(GOLDEN)
    window.model.set_query("")
    qtbot.waitUntil(lambda: window.model.rowCount() == 3)
    window.model.set_query("no such patient")
    qtbot.waitUntil(lambda: window.model.rowCount() == 0)
    assert window.model.query and ink() > 3
