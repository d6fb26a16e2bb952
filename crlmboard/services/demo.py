"""The demo database: the packaged synthetic cases, loaded through the importer."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import platformdirs

from crlmboard import __version__
from crlmboard.domain.meeting import Review
from crlmboard.services.board import Board, BoardError, ChangeSet
from crlmboard.services.cases import ImportSummary
from crlmboard.services.database import missing_database
from crlmboard.store import backup
from crlmboard.store.audit import os_login
from crlmboard.store.backup import fsync_path, private_dir
from crlmboard.store.database import (
    StoreError,
    checkpoint_file,
    database_url,
    patients_and_setting,
    sqlite_path,
)
from crlmboard.store.lock import DatabaseLock, LockBusy
from crlmboard.store.repositories import SettingRepository

DEMO_MARK = "demo"


def default_demo_database() -> Path:
    """Where `crlmboard demo` keeps its database (never the user's own)."""
    return Path(platformdirs.user_data_dir("crlmboard", appauthor=False)) / "demo.sqlite3"


def demo_case_files() -> list[Path]:
    """The packaged demo case files, in MRN order."""
    folder = resources.files("crlmboard") / "resources" / "demo"
    return sorted(Path(str(p)) for p in folder.iterdir() if str(p).endswith(".json"))


class NotDemoData(BoardError, ValueError):
    """The file holds data that is not the packaged demo: the demo leaves it alone."""


def demo_patients() -> dict[str, tuple[str | None, str | None, str | None]]:
    """MRN -> (family name, given name, birth date) of every packaged demo case."""
    found = {}
    for file in demo_case_files():
        patient = json.loads(file.read_text("utf-8"))["patient"]
        found[patient["mrn"]] = (
            patient.get("family_name"),
            patient.get("given_name"),
            patient.get("birth_date"),
        )
    return found


def _demo_problem(path: Path) -> str | None:
    """Why an existing database is not (only) demo data, or None when every case in it is
    one of the packaged demo cases, unchanged in who it names.  The `demo` setting alone
    proves nothing (anyone can write it, unaudited); the cases themselves must be the
    synthetic ones."""
    try:
        rows, marked = patients_and_setting(path, DEMO_MARK)
    except StoreError as error:
        return str(error)
    known = demo_patients()
    for mrn, family, given, born in rows:
        if known.get(mrn) != (family, given, born):
            return "it holds cases that are not demo data"
    if not rows and marked != "1":
        return "it holds no demo cases (an empty database of its own)"
    return None


def create_demo_database(
    where: str | os.PathLike[str] | None = None, *, wait: float = 0.0
) -> tuple[Board, ImportSummary]:
    """A fresh demo database, built beside the target and moved into place only when
    complete.  The target must be a new file or hold nothing but demo cases; an earlier
    demo database is backed up, then replaced, with its writer lock held throughout (an
    app that has it open keeps it: the demo is refused).  The Board's `notes` name the
    backup of the replaced demo database."""
    url = database_url(where if where is not None else default_demo_database())
    path = sqlite_path(url)
    if path is None:
        raise BoardError("The demo is written to a SQLite database file; give a file path.")
    existing = path.exists() and path.stat().st_size > 0
    if path.exists() and not existing and backup.newest_verified(path) is not None:
        raise missing_database(path, empty=True)
    if existing:
        problem = _demo_problem(path)
        if problem is not None:
            raise NotDemoData(
                f"{path} is left alone: {problem}. The demo only replaces an earlier demo "
                "database; choose another file for it."
            )
    if path.parent == default_demo_database().parent:
        private_dir(path.parent)  # the app's own folder: kept the owner's only
    elif not path.parent.exists():
        # a folder made for it is the owner's only; one that exists (the user's choice:
        # /tmp, a shared folder) keeps its mode — /tmp made 0700 shut every other user out
        path.parent.mkdir(parents=True, mode=0o700)
    lock = DatabaseLock(path, os_login(), "demo")
    if not lock.acquire(wait):
        holder = lock.holder()
        lock.close()
        raise BoardError(str(LockBusy(path, holder)))
    workdir = Path(tempfile.mkdtemp(prefix=f".{path.name}.demo-", dir=path.parent))
    try:
        if existing and _demo_problem(path) is not None:  # changed before the lock was ours
            raise NotDemoData(f"{path} changed and now holds other data; it is left alone.")
        built = workdir / path.name
        board = Board.open(built, create=True)
        try:
            summary = _fill(board)
            if summary.refused:
                return board, summary
        finally:
            board.database.changed = False  # no backup of the half-way file
            board.close()
        kept: Path | None = None
        if existing:
            taken = backup.create_backup(
                path,
                reason="before the demo replaced it",
                now=datetime.now(UTC),
                app_version=__version__,
            )
            if not taken.verified:
                raise BoardError(
                    f"The demo database {path} could not be backed up before it was "
                    f"replaced ({taken.problem}); it was left as it is."
                )
            kept = taken.path
            checkpoint_file(path)
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.replace(built, path)
        fsync_path(path.parent)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        lock.close()
    board = Board.open(path, create=False)
    if kept is not None:
        board.notes.append(f"The earlier demo database was backed up as {kept}.")
    return board, summary


def _fill(board: Board) -> ImportSummary:
    with board.database.write() as session:
        SettingRepository(session).put(DEMO_MARK, "1")
    summary = ImportSummary()
    for file in demo_case_files():
        part = board.cases.import_path(file, replace=True)
        summary.imported += part.imported
        summary.refused += part.refused
        summary.changes = summary.changes | part.changes
    if not summary.refused:
        load_demo_meetings(board)
    summary.changes = ChangeSet.all()  # a new database
    return summary


def load_demo_meetings(board: Board) -> ChangeSet:
    """The demo's meetings (one last week with signed reviews, one next week with an agenda,
    one after it), dated relative to today through the ordinary services."""
    text = (
        resources.files("crlmboard") / "resources" / "demo" / "meetings" / "meetings.json"
    ).read_text(encoding="utf-8")
    today = board.today()
    changes = ChangeSet()
    for spec in json.loads(text)["meetings"]:
        when = today + timedelta(weeks=spec["weeks"])
        created = board.meetings.create(
            when, spec.get("time"), spec.get("location"), spec.get("attendees", [])
        )
        meeting_id, changes = created.meeting_id, changes | created.changes
        for item in spec.get("agenda", []):
            changes |= board.meetings.add_to_agenda(
                meeting_id, item["mrn"], item["question"]
            ).changes
            review = item.get("review")
            if review is None:
                continue
            draft = board.reviews.start(meeting_id, item["mrn"])
            actions = [
                {
                    "text": a["text"],
                    "owner": a.get("owner"),
                    "due": when + timedelta(days=a["due_in_days"]),
                }
                for a in review.get("actions", [])
            ]
            changes |= board.reviews._store_signed(
                draft,
                Review.model_validate(
                    {
                        "meeting_date": when,
                        "question": draft.entry.question,
                        "recommendation": review.get("recommendation"),
                        "decision": review["decision"],
                        "rationale": review.get("rationale") or None,
                        "actions": actions,
                        "next_review_date": when + timedelta(weeks=6),
                        "signed_by": board.identity.name,
                        "signed_at": board.reviews.now(),
                        "attendees": draft.meeting.attendees,
                        "follow_up": {"status": "pending"},
                        "evaluation": draft.evaluation,
                    }
                ),
            ).changes
    return changes
