"""The patient banner (issue 19 item 1): every dialog that writes a record names whose record
it writes — in its title and in the same banner the case's tabs show (FAMILY, Given · MRN ·
birth date and age · sex).  Real dialogs opened through the workspace's own actions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.dialogs.review_dialog import ReviewDialog
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.views.patient_banner import PatientBanner, banner_text
from crlmboard.ui.workspace import CaseWorkspace
from tests.conftest import GOLDEN, turn_to
from tests.ui.test_meetings import PEOPLE, answer_yes, when_dialog

pytestmark = [pytest.mark.ui, pytest.mark.db]


@pytest.fixture
def window(qtbot: QtBot, board: Board) -> Iterator[MainWindow]:
    board.cases.import_path(GOLDEN)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.show()
    shown.select_case("EX-0003")  # EXAMPLE, Clara: cycles, timepoints, labs
    yield shown


def seen_dialog(open_it: Callable[[], Any]) -> dict[str, str]:
    """Open a dialog with `open_it()`, read its title and banner, cancel it."""
    seen: dict[str, str] = {}

    def look(dialog: QDialog) -> None:
        seen["title"] = dialog.windowTitle()
        banner = dialog.findChild(PatientBanner)
        seen["banner"] = banner.text() if banner is not None and banner.isVisible() else ""
        dialog.reject()

    when_dialog(look)
    open_it()
    QApplication.processEvents()
    return seen


RECORD_DIALOGS: list[tuple[str, str, Callable[[CaseWorkspace], Any]]] = [
    ("add cycle", "Add chemotherapy cycle", lambda w: w.add_cycle()),
    ("edit cycle", "Edit chemotherapy cycle", lambda w: w.edit_cycle(0)),
    ("add timepoint (volumetry)", "Add imaging timepoint", lambda w: w.add_timepoint()),
    ("edit timepoint", "Edit imaging timepoint", lambda w: w.edit_timepoint(0)),
    ("add procedure", "Add procedure", lambda w: w.add_procedure()),
    ("add immunotherapy", "Add immunotherapy dose", lambda w: w.add_immunotherapy()),
    ("add outcome", "Add surgery outcome", lambda w: w.add_outcome()),
    ("add labs", "Add lab values", lambda w: w.labs.add_requested.emit()),
    ("edit labs", "Edit lab values", lambda w: w.labs.edit_requested.emit(0)),
    ("add site", "Add extrahepatic site", lambda w: w.extrahepatic.add_requested.emit()),
]


@pytest.mark.parametrize(
    ("title", "open_it"),
    [(t, o) for _, t, o in RECORD_DIALOGS],
    ids=[n for n, *_ in RECORD_DIALOGS],
)
def test_each_record_dialog_names_the_patient(
    window: MainWindow, title: str, open_it: Callable[[CaseWorkspace], Any]
) -> None:
    case = window.workspace.case
    assert case is not None and case.mrn == "EX-0003"
    window.workspace.ensure_filled()  # each dialog opens from its tab, shown (so filled)
    seen = seen_dialog(lambda: open_it(window.workspace))
    assert seen["title"] == f"{title} — EXAMPLE, Clara"
    assert seen["banner"] == banner_text(case.patient, window.door.today())
    assert seen["banner"].startswith("\u200e\u2068EXAMPLE, Clara\u2069  ·  MRN EX-0003  ·  born ")
    assert seen["banner"].endswith("(70 y)  ·  female")


def test_review_amend_and_follow_up_dialogs_name_the_patient(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = window.door.board
    meeting = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
    board.meetings.add_to_agenda(meeting, "EX-0003", "Ready for hepatectomy?")
    turn_to(board, "2026-12-01")
    answer_yes(monkeypatch)
    patient = board.cases.get("EX-0003").patient
    expected = banner_text(patient, window.door.today())

    review = ReviewDialog(window.door, board.reviews.start(meeting, "EX-0003"), window)
    review.show()
    assert review.windowTitle().startswith("Review — EXAMPLE, Clara at the meeting of ")
    assert review.banner.text() == expected and review.banner.isVisible()
    review.reject()
    board.reviews.sign(
        board.reviews.start(meeting, "EX-0003"),
        recommendation="upfront_resection",
        decision="Resect.",
    )
    window.show_case_page("EX-0003")
    window.workspace.setCurrentWidget(window.workspace.reviews)
    window.workspace.reviews.select_row(0)

    seen = seen_dialog(window.workspace.reviews.edit_button.click)  # Amend…
    assert seen["title"].startswith("Amend review — EXAMPLE, Clara at the meeting of ")
    assert seen["banner"] == expected
    window.workspace.reviews.select_row(0)
    seen = seen_dialog(window.workspace.reviews.add_button.click)  # Follow-up…
    assert seen["title"].startswith("Follow-up — EXAMPLE, Clara, review of ")
    assert seen["banner"] == expected


def test_a_right_to_left_name_keeps_the_banner_in_its_order() -> None:
    """Seen in the screenshots: an Arabic name turned the whole banner right to left (the
    name last, at the right).  The name is isolated, so the line reads left to right with
    the name first, and the name itself right to left."""
    import datetime as dt
    import unicodedata

    from crlmboard.domain import models as m

    patient = m.Patient.model_validate(
        {"mrn": "RTL-1", "family_name": "تجريبي", "given_name": "سارة", "sex": "female"}
    )
    text = banner_text(patient, dt.date(2026, 12, 7))
    assert text.startswith("\u200e\u2068تجريبي, سارة\u2069  ·  MRN RTL-1")
    outside, depth = [], 0
    for ch in text:
        depth += ch in "\u2066\u2067\u2068"
        depth -= ch == "\u2069"
        if depth == 0 and unicodedata.bidirectional(ch) in ("L", "R", "AL"):
            outside.append(unicodedata.bidirectional(ch))
    assert outside[0] == "L"  # the paragraph's direction: left to right (the mark)
