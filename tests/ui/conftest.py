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
