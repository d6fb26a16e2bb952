"""The rotating log file (kept apart from `services.log`: `logging.handlers` loads only
when the first record is written)."""

from __future__ import annotations

import logging.handlers
import os
from io import TextIOWrapper


class PrivateLogFile(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file, the ones rotation starts included, is mode 0600."""

    def _open(self) -> TextIOWrapper:
        stream = super()._open()
        os.chmod(self.baseFilename, 0o600)
        return stream
