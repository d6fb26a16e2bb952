"""The per-user log file: tracebacks go here, never to a person's screen.

Log lines name operations and counts, never patient names or MRNs.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from io import TextIOWrapper
from pathlib import Path

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
    the refused value there: a name, an MRN) replaced, in messages and tracebacks alike."""

    def format(self, record: logging.LogRecord) -> str:
        return _INPUT_VALUE.sub("input_value=<not logged>", super().format(record))


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
