"""Read-only mode of the window: while the database cannot be changed here (another
crlmboard holds its writer lock, or the file or its medium is read-only), every control
that would change it is disabled with the reason as its tooltip, the window title and a
banner say so, and all of it goes again, without a restart, when the door reports the
database writable here (the app that held the lock has gone: ui/ops.py `follow_writer`).

Controls are registered where they are made (`guard(door, *controls)`); the owners keep
setting them enabled or not as before (a meeting selected, a role): while read-only this
module keeps them disabled and remembers what the owner last asked, and gives that back
afterwards.  The door refuses every write while read-only anyway (the last line)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QWidget

from crlmboard.ui.ops import Door

if TYPE_CHECKING:
    from PySide6.QtCore import Qt
else:
    from crlmboard.ui.lazyqt import Qt  # built on first use (performance.md B1)

TITLE_MARK = " — read-only"


class _Asked:
    """What a control's owner last asked for, kept while the guard overrides it."""

    __slots__ = ("enabled", "tip")

    def __init__(self, enabled: bool, tip: str) -> None:
        self.enabled = enabled
        self.tip = tip


class EditGuard(QObject):
    """The controls of one door's window that change the database."""

    def __init__(self, door: Door):
        super().__init__(door)
        self.door = door
        self._controls: dict[int, tuple[QWidget | QAction, _Asked]] = {}
        self._reason: str | None = None
        self._applying = False
        door.access_changed.connect(self.refresh)
        self.refresh()

    @classmethod
    def of(cls, door: Door) -> EditGuard:
        """The guard of a door (made with the first control registered)."""
        found = getattr(door, "_edit_guard", None)
        if not isinstance(found, EditGuard):
            found = cls(door)
            door._edit_guard = found  # type: ignore[attr-defined]
        return found

    @property
    def reason(self) -> str | None:
        """Why the controls are disabled (None: they are the owners' again)."""
        return self._reason

    def guard(self, *controls: QWidget | QAction | None) -> None:
        for control in controls:
            if control is None or id(control) in self._controls:
                continue
            asked = _Asked(_asked_enabled(control), _own_tip(control))
            key = id(control)
            self._controls[key] = (control, asked)
            control.destroyed.connect(functools.partial(self._forget, key))
            if isinstance(control, QAction):
                control.changed.connect(functools.partial(self._owner_changed, control))
            else:
                control.installEventFilter(self)
            if self._reason is not None:
                self._hold(control)

    def _forget(self, key: int, *_destroyed: object) -> None:
        self._controls.pop(key, None)

    def refresh(self) -> None:
        """Follow the door: hold the controls while read-only, give them back after."""
        reason = self.door.read_only_text
        was, self._reason = self._reason, reason
        for control, asked in list(self._controls.values()):
            if reason is not None:
                if was is None:  # what the owner asked, before the guard took over
                    asked.enabled, asked.tip = _asked_enabled(control), _own_tip(control)
                self._hold(control)
            elif was is not None:
                self._apply(control, asked.enabled, asked.tip)

    def _hold(self, control: QWidget | QAction) -> None:
        assert self._reason is not None
        self._apply(control, False, self._reason)

    def _apply(self, control: QWidget | QAction, enabled: bool, tip: str) -> None:
        self._applying = True
        try:
            control.setEnabled(enabled)
            control.setToolTip(tip)
        finally:
            self._applying = False

    def _owner_changed(self, control: QWidget | QAction) -> None:
        """The owner set the control while it is held: remember that, keep holding."""
        if self._applying or self._reason is None:
            return
        entry = self._controls.get(id(control))
        if entry is None:
            return
        asked = entry[1]
        enabled = _asked_enabled(control)
        if control.toolTip() != self._reason:
            asked.tip = _own_tip(control)
        if enabled or control.isEnabled():
            asked.enabled = enabled
        if control.isEnabled() or control.toolTip() != self._reason:
            self._hold(control)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.EnabledChange, QEvent.Type.ToolTipChange) and isinstance(
            watched, QWidget
        ):
            self._owner_changed(watched)
        return False


def _asked_enabled(control: QWidget | QAction) -> bool:
    """Whether the control's owner last set it enabled (a widget may be disabled only
    because a parent is)."""
    if isinstance(control, QAction):
        return control.isEnabled()
    return not control.testAttribute(Qt.WidgetAttribute.WA_ForceDisabled)


def _own_tip(control: QWidget | QAction) -> str:
    """The control's own tooltip ("" for an action showing its text as its tooltip, so
    it keeps following the text, as an undo action's does)."""
    tip = control.toolTip()
    if not isinstance(control, QAction):
        return tip
    shown = control.text().replace("&", "").replace("...", "").replace("…", "").strip()
    if tip == shown:
        return ""
    return tip


def guard(door: Door, *controls: QWidget | QAction | None) -> None:
    """Register controls that change the database: disabled, with the reason as their
    tooltip, while it is read-only here."""
    EditGuard.of(door).guard(*controls)


def show_tooltips(*menus: QMenu) -> None:
    """Menus show their actions' tooltips (the reason an action is not offered)."""
    for menu in menus:
        menu.setToolTipsVisible(True)


class ReadOnlyMode(QObject):
    """The window's read-only state: the title and the banner say so while it lasts."""

    def __init__(self, window: QMainWindow, door: Door, banner: QLabel):
        super().__init__(window)
        self.window = window
        self.door = door
        self.banner = banner
        self.edits = EditGuard.of(door)
        self._followed = False  # read-only because another crlmboard wrote, until now
        self._taken_over = False
        door.access_changed.connect(self.refresh)
        # after the window's own answer to it (which shows where the database is)
        door.board_replaced.connect(self._say_taken_over)
        window.windowTitleChanged.connect(lambda _t: self._mark_title())
        self.refresh()

    @property
    def active(self) -> bool:
        return self.door.read_only

    def refresh(self) -> None:
        self._mark_title()
        self._show_banner()
        self._taken_over = self._followed and not self.active
        self._followed = self.door.writer_elsewhere

    def _say_taken_over(self) -> None:
        if self._taken_over:
            self._taken_over = False
            self.window.statusBar().showMessage(
                "The other crlmboard closed the database: you can edit here now.", 15000
            )

    def _mark_title(self) -> None:
        """The title says read-only, whatever else sets it (the open patient…)."""
        title = self.window.windowTitle()
        marked = title.endswith(TITLE_MARK)
        if self.active and not marked:
            self.window.setWindowTitle(title + TITLE_MARK)
        elif not self.active and marked:
            self.window.setWindowTitle(title[: -len(TITLE_MARK)])

    def _show_banner(self) -> None:
        text = self.door.read_only_text
        if text is None:
            self.banner.hide()
            return
        if self.door.writer_elsewhere:
            holder: Any = self.door.lock_holder
            since = (
                f", since {holder.since.astimezone().strftime('%Y-%m-%d %H:%M')}"
                if holder is not None
                else ""
            )
            self.banner.setText(
                f"⚠ {text}{since}. You can look at every case; editing comes back by itself "
                "when that crlmboard closes the database."
            )
        else:
            self.banner.setText(f"⚠ {text}. You can look at every case; nothing can be changed.")
        self.banner.setToolTip(text)
        self.banner.show()
