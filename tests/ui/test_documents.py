"""Documents from the app (issue 19, item 9), driven through the real window: a signed
review's summary and its outcome letter are exported from the Reviews tab (the door's
worker writes them), the export folder is remembered per user across windows, the written
file can be opened or shown in its folder, and the case summary of a case with a signed
review shows that review (and still says so when there is none)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QProgressDialog
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.exports import FOLDER_SETTING
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN
from tests.report.conftest import REVIEWED

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.pdf]


@pytest.fixture(autouse=True)
def _no_remembered_folder() -> None:
    QSettings().remove(FOLDER_SETTING)


@pytest.fixture
def window(qtbot: QtBot, board: Board) -> Iterator[MainWindow]:
    board.cases.import_text(REVIEWED.read_text("utf-8"))  # EX-0003: signed review 1, draft 2
    board.cases.import_path(GOLDEN / "upfront-resection.json")  # EX-0001: no review
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.resize(1280, 720)
    shown.show()
    yield shown


class Desktop:
    """What the app asked the desktop to open, and where the save dialogs started."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, target: Path):
        self.opened: list[QUrl] = []
        self.suggested: list[str] = []
        self.target = target
        monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: self.opened.append(url))

        def save_as(_parent: Any, _title: str, suggested: str, _filter: str) -> Any:
            self.suggested.append(suggested)
            return (str(self.target), "PDF (*.pdf)")

        monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)


def answer_written(button: str, seen: list[str]) -> None:
    """Click `button` on the "written" message once it shows (after the progress dialog)."""

    def act() -> None:
        box = QApplication.activeModalWidget()
        if box is None or isinstance(box, QProgressDialog):
            QTimer.singleShot(20, act)
            return
        assert isinstance(box, QMessageBox), box
        seen.append(box.text() + "\n" + box.informativeText())
        chosen = next(b for b in box.buttons() if b.text().replace("&", "") == button)
        chosen.click()

    QTimer.singleShot(0, act)


def pdf_text(path: Path) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(path).pages))


def open_reviews(window: MainWindow, mrn: str, row: int) -> Any:
    window.select_case(mrn)
    workspace = window.workspace
    workspace.setCurrentWidget(workspace.reviews)
    workspace.reviews.select_row(row)
    return workspace


def test_a_signed_reviews_pdf_is_exported_from_the_reviews_tab(
    window: MainWindow,
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    threaded: None,
) -> None:
    # the window of the `threaded` fixture: the door's real worker writes the PDF
    board = window.door.board
    window.close()
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    assert window.door._worker is not None
    folder = tmp_path / "board letters"
    folder.mkdir()
    desktop = Desktop(monkeypatch, folder / "review.pdf")
    workspace = open_reviews(window, "EX-0003", 0)
    qtbot.waitUntil(lambda: workspace.case is not None and workspace.case.mrn == "EX-0003")
    workspace.reviews.select_row(0)
    seen: list[str] = []
    answer_written("Show in folder", seen)
    qtbot.mouseClick(workspace.export_review_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(desktop.opened), timeout=30000)
    assert desktop.suggested[0].endswith("EX-0003-review-1-2025-03-24.pdf")
    assert "review 1 (2025-03-24) of EXAMPLE" in seen[0] and "(EX-0003)" in seen[0]
    assert desktop.opened == [QUrl.fromLocalFile(str(folder))]
    text = pdf_text(folder / "review.pdf")
    assert "Two-stage hepatectomy" in text  # the recommendation
    assert "A. Surgeon" in text  # the signer
    assert "No board review is attached" not in text
    window.door.stop()


