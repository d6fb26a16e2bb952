"""The behaviour of the Meetings and Follow-up pages: what each button and menu action
does, reading and writing through the door (ui/ops.py).  Each controller owns its page's
widgets (`view`, laid out in ui/views/meetings.py, behaviour-free) and learns from them by
signals and an event filter; the rows are held by ui/models/meetings.py.

Nothing is read until a page is first shown (or an action needs the meetings); after that
the door's "changes applied" signal reads them again when a change touched them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QTabWidget, QWidget

from crlmboard.domain.board_work import OverdueFollowUp, Quorum, ReadinessItem
from crlmboard.services.changes import ChangeSet
from crlmboard.ui.dialogs.meeting_dialog import (
    AgendaDialog,
    MeetingDialog,
    NoteDialog,
    ReadinessDialog,
    error_text,
    hold_back_dialog,
    role_text,
    whose,
)
from crlmboard.ui.forms import locale_date
from crlmboard.ui.models.meetings import relative
from crlmboard.ui.ops import AgendaEntry, Door, MeetingSummary, failure_text
from crlmboard.ui.readonly import guard, show_tooltips
from crlmboard.ui.views.meetings import FollowUpLayout, MeetingsLayout


class MeetingsController(QObject):
    """The Meetings page's behaviour; it owns the page's layout (`view`, the widget to
    show), which is a child of nothing else of it and is deleted with it."""

    message = Signal(str)

    def __init__(
        self,
        door: Door,
        current_case: Callable[[], str | None] | None = None,
        parent: QWidget | None = None,
    ):
        view = MeetingsLayout(parent)
        super().__init__(view)  # lives as long as its view
        self.view = view
        view.installEventFilter(self)
        self.door = door
        self.current_case = current_case or (lambda: None)
        self._readiness: dict[int, dict[int, list[ReadinessItem]]] = {}
        # an agenda entry to select once its meeting is shown again (the case just added)
        self._select_when_shown: int | None = None
        self.view.agenda_model.reorder = self._reorder_to
        self.view.list_view.selectionModel().currentRowChanged.connect(
            lambda *_a: self._show_selected()
        )
        self.view.agenda_view.activated.connect(lambda _i: self._review_from_agenda())
        self.view.agenda_view.selectionModel().currentRowChanged.connect(
            lambda *_a: self._update_actions()
        )
        self.view.new_button.clicked.connect(self.new_meeting)
        self.view.edit_button.clicked.connect(self.edit_meeting)
        self.view.delete_button.clicked.connect(self.delete_meeting)
        self.view.figures_button.clicked.connect(self.board_figures)
        self.view.prepare_button.clicked.connect(self.prepare)
        self.view.pack_button.clicked.connect(self.meeting_pack)
        self.view.close_button.clicked.connect(self.close_meeting)
        self.view.add_button.clicked.connect(self.add_case)
        self.view.question_button.clicked.connect(self.edit_question)
        self.view.up_button.clicked.connect(lambda: self.move_entry(-1))
        self.view.down_button.clicked.connect(lambda: self.move_entry(1))
        self.view.remove_button.clicked.connect(self.remove_entry)
        self.view.hold_button.clicked.connect(self.hold_back)
        self.view.review_button.clicked.connect(self.review)
        self.menu_actions: dict[str, QAction] = {}
        # what changes the database: disabled while it is read-only here
        guard(
            door,
            *(getattr(self.view, f"{key}_button") for key in self.EDITS),
            self.view.new_button,
            self.view.add_button,
        )
        door.access_changed.connect(self._allow_drag)
        self._allow_drag()
        # `_stale`: the list must be read; `_current`: the selected meeting in full, with
        # its quorum; `_keep`: the meeting to select after the next read
        self._stale = True
        self._current: MeetingSummary | None = None
        self._quorum: Quorum | None = None
        self._keep: int | None = None
        self._keep_readiness = False
        self._expecting = False  # a change of this page's own is on its way
        self._asked: int | None = None  # the meeting being read in full

    # the page's actions that change the database (not: prepare, pack, figures)
    EDITS = ("edit", "delete", "close", "question", "up", "down", "remove", "hold", "review")

    def _allow_drag(self) -> None:
        """Agenda rows are reordered by dragging only where the database can change."""
        self.view.agenda_view.setDragEnabled(not self.door.read_only)

    def _review_from_agenda(self) -> None:
        """Enter or a double click on an agenda row reviews it (signing writes: not while
        the database is read-only here)."""
        if self.door.read_only:
            self.message.emit(self.door.read_only_text or "")
            return
        self.review()

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
                "export_review",
                "Export review &summary PDF…",
                lambda: self.export_document(letter=False),
                None,
                "The summary PDF of the selected case's signed review at this meeting",
            ),
            (
                "export_letter",
                "Export outcome &letter…",
                lambda: self.export_document(letter=True),
                None,
                "The outcome letter of the selected case's signed review at this meeting",
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
        guard(
            self.door,
            *(self.menu_actions[key] for key in (*self.EDITS, "new", "add")),
        )
        show_tooltips(menu)
        self._update_actions()

    def _from_menu(self, run: Callable[[], Any], show: bool, key: str = "") -> None:
        """Run a menu action; one on the selected meeting brings the page forward first,
        so its effect is seen.  Before the page was first read every action is offered:
        the meetings are read first and the action runs only if it still applies."""
        if show:
            holder = self.view.parentWidget()
            while holder is not None and not isinstance(holder, QTabWidget):
                holder = holder.parentWidget()
            if isinstance(holder, QTabWidget):
                holder.setCurrentWidget(self.view)
        if self._stale:

            def then() -> None:
                action = self.menu_actions.get(key)
                if action is None or action.isEnabled():
                    run()

            self.reload(then=then)
            return
        run()

    # -- reading ------------------------------------------------------------------------

    def changes_applied(self, changes: ChangeSet, _origin: object) -> None:
        """Read the meetings again now if the page shows, else when it is next shown."""
        if changes.everything:
            self._readiness.clear()
            self._current = None
            self._keep = None
            if not self.view.isVisible():  # nothing of the other database stays on the page
                self.view.list_model.set_meetings([], [], self.door.today())
                self._show_selected()
        if not (
            changes.everything
            or changes.meetings
            or changes.cases
            or changes.reviews
            or changes.settings
        ):
            return
        if self.view.isVisible() or self._expecting:  # shown, or this page's own change
            self.reload(self._keep, readiness=not self._keep_readiness)
        else:
            self._stale = True
            self._update_actions()
        self._keep, self._keep_readiness, self._expecting = None, False, False

    def invalidate(self) -> None:
        """Read again now if shown, else when next shown."""
        self.changes_applied(ChangeSet(settings=frozenset({"meetings"})), None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.Show:
            self._shown()
        return False

    def _shown(self) -> None:
        if self._stale:
            self.reload()  # first shown, or changed while hidden
        else:
            self._show_selected()  # the readiness of the selected meeting, now that it shows

    def reload(
        self,
        keep: int | None = None,
        *,
        readiness: bool = True,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Read the meetings again, keeping the selected meeting (or selecting `keep`).
        The list is light (no agendas); only the selected meeting is read in full."""
        selected = keep if keep is not None else self.selected_meeting_id()
        entry = self.selected_entry()
        self._stale = False

        def listed(found: tuple[list[Any], list[Quorum]]) -> None:
            meetings, quorums = found
            self._current = None
            if readiness:
                self._readiness.clear()
            icons = {True: self.view.icons["ready"], False: self.view.icons["missing"]}
            self.view.list_model.set_meetings(meetings, quorums, self.door.today(), icons)
            if not self.select_meeting(selected) and meetings:
                self.select_meeting(meetings[0].id)
            if not meetings:
                self._show_selected()
            if entry is not None:
                self.select_entry(entry.id)
            if then is not None:
                then()

        self.door.meeting_listing(listed)

    def select_meeting(self, meeting_id: int | None) -> bool:
        if meeting_id is None:
            return False
        row = self.view.list_model.row_of(meeting_id)
        if row is None:
            return False
        index = self.view.proxy.mapFromSource(self.view.list_model.index(row, 0))
        self.view.list_view.setCurrentIndex(index)
        self.view.list_view.selectRow(index.row())
        self._show_selected()
        return True

    def selected_meeting(self) -> MeetingSummary | None:
        """The selected meeting with its attendees and agenda, once read."""
        meeting_id = self.selected_meeting_id()
        if meeting_id is None or self._current is None or self._current.id != meeting_id:
            return None
        return self._current

    def selected_meeting_id(self) -> int | None:
        index = self.view.list_view.currentIndex()
        if not index.isValid():
            return None
        row = self.view.proxy.mapToSource(index).row()
        return (
            self.view.list_model.meetings[row].id
            if 0 <= row < len(self.view.list_model.meetings)
            else None
        )

    def selected_entry(self) -> AgendaEntry | None:
        index = self.view.agenda_view.currentIndex()
        if not index.isValid() or not 0 <= index.row() < len(self.view.agenda_model.entries):
            return None
        return self.view.agenda_model.entries[index.row()]

    def select_entry(self, item_id: int) -> None:
        row = self.view.agenda_model.row_of(item_id)
        if row is not None:
            self.view.agenda_view.setCurrentIndex(self.view.agenda_model.index(row, 0))
            self.view.agenda_view.selectRow(row)

    def _show_selected(self) -> None:
        """Show the selected meeting, reading it in full first when needed."""
        meeting_id = self.selected_meeting_id()
        if meeting_id is None:
            self._render(None)
            return
        if self._current is not None and self._current.id == meeting_id:
            self._render(self._current)
            return
        if self._asked == meeting_id:
            return
        self._asked = meeting_id

        def found(result: tuple[MeetingSummary, Quorum]) -> None:
            self._asked = None
            if self.selected_meeting_id() != meeting_id:
                return
            self._current, self._quorum = result
            self._render(self._current)

        def gone(_error: BaseException) -> None:
            self._asked = None
            if self.selected_meeting_id() == meeting_id:
                self._render(None)

        self.door.meeting(meeting_id, found, gone)

    def _render(self, meeting: MeetingSummary | None) -> None:
        if meeting is None:
            self.view.header.setText("No meeting yet: New meeting… (Ctrl+Shift+M) creates one.")
            self.view.attendees.clear()
            self.view.quorum_line.show_quorum(None)
            self.view.agenda_model.set_agenda([], None)
            self._update_actions()
            return
        when = locale_date(meeting.date)
        parts = [f"Meeting {when} ({relative(meeting.date, self.door.today())})"]
        if meeting.fields.time:
            parts.append(meeting.fields.time)
        if meeting.fields.location:
            parts.append(meeting.fields.location)
        self.view.header.setText("  ·  ".join(parts))
        people = "; ".join(f"{a.name} ({role_text(a.role).lower()})" for a in meeting.attendees)
        self.view.attendees.setText(
            f"Attendees: {people}"
            if people
            else "Attendees: none recorded yet (Edit meeting… adds them)."
        )
        self.view.quorum_line.show_quorum(self._quorum)
        current = self.selected_entry()
        # the readiness check runs the engine per case: only for a page that shows
        readiness = self._readiness.get(meeting.id)
        if readiness is None and self.view.isVisible() and meeting.date >= self.door.today():
            self._ask_readiness(meeting.id)
        self.view.agenda_model.set_agenda(meeting.agenda, readiness)
        pending = self._select_when_shown
        if pending is not None and self.view.agenda_model.row_of(pending) is not None:
            self._select_when_shown = None
            self.select_entry(pending)
        elif current is not None and current.meeting_id == meeting.id:
            self.select_entry(current.id)
        elif meeting.agenda:
            self.select_entry(meeting.agenda[0].id)
        self._update_actions()

    def _ask_readiness(self, meeting_id: int) -> None:
        """The readiness of an upcoming meeting's cases (computed once per refresh)."""
        self._readiness[meeting_id] = {}  # asked: not again while on its way

        def found(result: tuple[MeetingSummary, list[tuple[AgendaEntry, Any]]]) -> None:
            self._readiness[meeting_id] = {entry.id: items for entry, items in result[1]}
            current = self.selected_meeting()
            if current is not None and current.id == meeting_id:
                self._render(current)

        def gone(_error: BaseException) -> None:
            self._readiness.pop(meeting_id, None)

        self.door.prepare(meeting_id, found, gone, with_meeting=False)

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
            "export_review": entry is not None and entry.status == "discussed",
            "export_letter": entry is not None and entry.status == "discussed",
        }
        if self._stale:  # not read yet: offered, and checked again when triggered
            states = dict.fromkeys(states, True)
        buttons = {
            "edit": self.view.edit_button,
            "delete": self.view.delete_button,
            "prepare": self.view.prepare_button,
            "close": self.view.close_button,
            "pack": self.view.pack_button,
            "question": self.view.question_button,
            "up": self.view.up_button,
            "down": self.view.down_button,
            "remove": self.view.remove_button,
            "hold": self.view.hold_button,
            "review": self.view.review_button,
        }
        # What the user's role does not allow is not offered (the database refuses it too)
        who = self.door.identity
        allowed = dict.fromkeys(states, who.can_edit)
        allowed["pack"] = True
        allowed["export_review"] = allowed["export_letter"] = True  # reads, as the pack
        allowed["review"] = who.can_sign
        reasons = {k: who.refusal("a coordinator or a clinician") for k in states}
        reasons["review"] = who.refusal("a clinician (signing and amending reviews)")
        for key, enabled in states.items():
            if key in buttons:
                buttons[key].setEnabled(enabled and allowed[key])
                buttons[key].setToolTip("" if allowed[key] else reasons[key])
            if key in self.menu_actions:
                self.menu_actions[key].setEnabled(enabled and allowed[key])
        for button in (self.view.new_button, self.view.add_button):
            button.setEnabled(who.can_edit)
            button.setToolTip("" if who.can_edit else reasons["edit"])

    # -- helpers ------------------------------------------------------------------------

    def _need_meeting(self, title: str) -> MeetingSummary | None:
        meeting = self.selected_meeting()
        if meeting is None:
            QMessageBox.information(
                self.view,
                title,
                "Select a meeting first, or create one with New meeting… (Ctrl+Shift+M).",
            )
        return meeting

    def _need_entry(self, title: str) -> AgendaEntry | None:
        entry = self.selected_entry()
        if entry is None:
            QMessageBox.information(self.view, title, "Select a case on the agenda first.")
        return entry

    def _done(self, text: str = "", *, keep: int | None = None, readiness: bool = True) -> None:
        """A change of this page was saved: say so, and keep (or select) a meeting when the
        change's refresh reads the list again."""
        self._keep = keep if keep is not None else self.selected_meeting_id()
        self._keep_readiness = not readiness
        self._expecting = True
        if text:
            self.message.emit(text)

    def _fail(self, title: str) -> Callable[[BaseException], object]:
        return lambda error: QMessageBox.warning(self.view, title, error_text(error))

    def _with_meetings(self, then: Callable[[], None]) -> None:
        if self._stale:
            self.reload(then=then)
        else:
            then()

    # -- meetings -----------------------------------------------------------------------

    def new_meeting(self) -> None:
        self._with_meetings(self._new_meeting)

    def _new_meeting(self) -> None:
        meetings = self.view.list_model.meetings
        latest = max(meetings, key=lambda m: m.date, default=None)
        today = self.door.today()
        when = today
        if latest is not None:
            when = latest.date + dt.timedelta(days=7)
            while when < today:
                when += dt.timedelta(days=7)
        # the attendees of the latest meeting that has some
        attended = next(
            (m for m in sorted(meetings, key=lambda m: m.date, reverse=True) if m.roles), None
        )

        def ask(template: MeetingSummary | None) -> None:
            dialog = MeetingDialog(self.door, None, self.view, template=template, when=when)
            if dialog.exec() and dialog.meeting_id is not None:
                self.message.emit("Meeting created.")
                self.reload(dialog.meeting_id)  # the new meeting selected

        if attended is None:
            ask(None)
        else:
            self.door.meeting(attended.id, lambda found: ask(found[0]), lambda _e: ask(None))

    def edit_meeting(self) -> None:
        meeting = self._need_meeting("Edit meeting")
        if meeting is None:
            return
        dialog = MeetingDialog(self.door, meeting, self.view)
        self._done(keep=meeting.id)  # kept selected when the saved change reads again
        if dialog.exec():
            self.message.emit("Meeting saved.")

    def delete_meeting(self) -> None:
        meeting = self._need_meeting("Delete meeting")
        if meeting is None:
            return
        answer = QMessageBox.question(
            self.view,
            "Delete meeting",
            f"Delete the meeting of {locale_date(meeting.date)} with its agenda of "
            f"{len(meeting.agenda)} case(s)? The cases themselves stay.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.door.delete_meeting(
            meeting.id, lambda _c: self._done("Meeting deleted."), self._fail("Delete meeting")
        )

    # -- agenda -------------------------------------------------------------------------

    def add_case(self, mrn: str | None = None) -> None:
        """Put a case (the open case by default) on the selected meeting's agenda."""
        self._with_meetings(lambda: self._add_case(mrn))

    def _add_case(self, mrn: str | None) -> None:
        meetings = [
            m for m in self.view.list_model.meetings if m.date >= self.door.today()
        ] or self.view.list_model.meetings
        if not meetings:
            QMessageBox.information(
                self.view,
                "Add case to agenda",
                "There is no meeting yet: create one with New meeting… (Ctrl+Shift+M) first.",
            )
            return
        selected = self.selected_meeting_id()
        if selected not in {m.id for m in meetings}:
            meetings = [*meetings, *[m for m in self.view.list_model.meetings if m.id == selected]]
        mrn = mrn if mrn is not None else (self.current_case() or "")
        dialog = AgendaDialog(
            self.door,
            meetings,
            selected if selected is not None else meetings[0].id,
            mrn,
            self.view,
        )
        if dialog.exec() and dialog.meeting_id is not None:
            self.message.emit(f"Case {dialog.mrn} added to the agenda.")
            # selected once the meeting has been read again with it (on the door's worker,
            # after the listing), not before: the first row would stay selected
            self._select_when_shown = dialog.item_id
            self.reload(dialog.meeting_id)

    def add_open_case(self) -> None:
        mrn = self.current_case()
        if not mrn:
            QMessageBox.information(
                self.view,
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
            f"The question for the case of {whose(entry)}:",
            self.view,
            text=entry.question,
            required="The question is required: say what the board must decide.",
            save=lambda text, done, failed: self.door.edit_question(entry.id, text, done, failed),
        )
        self._done(readiness=False)  # the refresh of the save keeps the readiness
        if dialog.exec():
            self.message.emit("Question saved.")

    def move_entry(self, step: int) -> None:
        entry = self._need_entry("Move case")
        if entry is None:
            return
        row = self.view.agenda_model.row_of(entry.id)
        if row is None:
            return
        ids = [e.id for e in self.view.agenda_model.entries]
        target = row + step
        if not 0 <= target < len(ids):
            return
        ids[row], ids[target] = ids[target], ids[row]
        self._reorder_to(ids)

    def _reorder_to(self, item_ids: list[int]) -> None:
        meeting = self.selected_meeting()
        if meeting is None:
            return
        self._done(readiness=False)
        self.door.reorder_agenda(
            meeting.id, item_ids, lambda _r: None, self._fail("Reorder the agenda")
        )

    def remove_entry(self) -> None:
        meeting = self.selected_meeting()
        entry = self._need_entry("Remove case from agenda")
        if entry is None:
            return
        agenda = f"the agenda of {locale_date(meeting.date)}" if meeting else "this agenda"
        answer = QMessageBox.question(
            self.view,
            "Remove case from agenda",
            f"Remove {whose(entry)} from {agenda}? Use Hold back… instead to move the "
            "case to the next meeting.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.door.remove_from_agenda(
            entry.id,
            lambda _r: self._done(f"{whose(entry)} removed from {agenda}."),
            self._fail("Remove case from agenda"),
        )

    def hold_back(self) -> None:
        entry = self._need_entry("Hold back")
        if entry is None:
            return
        self._done()
        if hold_back_dialog(self.door, entry, self.view) is not None:
            self.message.emit(f"{whose(entry)} held back to the next meeting.")

    # -- the meeting --------------------------------------------------------------------

    def prepare(self) -> None:
        meeting = self._need_meeting("Prepare meeting")
        if meeting is None:
            return
        dialog = ReadinessDialog(self.door, meeting.id, self.view)
        held: list[bool] = []
        dialog.changed.connect(lambda: held.append(True))
        entry = self.selected_entry()
        if entry is not None:
            dialog.select_case(entry.mrn)
        self._done()
        dialog.exec()
        if dialog.results:
            self._readiness[meeting.id] = {e.id: items for e, items in dialog.results}
        if held:
            self.message.emit("Cases held back to the next meeting.")
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
                self.view,
                "Review case",
                f"Case {entry.mrn} was moved to the next meeting; review it there.",
            )
            return
        if entry.status == "discussed":
            answer = QMessageBox.question(
                self.view,
                "Review case",
                f"Case {entry.mrn} was reviewed at this meeting and the review is signed. "
                "A signed review is never changed; amend it with a new review?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return

            def amend(case: Any) -> None:
                index = latest_review_at(case, meeting.date)
                if index is None:
                    return
                self._done(keep=meeting.id)
                amend_review(
                    self.view,
                    self.door,
                    case,
                    index,
                    lambda _i: self.message.emit(f"Amendment of the review of {entry.mrn} signed."),
                )

            self.door.get_case(entry.mrn, amend, self._fail("Review case"))
            return

        def started(draft: Any) -> None:
            dialog = ReviewDialog(self.door, draft, self.view)
            self._done(keep=meeting.id)
            if dialog.exec() and dialog.review_index is not None:
                self.message.emit(f"Review of {entry.mrn} signed.")
                self.select_entry(entry.id)

        self.door.start_review(meeting.id, entry.mrn, started, self._fail("Review case"))

    def export_document(self, *, letter: bool) -> None:
        """The review summary PDF or the outcome letter of the selected agenda case's
        signed review at this meeting (its latest, when it was amended)."""
        from crlmboard.ui.dialogs.review_dialog import latest_review_at
        from crlmboard.ui.exports import export_letter, export_review_summary

        title = "Export outcome letter" if letter else "Export review PDF"
        meeting = self._need_meeting(title)
        entry = self._need_entry(title) if meeting is not None else None
        if meeting is None or entry is None:
            return

        def found(case: Any) -> None:
            index = latest_review_at(case, meeting.date)
            if index is None:
                QMessageBox.information(
                    self.view,
                    title,
                    f"Case {entry.mrn} has no signed review at this meeting yet: review and "
                    "sign it first (Review case…).",
                )
                return
            (export_letter if letter else export_review_summary)(self.view, self.door, case, index)

        self.door.get_case(entry.mrn, found, self._fail(title))

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
            self.view,
            "Close meeting",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.door.close_meeting(
            meeting.id,
            lambda closed: self._done(
                f"Meeting closed; {len(closed.moved)} case(s) moved to the next meeting.",
                keep=meeting.id,
            ),
            self._fail("Close meeting"),
        )

    def meeting_pack(self) -> None:
        meeting = self._need_meeting("Meeting pack")
        if meeting is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self.view,
            "Meeting pack PDF",
            f"meeting-pack-{meeting.date.isoformat()}.pdf",
            "PDF (*.pdf)",
        )
        if not path:
            return

        def failed(error: BaseException) -> None:
            QMessageBox.warning(self.view, "Meeting pack", failure_text(error, "The meeting pack"))

        def written(target: Path | None) -> None:
            if target is None:
                self.message.emit("Meeting pack cancelled: nothing written.")
            else:
                self.message.emit(f"Wrote the meeting pack to {target}")

        self.door.meeting_pack(meeting.id, Path(path), written, failed)

    def board_figures(self) -> None:
        from crlmboard.ui.dialogs.figures_dialog import FiguresDialog

        FiguresDialog(self.door, self.view).exec()


