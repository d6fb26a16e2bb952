"""The main window: the case list with filter-as-you-type (the workspace comes later)."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from crlmboard.services.board import Board
from crlmboard.ui.models.case_list import CaseListModel


class MainWindow(QMainWindow):
    """The window a coordinator keeps open all day."""

    def __init__(self, board: Board, user: str = ""):
        super().__init__()
        self.board = board
        self.setWindowTitle("crlmboard — tumor board cases")
        self.model = CaseListModel(board, self)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by MRN or name…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.model.set_query)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.resizeColumnsToContents()

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.table)
        self.setCentralWidget(central)

        self.count_label = QLabel()
        self.statusBar().addPermanentWidget(self.count_label)
        self.statusBar().showMessage(f"Database: {board.location}" +
                                     (f"   User: {user}" if user else ""))
        self.model.modelReset.connect(self._update_count)
        self._update_count()

        find = QAction("Find case", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self.filter_edit.setFocus)
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addAction(find)

        settings = QSettings()
        geometry = settings.value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 760)

    def _update_count(self) -> None:
        self.count_label.setText(f"{self.model.total} cases")

    def closeEvent(self, event: object) -> None:
        QSettings().setValue("main_window/geometry", self.saveGeometry())
        super().closeEvent(event)  # type: ignore[arg-type]
