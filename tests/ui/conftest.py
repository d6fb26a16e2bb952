"""UI tests run offscreen with one shared QApplication (pytest-qt).

The door (crlmboard/ui/ops.py) runs each call at once on the calling thread in these tests
(`ops.SYNCHRONOUS`), so a test reads the result on the next line; tests that need the real
database worker thread ask for the `threaded` fixture and wait with qtbot."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _synchronous_door(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from crlmboard.ui import ops

    monkeypatch.setattr(ops, "SYNCHRONOUS", True)
    yield


@pytest.fixture
def threaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The door with its real worker thread, as in the app."""
    from crlmboard.ui import ops

    monkeypatch.setattr(ops, "SYNCHRONOUS", False)


@pytest.fixture
def dark_palette() -> Iterator[None]:
    """The application in the dark palette `crlmboard screenshots` pictures (as on a dark
    desktop), the light one again afterwards."""
    from PySide6.QtWidgets import QApplication

    from crlmboard.ui.screenshots import dark_palette as palette

    before = QApplication.palette()
    QApplication.setPalette(palette())
    yield
    QApplication.setPalette(before)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """A test that stopped with changes not saved in a window (a failed assertion) ends
    without the Save / Discard / Cancel question: pytest-qt closes the windows next, and
    the question would wait for an answer that never comes."""
    from PySide6.QtWidgets import QApplication

    from crlmboard.ui.main_window import MainWindow

    app = QApplication.instance()
    for widget in QApplication.topLevelWidgets() if app is not None else []:
        if isinstance(widget, MainWindow):
            workspace = getattr(widget, "workspace", None)  # a window still opening has none
            for tab in workspace.unsaved_tabs() if workspace is not None else []:
                tab.revert()
    yield
