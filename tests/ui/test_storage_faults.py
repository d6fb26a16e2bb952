"""Issue 23, the window's half of the storage faults (T12, T13, T15, T35): a full disk, a
read-only medium and another program's lock met from the real window on a real database
file, and the sentinel patient driven through the window without reaching the log files.

The full disk is made two ways: `PRAGMA max_page_count` (portable) and, as root, a real
small tmpfs filled to the last byte.  The read-only medium is a real tmpfs remounted
read-only (root).  The other program is a real process holding `BEGIN EXCLUSIVE` through
the `sqlite3` module; the door's real worker thread waits for it."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QLineEdit, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.forms import FieldEditor
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.readonly import TITLE_MARK
from tests.conftest import GOLDEN, TODAY, Calendar
from tests.mounts import fill_disk, remount_read_only, tmpfs
from tests.reliability.conftest import child

pytestmark = [pytest.mark.ui, pytest.mark.db]

WAIT = 120_000  # ms: generous bounds for the threaded waits; each ends on its condition


# -- helpers ------------------------------------------------------------------------------


def open_window(qtbot: QtBot, path: Path, **options: Any) -> MainWindow:
    window = MainWindow(Board.open(path, clock=Calendar(), create=False, **options))
    qtbot.addWidget(window)
    window.show()
    return window


def close(window: MainWindow) -> None:
    """Close the window without the Save / Discard / Cancel question (what a test left
    typed is dropped; the question would wait for a click)."""
    for tab in window.workspace.unsaved_tabs():
        tab.revert()
    window.close()


def fill_database(path: Path) -> None:
    with Board.open(path, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok


def ecog_line(window: MainWindow) -> QLineEdit:
    line = window.workspace.staging.forms["patient"].editors["ecog"].line
    assert line is not None
    return line


def retype(line: QLineEdit, text: str) -> None:
    """Type into a field as a person does (selects what is there, types over it)."""
    line.setFocus()
    line.selectAll()
    line.insert(text)


def tab_title(window: MainWindow) -> str:
    workspace = window.workspace
    return workspace.tabText(workspace.indexOf(workspace.staging)).replace("&", "")


def stored_ecog(path: Path) -> Any:
    with Board.open(path, clock=lambda: TODAY, create=False) as board:
        return board.cases.get("EX-0001").patient.ecog


def warnings_to(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """What the window would say in its warning boxes (title, text), instead of waiting for
    a click."""
    told: list[tuple[str, str]] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, title, text, *_a: told.append((title, text))
    )
    return told


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- T12: a full disk --------------------------------------------------------------------


def save_on_a_full_disk(
    window: MainWindow,
    qtbot: QtBot,
    told: list[tuple[str, str]],
    folder: Path,
    fill: Callable[[], None],
    free: Callable[[], None],
) -> None:
    """An edit saved (an undo step), the disk filled, a second edit refused naming the
    folder and the free space: the edit stays typed in its field (with the field's own
    undo), the tab still marked unsaved, the earlier step still on the undo stack; space
    freed, the same Save stores it."""
    window.select_case("EX-0001")
    staging = window.workspace.staging
    window.workspace.setCurrentWidget(staging)
    retype(ecog_line(window), "1")
    staging.save()
    assert staging.status.text() == "Saved.", told
    assert window.undo_stack.count() == 1 and window.undo_stack.canUndo()
    fill()
    retype(ecog_line(window), "3")
    assert tab_title(window) == "Staging •"
    staging.save()
    assert told, "the refused save said nothing"
    title, text = told[-1]
    assert title == "The change was not saved"
    assert f"disk holding {folder} is full" in text and "MB free" in text, text
    assert "Traceback" not in text
    # the edit is kept where it was typed, and nothing of it was stored
    assert ecog_line(window).text() == "3" and ecog_line(window).isUndoAvailable()
    assert staging.modified() and tab_title(window) == "Staging •"
    assert window.isWindowModified()
    assert staging.status.text() == "Not saved."
    assert window.undo_stack.count() == 1 and window.undo_stack.canUndo()
    assert window.workspace.case is not None and window.workspace.case.patient.ecog == 1
    assert window.door.board.cases.get("EX-0001").patient.ecog == 1
    # the app keeps working: reading, another case, back
    window.door.board.cases.count()
    free()
    staging.save()  # the same Save, once there is room
    assert staging.status.text() == "Saved.", told[-1]
    assert not staging.modified() and tab_title(window) == "Staging"
    assert window.undo_stack.count() == 2


def test_a_full_disk_keeps_the_edit_in_the_window_max_page_count(
    qtbot: QtBot, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """T12 in the window, the portable variant: the database capped at its pages
    (`PRAGMA max_page_count` on every connection) once the first save went through and the
    room left in its pages is used up by other saves."""
    import crlmboard.store.database as database

    fill_database(db_path)
    real = database.apply_pragmas
    cap = {"pages": 0}

    def capped(connection: Any, *, wal: bool = True) -> None:
        real(connection, wal=wal)
        if cap["pages"]:
            connection.execute(f"PRAGMA max_page_count = {cap['pages']}")

    monkeypatch.setattr(database, "apply_pragmas", capped)
    told = warnings_to(monkeypatch)
    window = open_window(qtbot, db_path)
    board = window.door.board

    def fill() -> None:
        from crlmboard.services.changes import DiskFull

        with board.database.engine.connect() as connection:
            cap["pages"] = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
        board.database.engine.dispose()  # every connection from now on is capped
        # use up the room left inside the pages: another case saved until it is refused
        for attempt in range(500):
            case, version = board.cases.get_with_version("EX-0002")
            patient = case.patient.model_copy(update={"weight_kg": 40.0 + attempt / 4})
            try:
                board.cases.save(case.model_copy(update={"patient": patient}), version)
            except DiskFull:
                return
        pytest.fail("the capped database never filled")

    def free() -> None:
        cap["pages"] = 0
        board.database.engine.dispose()

    try:
        save_on_a_full_disk(window, qtbot, told, db_path.parent, fill, free)
    finally:
        close(window)
        board.close()
    assert stored_ecog(db_path) == 3


def test_a_full_tmpfs_keeps_the_edit_in_the_window(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """T12 in the window on a real full disk (a 6 MB tmpfs filled to the last byte)."""
    with tmpfs(tmp_path / "disk", "6m") as disk:
        db = disk / "board.sqlite3"
        fill_database(db)
        told = warnings_to(monkeypatch)
        window = open_window(qtbot, db)
        filler: list[Path] = []
        try:
            save_on_a_full_disk(
                window,
                qtbot,
                told,
                disk,
                lambda: filler.append(fill_disk(disk)),
                lambda: filler[0].unlink(),
            )
        finally:
            close(window)
            window.door.board.close()
        assert stored_ecog(db) == 3


# -- T13: a read-only medium ---------------------------------------------------------------

# what the window offers that only reads (or opens another database, or leaves): offered on
# a read-only medium too; every other action of the menus must be disabled with the reason
READS = {
    "&New database…",  # another file, elsewhere (the dialog asks where)
    "&Open database…",
    "&Export case…",
    "Export FHIR (m&CODE) bundle…",
    "Export &PDF summary…",
    "&Quit",
    "&Find case",
    "&History (who changed what)…",
    "&Prepare meeting (readiness)…",
    "Export review &summary PDF…",
    "Export outcome &letter…",
    "Meeting pac&k PDF…",
    "Board &figures…",
    "&Cases",
    "&Meetings",
    "&Follow-up worklist",
    "&Rule catalogue",
    "&Check database…",
    "&Users…",
    "&Preferences…",
    "&About crlmboard",
    "Show &log",
}


def menu_actions(window: MainWindow) -> list[QAction]:
    """Every action of every menu of the window (submenus' own entries included), found by
    walking the menu bar, not from the guard's list; but File ▸ Recent's entries, which
    open another database (a read here, whatever that database allows)."""
    found: list[QAction] = []

    def walk(actions: list[QAction]) -> None:
        for action in actions:
            if action.isSeparator():
                continue
            if action.menu() is not None:
                if action.menu() is not window.recent_menu:
                    walk(action.menu().actions())  # type: ignore[union-attr]
                continue
            found.append(action)

    walk(window.menuBar().actions())
    return found


@pytest.fixture
def read_only_medium(tmp_path: Path) -> Iterator[Path]:
    """A database (with a meeting and an agenda entry) closed cleanly on a tmpfs that is
    then remounted read-only; the database's path."""
    with tmpfs(tmp_path / "medium", "8m") as medium:
        db = medium / "board.sqlite3"
        with Board.open(db, clock=lambda: TODAY) as board:
            assert board.cases.import_path(GOLDEN).ok
            meeting = board.meetings.create(TODAY).meeting_id
            board.meetings.add_to_agenda(meeting, "EX-0001", "Resect first?")
        shutil.rmtree(medium / "backups")
        remount_read_only(medium)
        yield db


def test_a_database_on_a_read_only_medium_opens_read_only_in_the_window(
    qtbot: QtBot, read_only_medium: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """T13 in the window: the title and a banner say read-only and why; every action of
    the menus that would change the database (edits, imports, new case, new meeting,
    agenda, sign-off through Review, backup, restore, undo) is disabled with the reason,
    and so is every field and editing button of the open case; asked anyway (the form's
    Save, the door), each change is refused with the reason; the file's sha256 is
    unchanged after all of it."""
    db = read_only_medium
    before = sha256(db)
    told = warnings_to(monkeypatch)
    window = open_window(qtbot, db)
    try:
        assert window.door.read_only
        reason = window.door.read_only_text
        assert reason and "read-only" in reason.lower()
        assert window.windowTitle().endswith(TITLE_MARK)
        assert window.banner.isVisible() and "read-only" in window.banner.text().lower()
        window.select_case("EX-0001")
        assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0001"

        actions = menu_actions(window)
        texts = {a.text() for a in actions}
        assert {"&Import case files…", "&New meeting…", "&Review case…"} <= texts
        offered = [a.text() for a in actions if a.isEnabled() and a.text() not in READS]
        assert not offered, f"offered on a read-only medium: {offered}"
        for action in actions:
            if action.text() not in READS:
                assert action.toolTip() == reason, action.text()
        # every field and editing button of the open case, and of the meetings page
        workspace = window.workspace
        controls: list[Any] = [
            *workspace.findChildren(FieldEditor),
            *[
                b
                for b in workspace.findChildren(QPushButton)
                if b not in (workspace.export_review_button, workspace.export_letter_button)
            ],
            *[getattr(window.meetings.view, f"{k}_button") for k in window.meetings.EDITS],
            window.meetings.view.new_button,
            window.meetings.view.add_button,
            window.follow_up.view.follow_button,
        ]
        assert len(controls) > 60
        assert not [c for c in controls if c.isEnabled()]

        # driven anyway: every action triggered (a disabled one does nothing), the form's
        # Save and the door's writes asked directly; each refused, nothing written
        for action in actions:
            if action.text() not in READS:
                action.trigger()
        staging = workspace.staging
        workspace.setCurrentWidget(staging)  # (a tab is filled when shown)
        line = ecog_line(window)
        line.setText("3")  # (disabled for a person: set as a program would)
        staging.save()
        assert told and told[-1][0] == "The change was not saved"
        assert "read-only" in told[-1][1].lower()
        refused: list[BaseException] = []
        door = window.door
        case, version = door.board.cases.get_with_version("EX-0001")
        door.save_case(case, version, "EX-0001", lambda r: None, refused.append)
        door.import_paths([str(GOLDEN)], lambda r: None, refused.append)
        door.create_meeting({"day": TODAY.isoformat()}, lambda r: None, refused.append)
        door.create_case(case.model_copy(deep=True), lambda r: None, refused.append)
        assert len(refused) == 4 and all("read-only" in str(e).lower() for e in refused)
        assert door.board.cases.get("EX-0001").patient.ecog == case.patient.ecog
    finally:
        close(window)
        window.door.board.close()
    assert sha256(db) == before
    assert sorted(p.name for p in db.parent.iterdir()) == [
        "board.sqlite3",
        "board.sqlite3.checkpoints",
        "board.sqlite3.lock",
    ]


# -- T15: another program's lock -----------------------------------------------------------

HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("holding", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
connection.close()
print("released", flush=True)
"""


@pytest.mark.usefixtures("threaded")
def test_a_save_waits_for_another_programs_lock_off_the_ui_thread(
    qtbot: QtBot, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """T15 in the window: the save waits for the database's busy timeout on the door's
    worker while the window goes on handling events (a timer keeps firing: counted, not
    timed), then says the database is locked by another program; the edit stays typed;
    once the other program lets go, Save stores it."""
    fill_database(db_path)
    told = warnings_to(monkeypatch)
    window = open_window(qtbot, db_path)
    staging = window.workspace.staging
    try:
        window.select_case("EX-0001")
        qtbot.waitUntil(lambda: window.workspace.case is not None, timeout=WAIT)
        window.workspace.setCurrentWidget(staging)
        retype(ecog_line(window), "3")
        holder = child(HOLDER, str(db_path), stdin=subprocess.PIPE)
        assert holder.stdout is not None and holder.stdin is not None
        ticks: list[int] = []
        timer = QTimer()
        timer.setInterval(20)
        timer.timeout.connect(lambda: ticks.append(1))
        try:
            assert holder.stdout.readline().strip() == "holding", holder.stderr
            timer.start()
            staging.save()
            asked_at = len(ticks)
            assert staging.status.text() == "Saving…"  # not answered yet: it waits elsewhere
            qtbot.waitUntil(lambda: bool(told), timeout=WAIT)
            timer.stop()
        finally:
            holder.stdin.write("go\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == "released"
            holder.wait()
        waited = len(ticks) - asked_at
        assert waited >= 3, f"the window handled {waited} timer events while the save waited"
        title, text = told[-1]
        assert title == "The change was not saved"
        assert "the database is locked by another program" in text.lower(), text
        assert ecog_line(window).text() == "3" and staging.modified()
        assert tab_title(window) == "Staging •"
        staging.save()  # the retry, once the other program let go
        qtbot.waitUntil(lambda: staging.status.text() == "Saved.", timeout=WAIT)
        assert len(told) == 1
        assert not staging.modified()
    finally:
        close(window)  # stops the door's worker and closes the database on it
    assert stored_ecog(db_path) == 3


# -- T35: the sentinel patient never reaches the log ------------------------------------------

NAME, GIVEN, MRN = "ZZSENTINEL", "Ödön 王", "MRN-SENTINEL-7788"
SENTINELS = (NAME, GIVEN, MRN, "Ödön", "王", "SENTINEL")


@pytest.fixture
def log_file() -> Iterator[Path]:
    """The app's own log file handler (services/log.py), installed for this test."""
    from crlmboard.services import log as app_log

    root = logging.getLogger("crlmboard")
    handlers, level = list(root.handlers), root.level
    monkey = pytest.MonkeyPatch()
    monkey.setattr(app_log, "_configured", False)
    app_log.setup_logging()
    path = app_log.log_path()
    root.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
                root.removeHandler(handler)
        root.setLevel(level)
        monkey.undo()


def test_the_sentinel_patient_never_reaches_the_log_from_the_window(
    qtbot: QtBot,
    tmp_path: Path,
    db_path: Path,
    upfront: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    log_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """T35 for the app's windows: the sentinel patient opened, edited, a save refused (a
    conflict with a change made meanwhile), exported, and an export that fails with an
    unexpected error carrying the patient's values: the window's title and messages may
    show the patient; the log file and the log records' messages never."""
    import sqlalchemy as sa

    caplog.set_level(logging.DEBUG, logger="crlmboard")
    upfront["patient"].update(mrn=MRN, family_name=NAME, given_name=GIVEN)
    source = tmp_path / "sentinel.json"
    source.write_text(json.dumps(upfront, ensure_ascii=False), "utf-8")
    with Board.open(db_path, clock=lambda: TODAY) as board:
        assert board.cases.import_path(source).ok
    told = warnings_to(monkeypatch)
    window = open_window(qtbot, db_path)
    board = window.door.board
    try:
        window.select_case(MRN)
        assert window.workspace.case is not None and window.workspace.case.mrn == MRN
        assert NAME in window.windowTitle()  # the window may show whose case it is
        staging = window.workspace.staging
        window.workspace.setCurrentWidget(staging)
        retype(ecog_line(window), "1")
        staging.save()
        assert staging.status.text() == "Saved.", told
        # someone else changes the case meanwhile: the next save is refused as a conflict
        case, version = board.cases.get_with_version(MRN)
        patient = case.patient.model_copy(update={"weight_kg": 61.5})
        board.cases.save(case.model_copy(update={"patient": patient}), version)
        retype(ecog_line(window), "2")
        staging.save()
        assert told and told[-1][0] == "Someone else changed this case"
        # the refused value dropped: the exports below are of the case as stored (an export
        # with changes not saved asks first; tests/ui/test_trust.py)
        staging.revert()
        # an export, through the window's File menu
        target = tmp_path / "out" / f"{MRN}.json"
        target.parent.mkdir()
        monkeypatch.setattr(
            QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), "Case files (*.json)")
        )
        window.export_case()
        assert json.loads(target.read_text("utf-8"))["patient"]["mrn"] == MRN

        # an export that fails with an error of crlmboard's own carrying the patient's
        # values (a database error's parameters): logged, its values not
        def faulty(self: Any, mrn: str, path: Any) -> Any:
            with board.database.engine.connect() as connection:
                connection.execute(
                    sa.text("SELECT :mrn, :name"),
                    {"mrn": mrn, "name": {"family": NAME, "given": GIVEN}},
                )
            raise AssertionError("not reached")

        monkeypatch.setattr(type(board.cases), "export", faulty)
        target.unlink()
        window.export_case()
        assert told[-1][0] == "Export case" and "log" in told[-1][1]

        # and one whose own message carries them (a lookup by the patient's MRN)
        def missing(self: Any, mrn: str, path: Any) -> Any:
            found: dict[str, Any] = {}
            return found[f"{mrn} {NAME}, {GIVEN}"]

        monkeypatch.setattr(type(board.cases), "export", missing)
        window.export_case()
        assert told[-1][0] == "Export case" and "log" in told[-1][1]
    finally:
        close(window)
        board.close()
    written = log_file.read_text("utf-8")
    # both failures were logged, with their tracebacks and the errors' types
    assert written.count("Export case failed") == 2
    assert "Traceback" in written and "KeyError" in written
    for sentinel in SENTINELS:
        assert sentinel not in written, f"{sentinel!r} in the log file"
        for record in caplog.records:
            assert sentinel not in record.getMessage(), f"{sentinel!r} in {record.name}"
