"""The case list model: a window on the list, sorted and filtered in SQL.

The model has as many rows as the query matches (one count) but holds only a few pages of
them: a row's page (`row // PAGE_SIZE`) is read when the view first asks for one of its rows,
and the least recently used pages are dropped beyond CACHED_PAGES — so memory stays flat
however far the list is scrolled, and a jump to the end reads only the pages it shows."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from crlmboard.services.board import Board
from crlmboard.services.cases import CaseListEntry
from crlmboard.ui.forms import locale_date

PAGE_SIZE = 200
CACHED_PAGES = 16

COLUMNS: list[tuple[str, str]] = [
    ("mrn", "MRN"),
    ("name", "Name"),
    ("age", "Age"),
    ("next_meeting", "Next meeting"),
    ("resectability", "Resectability"),
    ("response", "Response"),
    ("warnings", "Open findings"),
]
RIGHT_ALIGNED = frozenset(i for i, (key, _) in enumerate(COLUMNS) if key in ("age", "warnings"))
ALIGN_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

Index = QModelIndex | QPersistentModelIndex


def _age(birth: date | None, today: date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def row_texts(row: CaseListEntry, today: date) -> tuple[str, ...]:
    """What each column shows of a case, in COLUMNS order."""
    family = (row.family_name or "").upper()
    age = _age(row.birth_date, today)
    findings = []
    if row.open_criticals:
        findings.append(f"{row.open_criticals} critical")
    if row.open_warnings:
        findings.append(f"{row.open_warnings} warning{'s' if row.open_warnings > 1 else ''}")
    return (
        row.mrn,
        ", ".join(x for x in (family, row.given_name or "") if x),
        "" if age is None else str(age),
        locale_date(row.next_meeting),
        (row.resectability or "").replace("_", " "),
        row.current_response or "",
        ", ".join(findings),
    )


class _Page:
    """One page of the list: its entries and the texts they show (each row's made the
    first time the row is shown, then kept with the page)."""

    __slots__ = ("entries", "texts", "today")

    def __init__(self, entries: list[CaseListEntry], today: date):
        self.entries = entries
        self.texts: list[tuple[str, ...] | None] = [None] * len(entries)
        self.today = today

    def text(self, offset: int, column: int) -> str | None:
        if not 0 <= offset < len(self.entries):
            return None
        texts = self.texts[offset]
        if texts is None:
            texts = self.texts[offset] = row_texts(self.entries[offset], self.today)
        return texts[column]


class CaseListModel(QAbstractTableModel):
    """`board.cases.count` rows, read page by page (`board.cases.page`) as they are shown."""

    def __init__(self, board: Board, parent: Any = None):
        super().__init__(parent)
        self.board = board
        self.query = ""
        self.sort_key = "name"
        self.descending = False
        self.total = 0
        self.pages_read = 0  # pages read from the database since the model was made
        self._pages: OrderedDict[int, _Page] = OrderedDict()
        self._today = board.today()
        self.reload()

    # -- reading ----------------------------------------------------------------------

    def reload(self) -> None:
        """Read the list again (after a new query, order or database): the count and the
        first page."""
        self.beginResetModel()
        self._today = self.board.today()
        self._pages.clear()
        self.total = self.board.cases.count(self.query)
        if self.total:
            self._page(0)
        self.endResetModel()

    def refresh(self) -> None:
        """Read again after a change: the rows shown are read again when next painted."""
        self.reload()

    def _page(self, number: int) -> _Page:
        page = self._pages.get(number)
        if page is not None:
            self._pages.move_to_end(number)
            return page
        entries = self.board.cases.page(
            self.query,
            sort=self.sort_key,
            descending=self.descending,
            offset=number * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        self.pages_read += 1
        page = self._pages[number] = _Page(entries, self._today)
        while len(self._pages) > CACHED_PAGES:
            self._pages.popitem(last=False)
        return page

    def entry(self, row: int) -> CaseListEntry | None:
        """The case at a row (its page read if needed); None past the rows read (the
        database changed since the count)."""
        if not 0 <= row < self.total:
            return None
        entries = self._page(row // PAGE_SIZE).entries
        offset = row % PAGE_SIZE
        return entries[offset] if offset < len(entries) else None

    @property
    def rows(self) -> list[CaseListEntry]:
        """The rows held now (the pages read and kept), in list order."""
        return [e for number in sorted(self._pages) for e in self._pages[number].entries]

    def cached_row_of(self, mrn: str) -> int | None:
        """The row of a case among the pages held now (no query)."""
        for number, page in self._pages.items():
            for offset, entry in enumerate(page.entries):
                if entry.mrn == mrn:
                    return number * PAGE_SIZE + offset
        return None

    def row_of(self, mrn: str) -> int | None:
        """The row showing a case (None if filtered out): among the pages held, else its
        position asked of the database."""
        row = self.cached_row_of(mrn)
        if row is not None:
            return row
        row = self.board.cases.position(
            mrn, self.query, sort=self.sort_key, descending=self.descending
        )
        if row is None or not 0 <= row < self.total:
            return None
        return row

    def set_query(self, text: str) -> None:
        self.query = text.strip()
        self.reload()

    # -- the model --------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.total

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key, descending = COLUMNS[column][0], order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self.sort_key, self.descending):
            return  # already in that order (the header asks again as it is set up)
        self.sort_key, self.descending = key, descending
        self.reload()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            row = index.row()
            if not index.isValid() or not 0 <= row < self.total:
                return None
            return self._page(row // PAGE_SIZE).text(row % PAGE_SIZE, index.column())
        if role == Qt.ItemDataRole.UserRole:
            entry = self.entry(index.row()) if index.isValid() else None
            return entry.mrn if entry is not None else None
        if (
            role == Qt.ItemDataRole.TextAlignmentRole
            and index.isValid()
            and index.column() in RIGHT_ALIGNED
        ):
            return ALIGN_RIGHT
        return None
