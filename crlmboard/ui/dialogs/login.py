"""Asking for what opens a database: a server login (user name and password) or an
encrypted file's passphrase.  The secret stays in memory; it is kept in the OS keyring only
when the user ticks "remember"."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)


class SecretDialog(QDialog):
    """User name (for a server) and password, or a passphrase, with "remember"."""

    def __init__(
        self,
        title: str,
        message: str,
        *,
        user: str | None = None,
        ask_user: bool = False,
        secret_label: str = "Password",
        keyring: bool = False,
        path: str = "",
        parent: QWidget | None = None,
    ):
        """`path`: the file the message is about, shown whole on a line of its own."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        layout = QVBoxLayout(self)
        text = QLabel(message)
        text.setWordWrap(True)
        layout.addWidget(text)
        if path:  # never wrapped: a wrapped path breaks after a "/" and misleads
            where = QLabel(path)
            where.setTextFormat(Qt.TextFormat.PlainText)
            where.setWordWrap(False)
            where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            where.setAccessibleName("Database file")
            layout.addWidget(where)
        form = QFormLayout()
        self.user_edit = QLineEdit(user or "")
        self.user_edit.setAccessibleName("User name")
        if ask_user:
            form.addRow("User name", self.user_edit)
        else:
            self.user_edit.hide()
        self.secret_edit = QLineEdit()
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_edit.setAccessibleName(secret_label)
        form.addRow(secret_label, self.secret_edit)
        layout.addLayout(form)
        self.remember = QCheckBox("Remember in this computer's keyring")
        self.remember.setEnabled(keyring)
        if not keyring:
            self.remember.setToolTip("There is no OS keyring here to keep it in.")
        layout.addWidget(self.remember)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        (self.secret_edit if user or not ask_user else self.user_edit).setFocus()

    @property
    def user(self) -> str:
        return self.user_edit.text().strip()

    @property
    def secret(self) -> str:
        return self.secret_edit.text()
