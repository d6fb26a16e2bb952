"""Issue 19 item 8: a second window on a SQLite database whose writer lock another crlmboard
holds — a real second process that opened the database through the services, commits on
command and exits.  The window opens read-only (every editing control disabled with the
reason, the title and a banner saying so), follows the writer's commits, and takes the lock
over once the writer has gone (never while it lives), without a restart.  Polls are driven
by count (`door.follow_writer()`), or waited for with generous bounds; no timing is
asserted.  The door refuses every write while read-only, tested below the widgets too."""

from __future__ import annotations

import getpass
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.services.maintenance import ReadOnly
from crlmboard.ui.forms import FieldEditor
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.ops import Door
from crlmboard.ui.readonly import TITLE_MARK
from tests.conftest import GOLDEN, TODAY

pytestmark = [pytest.mark.ui, pytest.mark.db]

ROOT = Path(__file__).resolve().parents[2]
LOOKS = 20  # polls allowed for one commit to show (one is enough: each sees every commit)
WAIT = 120_000  # ms, for the threaded test: generous; the wait ends on the condition
ANSWER = 120  # s for the writer process to answer a command, however loaded the machine

WRITER = """
import json, sys
from crlmboard.services import Board
from crlmboard.domain.case import Case
from crlmboard.domain import models as m
from tests.conftest import TODAY
board = Board.open(sys.argv[1], clock=lambda: TODAY, create=False)
print("holding", flush=True)
for line in sys.stdin:
    command, _, rest = line.strip().partition(" ")
    if command == "rename":  # rename MRN NAME: the patient's family name
        mrn, name = rest.split()
        case, version = board.cases.get_with_version(mrn)
        patient = case.patient.model_copy(update={"family_name": name})
        board.cases.save(case.model_copy(update={"patient": patient}), version)
    elif command == "new":  # new MRN: a new case
        board.cases.create(Case(patient=m.Patient(mrn=rest, family_name="Writercase")))
    elif command == "exit":
        board.close()
        print("closed", flush=True)
        break
    print("committed", flush=True)
"""


