"""Preferences: the default database and the institution
profile (stored with QSettings)."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def _with_browse(edit: QLineEdit, caption: str, pattern: str) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    button = QPushButton("Browse…")

    def browse() -> None:
        path, _ = QFileDialog.getOpenFileName(box, caption, edit.text(), pattern)
        if path:
            edit.setText(path)

    button.clicked.connect(browse)
    row.addWidget(button)
    return box


class PreferencesDialog(QDialog):
    """Edit the user's preferences; OK stores them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.resize(640, 220)
        settings = QSettings()
        self.database = QLineEdit(str(settings.value("default_database") or ""))
        self.database.setPlaceholderText("the per-user database")
        self.profile = QLineEdit(str(settings.value("profile") or ""))
        self.profile.setPlaceholderText("the packaged default profile")
        form = QFormLayout()
        form.addRow(
            "Default database",
            _with_browse(
                self.database, "Default database", "crlmboard database (*.sqlite3);;All files (*)"
            ),
        )
        form.addRow(
            "Institution profile",
            _with_browse(self.profile, "Institution profile", "Profile (*.toml)"),
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        note = QLabel(
            "The default database is used the next time crlmboard starts without "
            "--db. The profile's thresholds apply at once."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def accept(self) -> None:
        settings = QSettings()
        settings.setValue("default_database", self.database.text().strip())
        settings.setValue("profile", self.profile.text().strip())
        super().accept()
