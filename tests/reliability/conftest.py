"""Helpers of the fault tests: child processes that run the real services."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def child(code: str, *args: str, stdin: int | None = None) -> subprocess.Popen[str]:
    """A fresh Python process (spawn-like) running `code` with the repository importable;
    its stdout and stderr are pipes."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def trials(name: str, default: int) -> int:
    """How many repetitions: a few in CI, more nightly (`CRLMBOARD_<NAME>_TRIALS`)."""
    return int(os.environ.get(f"CRLMBOARD_{name}_TRIALS", default))