class Writer:
    """The other crlmboard: a real process holding the database's writer lock."""

    def __init__(self, path: Path):
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.read() == "holding", self.failure()

    @property
    def pid(self) -> int:
        return self.process.pid

    def read(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def failure(self) -> str:
        self.process.kill()
        return self.process.communicate(timeout=ANSWER)[1]

    def ask(self, command: str, answer: str = "committed") -> None:
        """Send a command and wait for its answer: a commit is durable once answered."""
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        assert self.read() == answer, self.failure()

    def exit(self) -> None:
        self.ask("exit", "closed")
        assert self.process.wait(timeout=ANSWER) == 0

    def kill(self) -> None:
        """Killed: the system drops its flock; its name stays in the lock file."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=ANSWER)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=ANSWER)


@pytest.fixture
def filled(db_path: Path) -> Path:
    with Board.open(db_path, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
    return db_path


@pytest.fixture
def writer(filled: Path) -> Iterator[Writer]:
    running = Writer(filled)
    try:
        yield running
    finally:
        running.stop()


def second_window(qtbot: QtBot, path: Path) -> MainWindow:
    window = MainWindow(Board.open(path, clock=lambda: TODAY, create=False))
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def reader(qtbot: QtBot, filled: Path, writer: Writer) -> Iterator[MainWindow]:
    window = second_window(qtbot, filled)
    window.select_case("EX-0001")
    yield window
    window.door.board.close()


def reason_of(writer: Writer) -> str:
    return (
        f"Read-only: another crlmboard ({getpass.getuser()}@{socket.gethostname()}, "
        f"pid {writer.pid}) is writing to this database"
    )


def editing_controls(window: MainWindow) -> list[Any]:
    """Every control of the window that changes the database, found by kind and place
    (not by the guard's own list): the menus' editing actions, each field and button of
    the case's tabs, the meeting and follow-up pages' editing buttons."""
    meetings = window.meetings
    workspace = window.workspace
    by_text = {
        a.text(): a
        for menu in window.menuBar().findChildren(type(window.recent_menu))
        for a in menu.actions()
    }
    actions = [
        by_text[text]
        for text in (
            "&Import case files…",
            "Import a &folder of case files…",
            "Import referra&ls (CSV)…",
            "&Backup now",
            "Res&tore a backup…",
            "&New case…",
            "Add &chemotherapy cycle…",
            "Add &imaging timepoint…",
            "Add &procedure…",
            "Add surgery &outcome…",
        )
    ]
    actions += [meetings.menu_actions[k] for k in (*meetings.EDITS, "new", "add")]
    return [
        *actions,
        *workspace.findChildren(FieldEditor),
        # every button of the open case but its exports (reads, offered read-only too)
        *[
            b
            for b in workspace.findChildren(QPushButton)
            if b not in (workspace.export_review_button, workspace.export_letter_button)
        ],
        *[getattr(meetings.view, f"{key}_button") for key in meetings.EDITS],
        meetings.view.new_button,
        meetings.view.add_button,
        window.follow_up.view.follow_button,
    ]


def test_a_second_window_opens_read_only_with_every_edit_disabled(
    reader: MainWindow, writer: Writer
) -> None:
    """(a) the title, the banner and every editing control say read-only, and why."""
    reason = reason_of(writer)
    assert reader.windowTitle().endswith(TITLE_MARK)
    assert reader.banner.isVisible() and reason in reader.banner.text()
    assert reader.workspace.case is not None and reader.workspace.case.mrn == "EX-0001"
    controls = editing_controls(reader)
    assert len(controls) > 60
    enabled = [c for c in controls if c.isEnabled()]
    assert not enabled, [getattr(c, "text", lambda c=c: type(c).__name__)() for c in enabled]
    assert all(c.toolTip() == reason for c in controls)
    # what only reads stays offered: the case list, the tabs, exports, the meeting pack
    assert reader.table.isEnabled() and reader.workspace.isEnabled()
    assert reader.meetings.view.pack_button.isEnabled()
    assert reader.meetings.view.figures_button.isEnabled()
    # another title (a patient's, say) keeps the mark
    reader.setWindowTitle("crlmboard — DEMOSON, Lukas")
    assert reader.windowTitle() == "crlmboard — DEMOSON, Lukas" + TITLE_MARK


def test_the_writers_commits_show_in_the_list_and_the_open_case(
    reader: MainWindow, writer: Writer
) -> None:
    """(b) within a bounded number of polls; the open case stays the same patient."""
    writer.ask("rename EX-0001 Renamedbywriter")
    writer.ask("new RO-0042")

    def shown() -> bool:
        case = reader.workspace.case
        return (
            reader.model.total == 4
            and case is not None
            and case.patient.family_name == "Renamedbywriter"
        )

    looks = 0
    while not shown() and looks < LOOKS:
        reader.door.follow_writer()
        looks += 1
    assert shown(), f"not shown after {looks} polls"
    assert reader.workspace.case is not None and reader.workspace.case.mrn == "EX-0001"
    reader.workspace.setCurrentWidget(reader.workspace.staging)  # filled when shown
    staging = reader.workspace.staging.forms["patient"].editors["family_name"]
    assert staging.line.text() == "Renamedbywriter"  # type: ignore[union-attr]
    assert reader.model.cached_row_of("RO-0042") is not None
    assert reader.door.read_only  # the writer is still there


def test_the_lock_is_taken_over_when_the_writer_exits_and_a_save_then_works(
    reader: MainWindow, writer: Writer, filled: Path
) -> None:
    """(c) the banner goes, the controls come back, a save is stored."""
    writer.ask("rename EX-0001 Beforeexit")
    writer.exit()
    looks = 0
    while reader.door.read_only and looks < LOOKS:
        reader.door.follow_writer()
        looks += 1
    assert not reader.door.read_only, f"still read-only after {looks} polls"
    assert not reader.windowTitle().endswith(TITLE_MARK)
    assert not reader.banner.isVisible()
    assert "you can edit here now" in reader.statusBar().currentMessage()
    assert all(a.isEnabled() for a in reader._edit_actions)
    staging = reader.workspace.staging
    reader.workspace.setCurrentWidget(staging)  # filled when shown
    assert staging.save_button.isEnabled() and staging.save_button.toolTip() != reason_of(writer)
    assert reader.workspace.case is not None and reader.workspace.case.mrn == "EX-0001"
    name = staging.forms["patient"].editors["family_name"]
    assert name.isEnabled() and name.line.text() == "Beforeexit"  # type: ignore[union-attr]
    name.line.setText("Savedaftertakeover")  # type: ignore[union-attr]
    staging.save()
    assert staging.status.text() == "Saved."
    reader.door.board.close()
    with Board.open(filled, clock=lambda: TODAY, create=False) as later:
        assert not later.read_only
        assert later.cases.get("EX-0001").patient.family_name == "Savedaftertakeover"


def test_a_killed_writers_lock_is_taken_over(reader: MainWindow, writer: Writer) -> None:
    """A writer killed (no clean close) leaves its name in the lock file: its process is
    checked dead on this host, and the lock taken over."""
    writer.kill()
    looks = 0
    while reader.door.read_only and looks < LOOKS:
        reader.door.follow_writer()
        looks += 1
    assert not reader.door.read_only and not reader.banner.isVisible()
    assert any("not closed properly" in note for note in reader.door.board.notes)


def test_a_live_writer_is_never_taken_over(reader: MainWindow, writer: Writer) -> None:
    """(d) however many polls, the window stays read-only and the writer keeps writing."""
    for _ in range(LOOKS):
        reader.door.follow_writer()
    assert reader.door.read_only and reader.banner.isVisible()
    assert not any(a.isEnabled() for a in reader._edit_actions)
    writer.ask("rename EX-0002 Stillthewriter")  # its lock and its writes are its own
    reader.door.follow_writer()
    assert reader.door.board.cases.get("EX-0002").patient.family_name == "Stillthewriter"
    assert reader.door.read_only


def test_the_door_refuses_every_write_while_read_only(
    filled: Path, writer: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below the widgets: each write asked of the door is refused at once with the reason,
    and nothing reaches the database."""
    board = Board.open(filled, clock=lambda: TODAY, create=False)
    door = Door(board, synchronous=True)
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: told.append(text))
    try:
        refused: list[BaseException] = []
        case, version = board.cases.get_with_version("EX-0001")
        edited = case.model_copy(
            update={"patient": case.patient.model_copy(update={"family_name": "Neverstored"})}
        )
        door.save_case(edited, version, "EX-0001", lambda r: None, refused.append)
        door.create_case(edited.model_copy(deep=True), lambda r: None, refused.append)
        door.import_paths([str(GOLDEN)], lambda r: None, refused.append)
        door.create_meeting({"day": "2026-12-01"}, lambda r: None, refused.append)
        door.restore(filled, None, lambda r: None, refused.append)
        door.set_follow_up("EX-0001", 0, {}, lambda r: None, refused.append)
        assert len(refused) == 6
        assert all(isinstance(e, ReadOnly) for e in refused)
        assert str(refused[0]) == reason_of(writer) + "; nothing was changed."
        door.add_to_agenda(1, "EX-0001", "Resect?", lambda r: None, None)  # type: ignore[arg-type]
        assert told == [reason_of(writer) + "; nothing was changed."]
        assert board.cases.get("EX-0001").patient.family_name != "Neverstored"
        assert board.cases.count() == 3
        # reading, and opening another database, still work
        pages: list[Any] = []
        door.case_list_page("", "name", False, 0, 10, pages.append, count=True)
        assert pages and pages[0][0] == 3
    finally:
        door.stop()
        door.board.close()


@pytest.mark.usefixtures("threaded")
def test_the_timer_follows_the_writer_on_the_worker_thread(
    qtbot: QtBot, filled: Path, writer: Writer
) -> None:
    """In the app's own setting (the door's worker thread, its timer): the writer's commit
    shows, then its exit gives the window the lock, each within a generous bound; every
    look ran on the worker, none on the GUI thread."""
    import threading

    window = second_window(qtbot, filled)
    board = window.door.board
    threads: list[int] = []
    follow = board.follow_writer

    def recorded() -> Any:
        threads.append(threading.get_ident())
        return follow()

    board.follow_writer = recorded  # type: ignore[method-assign]
    try:
        assert window.door.read_only
        writer.ask("new RO-0077")
        qtbot.waitUntil(lambda: window.model.total == 4, timeout=WAIT)
        writer.exit()
        qtbot.waitUntil(lambda: not window.door.read_only, timeout=WAIT)
        qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=WAIT)
        assert threads and threading.get_ident() not in threads
    finally:
        window.close()  # stops the door and closes the database on the worker


