"""The case list model: light rows fetched page by page, sorted and filtered in SQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from crlmboard.services.board import Board
from crlmboard.services.cases import CaseListEntry

PAGE_SIZE = 200

COLUMNS: list[tuple[str, str]] = [
    ("mrn", "MRN"),
    ("name", "Name"),
    ("age", "Age"),
    ("next_meeting", "Next meeting"),
    ("resectability", "Resectability"),
    ("response", "Response"),
    ("warnings", "Open findings"),
]

Index = QModelIndex | QPersistentModelIndex


def _age(birth: date | None, today: date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


class CaseListModel(QAbstractTableModel):
    """Rows of `board.cases.page`, loaded as the view scrolls."""

    def __init__(self, board: Board, parent: Any = None):
        super().__init__(parent)
        self.board = board
        self.query = ""
        self.sort_key = "name"
        self.descending = False
        self.rows: list[CaseListEntry] = []
        self.total = 0
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self.total = self.board.cases.count(self.query)
        self.rows = self.board.cases.page(self.query, sort=self.sort_key,
                                          descending=self.descending, limit=PAGE_SIZE)
        self.endResetModel()

    def refresh(self) -> None:
        """Reload after a change, keeping as many rows loaded as before."""
        loaded = max(len(self.rows), PAGE_SIZE)
        self.beginResetModel()
        self.total = self.board.cases.count(self.query)
        self.rows = self.board.cases.page(self.query, sort=self.sort_key,
                                          descending=self.descending, limit=loaded)
        self.endResetModel()

    def row_of(self, mrn: str) -> int | None:
        """The row showing a case, loading further pages if needed (None if filtered out)."""
        while True:
            for row, entry in enumerate(self.rows):
                if entry.mrn == mrn:
                    return row
            if not self.canFetchMore(QModelIndex()):
                return None
            self.fetchMore(QModelIndex())

    def set_query(self, text: str) -> None:
        self.query = text.strip()
        self.reload()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and len(self.rows) < self.total

    def fetchMore(self, parent: Index) -> None:
        if parent.isValid():
            return
        more = self.board.cases.page(self.query, sort=self.sort_key, descending=self.descending,
                                     offset=len(self.rows), limit=PAGE_SIZE)
        if more:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(more) - 1)
            self.rows.extend(more)
            self.endInsertRows()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_key = COLUMNS[column][0]
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, key)
        if role == Qt.ItemDataRole.UserRole:
            return row.mrn
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("age", "warnings"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _text(self, row: CaseListEntry, key: str) -> str:
        if key == "mrn":
            return row.mrn
        if key == "name":
            family = (row.family_name or "").upper()
            return ", ".join(x for x in (family, row.given_name or "") if x)
        if key == "age":
            age = _age(row.birth_date, self.board.today())
            return "" if age is None else str(age)
        if key == "next_meeting":
            return row.next_meeting.isoformat() if row.next_meeting else ""
        if key == "resectability":
            return (row.resectability or "").replace("_", " ")
        if key == "response":
            return row.current_response or ""
        parts = []
        if row.open_criticals:
            parts.append(f"{row.open_criticals} critical")
        if row.open_warnings:
            parts.append(f"{row.open_warnings} warning{'s' if row.open_warnings > 1 else ''}")
        return ", ".join(parts)