class FollowUpController(QObject):
    """The follow-up worklist's behaviour (double-click or Enter opens the case); it owns
    the page's layout (`view`)."""

    case_requested = Signal(str)

    def __init__(self, door: Door, parent: QWidget | None = None):
        view = FollowUpLayout(parent)
        super().__init__(view)  # lives as long as its view
        self.view = view
        view.installEventFilter(self)
        self.door = door
        self._stale = True
        self.view.worklist.activated.connect(lambda _i: self.open_case())
        self.view.open_button.clicked.connect(self.open_case)
        self.view.follow_button.clicked.connect(self.follow_up)
        self.view.refresh_button.clicked.connect(self.reload)
        guard(door, self.view.follow_button)  # records a follow-up: not while read-only

    def changes_applied(self, changes: ChangeSet, _origin: object) -> None:
        if changes.everything or changes.cases or changes.reviews or changes.settings:
            self.invalidate()

    def invalidate(self) -> None:
        """Read again now if shown, else when next shown (the worklist reads every case
        with a signed review)."""
        if self.view.isVisible():
            self.reload()
        else:
            self._stale = True

    def reload(self) -> None:
        self._stale = False
        self.door.worklist(self._show)

    def _show(self, found: tuple[list[OverdueFollowUp], dict[str, str]]) -> None:
        items, names = found
        self.view.model.set_items(items, names, self.door.today())
        count = len(items)
        self.view.heading.setText(
            f"Signed recommendations with no follow-up past their due date: {count}. "
            "Double-click or Enter opens the case; Follow-up… records whether the "
            "recommendation was carried out."
            if count
            else "No signed recommendation is waiting for its follow-up past its due date."
        )
        self.view.open_button.setEnabled(bool(count))
        self.view.follow_button.setEnabled(bool(count))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.Show and self._stale:
            self.reload()
        return False

    def selected(self) -> OverdueFollowUp | None:
        index = self.view.worklist.currentIndex()
        if not index.isValid():
            return None
        row = self.view.proxy.mapToSource(index).row()
        return self.view.model.items[row] if 0 <= row < len(self.view.model.items) else None

    def open_case(self) -> None:
        item = self.selected()
        if item is not None:
            self.case_requested.emit(item.mrn)

    def follow_up(self) -> None:
        from crlmboard.ui.dialogs.review_dialog import record_follow_up

        item = self.selected()
        if item is None:
            QMessageBox.information(self.view, "Follow-up", "Select a recommendation first.")
            return
        self.door.get_case(
            item.mrn,
            lambda case: record_follow_up(self.view, self.door, case, item.review_index),
            lambda error: QMessageBox.warning(self.view, "Follow-up", error_text(error)),
        )
