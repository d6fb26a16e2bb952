"""Composition root: the QApplication, the exception hook and log, the Board, the window."""

from __future__ import annotations

import logging
import sys
from types import TracebackType
from typing import TYPE_CHECKING, Any

from crlmboard.services.changes import BoardError, DatabaseMissing
from crlmboard.services.log import log_path, setup_logging

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon

    from crlmboard.services.board import Board

log = logging.getLogger("crlmboard.app")


def _excepthook(
    kind: type[BaseException], value: BaseException, trace: TracebackType | None
) -> None:
    log.error("unhandled error", exc_info=(kind, value, trace))
    from PySide6.QtWidgets import QApplication, QMessageBox

    if QApplication.instance() is not None:
        QMessageBox.critical(
            None,
            "crlmboard",
            "Something went wrong and that action was not completed.\n"
            f"The details are in the log: {log_path()}",
        )


def application() -> object:
    """The one QApplication, with the names QSettings uses."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    QApplication.setOrganizationName("crlmboard")
    QApplication.setApplicationName("crlmboard")
    QApplication.setDesktopFileName(DESKTOP_ID)  # the Linux desktop entry (packaging/linux)
    QApplication.setWindowIcon(app_icon())
    # the bundled fonts are loaded by `start_window`: after the first paint when the list's
    # first page needs none of them
    return app


DESKTOP_ID = "org.crlmboard.crlmboard"
ICON_SIZES = (16, 32, 48, 64, 128, 256)


def app_icon() -> QIcon:
    """The application icon, from the PNGs packaged in crlmboard/resources/icons/."""
    from PySide6.QtGui import QIcon

    from crlmboard import packaged

    icon = QIcon()
    folder = packaged("icons")
    for size in ICON_SIZES:
        item = folder / f"crlmboard-{size}.png"
        if item.is_file():
            icon.addFile(str(item))
    return icon


def database_choice(where: str | None) -> tuple[str | None, str | None]:
    """The database to open and the institution profile: --db /
    CRLMBOARD_DB, else the default chosen in Preferences, else the database last opened
    with File > Open (a demo is always opened with an explicit --db)."""
    from PySide6.QtCore import QSettings

    settings = QSettings()
    where = (
        where
        or (str(settings.value("default_database") or "") or None)
        or (str(settings.value("last_database") or "") or None)
    )
    profile = str(settings.value("profile") or "") or None
    return where, profile


def open_window(where: str | None) -> tuple[object, Board] | None:
    """Open the database and build the main window (not shown): the normal path, for
    what the window-first start (`start_window`) cannot read before opening."""
    from PySide6.QtWidgets import QMessageBox

    from crlmboard.ui.main_window import MainWindow, confirm_location

    where, profile = database_choice(where)
    if not confirm_location(None, where):  # a network share or a sync folder (T16)
        return None
    try:
        try:
            board = open_with_login(where, profile)
        except DatabaseMissing as missing:
            chosen = _first_start(where, missing, profile)
            if chosen is None:
                return None
            board = chosen
    except BoardError as error:
        QMessageBox.critical(None, "crlmboard", str(error))
        return None
    except Exception as error:  # e.g. an unreadable profile
        log.exception("cannot open")
        QMessageBox.critical(None, "crlmboard", f"crlmboard cannot start: {error}")
        return None
    if board is None:
        return None  # the user cancelled the login
    return MainWindow(board), board


def open_with_login(where: str | None, profile: str | None) -> Board | None:
    """Open a database, asking for a server login (a `postgresql+psycopg://` URL without
    a password that libpq cannot find either) or an encrypted file's passphrase; None when
    the user cancels.  A secret goes to the keyring only when "remember" is ticked."""
    import getpass

    from crlmboard.services import credentials
    from crlmboard.services.board import Board, describe
    from crlmboard.services.maintenance import (
        LoginFailed,
        LoginRequired,
        PassphraseRequired,
        WrongPassphrase,
        remember_passphrase,
    )
    from crlmboard.ui.dialogs.login import SecretDialog
    from crlmboard.ui.dialogs.upgrade import UpgradeProgress

    url = where
    password = credentials.remembered_password(url) if url else None
    passphrase: str | None = None
    remember_login = remember_key = False
    for _attempt in range(10):
        upgrade = UpgradeProgress()
        try:
            board = Board.open(
                url,
                profile=profile,
                password=password,
                passphrase=passphrase,
                create=False,
                progress=upgrade,
            )
        except (LoginRequired, LoginFailed) as error:
            assert url is not None
            dialog = SecretDialog(
                "Log in",
                f"{error}\n\nLog in to {describe(url)} with your own user name.",
                user=credentials.login_of(url) or getpass.getuser(),
                ask_user=True,
                keyring=credentials.keyring_available(),
            )
            if not dialog.exec() or not dialog.user:
                return None
            url = credentials.with_login(url, dialog.user)
            password, remember_login = dialog.secret, dialog.remember.isChecked()
            continue
        except (PassphraseRequired, WrongPassphrase) as error:
            # the path on a line of its own: wrapped inside the sentence, it broke at a "/"
            text, path = str(error), error.path
            if path and f" {path}" in text:
                text = text.replace(f" {path}", "", 1)
            else:
                path = ""
            dialog = SecretDialog(
                "Encrypted database",
                text,
                path=path,
                secret_label="Passphrase",
                keyring=credentials.keyring_available(),
            )
            if not dialog.exec():
                return None
            passphrase, remember_key = dialog.secret, dialog.remember.isChecked()
            continue
        finally:
            upgrade.finish()
        if remember_login and url and password:
            credentials.remember_password(url, password)
        if remember_key and passphrase:
            remember_passphrase(url, passphrase)
        return board
    raise BoardError("Too many attempts to log in; crlmboard stops here.")


CREATE, DEMO, QUIT = "create", "demo", "quit"


def first_start_choice(text: str, can_create: bool) -> str:
    """Ask what to do when there is no database yet: CREATE, DEMO or QUIT."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Question, "crlmboard", text)
    create = box.addButton("Create the database", QMessageBox.ButtonRole.AcceptRole)
    create.setEnabled(can_create)
    demo = box.addButton("Open the demo", QMessageBox.ButtonRole.ActionRole)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    clicked = box.clickedButton()
    return CREATE if clicked is create else DEMO if clicked is demo else QUIT


