"""Use cases without Qt: the Board (one open database) and its parts."""

from crlmboard.services.board import Board, BoardError, ChangeSet

__all__ = ["Board", "BoardError", "ChangeSet"]
