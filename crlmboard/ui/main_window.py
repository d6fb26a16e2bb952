"""The main window: the case list on the left, the open case's workspace on the right, the
menus, the status bar.  Behaviour lives in the workspace, dialogs and pages; every call to
the data goes through the door (`self.door`, ui/ops.py), and its one "changes applied"
signal refreshes the list, the open case and the pages.

The workspace changes patient in one place, `open_case`, and only on an explicit action: a
click, Enter or F2 on a row of the list, New case, a case opened from a page, an import of
one case.  Reading the list again (after a change, a filter, a sort, a new page) or moving
the list's selection with the arrow keys never opens another case; the list's selection
follows the open case where it is shown."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

# (QFileDialog, QDesktopServices and QUrl are imported where used: PySide6 builds a class's
# enums when it is first imported, and the first paint needs none of them: performance.md B1)
from PySide6.QtCore import QEvent, QModelIndex, QObject, QSettings, QTimer, Slot
from PySide6.QtGui import (
    QAction,
    QFocusEvent,
    QKeyEvent,
    QKeySequence,
    QShortcut,
    QStandardItemModel,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from crlmboard.services.changes import BoardError, ChangeSet
from crlmboard.ui import ops
from crlmboard.ui.empty import paint_empty_text
from crlmboard.ui.models.case_list import COLUMNS, COUNT_CAP, CaseListModel
from crlmboard.ui.ops import Door, FirstPage, failure_text, log_path
from crlmboard.ui.readonly import ReadOnlyMode, guard, show_tooltips

if TYPE_CHECKING:
    from PySide6.QtCore import Qt
else:
    from crlmboard.ui.lazyqt import Qt  # built on first use (performance.md B1)

# The workspace, the pages and the domain are imported when the window completes itself
# (`complete`): at start that is after the case list's first paint (ui/first_paint.py).
if TYPE_CHECKING:
    from crlmboard.ui.controllers.meetings import FollowUpController, MeetingsController
    from crlmboard.ui.workspace import CaseWorkspace

log = logging.getLogger("crlmboard.ui")

ACCEPTED_LOCATIONS = "network_locations_accepted"  # setting: unsafe places opened anyway


def confirm_location(parent: QWidget | None, where: str | None) -> bool:
    """Before opening a SQLite database on a network share or in a sync folder: say why
    that is unsafe, name the PostgreSQL option, and let the user cancel or open it anyway
    (T16).  The choice is recorded (the app's settings, and the log without the path), so
    a database opened anyway is not asked about again."""
    warning = Door.location_warning(where)
    if warning is None:
        return True
    settings = QSettings()
    accepted = settings.value(ACCEPTED_LOCATIONS) or []
    if isinstance(accepted, str):
        accepted = [accepted]
    key = str(where or "")
    if key in accepted:
        return True
    answer = QMessageBox.warning(
        parent,
        "Database on a network location",
        f"{warning}\n\nOpen it anyway?",
        QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    if answer != QMessageBox.StandardButton.Open:
        log.info("a database on a network location was not opened (the user declined)")
        return False
    settings.setValue(ACCEPTED_LOCATIONS, [*accepted, key])
    log.warning("a database on a network location was opened after the warning")
    return True


TITLE = "crlmboard — tumor board cases[*]"  # [*]: the place of the modified mark


def first_focusable(container: QWidget) -> QWidget | None:
    """The first widget inside `container` that Tab would reach (visible and enabled)."""
    widget = container.nextInFocusChain()
    seen = 0
    while widget is not None and widget is not container and seen < 10_000:
        seen += 1
        if (
            container.isAncestorOf(widget)
            and widget.isVisible()
            and widget.isEnabled()
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        ):
            return widget
        widget = widget.nextInFocusChain()
    return None


class CaseTable(QTableView):
    """The case list; empty, it says why: no case yet (and how to add one), or none
    matching the filter."""

    def __init__(self) -> None:
        super().__init__()
        # called after each paint of the list (ui/first_paint.py: the database opens after
        # the first).  Not an event filter on `viewport()`: the viewport is a widget Qt made,
        # and its first wrapper in Python makes PySide6 try every widget class of QtWidgets
        # for its type (about 50 classes and their enums built before the first paint)
        self.after_paint: list[Callable[[], None]] = []

    def resizeEvent(self, event: Any) -> None:
        """The model reads a new query's rows on screen first: tell it how many fit."""
        super().resizeEvent(event)
        model = self.model()
        if isinstance(model, CaseListModel):
            height = max(1, self.verticalHeader().defaultSectionSize())
            # the viewport's height, or a scroll bar's more (not `viewport()`: see above)
            model.first_rows = -(-self.maximumViewportSize().height() // height) + 1

    # Since the view last laid out its rows: None nothing noted, True only rows added
    # below the screen (a broad filter's exact count), False anything else.
    _appended_below: bool | None = None

    def setModel(self, model: Any) -> None:
        """The list's model; the column header shows the names from a model of its own.

        The list's `headerData` (Python) is given a `Qt.Orientation`, and the first one
        makes PySide6 build its whole `Qt` namespace (ui/lazyqt.py: about a tenth of the
        start): the header asked 28 times as the model was set, before the first paint.
        The header's own model is Qt's (C++), and the header is hidden while the list's
        model is set (a shown header measures its sections from the model at once).  The
        list's `headerData` stays the names' source for everything else that asks the
        list's model (a screen reader's column names)."""
        header = self.horizontalHeader()
        ours = isinstance(model, CaseListModel)
        shown = not header.isHidden()
        if ours and shown:
            header.hide()
        super().setModel(model)
        if ours:
            model.after_paint = True  # told at each paint (below)
            labels = QStandardItemModel(0, len(COLUMNS), self)
            labels.setHorizontalHeaderLabels([name for _key, name in COLUMNS])
            header.setModel(labels)
            # its selection is the header model's (none), not the list's: with whole rows
            # selected every column "intersects" the selection, and every name went bold
            header.setHighlightSections(False)
            if shown:
                header.show()

            model.rowsInserted.connect(self._rows_inserted)
            for changed in (
                model.modelReset,
                model.rowsRemoved,
                model.rowsMoved,
                model.layoutChanged,
                model.columnsInserted,
                model.columnsRemoved,
            ):
                changed.connect(self._rows_changed)

    def _rows_inserted(self, _parent: Any, first: int, _last: int) -> None:
        bottom = self.rowAt(self.viewport().height() - 1)  # -1: the list ends on screen
        below = 0 <= bottom < first and self._appended_below is not False
        self._appended_below = below

    def _rows_changed(self, *_args: Any) -> None:
        self._appended_below = False

    def doItemsLayout(self) -> None:
        """Rows added below the screen only (the exact count of a broad filter, its rows
        past the first 1,001): the scroll bar takes them, the rows on screen are not
        painted again — Qt's layout repaints the whole list (issue 21, B2: at 100,000
        patients a screen's paint after most broad keystrokes, for nothing)."""
        appended, self._appended_below = self._appended_below, None
        if appended:
            self.updateGeometries()
        else:
            super().doItemsLayout()

    def moveCursor(self, action: QAbstractItemView.CursorAction, modifiers: Any) -> Any:
        """Home and End (with Ctrl or not) go to the first and last case in the column in
        hand: a table's Ctrl+End went to the last column too, scrolling the MRN and the
        name out of sight beside the row it selected."""
        cursor = QAbstractItemView.CursorAction
        model, current = self.model(), self.currentIndex()
        if action in (cursor.MoveHome, cursor.MoveEnd) and model is not None:
            rows = model.rowCount()
            if rows:
                row = 0 if action == cursor.MoveHome else rows - 1
                return model.index(row, max(current.column(), 0))
        return super().moveCursor(action, modifiers)

    def paintEvent(self, event: Any) -> None:
        super().paintEvent(event)
        model = self.model()
        if isinstance(model, CaseListModel):
            model.painted()
        for then in tuple(self.after_paint):
            then()
        if not isinstance(model, CaseListModel) or model.rowCount() or model.reloading:
            return
        paint_empty_text(
            self,
            "No case matches the filter."
            if model.query
            else "No cases yet. Case ▸ New case… (Ctrl+N) adds one; "
            "File ▸ Import case files… (Ctrl+I) reads case files.",
        )


class MainWindow(QMainWindow):
    """The window a coordinator keeps open all day."""

    def __init__(
        self,
        board: Any,
        *,
        first_page: FirstPage | None = None,
        location: str = "",
    ):
        """`board` None (the app's start, ui/first_paint.py): the window shows the case
        list's `first_page`, read before the data layer loaded, and completes itself —
        the open case, the pages, the menus — once the door has opened the database at
        `location` (`complete`)."""
        super().__init__()
        self.door = Door(board, self, location=location)
        self.door.window = self
        self.completed = False
        self._open_when_complete: str | None = None  # a case chosen while loading
        self._profile = QSettings().value("profile") or None  # the profile file in force
        self._keep: tuple[str, int] = ("", 0)  # the open case and its row, while reading
        # "[*]": the modified flag's place (set while the open case has changes not saved)
        self.setWindowTitle(TITLE)
        self.undo_stack = QUndoStack(self)
        self.model = CaseListModel(self.door, self, first=first_page)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by MRN or name…  (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAccessibleName("Filter cases")
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(120)
        self._filter_timer.timeout.connect(lambda: self.model.set_query(self.filter_edit.text()))
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())

        self.table = CaseTable()
        # hidden before the model is set: a shown row header measures the headers of its
        # first and last hundred rows at once (800 calls of the model's headerData before
        # the first paint, for a header nobody sees)
        self.table.verticalHeader().hide()
        # one row height for all: the view never measures rows it does not show
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setModel(self.model)
        # at start the list is sorted by its header after its first paint (`_first_painted`)
        self._painted = board is not None
        if board is not None:
            self._sort_by_header()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the list (rows, not cells)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((96, 170, 40, 96, 100, 70, 120)):
            self.table.setColumnWidth(column, width)
        # a case opens on a click, Enter or F2 (never when the selection merely moves)
        self.table.clicked.connect(self._row_chosen)
        self.table.installEventFilter(self)
        self.filter_edit.installEventFilter(self)
        self.model.shown_until = self._last_row_on_screen
        self.model.modelReset.connect(self._new_list_from_its_top)
        self.model.modelReset.connect(self._update_count)
        self.model.counted.connect(self._update_count)  # also when the exact count comes
        self.model.modelReset.connect(self._follow_open_case)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "background: #fff4c2; color: #3d3000; padding: 6px;border: 1px solid #d9c36a;"
        )
        self.banner.hide()  # shown by the read-only mode only (no empty strip while opening)
        left_layout.setContentsMargins(4, 4, 4, 4)
        left_layout.addWidget(self.filter_edit)
        left_layout.addWidget(self.table)

        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(QWidget())  # the open case's place (`complete`)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([520, 900])

        # the pages: Cases (list + workspace), Meetings, Follow-up (Ctrl+1/2/3)
        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        self.pages.addTab(self.splitter, "Cases")
        self.pages.addTab(QWidget(), "Meetings")
        self.pages.addTab(QWidget(), "Follow-up")
        for page, tip in enumerate(
            (
                "Case list and the open case (Ctrl+1)",
                "Meetings and their agendas (Ctrl+2)",
                "Recommendations waiting for their follow-up (Ctrl+3)",
            )
        ):
            self.pages.setTabToolTip(page, tip)
        # the banner (read-only, and why) above every page
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.banner)
        central_layout.addWidget(self.pages)
        self.setCentralWidget(central)

        self.count_label = QLabel()
        self.statusBar().addPermanentWidget(self.count_label)
        self._location_state: str | None = None  # None: the location not shown yet
        self.statusBar().messageChanged.connect(self._status_cleared)
        self._midnight = QTimer(self)
        self._midnight.setSingleShot(True)
        self._midnight.timeout.connect(self._new_day)
        self.door.checks_finished.connect(self._checks_finished)
        self._update_count()
        self.table.setFocus()  # the keyboard starts in the case list (not the page tabs)
        self._settings_restored = board is None  # else in `complete`, in the old order
        if board is None:
            self._restore_settings()  # the menus' places, offered once the database is open
            # the first page's rows the window can show at its height (the list is less
            # high): read before the first paint, the rest of the page after it
            row = max(1, self.table.verticalHeader().defaultSectionSize())
            self.model.read_first_rows(-(-self.height() // row) + 1)
            self._show_location("opening the database…")
            self.door.upgrade_progress.connect(self._upgrade_progress)
            for title in ("&File", "&Edit", "&Case", "&Meeting", "&Window", "&Tools", "&Help"):
                self.menuBar().addMenu(title).setEnabled(False)
            # the list's first page can be filtered while the database opens: Ctrl+F too
            # (Edit ▸ Find case takes it over in `complete`)
            self._early_find: QAction | None = QAction(self)
            # the platform's keys for Find (Ctrl+F).  `setShortcut(StandardKey)` would try
            # the overloads that take `Qt.Key`, building the `Qt` namespace (ui/lazyqt.py)
            self._early_find.setShortcuts(QKeySequence.StandardKey.Find)
            self._early_find.triggered.connect(self.find_case)
            self.addAction(self._early_find)
            self.table.after_paint.append(self._list_painted)
            for page in (1, 2):
                self.pages.setTabEnabled(page, False)
        else:
            self.complete()

    def _sort_by_header(self) -> None:
        """A click on a column's name sorts the list by it.  The model reads the list by
        name already: the indicator first (unless the header's saved state gave one), so
        enabling the sorting asks for the order the model has (and reads nothing again)."""
        header = self.table.horizontalHeader()
        if not header.isSortIndicatorShown():
            header.setSortIndicator(1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)

    def _list_painted(self) -> None:
        if self._list_painted in self.table.after_paint:
            self.table.after_paint.remove(self._list_painted)
        QTimer.singleShot(0, self._first_painted)  # after this paint has finished

    def _first_painted(self) -> None:
        """At start, right after the list's first paint: the sorting by the header, whose
        order is a `Qt.SortOrder` (the first paint does without the `Qt` namespace:
        ui/lazyqt.py)."""
        if self._painted:
            return
        self._painted = True
        self._sort_by_header()

    def complete(self) -> None:
        """Build what needs the data layer — the open case, the pages, the menus — once
        the database is open (at once when the window was made with it)."""
        from crlmboard.ui.controllers.meetings import FollowUpController, MeetingsController
        from crlmboard.ui.workspace import CaseWorkspace

        self.workspace: CaseWorkspace = CaseWorkspace(self.door, self.undo_stack)
        self.workspace.rule_requested.connect(self.show_rule_catalogue)
        self.workspace.case_shown.connect(self._case_shown)
        self.workspace.modified_changed.connect(self.setWindowModified)
        self._add_timeline_tab()
        for field in self.workspace.findChildren(QLineEdit):  # Ctrl+Z after a save
            field.installEventFilter(self)
        # kept: the splitter's replaceWidget does not take it over from Python
        self.case_area = right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 4, 4, 4)
        right_layout.addWidget(self.workspace.banner)  # whose record, above every tab
        right_layout.addWidget(self.workspace, 1)

        sizes = self.splitter.sizes()
        placeholder = self.splitter.replaceWidget(1, right)
        if placeholder is not None:
            placeholder.deleteLater()
        self.splitter.setSizes(sizes)

        self.meetings: MeetingsController = MeetingsController(
            self.door,
            lambda: self.workspace.case.mrn if self.workspace.case is not None else None,
        )
        self.meetings.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.follow_up: FollowUpController = FollowUpController(self.door)
        self.follow_up.case_requested.connect(self.show_case_page)
        # one signal drives every refresh: the list here, the open case, the pages
        self.door.changes_applied.connect(self._changes_applied)
        self.door.board_replaced.connect(self._board_replaced)
        current = self.pages.currentIndex()
        for page, (widget, title) in enumerate(
            ((self.meetings.view, "Meetings"), (self.follow_up.view, "Follow-up")), start=1
        ):
            tip = self.pages.tabToolTip(page)
            old = self.pages.widget(page)
            self.pages.removeTab(page)
            if old is not None:
                old.deleteLater()
            self.pages.insertTab(page, widget, title)
            self.pages.setTabToolTip(page, tip)
        self.pages.setCurrentIndex(current)

        self._first_painted()  # if the list was never painted (a minimised window)
        self.menuBar().clear()
        early = getattr(self, "_early_find", None)
        if early is not None:  # one Ctrl+F: two would be ambiguous and neither would fire
            self.removeAction(early)
            early.deleteLater()
            self._early_find = None
        self._build_menus()
        for key, forward in (("F6", True), ("Shift+F6", False)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(lambda forward=forward: self.move_focus(forward))
        self._apply_role()
        self._show_location()
        self.read_only_mode = ReadOnlyMode(self, self.door, self.banner)
        if not self._settings_restored:
            self._settings_restored = True
            self._restore_settings()
        self.completed = True
        self._day = self.door.today()
        self._arm_midnight()
        if self.door.checking:  # the summaries (a write) after the check: reads go on
            self._checks_started()
        else:
            self.door.recompute_summaries()  # the list's columns as of today and profile
        mrn, self._open_when_complete = self._open_when_complete, None
        if mrn is not None:
            self.open_case(mrn)

    # -- the checks a deferred open left ---------------------------------------------

    def _checks_started(self) -> None:
        self.statusBar().showMessage(
            "Checking the database…  Changes wait until the check is done; reading goes on."
        )

    def _checks_finished(self, error: BaseException | None) -> None:
        """The deferred quick_check ended: a damaged database is refused as at open."""
        if error is None:
            self._show_location()
            self.door.recompute_summaries()  # held back while the check ran (`complete`)
            return
        QMessageBox.critical(self, "crlmboard", failure_text(error, "The database check"))
        self.open_failed = True
        self.close()

    open_failed = False  # the database could not be opened or failed its check: exit 1

    # -- layout helpers ---------------------------------------------------------------

    def _add_timeline_tab(self) -> None:
        try:
            from crlmboard.ui.views.timeline import TimelineView
        except ImportError:  # the timeline view arrives with the timeline model
            return
        view = TimelineView()
        view.record_clicked.connect(self.workspace.show_record)
        view.record_requested.connect(self.workspace.open_record)
        self.workspace.timeline = view
        self.workspace.insertTab(1, view, "Timeli&ne")

    @Slot(str, int, int)
    def _upgrade_progress(self, step: str, done: int, total: int) -> None:
        """The database opening behind the window is being upgraded (T30): each step in the
        status bar (the list shown meanwhile is the one read before the upgrade)."""
        if self.completed:
            return  # File ▸ Open: the open's progress dialog shows it
        self._show_location(f"upgrading the database: {ops.upgrade_text(step, done, total)}…")

    def _show_location(self, state: str = "") -> None:
        self._location_state = state
        self.statusBar().showMessage(self._location_text())
        if self.door.identity is not None:
            self._apply_role()

    def _location_text(self) -> str:
        who = self.door.identity  # the OS account, or the server's session user
        if who is None:  # the database is still opening
            return f"Database: {self.door.location}   ·   {self._location_state}"
        return f"Database: {self.door.location}   ·   User: {who.name} ({who.role_text})"

    def _status_cleared(self, text: str) -> None:
        """A passing message ended (or a menu item without a tip was hovered): the bar
        names the database and the user again, as it does all day."""
        if not text and self._location_state is not None:
            self.statusBar().showMessage(self._location_text())

    def _apply_role(self) -> None:
        """Offer only what the user's role allows, saying why in the tooltip (the database
        refuses the rest anyway)."""
        who = self.door.identity
        if who is None:
            return
        for action in getattr(self, "_edit_actions", []):
            action.setEnabled(who.can_edit)
            action.setToolTip("" if who.can_edit else who.refusal("a coordinator or a clinician"))
        users = getattr(self, "users_action", None)
        if users is not None:
            users.setEnabled(self.door.is_server and who.can_administer)
            users.setToolTip(
                "Users are managed on a department's PostgreSQL store; on this computer's "
                "file your account is the only user."
                if not self.door.is_server
                else ("" if who.can_administer else who.refusal("an administrator"))
            )

    def show_users(self) -> None:
        from crlmboard.ui.dialogs.users_dialog import UsersDialog

        UsersDialog(self.door, self).exec()

    def _last_row_on_screen(self) -> int:
        bottom = self.table.rowAt(self.table.viewport().height() - 1)
        return self.model.rowCount() - 1 if bottom < 0 else bottom

    def _new_list_from_its_top(self) -> None:
        """Another filter's list shows from its top (the rows its first read holds); the
        open case's row is then selected, when the list holds it (`_follow_open_case`)."""
        if self.model.new_query:
            self.table.scrollToTop()

    def _update_count(self) -> None:
        total = self.model.total
        if self.model.exact:
            self.count_label.setText(f"{total:,} {'case' if total == 1 else 'cases'}")
            self.count_label.setToolTip("")
        else:  # a broad filter: counted up to the cap, the exact number on its way
            self.count_label.setText(f"{COUNT_CAP:,}+ cases")
            self.count_label.setToolTip(
                f"More than {COUNT_CAP:,} cases match; the exact number follows when counted"
            )

    def _refresh_list(self) -> None:
        """Read the case list again after a change; the open case stays open, and stays
        selected if it is still on the page of the list it was on."""
        mrn = self._open_mrn()
        row = self.model.cached_row_of(mrn) if mrn is not None else None
        if row is None:  # its page not read (yet): the row selected, checked after reading
            row = self.table.currentIndex().row()
        self._keep = (mrn or "", row)
        self.model.refresh()

    def _open_mrn(self) -> str | None:
        if not self.completed:  # the database is still opening: no case is open
            return None
        return self.workspace.case.mrn if self.workspace.case is not None else None

    def _follow_open_case(self) -> None:
        """After the list was read again (a change, a filter, a sort, another database):
        select the open case's row if the list shows it, else no row — never another
        case, and nothing opens."""
        mrn = self._open_mrn()
        if mrn is None:
            return
        kept, row = self._keep
        if kept == mrn and row >= 0:
            self.model.entry(row)  # that page, read again
        found = self.model.cached_row_of(mrn)
        if found is not None:
            self._select_row(found)
        elif self.model.completing:  # the screen's rows only: look again when more come
            generation = self.model.generation

            def again() -> None:
                if self.model.generation == generation:
                    self._follow_open_case()

            self.model.arrived.connect(again, Qt.ConnectionType.SingleShotConnection)

    def _select_row(self, row: int) -> None:
        """Select a row of the list (this opens nothing)."""
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))

    # -- the date and the profile -----------------------------------------------------

    def _arm_midnight(self) -> None:
        """Wake just after the next midnight: the list's columns depend on the date."""
        now = dt.datetime.now()
        tomorrow = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0, 0, 5))
        self._midnight.start(max(1000, int((tomorrow - now).total_seconds() * 1000)))

    def _new_day(self) -> None:
        """A new day: the summaries are recomputed (in the background) and every view with
        a relative date reads again."""
        self._arm_midnight()
        today = self.door.today()
        if today == self._day:
            return
        self._day = today
        self.door.recompute_summaries()
        self._changes_applied(ChangeSet(settings=frozenset({"today"})), None)

    def _action(
        self, menu: Any, text: str, slot: Any, shortcut: Any = None, tip: str = ""
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&New database…", self.new_database, "Ctrl+Shift+N")
        self._action(
            file_menu, "&Open database…", self.open_database, QKeySequence.StandardKey.Open
        )
        self.recent_menu = file_menu.addMenu("&Recent")
        self._fill_recent()
        file_menu.addSeparator()
        self._edit_actions = [
            self._action(file_menu, "&Import case files…", self.import_files, "Ctrl+I"),
            self._action(
                file_menu, "Import a &folder of case files…", self.import_folder, "Ctrl+Shift+I"
            ),
            self._action(file_menu, "Import referra&ls (CSV)…", self.import_referrals),
        ]
        self._action(file_menu, "&Export case…", self.export_case, "Ctrl+E")
        self._action(file_menu, "Export FHIR (m&CODE) bundle…", self.export_fhir)
        self._action(
            file_menu,
            "Export &PDF summary…",
            self.export_pdf,
            "Ctrl+P",
            "The tumor-board summary of the open case as PDF",
        )
        file_menu.addSeparator()
        backup = self._action(file_menu, "&Backup now", self.backup_now, "Ctrl+Shift+B")
        restore = self._action(file_menu, "Res&tore a backup…", self.restore_backup)
        file_menu.addSeparator()
        quit_action = self._action(file_menu, "&Quit", self.close)
        # Ctrl+Q where the platform names no quit key (Windows, a bare X server)
        quit_action.setShortcuts(
            QKeySequence.keyBindings(QKeySequence.StandardKey.Quit) or [QKeySequence("Ctrl+Q")]
        )

        edit_menu = bar.addMenu("&Edit")
        self.undo_action = self._action(
            edit_menu, "&Undo", self.undo, QKeySequence.StandardKey.Undo
        )
        self.redo_action = self._action(edit_menu, "&Redo", self.redo)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for signal in (self.undo_stack.indexChanged, self.undo_stack.cleanChanged):
            signal.connect(self._name_undo_steps)
        self._name_undo_steps()
        edit_menu.addSeparator()
        self._action(edit_menu, "&Find case", self.find_case, QKeySequence.StandardKey.Find)

        case_menu = bar.addMenu("&Case")
        self._edit_actions += [
            self._action(case_menu, "&New case…", self.new_case, QKeySequence.StandardKey.New),
            self._action(
                case_menu, "Add &chemotherapy cycle…", self.workspace.add_cycle, "Ctrl+Alt+C"
            ),
            self._action(
                case_menu, "Add &imaging timepoint…", self.workspace.add_timepoint, "Ctrl+Alt+I"
            ),
            self._action(case_menu, "Add &procedure…", self.workspace.add_procedure, "Ctrl+Alt+P"),
            self._action(case_menu, "Add surgery &outcome…", self.workspace.add_outcome),
        ]
        case_menu.addSeparator()
        self._action(case_menu, "&History (who changed what)…", self.show_history, "Ctrl+H")
        case_menu.addSeparator()
        self._edit_actions.append(
            self._action(
                case_menu,
                "&Erase patient for good…",
                self.erase_case,
                tip="Delete the open case and wipe its audit values (a test patient, a "
                "mistake): only where that is allowed",
            )
        )

        meeting_menu = bar.addMenu("&Meeting")
        self.meetings.fill_menu(meeting_menu)

        pages_menu = bar.addMenu("&Window")
        for page, (text, key) in enumerate(
            (("&Cases", "Ctrl+1"), ("&Meetings", "Ctrl+2"), ("&Follow-up worklist", "Ctrl+3"))
        ):
            self._action(
                pages_menu, text, lambda _c=False, p=page: self.pages.setCurrentIndex(p), key
            )

        tools_menu = bar.addMenu("&Tools")
        self._action(tools_menu, "&Rule catalogue", lambda: self.show_rule_catalogue(""), "Ctrl+R")
        self._action(tools_menu, "&Check database…", self.check_database)
        self.users_action = self._action(tools_menu, "&Users…", self.show_users)
        for menu in (file_menu, case_menu, tools_menu):
            menu.setToolTipsVisible(True)  # the reason an action is not offered
        self._action(
            tools_menu, "&Preferences…", self.show_preferences, QKeySequence.StandardKey.Preferences
        )

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About crlmboard", self.show_about)
        self._action(help_menu, "Show &log", self.show_log)
        # what changes the database: disabled, saying why, while it is read-only here
        guard(self.door, *self._edit_actions, backup, restore, self.undo_action, self.redo_action)
        show_tooltips(file_menu, edit_menu, case_menu)

    # -- case list --------------------------------------------------------------------

    def _row_chosen(self, index: QModelIndex) -> None:
        """A click, Enter or F2 on a row: open its case (once the database is open, when
        chosen while it opens)."""
        mrn = self.model.data(index, Qt.ItemDataRole.UserRole) if index.isValid() else None
        if mrn and not self.completed:
            self._open_when_complete = str(mrn)
            return
        if mrn:
            self.open_case(str(mrn))

    def open_case(self, mrn: str, then: Any = None) -> bool:
        """Open a case in the workspace: the one place where the patient on screen
        changes, called only on an explicit action of the user.  `then()` once it is
        shown.  Changes not saved in the open case are asked about first
        (`CaseWorkspace.confirm_leave`); False (and the list back on the open case) when
        the user stays.  Chosen while the database opens: opened once it is."""
        if not self.completed:
            self._open_when_complete = mrn
            return True
        shown = self.workspace.case
        if shown is not None and shown.mrn != mrn and not self.workspace.confirm_leave():
            self._show_open_case_in_list()
            return False
        self.workspace.open_case(mrn, then)
        return True

    def _show_open_case_in_list(self) -> None:
        """The list's selection back on the open case (after the user chose to stay)."""
        shown = self.workspace.case
        row = self.model.cached_row_of(shown.mrn) if shown is not None else None
        if row is None:
            self.table.clearSelection()
        else:
            self._select_row(row)

    def _case_shown(self, mrn: str) -> None:
        """The workspace shows a case (or none): the window title names the patient, and
        the list selects that case's row if it shows it."""
        case = self.workspace.case
        if case is None or not mrn:
            self.setWindowTitle(TITLE)
            return
        from crlmboard.ui.views.patient_banner import banner_text

        self.setWindowTitle(f"{banner_text(case.patient, self.door.today())} — crlmboard[*]")
        row = self.model.cached_row_of(mrn)
        current = self.table.currentIndex()
        if row is not None and (not current.isValid() or current.row() != row):
            self._select_row(row)

    def move_focus(self, forward: bool = True) -> None:
        """F6 / Shift+F6: between the case list and the open case (the Cases page)."""
        self.pages.setCurrentWidget(self.splitter)
        focus = QApplication.focusWidget()
        in_case = focus is not None and self.workspace.isAncestorOf(focus)
        if in_case or not self.workspace.isEnabled():
            self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return
        page = self.workspace.currentWidget()
        target = first_focusable(page) if page is not None else None
        if target is None:
            self.workspace.tabBar().setFocus(Qt.FocusReason.ShortcutFocusReason)
        else:
            target.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Keys of the list and the filter: Enter or F2 on a row opens it; Down in the
        filter moves into the results, Enter there opens the first match; the list, when
        it gets the focus from the keyboard, points at the open case (Qt would point at row
        0)."""
        if watched is self.table and event.type() == QEvent.Type.FocusIn:
            # (before the list's first paint no click can have given it: the focus of the
            # shown window, and its reason is not asked, ui/lazyqt.py)
            if (
                self._painted
                and isinstance(event, QFocusEvent)
                and event.reason() == Qt.FocusReason.MouseFocusReason
            ):
                # the click that gives the focus chooses its own row: the list scrolled to
                # the open case first would put another patient under the pointer
                return False
            mrn = self._open_mrn()
            row = self.model.cached_row_of(mrn) if mrn is not None else None
            if row is not None and self.table.currentIndex().row() != row:
                self._select_row(row)
            elif not self.table.currentIndex().isValid() and self.model.rowCount():
                # the first row becomes current without being selected or opened
                self.table.selectionModel().setCurrentIndex(
                    self.model.index(0, 0), self.table.selectionModel().SelectionFlag.NoUpdate
                )
            return False
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(watched, QLineEdit)
            and isinstance(event, QKeyEvent)
        ):
            # a field with nothing typed to undo lets Ctrl+Z reach Edit ▸ Undo (the save
            # just made); with typing of its own, the field undoes that first
            if event.matches(QKeySequence.StandardKey.Undo):
                return not watched.isUndoAvailable()
            if event.matches(QKeySequence.StandardKey.Redo) or event.keyCombination() == (
                Qt.KeyboardModifier.ControlModifier | Qt.Key.Key_Y
            ):
                return not watched.isRedoAvailable()
            return False
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key, modifiers = event.key(), event.modifiers()
        plain = modifiers in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.KeypadModifier,
        )
        if (
            watched is self.table
            and plain
            and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2)
        ):
            self._row_chosen(self.table.currentIndex())
            return True
        if watched is self.filter_edit and plain:
            if key == Qt.Key.Key_Down:
                self._filter_now()
                self.table.setFocus(Qt.FocusReason.TabFocusReason)
                if not self.table.selectionModel().selectedRows() and self.model.rowCount():
                    self.table.selectRow(0)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.open_first_match()
                return True
        return False

    def _filter_now(self) -> bool:
        """Apply a filter still being typed at once; True if the list is read again."""
        if not self._filter_timer.isActive():
            return False
        self._filter_timer.stop()
        self.model.set_query(self.filter_edit.text())
        return True

    def open_first_match(self) -> None:
        """Enter in the filter: open the first case the filter finds (once the list has
        been read with what is typed)."""

        def first() -> None:
            entry = self.model.entry(0) if self.model.rowCount() else None
            if entry is not None:
                self.open_case(entry.mrn)
                self._select_row(0)
            else:
                self.statusBar().showMessage("No case matches the filter.", 5000)

        self._filter_now()
        if self.model.reloading:  # the list with what is typed is on its way
            self.model.modelReset.connect(first, Qt.ConnectionType.SingleShotConnection)
        else:
            first()

    def select_case(self, mrn: str) -> None:
        """Open a case (an explicit action: a new or imported case, one chosen on another
        page) and show it in the list, clearing a filter that hides it."""
        if self.open_case(mrn):
            self.show_in_list(mrn)

    def show_in_list(self, mrn: str) -> None:
        """Select a case's row (clearing a filter that hides it); this opens nothing."""

        def found(row: int | None) -> None:
            if row is None and self.filter_edit.text():
                self.filter_edit.blockSignals(True)
                self.filter_edit.clear()
                self.filter_edit.blockSignals(False)
                self._filter_timer.stop()
                self.model.query = ""
                self.model.modelReset.connect(
                    lambda: self.model.locate(mrn, show), Qt.ConnectionType.SingleShotConnection
                )
                self.model.reload()
                return
            show(row)

        def show(row: int | None) -> None:
            if row is not None and self._open_mrn() == mrn:
                self._select_row(row)

        self.model.locate(mrn, found)

    def _changes_applied(self, changes: ChangeSet, origin: object) -> None:
        """What every change drives: the case list, the open case, the pages."""
        if changes.everything or changes.cases or changes.settings or changes.meetings:
            self._refresh_list()
        if changes.reviews or changes.follow_ups:
            # a review signed or followed up: no undo of edits made before it
            self.undo_stack.clear()
        if changes.settings & {"profile", "user"}:
            self._show_location()
        self.workspace.changes_applied(changes, origin)
        self.meetings.changes_applied(changes, origin)
        self.follow_up.changes_applied(changes, origin)

    def _board_replaced(self) -> None:
        """Another database (or the same after a restore): nothing of the old one stays."""
        self.undo_stack.clear()
        self._show_location()
        self._remember_recent(self.door.location)
        self.door.recompute_summaries()

    def show_case_page(self, mrn: str) -> None:
        """Open a case on the Cases page (from the worklist or an agenda)."""
        self.pages.setCurrentWidget(self.splitter)
        self.select_case(mrn)

    # -- file -------------------------------------------------------------------------

    def _switch_database(self, where: str, *, create: bool = False) -> None:
        """Open another database (a new one only with `create`, File ▸ New database);
        every view reloads from it."""
        if not self.workspace.confirm_leave() or not confirm_location(self, where):
            return
        self.door.open_database(
            where,
            QSettings().value("profile") or None,
            None,
            lambda error: QMessageBox.warning(
                self, "Cannot open the database", failure_text(error, "Opening")
            ),
            create=create,
        )

    def new_database(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(
            self, "New database", "crlmboard.sqlite3", "crlmboard database (*.sqlite3)"
        )
        if path:
            if Path(path).exists():
                QMessageBox.warning(
                    self,
                    "New database",
                    f"{path} already exists; choose a new file name or use Open database.",
                )
                return
            self._switch_database(path, create=True)

    def open_database(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(
            self, "Open database", "", "crlmboard database (*.sqlite3);;All files (*)"
        )
        if path:
            self._switch_database(path)

    def _remember_recent(self, location: str) -> None:
        settings = QSettings()
        recent = [x for x in (settings.value("recent") or []) if x != location]
        settings.setValue("recent", [location, *recent][:8])
        settings.setValue("last_database", location)
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = QSettings().value("recent") or []
        if isinstance(recent, str):
            recent = [recent]
        for location in recent:
            action = self.recent_menu.addAction(location)
            action.triggered.connect(lambda _c=False, where=location: self._switch_database(where))
        self.recent_menu.setEnabled(bool(recent))

    def import_files(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        paths, _ = QFileDialog.getOpenFileNames(
            self, "Import case files", "", "Case files and mCODE bundles (*.json)"
        )
        if not paths:
            return

        def previewed(previews: list[Any]) -> None:
            if self._confirm_bundles(previews):
                self._import(paths)

        def failed(error: BaseException) -> None:
            QMessageBox.warning(self, "Import", failure_text(error, "Reading the bundles"))

        self.door.preview_bundles(paths, previewed, failed)

    def _confirm_bundles(self, previews: list[Any]) -> bool:
        """Before an mCODE bundle is imported: the case it carries and, item by item, what of
        it will not be imported (or why it will be refused).  False: the user said no."""
        lines: list[str] = []
        for preview in previews:
            name = os.path.basename(preview.path)
            if preview.problems:
                lines.append(f"{name} will be refused:")
                lines.extend(f"  {p}" for p in preview.problems[:8])
                continue
            lines.append(f"{name}: the case {preview.mrn}")
            notes = preview.notes
            if notes:
                lines.append(f"  not imported ({len(notes)}):")
                lines.extend(f"  {n}" for n in notes[:25])
                if len(notes) > 25:
                    lines.append(f"  … and {len(notes) - 25} more (crlmboard import --preview)")
        if not lines:
            return True
        answer = QMessageBox.question(self, "Import mCODE bundle", "\n".join(lines) + "\n\nImport?")
        return answer == QMessageBox.StandardButton.Yes

    def import_folder(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(self, "Import a folder of case files")
        if folder:
            self._import([folder])

    def _import(self, paths: list[str]) -> None:
        def done(summary: Any) -> None:
            lines = [
                f"{len(summary.imported)} case(s) imported, {len(summary.refused)} file(s) refused."
            ]
            for file, problems in summary.refused[:10]:
                lines.append(f"\n{os.path.basename(file)}:")
                lines.extend(f"  {p}" for p in problems[:8])
            for file, notes in summary.notes[:10]:  # what a bundle held that was not imported
                lines.append(f"\n{os.path.basename(file)}, not imported:")
                lines.extend(f"  {n}" for n in notes[:15])
                if len(notes) > 15:
                    lines.append(f"  … and {len(notes) - 15} more (crlmboard import --preview)")
            box = QMessageBox.information if summary.ok else QMessageBox.warning
            box(self, "Import", "\n".join(lines))
            if len(summary.imported) == 1:
                self.select_case(summary.imported[0][1])

        def failed(error: BaseException) -> None:
            QMessageBox.warning(self, "Import", failure_text(error, "The import"))

        self.door.import_paths(paths, done, failed)

    def export_case(self) -> None:
        case = self.workspace.case
        if case is None:
            QMessageBox.information(self, "Export case", "Open a case first.")
            return
        if not self.workspace.confirm_stored("The case file"):
            return
        case = self.workspace.case or case  # as saved just now (its MRN may have changed)

        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(
            self, "Export case", f"{case.mrn}.json", "Case files (*.json)"
        )
        if path:
            mrn = case.mrn
            self.door.export_case(
                mrn,
                path,
                lambda target: self.statusBar().showMessage(f"Exported {mrn} to {target}", 8000),
                lambda error: QMessageBox.warning(
                    self, "Export case", f"The case was not exported: {failure_text(error)}"
                ),
            )

    def export_fhir(self) -> None:
        case = self.workspace.case
        if case is None:
            QMessageBox.information(self, "Export FHIR bundle", "Open a case first.")
            return
        if not self.workspace.confirm_stored("The FHIR bundle"):
            return
        case = self.workspace.case or case  # as saved just now (its MRN may have changed)

        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(
            self, "Export FHIR (mCODE) bundle", f"{case.mrn}-mcode.json", "FHIR JSON (*.json)"
        )
        if path:
            mrn = case.mrn
            self.door.export_fhir(
                mrn,
                path,
                lambda target: self.statusBar().showMessage(
                    f"Wrote the mCODE bundle of {mrn} to {target}", 8000
                ),
                lambda error: QMessageBox.warning(
                    self, "Export FHIR bundle", f"Not exported: {failure_text(error)}"
                ),
            )

    def import_referrals(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        from crlmboard.domain.validation import InvalidInput

        path, _ = QFileDialog.getOpenFileName(self, "Import referrals", "", "Referral CSV (*.csv)")
        if not path:
            return

        def refused(error: BaseException) -> None:
            if isinstance(error, InvalidInput):
                lines = [str(p) for p in error.problems[:30]]
                QMessageBox.warning(
                    self,
                    "Import referrals",
                    "Nothing was imported. Please correct the file:\n\n" + "\n".join(lines),
                )
            else:
                QMessageBox.warning(
                    self, "Import referrals", f"Nothing was imported: {failure_text(error)}"
                )

        def previewed(preview: Any) -> None:
            lines = [
                f"{plan.mrn}: {plan.action}"
                + (f" (kept stored {', '.join(plan.kept)})" if plan.kept else "")
                for plan in preview.rows[:40]
            ]
            answer = QMessageBox.question(
                self,
                "Import referrals",
                "".join(f"{note}\n\n" for note in preview.notes)
                + f"{preview.creates} new case(s), {preview.updates} case(s) to complete:\n\n"
                + "\n".join(lines)
                + "\n\nImport them?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
            self.door.import_referrals(
                path,
                lambda result: self.statusBar().showMessage(
                    f"Imported {len(result.mrns)} referral(s)", 8000
                ),
                refused,
            )

        self.door.preview_referrals(path, previewed, refused)

    def export_pdf(self) -> None:
        """The open case's summary: the current evaluation with its latest signed review."""
        from crlmboard.ui.exports import export_case_summary

        case = self.workspace.case
        if case is None:
            QMessageBox.information(self, "Export PDF", "Open a case first.")
            return
        if not self.workspace.confirm_stored("The PDF summary"):
            return
        export_case_summary(self, self.door, self.workspace.case or case)

    # -- data safety ------------------------------------------------------------------

    def backup_now(self) -> None:
        def done(info: Any) -> None:
            if info is None:  # Cancel
                self.statusBar().showMessage("Backup cancelled: nothing written.", 10000)
                return
            state = "verified" if info.verified else "NOT verified"
            self.statusBar().showMessage(f"Backup made ({state}): {info.path}", 10000)

        def failed(error: BaseException) -> None:
            QMessageBox.warning(self, "Backup", failure_text(error, "The backup"))

        self.door.backup(done, failed)

    def restore_backup(self) -> None:
        from crlmboard.ui.dialogs.safety import RestoreDialog

        def failed(error: BaseException) -> None:
            QMessageBox.warning(self, "Restore", failure_text(error, "The restore"))

        def listed(backups: list[Any]) -> None:
            if not backups:
                QMessageBox.information(self, "Restore", "This database has no backups yet.")
                return
            dialog = RestoreDialog(backups, self)
            if not dialog.exec() or dialog.chosen() is None:
                return
            if not self.workspace.confirm_leave():  # the restore replaces the open case
                return
            self.door.restore(
                dialog.chosen().path, QSettings().value("profile") or None, restored, failed
            )

        def restored(result: Any) -> None:
            QMessageBox.information(
                self,
                "Restore",
                f"Restored {result.restored}.\nThe state before the restore "
                f"is kept as {result.safety_backup}.",
            )

        self.door.list_backups(listed, failed)

    def check_database(self) -> None:
        from crlmboard.ui.dialogs.safety import CheckReportDialog

        def done(report: Any) -> None:
            CheckReportDialog(report, self).exec()

        def failed(error: BaseException) -> None:
            QMessageBox.warning(self, "Check database", failure_text(error, "The check"))

        self.door.check(done, failed)

    def erase_case(self) -> None:
        """Erase the open case for good, after the MRN is typed again and a reason given."""
        from crlmboard.ui.dialogs.erase import EraseDialog

        case = self.workspace.case
        if case is None:
            QMessageBox.information(self, "Erase patient", "Open a case first.")
            return
        mrn = case.mrn

        def erased(result: Any) -> None:
            dialog.erased()
            if self.workspace.case is not None and self.workspace.case.mrn == mrn:
                self.workspace.close_case()
            self.undo_stack.clear()  # its steps would name a patient who is gone
            lines = [
                f"The case was erased (erasure {result.erasure_id}): "
                f"{sum(result.records.values())} records deleted, the values of "
                f"{result.audit_rows} audit row(s) wiped."
            ]
            if result.new_backup is not None:
                lines.append(f"A new backup without the patient: {result.new_backup.path.name}")
            if result.older_backups:
                lines.append("Older backups that still hold this patient:")
                lines += [f"• {older.sentence()}" for older in result.older_backups]
            lines += list(result.notes)
            QMessageBox.information(self, "Erase patient", "\n".join(lines))

        def failed(error: BaseException) -> None:
            # the refusal names the command line's option; here it is the dialog's box
            text = failure_text(error, "The erasure").replace(
                "with --including-signed-reviews",
                "by ticking “Also erase signed reviews” in the erase dialog",
            )
            QMessageBox.warning(dialog, "Erase patient", text)  # over the dialog, kept open
            dialog.refused()

        def attempt(dialog: EraseDialog) -> None:
            self.door.erase_case(
                mrn,
                reason=dialog.reason.text(),
                confirm_mrn=dialog.confirm.text(),
                including_signed=dialog.signed.isChecked(),
                done=erased,
                failed=failed,
            )

        dialog = EraseDialog(mrn, self, attempt, patient=case.patient, today=self.door.today())
        dialog.exec()

    def show_history(self) -> None:
        from crlmboard.ui.dialogs.safety import HistoryDialog, meeting_name

        case = self.workspace.case
        if case is None:
            QMessageBox.information(self, "History", "Open a case first.")
            return
        mrn, patient = case.mrn, case.patient

        def show(found: tuple[list[Any], dict[int, Any]]) -> None:
            if self._open_mrn() != mrn:
                return  # another case opened meanwhile: never its history over that one
            entries, meetings = found
            HistoryDialog(
                mrn,
                entries,
                self,
                meetings={i: meeting_name(f) for i, f in meetings.items()},
                patient=patient,
                today=self.door.today(),
            ).exec()

        self.door.case_history(mrn, show)

    # -- undo -------------------------------------------------------------------------

    def _name_undo_steps(self, *_args: Any) -> None:
        """ "Undo: edit staging — DEMOSON, Lukas": the Edit menu names the step and whose
        record it changes."""
        stack = self.undo_stack
        for action, able, text, verb in (
            (self.undo_action, stack.canUndo(), stack.undoText(), "Undo"),
            (self.redo_action, stack.canRedo(), stack.redoText(), "Redo"),
        ):
            action.setEnabled(able)
            label = f"{verb}: {text}" if able and text else verb
            action.setText(f"&{label.replace('&', '&&')}")
            action.setStatusTip(label)

    def undo(self) -> None:
        self._step(undo=True)

    def redo(self) -> None:
        self._step(undo=False)

    def _step(self, *, undo: bool) -> None:
        """Undo or redo the next step; a step of another patient than the one on screen
        is never done silently: the user is asked, and on Yes that patient's case is
        opened (with a word in the status bar) before the step is done there."""
        from crlmboard.ui.views.patient_banner import banner_text
        from crlmboard.ui.workspace import CaseEdit

        stack = self.undo_stack
        index = stack.index() - 1 if undo else stack.index()
        if not 0 <= index < stack.count() or self.workspace.saving:
            return
        command = stack.command(index)
        run = stack.undo if undo else stack.redo
        if not isinstance(command, CaseEdit):
            run()
            return
        mrn, name = command.patient_for(undo)
        if self._open_mrn() == mrn:
            run()
            return
        verb = "Undo" if undo else "Redo"
        shown = self.workspace.case
        on_screen = (
            f"The case on screen is {banner_text(shown.patient, self.door.today())}."
            if shown is not None
            else "No case is open."
        )
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(f"{verb} a change of another patient")
        box.setText(f"The next step to {verb.lower()} changes the record of {name} ({mrn}).")
        box.setInformativeText(
            f"{on_screen}\n\nOpen {name} and {verb.lower()} “{command.text()}” there?"
        )
        go = box.addButton(f"Open {name} and {verb.lower()}", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.exec()
        if box.clickedButton() is not go:
            return

        def opened() -> None:
            self.show_in_list(mrn)
            self.statusBar().showMessage(
                f"Opened {name} ({mrn}) to {verb.lower()}: {command.text()}", 10000
            )
            if self._open_mrn() == mrn:
                run()

        self.open_case(mrn, opened)

    # -- case -------------------------------------------------------------------------

    def new_case(self) -> None:
        if not self.workspace.confirm_leave():  # the new case opens in its place
            return
        self._ask_new_case()

    def _ask_new_case(self, typed: Any = None, refused: Any = None) -> None:
        """The New case dialog; after a refusal (an MRN in use) again with what was typed
        (`typed`, a Patient) and the reasons (`refused`, an InvalidInput)."""
        from crlmboard.domain import models as m
        from crlmboard.domain.case import Case
        from crlmboard.domain.validation import InvalidInput
        from crlmboard.ui.dialogs.record_dialog import RecordDialog

        dialog = RecordDialog(
            m.Patient,
            typed,
            "New case",
            self,
            today=self.door.today(),
            note="Only the MRN is required; everything else can follow.",
            typed=typed is not None,
        )
        if refused is not None:
            dialog.show_refusal(refused.problems, prefix="patient.")
        if not dialog.exec() or dialog.result_record is None:
            return
        case = Case(patient=dialog.result_record)

        def failed(error: BaseException) -> None:
            if isinstance(error, InvalidInput) and all(
                p.path.startswith("patient.") for p in error.problems
            ):
                self._ask_new_case(case.patient, error)
                return
            if not isinstance(error, InvalidInput | BoardError):
                raise error
            QMessageBox.warning(self, "New case", failure_text(error))

        self.door.create_case(case, lambda _saved: self.select_case(case.mrn), failed)

    # -- tools and help ---------------------------------------------------------------

    def show_rule_catalogue(self, rule: str = "") -> None:
        from crlmboard.ui.dialogs.rule_catalogue import RuleCatalogueDialog

        def show(found: tuple[list[dict[str, Any]], str]) -> None:
            catalogue, profile = found
            dialog = RuleCatalogueDialog(catalogue, profile, self)
            dialog.select_rule(rule)
            dialog.exec()

        self.door.rule_catalogue(show)

    def show_preferences(self) -> None:
        from crlmboard.ui.dialogs.preferences import PreferencesDialog

        dialog = PreferencesDialog(self)
        if dialog.exec():
            profile = QSettings().value("profile") or None
            if profile != self._profile:
                self._profile = profile
                # the list's columns follow the profile: recomputed in the background
                self.door.use_profile(
                    profile,
                    lambda _p: self.door.recompute_summaries(),
                    lambda error: QMessageBox.warning(
                        self, "Institution profile", failure_text(error)
                    ),
                )
            self._show_location()

    def show_about(self) -> None:
        from crlmboard.domain.engine.catalogue import ENGINE_VERSION

        info = ops.about()
        try:
            import PySide6

            info["qt"] = PySide6.__version__
        except ImportError:  # pragma: no cover
            info["qt"] = "?"
        QMessageBox.about(
            self,
            "About crlmboard",
            f"crlmboard {info['crlmboard']}\n\nCase manager for tumor boards treating "
            "colorectal liver metastases. The guideline engine supports the board; it decides "
            f"nothing.\n\nSchema {info['schema']} · Python {info['python']} · Qt "
            f"{info['qt']} · SQLite {info['sqlite']}\nGuideline engine {ENGINE_VERSION}, "
            f"profile {self.door.profile.name}",
        )

    def show_log(self) -> None:
        path = log_path()
        if not path.exists():
            QMessageBox.information(self, "Log", f"The log is empty ({path}).")
            return
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    # -- settings ---------------------------------------------------------------------

    def _restore_settings(self) -> None:
        settings = QSettings()
        geometry = settings.value("main_window/geometry")
        # Qt refuses a geometry larger than this screen (saved on a desk monitor, opened on
        # a laptop): the window then kept its least size and the window manager put it
        # partly past the screen's edge; it gets the size of a first start instead
        if geometry is None or not self.restoreGeometry(geometry):
            # 1280×720, or less so that it fits on the screen with its frame (on a 1280×720
            # screen the status bar was below the screen's edge)
            available = self.screen().availableGeometry()
            self.resize(min(1280, available.width() - 16), min(720, available.height() - 64))
        splitter = settings.value("main_window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        columns = settings.value("case_list/header")
        if columns is not None:
            self.table.horizontalHeader().restoreState(columns)

    def find_case(self) -> None:
        """Edit ▸ Find case (Ctrl+F): into the filter, its text selected (typing replaces
        it)."""
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def closeEvent(self, event: Any) -> None:
        if not self.completed:  # closed while opening: nothing but the list to keep
            self._midnight.stop()
            self.door.stop(close_board=True)
            super().closeEvent(event)
            return
        # File ▸ Quit (Ctrl+Q) closes the window too: one place asks about unsaved changes
        if not self.workspace.confirm_leave():
            event.ignore()
            return
        self._midnight.stop()
        # what is queued is done first; then the database is closed (backed up if changed)
        self.door.stop(close_board=True)
        settings = QSettings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/splitter", self.splitter.saveState())
        settings.setValue("case_list/header", self.table.horizontalHeader().saveState())
        super().closeEvent(event)
