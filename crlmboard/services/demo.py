"""The demo database: the packaged synthetic cases, loaded through the importer."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from importlib import resources
from pathlib import Path

import platformdirs

from crlmboard.domain.meeting import Review
from crlmboard.services.board import Board, BoardError, ChangeSet
from crlmboard.services.cases import ImportSummary
from crlmboard.store.database import (
    database_url,
    read_session,
    sqlite_path,
    write_session,
)
from crlmboard.store.repositories import CaseRepository, SettingRepository

DEMO_MARK = "demo"


def default_demo_database() -> Path:
    """Where `crlmboard demo` keeps its database (never the user's own)."""
    return Path(platformdirs.user_data_dir("crlmboard", appauthor=False)) / "demo.sqlite3"


def demo_case_files() -> list[Path]:
    """The packaged demo case files, in MRN order."""
    folder = resources.files("crlmboard") / "resources" / "demo"
    return sorted(Path(str(p)) for p in folder.iterdir() if str(p).endswith(".json"))


def create_demo_database(
    where: str | os.PathLike[str] | None = None,
) -> tuple[Board, ImportSummary]:
    """A fresh demo database: an earlier demo database there is replaced, anything else
    is left alone and refused."""
    url = database_url(where if where is not None else default_demo_database())
    path = sqlite_path(url)
    if path is not None and path.exists():
        board = Board.open(url)
        with read_session(board.engine) as session:
            is_demo = SettingRepository(session).get(DEMO_MARK) == "1"
            has_cases = CaseRepository(session).count() > 0
        board.close()
        if has_cases and not is_demo:
            raise BoardError(
                f"{path} holds cases that are not demo data; choose another file for the demo."
            )
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    board = Board.open(url)
    with read_session(board.engine) as session:
        if CaseRepository(session).count() > 0 and SettingRepository(session).get(DEMO_MARK) != "1":
            board.close()
            raise BoardError("That database already holds cases; the demo needs an empty one.")
    with write_session(board.engine) as session:
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
    return board, summary


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
