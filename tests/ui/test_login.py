"""Opening a database that needs a secret, in the app: a login dialog for a server login
(real PostgreSQL, SCRAM), a passphrase dialog for an encrypted file (real SQLCipher)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from crlmboard.app import open_with_login
from crlmboard.services import Board
from crlmboard.services.maintenance import encrypt_database
from crlmboard.store import encryption
from crlmboard.ui.dialogs.login import SecretDialog
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN, TODAY, postgres_url

pytestmark = [pytest.mark.ui]


def answer_dialogs(*answers: Callable[[SecretDialog], None]) -> list[str]:
    """Answer the next secret dialogs in turn; returns the messages they showed."""
    shown: list[str] = []
    pending = list(answers)

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SecretDialog):
            QTimer.singleShot(20, act)
            return
        shown.append(" ".join(label.text() for label in dialog.findChildren(QLabel)))
        pending.pop(0)(dialog)
        if pending:
            QTimer.singleShot(20, act)

    QTimer.singleShot(0, act)
    return shown


def type_in(secret: str, user: str | None = None) -> Callable[[SecretDialog], None]:
    def answer(dialog: SecretDialog) -> None:
        if user is not None:
            dialog.user_edit.setText(user)
        dialog.secret_edit.setText(secret)
        dialog.accept()

    return answer


@pytest.fixture
def encrypted(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "laptop.sqlite3"
    with Board.open(path, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
    encrypt_database(path, "synthetic passphrase words")
    encryption._passphrases.clear()
    yield path
    encryption._passphrases.clear()


@pytest.mark.db
def test_an_encrypted_database_asks_for_its_passphrase(qtbot: QtBot, encrypted: Path) -> None:
    shown = answer_dialogs(type_in("a wrong passphrase"), type_in("synthetic passphrase words"))
    board = open_with_login(str(encrypted), None)
    assert board is not None
    try:
        assert len(shown) == 2 and "is encrypted" in shown[0] and "does not open" in shown[1]
        assert board.cases.count() == 3
        assert board.reviews.needs_password  # signing asks for the passphrase again
    finally:
        board.close()
    encryption._passphrases.clear()  # as in a new session of the app
    answer_dialogs(lambda dialog: dialog.reject())
    assert open_with_login(str(encrypted), None) is None  # cancelled: nothing opened


@pytest.mark.db
def test_the_passphrase_dialog_keeps_the_database_path_whole_on_a_line_of_its_own(
    qtbot: QtBot, encrypted: Path
) -> None:
    """The reason wrapped at the dialog's width and broke the path after a "/"; the path
    now stands on a line of its own that never wraps (and can be selected and copied)."""
    labels: list[list[tuple[str, bool]]] = []

    def look(dialog: SecretDialog) -> None:
        labels.append([(label.text(), label.wordWrap()) for label in dialog.findChildren(QLabel)])
        dialog.secret_edit.setText("a wrong passphrase" if len(labels) == 1 else "")
        dialog.accept() if len(labels) == 1 else dialog.reject()

    answer_dialogs(look, look)
    assert open_with_login(str(encrypted), None) is None
    asked, refused = labels
    for shown, reason in ((asked, "is encrypted"), (refused, "does not open")):
        [(sentence, wraps)] = [(t, w) for t, w in shown if reason in t]
        assert wraps and str(encrypted) not in sentence and "/" not in sentence
        assert (str(encrypted), False) in shown  # the path alone, unwrapped


@pytest.mark.postgres
def test_a_server_login_is_asked_and_the_window_shows_who_and_their_role(qtbot: QtBot) -> None:
    from tests.store.conftest import fresh_postgres

    fresh_postgres().dispose()
    login, password = f"t{secrets.token_hex(3)}_nurse", secrets.token_urlsafe(16)
    with Board.open(postgres_url(), clock=lambda: TODAY) as owner:
        owner.users.add(login, "Synthetic Nurse", ["coordinator"], password)
    url = sa.make_url(postgres_url()).set(username=login).render_as_string(False)
    shown = answer_dialogs(type_in("not it"), type_in(password, user=login))
    board = open_with_login(url, None)
    assert board is not None
    try:
        assert "asks for a password" in shown[0] and "refused the login" in shown[1]
        window = MainWindow(board)
        qtbot.addWidget(window)
        status = window.statusBar().currentMessage()
        assert "Synthetic Nurse (coordinator)" in status
        assert password not in status and password not in board.location
    finally:
        board.close()


@pytest.mark.db
def test_a_passphrase_left_out_or_refused_at_signing_gets_the_focus_in_sight(
    qtbot: QtBot, encrypted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signing on an encrypted file re-asks its passphrase, in a field at the foot of the
    review form (out of sight at 1280×720).  Left empty, or refused, the reason was shown
    and the focus stayed on Sign…: what was typed next went nowhere, and the field had to
    be found by scrolling.  Now it gets the focus, in sight, with what it holds selected."""
    from PySide6.QtWidgets import QFormLayout, QMessageBox, QScrollArea

    from crlmboard.ui.dialogs.review_dialog import ReviewDialog
    from tests.ui.test_meetings import PEOPLE, select_agenda_row, when_dialog

    answer_dialogs(type_in("synthetic passphrase words"))
    board = open_with_login(str(encrypted), None)
    assert board is not None
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Yes)
    try:
        meeting = board.meetings.create(str(TODAY), "16:00", "Room 3", PEOPLE).meeting_id
        board.meetings.add_to_agenda(meeting, "EX-0001", "Resect now?")
        window = MainWindow(board)
        qtbot.addWidget(window)
        window.resize(1280, 720)
        window.show()
        window.pages.setCurrentWidget(window.meetings.view)
        window.meetings.reload(meeting)
        select_agenda_row(window, "EX-0001")
        seen: list[tuple[bool, bool, str]] = []
        told: list[str] = []

        def in_sight(dialog: ReviewDialog) -> bool:
            field = dialog.password_edit
            scroll = next(
                s for s in dialog.findChildren(QScrollArea) if s.widget().isAncestorOf(field)
            )
            QApplication.processEvents()
            top = field.mapTo(scroll.viewport(), field.rect().topLeft()).y()
            return top >= 0 and top + field.height() <= scroll.viewport().height()

        def review(dialog: ReviewDialog) -> None:
            dialog.resize(1260, 700)
            qtbot.keyClicks(dialog.decision_edit, "Resect segment 6.")
            dialog.accept()  # no passphrase typed
            seen.append((dialog.focusWidget() is dialog.password_edit, in_sight(dialog), ""))
            told.append(dialog.problems.text())
            qtbot.keyClicks(dialog.password_edit, "not the passphrase")
            dialog.accept()  # refused by the database
            qtbot.waitUntil(lambda: dialog.isEnabled() and "not right" in dialog.problems.text())
            told.append(dialog.problems.text())
            form = dialog.password_edit.parentWidget().layout()
            assert isinstance(form, QFormLayout)
            label = form.labelForField(dialog.password_edit)
            assert isinstance(label, QLabel)
            told.append(label.text())
            told.append(dialog.password_edit.accessibleName())
            selected = dialog.password_edit.selectedText()
            seen.append((dialog.focusWidget() is dialog.password_edit, in_sight(dialog), selected))
            dialog.reject()

        when_dialog(review, ReviewDialog)
        window.meetings.menu_actions["review"].trigger()
        assert seen == [(True, True, ""), (True, True, "not the passphrase")]
        # one word for the field, the word of an encrypted file: its passphrase
        assert told == [
            "Please correct:\nPassphrase: re-enter your passphrase to sign",
            "Please correct:\nPassphrase: not right; nothing was signed",
            "Your passphrase *",
            "Passphrase",
        ]
        assert not board.cases.get("EX-0001").reviews  # nothing signed
    finally:
        board.close()
