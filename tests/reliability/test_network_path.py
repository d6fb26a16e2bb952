"""T16: a SQLite database on a network share or in a cloud-sync folder is named as such,
with the PostgreSQL option, before it is opened (the file-system check injected)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crlmboard.cli import main
from crlmboard.services import Board
from crlmboard.services.database import location_warning
from crlmboard.store import location
from tests.conftest import TODAY

pytestmark = pytest.mark.db


@pytest.mark.parametrize(
    ("kind", "named"),
    [
        ("nfs", "an NFS share"),
        ("nfs4", "an NFS share"),
        ("cifs", "a Windows (SMB) share"),
        ("smb3", "a Windows (SMB) share"),
        ("smbfs", "a Windows (SMB) share"),
        ("afpfs", "an AFP share"),
        ("fuse.sshfs", "an SSHFS mount"),
    ],
)
def test_a_network_file_system_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, named: str
) -> None:
    monkeypatch.setattr(location, "filesystem_type", lambda _path: kind)
    warning = location_warning(str(tmp_path / "board.sqlite3"))
    assert warning is not None
    assert f"is on {named}." in warning and "PostgreSQL" in warning


def test_unc_paths_and_remote_windows_drives(monkeypatch: pytest.MonkeyPatch) -> None:
    assert location.unsafe_location("\\\\server\\share\\board.sqlite3") == (
        "a network share (UNC path)"
    )
    assert location.unsafe_location("//server/share/board.sqlite3") == (
        "a network share (UNC path)"
    )
    monkeypatch.setattr(location, "windows_drive_type", lambda _path: location.DRIVE_REMOTE)
    assert location.unsafe_location("Z:/board.sqlite3") == "a network drive"


@pytest.mark.parametrize(
    ("folder", "named"),
    [
        ("OneDrive - Synthetic Hospital", "a OneDrive folder"),
        ("OneDrive", "a OneDrive folder"),
        ("Dropbox", "a Dropbox folder"),
        ("iCloud Drive", "an iCloud Drive folder"),
        ("Library/Mobile Documents/com~apple~CloudDocs", "an iCloud Drive folder"),
        ("Google Drive/My Drive", "a Google Drive folder"),
    ],
)
def test_cloud_sync_folders_are_named(tmp_path: Path, folder: str, named: str) -> None:
    assert location.unsafe_location(tmp_path / folder / "board.sqlite3") == named


def test_a_local_disk_and_a_postgresql_server_are_not_warned_about(tmp_path: Path) -> None:
    assert location_warning(str(tmp_path / "board.sqlite3")) is None
    assert location_warning("postgresql+psycopg://coordinator@db.example/crlmboard") is None
    # the mount table is really read: /proc is a proc file system
    assert location.filesystem_type(Path("/proc/self/status")) == "proc"


def test_the_command_line_warns_on_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "board.sqlite3"
    Board.open(database, clock=lambda: TODAY).close()
    assert main(["list", "--db", str(database)]) == 0
    assert "warning" not in capsys.readouterr().err
    monkeypatch.setattr(location, "filesystem_type", lambda _path: "cifs")
    assert main(["list", "--db", str(database)]) == 0
    err = capsys.readouterr().err
    assert "warning: The database" in err and "a Windows (SMB) share" in err
    assert "PostgreSQL" in err
