"""Issue 23 items 11 and 12: every kind of bad input is exit 2 with a message naming the
file and the cause (never "Something went wrong"), and no input value reaches the log."""

from __future__ import annotations

import copy
import json
import logging
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crlmboard.cli import main
from tests.conftest import GOLDEN
from tests.mounts import tmpfs

pytestmark = pytest.mark.db
SENTINEL_NAME, SENTINEL_MRN = "ZZSENTINEL", "MRN-SENTINEL-7788"


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = str(tmp_path / "board.sqlite3")
    assert main(["init", "--db", path]) == 0
    assert main(["import", str(GOLDEN), "--db", path]) == 0
    capsys.readouterr()
    return path


def refused(capsys: pytest.CaptureFixture[str], args: list[str], *words: str) -> str:
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, (args, err)
    assert "Something went wrong" not in err and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
    return err


# -- database locations ----------------------------------------------------------------


@pytest.mark.parametrize(
    "where", ["://", "~nosuchuser-zz/board.sqlite3", "postgresql+nodriver://x"]
)
def test_a_database_location_that_is_none_is_bad_input(
    where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    refused(capsys, ["list", "--db", where], where.split("/")[0])


# -- missing and unwritable files ---------------------------------------------------------


def test_a_missing_input_file_is_exit_2_everywhere(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "missing.json")
    refused(capsys, ["import", missing, "--db", db], missing)
    refused(capsys, ["evaluate", missing], missing)
    refused(capsys, ["restore", missing, "--db", db], "missing.json")
    refused(capsys, ["rules", "--profile", str(tmp_path / "missing.toml")], "missing.toml")


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody can write, even root: a read-only tmpfs."""
    with tmpfs(tmp_path / "ro", "1m", "ro") as mount:
        yield mount


def test_an_output_that_cannot_be_written_is_exit_2_naming_it(
    db: str, tmp_path: Path, read_only_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    targets = [read_only_folder / "out.pdf", tmp_path, a_file / "under-a-file.pdf"]
    for target in targets:
        for command in (
            ["pdf", "EX-0001"],
            ["export", "EX-0001"],
            ["fhir", "EX-0001"],
            ["figures", "--from", "2025-01-01", "--to", "2025-12-31"],
            ["backup"],
        ):
            refused(capsys, [*command, "-o", str(target), "--db", db], str(target))


def test_an_unreadable_import_folder_is_exit_2(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    refused(capsys, ["import", str(a_file / "folder"), "--db", db], str(a_file / "folder"))


# -- profiles -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("x = " + "[" * 3000 + "]" * 3000, "nested too deeply"),
        ("chemo_washout_days = " + "9" * 5000, "not valid TOML"),
        ("# filler\n" * 200_000, "too large"),
        ("flr_required_normal = 35\nflr_required_injured = 30", "flr_required_injured"),
        ("restaging_soon_days = 60\nrestaging_interval_days = 56", "restaging_soon_days"),
    ],
    ids=["deep", "long-number", "huge", "flr-order", "restaging-order"],
)
def test_a_bad_profile_is_refused_naming_the_file(
    text: str, cause: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "local.toml"
    profile.write_text(text, "utf-8")
    refused(capsys, ["rules", "--profile", str(profile)], "local.toml", cause)
    refused(
        capsys,
        ["evaluate", str(GOLDEN / "upfront-resection.json"), "--profile", str(profile)],
        "local.toml",
        cause,
    )


# -- case files ---------------------------------------------------------------------------


def test_duplicate_keys_are_refused_not_resolved(
    db: str, tmp_path: Path, upfront: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    text = json.dumps(upfront)
    twice = tmp_path / "twice.json"
    twice.write_text(text[:-1] + ', "patient": ' + json.dumps(upfront["patient"]) + "}")
    refused(capsys, ["evaluate", str(twice)], "'patient' appears twice")
    refused(capsys, ["import", str(twice), "--db", db], "twice.json", "'patient' appears twice")


@pytest.mark.parametrize(
    "name",
    ["\u200b\u200b", "\u2066\u2069", " \u00a0", "\u3164", "Ada\u202eecnA", "\u202dAda"],
    ids=["zero-width", "isolates-only", "spaces", "hangul-filler", "rlo", "lro"],
)
def test_invisible_or_bidi_override_names_are_refused(
    name: str, db: str, tmp_path: Path, upfront: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    for field in ("family_name", "given_name"):
        document = copy.deepcopy(upfront)
        document["patient"]["mrn"] = "EX-NAME"
        document["patient"][field] = name
        source = tmp_path / f"{field}.json"
        source.write_text(json.dumps(document), "utf-8")
        refused(capsys, ["import", str(source), "--db", db], f"patient.{field}")


def _mutations(document: Any, rng: random.Random, count: int) -> Iterator[Any]:
    """`count` copies of a JSON document, each with one value replaced or one key dropped."""
    paths: list[tuple[Any, ...]] = []

    def walk(value: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(value, dict):
            for key, child in value.items():
                walk(child, (*path, key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                walk(child, (*path, index))

    walk(document, ())
    replacements: list[Any] = [None, [], {}, "", 7, -1, 1e308, True, "x" * 50, [{}], {"a": []}]
    for _ in range(count):
        mutated = copy.deepcopy(document)
        path = rng.choice(paths[1:])
        parent = mutated
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and rng.random() < 0.3:
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(replacements))
        yield mutated


def test_mutated_case_files_and_bundles_are_exit_0_or_2_never_an_error(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "bundle.json"
    assert main(["fhir", "EX-0001", "-o", str(bundle), "--db", db]) == 0
    sources = {
        "case": json.loads((GOLDEN / "upfront-resection.json").read_text("utf-8")),
        "bundle": json.loads(bundle.read_text("utf-8")),
    }
    rng = random.Random(23)
    folder = tmp_path / "mutated"
    folder.mkdir()
    for kind, document in sources.items():
        for n, mutated in enumerate(_mutations(document, rng, 150)):
            (folder / f"{kind}-{n:03d}.json").write_text(json.dumps(mutated), "utf-8")
    capsys.readouterr()
    code = main(["import", str(folder), "--replace", "--db", db])
    err = capsys.readouterr().err
    assert code in (0, 2), err[-3000:]
    assert "internal error" not in err and "Something went wrong" not in err, err[-3000:]
    for single in sorted(folder.iterdir())[::15]:
        assert main(["evaluate", str(single)]) in (0, 2)
        assert "Something went wrong" not in capsys.readouterr().err


# -- item 12 ------------------------------------------------------------------------------


def test_validation_errors_never_carry_input_values_into_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pydantic import BaseModel, ValidationError

    from crlmboard.domain.models import Patient

    with pytest.raises(ValidationError) as caught:
        Patient.model_validate({"mrn": SENTINEL_MRN + "!", "family_name": 7, "sex": SENTINEL_NAME})
    assert SENTINEL_MRN not in str(caught.value) and SENTINEL_NAME not in str(caught.value)

    class Foreign(BaseModel):  # a model that does not hide its input
        number: int

    from crlmboard.services.log import setup_logging

    setup_logging()
    handlers = logging.getLogger("crlmboard").handlers
    assert handlers
    logger = logging.getLogger("crlmboard.test")
    try:
        Foreign.model_validate({"number": SENTINEL_NAME})
    except ValidationError as error:
        records = [
            logger.makeRecord(
                logger.name, logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
            ),
            logger.makeRecord(
                logger.name, logging.ERROR, __file__, 1, "failed: %s", (error,), None
            ),
        ]
    for handler in handlers:
        traceback_text, message_text = (handler.format(record) for record in records)
        # a traceback is logged without the error's message; a message with the error's
        # text keeps it, but not its input values
        assert "ValidationError (its message is not logged" in traceback_text
        assert "failed" in message_text and "input_value" in message_text
        for text in (traceback_text, message_text):
            assert "failed" in text and SENTINEL_NAME not in text
