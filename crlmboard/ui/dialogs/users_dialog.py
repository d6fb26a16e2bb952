"""Tools ▸ Users: the users of a department's PostgreSQL store, for an administrator —
who they are, their role, whether they may log in; add, disable and enable users.  The
server does the work (and refuses anyone but an administrator)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from crlmboard.domain.validation import InvalidInput
from crlmboard.ui.ops import ROLES, BoardError, BoardUser, Door

COLUMNS = ("Login", "Printed name", "Role", "State")


class UsersDialog(QDialog):
    """The users table with Add…, Disable and Enable."""

    def __init__(self, door: Door, parent: QWidget | None = None):
        super().__init__(parent)
        self.door = door
        self.setWindowTitle("Users")
        self.resize(640, 360)
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("&Add user…")
        self.disable_button = QPushButton("&Disable")
        self.enable_button = QPushButton("&Enable")
        close = QPushButton("Close")
        for button in (self.add_button, self.disable_button, self.enable_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.add_user)
        self.disable_button.clicked.connect(lambda: self._change("disable"))
        self.enable_button.clicked.connect(lambda: self._change("enable"))
        close.clicked.connect(self.accept)
        self.refresh()

    def refresh(self) -> None:
        def failed(error: BaseException) -> None:
            self.message.setText(_text(error))
            self._show([])

        self.door.list_users(self._show, failed)

    def _show(self, users: list[BoardUser]) -> None:
        self.table.setRowCount(len(users))
        for row, user in enumerate(users):
            values = (
                user.login,
                user.name,
                ", ".join(user.roles),
                "active" if user.can_login else "disabled",
            )
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))

    def selected_login(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return None if item is None else item.text()

    def _change(self, action: str) -> None:
        login = self.selected_login()
        if login is None:
            self.message.setText("Select a user first.")
            return

        def done(_changes: object) -> None:
            self.message.setText(
                f"{login} can no longer log in; their history stays."
                if action == "disable"
                else f"{login} can log in again."
            )
            self.refresh()

        def failed(error: BaseException) -> None:
            self.message.setText(_text(error))
            self.refresh()

        if action == "disable":
            self.door.disable_user(login, done, failed)
        else:
            self.door.enable_user(login, done, failed)

    def add_user(self, dialog: AddUserDialog | None = None) -> None:
        """Ask for the new user; on a refusal the dialog opens again, saying why."""
        dialog = dialog or AddUserDialog(self)
        if not dialog.exec():
            return
        if dialog.password.text() != dialog.again.text():
            dialog.problem.setText("The two passwords differ.")
            self.add_user(dialog)
            return
        login = dialog.login.text().strip()

        def added(_changes: object) -> None:
            self.message.setText(f"Added {login}.")
            self.refresh()

        def refused(error: BaseException) -> None:
            dialog.problem.setText(_text(error))
            self.add_user(dialog)

        self.door.add_user(
            login,
            dialog.name.text().strip(),
            [str(dialog.role.currentData())],
            dialog.password.text(),
            added,
            refused,
        )


def _text(error: BaseException) -> str:
    if isinstance(error, InvalidInput):
        return "\n".join(str(p) for p in error.problems)
    if isinstance(error, BoardError):
        return str(error)
    return f"The server did not complete it ({type(error).__name__})."


class AddUserDialog(QDialog):
    """Login, printed name, role and password (typed twice) of a new user."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Add a user")
        form = QFormLayout(self)
        self.login = QLineEdit()
        self.login.setPlaceholderText("lower-case login, e.g. lind")
        self.name = QLineEdit()
        self.name.setPlaceholderText("as signatures print it, e.g. Dr A. Lind")
        self.role = QComboBox()
        for role in ROLES:
            self.role.addItem(role, role)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Login", self.login)
        form.addRow("Printed name", self.name)
        form.addRow("Role", self.role)
        form.addRow("Password", self.password)
        form.addRow("Password again", self.again)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        form.addRow(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
