"""Documents written from the app: the case summary, a signed review's summary and its
outcome letter.  The PDF is written by the door's worker behind its progress dialog; the
folder last written to is remembered per user (QSettings, never the database); once written,
a message names whose document it is and offers *Open* and *Show in folder*."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QStandardPaths, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from crlmboard.domain.case import Case
from crlmboard.ui.ops import Door, failure_text

FOLDER_SETTING = "exports/folder"
PDF_FILTER = "PDF (*.pdf)"


def export_folder() -> str:
    """The folder of the last export (per user), else the user's documents folder."""
    remembered = QSettings().value(FOLDER_SETTING)
    if remembered and Path(str(remembered)).is_dir():
        return str(remembered)
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return documents or str(Path.home())


def remember_folder(path: str | os.PathLike[str]) -> None:
    QSettings().setValue(FOLDER_SETTING, str(Path(path).resolve().parent))


def whose(case: Case) -> str:
    """`EXAMPLE, Eva (EX-0003)`: whose document it is."""
    patient = case.patient
    name = ", ".join(p for p in ((patient.family_name or "").upper(), patient.given_name) if p)
    return f"{name} ({case.mrn})" if name else case.mrn


def _file_name(text: str) -> str:
    """A name safe in every file system (an MRN may hold `/`)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def ask_target(parent: QWidget, title: str, name: str) -> str:
    """Where to write a PDF (in the remembered folder first); '' when cancelled."""
    path, _ = QFileDialog.getSaveFileName(
        parent, title, str(Path(export_folder()) / name), PDF_FILTER
    )
    if path and not path.lower().endswith(".pdf"):
        path += ".pdf"
    return path


def show_written(parent: QWidget, title: str, text: str, path: Path) -> None:
    """Say what was written, with *Open* (the file) and *Show in folder* (its folder)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle(title)
    box.setText(text)
    box.setInformativeText(str(path))
    open_button = box.addButton("&Open", QMessageBox.ButtonRole.ActionRole)
    folder_button = box.addButton("Show in &folder", QMessageBox.ButtonRole.ActionRole)
    close = box.addButton(QMessageBox.StandardButton.Close)
    box.setDefaultButton(open_button)
    box.setEscapeButton(close)
    box.exec()
    clicked = box.clickedButton()
    if clicked is open_button:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
    elif clicked is folder_button:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))


def _write(
    parent: QWidget,
    title: str,
    what: str,
    path: str,
    start: Any,
) -> None:
    """Run `start(path, done, failed)` on the door; remember the folder when written."""

    def done(target: Any) -> None:
        written = Path(target)
        remember_folder(written)
        show_written(parent, title, what, written)

    def failed(error: BaseException) -> None:
        QMessageBox.warning(parent, title, f"{what} was not written. {failure_text(error)}")

    start(path, done, failed)


def export_case_summary(parent: QWidget, door: Door, case: Case) -> None:
    """The case summary: the current evaluation with the latest signed review."""
    path = ask_target(parent, "Export PDF summary", f"{_file_name(case.mrn)}-summary.pdf")
    if not path:
        return
    mrn = case.mrn
    _write(
        parent,
        "Export PDF summary",
        f"The case summary of {whose(case)}",
        path,
        lambda target, done, failed: door.write_case_summary(mrn, target, done, failed),
    )


def _signed(parent: QWidget, case: Case, index: int, title: str) -> bool:
    if 0 <= index < len(case.reviews) and case.reviews[index].signed:
        return True
    QMessageBox.information(
        parent,
        title,
        "Documents are written from a signed review: select a signed review in the list "
        "(a draft is signed at its meeting first).",
    )
    return False


def _export_signed(
    parent: QWidget, case: Case, index: int, title: str, kind: str, what: str, write: Any
) -> None:
    """A document of signed review `index` (0-based): `kind` goes into the file's name,
    `what` ("The summary") into the messages; `write` writes it."""
    if not _signed(parent, case, index, title):
        return
    when = case.reviews[index].meeting_date.isoformat()
    path = ask_target(parent, title, f"{_file_name(case.mrn)}-{kind}-{index + 1}-{when}.pdf")
    if path:
        _write(
            parent,
            title,
            f"{what} of review {index + 1} ({when}) of {whose(case)}",
            path,
            write,
        )


def export_review_summary(parent: QWidget, door: Door, case: Case, index: int) -> None:
    """The summary of signed review `index` (0-based), with the evaluation it was signed on."""
    mrn = case.mrn
    _export_signed(
        parent,
        case,
        index,
        "Export review PDF",
        "review",
        "The summary",
        lambda target, done, failed: door.write_case_summary(
            mrn, target, done, failed, review_index=index
        ),
    )


def export_letter(parent: QWidget, door: Door, case: Case, index: int) -> None:
    """The outcome letter of signed review `index` (0-based)."""
    mrn = case.mrn
    _export_signed(
        parent,
        case,
        index,
        "Export outcome letter",
        "letter",
        "The outcome letter",
        lambda target, done, failed: door.write_letter(mrn, index, target, done, failed),
    )
