"""One writer per SQLite file: a lock file beside the database, naming who holds it.

The lock is `<database>.lock`, mode 0600.  On POSIX it is an advisory `flock` on that file,
which the operating system releases when the holder dies, so a crashed app never leaves a
lock behind; the file's content (JSON: user, host, pid, since, purpose) only says who holds
it.  Where `flock` is missing the file is created exclusively and a lock left by a dead
process on the same host is taken over.

The desktop app holds the lock for as long as it has the database open; a command-line
write holds it for one transaction and waits a little for it when someone else has it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crlmboard.store.database import StoreError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("crlmboard.store.lock")


@dataclass(frozen=True)
class LockHolder:
    """Who holds a database's writer lock."""

    user: str
    host: str
    pid: int
    since: datetime
    purpose: str = "app"

    def describe(self) -> str:
        since = self.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"{self.user} on {self.host} (process {self.pid}, since {since})"

    def as_json(self) -> str:
        return json.dumps(
            {
                "user": self.user,
                "host": self.host,
                "pid": self.pid,
                "since": self.since.astimezone(UTC).isoformat(),
                "purpose": self.purpose,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> LockHolder | None:
        try:
            data: dict[str, Any] = json.loads(text)
            return cls(
                str(data["user"]),
                str(data["host"]),
                int(data["pid"]),
                datetime.fromisoformat(str(data["since"])),
                str(data.get("purpose", "app")),
            )
        except (ValueError, KeyError, TypeError):
            return None

    @property
    def is_stale(self) -> bool:
        """Held by a process of this host that no longer exists."""
        return self.host == socket.gethostname() and not pid_alive(self.pid)


class LockBusy(StoreError):
    """Someone else holds the writer lock."""

    def __init__(self, database: Path, holder: LockHolder | None):
        who = holder.describe() if holder else "another program"
        super().__init__(
            f"The database {database} is open for writing by {who}; close it "
            "there, or try again when that program has finished."
        )
        self.holder = holder


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # pragma: no cover - no cheap, safe probe: assume it lives
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def holder_left(database: Path) -> bool:
    """Whether the writer lock of `database` may be taken over now: nobody holds it, and
    the holder its file names (if any) let it go, or was a process of this host that no
    longer runs.  A holder that left its name and is still alive here (its process id
    reused?) or that ran on another host is never judged gone: a process of another host
    cannot be checked from this one, and `flock` may not reach across a network share."""
    path = lock_path(database)
    if fcntl is None:  # pragma: no cover - Windows: the lock is the file itself
        if not path.exists():
            return True
        holder = LockHolder.from_json(path.read_text("utf-8", "replace"))
        return holder is not None and holder.is_stale
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # held: its process is alive (the system drops a dead one's)
        try:
            text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    if not text:
        return True  # released when its app closed
    holder = LockHolder.from_json(text)
    return holder is None or holder.is_stale


class DatabaseLock:
    """The writer lock of one SQLite file (not re-entrant; one object per holder)."""

    POLL_START, POLL_MAX = 0.0005, 0.005

    def __init__(self, database: Path, user: str, purpose: str = "app"):
        self.database = database
        self.path = lock_path(database)
        self.user = user
        self.purpose = purpose
        self._fd: int | None = None
        self.held = False
        self.took_over: LockHolder | None = None
        self.wait = 0.0  # how long an operation waits for the lock (command line)

    # -- acquiring ---------------------------------------------------------------------

    def try_acquire(self) -> bool:
        """Take the lock if it is free (or stale); never waits."""
        if self.held:
            return True
        if fcntl is not None:
            return self._try_flock()
        return self._try_exclusive()  # pragma: no cover - exercised with fcntl patched out

    def acquire(self, timeout: float = 0.0) -> bool:
        """Take the lock, waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        pause = self.POLL_START
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, self.POLL_MAX)
        return True

    def _holder_text(self) -> str:
        return LockHolder(
            self.user, socket.gethostname(), os.getpid(), datetime.now(UTC), self.purpose
        ).as_json()

    def _try_flock(self) -> bool:
        assert fcntl is not None
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        previous = LockHolder.from_json(os.pread(self._fd, 4096, 0).decode("utf-8", "replace"))
        if previous is not None and self.purpose == "app":
            self.took_over = previous
            log.warning(
                "took over the writer lock left by process %s on %s", previous.pid, previous.host
            )
        data = self._holder_text().encode("utf-8")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)
        self.held = True
        return True

    def _try_exclusive(self) -> bool:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            holder = self.holder()
            if holder is None or not holder.is_stale:
                return False
            self.took_over = holder
            log.warning("took over the stale writer lock of process %s", holder.pid)
            self.path.unlink(missing_ok=True)
            return self._try_exclusive()
        os.write(fd, self._holder_text().encode("utf-8"))
        os.close(fd)
        self.held = True
        return True

    # -- releasing ---------------------------------------------------------------------

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if fcntl is not None and self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        else:  # pragma: no cover - without flock
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        self.release()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # -- who ---------------------------------------------------------------------------

    def holder(self) -> LockHolder | None:
        """Who holds the lock now (None when nobody says so)."""
        for _ in range(20):  # a new holder writes its details just after taking the lock
            try:
                text = self.path.read_text("utf-8")
            except OSError:
                return None
            if text:
                return LockHolder.from_json(text)
            time.sleep(0.005)
        return None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()
