"""The layout of the Meetings and Follow-up pages: their widgets and where they sit, no
behaviour (that is in ui/controllers/meetings.py) and no data (ui/models/meetings.py)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from crlmboard.ui.dialogs.meeting_dialog import QuorumLine
from crlmboard.ui.forms import read_only_table
from crlmboard.ui.models.meetings import (
    SORT_ROLE,
    AgendaModel,
    MeetingListModel,
    WorklistModel,
)


def table(model: Any) -> QTableView:
    view = read_only_table(model)
    view.setWordWrap(False)
    view.horizontalHeader().setHighlightSections(False)
    return view


class MeetingsLayout(QWidget):
    """Meetings on the left, the selected meeting with its agenda on the right."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        style = self.style()
        self.icons = {
            "ready": style.standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton),
            "missing": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
            "moved": style.standardIcon(QStyle.StandardPixmap.SP_ArrowForward),
        }

        # left: the meetings
        self.list_model = MeetingListModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.list_model)
        self.proxy.setSortRole(SORT_ROLE)
        self.list_view = table(self.proxy)
        self.list_view.setAccessibleName("Meetings")
        header = self.list_view.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.list_view.setSortingEnabled(True)
        self.list_view.setWordWrap(True)
        # every row two lines high (the date and how far away it is; a long location wraps
        # into them, whole in its tooltip): with thousands of past meetings, rows sized to
        # their contents would be measured one by one whenever the list changes
        rows = self.list_view.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(2 * self.list_view.fontMetrics().lineSpacing() + 10)
        header.setStretchLastSection(True)
        for column, width in enumerate((90, 44, 44, 124)):
            self.list_view.setColumnWidth(column, width)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(4, 4, 4, 4)
        title = QLabel("Meetings — upcoming first, then past ones")
        left_layout.addWidget(title)
        left_layout.addWidget(self.list_view, 1)
        row = QHBoxLayout()
        self.new_button = QPushButton("&New meeting…")
        self.edit_button = QPushButton("Ed&it…")
        self.delete_button = QPushButton("Delete…")
        self.figures_button = QPushButton("&Board figures…")
        for button in (self.new_button, self.edit_button, self.delete_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.figures_button)
        left_layout.addLayout(row)

        # right: the selected meeting
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 4, 4, 4)
        self.header = QLabel("No meeting selected.")
        font = self.header.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.header.setFont(font)
        self.header.setWordWrap(True)
        right_layout.addWidget(self.header)
        self.attendees = QLabel()
        self.attendees.setWordWrap(True)
        self.attendees.setTextFormat(Qt.TextFormat.PlainText)
        self.attendees.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        right_layout.addWidget(self.attendees)
        self.quorum_line = QuorumLine()
        right_layout.addWidget(self.quorum_line)
        meeting_row = QHBoxLayout()
        self.prepare_button = QPushButton("&Prepare meeting…")
        self.prepare_button.setToolTip("Readiness check: what is missing or outdated per case")
        self.pack_button = QPushButton("Meeting pac&k PDF…")
        self.close_button = QPushButton("C&lose meeting…")
        self.close_button.setToolTip(
            "After the meeting: cases not discussed move to the next meeting"
        )
        meeting_row.addWidget(self.prepare_button)
        meeting_row.addWidget(self.pack_button)
        meeting_row.addStretch(1)
        meeting_row.addWidget(self.close_button)
        right_layout.addLayout(meeting_row)

        agenda_box = QGroupBox(
            "Agenda (drag rows or use Move up / Move down to reorder; Enter reviews the case)"
        )
        agenda_layout = QVBoxLayout(agenda_box)
        self.agenda_model = AgendaModel(self)
        self.agenda_model.icons = self.icons
        self.agenda_view = table(self.agenda_model)
        self.agenda_view.setAccessibleName("Agenda")
        self.agenda_view.setDragEnabled(True)
        self.agenda_view.setAcceptDrops(True)
        self.agenda_view.setDropIndicatorShown(True)
        self.agenda_view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.agenda_view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.agenda_view.setWordWrap(True)
        self.agenda_view.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        agenda_header = self.agenda_view.horizontalHeader()
        agenda_header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        agenda_header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        agenda_header.setStretchLastSection(False)
        for column, width in ((0, 28), (1, 90), (2, 140), (4, 96), (5, 190)):
            self.agenda_view.setColumnWidth(column, width)
        agenda_layout.addWidget(self.agenda_view, 1)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("&Add case…")
        self.question_button = QPushButton("&Question…")
        self.up_button = QPushButton("Move &up")
        self.down_button = QPushButton("Move &down")
        self.remove_button = QPushButton("Remove")
        self.hold_button = QPushButton("H&old back…")
        self.review_button = QPushButton("&Review…")
        self.up_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowUp))
        self.down_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowDown))
        for button in (
            self.add_button,
            self.question_button,
            self.up_button,
            self.down_button,
            self.remove_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.hold_button)
        buttons.addWidget(self.review_button)
        agenda_layout.addLayout(buttons)
        right_layout.addWidget(agenda_box, 1)

        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([430, 850])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)


class FollowUpLayout(QWidget):
    """The follow-up worklist with its buttons."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.model = WorklistModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.view = table(self.proxy)
        self.view.setAccessibleName("Follow-up worklist")
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        for column, width in enumerate((110, 220, 110, 240, 110)):
            self.view.setColumnWidth(column, width)
        self.view.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.open_button = QPushButton("&Open case")
        self.follow_button = QPushButton("Follow-&up…")
        self.follow_button.setToolTip("Record whether the recommendation was carried out")
        self.refresh_button = QPushButton("Refresh")
        row.addStretch(1)
        for button in (self.refresh_button, self.open_button, self.follow_button):
            row.addWidget(button)
        layout.addLayout(row)
