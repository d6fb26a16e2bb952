"""The app's start (performance.md B1, reliability.md): the main window and the case list's
first page are shown before the data layer loads; SQLAlchemy, pydantic, Alembic, reportlab
and the engine load on the door's worker after the first paint; `quick_check` and the
open-time backup run in the background, and an edit made meanwhile waits for them and then
succeeds.  Real SQLite files, real widgets, a fresh process for the imports; counts and
order, never the clock."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from tests.conftest import GOLDEN
from tests.ui import test_case_list_count as count_tests


def fresh_app(script: str, tmp_path: Path, *, own_log_folder: bool = False) -> str:
    """The last line a fresh interpreter running `script` printed, offscreen, with this
    run's XDG_*/CRLMBOARD_* variables, HOME in `tmp_path` and a bare PATH (with
    `own_log_folder`, no CRLMBOARD_LOG_DIR: the log goes where a person's does)."""
    env = {
        **{k: v for k, v in os.environ.items() if k.startswith(("XDG_", "CRLMBOARD_"))},
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "QT_QPA_PLATFORM": "offscreen",
    }
    if own_log_folder:
        env.pop("CRLMBOARD_LOG_DIR", None)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


pytestmark = [pytest.mark.ui, pytest.mark.db]

wide_file = count_tests.wide_file  # the 1,500 cases of the count's tests (shared)

WAIT = 60_000  # ms: the waits end on a condition, never on time
GATE = 300  # s: a held step waits for the test at most this long (a safety net)
NOT_BEFORE_THE_FIRST_PAINT = (
    "sqlalchemy",
    "sqlmodel",
    "pydantic",
    "pydantic_core",
    "alembic",
    "reportlab",
    "crlmboard.domain.engine",
    "crlmboard.domain",
    "crlmboard.store.repositories",
    "crlmboard.services.board",
)


@pytest.fixture
def cases_file(db_path: Path) -> Path:
    """A real database file with the golden cases, closed (as the app finds it)."""
    with Board.open(db_path) as board:
        board.cases.import_path(GOLDEN)
    return db_path


def _names(db_path: Path) -> list[str]:
    """The list's MRNs sorted as the list sorts them, read the normal way."""
    with Board.open(db_path, create=False) as board:
        return [entry.mrn for entry in board.cases.page("")]


@pytest.fixture
def list_order(cases_file: Path) -> list[str]:
    """The list's MRNs in order, read the normal way before the test starts the app."""
    return _names(cases_file)


def test_the_first_paint_loads_no_data_layer(cases_file: Path, tmp_path: Path) -> None:
    """A fresh `crlmboard` process: the modules loaded when the case list is first painted
    with its rows exclude the data layer; they load afterwards (same process)."""
    script = f"""
import json, os, sys
from crlmboard.app import application, start_window
from crlmboard.services.log import setup_logging
setup_logging()
app = application()
from PySide6.QtCore import QEvent, QObject
from PySide6.QtTest import QTest
seen = []
class Spy(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and not seen:
            window = watched.window()
            model = getattr(window, "model", None)
            if model is not None and model.rowCount():
                seen.append(sorted(sys.modules))
                seen.append([model.data(model.index(r, 0)) for r in range(model.rowCount())])
        return False
spy = Spy()
app.installEventFilter(spy)
window = start_window({str(cases_file)!r})
while not seen:
    QTest.qWait(1)
app.removeEventFilter(spy)
while not window.completed:
    QTest.qWait(5)
after = sorted(sys.modules)
print(json.dumps({{"at_paint": seen[0], "rows": seen[1], "after": after}}), flush=True)
os._exit(0)
"""
    found = json.loads(fresh_app(script, tmp_path))

    def loaded(modules: list[str]) -> set[str]:
        return {
            heavy
            for heavy in NOT_BEFORE_THE_FIRST_PAINT
            for m in modules
            if m == heavy or m.startswith(heavy + ".")
        }

    assert loaded(found["at_paint"]) == set()
    assert found["rows"] == _names(cases_file)  # the first page, in the list's order
    # …and the data layer did load afterwards, behind the painted window
    assert {"sqlalchemy", "pydantic", "crlmboard.domain.engine"} <= loaded(found["after"])


