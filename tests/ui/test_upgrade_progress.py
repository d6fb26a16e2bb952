"""T30: an upgrade from an old schema shows its progress in the app — in the status bar of
the window-first start (the list shown, the database upgraded behind it on the door's
worker), and in a progress dialog on the normal path (a schema the first page cannot read,
opened before the window).  Real fixture databases of past schemas, real widgets; the steps
are counted, never timed."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from crlmboard.services import Board

pytestmark = [pytest.mark.ui, pytest.mark.db]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WAIT = 60_000  # ms: the waits end on a condition, never on time


def fixture(revision: str, tmp_path: Path) -> Path:
    target = tmp_path / "board.sqlite3"
    shutil.copyfile(FIXTURES / f"schema-{revision}.sqlite3", target)
    return target


def migrations_after(revision: str) -> list[str]:
    from crlmboard.store import migrate

    pending = migrate.pending_revisions(revision, migrate.head_revision())
    return [f"migration {r} ({n} of {len(pending)})" for n, r in enumerate(pending, start=1)]


def test_the_window_first_start_shows_each_step_of_an_upgrade(
    qtbot: QtBot, tmp_path: Path, threaded: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the door's worker, as in the app (the list's calls queue behind the open)."""
    from PySide6.QtWidgets import QMessageBox

    from crlmboard.ui.first_paint import show_window

    told: list[tuple[Any, str, str]] = []  # a refusal is told, never waited on (no hang)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **_k: told.append(a[:3]))
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **_k: told.append(a[:3]))
    path = fixture("0003", tmp_path)  # the oldest schema the first page can read
    window = show_window(str(path), None)
    assert window is not None
    qtbot.addWidget(window)
    shown: list[str] = []
    window.statusBar().messageChanged.connect(shown.append)
    qtbot.waitUntil(lambda: window.completed or any(t[0] is window for t in told), timeout=WAIT)
    assert not [t for t in told if t[0] is window], told
    upgrade = [m.split("upgrading the database: ", 1)[1] for m in shown if "upgrading the" in m]
    assert upgrade[0].startswith("upgrading from schema 0003 to ")
    steps = [m for m in upgrade if m.startswith("migration ")]
    assert [s.rstrip("…") for s in steps] == migrations_after("0003")
    assert any(m.startswith("copying the database") for m in upgrade)
    assert any(m.startswith("checking the upgraded copy") for m in upgrade)
    # then the window says who is acting, as after any open
    assert "User:" in window.statusBar().currentMessage()
    assert window.door.board.cases.count() == 3
    window.close()
    qtbot.waitUntil(lambda: window.door.pending == 0, timeout=WAIT)


def test_the_normal_path_shows_an_upgrade_in_a_progress_dialog(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crlmboard import app
    from crlmboard.ui.dialogs import upgrade
    from crlmboard.ui.main_window import MainWindow

    path = fixture("0001", tmp_path)  # too old for the first page: opened before the window
    seen: list[Any] = []
    finish = upgrade.UpgradeProgress.finish

    def finished(self: upgrade.UpgradeProgress) -> None:
        seen.append((list(self.steps), self.dialog is not None and self.dialog.isVisible()))
        finish(self)

    monkeypatch.setattr(upgrade.UpgradeProgress, "finish", finished)
    opened = app.open_window(str(path))
    assert opened is not None
    window, board = opened
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    steps, visible = seen[-1]
    assert visible  # the dialog was on screen while the upgrade ran
    assert steps[0] == "upgrading from schema 0001 to " + steps[0].rsplit(" ", 1)[1]
    assert [s for s in steps if s.startswith("migration ")] == migrations_after("0001")
    assert "recording the existing records in the audit trail" in steps  # the baseline
    window.close()
    board.close()


def test_an_open_without_an_upgrade_shows_no_upgrade(qtbot: QtBot, db_path: Path) -> None:
    from crlmboard import app

    with Board.open(db_path):
        pass
    from crlmboard.ui.dialogs import upgrade

    progress = upgrade.UpgradeProgress()
    with Board.open(db_path, create=False, progress=progress):
        pass
    assert progress.steps == [] and progress.dialog is None
    assert app is not None