def test_the_outcome_letter_is_exported_and_opened(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desktop = Desktop(monkeypatch, tmp_path / "letter.pdf")
    workspace = open_reviews(window, "EX-0003", 0)
    seen: list[str] = []
    answer_written("Open", seen)
    qtbot.mouseClick(workspace.export_letter_button, Qt.MouseButton.LeftButton)
    assert desktop.suggested[0].endswith("EX-0003-letter-1-2025-03-24.pdf")
    assert desktop.opened == [QUrl.fromLocalFile(str(tmp_path / "letter.pdf"))]
    assert "outcome letter of review 1" in seen[0]
    text = pdf_text(tmp_path / "letter.pdf")
    assert "Two-stage hepatectomy" in text
    assert "A. Surgeon" in text


def test_a_draft_review_gives_no_document(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desktop = Desktop(monkeypatch, tmp_path / "draft.pdf")
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: told.append(text))
    workspace = open_reviews(window, "EX-0003", 1)  # review 2 is a draft
    qtbot.mouseClick(workspace.export_letter_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(workspace.export_review_button, Qt.MouseButton.LeftButton)
    assert len(told) == 2 and "signed review" in told[0]
    assert desktop.suggested == [] and not (tmp_path / "draft.pdf").exists()


def test_the_export_folder_is_remembered_in_a_new_window(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    desktop = Desktop(monkeypatch, folder / "first.pdf")
    assert not desktop.suggested
    seen: list[str] = []
    answer_written("Close", seen)
    window.select_case("EX-0001")
    window.export_pdf()
    assert (folder / "first.pdf").exists()
    board = window.door.board
    window.close()
    again = MainWindow(board)
    qtbot.addWidget(again)
    again.show()
    again.select_case("EX-0001")
    desktop.target = folder / "second.pdf"
    answer_written("Close", seen)
    again.export_pdf()
    assert Path(desktop.suggested[-1]).parent == folder
    assert Path(desktop.suggested[-1]).name == "EX-0001-summary.pdf"
    assert QSettings().value(FOLDER_SETTING) == str(folder.resolve())


def test_the_case_summary_shows_the_latest_signed_review(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desktop = Desktop(monkeypatch, tmp_path / "reviewed.pdf")
    seen: list[str] = []
    answer_written("Close", seen)
    window.select_case("EX-0003")
    window.export_pdf()
    text = pdf_text(tmp_path / "reviewed.pdf")
    assert "No board review is attached" not in text
    assert "No board review attached" not in text
    assert "the latest signed review" in text
    assert "Two-stage hepatectomy" in text and "A. Surgeon" in text
    # a case without a signed review still says there is none
    desktop.target = tmp_path / "unreviewed.pdf"
    answer_written("Close", seen)
    window.select_case("EX-0001")
    window.export_pdf()
    text = pdf_text(tmp_path / "unreviewed.pdf")
    assert "No board review is attached" in text
    assert "latest signed review" not in text


def test_documents_of_a_review_signed_at_a_meeting_from_the_meetings_page(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import turn_to

    board = window.door.board
    people = [{"name": "Dr Hepato", "role": "hepatobiliary_surgeon"}]
    meeting = board.meetings.create("2026-12-01", "16:00", "Room 3", people).meeting_id
    board.meetings.add_to_agenda(meeting, "EX-0001", "Resect now?")
    turn_to(board, "2026-12-01")
    window.meetings.reload(meeting)
    window.pages.setCurrentWidget(window.meetings.view)
    page = window.meetings
    page.view.agenda_view.setCurrentIndex(page.view.agenda_model.index(0, 0))
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: told.append(text))
    page.export_document(letter=True)  # not reviewed yet: nothing to write
    assert told and "no signed review at this meeting" in told[0]
    assert not page.menu_actions["export_letter"].isEnabled()

    board.reviews.sign(
        board.reviews.start(meeting, "EX-0001"),
        recommendation="upfront_resection",
        decision="Resect segment 6.",
    )
    signer = board.cases.get("EX-0001").reviews[-1].signed_by
    assert signer  # who is acting, as the store signed it
    page.reload(meeting)
    page.view.agenda_view.setCurrentIndex(page.view.agenda_model.index(0, 0))
    assert page.menu_actions["export_letter"].isEnabled()
    desktop = Desktop(monkeypatch, tmp_path / "letter.pdf")
    seen: list[str] = []
    answer_written("Close", seen)
    page.menu_actions["export_letter"].trigger()
    assert desktop.suggested[-1].endswith("EX-0001-letter-1-2026-12-01.pdf")
    text = pdf_text(tmp_path / "letter.pdf")
    assert "Upfront resection" in text and signer in text
    desktop.target = tmp_path / "review.pdf"
    answer_written("Close", seen)
    page.menu_actions["export_review"].trigger()
    text = pdf_text(tmp_path / "review.pdf")
    assert "Upfront resection" in text and signer in text
    assert "Resect segment 6." in text
