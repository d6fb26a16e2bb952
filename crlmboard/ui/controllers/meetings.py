"""The behaviour of the Meetings and Follow-up pages: what each button and menu action
does, reading and writing through the door (ui/ops.py).  Their widgets are laid out in
ui/views/meetings.py and their rows held by ui/models/meetings.py.

Nothing is read until a page is first shown (or an action needs the meetings); after that
the door's "changes applied" signal reads them again when a change touched them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
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
)
from crlmboard.ui.forms import locale_date
from crlmboard.ui.models.meetings import relative
from crlmboard.ui.ops import AgendaEntry, Door, MeetingSummary, failure_text
from crlmboard.ui.views.meetings import FollowUpLayout, MeetingsLayout


class MeetingsView(MeetingsLayout):
    """Meetings on the left, the selected meeting with its agenda on the right."""

    message = Signal(str)

    def __init__(
        self,
        door: Door,
        current_case: Callable[[], str | None] | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.door = door
        self.current_case = current_case or (lambda: None)
        self._readiness: dict[int, dict[int, list[ReadinessItem]]] = {}
        self.agenda_model.reorder = self._reorder_to
        self.list_view.selectionModel().currentRowChanged.connect(lambda *_a: self._show_selected())
        self.agenda_view.activated.connect(lambda _i: self.review())
        self.agenda_view.selectionModel().currentRowChanged.connect(
            lambda *_a: self._update_actions()
        )
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
        # `_stale`: the list must be read; `_current`: the selected meeting in full, with
        # its quorum; `_keep`: the meeting to select after the next read
        self._stale = True
        self._current: MeetingSummary | None = None
        self._quorum: Quorum | None = None
        self._keep: int | None = None
        self._keep_readiness = False
        self._expecting = False  # a change of this page's own is on its way
        self._asked: int | None = None  # the meeting being read in full

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
        the meetings are read first and the action runs only if it still applies."""
        if show:
            holder = self.parentWidget()
            while holder is not None and not isinstance(holder, QTabWidget):
                holder = holder.parentWidget()
            if isinstance(holder, QTabWidget):
                holder.setCurrentWidget(self)
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
            if not self.isVisible():  # nothing of the other database stays on the page
                self.list_model.set_meetings([], [], self.door.today())
                self._show_selected()
        if not (
            changes.everything
            or changes.meetings
            or changes.cases
            or changes.reviews
            or changes.settings
        ):
            return
        if self.isVisible() or self._expecting:  # shown, or this page's own change
            self.reload(self._keep, readiness=not self._keep_readiness)
        else:
            self._stale = True
            self._update_actions()
        self._keep, self._keep_readiness, self._expecting = None, False, False

    def invalidate(self) -> None:
        """Read again now if shown, else when next shown."""
        self.changes_applied(ChangeSet(settings=frozenset({"meetings"})), None)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
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
            icons = {True: self.icons["ready"], False: self.icons["missing"]}
            self.list_model.set_meetings(meetings, quorums, self.door.today(), icons)
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
        row = self.list_model.row_of(meeting_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.list_model.index(row, 0))
        self.list_view.setCurrentIndex(index)
        self.list_view.selectRow(index.row())
        self._show_selected()
        return True

    def selected_meeting(self) -> MeetingSummary | None:
        """The selected meeting with its attendees and agenda, once read."""
        meeting_id = self.selected_meeting_id()
        if meeting_id is None or self._current is None or self._current.id != meeting_id:
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
            self.header.setText("No meeting yet: New meeting… (Ctrl+Shift+M) creates one.")
            self.attendees.clear()
            self.quorum_line.show_quorum(None)
            self.agenda_model.set_agenda([], None)
            self._update_actions()
            return
        when = locale_date(meeting.date)
        parts = [f"Meeting {when} ({relative(meeting.date, self.door.today())})"]
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
        self.quorum_line.show_quorum(self._quorum)
        current = self.selected_entry()
        # the readiness check runs the engine per case: only for a page that shows
        readiness = self._readiness.get(meeting.id)
        if readiness is None and self.isVisible() and meeting.date >= self.door.today():
            self._ask_readiness(meeting.id)
        self.agenda_model.set_agenda(meeting.agenda, readiness)
        if current is not None and current.meeting_id == meeting.id:
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
        who = self.door.identity
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

    def _done(self, text: str = "", *, keep: int | None = None, readiness: bool = True) -> None:
        """A change of this page was saved: say so, and keep (or select) a meeting when the
        change's refresh reads the list again."""
        self._keep = keep if keep is not None else self.selected_meeting_id()
        self._keep_readiness = not readiness
        self._expecting = True
        if text:
            self.message.emit(text)

    def _fail(self, title: str) -> Callable[[BaseException], object]:
        return lambda error: QMessageBox.warning(self, title, error_text(error))

    def _with_meetings(self, then: Callable[[], None]) -> None:
        if self._stale:
            self.reload(then=then)
        else:
            then()

    # -- meetings -----------------------------------------------------------------------

    def new_meeting(self) -> None:
        self._with_meetings(self._new_meeting)

    def _new_meeting(self) -> None:
        meetings = self.list_model.meetings
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
            dialog = MeetingDialog(self.door, None, self, template=template, when=when)
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
        dialog = MeetingDialog(self.door, meeting, self)
        self._done(keep=meeting.id)  # kept selected when the saved change reads again
        if dialog.exec():
            self.message.emit("Meeting saved.")

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
        self.door.delete_meeting(
            meeting.id, lambda _c: self._done("Meeting deleted."), self._fail("Delete meeting")
        )

    # -- agenda -------------------------------------------------------------------------

    def add_case(self, mrn: str | None = None) -> None:
        """Put a case (the open case by default) on the selected meeting's agenda."""
        self._with_meetings(lambda: self._add_case(mrn))

    def _add_case(self, mrn: str | None) -> None:
        meetings = [
            m for m in self.list_model.meetings if m.date >= self.door.today()
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
            self.door, meetings, selected if selected is not None else meetings[0].id, mrn, self
        )
        if dialog.exec() and dialog.meeting_id is not None:
            self.message.emit(f"Case {dialog.mrn} added to the agenda.")
            item_id = dialog.item_id

            def then() -> None:
                if item_id is not None:
                    self.select_entry(item_id)

            self.reload(dialog.meeting_id, then=then)

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
            save=lambda text, done, failed: self.door.edit_question(entry.id, text, done, failed),
        )
        self._done(readiness=False)  # the refresh of the save keeps the readiness
        if dialog.exec():
            self.message.emit("Question saved.")

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
        if meeting is None:
            return
        self._done(readiness=False)
        self.door.reorder_agenda(
            meeting.id, item_ids, lambda _r: None, self._fail("Reorder the agenda")
        )

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
        self.door.remove_from_agenda(
            entry.id,
            lambda _r: self._done(f"Case {entry.mrn} removed from the agenda."),
            self._fail("Remove case from agenda"),
        )

    def hold_back(self) -> None:
        entry = self._need_entry("Hold back")
        if entry is None:
            return
        self._done()
        if hold_back_dialog(self.door, entry, self) is not None:
            self.message.emit(f"Case {entry.mrn} held back to the next meeting.")

    # -- the meeting --------------------------------------------------------------------

    def prepare(self) -> None:
        meeting = self._need_meeting("Prepare meeting")
        if meeting is None:
            return
        dialog = ReadinessDialog(self.door, meeting.id, self)
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
                self,
                "Review case",
                f"Case {entry.mrn} was moved to the next meeting; review it there.",
            )
            return
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

            def amend(case: Any) -> None:
                index = latest_review_at(case, meeting.date)
                if index is None:
                    return
                self._done(keep=meeting.id)
                amend_review(
                    self,
                    self.door,
                    case,
                    index,
                    lambda _i: self.message.emit(f"Amendment of the review of {entry.mrn} signed."),
                )

            self.door.get_case(entry.mrn, amend, self._fail("Review case"))
            return

        def started(draft: Any) -> None:
            dialog = ReviewDialog(self.door, draft, self)
            self._done(keep=meeting.id)
            if dialog.exec() and dialog.review_index is not None:
                self.message.emit(f"Review of {entry.mrn} signed.")
                self.select_entry(entry.id)

        self.door.start_review(meeting.id, entry.mrn, started, self._fail("Review case"))

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
            self, "Meeting pack PDF", f"meeting-pack-{meeting.date.isoformat()}.pdf", "PDF (*.pdf)"
        )
        if not path:
            return

        def failed(error: BaseException) -> None:
            QMessageBox.warning(self, "Meeting pack", failure_text(error, "The meeting pack"))

        self.door.meeting_pack(
            meeting.id,
            Path(path),
            lambda target: self.message.emit(f"Wrote the meeting pack to {target}"),
            failed,
        )

    def board_figures(self) -> None:
        from crlmboard.ui.dialogs.figures_dialog import FiguresDialog

        FiguresDialog(self.door, self).exec()


class FollowUpView(FollowUpLayout):
    """The follow-up worklist; double-click (or Enter) opens the case."""

    case_requested = Signal(str)

    def __init__(self, door: Door, parent: QWidget | None = None):
        super().__init__(parent)
        self.door = door
        self._stale = True
        self.view.activated.connect(lambda _i: self.open_case())
        self.open_button.clicked.connect(self.open_case)
        self.follow_button.clicked.connect(self.follow_up)
        self.refresh_button.clicked.connect(self.reload)

    def changes_applied(self, changes: ChangeSet, _origin: object) -> None:
        if changes.everything or changes.cases or changes.reviews or changes.settings:
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
        self.door.worklist(self._show)

    def _show(self, found: tuple[list[OverdueFollowUp], dict[str, str]]) -> None:
        items, names = found
        self.model.set_items(items, names, self.door.today())
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
        self.door.get_case(
            item.mrn,
            lambda case: record_follow_up(self, self.door, case, item.review_index),
            lambda error: QMessageBox.warning(self, "Follow-up", error_text(error)),
        )
