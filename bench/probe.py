"""What the benchmark suite measures inside a fresh process: start-up, memory, and the case
list and case workspace driven as a person drives them (Qt offscreen).

    python -m bench.probe KIND [--db PATH] [options]

Prints one JSON object on its last line of stdout.  Kept free of heavy imports at module
level, so a start-up measurement pays only for what the program under test imports.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from typing import Any


def _peak_rss_mb() -> float:
    """This program's peak resident memory.  VmHWM (Linux) belongs to the process image:
    `ru_maxrss` would also count the parent's memory at fork time."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, else KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def _done(result: dict[str, Any]) -> None:
    """Print the result and leave at once: PySide6 can crash while the interpreter tears
    down its objects, after the measurement (a known shutdown bug)."""
    print(json.dumps(result), flush=True)
    sys.stderr.flush()
    os._exit(0)


def _wait_shown(app: Any, window: Any) -> None:
    """Until the window is exposed and its first frame painted."""
    from PySide6.QtTest import QTest

    QTest.qWaitForWindowExposed(window, 5000)
    app.processEvents()


# -- B1: start-up ---------------------------------------------------------------------------


def bare_start() -> None:
    """The baseline: a bare PySide6 script that shows an empty QMainWindow."""
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.resize(1280, 720)
    window.show()
    _wait_shown(app, window)
    _done({"shown_ns": time.monotonic_ns(), "peak_rss_mb": _peak_rss_mb()})


def app_start(db: str) -> None:
    """The app as `crlmboard --db PATH` starts it (crlmboard.app.run_app, up to exec): the
    figure is the first paint of the case list with its rows (the window is shown with the
    list's first page before the data layer loads, ui/first_paint.py); the time until the
    window is complete (database open, pages built) is given beside it."""
    import crlmboard.cli  # noqa: F401  (the command line is the entry point)
    from crlmboard.app import application, start_window
    from crlmboard.services.log import setup_logging

    setup_logging()
    _app: Any = application()  # kept: the QApplication lives while this holds it
    from PySide6.QtTest import QTest

    painted: list[int] = []

    def first_paint() -> None:
        if not painted and window.model.rowCount():
            painted.append(time.monotonic_ns())

    window: Any = start_window(db)
    assert window is not None, "the database did not open"
    # start_window returns with the window shown and no event handled since: nothing is
    # painted yet.  The spy is told after each paint of the list (the table's own hook, as
    # the app's start uses it): an application-wide Python event filter would run for every
    # event of the window's construction (about 40 ms of CPU at start, which the bare
    # baseline does not pay), and an event filter on the list's viewport would make its
    # first Python wrapper (PySide6 then tries every widget class for its type)
    window.table.after_paint.append(first_paint)
    while not painted:
        QTest.qWait(1)  # (not processEvents in a loop: see tests/ui/test_first_paint.py)
    shown = painted[0]
    window.table.after_paint.remove(first_paint)
    while not getattr(window, "completed", True) or window.door.waiting:
        QTest.qWait(5)
    completed = time.monotonic_ns()
    rows = window.model.rowCount()
    total = window.model.total
    window.close()  # the database closed on the worker
    _done(
        {
            "shown_ns": shown,
            "completed_ns": completed,
            "rows": rows,
            "total": total,
            "peak_rss_mb": _peak_rss_mb(),
        }
    )


# -- B8: memory -----------------------------------------------------------------------------


def _rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def bare_memory() -> None:
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.resize(1280, 720)
    window.show()
    _wait_shown(app, window)
    _done({"peak_rss_mb": _peak_rss_mb()})


# -- B2 and B3: the case list and the workspace ---------------------------------------------

# Keystrokes a coordinator types (50): names, a partial MRN, Cyrillic, corrections.
KEYS: list[str] = [
    *"tanaka",
    *["\b"] * 6,  # 12
    *"bench-00421",
    *["\b"] * 11,  # 22
    *"ivan",
    " ",
    *"тес",
    *["\b"] * 8,  # 16
]
assert len(KEYS) == 50


