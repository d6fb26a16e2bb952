"""Files the services write for a person (case files, bundles, PDFs): whole or not at all."""

from __future__ import annotations

import errno
import glob
import os
import tempfile
from pathlib import Path

PART = ".crlmboard-part"


def write_file_atomically(target: Path, data: bytes) -> Path:
    """Write `data` so that `target` is either the old file or the whole new one (temporary
    file, fsync, rename)."""
    target = target.expanduser().resolve()
    try:
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(target)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=PART, dir=target.parent
        )
    except OSError as error:  # named as the file asked for, not a temporary one
        raise OSError(error.errno, _reason(error, target), str(target)) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise OSError(error.errno, _reason(error, target), str(target)) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _remove_leftovers(target: Path) -> None:
    """Remove the temporary files of writes of `target` by processes that no longer run (a
    killed export): they hold a half-written copy of what was being written."""
    from crlmboard.store.lock import pid_alive  # not at import: the first paint loads this

    for leftover in target.parent.glob(f".{glob.escape(target.name)}.*{PART}"):
        pid = leftover.name[len(target.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            leftover.unlink(missing_ok=True)


def _reason(error: OSError, target: Path) -> str:
    """The error's reason; for a full disk, the folder and how much room there is."""
    if error.errno == errno.ENOSPC:
        return f"the disk holding {target.parent} is full{_free_space(target.parent)}"
    return str(error.strerror)


def _free_space(folder: Path) -> str:
    try:
        stat = os.statvfs(folder)
    except (OSError, AttributeError):
        return ""
    return f" ({stat.f_bavail * stat.f_frsize / 1e6:.1f} MB free)"
