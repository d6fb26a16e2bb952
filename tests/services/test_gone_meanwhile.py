"""A meeting or an agenda entry removed meanwhile (in another window, on another computer
of the department's store) is named as gone, in words: never a database key ("There is no
meeting 7") nor "stopped because of an error" for a cause that can be named."""

from __future__ import annotations

import pytest

from crlmboard.services import Board, BoardError
from tests.conftest import GOLDEN

pytestmark = pytest.mark.db

PEOPLE = [
    {"name": "Dr Hepato", "role": "hepatobiliary_surgeon"},
    {"name": "Dr Onco", "role": "medical_oncologist"},
    {"name": "Dr Radio", "role": "radiologist"},
]


@pytest.fixture
def item(board: Board) -> tuple[int, int]:
    """A meeting (id) with EX-0001 on its agenda (item id)."""
    board.cases.import_path(GOLDEN)
    meeting = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
    added = board.meetings.add_to_agenda(meeting, "EX-0001", "Resect now?")
    return meeting, added.item_id


def test_a_meeting_deleted_meanwhile_is_named_as_gone(board: Board, item: tuple[int, int]) -> None:
    meeting, item_id = item
    board.meetings.remove_from_agenda(item_id)
    board.meetings.delete(meeting)
    for attempt in (
        lambda: board.meetings.add_to_agenda(meeting, "EX-0001", "Resect now?"),
        lambda: board.meetings.get(meeting),
        lambda: board.meetings.update(meeting, "2026-12-02", "16:00", "Room 3", PEOPLE),
    ):
        with pytest.raises(BoardError) as raised:
            attempt()
        text = str(raised.value)
        assert str(meeting) not in text, text
        assert "no longer" in text and "deleted" in text, text


def test_an_agenda_entry_removed_meanwhile_is_named_as_gone(
    board: Board, item: tuple[int, int]
) -> None:
    """The second window still lists EX-0001 on the agenda: its Remove, Edit question or
    Hold back reached a lookup error that the app shows as "stopped because of an
    error"."""
    _meeting, item_id = item
    board.meetings.create("2026-12-08", "16:00", "Room 3", PEOPLE)
    board.meetings.remove_from_agenda(item_id)
    for attempt in (
        lambda: board.meetings.remove_from_agenda(item_id),
        lambda: board.meetings.edit_question(item_id, "Which regimen?"),
        lambda: board.meetings.hold_back(item_id, "Await MRI"),
    ):
        with pytest.raises(BoardError) as raised:
            attempt()
        text = str(raised.value)
        assert str(item_id) not in text, text
        assert "no longer on the agenda" in text, text