def type_key(edit: Any, timer: Any, key: str) -> None:
    """One of `KEYS` typed into the filter, its debounce fired at once."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    if key == "\b":
        QTest.keyClick(edit, Qt.Key.Key_Backspace)
    elif key.isascii():
        QTest.keyClicks(edit, key)
    else:  # QTest maps ASCII only: a key event carrying the character's text
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(edit, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, key))
    if timer.isActive():
        timer.stop()
        timer.timeout.emit()


def list_painted(app: Any, door: Any, table: Any, model: Any) -> Callable[[], None]:
    """A wait: until the door has answered every call a person waits for and the list has
    been painted after its model's last change on screen (at most 2 s)."""
    from PySide6.QtCore import QEvent, QObject, QThread

    class PaintWatch(QObject):
        """Counts the list's paints."""

        paints = 0

        def eventFilter(self, watched: Any, event: Any) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.paints += 1
            return False

    watch = PaintWatch(table)  # the closures below hold it
    table.viewport().installEventFilter(watch)
    changed: list[int] = [0]  # paints seen when the model last changed

    def on_change(*_args: Any) -> None:
        changed[0] = watch.paints + 1  # a paint after this one

    def on_rows(first: int, last: int) -> None:
        """Rows changed or came: a change of the list shown when they are on screen."""
        top, bottom = table.rowAt(0), table.rowAt(table.viewport().height() - 1)
        if top >= 0 and first <= (model.rowCount() - 1 if bottom < 0 else bottom) and last >= top:
            on_change()

    model.modelReset.connect(on_change)
    model.dataChanged.connect(lambda first, last, *_: on_rows(first.row(), last.row()))
    model.rowsInserted.connect(lambda _parent, first, last: on_rows(first, last))

    def painted() -> None:
        until = time.perf_counter() + 2
        app.processEvents()
        while door.waiting:
            QThread.usleep(200)
            app.processEvents()
        while (door.waiting or watch.paints < changed[0]) and time.perf_counter() < until:
            if door.waiting:
                QThread.usleep(200)
            app.processEvents()

    return painted