# what the first paint needs is Qt, the list's first page (`sqlite3`) and the window: the
# log file, the per-user folders, the packaged resources, JSON and the views that are not
# on screen load after it (performance.md B1: "nothing else imported at start-up")
NOT_BEFORE_THE_FIRST_PAINT_EITHER = (
    *NOT_BEFORE_THE_FIRST_PAINT,
    "logging.handlers",
    "platformdirs",
    "importlib.resources",
    "json",
    "crlmboard.ui.workspace",
    "crlmboard.ui.views",
    "crlmboard.ui.controllers",
    "crlmboard.ui.dialogs",
    "crlmboard.report",
    "crlmboard.interop",
    "crlmboard.store.database",
    "crlmboard.store.backup",
)


def test_the_command_line_start_imports_only_what_the_first_paint_needs(
    cases_file: Path, tmp_path: Path
) -> None:
    """`crlmboard --db FILE` in a fresh process, through the command line's own `main`: at
    the case list's first paint with its rows, `sys.modules` holds none of the modules the
    first paint does not need (the script itself imports nothing beyond Qt's core)."""
    script = f"""
import os, sys
import crlmboard.app as app_module
from PySide6.QtCore import QEvent, QObject
real_start = app_module.start_window
class Spy(QObject):
    window = None
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and self.window.model.rowCount():
            print(repr(sorted(sys.modules)), flush=True)
            os._exit(0)
        return False
spy = Spy()
def start_window(where):
    window = real_start(where)
    spy.window = window
    window.table.viewport().installEventFilter(spy)  # shown, not yet painted
    return window
app_module.start_window = start_window
from crlmboard.cli import main
sys.exit(main(["--db", {str(cases_file)!r}]))
"""
    # the per-user log folder, as a person has it
    modules = ast.literal_eval(fresh_app(script, tmp_path, own_log_folder=True))
    loaded = {
        name
        for name in NOT_BEFORE_THE_FIRST_PAINT_EITHER
        for m in modules
        if m == name or m.startswith(name + ".")
    }
    assert loaded == set()
    assert {"sqlite3", "crlmboard.ui.main_window", "crlmboard.cli"} <= set(modules)


