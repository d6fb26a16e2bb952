"""The per-user log file: tracebacks go here, never to a person's screen.

Log lines name operations and counts, never patient names or MRNs.

The file is opened at the first record, not at start: a command that logs nothing
(`crlmboard evaluate`, `--version`) and the app before its first paint never load
`logging.handlers` or `platformdirs` (performance.md B1, B10).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crlmboard.services.log_file import PrivateLogFile

__all__ = ["PrivateFormatter", "PrivateLogFile", "log_path", "setup_logging"]

_configured = False


def log_path() -> Path:
    folder = os.environ.get("CRLMBOARD_LOG_DIR")
    if not folder:
        import platformdirs

        folder = platformdirs.user_log_dir("crlmboard", appauthor=False)
    return Path(folder) / "crlmboard.log"


def __getattr__(name: str) -> Any:
    if name == "PrivateLogFile":  # the rotating file itself, with logging.handlers
        from crlmboard.services.log_file import PrivateLogFile

        return PrivateLogFile
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_INPUT_VALUE = re.compile(r"input_value=.*?(?=, input_type=|\]$|$)", re.M | re.S)


class PrivateFormatter(logging.Formatter):
    """The log's format, with every `input_value=…` of a validation error (pydantic puts
    the refused value there: a name, an MRN) replaced, in messages and tracebacks alike."""

    def format(self, record: logging.LogRecord) -> str:
        return _INPUT_VALUE.sub("input_value=<not logged>", super().format(record))


class LogFileOnFirstRecord(logging.Handler):
    """The per-user log file, opened (its folder made, `logging.handlers` and
    `platformdirs` imported) when the first record arrives; a folder that cannot be made
    or written leaves the records unwritten, as before."""

    def __init__(self, formatter: logging.Formatter):
        super().__init__()
        self.setFormatter(formatter)
        self._file: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._file is None:
            self._file = self._open()
        self._file.emit(record)

    def _open(self) -> logging.Handler:
        path = log_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            from crlmboard.services.log_file import PrivateLogFile

            handler: logging.Handler = PrivateLogFile(
                path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
            )
        except OSError:
            handler = logging.NullHandler()
        handler.setFormatter(self.formatter)
        return handler

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()


def setup_logging() -> None:
    """Send log records to the rotating per-user log file (once per process; the file is
    opened at the first record)."""
    global _configured
    if _configured:
        return
    handler = LogFileOnFirstRecord(
        PrivateFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger("crlmboard")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _configured = True
