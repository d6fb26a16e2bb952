"""The command line imports what a command needs when it runs (performance.md B10): parsing
and `--version` load no data layer, `evaluate` no store.  Checked in fresh processes by the
modules they loaded, never by the clock."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY_LAYERS = ("sqlalchemy", "sqlmodel", "alembic", "reportlab", "pydantic")


def _loaded_after(code: str, tmp_path: Path) -> set[str]:
    """Top-level packages loaded by a fresh interpreter running `code` (which must not
    exit); crlmboard's own modules by full name."""
    script = (
        "import sys, json\n"
        f"{code}\n"
        "print(json.dumps(sorted({m if m.startswith('crlmboard') else m.split('.')[0] "
        "for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"CRLMBOARD_LOG_DIR": str(tmp_path / "log"), "PATH": "/usr/bin:/bin"},
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_version_loads_no_data_layer(tmp_path: Path) -> None:
    loaded = _loaded_after(
        "from crlmboard.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['--version']) == 0\n"
        "assert 'schema' in out.getvalue()",
        tmp_path,
    )
    assert not loaded & set(HEAVY_LAYERS), loaded & set(HEAVY_LAYERS)
    assert not {m for m in loaded if m.startswith(("crlmboard.domain", "crlmboard.ui"))}


def test_evaluate_loads_the_domain_but_no_store(tmp_path: Path) -> None:
    case = Path(__file__).parents[1] / "golden"
    files = sorted(f for f in case.glob("*.json") if not f.name.endswith(".expected.json"))
    assert files
    loaded = _loaded_after(
        "from crlmboard.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    assert main(['evaluate', {str(files[0])!r}, '--as-of', '2026-11-24']) == 0\n"
        "assert json.loads(out.getvalue())",
        tmp_path,
    )
    assert "pydantic" in loaded and "crlmboard.domain.engine" in loaded
    assert not loaded & {"sqlalchemy", "sqlmodel", "alembic", "reportlab", "PySide6"}, loaded
    assert not {m for m in loaded if m.startswith(("crlmboard.store", "crlmboard.ui"))}
