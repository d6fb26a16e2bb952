"""Use cases without Qt: the Board (one open database) and its parts.

`Board` is imported on first use (PEP 562), so a light module of this package — the log,
the versions, the change sets — can be used without loading the data layer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crlmboard.services.changes import BoardError, ChangeSet

if TYPE_CHECKING:
    from crlmboard.services.board import Board

__all__ = ["Board", "BoardError", "ChangeSet"]


def __getattr__(name: str) -> Any:
    if name == "Board":
        from crlmboard.services.board import Board

        return Board
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
