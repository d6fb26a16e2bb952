"""The case list model: a window on the list, sorted and filtered in SQL.

The model has as many rows as the query matches (one count) but holds only a few pages of
them: a row's page (`row // PAGE_SIZE`) is read when the view first asks for one of its rows,
and the least recently used pages are dropped beyond CACHED_PAGES — so memory stays flat
however far the list is scrolled, and a jump to the end reads only the pages it shows.

Every read goes through the door (ui/ops.py) on the database worker: a page not read yet
shows empty rows until it arrives, then those rows are painted again; the count and the
first page arrive together and reset the model.  Answers to an older query, order or
database are dropped.  At start the first page can be handed in, read before the database
opened (`FirstPage`, performance.md B1).

A filter matching many cases is counted no further than COUNT_CAP (issue 21, B2): the model
then has the COUNT_CAP + 1 rows known to exist (`exact` False; "1,000+ cases"), and the exact
count is asked for in the background at once — or as a person's call when the view reaches
the end of those rows (`fetchMore`) or looks for a case past them (`locate`).  When it comes
the missing rows are inserted.  A newer query drops it (and stops it on SQLite).

A new query's first read (issue 21, B2) asks for the rows the view shows (`first_rows`, set
by the view from its height; the view shows a new query's list from its top), not the whole
first page: at 100,000 patients a broad word fills a page of 200 where at 1,000 it finds a
few, and the keystroke would wait for all of them.  The list read again for the same query
(a change, another order) reads down to the last row on screen (`shown_until`, from the
view), which stays where it was.  The rest of the first page is asked for in the background
once the list is painted, or at once when the view needs one of its rows (scrolling, PgDown,
End)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QTimer,
    Signal,
)

from crlmboard.ui.dates import locale_date
from crlmboard.ui.fonts import beyond_pan_european, load_bundled_fonts
from crlmboard.ui.ops import CaseListEntry, Door, FirstPage

if TYPE_CHECKING:
    from PySide6.QtCore import Qt
else:
    from crlmboard.ui.lazyqt import Qt  # built on first use (performance.md B1)

PAGE_SIZE = 200
CACHED_PAGES = 16
COUNT_CAP = 1000  # a filter matching more shows "1,000+" until its exact count comes
COUNT_AFTER_MS = 0  # the exact count asked for this long after the first page is shown
FIRST_ROWS = 50  # a new query's first read when no view has said how many rows it shows
REST_AFTER_MS = 0  # the rest of the first page asked for this long after the list is shown

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
# Qt's item roles and alignment as the numbers Qt passes and takes: `data` runs before the
# first paint, when naming `Qt` would build its namespace (ui/lazyqt.py); the tests compare
# them with Qt's own (tests/ui/test_first_paint.py)
DISPLAY_ROLE = 0  # Qt.ItemDataRole.DisplayRole
ALIGNMENT_ROLE = 7  # Qt.ItemDataRole.TextAlignmentRole
MRN_ROLE = 256  # Qt.ItemDataRole.UserRole: the row's MRN
ALIGN_RIGHT = 0x82  # Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

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


def _fonts_for(entries: list[CaseListEntry]) -> None:
    """The bundled fonts loaded before rows with a name in a script past Latin, Greek and
    Cyrillic are shown (the system's fonts show those; ui/fonts.py)."""
    if beyond_pan_european(text for e in entries for text in (e.family_name, e.given_name)):
        load_bundled_fonts()


class _Page:
    """One page of the list: its entries and the texts they show (each row's made the
    first time the row is shown, then kept with the page).  A new query's first page
    holds the screen's rows until the rest arrives (`complete` False)."""

    __slots__ = ("complete", "entries", "texts", "today")

    def __init__(self, entries: list[CaseListEntry], today: date, *, complete: bool = True):
        self.entries = entries
        self.texts: list[tuple[str, ...] | None] = [None] * len(entries)
        self.today = today
        self.complete = complete

    def extend(self, entries: list[CaseListEntry]) -> None:
        """The rest of the page came."""
        self.entries.extend(entries)
        self.texts.extend([None] * len(entries))
        self.complete = True

    def text(self, offset: int, column: int) -> str | None:
        if not 0 <= offset < len(self.entries):
            return None
        texts = self.texts[offset]
        if texts is None:
            texts = self.texts[offset] = row_texts(self.entries[offset], self.today)
        return texts[column]


class CaseListModel(QAbstractTableModel):
    """`cases.count` rows, read page by page (`cases.page`) as they are shown."""

    counted = Signal()  # the count shown changed: a new list, or its exact count came
    arrived = Signal()  # rows read after the list was reset came (a page, or the rest)

    def __init__(self, door: Door, parent: Any = None, *, first: FirstPage | None = None):
        """`first`: the count and first page read before the database opened (the app's
        start): shown at once, nothing asked of the door."""
        super().__init__(parent)
        self.door = door
        self.query = ""
        self.sort_key = "name"
        self.descending = False
        self.total = 0
        self.exact = True  # False: more than COUNT_CAP match; `total` is COUNT_CAP + 1
        self._counting = False  # the exact count asked for and not yet come
        # waiting for the exact count: each told whether it came (False: dropped, failed)
        self._after_count: list[Callable[[bool], None]] = []
        # the exact count asked for once the first page is shown (the next turn of the
        # event loop: after the list is painted; a newer query stops the timer)
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(COUNT_AFTER_MS)
        self._count_timer.timeout.connect(lambda: self._count_exactly(background=True))
        # the rest of the first page, asked for once the screen's rows are shown
        self.first_rows = FIRST_ROWS  # the rows the view shows (set by the view)
        self.shown_until: Callable[[], int] | None = None  # the last row on screen (the view)
        self.new_query = True  # the list last reset is another query's than before it
        self._listed = ""  # the query of the list shown
        self._rest_timer = QTimer(self)
        self._rest_timer.setSingleShot(True)
        self._rest_timer.setInterval(REST_AFTER_MS)
        self._rest_timer.timeout.connect(lambda: self._ask_rest(background=True))
        self._rest_asked = False  # the rest of the first page asked for, not yet come
        self._rest_shown: tuple[int, int] | None = None  # rows of it asked for (shown empty)
        # a view that tells the model when it has painted (`painted`): the rest of the
        # page and the exact count are asked for then, so that they do not share the
        # interpreter with the layout and the paint of the rows on screen
        self.after_paint = False
        self._after_paint: list[QTimer] = []  # started at the next paint
        self.pages_read = 0  # pages read from the database since the model was made
        self._pages: OrderedDict[int, _Page] = OrderedDict()
        self._asked: set[int] = set()  # pages asked for and not yet arrived
        self._generation = 0  # bumped by each reload: older answers are dropped
        self.reloading = False  # a reload asked for and not yet arrived
        self._today = door.today()
        # the start's read-only read of the first page (`first`), while it has rows of
        # the page left to give: the rest comes from it, not from the door
        self._first: FirstPage | None = None
        if first is None:
            self.reload()
        else:
            self.total = first.total
            if first.total:
                self._pages[0] = _Page(list(first.entries), self._today, complete=first.complete)
                _fonts_for(first.entries)
            if not first.complete:
                self._first = first
                self._after_paint = [self._rest_timer]

    def read_first_rows(self, rows: int) -> None:
        """Before the first paint (the app's start): the first page handed in read down to
        `rows` rows, as many as the window can show; the rest of the page comes after the
        paint (or at once when the view needs one of its rows)."""
        page = self._pages.get(0)
        if self._first is None or page is None or page.complete:
            return
        missing = min(rows, PAGE_SIZE) - len(page.entries)
        if missing <= 0:
            return
        entries = self._from_first(missing)
        if entries is None:
            return
        page.entries.extend(entries)
        page.texts.extend([None] * len(entries))
        page.complete = self._first is None

    def _from_first(self, number: int) -> list[CaseListEntry] | None:
        """Up to `number` more rows from the start's read (None: it failed; the page is
        then asked of the door, answered once the database is open)."""
        first = self._first
        if first is None:
            return []
        entries = first.more(number)
        if first.complete:
            self._first = None
        if entries is None:
            self._pages.pop(0, None)
            self._rest_asked = False
            self._ask(0)
            return None
        _fonts_for(entries)
        return entries

    def finish_first_page(self) -> None:
        """The rest of the start's first page read now, and that read ended (before the
        database is opened for writing)."""
        if self._first is not None:
            self._ask_rest(background=True)
        if self._first is not None:  # the page was dropped meanwhile (a new query)
            self._first.close()
            self._first = None

    # -- reading ----------------------------------------------------------------------

    def reload(self) -> None:
        """Read the list again (after a new query, order, change or database): the count
        and the first page, which reset the model when they arrive."""
        self._generation += 1
        generation = self._generation
        if self._first is not None:  # the start's read: its page is read again
            self._first.close()
            self._first = None
        self._asked = {0}
        self.reloading = True
        self._count_timer.stop()
        self._rest_timer.stop()
        self._after_paint.clear()
        self._rest_asked = False
        self._rest_shown = None
        self._counting = False
        self._tell_counted(False)
        limit = self.first_rows  # the screen's rows first
        if self.query == self._listed and self.shown_until is not None:
            limit = max(limit, self.shown_until() + 1)  # read again: the rows where they are
        limit = max(1, min(limit, PAGE_SIZE))
        self.door.case_list_page(
            self.query,
            self.sort_key,
            self.descending,
            0,
            limit,
            lambda result: self._reloaded(generation, limit, result),
            count=True,
            cap=COUNT_CAP,
        )

    def _reloaded(
        self, generation: int, limit: int, result: tuple[int, list[CaseListEntry], bool]
    ) -> None:
        if generation != self._generation:
            return
        total, entries, exact = result
        self.reloading = False
        self.beginResetModel()
        self._today = self.door.today()
        self._pages.clear()
        self._asked.clear()
        self._rest_asked = False
        self._rest_shown = None
        self.new_query, self._listed = self.query != self._listed, self.query
        self.total = total
        self.exact = exact
        partial = limit < PAGE_SIZE and len(entries) == limit and total > limit
        if total:
            self.pages_read += 1
            self._pages[0] = _Page(entries, self._today, complete=not partial)
        self.endResetModel()
        self.counted.emit()
        self._rest_timer.setInterval(REST_AFTER_MS)
        self._count_timer.setInterval(COUNT_AFTER_MS)
        then = [t for t, on in ((self._rest_timer, partial), (self._count_timer, not exact)) if on]
        if self.after_paint:
            self._after_paint = then
        else:
            for timer in then:
                timer.start()

    def painted(self) -> None:
        """The view painted the list: what waits for that starts (the rest of the first
        page, then the exact count; each on a later turn of the event loop)."""
        then, self._after_paint = self._after_paint, []
        for timer in then:
            timer.start()

    def _ask_rest(self, *, background: bool) -> None:
        """Ask for the rest of the first page (its rows after the screen's); painted when
        it comes.  `background`: no one waits for them yet."""
        page = self._pages.get(0)
        if page is None or page.complete or self._rest_asked:
            return
        self._rest_timer.stop()
        generation, held = self._generation, len(page.entries)
        if self._first is not None:  # the start's read-only read has it: here, now
            entries = self._from_first(PAGE_SIZE - held)
            if entries is not None:
                self._rest_asked = True
                self._rest_arrived(generation, held, entries)
            return
        self._rest_asked = True
        self.door.case_list_page(
            self.query,
            self.sort_key,
            self.descending,
            held,
            PAGE_SIZE - held,
            lambda result: self._rest_arrived(generation, held, result[1]),
            **({"background": True} if background else {}),
        )

    def _rest_arrived(self, generation: int, held: int, entries: list[CaseListEntry]) -> None:
        if generation != self._generation:
            return  # an older query's rows: never shown under the newer one
        self._rest_asked = False
        page = self._pages.get(0)
        if page is None or page.complete or len(page.entries) != held:
            return  # the page was dropped or read again meanwhile
        page.extend(entries)
        # painted again only where the view asked for them (showed them empty): rows it
        # never showed need no repaint (the usual case, the rest read in the background)
        shown, self._rest_shown = self._rest_shown, None
        if shown is not None and not self._answering:
            first, last = max(held, shown[0]), min(len(page.entries), self.total, shown[1] + 1)
            if last > first:
                self.dataChanged.emit(self.index(first, 0), self.index(last - 1, len(COLUMNS) - 1))
        if not self._answering:  # not from inside data() (a paint)
            self.arrived.emit()

    def _count_exactly(self, *, background: bool) -> None:
        """Ask for the exact count of a filter matching more than COUNT_CAP cases."""
        if self.exact or self._counting:
            return
        self._counting = True
        generation = self._generation
        self.door.case_list_count(
            self.query,
            lambda: generation != self._generation,  # looked at on the worker
            lambda number: self._counted(generation, number),
            background=background,
        )

    def _counted(self, generation: int, number: int | None) -> None:
        if generation != self._generation:
            return
        self._counting = False
        if number is None:  # failed (logged): "1,000+" stays, scrolling asks again
            self._tell_counted(False)
            return
        if number >= self.total:
            if number > self.total:
                self.beginInsertRows(QModelIndex(), self.total, number - 1)
                self.total = number
                self.endInsertRows()
        else:  # fewer than counted first: changed meanwhile (its refresh is on its way)
            self.beginResetModel()
            self._pages.clear()
            self._asked.clear()
            self._rest_asked = False
            self.total = number
            self.endResetModel()
        self.exact = True
        self.counted.emit()
        self._tell_counted(True)

    def _tell_counted(self, came: bool) -> None:
        waiting, self._after_count = self._after_count, []
        for then in waiting:
            then(came)

    def refresh(self) -> None:
        """Read again after a change: the rows shown are read again when next painted."""
        self.reload()

    def _ask(self, number: int) -> None:
        """Ask for a page; its rows are painted again when it arrives."""
        if number in self._asked:
            return
        self._asked.add(number)
        generation = self._generation
        self.door.case_list_page(
            self.query,
            self.sort_key,
            self.descending,
            number * PAGE_SIZE,
            PAGE_SIZE,
            lambda result: self._arrived(generation, number, result[1]),
        )

    def _arrived(self, generation: int, number: int, entries: list[CaseListEntry]) -> None:
        if generation != self._generation:
            return
        self._asked.discard(number)
        self.pages_read += 1
        self._pages[number] = _Page(entries, self._today)
        self._pages.move_to_end(number)
        while len(self._pages) > CACHED_PAGES:
            self._pages.popitem(last=False)
        first = number * PAGE_SIZE
        last = min(first + PAGE_SIZE, self.total) - 1
        if last >= first and not self._answering:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
        if not self._answering:  # not from inside data() (a paint)
            self.arrived.emit()

    _answering = False  # inside data(): a page that arrives at once needs no repaint

    def _page(self, number: int, offset: int = 0) -> _Page | None:
        """A page held, or None after asking for it (None until it arrives); a row of
        the first page past the screen's rows read asks for the rest of that page."""
        page = self._pages.get(number)
        if page is None or (not page.complete and offset >= len(page.entries)):
            self._answering = True
            try:  # with the synchronous door: here now
                if page is None:
                    self._ask(number)
                else:
                    low, high = self._rest_shown or (offset, offset)
                    self._rest_shown = (min(low, offset), max(high, offset))
                    self._ask_rest(background=False)
            finally:
                self._answering = False
            page = self._pages.get(number)
            if page is None:
                return None
        self._pages.move_to_end(number)
        return page

    @property
    def generation(self) -> int:
        """Bumped by each reload (a new query, order, change or database)."""
        return self._generation

    @property
    def completing(self) -> bool:
        """The first page holds the screen's rows only, the rest on its way or to ask."""
        page = self._pages.get(0)
        return page is not None and not page.complete

    def entry(self, row: int) -> CaseListEntry | None:
        """The case at a row; None past the rows read (or while its page is on its way)."""
        if not 0 <= row < self.total:
            return None
        offset = row % PAGE_SIZE
        page = self._page(row // PAGE_SIZE, offset)
        if page is None:
            return None
        return page.entries[offset] if offset < len(page.entries) else None

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

    def locate(self, mrn: str, done: Callable[[int | None], None]) -> None:
        """`done(the row showing a case)` (None if filtered out): among the pages held, else
        its position asked of the database."""
        row = self.cached_row_of(mrn)
        if row is not None:
            done(row)
            return
        generation = self._generation

        def found(row: int | None) -> None:
            if generation != self._generation or row is None or row < 0:
                done(None)
            elif row < self.total:
                done(row)
            elif not self.exact:  # past the rows counted so far: count them all first
                self._after_count.append(lambda came: found(row) if came else done(None))
                self._count_exactly(background=False)
            else:
                done(None)

        self.door.case_position(mrn, self.query, self.sort_key, self.descending, found)

    def set_query(self, text: str) -> None:
        self.query = text.strip()
        self.reload()

    # -- the model --------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.total

    def canFetchMore(self, parent: Index) -> bool:
        """More rows than shown match (a capped count): the view at the end asks."""
        return not parent.isValid() and not self.exact

    def fetchMore(self, parent: Index) -> None:
        if not parent.isValid():
            self._count_exactly(background=False)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def sort(self, column: int, order: Qt.SortOrder | None = None) -> None:
        """The list in `column`'s order, ascending unless `order` says descending."""
        key = COLUMNS[column][0]
        descending = order is not None and order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self.sort_key, self.descending):
            return  # already in that order (the header asks again as it is set up)
        self.sort_key, self.descending = key, descending
        self.reload()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = DISPLAY_ROLE
    ) -> Any:
        """The column names, for what asks the list's model (a screen reader); the list's
        own header shows them from a model of its own (`CaseTable.setModel`)."""
        if orientation == Qt.Orientation.Horizontal and role == DISPLAY_ROLE:
            return COLUMNS[section][1]
        return None

    def data(self, index: Index, role: int = DISPLAY_ROLE) -> Any:
        # Called for every cell and role the view paints (six roles a cell: ~840 calls a
        # screen): the roles compared as ints, the roles the list does not use answered
        # at once (issue 21, B2).
        if role == DISPLAY_ROLE:
            row = index.row()
            if not index.isValid() or not 0 <= row < self.total:
                return None
            offset = row % PAGE_SIZE
            page = self._page(row // PAGE_SIZE, offset)
            return None if page is None else page.text(offset, index.column())
        if role == ALIGNMENT_ROLE:
            return ALIGN_RIGHT if index.column() in RIGHT_ALIGNED else None
        if role == MRN_ROLE:
            entry = self.entry(index.row()) if index.isValid() else None
            return entry.mrn if entry is not None else None
        return None
