"""Item models of the Meetings and Follow-up pages: the meeting list, the agenda (with
drag-and-drop reordering) and the follow-up worklist.  They hold what the door read and
show it; they read nothing themselves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
)

from crlmboard.domain.board_work import OverdueFollowUp, Quorum, ReadinessItem
from crlmboard.domain.labels import value_label
from crlmboard.ui.dialogs.meeting_dialog import role_text, short_readiness
from crlmboard.ui.forms import locale_date
from crlmboard.ui.ops import AgendaEntry, MeetingListing

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
AGENDA_MIME = "application/x-crlmboard-agenda-item"

STATUS_TEXT = {
    "planned": "planned",
    "discussed": "discussed, signed",
    "held": "held back",
    "moved": "moved on",
}


def relative(when: dt.date, today: dt.date) -> str:
    days = (when - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


def agenda_name(entry: AgendaEntry) -> str:
    family = (entry.family_name or "").upper()
    return ", ".join(x for x in (family, entry.given_name or "") if x)


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
                    f"{locale_date(meeting.date)}\n{relative(meeting.date, self.today)}",
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
                agenda_name(entry),
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
