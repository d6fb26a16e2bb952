"""The command line imports what a command needs when it runs (performance.md B10): parsing
and `--version` load no data layer, `evaluate` no store.  Checked in fresh processes by the
modules they loaded, never by the clock."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY_LAYERS = ("sqlalchemy", "sqlmodel", "alembic", "reportlab", "pydantic")


def fresh_python(script: str, env: dict[str, str]) -> str:
    """The last line a fresh interpreter running `script` printed (with `env` and a bare
    PATH: no CRLMBOARD_* or PYTHON* variable of the test run)."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "PATH": "/usr/bin:/bin"},
    )
    return done.stdout.strip().splitlines()[-1]


def _loaded_after(code: str, tmp_path: Path) -> set[str]:
    """Top-level packages loaded by a fresh interpreter running `code` (which must not
    exit); crlmboard's own modules by full name."""
    script = (
        "import sys, json\n"
        f"{code}\n"
        "print(json.dumps(sorted({m if m.startswith('crlmboard') else m.split('.')[0] "
        "for m in sys.modules})))\n"
    )
    last = fresh_python(script, {"CRLMBOARD_LOG_DIR": str(tmp_path / "log")})
    return set(json.loads(last))


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


def _modules_after(code: str, tmp_path: Path) -> list[str]:
    """Every module a fresh interpreter running `code` loaded (the script itself imports
    only `sys`; the list is printed with repr, not json, which the app may not load)."""
    script = f"import sys\n{code}\nprint(repr(sorted(sys.modules)))\n"
    last = fresh_python(script, {"HOME": str(tmp_path)})
    modules: list[str] = ast.literal_eval(last)
    return modules


def test_evaluate_opens_no_log_file_and_searches_no_plugins(tmp_path: Path) -> None:
    """`crlmboard evaluate` logs nothing, so the log file is not opened (`logging.handlers`
    and `platformdirs` stay unloaded), and pydantic does not search the installed
    distributions for plugins: `importlib.metadata` is never loaded (performance.md B10)."""
    golden = Path(__file__).parents[1] / "golden"
    case = sorted(f for f in golden.glob("*.json") if not f.name.endswith(".expected.json"))[0]
    modules = _modules_after(
        "from crlmboard.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    assert main(['evaluate', {str(case)!r}, '--as-of', '2026-11-24']) == 0\n"
        "assert '\"engine_version\"' in out.getvalue()\n"
        "from pydantic.plugin._loader import get_plugins\n"
        "assert not get_plugins()\n",
        tmp_path,
    )
    assert "crlmboard.domain.engine" in modules
    unwanted = ("logging.handlers", "platformdirs", "importlib.metadata")
    assert {m for m in modules for u in unwanted if m == u or m.startswith(u + ".")} == set()
    assert not (tmp_path / ".local" / "state" / "crlmboard").exists()  # no log folder made


LINES = [
    [],
    ["--version"],
    ["--db", "x.sqlite3"],
    ["evaluate", "case.json", "--as-of", "2026-11-24"],
    ["--db", "evaluate", "evaluate", "case.json"],
    ["import", "folder", "--replace", "--db", "x.sqlite3"],
    ["export", "MRN-1", "-o", "-"],
    ["users", "add", "someone", "--role", "clinician", "--role", "admin"],
    ["list", "--json"],
    ["app", "--db", "x.sqlite3"],
]


def test_a_command_line_parses_as_with_every_command_built() -> None:
    """Only the named command's options are built (parsing stays light); what a command
    line parses to is the same as with every command's options built."""
    from crlmboard.cli import build_parser, command_on_line

    for line in LINES:
        light = build_parser(line).parse_args(line)
        full = build_parser().parse_args(line)
        assert vars(light) == vars(full), line
    assert command_on_line(["-h"]) is None  # the full help lists every command's options
    assert command_on_line(["evaluate", "-h"]) == "evaluate"
    assert command_on_line(["--db", "x", "list"]) == "list"
    assert command_on_line([]) == ""


def test_help_and_a_misspelt_command_still_name_every_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from crlmboard.cli import build_parser

    names = ("evaluate", "import", "export", "backup", "users", "whoami", "app")
    with pytest.raises(SystemExit) as help_exit:
        build_parser(["--help"]).parse_args(["--help"])
    assert help_exit.value.code == 0
    shown = capsys.readouterr().out
    assert all(name in shown for name in names), shown
    with pytest.raises(SystemExit) as error_exit:
        build_parser(["evaluat", "x"]).parse_args(["evaluat", "x"])
    assert error_exit.value.code == 2
    told = capsys.readouterr().err
    assert "invalid choice: 'evaluat'" in told and all(name in told for name in names), told


def test_evaluate_compiles_no_record_methods_of_its_own(tmp_path: Path) -> None:
    """`crlmboard evaluate` compiles no methods for crlmboard's record types when their
    modules are imported: `@dataclass` writes and compiles six methods a class (117 M
    instructions for the engine's 18, an eighth of the command); `crlmboard.frozen` makes
    the same classes without compiling.  Counted by the interpreter's `compile` audit
    event (raised for every text compiled), made by `dataclasses` while a crlmboard module's
    body runs (pydantic's own dataclasses, made when it is imported, are not ours)."""
    golden = Path(__file__).parents[1] / "golden"
    case = sorted(f for f in golden.glob("*.json") if not f.name.endswith(".expected.json"))[0]
    script = (
        "import sys\n"
        "compiled = []\n"
        "def hook(event, args):\n"
        "    if event != 'compile' or not isinstance(args[0], (str, bytes)):\n"
        "        return\n"
        "    frame = sys._getframe(1)\n"
        "    if frame.f_globals.get('__name__') != 'dataclasses':\n"
        "        return\n"
        "    while frame.f_code.co_name != '<module>':\n"
        "        frame = frame.f_back\n"
        "    module = frame.f_globals.get('__name__', '')\n"
        "    if module.startswith('crlmboard'):\n"
        "        compiled.append(module)\n"
        "sys.addaudithook(hook)\n"
        "from crlmboard.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    assert main(['evaluate', {str(case)!r}, '--as-of', '2026-11-24']) == 0\n"
        "assert '\"engine_version\"' in out.getvalue()\n"
        "print(repr(sorted(set(compiled))), len(compiled))\n"
    )
    last = fresh_python(script, {"HOME": str(tmp_path)})
    assert last == "[] 0"
