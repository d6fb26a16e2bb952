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
import traceback
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
