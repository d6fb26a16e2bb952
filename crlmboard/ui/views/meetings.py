"""The Meetings page: the meetings (upcoming first) on the left; the selected meeting on the
right with its attendees, the live quorum and the agenda (reorder, remove, hold back,
review).  And the Follow-up page: signed recommendations with no follow-up past their due
dates.

Both reach data only through `board.meetings` and `board.reviews`, and announce every change
with `changed(ChangeSet)` so the window refreshes the case list and the open case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStyle,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from crlmboard.domain.board_work import OverdueFollowUp, Quorum, ReadinessItem
from crlmboard.domain.labels import value_label
from crlmboard.domain.validation import InvalidInput
from crlmboard.services.board import Board, BoardError, ChangeSet
from crlmboard.services.log import log_path
from crlmboard.services.meetings import AgendaEntry, MeetingListing, MeetingSummary
from crlmboard.ui.dialogs.meeting_dialog import (
    AgendaDialog,
    MeetingDialog,
    NoteDialog,
    QuorumLine,
    ReadinessDialog,
    error_text,
    hold_back_dialog,
    role_text,
    short_readiness,
)
from crlmboard.ui.forms import locale_date, read_only_table

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
AGENDA_MIME = "application/x-crlmboard-agenda-item"

STATUS_TEXT = {
    "planned": "planned",
    "discussed": "discussed, signed",
    "held": "held back",
    "moved": "moved on",
}


def _relative(when: dt.date, today: dt.date) -> str:
    days = (when - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


def _name(entry: AgendaEntry) -> str:
    family = (entry.family_name or "").upper()
    return ", ".join(x for x in (family, entry.given_name or "") if x)


def _table(model: Any) -> QTableView:
    view = read_only_table(model)
    view.setWordWrap(False)
    view.horizontalHeader().setHighlightSections(False)
    return view


@dataclass(frozen=True)
class _ListRow:
    """What the meeting list shows of one meeting, computed once."""

    display: tuple[str, ...]
    sort: tuple[Any, ...]
    tips: tuple[str | None, ...]
    complete: bool


class MeetingListModel(QAbstractTableModel):
    """One row per meeting: date (and how far away), time, cases, quorum ("4/5 core
    roles"), location.  Rows are light listings (no agenda); what a row shows is computed
    the first time it is asked for and kept until the next `set_meetings`."""

    HEADERS = ("Date", "Time", "Cases", "Quorum", "Location")

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.meetings: list[MeetingListing] = []
        self.quorums: list[Quorum] = []
        self.today = dt.date.today()
        self._icons: dict[bool, Any] = {}
        self._rows: dict[int, _ListRow] = {}
        self._ids: dict[int, int] = {}

    def set_meetings(
        self,
        meetings: Sequence[MeetingListing],
        quorums: Sequence[Quorum],
        today: dt.date,
        icons: dict[bool, Any] | None = None,
    ) -> None:
        self.beginResetModel()
        self.meetings = list(meetings)
        self.quorums = list(quorums)
        self.today = today
        self._icons = icons or {}
        self._rows = {}
        self._ids = {m.id: row for row, m in enumerate(self.meetings)}
        self.endResetModel()

    def row_of(self, meeting_id: int) -> int | None:
        return self._ids.get(meeting_id)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.meetings)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    def _row(self, row: int) -> _ListRow:
        found = self._rows.get(row)
        if found is None:
            meeting, quorum = self.meetings[row], self.quorums[row]
            time, location = meeting.fields.time or "", meeting.fields.location or ""
            total = len(quorum.present) + len(quorum.missing)
            found = self._rows[row] = _ListRow(
                (
                    f"{locale_date(meeting.date)}\n{_relative(meeting.date, self.today)}",
                    time,
                    str(meeting.cases),
                    f"{len(quorum.present)}/{total} core roles",
                    location,
                ),
                (
                    meeting.date.isoformat() + time,
                    time,
                    meeting.cases,
                    len(quorum.present),
                    location,
                ),
                (
                    None,
                    None,
                    f"{meeting.cases} case(s) on the agenda, {meeting.discussed} discussed",
                    "All core roles present"
                    if quorum.complete
                    else "Missing: " + ", ".join(role_text(r) for r in quorum.missing),
                    location or None,
                ),
                quorum.complete,
            )
        return found

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.meetings):
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._row(index.row()).display[column]
        if role == SORT_ROLE:
            return self._row(index.row()).sort[column]
        if role == Qt.ItemDataRole.UserRole:
            return self.meetings[index.row()].id
        if role == Qt.ItemDataRole.DecorationRole and column == 3 and self._icons:
            return self._icons.get(self._row(index.row()).complete)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._row(index.row()).tips[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class AgendaModel(QAbstractTableModel):
    """The agenda in its order: position, MRN, name, question, status, readiness.  Rows can
    be dragged to a new place; the new order goes to `reorder(item_ids)`."""

    HEADERS = ("#", "MRN", "Name", "Question for the board", "Status", "Readiness")

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.entries: list[AgendaEntry] = []
        self.readiness: dict[int, list[ReadinessItem]] | None = None
        self.reorder: Callable[[list[int]], None] | None = None
        self.icons: dict[str, Any] = {}

    def set_agenda(
        self, entries: Sequence[AgendaEntry], readiness: dict[int, list[ReadinessItem]] | None
    ) -> None:
        self.beginResetModel()
        self.entries = list(entries)
        self.readiness = readiness
        self.endResetModel()

    def row_of(self, item_id: int) -> int | None:
        return next((i for i, e in enumerate(self.entries) if e.id == item_id), None)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    def _readiness(self, entry: AgendaEntry) -> tuple[str, str, str | None]:
        """(text, tooltip, icon key) of the readiness column."""
        if entry.status in ("held", "moved"):
            what = "held back" if entry.status == "held" else "moved to the next meeting"
            note = entry.note or ""
            return (f"{what}: {note}" if note else what, note, "moved")
        if entry.status == "discussed":
            return "review signed", "", None
        if self.readiness is None or entry.id not in self.readiness:
            return "", "Prepare meeting (readiness) checks this case", None
        items = self.readiness[entry.id]
        if not items:
            return "ready", "Nothing missing or outdated as of the meeting date", "ready"
        return (
            "; ".join(short_readiness(i.message) for i in items),
            "\n".join(i.message for i in items),
            "missing",
        )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        entry = self.entries[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 5:
                return self._readiness(entry)[0]
            return (
                str(index.row() + 1),
                entry.mrn,
                _name(entry),
                entry.question,
                STATUS_TEXT.get(entry.status, entry.status),
            )[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 3:
                return entry.question
            if column == 5:
                return self._readiness(entry)[1] or None
        if role == Qt.ItemDataRole.DecorationRole:
            if column == 4 and entry.status == "discussed":
                return self.icons.get("ready")
            if column == 4 and entry.status in ("held", "moved"):
                return self.icons.get("moved")
            if column == 5:
                key = self._readiness(entry)[2]
                return self.icons.get(key) if key else None
        if role == Qt.ItemDataRole.UserRole:
            return entry.id
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # -- drag and drop reordering ----------------------------------------------------------

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemIsDropEnabled
        )

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [AGENDA_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        data = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        if rows:
            data.setData(AGENDA_MIME, QByteArray(str(self.entries[rows[0]].id).encode()))
        return data

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        """Move the dragged entry before `row` (or before the row dropped on).  The new
        order is handed to `reorder` after the drop; False, so the view removes nothing."""
        if action != Qt.DropAction.MoveAction or not data.hasFormat(AGENDA_MIME):
            return False
        try:
            item_id = int(bytes(data.data(AGENDA_MIME).data()).decode())
        except ValueError:
            return False
        order = self.moved(
            item_id, row if row >= 0 else (parent.row() if parent.isValid() else len(self.entries))
        )
        if order is not None and self.reorder is not None:
            reorder = self.reorder
            QTimer.singleShot(0, lambda: reorder(order))
        return False

    def moved(self, item_id: int, before: int) -> list[int] | None:
        """The item ids with `item_id` moved before row `before` (None if unchanged)."""
        ids = [e.id for e in self.entries]
        if item_id not in ids:
            return None
        source = ids.index(item_id)
        target = before - 1 if before > source else before
        ids.insert(max(0, min(target, len(ids) - 1)), ids.pop(source))
        return None if ids == [e.id for e in self.entries] else ids


class MeetingsView(QWidget):
    """Meetings on the left, the selected meeting with its agenda on the right."""

    changed = Signal(object)  # ChangeSet
    message = Signal(str)

    def __init__(
        self,
        board: Board,
        current_case: Callable[[], str | None] | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.board = board
        self.current_case = current_case or (lambda: None)
        self._readiness: dict[int, dict[int, list[ReadinessItem]]] = {}
        self._threads: list[Any] = []
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
        self.list_view = _table(self.proxy)
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
        self.list_view.selectionModel().currentRowChanged.connect(lambda *_a: self._show_selected())
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
        self.agenda_model.reorder = self._reorder_to
        self.agenda_view = _table(self.agenda_model)
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
        self.agenda_view.activated.connect(lambda _i: self.review())
        self.agenda_view.selectionModel().currentRowChanged.connect(
            lambda *_a: self._update_actions()
        )
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

        self.new_button.clicked.connect(self.new_meeting)
        self.edit_button.clicked.connect(self.edit_meeting)
        self.delete_button.clicked.connect(self.delete_meeting)
        self.figures_button.clicked.connect(self.board_figures)
        self.prepare_button.clicked.connect(self.prepare)
        self.pack_button.clicked.connect(self.meeting_pack)
        self.close_button.clicked.connect(self.close_meeting)
        self.add_button.clicked.connect(self.add_case)
        self.question_button.clicked.connect(self.edit_question)
        self.up_button.clicked.connect(lambda: self.move_entry(-1))
        self.down_button.clicked.connect(lambda: self.move_entry(1))
        self.remove_button.clicked.connect(self.remove_entry)
        self.hold_button.clicked.connect(self.hold_back)
        self.review_button.clicked.connect(self.review)
        self.menu_actions: dict[str, QAction] = {}
        # Nothing is read until the page is first shown (or an action needs the meetings):
        # `_stale` says the list must be read; `_current` is the selected meeting in full.
        self._stale = True
        self._current: MeetingSummary | None = None

    # -- menu ---------------------------------------------------------------------------

    def fill_menu(self, menu: QMenu) -> None:
        """The Meeting menu: every action of the page, with its shortcut."""
        entries: list[tuple[str, str, Callable[[], Any], str | None, str]] = [
            ("new", "&New meeting…", self.new_meeting, "Ctrl+Shift+M", ""),
            ("edit", "&Edit meeting…", self.edit_meeting, "Ctrl+Shift+E", ""),
            ("delete", "&Delete meeting…", self.delete_meeting, None, ""),
            ("", "", lambda: None, None, ""),
            (
                "add",
                "&Add open case to agenda…",
                self.add_open_case,
                "Ctrl+Shift+A",
                "Put the case open in the workspace on a meeting's agenda, with its question",
            ),
            ("question", "Edit &question…", self.edit_question, None, ""),
            ("up", "Move case &up", lambda: self.move_entry(-1), None, ""),
            ("down", "Move case do&wn", lambda: self.move_entry(1), None, ""),
            ("remove", "Remo&ve case from agenda", self.remove_entry, None, ""),
            ("", "", lambda: None, None, ""),
            (
                "prepare",
                "&Prepare meeting (readiness)…",
                self.prepare,
                "Ctrl+Shift+R",
                "What is missing or outdated for each agenda case",
            ),
            (
                "review",
                "&Review case…",
                self.review,
                None,
                "Review the selected agenda case (Enter on an agenda row)",
            ),
            (
                "hold",
                "&Hold back…",
                self.hold_back,
                "Ctrl+Shift+H",
                "Move the selected agenda case to the next meeting with a note",
            ),
            (
                "close",
                "&Close meeting…",
                self.close_meeting,
                None,
                "Agenda cases not discussed move to the next meeting",
            ),
            ("", "", lambda: None, None, ""),
            ("pack", "Meeting pac&k PDF…", self.meeting_pack, "Ctrl+Shift+P", ""),
            ("figures", "Board &figures…", self.board_figures, "Ctrl+Shift+F", ""),
        ]
        for key, text, slot, shortcut, tip in entries:
            if not key:
                menu.addSeparator()
                continue
            action = QAction(text, self)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            if tip:
                action.setStatusTip(tip)
            forward = key not in ("new", "add", "figures")  # these work from any page
            action.triggered.connect(
                lambda _checked=False, run=slot, show=forward, name=key: self._from_menu(
                    run, show, name
                )
            )
            menu.addAction(action)
            self.menu_actions[key] = action
        self._update_actions()

    def _from_menu(self, run: Callable[[], Any], show: bool, key: str = "") -> None:
        """Run a menu action; one on the selected meeting brings the page forward first,
        so its effect is seen.  Before the page was first read every action is offered:
        the meetings are read now and the action runs only if it still applies."""
        if show:
            holder = self.parentWidget()
            while holder is not None and not isinstance(holder, QTabWidget):
                holder = holder.parentWidget()
            if isinstance(holder, QTabWidget):
                holder.setCurrentWidget(self)
        if self._stale:
            self.reload()
            action = self.menu_actions.get(key)
            if action is not None and not action.isEnabled():
                return
        run()

    # -- reading ------------------------------------------------------------------------

    def set_board(self, board: Board) -> None:
        self.board = board
        self._readiness.clear()
        self._current = None
        if self.isVisible():
            self.reload()
        else:  # nothing of the other database stays on the page
            self.list_model.set_meetings([], [], board.today())
            self._stale = True
            self._show_selected()

    def invalidate(self) -> None:
        """Cases changed elsewhere: read the meetings again now if the page shows, else
        when it is next shown (the readiness check runs again then)."""
        if self.isVisible():
            self.reload()
        else:
            self._stale = True
            self._update_actions()

    def _ensure_loaded(self) -> None:
        if self._stale:
            self.reload()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()  # first shown, or changed while hidden
        else:
            self._show_selected()  # the readiness of the selected meeting, now that it shows

    def reload(self, keep: int | None = None, *, readiness: bool = True) -> None:
        """Read the meetings again, keeping the selected meeting (or selecting `keep`).
        The list is light (no agendas); only the selected meeting is read in full."""
        selected = keep if keep is not None else self.selected_meeting_id()
        entry = self.selected_entry()
        self._stale = False
        self._current = None
        if readiness:
            self._readiness.clear()
        meetings = self.board.meetings.listing()
        quorums = [self.board.meetings.quorum(m) for m in meetings]
        icons = {True: self.icons["ready"], False: self.icons["missing"]}
        self.list_model.set_meetings(meetings, quorums, self.board.today(), icons)
        if not self.select_meeting(selected) and meetings:
            self.select_meeting(meetings[0].id)
        if not meetings:
            self._show_selected()
        if entry is not None:
            self.select_entry(entry.id)

    def select_meeting(self, meeting_id: int | None) -> bool:
        if meeting_id is None:
            return False
        row = self.list_model.row_of(meeting_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.list_model.index(row, 0))
        self.list_view.setCurrentIndex(index)
        self.list_view.selectRow(index.row())
        self._show_selected()
        return True

    def selected_meeting(self) -> MeetingSummary | None:
        """The selected meeting with its attendees and agenda (read once per selection)."""
        meeting_id = self.selected_meeting_id()
        if meeting_id is None:
            return None
        if self._current is None or self._current.id != meeting_id:
            try:
                self._current = self.board.meetings.get(meeting_id)
            except BoardError:
                return None
        return self._current

    def selected_meeting_id(self) -> int | None:
        index = self.list_view.currentIndex()
        if not index.isValid():
            return None
        row = self.proxy.mapToSource(index).row()
        return (
            self.list_model.meetings[row].id if 0 <= row < len(self.list_model.meetings) else None
        )

    def selected_entry(self) -> AgendaEntry | None:
        index = self.agenda_view.currentIndex()
        if not index.isValid() or not 0 <= index.row() < len(self.agenda_model.entries):
            return None
        return self.agenda_model.entries[index.row()]

    def select_entry(self, item_id: int) -> None:
        row = self.agenda_model.row_of(item_id)
        if row is not None:
            self.agenda_view.setCurrentIndex(self.agenda_model.index(row, 0))
            self.agenda_view.selectRow(row)

    def readiness(self, meeting: MeetingSummary) -> dict[int, list[ReadinessItem]] | None:
        """The readiness of an upcoming meeting's cases (computed once per refresh)."""
        if meeting.date < self.board.today():
            return None
        if meeting.id not in self._readiness:
            try:
                self._readiness[meeting.id] = {
                    entry.id: items for entry, items in self.board.meetings.prepare(meeting.id)
                }
            except BoardError:
                return None
        return self._readiness[meeting.id]

    def _show_selected(self) -> None:
        meeting = self.selected_meeting()
        if meeting is None:
            self.header.setText("No meeting yet: New meeting… (Ctrl+Shift+M) creates one.")
            self.attendees.clear()
            self.quorum_line.show_quorum(None)
            self.agenda_model.set_agenda([], None)
            self._update_actions()
            return
        when = locale_date(meeting.date)
        parts = [f"Meeting {when} ({_relative(meeting.date, self.board.today())})"]
        if meeting.fields.time:
            parts.append(meeting.fields.time)
        if meeting.fields.location:
            parts.append(meeting.fields.location)
        self.header.setText("  ·  ".join(parts))
        people = "; ".join(f"{a.name} ({role_text(a.role).lower()})" for a in meeting.attendees)
        self.attendees.setText(
            f"Attendees: {people}"
            if people
            else "Attendees: none recorded yet (Edit meeting… adds them)."
        )
        self.quorum_line.show_quorum(self.board.meetings.quorum(meeting))
        current = self.selected_entry()
        # the readiness check runs the engine per case: only for a page that shows
        readiness = self.readiness(meeting) if self.isVisible() else None
        self.agenda_model.set_agenda(meeting.agenda, readiness)
        if current is not None and current.meeting_id == meeting.id:
            self.select_entry(current.id)
        elif meeting.agenda:
            self.select_entry(meeting.agenda[0].id)
        self._update_actions()

    def _update_actions(self) -> None:
        meeting = self.selected_meeting_id() is not None
        entry = self.selected_entry()
        planned = entry is not None and entry.status == "planned"
        states = {
            "edit": meeting,
            "delete": meeting,
            "prepare": meeting,
            "close": meeting,
            "pack": meeting,
            "question": planned,
            "up": entry is not None,
            "down": entry is not None,
            "remove": planned,
            "hold": planned,
            "review": entry is not None and entry.status in ("planned", "discussed"),
        }
        if self._stale:  # not read yet: offered, and checked again when triggered
            states = dict.fromkeys(states, True)
        buttons = {
            "edit": self.edit_button,
            "delete": self.delete_button,
            "prepare": self.prepare_button,
            "close": self.close_button,
            "pack": self.pack_button,
            "question": self.question_button,
            "up": self.up_button,
            "down": self.down_button,
            "remove": self.remove_button,
            "hold": self.hold_button,
            "review": self.review_button,
        }
        # What the user's role does not allow is not offered (the database refuses it too)
        who = self.board.identity
        allowed = dict.fromkeys(states, who.can_edit)
        allowed["pack"] = True
        allowed["review"] = who.can_sign
        reasons = {k: who.refusal("a coordinator or a clinician") for k in states}
        reasons["review"] = who.refusal("a clinician (signing and amending reviews)")
        for key, enabled in states.items():
            buttons[key].setEnabled(enabled and allowed[key])
            buttons[key].setToolTip("" if allowed[key] else reasons[key])
            if key in self.menu_actions:
                self.menu_actions[key].setEnabled(enabled and allowed[key])
        for button in (self.new_button, self.add_button):
            button.setEnabled(who.can_edit)
            button.setToolTip("" if who.can_edit else reasons["edit"])

    # -- helpers ------------------------------------------------------------------------

    def _need_meeting(self, title: str) -> MeetingSummary | None:
        meeting = self.selected_meeting()
        if meeting is None:
            QMessageBox.information(
                self,
                title,
                "Select a meeting first, or create one with New meeting… (Ctrl+Shift+M).",
            )
        return meeting

    def _need_entry(self, title: str) -> AgendaEntry | None:
        entry = self.selected_entry()
        if entry is None:
            QMessageBox.information(self, title, "Select a case on the agenda first.")
        return entry

    def _done(
        self, changes: ChangeSet, text: str = "", *, keep: int | None = None, readiness: bool = True
    ) -> None:
        self.reload(keep, readiness=readiness)
        if text:
            self.message.emit(text)
        self.changed.emit(changes)

    def _fail(self, title: str, error: BaseException) -> None:
        QMessageBox.warning(self, title, error_text(error))

    # -- meetings -----------------------------------------------------------------------

    def new_meeting(self) -> None:
        self._ensure_loaded()
        meetings = self.list_model.meetings
        latest = max(meetings, key=lambda m: m.date, default=None)
        today = self.board.today()
        when = today
        if latest is not None:
            when = latest.date + dt.timedelta(days=7)
            while when < today:
                when += dt.timedelta(days=7)
        # the attendees of the latest meeting that has some
        attended = next(
            (m for m in sorted(meetings, key=lambda m: m.date, reverse=True) if m.roles), None
        )
        template = None
        if attended is not None:
            try:
                template = self.board.meetings.get(attended.id)
            except BoardError:
                template = None
        dialog = MeetingDialog(self.board, None, self, template=template, when=when)
        if dialog.exec() and dialog.meeting_id is not None:
            self._done(
                ChangeSet(meetings=frozenset({dialog.meeting_id})),
                "Meeting created.",
                keep=dialog.meeting_id,
            )

    def edit_meeting(self) -> None:
        meeting = self._need_meeting("Edit meeting")
        if meeting is None:
            return
        dialog = MeetingDialog(self.board, meeting, self)
        if dialog.exec():
            self._done(
                ChangeSet(
                    meetings=frozenset({meeting.id}), cases=frozenset(e.mrn for e in meeting.agenda)
                ),
                "Meeting saved.",
                keep=meeting.id,
            )

    def delete_meeting(self) -> None:
        meeting = self._need_meeting("Delete meeting")
        if meeting is None:
            return
        answer = QMessageBox.question(
            self,
            "Delete meeting",
            f"Delete the meeting of {locale_date(meeting.date)} with its agenda of "
            f"{len(meeting.agenda)} case(s)? The cases themselves stay.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            changes = self.board.meetings.delete(meeting.id)
        except BoardError as error:
            self._fail("Delete meeting", error)
            return
        self._done(changes, "Meeting deleted.")

    # -- agenda -------------------------------------------------------------------------

    def add_case(self, mrn: str | None = None) -> None:
        """Put a case (the open case by default) on the selected meeting's agenda."""
        self._ensure_loaded()
        meetings = [
            m for m in self.list_model.meetings if m.date >= self.board.today()
        ] or self.list_model.meetings
        if not meetings:
            QMessageBox.information(
                self,
                "Add case to agenda",
                "There is no meeting yet: create one with New meeting… (Ctrl+Shift+M) first.",
            )
            return
        selected = self.selected_meeting_id()
        if selected not in {m.id for m in meetings}:
            meetings = [*meetings, *[m for m in self.list_model.meetings if m.id == selected]]
        mrn = mrn if mrn is not None else (self.current_case() or "")
        dialog = AgendaDialog(
            self.board, meetings, selected if selected is not None else meetings[0].id, mrn, self
        )
        if dialog.exec() and dialog.meeting_id is not None:
            added = dialog.mrn
            self._done(
                ChangeSet(cases=frozenset({added}), meetings=frozenset({dialog.meeting_id})),
                f"Case {added} added to the agenda.",
                keep=dialog.meeting_id,
            )
            if dialog.item_id is not None:
                self.select_entry(dialog.item_id)

    def add_open_case(self) -> None:
        mrn = self.current_case()
        if not mrn:
            QMessageBox.information(
                self,
                "Add case to agenda",
                "Open a case on the Cases "
                "page first (or use Add case… on the agenda and type "
                "its MRN).",
            )
            return
        self.add_case(mrn)

    def edit_question(self) -> None:
        entry = self._need_entry("Edit question")
        if entry is None:
            return
        dialog = NoteDialog(
            "Question for the board",
            f"The question for case {entry.mrn}:",
            self,
            text=entry.question,
            required="The question is required: say what the board must decide.",
            save=lambda text: self.board.meetings.edit_question(entry.id, text),
        )
        if dialog.exec():
            self._done(
                ChangeSet(meetings=frozenset({entry.meeting_id})),
                "Question saved.",
                readiness=False,
            )

    def move_entry(self, step: int) -> None:
        entry = self._need_entry("Move case")
        if entry is None:
            return
        row = self.agenda_model.row_of(entry.id)
        if row is None:
            return
        ids = [e.id for e in self.agenda_model.entries]
        target = row + step
        if not 0 <= target < len(ids):
            return
        ids[row], ids[target] = ids[target], ids[row]
        self._reorder_to(ids)

    def _reorder_to(self, item_ids: list[int]) -> None:
        meeting = self.selected_meeting()
        entry = self.selected_entry()
        if meeting is None:
            return
        try:
            self.board.meetings.reorder(meeting.id, item_ids)
        except BoardError as error:
            self._fail("Reorder the agenda", error)
            return
        self._done(ChangeSet(meetings=frozenset({meeting.id})), readiness=False)
        if entry is not None:
            self.select_entry(entry.id)

    def remove_entry(self) -> None:
        entry = self._need_entry("Remove case from agenda")
        if entry is None:
            return
        answer = QMessageBox.question(
            self,
            "Remove case from agenda",
            f"Remove case {entry.mrn} from this agenda? Use Hold back… instead to move it to "
            "the next meeting.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.board.meetings.remove_from_agenda(entry.id)
        except BoardError as error:
            self._fail("Remove case from agenda", error)
            return
        self._done(
            ChangeSet(cases=frozenset({entry.mrn}), meetings=frozenset({entry.meeting_id})),
            f"Case {entry.mrn} removed from the agenda.",
        )

    def hold_back(self) -> None:
        entry = self._need_entry("Hold back")
        if entry is None:
            return
        target = hold_back_dialog(self.board, entry, self)
        if target is not None:
            self._done(
                ChangeSet(
                    cases=frozenset({entry.mrn}), meetings=frozenset({entry.meeting_id, target})
                ),
                f"Case {entry.mrn} held back to the next meeting.",
            )

    # -- the meeting --------------------------------------------------------------------

    def prepare(self) -> None:
        meeting = self._need_meeting("Prepare meeting")
        if meeting is None:
            return
        dialog = ReadinessDialog(self.board, meeting.id, self)
        held: list[bool] = []
        dialog.changed.connect(lambda: held.append(True))
        entry = self.selected_entry()
        if entry is not None:
            dialog.select_case(entry.mrn)
        dialog.exec()
        self._readiness[meeting.id] = {e.id: items for e, items in dialog.results}
        if held:
            self._done(
                ChangeSet(meetings=frozenset({meeting.id})), "Cases held back to the next meeting."
            )
        else:
            self._show_selected()

    def review(self) -> None:
        from crlmboard.ui.dialogs.review_dialog import ReviewDialog, amend_review, latest_review_at

        meeting = self._need_meeting("Review case")
        entry = self._need_entry("Review case") if meeting is not None else None
        if meeting is None or entry is None:
            return
        if entry.status in ("held", "moved"):
            QMessageBox.information(
                self,
                "Review case",
                f"Case {entry.mrn} was moved to the next meeting; review it there.",
            )
            return
        changes = ChangeSet(cases=frozenset({entry.mrn}), meetings=frozenset({meeting.id}))
        if entry.status == "discussed":
            answer = QMessageBox.question(
                self,
                "Review case",
                f"Case {entry.mrn} was reviewed at this meeting and the review is signed. "
                "A signed review is never changed; amend it with a new review?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
            try:
                case = self.board.cases.get(entry.mrn)
            except BoardError as error:
                self._fail("Review case", error)
                return
            index = latest_review_at(case, meeting.date)
            if index is not None and amend_review(self, self.board, case, index):
                self._done(
                    changes | ChangeSet(reviews=frozenset({len(case.reviews)})),
                    f"Amendment of the review of {entry.mrn} signed.",
                    keep=meeting.id,
                )
            return
        try:
            draft = self.board.reviews.start(meeting.id, entry.mrn)
        except BoardError as error:
            self._fail("Review case", error)
            return
        dialog = ReviewDialog(self.board, draft, self)
        if dialog.exec() and dialog.review_index is not None:
            self._done(
                changes | ChangeSet(reviews=frozenset({dialog.review_index})),
                f"Review of {entry.mrn} signed.",
                keep=meeting.id,
            )
            self.select_entry(entry.id)

    def close_meeting(self) -> None:
        meeting = self._need_meeting("Close meeting")
        if meeting is None:
            return
        waiting = [e.mrn for e in meeting.agenda if e.status == "planned"]
        text = f"Close the meeting of {locale_date(meeting.date)}? " + (
            f"The {len(waiting)} case(s) not discussed move to the next meeting: "
            f"{', '.join(waiting)}."
            if waiting
            else "Every case was discussed or held back; nothing moves."
        )
        answer = QMessageBox.question(
            self,
            "Close meeting",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            moved = list(self.board.meetings.close(meeting.id).moved)
        except BoardError as error:
            self._fail("Close meeting", error)
            return
        self._done(
            ChangeSet(cases=frozenset(moved), meetings=frozenset({meeting.id})),
            f"Meeting closed; {len(moved)} case(s) moved to the next meeting.",
            keep=meeting.id,
        )

    def meeting_pack(self) -> None:
        from crlmboard.ui.ops import run_with_progress

        meeting = self._need_meeting("Meeting pack")
        if meeting is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Meeting pack PDF", f"meeting-pack-{meeting.date.isoformat()}.pdf", "PDF (*.pdf)"
        )
        if not path:
            return
        board, meeting_id = self.board, meeting.id

        def work(_progress: Any) -> Path:
            from crlmboard.services.cases import write_file_atomically

            # patients' data: written owner-only (0600) and whole, as every export
            return write_file_atomically(Path(path), board.meetings.meeting_pack(meeting_id))

        def done(target: Any) -> None:
            self.message.emit(f"Wrote the meeting pack to {target}")

        def failed(error: BaseException) -> None:
            QMessageBox.warning(
                self,
                "Meeting pack",
                error_text(error)
                if isinstance(error, BoardError | InvalidInput)
                else f"The meeting pack was not written ({error}); the "
                f"details are in the log ({log_path()}).",
            )

        self._threads.append(
            run_with_progress(self, "Writing the meeting pack…", work, done, failed)
        )

    def board_figures(self) -> None:
        from crlmboard.ui.dialogs.figures_dialog import FiguresDialog

        FiguresDialog(self.board, self).exec()


class WorklistModel(QAbstractTableModel):
    """Overdue follow-ups: MRN, name, meeting, recommendation, due, days overdue."""

    HEADERS = ("MRN", "Name", "Meeting", "Recommendation", "Due", "Overdue")

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.items: list[OverdueFollowUp] = []
        self.names: dict[str, str] = {}
        self.today = dt.date.today()

    def set_items(
        self, items: Sequence[OverdueFollowUp], names: dict[str, str], today: dt.date
    ) -> None:
        self.beginResetModel()
        self.items = list(items)
        self.names = dict(names)
        self.today = today
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        item = self.items[index.row()]
        late = (self.today - item.due).days
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                item.mrn,
                self.names.get(item.mrn, ""),
                locale_date(item.meeting_date),
                value_label(item.recommendation),
                locale_date(item.due),
                f"{late} day{'s' if late != 1 else ''}",
            )[index.column()]
        if role == SORT_ROLE:
            return (
                item.mrn,
                self.names.get(item.mrn, ""),
                item.meeting_date.isoformat(),
                value_label(item.recommendation),
                item.due.isoformat(),
                late,
            )[index.column()]
        if role == Qt.ItemDataRole.UserRole:
            return item.mrn
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class FollowUpView(QWidget):
    """The follow-up worklist; double-click (or Enter) opens the case."""

    case_requested = Signal(str)
    changed = Signal(object)  # ChangeSet

    def __init__(self, board: Board, parent: QWidget | None = None):
        super().__init__(parent)
        self.board = board
        self._stale = True
        layout = QVBoxLayout(self)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.model = WorklistModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.view = _table(self.proxy)
        self.view.setAccessibleName("Follow-up worklist")
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        for column, width in enumerate((110, 220, 110, 240, 110)):
            self.view.setColumnWidth(column, width)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.activated.connect(lambda _i: self.open_case())
        layout.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.open_button = QPushButton("&Open case")
        self.open_button.clicked.connect(self.open_case)
        self.follow_button = QPushButton("Follow-&up…")
        self.follow_button.setToolTip("Record whether the recommendation was carried out")
        self.follow_button.clicked.connect(self.follow_up)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.reload)
        row.addStretch(1)
        for button in (self.refresh_button, self.open_button, self.follow_button):
            row.addWidget(button)
        layout.addLayout(row)

    def set_board(self, board: Board) -> None:
        self.board = board
        self.invalidate()

    def invalidate(self) -> None:
        """Read again now if shown, else when next shown (the worklist reads every case
        with a signed review)."""
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def reload(self) -> None:
        self._stale = False
        items = self.board.meetings.worklist()
        names: dict[str, str] = {}
        for mrn in {i.mrn for i in items}:
            try:
                names[mrn] = self.board.cases.get(mrn).display_name()
            except BoardError:
                names[mrn] = ""
        self.model.set_items(items, names, self.board.today())
        count = len(items)
        self.heading.setText(
            f"Signed recommendations with no follow-up past their due date: {count}. "
            "Double-click or Enter opens the case; Follow-up… records whether the "
            "recommendation was carried out."
            if count
            else "No signed recommendation is waiting for its follow-up past its due date."
        )
        self.open_button.setEnabled(bool(count))
        self.follow_button.setEnabled(bool(count))

    def showEvent(self, event: Any) -> None:
        if self._stale:
            self.reload()
        super().showEvent(event)

    def selected(self) -> OverdueFollowUp | None:
        index = self.view.currentIndex()
        if not index.isValid():
            return None
        row = self.proxy.mapToSource(index).row()
        return self.model.items[row] if 0 <= row < len(self.model.items) else None

    def open_case(self) -> None:
        item = self.selected()
        if item is not None:
            self.case_requested.emit(item.mrn)

    def follow_up(self) -> None:
        from crlmboard.ui.dialogs.review_dialog import record_follow_up

        item = self.selected()
        if item is None:
            QMessageBox.information(self, "Follow-up", "Select a recommendation first.")
            return
        try:
            case = self.board.cases.get(item.mrn)
        except BoardError as error:
            QMessageBox.warning(self, "Follow-up", str(error))
            return
        if record_follow_up(self, self.board, case, item.review_index):
            self.reload()
            self.changed.emit(
                ChangeSet(cases=frozenset({item.mrn}), reviews=frozenset({item.review_index}))
            )
