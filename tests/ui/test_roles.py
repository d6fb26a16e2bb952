"""The window offers each person what their role allows, with the reason in the tooltip,
and an administrator manages users from Tools ▸ Users (real PostgreSQL logins).  That the
database refuses the rest anyway is proven in tests/services/test_identity_postgres.py."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.dialogs.users_dialog import AddUserDialog, UsersDialog
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN, TODAY, postgres_url

pytestmark = [pytest.mark.ui, pytest.mark.postgres]


@pytest.fixture
def logins() -> Iterator[dict[str, tuple[str, str]]]:
    from tests.store.conftest import fresh_postgres

    fresh_postgres().dispose()
    tag = secrets.token_hex(3)
    made = {
        r: (f"t{tag}_{r}", secrets.token_urlsafe(16)) for r in ("viewer", "coordinator", "admin")
    }
    with Board.open(postgres_url(), clock=lambda: TODAY) as owner:
        assert owner.cases.import_path(GOLDEN).ok
        meeting = owner.meetings.create("2026-12-01", "16:00", "Room 3").meeting_id
        owner.meetings.add_to_agenda(meeting, "EX-0001", "Resect now?")
        for role, (login, password) in made.items():
            owner.users.add(login, f"Synthetic {role.title()}", [role], password)
    yield made


def open_as(qtbot: QtBot, login: str, password: str, today: date = TODAY) -> MainWindow:
    url = sa.make_url(postgres_url()).set(username=login).render_as_string(False)
    window = MainWindow(Board.open(url, clock=lambda: today, password=password))
    qtbot.addWidget(window)
    window.show()
    return window


def test_a_viewer_is_offered_no_edits_and_a_coordinator_no_signature(
    qtbot: QtBot, logins: dict[str, tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    # a new day: the case list's summaries are due for their recompute, which a viewer
    # leaves to those who may edit (the server would refuse the write)
    viewer = open_as(qtbot, *logins["viewer"], today=TODAY + timedelta(days=1))
    try:
        assert "summaries not recomputed" not in caplog.text
        assert viewer._edit_actions and not any(a.isEnabled() for a in viewer._edit_actions)
        assert "Only a coordinator or a clinician" in viewer._edit_actions[0].toolTip()
        assert "Synthetic Viewer is viewer" in viewer._edit_actions[0].toolTip()
        assert not viewer.users_action.isEnabled()
        viewer.pages.setCurrentWidget(viewer.meetings)
        viewer.meetings.reload()
        assert not viewer.meetings.new_button.isEnabled()
    finally:
        viewer.door.board.close()
    coordinator = open_as(qtbot, *logins["coordinator"])
    try:
        assert all(a.isEnabled() for a in coordinator._edit_actions)
        coordinator.pages.setCurrentWidget(coordinator.meetings)
        coordinator.meetings.reload()
        view = coordinator.meetings
        view.agenda_view.setCurrentIndex(view.agenda_model.index(0, 0))
        assert view.hold_button.isEnabled()
        assert not view.review_button.isEnabled()
        assert "Only a clinician" in view.review_button.toolTip()
    finally:
        coordinator.door.board.close()


def test_an_administrator_adds_and_disables_a_user_in_tools_users(
    qtbot: QtBot, logins: dict[str, tuple[str, str]]
) -> None:
    admin = open_as(qtbot, *logins["admin"])
    new_login = logins["admin"][0].replace("admin", "lind")
    new_password = secrets.token_urlsafe(16)
    try:
        assert admin.users_action.isEnabled()
        dialog = UsersDialog(admin.door, admin)
        qtbot.addWidget(dialog)
        assert dialog.table.rowCount() == 3

        def fill() -> None:
            add = QApplication.activeModalWidget()
            if not isinstance(add, AddUserDialog):
                QTimer.singleShot(20, fill)
                return
            add.login.setText(new_login)
            add.name.setText("Dr Synthetic Lind")
            add.role.setCurrentIndex(add.role.findData("clinician"))
            add.password.setText(new_password)
            add.again.setText(new_password)
            add.accept()

        QTimer.singleShot(0, fill)
        dialog.add_user()
        rows = {dialog.table.item(r, 0).text(): r for r in range(dialog.table.rowCount())}  # type: ignore[union-attr]
        assert new_login in rows, dialog.message.text()
        dialog.table.selectRow(rows[new_login])
        dialog._change("disable")
        row = {dialog.table.item(r, 0).text(): r for r in range(dialog.table.rowCount())}[new_login]  # type: ignore[union-attr]
        assert dialog.table.item(row, 3).text() == "disabled"  # type: ignore[union-attr]
    finally:
        admin.door.board.close()
    from crlmboard.services.maintenance import LoginFailed

    url = sa.make_url(postgres_url()).set(username=new_login).render_as_string(False)
    with pytest.raises(LoginFailed):
        Board.open(url, password=new_password)
