"""Real storage faults for the tests: a size-limited tmpfs (mounting needs root; CI runs as
root), filled to the last byte or remounted read-only."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(folder: Path, size: str, *options: str) -> Iterator[Path]:
    """`folder` (made here) with a tmpfs of `size` (e.g. "6m") mounted on it, and any other
    mount options (e.g. "ro"); unmounted afterwards.  Skips the test when not root."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    folder.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs", str(folder)],
        check=True,
    )
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def remount_read_only(mount: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)


def fill_disk(folder: Path) -> Path:
    """Fill the disk holding `folder` to the last byte; the filler file."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as stream:
        for size in (65536, 4096, 512, 1):
            while True:
                try:
                    stream.write(b"\0" * size)
                except OSError as error:
                    assert error.errno == errno.ENOSPC
                    break
    return filler