def _first_start(where: str | None, missing: DatabaseMissing, profile: str | None) -> Board | None:
    """No database where the app was to open one.  A first start (nothing there and no
    backups) offers to create it there or to open the demo; a database that is gone but
    has backups is never recreated empty: the message names the newest backup."""
    from crlmboard.services.board import Board, default_database

    text = str(missing)
    can_create = getattr(missing, "backup", None) is None
    if can_create:
        place = where or str(default_database())
        text = (
            f"crlmboard has no database at {place} yet.\n\nCreate a new, empty database "
            "there, or look around in the demo database (synthetic patients) first?"
        )
    choice = first_start_choice(text, can_create)
    if choice == CREATE:
        from crlmboard.services.board import init_database

        init_database(where).close()
        return Board.open(where, profile=profile, create=False)
    if choice == DEMO:
        from crlmboard.services.demo import create_demo_database, default_demo_database

        if default_demo_database().exists():
            return Board.open(default_demo_database(), profile=profile, create=False)
        demo, _summary = create_demo_database()
        demo.close()
        return Board.open(demo.url, profile=profile, create=False)
    return None


def start_window(where: str | None) -> Any:
    """Show the main window: first with the case list's first page and the database
    opened behind it (ui/first_paint.py) where that can be done — a plain SQLite file —,
    else the normal way, opened first.  None when nothing was opened."""
    from crlmboard.ui.first_paint import show_window
    from crlmboard.ui.fonts import load_bundled_fonts

    chosen, profile = database_choice(where)
    window = show_window(chosen, profile)  # None on a network share (T16): the normal path
    if window is not None:
        return window
    load_bundled_fonts()
    opened = open_window(where)
    if opened is None:
        return None
    shown: Any = opened[0]
    shown.show()
    return shown


def run_app(where: str | None = None) -> int:
    """Open the database and show the main window until it is closed."""
    setup_logging()
    app = application()
    sys.excepthook = _excepthook
    window = start_window(where)
    if window is None:
        return 1
    status = app.exec()  # type: ignore[attr-defined]
    # the database open now (File > Open or a restore may have replaced the first one) was
    # closed on the worker when the window closed; this makes sure of it
    board = window.door.board
    if board is not None:
        board.close()
    return 1 if window.open_failed else int(status)
