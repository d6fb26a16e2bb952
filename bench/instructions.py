"""B1 and B10 by instructions executed (`valgrind --tool=callgrind`), with the programs that
show what any list of the same rows and any validation of the same file cost.

    python -m bench.instructions B1 --db COHORT.sqlite3
    python -m bench.instructions B10

Each program is a whole process, run once to write its bytecode and once under callgrind;
the figure is callgrind's `Collected` total (repeatable to about ±1 % on a loaded machine,
where wall-clock figures are not).  Needs valgrind.  The B1 programs stop at the case
list's first paint: they read the database read-only and never open it for writing.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import cache

# B1: up to the first paint of the case list with its rows, as `crlmboard --db` starts
APP_FIRST_PAINT = """
import os, sys
import crlmboard.cli  # noqa
from crlmboard.app import application, start_window
from crlmboard.services.log import setup_logging
import crlmboard.ui.first_paint as first_paint
first_paint.OPEN_AFTER_MS = 10**7  # valgrind is slow: the database opens after the paint
setup_logging()
app = application()
from PySide6.QtTest import QTest
window = start_window(sys.argv[1])
# told after each paint of the list (the app's own first-paint hook; an event filter on the
# viewport would make its first Python wrapper, which the bare window never pays); the
# process ends there, so what the app does right after its first paint is not counted
window.table.after_paint.append(lambda: window.model.rowCount() and os._exit(0))
while True:
    QTest.qWait(1)
"""

BARE_WINDOW = """
import os, sys
from PySide6.QtWidgets import QApplication, QMainWindow
from PySide6.QtTest import QTest
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1280, 720)
window.show()
QTest.qWaitForWindowExposed(window, 5000)
app.processEvents()
os._exit(0)
"""

# the bare window with a QTableView of the same first page (same read-only query)
TABLE_OF_THE_FIRST_PAGE = """
import os, sys
from datetime import date
from pathlib import Path
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView
from PySide6.QtTest import QTest
app = QApplication(sys.argv[:1])
from crlmboard.store.first_page import read_first_page
page = read_first_page(Path(sys.argv[1]), date.today(), 200)
rows = [(e.mrn, f"{(e.family_name or '').upper()}, {e.given_name or ''}",
         str(e.birth_date or ''), str(e.next_meeting or ''), e.resectability or '',
         e.current_response or '', str(e.open_warnings or '')) for e in page.entries]
HEAD = ["MRN", "Name", "Age", "Next meeting", "Resectability", "Response", "Open findings"]
kind = sys.argv[2]
if kind.endswith("+fonts"):
    from crlmboard.ui.fonts import load_bundled_fonts
    load_bundled_fonts()
if kind.startswith("python-model"):
    from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
    class Model(QAbstractTableModel):
        def rowCount(self, parent=QModelIndex()):
            return 0 if parent.isValid() else len(rows)
        def columnCount(self, parent=QModelIndex()):
            return 0 if parent.isValid() else 7
        def headerData(self, section, orientation, role=0):
            if role == 0 and orientation == Qt.Orientation.Horizontal:
                return HEAD[section]
            return None
        def data(self, index, role=0):
            return rows[index.row()][index.column()] if role == 0 else None
    model = Model()
else:
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    model = QStandardItemModel(len(rows), 7)
    model.setHorizontalHeaderLabels(HEAD)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            model.setItem(r, c, QStandardItem(text))
window = QMainWindow()
view = QTableView()
view.setModel(model)
window.setCentralWidget(view)
window.resize(1280, 720)
window.show()
QTest.qWaitForWindowExposed(window, 5000)
app.processEvents()
os._exit(0)
"""

# B10: the baseline, then the same file through more and more of the command's work
PYDANTIC_JSON = (
    "import json, sys; from pydantic import BaseModel; "
    "json.loads(open(sys.argv[1], encoding='utf-8').read())"
)
VALIDATE = (
    "import sys; from datetime import date\n"
    "from crlmboard.domain.caseformat import loads_case\n"
    "loads_case(open(sys.argv[1], encoding='utf-8').read(), date.today())\n"
)
VALIDATE_EVALUATE = (
    VALIDATE.replace("loads_case(", "case = loads_case(")
    + "from crlmboard.services.evaluation import default_profile\n"
    "from crlmboard.domain.engine import evaluate, evaluation_to_json\n"
    "evaluation_to_json(evaluate(case, date(2026, 11, 24), default_profile()))\n"
)


def instructions(args: list[str], home: Path) -> int:
    """Instructions executed by `python ARGS` (all threads), after one run that writes
    the bytecode."""
    env = cache.isolated_env(home)
    command = [sys.executable, *args]
    subprocess.run(command, env=env, capture_output=True, check=True, cwd=cache.ROOT.parent)
    out = home / "callgrind.out"
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *command],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=cache.ROOT.parent,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(done.stderr[-2000:])
    return int(found.group(1))


def programs(which: str, db: str | None, heavy: Path) -> list[tuple[str, list[str]]]:
    if which == "B1":
        assert db, "B1 needs --db (a cohort's database: read, never written)"
        return [
            ("bare QMainWindow (B1's baseline)", ["-c", BARE_WINDOW]),
            ("+ QTableView, QStandardItemModel", ["-c", TABLE_OF_THE_FIRST_PAGE, db, "items"]),
            ("+ QTableView, Python model", ["-c", TABLE_OF_THE_FIRST_PAGE, db, "python-model"]),
            (
                "+ QTableView, Python model, bundled fonts",
                ["-c", TABLE_OF_THE_FIRST_PAGE, db, "python-model+fonts"],
            ),
            ("the app, to the list's first paint (B1)", ["-c", APP_FIRST_PAINT, db]),
        ]
    file = str(heavy)
    return [
        ("python -c pass", ["-c", "pass"]),
        ("pydantic + json.loads (B10's baseline)", ["-c", PYDANTIC_JSON, file]),
        ("pydantic + every case model", ["-c", "import crlmboard.domain.case"]),
        ("+ loads_case(file)", ["-c", VALIDATE, file]),
        ("+ the engine, profile, evaluate, JSON", ["-c", VALIDATE_EVALUATE, file]),
        (
            "crlmboard evaluate (B10)",
            ["-m", "crlmboard", "evaluate", file, "--as-of", "2026-11-24"],
        ),
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions")
    parser.add_argument("which", choices=["B1", "B10"])
    parser.add_argument("--db", help="B1: the cohort's database (10,000 patients)")
    args = parser.parse_args(argv)
    from bench import cohort

    with tempfile.TemporaryDirectory(prefix="instructions-") as folder:
        home = Path(folder)
        heavy = home / "heavy.json"
        heavy.write_text(cohort.case_text(0, 1, heavy=True), "utf-8")
        baseline = 0
        for label, program in programs(args.which, args.db, heavy):
            count = instructions(program, home)
            if "baseline" in label:
                baseline = count
            ratio = f"{count / baseline:5.2f} ×" if baseline else ""
            print(f"{count / 1e6:8,.0f} M  {ratio:>7}  {label}", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    raise SystemExit(main(sys.argv[1:]))