def test_controls_come_back_as_their_owners_last_set_them(
    reader: MainWindow, writer: Writer
) -> None:
    """A control its owner enables or retitles while read-only stays disabled with the
    reason, and is given back afterwards as the owner last set it; one the owner had
    disabled stays disabled."""
    from PySide6.QtGui import QAction

    from crlmboard.ui.readonly import guard

    reason = reason_of(writer)
    offered, withheld = QPushButton("Offered"), QPushButton("Withheld")
    withheld.setEnabled(False)
    action = QAction("Sign…", reader)
    guard(reader.door, offered, withheld, action)
    assert not offered.isEnabled() and offered.toolTip() == reason
    offered.setEnabled(True)  # e.g. a meeting selected
    offered.setToolTip("Edit the selected meeting")
    action.setEnabled(True)
    assert not offered.isEnabled() and offered.toolTip() == reason
    assert not action.isEnabled() and action.toolTip() == reason
    writer.exit()
    looks = 0
    while reader.door.read_only and looks < LOOKS:
        reader.door.follow_writer()
        looks += 1
    assert offered.isEnabled() and offered.toolTip() == "Edit the selected meeting"
    assert not withheld.isEnabled() and withheld.toolTip() == ""
    action.setText("Sign the review…")
    assert action.isEnabled() and action.toolTip() == "Sign the review"  # follows its text
