"""`crlmboard evaluate FILE` (`services.evaluation.evaluate_file`): the document of one case
file, with its input hash made without the engine's direct writers (a single case costs
less through `canonical_json`, performance.md B10) and equal to the hash they make."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from crlmboard.domain.caseformat import loads_case
from crlmboard.domain.engine import evaluate, evaluation_to_json, input_sha256
from crlmboard.services.evaluation import default_profile, evaluate_file
from tests.cli.test_cli_imports import fresh_python

GOLDEN = Path(__file__).parents[1] / "golden"
AS_OF = date(2026, 11, 24)


def _cases() -> list[Path]:
    files = sorted(f for f in GOLDEN.glob("*.json") if not f.name.endswith(".expected.json"))
    assert files
    return files


def test_the_file_gives_the_document_the_engine_gives() -> None:
    for file in _cases():
        case = loads_case(file.read_text("utf-8"), AS_OF)
        assert input_sha256(case, direct=False) == input_sha256(case)
        expected = evaluation_to_json(evaluate(case, AS_OF, default_profile()))
        assert evaluate_file(file, AS_OF) == expected
        assert json.loads(expected)["input_sha256"] == input_sha256(case)


def test_one_case_makes_no_direct_writers(tmp_path: Path) -> None:
    """The direct writers are made for a process that hashes many cases; `crlmboard
    evaluate` hashes one and makes none (each is compiled when first made)."""
    script = (
        "import contextlib, io\n"
        "from crlmboard.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    assert main(['evaluate', {str(_cases()[0])!r}, '--as-of', '2026-11-24']) == 0\n"
        "assert '\"input_sha256\"' in out.getvalue()\n"
        "import gc\n"
        "assert gc.isenabled()  # off only while the models and the engine load\n"
        "from crlmboard.domain.engine import canonical\n"
        "print(len(canonical._WRITERS))\n"
    )
    last = fresh_python(script, {"HOME": str(tmp_path)})
    assert last == "0"
