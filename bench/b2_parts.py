"""B2's keystrokes one by one, each split into its parts (issue 21, B2, branch perf-b2d).

    python -m bench.b2_parts --db PATH [--open MRN] [--rounds N]

opens the database in a window as `bench.probe ui-ops` does (1280 × 720, offscreen), opens
the case MRN when given (the bench opens heavy cases before B2), then types B2's 50
keystrokes (`bench.probe.KEYS`) as the probe types them — the debounce fired at once, the
keystroke ended at the paint of the list after its last change, the background given the
debounce's 120 ms before the next key — N times.  Per keystroke it records the rows
matched and shown, wall and process CPU time, the main thread's CPU, and the parts: the
worker's reads (`cases.list_count`, `cases.page`: thread CPU), the model's reset
(`CaseListModel._reloaded`) and the list's paints (`CaseTable.paintEvent`: thread CPU, and
how many).  Wrapped here at run time, not in the product.  Prints a JSON list on its last
line of stdout."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from typing import Any


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.b2_parts")
    parser.add_argument("--db", required=True)
    parser.add_argument("--open", default="")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--today", default="2026-11-24")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QThread
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    import crlmboard.ui  # noqa: F401  (the domain before Qt)
    from bench.probe import KEYS, list_painted, type_key
    from crlmboard.services import Board
    from crlmboard.ui import main_window
    from crlmboard.ui.models import case_list

    app = QApplication.instance() or QApplication(sys.argv[:1])
    parts: dict[str, float] = {}

    def add(key: str, value: float) -> None:
        parts[key] = parts.get(key, 0.0) + value

    reloaded = case_list.CaseListModel._reloaded

    def timed_reloaded(self: Any, *rest: Any) -> None:
        cpu = time.thread_time()
        reloaded(self, *rest)
        add("model_cpu", time.thread_time() - cpu)

    paint = main_window.CaseTable.paintEvent

    def timed_paint(self: Any, event: Any) -> None:
        cpu = time.thread_time()
        paint(self, event)
        add("paint_cpu", time.thread_time() - cpu)
        add("paints", 1)

    case_list.CaseListModel._reloaded = timed_reloaded  # type: ignore[method-assign]
    main_window.CaseTable.paintEvent = timed_paint  # type: ignore[method-assign]

    day = date.fromisoformat(args.today)
    board = Board.open(args.db, clock=lambda: day)
    for name in ("list_count", "page"):
        read = getattr(board.cases, name)

        def timed(*a: Any, _read: Any = read, _name: str = name, **k: Any) -> Any:
            cpu = time.thread_time()
            try:
                return _read(*a, **k)
            finally:
                add(f"{_name}_cpu", time.thread_time() - cpu)

        setattr(board.cases, name, timed)
    window = main_window.MainWindow(board)
    door, table, model = window.door, window.table, window.model

    def settle(limit: float = 30) -> None:
        until = time.perf_counter() + limit
        app.processEvents()
        while (door.waiting or door.pending) and time.perf_counter() < until:
            QThread.usleep(500)
            app.processEvents()

    window.resize(1280, 720)
    window.show()
    QTest.qWaitForWindowExposed(window, 5000)
    settle()
    if args.open:
        window.open_case(args.open)
        settle()
    edit, timer = window.filter_edit, window._filter_timer
    edit.setFocus()

    painted = list_painted(app, door, table, model)  # as bench.probe waits

    out: list[dict[str, Any]] = []
    for _round in range(args.rounds):
        for number, key in enumerate(KEYS):
            parts.clear()
            started, cpu, main_cpu = time.perf_counter(), time.process_time(), time.thread_time()
            type_key(edit, timer, key)
            painted()
            wall = time.perf_counter() - started
            record: dict[str, Any] = {
                "key": number,
                "query": edit.text(),
                "matches": model.total,
                "exact": model.exact,
                "shown": len(range(max(table.rowAt(0), 0), _last_shown(table, model) + 1)),
                "wall_ms": wall * 1000,
                "cpu_ms": (time.process_time() - cpu) * 1000,
                "main_cpu_ms": (time.thread_time() - main_cpu) * 1000,
            }
            record.update(
                {k: v if k == "paints" else v * 1000 for k, v in parts.items()}
            )  # the parts' CPU in ms
            out.append(record)
            while door.pending and time.perf_counter() - started < timer.interval() / 1000:
                QThread.usleep(500)
                app.processEvents()
    print(json.dumps(out), flush=True)
    os._exit(0)  # PySide6 can crash while tearing down (see bench.probe)


def _last_shown(table: Any, model: Any) -> int:
    bottom = table.rowAt(table.viewport().height() - 1)
    return model.rowCount() - 1 if bottom < 0 else bottom


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
