"""The per-user log file: tracebacks go here, never to a person's screen.

Log lines name operations and counts, never patient names or MRNs.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import traceback
from io import TextIOWrapper
from pathlib import Path
from typing import Any

import platformdirs

_configured = False


def log_path() -> Path:
    folder = Path(
        os.environ.get("CRLMBOARD_LOG_DIR")
        or platformdirs.user_log_dir("crlmboard", appauthor=False)
    )
    return folder / "crlmboard.log"


class PrivateLogFile(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file, the ones rotation starts included, is mode 0600."""

    def _open(self) -> TextIOWrapper:
        stream = super()._open()
        os.chmod(self.baseFilename, 0o600)
        return stream


_INPUT_VALUE = re.compile(r"input_value=.*?(?=, input_type=|\]$|$)", re.M | re.S)


class PrivateFormatter(logging.Formatter):
    """The log's format, with every `input_value=…` of a validation error (pydantic puts
    the refused value there: a name, an MRN) replaced, and tracebacks written without the
    exceptions' messages: a database error's message carries the statement's parameters
    (a patient's name, an MRN), an OSError's the file name."""

    def format(self, record: logging.LogRecord) -> str:
        kept = record.exc_text  # another handler's traceback text, with the messages
        record.exc_text = None
        try:
            return _INPUT_VALUE.sub("input_value=<not logged>", super().format(record))
        finally:
            record.exc_text = kept

    def formatException(self, ei: Any) -> str:
        """Each exception of the chain as its frames and its type, never its message."""
        _kind, value, trace = ei
        if value is None:
            return ""
        chain: list[tuple[BaseException, Any]] = []
        seen: set[int] = set()
        current: BaseException | None = value
        frames = trace
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            chain.append((current, frames))
            following = current.__cause__ or (
                None if current.__suppress_context__ else current.__context__
            )
            current, frames = following, getattr(following, "__traceback__", None)
        parts = []
        for error, frames in reversed(chain):
            kind = type(error)
            name = f"{kind.__module__}.{kind.__qualname__}".removeprefix("builtins.")
            code = getattr(error, "errno", None)
            if isinstance(code, int):
                name += f" (errno {code})"
            parts.append(
                "Traceback (most recent call last):\n"
                + "".join(traceback.format_tb(frames))
                + f"{name} (its message is not logged: it may carry patient data)"
            )
        return "\n\nThe above led to:\n\n".join(parts)


def setup_logging() -> Path:
    """Send log records to the rotating per-user log file (once per process)."""
    global _configured
    path = log_path()
    if _configured:
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler: logging.Handler = PrivateLogFile(
            path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(PrivateFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("crlmboard")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _configured = True
    return path
