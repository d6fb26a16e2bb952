"""The data-safety dialogs read in full: a backup's time is never cut off, its reason is
said in words."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.dialogs.safety import RestoreDialog
from tests.conftest import GOLDEN


def test_the_restore_list_shows_when_each_backup_was_made_in_full(
    qtbot: QtBot, board: Board
) -> None:
    """Seen in the screenshots: the "Made (UTC)" column read "2026-12-07 …", the one value a
    backup is chosen by."""
    board.cases.import_path(GOLDEN)
    board.maintenance.backup()
    backups = board.maintenance.list_backups()
    dialog = RestoreDialog(backups, None)
    qtbot.addWidget(dialog)
    dialog.show()
    view, model = dialog.view, dialog.model
    made = model.data(model.index(0, 0))
    assert len(made) == len("2026-12-07 09:18")
    needed = view.fontMetrics().horizontalAdvance(made)
    assert view.columnWidth(0) > needed  # and its cell margins
    assert model.data(model.index(0, 3)) == "on request"
