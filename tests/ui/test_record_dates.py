"""No date is assumed: a new procedure, surgery outcome or lab result opens with its date
empty (not today's), and OK without a date is refused saying the date is required;
nothing is stored until a date is typed.  (Chemotherapy cycles, immunotherapy doses and
imaging timepoints already work so: tests/ui/test_copies.py.)  Driven through the real
window and dialogs on a real database file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.dialogs.record_dialog import RecordDialog
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN
from tests.ui.test_copies import activate, on_next_dialog

pytestmark = [pytest.mark.ui, pytest.mark.db]


@pytest.fixture
def window(qtbot: QtBot, board: Board) -> Iterator[MainWindow]:
    board.cases.import_path(GOLDEN)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.resize(1280, 720)
    shown.show()
    shown.select_case("EX-0001")
    yield shown


def adders(window: MainWindow) -> dict[str, tuple[Callable[[], Any], Callable[[Any], list[Any]]]]:
    """What adds a dated record, and where the case keeps such records."""
    workspace = window.workspace
    return {
        "procedure": (
            workspace.add_procedure,
            lambda case: [t for t in case.treatments if type(t).__name__ == "Procedure"],
        ),
        "outcome": (workspace.add_outcome, lambda case: list(case.surgery_outcomes)),
        "lab": (workspace.labs.add_requested.emit, lambda case: list(case.labs)),
    }


@pytest.mark.parametrize("kind", ["procedure", "outcome", "lab"])
def test_a_new_dated_record_has_no_date_until_one_is_typed(
    window: MainWindow, qtbot: QtBot, kind: str
) -> None:
    add, records = adders(window)[kind]
    board = window.door.board
    before = records(board.cases.get("EX-0001"))
    errors: list[BaseException] = []
    seen: dict[str, Any] = {}

    def work(dialog: Any) -> None:
        assert isinstance(dialog, RecordDialog)
        activate(dialog, qtbot)
        date = dialog.form.editors["date"].line
        assert date is not None
        seen["shown"] = date.text()
        assert date.text() == "", "a date was assumed"
        assert "required" in date.placeholderText()
        # OK (and Enter) without a date: refused, saying so; the dialog stays
        ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        ok.click()
        qtbot.keyClick(date, Qt.Key.Key_Return)
        assert dialog.isVisible() and dialog.result_record is None
        seen["refusal"] = dialog.message.text()
        seen["reason"] = dialog.form.editors["date"].reason.text()
        assert "date" in seen["refusal"].lower() and "required" in seen["refusal"].lower()
        assert board.cases.get("EX-0001") is not None
        assert records(board.cases.get("EX-0001")) == before  # nothing stored meanwhile
        qtbot.keyClicks(date, "2025-05-02")
        if kind == "lab":  # a lab row needs a value besides its date
            cea = dialog.form.editors["cea_ng_ml"].line
            assert cea is not None
            qtbot.keyClicks(cea, "4.2")
        if kind == "procedure":  # and a procedure, which one
            which = dialog.form.editors["procedure"].combo
            assert which is not None
            which.setCurrentIndex(1)
        qtbot.keyClick(date, Qt.Key.Key_Return)
        if dialog.isVisible():
            seen["left open"] = dialog.message.text()
            dialog.reject()

    on_next_dialog(work, errors)
    add()
    assert not errors, errors
    assert "left open" not in seen, seen
    assert seen["shown"] == "" and "required" in seen["reason"]
    after = records(board.cases.get("EX-0001"))
    assert len(after) == len(before) + 1
    added = [r for r in after if r not in before]
    assert [r.date for r in added] == [dt.date(2025, 5, 2)]


def test_the_add_timepoint_dialog_gives_the_lesion_table_room_at_1280_by_720(
    window: MainWindow, qtbot: QtBot
) -> None:
    """At 1280×720 the lesion table shows at least six lesion rows at a time (it showed
    two, under the timepoint's fields in one long column)."""
    from crlmboard.ui.dialogs.timepoint_dialog import TimepointDialog

    errors: list[BaseException] = []
    seen: dict[str, Any] = {}

    def work(dialog: Any) -> None:
        assert isinstance(dialog, TimepointDialog)
        table = dialog.table
        while table.rowCount() < 8:
            dialog._add_row(None)
        qtbot.wait(1)
        screen = dialog.screen().availableGeometry()
        seen["fits"] = dialog.frameGeometry().height() <= max(screen.height(), 720)
        seen["rows"] = table.viewport().height() // table.rowHeight(0)
        dialog.reject()

    window.workspace.setCurrentWidget(window.workspace.imaging)
    on_next_dialog(work, errors)
    window.workspace.add_timepoint()
    assert not errors, errors
    assert seen["fits"]
    assert seen["rows"] >= 6, f"{seen['rows']} lesion rows shown at a time"
