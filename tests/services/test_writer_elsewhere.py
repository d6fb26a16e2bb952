"""A second app, read-only because another app holds the writer lock, follows that app:
it sees each of its commits (`PRAGMA data_version`, one look at a time) and takes the lock
over once that app has gone — never while its process lives, and never from another host
by a process check alone.  Real database files; the holder here is a Board of this process
(its own `flock` on its own descriptor), or a lock file written as a holder leaves it."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crlmboard.services import Board
from crlmboard.services.maintenance import ReadOnly
from crlmboard.store import lock as store_lock
from tests.conftest import GOLDEN, TODAY

pytestmark = pytest.mark.db

LOOKS = 5  # more looks change nothing: each look sees every commit made before it


@pytest.fixture
def filled(db_path: Path) -> Path:
    with Board.open(db_path, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
    return db_path


def open_board(path: Path) -> Board:
    return Board.open(path, clock=lambda: TODAY, create=False)


def leave_lock_file(path: Path, host: str, pid: int) -> None:
    """The lock file as an app leaves it when it is killed: its name, no flock."""
    holder = store_lock.LockHolder("bob", host, pid, datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    store_lock.lock_path(path).write_text(holder.as_json(), "utf-8")


def test_the_read_only_app_sees_each_commit_of_the_writer(filled: Path) -> None:
    writer = open_board(filled)
    reader = open_board(filled)
    try:
        assert reader.read_only and reader.writer_elsewhere and not writer.writer_elsewhere
        for _ in range(LOOKS):
            news = reader.follow_writer()
            assert not news.committed and not news.taken_over and news.changes.empty
        case, version = writer.cases.get_with_version("EX-0001")
        writer.cases.save(case.model_copy(update={"labs": []}), version)
        news = reader.follow_writer()
        assert news.committed and not news.taken_over and news.changes.everything
        assert reader.cases.get("EX-0001").labs == []
        assert not reader.follow_writer().committed  # seen once
        assert reader.read_only  # the writer is still there
    finally:
        reader.close()
        writer.close()


def test_the_lock_is_taken_over_when_the_writer_closes_and_a_save_then_works(
    filled: Path,
) -> None:
    writer = open_board(filled)
    reader = open_board(filled)
    try:
        case, version = reader.cases.get_with_version("EX-0002")
        with pytest.raises(ReadOnly, match="read-only"):
            reader.cases.save(case.model_copy(update={"labs": []}), version)
        writer.close()
        news = reader.follow_writer()
        assert news.taken_over and news.changes.everything
        assert not reader.read_only and not reader.writer_elsewhere
        assert reader.read_only_reason is None and reader.lock_holder is None
        saved = reader.cases.save(case.model_copy(update={"labs": []}), version)
        assert saved.version == version + 1
        assert reader.follow_writer().changes.empty  # nothing more to follow
        third = open_board(filled)  # and now the reader is the one holding the lock
        try:
            assert third.read_only and third.writer_elsewhere
            assert str(os.getpid()) in (third.read_only_reason or "")
        finally:
            third.close()
    finally:
        reader.close()
    with open_board(filled) as later:
        assert not later.read_only  # the reader let the lock go when it closed
        assert later.cases.get("EX-0002").labs == []


def test_a_live_writer_is_never_taken_over(filled: Path) -> None:
    writer = open_board(filled)
    reader = open_board(filled)
    try:
        for _ in range(LOOKS):
            assert not reader.database.take_over()
            assert not reader.follow_writer().taken_over
        assert reader.read_only and reader.writer_elsewhere
        case, version = writer.cases.get_with_version("EX-0001")
        writer.cases.save(case.model_copy(update={"labs": []}), version)  # still the writer
    finally:
        reader.close()
        writer.close()


def dead_pid() -> int:
    """A process id no process of this host has (checked, not guessed)."""
    pid = 2**22 + 4321
    while store_lock.pid_alive(pid):
        pid += 1
    return pid


@pytest.mark.parametrize(
    ("host", "pid", "taken"),
    [
        pytest.param(socket.gethostname(), None, True, id="dead-process-of-this-host"),
        pytest.param(socket.gethostname(), os.getppid(), False, id="live-process-of-this-host"),
        pytest.param("ward-pc-synthetic-17", None, False, id="process-of-another-host"),
    ],
)
def test_a_lock_left_behind_is_taken_over_only_from_a_dead_process_of_this_host(
    filled: Path, host: str, pid: int | None, taken: bool
) -> None:
    """The lock file names a holder whose flock is gone (killed, or on a share that does
    not carry flock): taken over only when that process is checked dead on this host."""
    writer = open_board(filled)
    reader = open_board(filled)
    try:
        writer.close()
        leave_lock_file(filled, host, pid if pid is not None else dead_pid())
        assert store_lock.holder_left(filled) is taken
        news = reader.follow_writer()
        assert news.taken_over is taken
        assert reader.read_only is not taken
        if taken:
            assert any("not closed properly" in note for note in reader.notes)
    finally:
        reader.close()


def test_holder_left_reads_the_lock_without_taking_it(filled: Path) -> None:
    assert store_lock.holder_left(filled)  # no lock file at all
    with open_board(filled):
        assert not store_lock.holder_left(filled)
        text = store_lock.lock_path(filled).read_text("utf-8")
        assert store_lock.LockHolder.from_json(text) is not None  # left as the holder wrote it
    assert store_lock.lock_path(filled).read_text("utf-8") == ""  # released cleanly
    assert store_lock.holder_left(filled)


def test_a_database_read_only_for_another_reason_is_not_followed(
    filled: Path, tmp_path: Path
) -> None:
    with Board.open(f"sqlite:///file:{filled}?mode=ro&uri=true", clock=lambda: TODAY) as board:
        assert board.read_only and not board.writer_elsewhere
        assert board.follow_writer().changes.empty
        assert not board.database.take_over() and board.read_only


def test_an_encrypted_database_is_followed_and_taken_over(filled: Path) -> None:
    """The same on a SQLCipher file: the look and the take-over use the passphrase given
    at opening (kept in memory only)."""
    from crlmboard.services.maintenance import encrypt_database
    from crlmboard.store import encryption

    passphrase = "a synthetic passphrase for the read-only test"
    encrypt_database(filled, passphrase)
    encryption._passphrases.clear()
    writer = Board.open(filled, clock=lambda: TODAY, create=False, passphrase=passphrase)
    reader = Board.open(filled, clock=lambda: TODAY, create=False, passphrase=passphrase)
    try:
        assert reader.read_only and reader.writer_elsewhere
        case, version = writer.cases.get_with_version("EX-0001")
        writer.cases.save(case.model_copy(update={"labs": []}), version)
        assert reader.follow_writer().committed
        writer.close()
        assert reader.follow_writer().taken_over and not reader.read_only
        case, version = reader.cases.get_with_version("EX-0001")
        assert case.labs == []
        reader.cases.save(case.model_copy(update={"extrahepatic_disease": []}), version)
    finally:
        writer.close()
        reader.close()
        encryption._passphrases.clear()
