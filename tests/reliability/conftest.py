"""Helpers of the fault tests: child processes that run the real services."""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import postgres_url

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


STALL = 300.0  # seconds without a single step done: a hang, however loaded the machine


def run_to_end(
    processes: list[subprocess.Popen[str]], stall: float = STALL
) -> list[tuple[str, str]]:
    """Wait for child processes that print a line for every step of a bounded amount of
    work; their (stdout, stderr).  Fails only when none of them prints for `stall` seconds —
    a hang — never for the total time a loaded machine takes."""
    lines: queue.Queue[tuple[int, str | None]] = queue.Queue()

    def pump(index: int, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.put((index, line))
        lines.put((index, None))

    for index, process in enumerate(processes):
        threading.Thread(target=pump, args=(index, process.stdout), daemon=True).start()
    outputs: list[list[str]] = [[] for _ in processes]
    running = len(processes)
    while running:
        try:
            index, line = lines.get(timeout=stall)
        except queue.Empty:
            for process in processes:
                process.kill()
            pytest.fail(f"no child process made progress for {stall:.0f} s")
        if line is None:
            running -= 1
        else:
            outputs[index].append(line)
    results = []
    for process, out in zip(processes, outputs, strict=True):
        process.wait()
        assert process.stderr is not None
        results.append(("".join(out), process.stderr.read()))
    return results


@pytest.fixture
def own_postgres() -> Iterator[str]:
    """The URL of a database of the test's own on the test server (`own_postgres_database`)."""
    with own_postgres_database() as url:
        yield url


@contextlib.contextmanager
def own_postgres_database() -> Iterator[str]:
    """The URL of a database of its own on the test server (CREATE DATABASE with a unique
    name, dropped WITH (FORCE) afterwards): nothing another test leaves in the server's
    shared database reaches it."""
    import sqlalchemy as sa

    # no pooled connection: the server may be restarted in between
    admin = sa.create_engine(postgres_url(), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    name = f"crlmboard_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(postgres_url()).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