def ui_ops(db: str, mrns: list[str], opens: int, today: str, limit: float) -> None:
    """One window, opened once (opening a large database is slow): B8 (scroll the case
    list from the first row to the last — or for `limit` seconds — and take the peak memory
    so far), then B3 (open heavy cases) with its raw-sqlite3 baseline, then B2 (filter
    keystrokes)."""
    from datetime import date

    from PySide6.QtCore import QModelIndex
    from PySide6.QtWidgets import QApplication

    import crlmboard.ui  # noqa: F401  (the domain before Qt)
    from crlmboard.services import Board
    from crlmboard.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    day = date.fromisoformat(today)
    started = time.perf_counter()
    board = Board.open(db, clock=lambda: day)
    opened = time.perf_counter()
    window = MainWindow(board)
    door = window.door  # every call runs on its worker thread: wait for the answers
    from PySide6.QtCore import QThread

    def settle() -> None:
        """Process events until the door has answered every call asked of it (the
        background recompute of the list's summaries aside)."""
        from PySide6.QtCore import QThread

        app.processEvents()
        while door.waiting:
            QThread.usleep(200)
            app.processEvents()

    window.resize(1280, 720)
    window.show()
    _wait_shown(app, window)
    settle()
    shown = time.perf_counter()
    memory: dict[str, Any] = {
        "open_seconds": round(opened - started, 2),
        "window_seconds": round(shown - opened, 2),
        "rss_shown_mb": _rss_mb(),
    }

    # B8: the case list scrolled end to end.  The case list model is a window on the list:
    # it reads a row's page when the view first shows one of its rows and keeps a few pages.
    # The scroll bar goes down one page of rows at a time to the last row, so every page is
    # read (once) as a person scrolling through the whole list would have it read; a model
    # that fetches more rows at the bottom instead (canFetchMore) is driven to its end.
    table, model = window.table, window.model
    bar = table.verticalScrollBar()
    step = getattr(sys.modules.get("crlmboard.ui.models.case_list"), "PAGE_SIZE", 200)
    if table.verticalScrollMode() == table.ScrollMode.ScrollPerPixel:
        step *= max(1, table.verticalHeader().defaultSectionSize())
    started, pages = time.perf_counter(), 0
    while time.perf_counter() - started <= limit:
        if model.canFetchMore(QModelIndex()):
            bar.setValue(bar.maximum())
        elif bar.value() < bar.maximum():
            bar.setValue(min(bar.value() + step, bar.maximum()))
        else:
            break
        settle()
        pages += 1
    table.scrollToBottom()
    settle()
    last = table.rowAt(table.viewport().height() - 1)
    memory.update(
        peak_rss_mb=_peak_rss_mb(),
        rows=model.rowCount(),
        total=model.total,
        reached_end=model.rowCount() >= model.total
        and bar.value() == bar.maximum()
        and (last < 0 or last == model.rowCount() - 1),
        pages=pages,
        pages_read=getattr(model, "pages_read", None),
        scroll_seconds=round(time.perf_counter() - started, 2),
    )
    table.scrollToTop()
    model.set_query("")  # back to the first page
    settle()

    # The list's summaries are recomputed in the background once a day (per engine and
    # profile): B3 opens cases after that pass (noted, up to `limit` seconds), not while it
    # shares the worker and the interpreter with the opens.
    started = time.perf_counter()
    while door.pending and time.perf_counter() - started <= limit:
        QThread.usleep(2000)
        app.processEvents()
    memory["summaries_waited_seconds"] = round(time.perf_counter() - started, 2)
    memory["summaries_pending"] = door.pending

    # B3: open a heavy case: load + evaluate + the tab in view filled, then painted (the
    # events that settle() processes include the paint).  The other tabs are filled when
    # shown (each tab's code is warmed up first, as a user who has looked at each tab).
    window.open_case(mrns[-1])  # warm-up: first use of each tab's code
    settle()
    workspace = window.workspace
    ensure_filled = getattr(workspace, "ensure_filled", None)
    if ensure_filled is not None:
        ensure_filled()
    workspace.setCurrentIndex(0)
    settle()
    # each also in CPU time (the process's, both threads): on a machine shared with other
    # work the wall clock counts the time this process waits for a core
    open_times, open_cpu = [], []
    for k in range(opens):
        mrn = mrns[k % len(mrns)]
        started, cpu = time.perf_counter(), time.process_time()
        window.open_case(mrn)
        settle()
        open_times.append(time.perf_counter() - started)
        open_cpu.append(time.process_time() - cpu)
        assert window.workspace.case is not None and window.workspace.case.mrn == mrn
    raw_times, raw_cpu = [], []
    for k in range(opens):
        cpu = time.process_time()
        raw_times.append(raw_load(db, mrns[k % len(mrns)]))
        raw_cpu.append(time.process_time() - cpu)
    # B3's ratio: the case read and evaluated as an open does (the door's work, without the
    # tabs), every evaluation made afresh (a case's first open at a version: the figure B3
    # is judged on); beside it the same with the evaluation remembered per stored case and
    # save, as later opens of a case find it.
    from crlmboard.ui import ops

    def door_work(mrn: str) -> None:
        stamped = getattr(board.cases, "get_stamped", None)
        if stamped is None:  # before the evaluation was remembered
            case, _version = board.cases.get_with_version(mrn)
            ops._evaluated(board, case), ops._engine_notes(board, case)
            return
        case, stamp = stamped(mrn)
        board.evaluation.remembered(
            stamp, lambda: (ops._evaluated(board, case), engine_notes(board, case, stamp))
        )

    load_times, fresh_times, load_cpu, fresh_cpu = [], [], [], []
    for k in range(opens):
        started, cpu = time.perf_counter(), time.process_time()
        door_work(mrns[k % len(mrns)])
        load_times.append(time.perf_counter() - started)
        load_cpu.append(time.process_time() - cpu)
    for k in range(opens):
        started, cpu = time.perf_counter(), time.process_time()
        case, stamp = read_for_open(board, mrns[k % len(mrns)])
        ops._evaluated(board, case), engine_notes(board, case, stamp)
        fresh_times.append(time.perf_counter() - started)
        fresh_cpu.append(time.process_time() - cpu)

    # B2: one keystroke to the list updated.  The filter waits 120 ms after the last key
    # (a debounce timer) before querying; that idle wait is skipped here by firing the
    # timer at once, so the figure is the work a keystroke causes: until the rows on screen
    # are the new filter's — every call a person waits for answered, and the list painted
    # after its last change (the view lays out and paints a reset on a later turn of the
    # event loop than the one that delivers it: `painted()` waits for that paint).  Work
    # the list does in the background after that (the exact count of a broad filter, the
    # rest of the first page past the screen's rows) is not in the figure; it is given the
    # time the debounce gives it between two queries (the next query starts no sooner than
    # `interval` after this one) before the next key, as a person typing gives it.
    edit, timer = window.filter_edit, window._filter_timer
    edit.setFocus()
    key_times, key_cpu = [], []
    counts = []
    screens_short = 0  # keystrokes after which a row on screen was not read yet

    size = getattr(sys.modules.get("crlmboard.ui.models.case_list"), "PAGE_SIZE", 200)

    def screen_held() -> bool:
        """Every row on screen read (looked up in the pages the model holds: asking the
        model for a row not held would read it)."""
        top, bottom = table.rowAt(0), table.rowAt(table.viewport().height() - 1)
        if top < 0:
            return True  # no row shown
        bottom = model.rowCount() - 1 if bottom < 0 else bottom
        pages = model._pages
        return all(
            row // size in pages and row % size < len(pages[row // size].entries)
            for row in range(top, bottom + 1)
        )

    painted = list_painted(app, door, table, model)

    for key in KEYS:
        started, cpu = time.perf_counter(), time.process_time()
        type_key(edit, timer, key)
        painted()
        key_times.append(time.perf_counter() - started)
        key_cpu.append(time.process_time() - cpu)
        counts.append(window.model.total)
        screens_short += not screen_held()
        while door.pending and time.perf_counter() - started < timer.interval() / 1000:
            QThread.usleep(500)
            app.processEvents()
    window.close()  # the database closed on the worker
    _done(
        {
            "case_open_seconds": open_times,
            "raw_seconds": raw_times,
            "load_evaluate_seconds": load_times,
            "load_evaluate_fresh_seconds": fresh_times,
            "cpu_seconds": {
                "case_open": open_cpu,
                "raw": raw_cpu,
                "load_evaluate": load_cpu,
                "load_evaluate_fresh": fresh_cpu,
                "key": key_cpu,
            },
            "key_seconds": key_times,
            "key_totals": counts,
            "key_screens_short": screens_short,
            "debounce_ms": timer.interval(),
            "memory": memory,
        }
    )


