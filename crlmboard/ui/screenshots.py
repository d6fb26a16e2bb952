"""`crlmboard screenshots OUTDIR`: PNGs of the main views on a fresh demo database."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from crlmboard.services.demo import create_demo_database
from crlmboard.ui.main_window import MainWindow

RICHEST = "DEMO-0007"


def _grab(widget: QWidget, path: Path) -> Path:
    QApplication.processEvents()
    widget.grab().save(str(path))
    return path


def _grab_dialog(dialog: QDialog, path: Path, written: list[Path]) -> None:
    def shoot() -> None:
        written.append(_grab(dialog, path))
        dialog.reject()

    QTimer.singleShot(0, shoot)
    dialog.exec()


def take_screenshots(outdir: Path, *, width: int = 1280, height: int = 720) -> list[Path]:
    """Write the screenshots and return their paths."""
    from crlmboard.app import load_bundled_fonts

    load_bundled_fonts()
    outdir.mkdir(parents=True, exist_ok=True)
    board, _summary = create_demo_database(outdir / "demo.sqlite3")
    window = MainWindow(board, user="demo coordinator")
    window.resize(width, height)
    window.show()
    written = [_grab(window, outdir / "01-case-list.png")]
    window.select_case(RICHEST)
    tabs = window.workspace
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        name = tabs.tabText(index).replace("&&", "and").replace("&", "").lower()
        name = "-".join(name.split())
        written.append(_grab(window, outdir / f"{index + 2:02d}-tab-{name}.png"))

    from crlmboard.ui.dialogs.preferences import PreferencesDialog
    from crlmboard.ui.dialogs.rule_catalogue import RuleCatalogueDialog

    catalogue = RuleCatalogueDialog(board.evaluation.catalogue(),
                                    board.evaluation.profile.name, window)
    catalogue.select_rule("SURGERY.FLR_BELOW_REQUIRED")
    _grab_dialog(catalogue, outdir / "20-rule-catalogue.png", written)
    _grab_dialog(PreferencesDialog(window), outdir / "21-preferences.png", written)
    window.close()
    board.close()
    return written