@pytest.fixture
def gates(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Hold the worker's loading and the background quick_check until a test lets them go
    (what they run is the real thing), recording the order things happened in."""
    import crlmboard.services.database as database
    from crlmboard.ui import first_paint

    state: dict[str, Any] = {
        "load": threading.Event(),
        "check": threading.Event(),
        "checking": threading.Event(),
        "order": [],
    }
    preload, refuse = first_paint._preload_views, database.refuse_if_corrupt

    def gated_preload() -> None:
        assert state["load"].wait(GATE)
        preload()

    def gated_check(path: Path) -> None:
        state["order"].append("check started")
        state["checking"].set()
        assert state["check"].wait(GATE)
        refuse(path)
        state["order"].append("check passed")

    from PySide6.QtWidgets import QMessageBox

    state["told"] = []  # a message box would wait for a click: recorded instead
    for kind in ("critical", "warning", "information"):
        monkeypatch.setattr(
            QMessageBox, kind, lambda _p, _t, text, *_a, told=state["told"]: told.append(text)
        )
    monkeypatch.setattr(first_paint, "_preload_views", gated_preload)
    monkeypatch.setattr(database, "refuse_if_corrupt", gated_check)
    yield state
    state["load"].set()
    state["check"].set()


def test_the_window_shows_the_first_page_before_the_database_opens(
    qtbot: QtBot, threaded: None, cases_file: Path, list_order: list[str], gates: dict[str, Any]
) -> None:
    from crlmboard.ui.first_paint import show_window

    window = show_window(str(cases_file), None)
    assert window is not None
    qtbot.addWidget(window)
    with qtbot.waitExposed(window):
        pass
    # the worker is held before the data layer: the window is shown, the list filled
    assert window.isVisible() and not window.completed
    assert window.door.board is None
    model = window.model
    assert [model.data(model.index(r, 0)) for r in range(model.rowCount())] == list_order
    assert window.count_label.text() == f"{model.rowCount()} cases"
    assert "opening the database" in window.statusBar().currentMessage()
    assert not window.menuBar().actions()[0].isEnabled()  # nothing to change yet
    gates["check"].set()
    gates["load"].set()
    qtbot.waitUntil(lambda: window.completed and not window.door.checking, timeout=WAIT)
    assert window.menuBar().actions()[0].isEnabled()
    assert window.door.board is not None and window.workspace is not None
    assert gates["order"] == ["check started", "check passed"]
    assert gates["told"] == []
    window.close()


def test_a_filter_typed_while_the_database_opens_is_applied_once_it_is_open(
    qtbot: QtBot, threaded: None, cases_file: Path, list_order: list[str], gates: dict[str, Any]
) -> None:
    """The window is usable while the open runs: the list's calls asked then wait behind
    the open and are answered after it (they were held for ever)."""
    from crlmboard.ui.first_paint import show_window

    window = show_window(str(cases_file), None)
    assert window is not None
    qtbot.addWidget(window)
    with qtbot.waitExposed(window):
        pass
    qtbot.waitUntil(lambda: window.door.pending > 0, timeout=WAIT)  # the open, queued
    assert window.door.board is None
    wanted = list_order[-1]
    window.filter_edit.setText(wanted)  # typed while the worker is held in the open
    window.model.set_query(wanted)  # the filter's timer, at once
    gates["check"].set()
    gates["load"].set()
    qtbot.waitUntil(lambda: window.completed and window.door.pending == 0, timeout=WAIT)
    model = window.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=WAIT)
    assert model.data(model.index(0, 0)) == wanted
    assert window.count_label.text() == "1 case"
    assert gates["told"] == []
    window.close()


def test_an_edit_made_while_the_check_runs_waits_for_it_and_then_succeeds(
    qtbot: QtBot, threaded: None, cases_file: Path, list_order: list[str], gates: dict[str, Any]
) -> None:
    from crlmboard.ui.first_paint import show_window

    window = show_window(str(cases_file), None)
    assert window is not None
    qtbot.addWidget(window)
    gates["load"].set()
    qtbot.waitUntil(lambda: window.completed, timeout=WAIT)
    assert gates["checking"].wait(GATE)  # quick_check under way (held)
    assert window.door.checking
    assert "Checking the database" in window.statusBar().currentMessage()

    # reading goes on meanwhile: a case opens
    mrn = list_order[0]
    window.select_case(mrn)
    qtbot.waitUntil(
        lambda: window.workspace.case is not None and window.workspace.case.mrn == mrn,
        timeout=WAIT,
    )
    case, version = window.workspace.case, window.workspace.version
    edited = case.model_copy(
        update={"patient": case.patient.model_copy(update={"referring_clinician": "Dr Test"})}
    )
    saved: list[Any] = []
    window.door.save_case(
        edited,
        version,
        mrn,
        lambda result: (saved.append(result), gates["order"].append("saved")),
        lambda error: saved.append(error),
    )
    qtbot.wait(300)  # the worker has had time to write, were it not waiting
    assert saved == [] and gates["order"] == ["check started"]
    gates["check"].set()
    qtbot.waitUntil(lambda: bool(saved), timeout=WAIT)
    assert not isinstance(saved[0], BaseException), (saved[0], gates["told"])
    assert gates["order"] == ["check started", "check passed", "saved"]
    qtbot.waitUntil(lambda: not window.door.checking, timeout=WAIT)
    assert "Checking" not in window.statusBar().currentMessage()
    window.close()
    qtbot.waitUntil(lambda: window.door.pending == 0, timeout=WAIT)
    with Board.open(cases_file, create=False) as board:
        assert board.cases.get(mrn).patient.referring_clinician == "Dr Test"


def test_what_the_first_paint_cannot_read_opens_the_normal_way(tmp_path: Path) -> None:
    """PostgreSQL, a URL with options, a missing file, a file that is not plain SQLite (an
    encrypted one is random from its first byte): no first page, the normal path."""
    from datetime import date

    from crlmboard.services.first_page import first_page

    today = date(2026, 1, 1)
    scrambled = tmp_path / "encrypted.sqlite3"
    scrambled.write_bytes(os.urandom(8192))
    assert first_page("postgresql+psycopg://board@localhost/crlm", today, 200) is None
    assert first_page(f"sqlite:///{tmp_path / 'x.sqlite3'}?mode=ro", today, 200) is None
    assert first_page(str(tmp_path / "missing.sqlite3"), today, 200) is None
    assert first_page(str(scrambled), today, 200) is None


def test_an_encrypted_database_opens_the_normal_way(qtbot: QtBot, cases_file: Path) -> None:
    """SQLCipher: the standard library cannot read it, so no window is shown before the
    passphrase is asked for (app.open_with_login, the normal path)."""
    from crlmboard.services.maintenance import encrypt_database
    from crlmboard.store import encryption
    from crlmboard.ui.first_paint import show_window

    encrypt_database(cases_file, "synthetic passphrase words")
    encryption._passphrases.clear()
    try:
        assert show_window(str(cases_file), None) is None
    finally:
        encryption._passphrases.clear()


def test_the_bundled_fonts_wait_for_a_page_of_pan_european_names_only(qtbot: QtBot) -> None:
    """The first paint loads the bundled fonts first only when a name on the page is in a
    script past Latin, Greek and Cyrillic (else right after it); loading twice adds nothing."""
    from crlmboard.ui.fonts import beyond_pan_european, load_bundled_fonts

    european = ["Tanaka", "Müller", "Dvořák", "Łukasiewicz", "Γιώργος", "Иванов", None, ""]
    assert not beyond_pan_european(european)
    assert beyond_pan_european([*european, "田中"])
    assert beyond_pan_european(["أحمد"]) and beyond_pan_european(["כהן"])
    loaded = load_bundled_fonts()
    assert loaded >= 10  # every .ttf in resources/fonts
    assert load_bundled_fonts() == loaded


# -- a screen's rows first at start (issue 21, B1; as a filter's first read since perf-b2c) --


@pytest.fixture
def wide_copy(wide_file: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """A private copy of the 1,500 cases of the count's tests, and their MRNs in the list's
    order (read the normal way, before a test holds the worker back)."""
    from tests.ui.test_case_list_count import CASES

    path = tmp_path / "wide.sqlite3"
    shutil.copyfile(wide_file, path)
    with Board.open(path, create=False) as board:
        order = [entry.mrn for entry in board.cases.page("", limit=CASES)]
    return path, order


def test_the_start_reads_the_screens_rows_first_and_the_rest_of_the_page_after_the_paint(
    qtbot: QtBot,
    threaded: None,
    wide_copy: tuple[Path, list[str]],
    gates: dict[str, Any],
) -> None:
    """At start the first page's read holds the rows the list shows (not a page of 200):
    every row on screen is there at the first paint, with the exact count; the rest of the
    page follows after the paint, read-only, before the data layer has loaded."""
    from PySide6.QtCore import QEvent, QObject

    from crlmboard.ui.first_paint import show_window
    from crlmboard.ui.models.case_list import PAGE_SIZE
    from tests.ui.test_case_list_screen_first import rows_on_screen, shown

    path, order = wide_copy
    window = show_window(str(path), None)
    assert window is not None
    qtbot.addWidget(window)
    at_paint: list[tuple[list[str | None], int, int]] = []

    class Spy(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not at_paint:
                model = window.model
                screen = shown(window, rows_on_screen(window))
                at_paint.append((screen, len(model.rows), model.rowCount()))
            return False

    spy = Spy()
    window.table.viewport().installEventFilter(spy)
    qtbot.waitUntil(lambda: bool(at_paint), timeout=WAIT)
    screen, held, count = at_paint[0]
    assert len(screen) >= 10
    assert screen == order[: len(screen)]  # every row on screen is there, in order
    assert held <= len(screen) + 10 < PAGE_SIZE  # … and about no others
    assert count == len(order)  # the exact count: the scroll bar is right from the start
    # the rest of the first page comes after the paint, the data layer still held back
    qtbot.waitUntil(lambda: len(window.model.rows) == PAGE_SIZE, timeout=WAIT)
    assert window.door.board is None
    model = window.model
    assert [model.data(model.index(r, 0)) for r in range(PAGE_SIZE)] == order[:PAGE_SIZE]
    assert window.count_label.text() == "1,500 cases"
    gates["check"].set()
    gates["load"].set()
    qtbot.waitUntil(lambda: window.completed and not window.door.checking, timeout=WAIT)
    window.close()


def test_page_down_at_start_before_the_rest_came_and_ctrl_end_reach_every_row(
    qtbot: QtBot,
    threaded: None,
    wide_copy: tuple[Path, list[str]],
    gates: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rest of the first page held back (and the database not yet opened): PgDown past
    the screen's rows reads them at once, each row the right case; once the database is
    open Ctrl+End reaches the last case."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from crlmboard.ui import first_paint
    from crlmboard.ui.models import case_list
    from crlmboard.ui.models.case_list import PAGE_SIZE
    from tests.ui.test_case_list_screen_first import rows_on_screen, shown

    monkeypatch.setattr(case_list, "REST_AFTER_MS", 3_600_000)
    opens: list[Any] = []

    class Held:  # the database opens when the test says so, not after the first paint
        def __init__(self, _window: Any, then: Any) -> None:
            opens.append(then)

    monkeypatch.setattr(first_paint, "_FirstPaint", Held)
    path, order = wide_copy
    window = show_window_exposed(qtbot, path)
    model, table = window.model, window.table
    assert len(model.rows) < PAGE_SIZE  # the screen's rows only
    table.setFocus()
    table.setCurrentIndex(model.index(0, 0))
    while table.currentIndex().row() < PAGE_SIZE - 40:
        QTest.keyClick(table, Qt.Key.Key_PageDown)
        QApplication.processEvents()
        row = table.currentIndex().row()
        assert model.data(model.index(row, 0)) == order[row]
        assert None not in shown(window, rows_on_screen(window))
    assert len(model.rows) == PAGE_SIZE and window.door.board is None
    assert [model.data(model.index(r, 0)) for r in range(PAGE_SIZE)] == order[:PAGE_SIZE]
    gates["check"].set()
    gates["load"].set()
    opens[0]()
    qtbot.waitUntil(lambda: window.completed and not window.door.checking, timeout=WAIT)
    QTest.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    last = len(order) - 1
    qtbot.waitUntil(lambda: model.data(model.index(last, 0)) == order[-1], timeout=WAIT)
    assert table.currentIndex().row() == last
    window.close()


def show_window_exposed(qtbot: QtBot, path: Path) -> Any:
    from crlmboard.ui.first_paint import show_window

    window = show_window(str(path), None)
    assert window is not None
    qtbot.addWidget(window)
    with qtbot.waitExposed(window):
        pass
    return window


def test_the_first_paint_compiles_no_record_methods(cases_file: Path, tmp_path: Path) -> None:
    """A fresh `crlmboard` start compiles no method text for the app's own record types
    before the list's first paint (`dataclasses` writes and compiles six for each frozen
    dataclass; `crlmboard.frozen` and plain classes compile none); the interpreter's
    `compile` audit event, counted where a crlmboard module's class statement called
    `dataclasses` or `namedtuple` (the standard library's own, loaded by Qt's bindings for
    the bare window too, are not the app's)."""
    script = f"""
import os, sys
counted = []
def hook(event, args):
    if event != "compile":
        return
    frame, makers = sys._getframe(1), ("dataclasses.py", "collections/__init__.py", "typing.py")
    if not frame.f_code.co_filename.endswith(makers):
        return
    while frame is not None and frame.f_code.co_filename.endswith(makers):
        frame = frame.f_back  # the class statement that asked for the methods
    if frame is not None and "crlmboard" in frame.f_code.co_filename:
        counted.append(frame.f_code.co_filename)
sys.addaudithook(hook)
from crlmboard.app import application, start_window
from crlmboard.services.log import setup_logging
import crlmboard.ui.first_paint as first_paint
first_paint.OPEN_AFTER_MS = 10**7
setup_logging()
app = application()
from PySide6.QtCore import QEvent, QObject
from PySide6.QtTest import QTest
painted = []
class Spy(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and window.model.rowCount():
            painted.append(len(counted))
        return False
window = start_window({str(cases_file)!r})
spy = Spy()
window.table.viewport().installEventFilter(spy)
while not painted:
    QTest.qWait(1)
print(painted[0], flush=True)
os._exit(0)
"""
    assert int(fresh_app(script, tmp_path)) == 0


def test_the_window_asks_no_row_headers_before_its_first_paint(
    qtbot: QtBot, wide_copy: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list shows no row header: made visible when the model was set, it measured the
    headers of its first and last hundred rows (800 Python calls of `headerData`) before
    being hidden.  Counted up to the first paint of the list."""
    from PySide6.QtCore import QEvent, QObject, Qt

    from crlmboard.ui import first_paint
    from crlmboard.ui.models.case_list import CaseListModel

    asked: list[Qt.Orientation] = []
    real = CaseListModel.headerData

    def header_data(self: CaseListModel, section: int, orientation: Any, role: int = 0) -> Any:
        asked.append(orientation)
        return real(self, section, orientation, role)

    monkeypatch.setattr(CaseListModel, "headerData", header_data)
    monkeypatch.setattr(first_paint, "OPEN_AFTER_MS", 3_600_000)
    monkeypatch.setattr(first_paint, "_FirstPaint", lambda _window, _then: None)
    path, _order = wide_copy
    at_paint: list[int] = []

    class Spy(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not at_paint:
                at_paint.append(len(asked))
            return False

    window = first_paint.show_window(str(path), None)
    assert window is not None
    qtbot.addWidget(window)
    spy = Spy()
    window.table.viewport().installEventFilter(spy)
    qtbot.waitUntil(lambda: bool(at_paint), timeout=WAIT)
    before = asked[: at_paint[0]]
    # the column names come from the header's own model (and Qt.Orientation, given to a
    # Python headerData, would build the whole Qt namespace: ui/lazyqt.py)
    assert before == []
    assert window.table.verticalHeader().isHidden()
    window.close()


def _at_the_first_paint(cases_file: Path, tmp_path: Path) -> dict[str, Any]:
    """A fresh process up to the list's first paint with its rows (where the list tells its
    model it painted): the classes of QtWidgets PySide6 has built then, whether it has
    built the `Qt` namespace, and the rows."""
    script = f"""
import json, os, sys
from crlmboard.app import application, start_window
from crlmboard.services.log import setup_logging
import crlmboard.ui.first_paint as first_paint
from crlmboard.ui.models.case_list import CaseListModel
first_paint.OPEN_AFTER_MS = 10**7
setup_logging()
app = application()
from PySide6 import QtCore, QtWidgets
from PySide6.QtTest import QTest
seen = []
told = CaseListModel.painted
def painted(model):
    if not seen and model.rowCount():
        seen.append({{
            "widgets": sorted(name for name in vars(QtWidgets) if name.startswith("Q")),
            "qt_namespace": "Qt" in vars(QtCore),
            "rows": [model.data(model.index(r, 0)) for r in range(model.rowCount())],
        }})
    told(model)
CaseListModel.painted = painted
window = start_window({str(cases_file)!r})
while not seen:
    QTest.qWait(1)
print(json.dumps(seen[0]), flush=True)
os._exit(0)
"""
    found: dict[str, Any] = json.loads(fresh_app(script, tmp_path))
    return found


def test_the_first_paint_builds_no_widget_class_the_window_does_not_use(
    cases_file: Path, list_order: list[str], tmp_path: Path
) -> None:
    """PySide6 builds a binding's class (and its enums) on its first use.  A widget Qt made
    (the list's viewport) given to Python without a wrapper made PySide6 try every widget
    class of QtWidgets for its type — the calendar, the wizard, the dialogs — about 50
    classes the window never shows, built before the first paint."""
    found = _at_the_first_paint(cases_file, tmp_path)
    built = set(found["widgets"])
    assert "QTableView" in built  # the list itself
    never_shown = {
        "QCalendarWidget",
        "QWizard",
        "QLCDNumber",
        "QMdiArea",
        "QFontDialog",
        "QFileDialog",
    }
    assert not built & never_shown
    assert found["rows"] == list_order


def test_the_first_paint_builds_no_qt_namespace(
    cases_file: Path, list_order: list[str], tmp_path: Path
) -> None:
    """PySide6 builds the `Qt` namespace's 93 enums (~1,200 members) as Python enums the
    first time it is named or one of its values crosses to Python (a `Qt.Orientation`
    given to a Python `headerData`, a focus event's reason): about a tenth of the start.
    The list's first paint with its rows needs none of them (ui/lazyqt.py)."""
    found = _at_the_first_paint(cases_file, tmp_path)
    assert found["qt_namespace"] is False
    assert found["rows"] == list_order


def test_the_list_model_s_numbers_are_qt_s() -> None:
    """The case list's model answers with Qt's roles and alignment as numbers (naming them
    before the first paint would build the `Qt` namespace): they are Qt's own."""
    from PySide6.QtCore import Qt

    from crlmboard.ui.models import case_list

    assert Qt.ItemDataRole.DisplayRole == case_list.DISPLAY_ROLE
    assert Qt.ItemDataRole.TextAlignmentRole == case_list.ALIGNMENT_ROLE
    assert Qt.ItemDataRole.UserRole == case_list.MRN_ROLE
    assert Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter == case_list.ALIGN_RIGHT


def test_the_header_names_the_columns_and_sorts_the_list_after_the_first_paint(
    qtbot: QtBot, wide_copy: tuple[Path, list[str]]
) -> None:
    """At start the column header shows the names from a model of its own (C++), and the
    sort indicator and the sorting come right after the first paint: the list's Python
    `headerData` is asked nothing before it.  Then a click on a column's name sorts the
    list as before, the arrow on it; a screen reader reads the names from the list's
    model; Ctrl+F goes to the filter."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QAccessible

    from crlmboard.ui import first_paint
    from crlmboard.ui.models.case_list import COLUMNS, CaseListModel

    asked: list[int] = []
    real = CaseListModel.headerData

    def header_data(self: CaseListModel, section: int, orientation: Any, role: int = 0) -> Any:
        asked.append(section)
        return real(self, section, orientation, role)

    path, order = wide_copy
    names = [name for _key, name in COLUMNS]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CaseListModel, "headerData", header_data)
        window = first_paint.show_window(str(path), None)
        assert window is not None
        qtbot.addWidget(window)
        table, header = window.table, window.table.horizontalHeader()
        at_paint: list[tuple[int, bool]] = []
        table.after_paint.append(
            lambda: at_paint or at_paint.append((len(asked), header.isSortIndicatorShown()))
        )
        qtbot.waitUntil(lambda: bool(at_paint), timeout=WAIT)
        assert at_paint[0] == (0, False)  # nothing asked; the arrow comes after the paint
        labels = header.model()
        assert labels is not None
        assert [labels.headerData(c, Qt.Orientation.Horizontal) for c in range(7)] == names
        qtbot.waitUntil(table.isSortingEnabled, timeout=WAIT)
        assert header.sortIndicatorSection() == 1
        assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
        model = window.model
        assert [model.data(model.index(r, 0)) for r in range(25)] == order[:25]
        assert (model.sort_key, model.descending) == ("name", False)  # nothing read again
        # a screen reader: the column headers' names come from the list's model
        table_face = QAccessible.queryAccessibleInterface(table)
        assert table_face is not None
        spoken = [
            table_face.child(i).text(QAccessible.Text.Name)
            for i in range(table_face.childCount())
            if table_face.child(i).role() == QAccessible.Role.ColumnHeader
        ]
        assert spoken == names
        # once the database is open, a click on "Age" sorts the list by age
        qtbot.waitUntil(lambda: window.completed and not window.door.waiting, timeout=WAIT)
        age = header.sectionViewportPosition(2) + header.sectionSize(2) // 2
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(age, 5))
        assert (model.sort_key, header.sortIndicatorSection()) == ("age", 2)
        assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
        qtbot.waitUntil(lambda: not window.door.waiting, timeout=WAIT)
        with Board.open(path, create=False) as board:
            by_age = [e.mrn for e in board.cases.page("", sort="age", limit=25)]
        assert [model.data(model.index(r, 0)) for r in range(25)] == by_age
        # Ctrl+F: into the filter
        table.setFocus()
        qtbot.keyClick(table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(window.filter_edit.hasFocus, timeout=WAIT)
        window.close()