@functools.cache
def _notes_stored() -> bool:
    """Whether the app reads the older engines' comparison as stored (perf-b3cmp on)."""
    import inspect

    from crlmboard.ui import ops

    return "stamp" in inspect.signature(ops._engine_notes).parameters


def read_for_open(board: Any, mrn: str) -> tuple[Any, Any]:
    """The case as an open reads it, with its stamp where the app has one."""
    stamped = getattr(board.cases, "get_stamped", board.cases.get_with_version)
    return stamped(mrn)  # type: ignore[no-any-return]


def stamp_of(board: Any, mrn: str) -> Any:
    return read_for_open(board, mrn)[1]


def engine_notes(board: Any, case: Any, stamp: Any) -> list[str]:
    """The notes on reviews signed with older engines as the window's door makes them for
    an open (crlmboard/ui/ops.py `open_case`): since branch perf-b3cmp the comparison
    stored with the case for this save, engine and profile, made afresh when none is —
    and then stored as the door stores it after such an open (`keep_engine_notes`, a
    background step), so a later first open at the same save reads it, as in the app.
    Before that branch: made afresh at every open."""
    from crlmboard.ui import ops

    if not _notes_stored():
        return ops._engine_notes(board, case)  # type: ignore[no-any-return]
    missing: list[Any] = []
    notes: list[str] = ops._engine_notes(board, case, stamp, missing)
    if missing and not board.read_only:
        board.cases.keep_engine_changes(case.mrn, missing[0])
    return notes


def raw_load(db: str, mrn: str) -> float:
    """B3's baseline: every row of one case with plain sqlite3 queries (a connection made
    once per database and kept, as the app keeps its pool)."""
    import sqlite3

    connection = _RAW.get(db)
    if connection is None:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if any(c[1] == "case_id" for c in connection.execute(f"PRAGMA table_info({name})"))
            and name not in ("audit_event", "agenda_item")
        ]
        _RAW[db] = connection
        _RAW_TABLES[db] = tables
    tables = _RAW_TABLES[db]
    started = time.perf_counter()
    case_id = connection.execute("SELECT id FROM patient WHERE mrn = ?", (mrn,)).fetchone()[0]
    connection.execute("SELECT * FROM patient WHERE id = ?", (case_id,)).fetchall()
    for name in tables:
        connection.execute(f"SELECT * FROM {name} WHERE case_id = ?", (case_id,)).fetchall()
    connection.execute(
        "SELECT l.* FROM lesion_measurement l JOIN imaging_timepoint t ON l.timepoint_id = t.id "
        "WHERE t.case_id = ? ORDER BY t.position, l.position",
        (case_id,),
    ).fetchall()
    return time.perf_counter() - started


_RAW: dict[str, Any] = {}
_RAW_TABLES: dict[str, list[str]] = {}


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.probe")
    parser.add_argument("kind", choices=["bare-start", "app-start", "bare-memory", "ui-ops"])
    parser.add_argument("--db")
    parser.add_argument("--mrns", default="")
    parser.add_argument("--opens", type=int, default=20)
    parser.add_argument("--today", default="2026-11-24")
    parser.add_argument(
        "--limit", type=float, default=600.0, help="ui-ops: seconds of scrolling at most"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.kind == "bare-start":
        bare_start()
    elif args.kind == "app-start":
        app_start(args.db)
    elif args.kind == "bare-memory":
        bare_memory()
    else:
        ui_ops(args.db, args.mrns.split(","), args.opens, args.today, args.limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
