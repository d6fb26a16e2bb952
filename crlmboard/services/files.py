"""Files the services write for a person (case files, bundles, PDFs): whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_file_atomically(target: Path, data: bytes) -> Path:
    """Write `data` so that `target` is either the old file or the whole new one (temporary
    file, fsync, rename)."""
    target = target.expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
