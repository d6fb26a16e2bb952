"""The README's commands for setting up a department and encrypting a laptop's database,
run line by line at a real terminal (a pseudo-terminal answering the password prompts), on
the test PostgreSQL server and a real SQLite file."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import secrets
import select
import shlex
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from crlmboard.services import Board
from crlmboard.store import encryption
from tests.conftest import GOLDEN, TODAY, postgres_url

README = Path(__file__).resolve().parents[2] / "README.md"
PROMPT = re.compile(r"(password|passphrase|again)[^\n]*: $", re.I)


def readme_block(name: str) -> list[str]:
    """The command lines of the README's block marked `<!-- readme-test: name -->`."""
    text = README.read_text("utf-8")
    block = text.split(f"<!-- readme-test: {name} -->", 1)[1].split("```sh\n", 1)[1]
    lines = block.split("```", 1)[0].splitlines()
    return [line.split("  #", 1)[0].strip() for line in lines if line.strip()]


def at_terminal(command: list[str], answers: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run a command with a pseudo-terminal as its controlling terminal, typing each answer
    at the next password prompt; returns the exit status and what the terminal showed."""
    master, slave = pty.openpty()

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = subprocess.Popen(
        command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        preexec_fn=controlling_terminal,
        close_fds=True,
    )
    os.close(slave)
    shown, pending = "", list(answers)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            shown += data.decode(errors="replace")
            if PROMPT.search(shown) and pending:
                os.write(master, (pending.pop(0) + "\n").encode())
                shown += "<answered>\n"
        elif child.poll() is not None:
            break
    child.wait(timeout=30)
    os.close(master)
    return child.returncode, shown


def _crlmboard(line: str) -> list[str]:
    words = shlex.split(line)
    if words[0] == "crlmboard":
        return [sys.executable, "-m", "crlmboard", *words[1:]]
    return words


@pytest.mark.postgres
def test_setting_up_a_department_as_the_readme_says(tmp_path: Path) -> None:
    server = sa.make_url(postgres_url())
    # the server's client programs (createuser, createdb, psql), as scripts/postgres.sh finds
    # the server's; Debian also has them in /usr/bin
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    bindir = installed[-1] if installed else Path("/usr/bin")
    tag = secrets.token_hex(3)
    database = f"crlmboard_readme_{tag}"
    passwords = {
        name: f"Synthetic-{name}-{secrets.token_urlsafe(8)}"
        for name in ("owner", "ada", "lind", "berg")
    }
    env = {
        **os.environ,
        "PGHOST": str(server.host),
        "PGPORT": str(server.port),
        "PGUSER": str(server.username),  # the server's administrator (the test superuser)
        "PGDATABASE": "postgres",
        "PATH": f"{bindir}:{os.environ.get('PATH', '')}",
    }
    env.pop("PGPASSWORD", None)
    answers = {
        "psql": [passwords["owner"], passwords["owner"]],
        "init": [passwords["owner"]],
        "ada": [passwords["owner"], passwords["ada"], passwords["ada"]],
        "lind": [passwords["ada"], passwords["lind"], passwords["lind"]],
        "berg": [passwords["ada"], passwords["berg"], passwords["berg"]],
        "list": [passwords["ada"]],
        "disable": [passwords["ada"]],
    }
    host = f"{server.host}:{server.port}"
    for line in readme_block("department"):
        line = line.replace("db.hospital.example", host)
        line = re.sub(r"\bcrlmboard_owner\b", f"owner_{tag}", line)  # new names each run
        line = re.sub(r"(?<=[ /])crlmboard$", database, line)
        if line.startswith("export "):
            name, value = line[len("export ") :].split("=", 1)
            env[name] = value
            continue
        key = next((k for k in answers if k in line), "")
        status, shown = at_terminal(_crlmboard(line), answers.get(key, []), env)
        assert status == 0, (line, shown)
        for secret in passwords.values():
            assert secret not in shown, line  # never echoed or printed
        if line.endswith("users list"):
            assert "lind\tDr Synthetic Lind\tclinician\tactive" in shown
            assert "berg\tSynthetic Berg\tcoordinator\tactive" in shown
    base = server.set(database=database)
    lind = base.set(username="lind").render_as_string(False)
    with Board.open(lind, clock=lambda: TODAY, password=passwords["lind"]) as board:
        assert board.identity.name == "Dr Synthetic Lind"
        assert "clinician" in board.identity.roles
    from crlmboard.services.maintenance import LoginFailed

    with pytest.raises(LoginFailed):
        Board.open(base.set(username="berg").render_as_string(False), password=passwords["berg"])


@pytest.mark.db
def test_encrypting_a_laptop_database_as_the_readme_says(tmp_path: Path) -> None:
    path = tmp_path / "laptop.sqlite3"
    with Board.open(path, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
    first, second = "synthetic first passphrase", "synthetic second passphrase"
    env = {**os.environ, "CRLMBOARD_DB": str(path)}
    env.pop("CRLMBOARD_PASSPHRASE", None)
    answers = {
        "encrypt": [first, first],
        "list": [first],
        "rekey": [first, second, second],
        "backup": [second],
        "check": [second],
    }
    for line in readme_block("laptop"):
        key = line.split()[1]
        status, shown = at_terminal(_crlmboard(line), answers[key], env)
        assert status == 0, (line, shown)
        assert first not in shown and second not in shown
        if key == "list":
            assert "EX-0001" in shown
        if key == "check":
            assert "No problems found." in shown
    assert encryption.is_encrypted(path)
    assert encryption.opens(path, second) and not encryption.opens(path, first)
    for backup in (path.parent / "backups").glob("*.sqlite3"):
        assert encryption.is_encrypted(backup), backup
