"""Issue 23, first run: `scripts/setup.sh` installs python3-venv when Python cannot make a
virtual environment, waits while apt's lock is held instead of failing, and installs the
app alone for `scripts/demo.sh` (the test tools only for `scripts/test.sh`).  Run with
stand-ins for dpkg, apt-get and Python on PATH; the venv and pip steps are printed
(CRLMBOARD_SETUP_DRY_RUN), never run."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script(path: Path, text: str) -> Path:
    path.write_text("#!/usr/bin/env bash\n" + text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _run(
    tmp_path: Path, *args: str, lock_failures: int
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "apt-calls"
    _script(bin_dir / "dpkg", "exit 1\n")  # no package installed
    _script(
        bin_dir / "apt-get",
        f"""n=$(cat {tmp_path}/count 2>/dev/null || echo 0); echo $((n + 1)) > {tmp_path}/count
if [ "$n" -lt {lock_failures} ]; then
  echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 42" >&2
  exit 100
fi
echo "$@" >> {calls}
""",
    )
    _script(bin_dir / "sudo", 'exec "$@"\n')
    python = _script(
        tmp_path / "python-without-venv",
        'if [ "$1" = "-c" ]; then exit 1; fi\necho "python $*"\n',
    )
    env = dict(
        os.environ,
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        PYTHON=str(python),
        CRLMBOARD_VENV=str(tmp_path / "venv"),
        CRLMBOARD_SETUP_DRY_RUN="1",
        CRLMBOARD_APT_RETRY_SECONDS="0",
    )
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, calls.read_text().splitlines() if calls.exists() else []


def test_setup_installs_python3_venv_and_waits_for_the_apt_lock(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, "--app", "libegl1", lock_failures=3)
    assert done.returncode == 0, done.stderr
    assert "apt is busy" in done.stdout
    assert calls[0].endswith("update -qq")
    assert "install" in calls[1] and "libegl1" in calls[1] and "python3-venv" in calls[1]
    assert f"-m venv {tmp_path / 'venv'}" in done.stdout
    assert "pip install -q -e ." in done.stdout
    assert "[test]" not in done.stdout  # the demo installs the app only


def test_the_test_set_up_installs_the_test_tools(tmp_path: Path) -> None:
    done, _calls = _run(tmp_path, "libegl1", lock_failures=0)
    assert done.returncode == 0, done.stderr
    assert "pip install -q -e .[test]" in done.stdout


def test_demo_sh_asks_for_the_app_only() -> None:
    text = (ROOT / "scripts" / "demo.sh").read_text()
    assert "scripts/setup.sh --app " in text
