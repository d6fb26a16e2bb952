"""Where a SQLite file lies: a network share or a cloud-sync folder is unsafe for SQLite.

SQLite's locks are unreliable over NFS, SMB/CIFS, AFP and SSHFS, and a sync client (OneDrive,
Dropbox, iCloud Drive, Google Drive) copies the file and its -wal separately at moments of
its own choosing: either can corrupt the database or lose a day's work.  The app warns before
opening such a file and points to the PostgreSQL option (reliability.md, T16).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path, PurePath

NETWORK_FILESYSTEMS = {
    "nfs": "an NFS share",
    "nfs4": "an NFS share",
    "cifs": "a Windows (SMB) share",
    "smb3": "a Windows (SMB) share",
    "smbfs": "a Windows (SMB) share",
    "afpfs": "an AFP share",
    "fuse.sshfs": "an SSHFS mount",
    "sshfs": "an SSHFS mount",
    "9p": "a 9P network share",
    "davfs": "a WebDAV share",
    "fuse.davfs2": "a WebDAV share",
    "webdav": "a WebDAV share",
}
CLOUD_FOLDERS = {
    "onedrive": "a OneDrive folder",
    "dropbox": "a Dropbox folder",
    "icloud drive": "an iCloud Drive folder",
    "mobile documents": "an iCloud Drive folder",
    "google drive": "a Google Drive folder",
    "googledrive": "a Google Drive folder",
    "my drive": "a Google Drive folder",
}
DRIVE_REMOTE = 4  # GetDriveTypeW


def filesystem_type(path: Path) -> str | None:
    """The type of the file system holding `path` (Linux: from /proc/self/mountinfo, the
    longest mount point above it); None where it cannot be told."""
    try:
        lines = Path("/proc/self/mountinfo").read_text("utf-8", "replace").splitlines()
    except OSError:
        return None
    target = str(path)
    best, found = -1, None
    for line in lines:
        fields = line.split(" ")
        try:
            mount = fields[4].encode().decode("unicode_escape")  # \040 for a space
            kind = fields[fields.index("-") + 1]
        except (IndexError, ValueError, UnicodeDecodeError):
            continue
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) > best:
            best, found = len(mount), kind
    return found


def windows_drive_type(path: PurePath) -> int | None:
    """GetDriveTypeW of the path's drive (Windows only)."""
    if sys.platform != "win32" or not path.drive:
        return None
    import ctypes

    return int(ctypes.windll.kernel32.GetDriveTypeW(path.drive + "\\"))


def unsafe_location(path: str | os.PathLike[str]) -> str | None:
    """Why `path` is no place for a SQLite database ("an NFS share", "a OneDrive folder"),
    or None when nothing speaks against it."""
    text = str(path)
    if text.startswith(("\\\\", "//")):
        return "a network share (UNC path)"
    pure = PurePath(text)
    if windows_drive_type(pure) == DRIVE_REMOTE:
        return "a network drive"
    resolved = Path(text).expanduser()
    with contextlib.suppress(OSError):
        resolved = resolved.resolve()
    kind = filesystem_type(resolved)
    if kind is not None and kind.lower() in NETWORK_FILESYSTEMS:
        return NETWORK_FILESYSTEMS[kind.lower()]
    for part in resolved.parts[:-1]:
        name = part.lower()
        for marker, what in CLOUD_FOLDERS.items():
            if name == marker or name.startswith((marker + " - ", marker + "-")):
                return what
    return None


def location_warning(path: str | os.PathLike[str]) -> str | None:
    """The warning to show before a SQLite database at `path` is opened, or None."""
    where = unsafe_location(path)
    if where is None:
        return None
    return (
        f"The database {path} is on {where}. SQLite databases on network shares or in "
        "folders a sync program copies can be corrupted or lose changes. Keep the database "
        "on this computer's own disk, or, for a department sharing one database, use a "
        "PostgreSQL server (--db postgresql+psycopg://…; see the README)."
    )
