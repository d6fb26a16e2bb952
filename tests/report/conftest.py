"""Shared helpers of the PDF tests: invariant output, cases with reviews, reading PDFs back."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab import rl_config

from crlmboard.domain.case import Case
from crlmboard.domain.caseformat import case_from_dict
from crlmboard.domain.engine import evaluate, evaluation_to_dict
from crlmboard.domain.engine.profile import Profile

TODAY = date(2026, 11, 24)
FIXTURES = Path(__file__).parent / "fixtures"
DEMO = Path(__file__).resolve().parents[2] / "crlmboard" / "resources" / "demo"
REVIEWED = FIXTURES / "reviewed-case.json"


@pytest.fixture(autouse=True)
def _invariant(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Byte-identical PDFs: fixed dates and ids (reportlab's invariant mode)."""
    monkeypatch.setattr(rl_config, "invariant", 1)
    yield


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def demo_data(number: str) -> dict[str, Any]:
    return load(next(DEMO.glob(f"DEMO-{number}-*.json")))


def demo_case(number: str) -> Case:
    return case_from_dict(demo_data(number), TODAY)


def reviewed_case() -> Case:
    """A rich case with a signed review (frozen evaluation) and a draft review."""
    return case_from_dict(load(REVIEWED), TODAY)


def evaluation_of(case: Case, as_of: date = TODAY) -> dict[str, Any]:
    return evaluation_to_dict(evaluate(case, as_of, Profile()))


def pages_text(pdf: bytes) -> list[str]:
    """The text layer of each page, as pypdf extracts it."""
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def tool(name: str) -> str:
    """The path of a poppler tool (scripts/test.sh installs poppler-utils)."""
    path = shutil.which(name)
    assert path, f"{name} is not installed: install poppler-utils (scripts/test.sh does)"
    return path


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    """Text as poppler extracts it (reading order, right-to-left reordered), NFKC-normalised
    so that Arabic presentation forms read as their letters."""
    source = tmp_path / "in.pdf"
    source.write_bytes(pdf)
    completed = subprocess.run(
        [tool("pdftotext"), "-enc", "UTF-8", str(source), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    text = completed.stdout.decode("utf-8")
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")  # bidi marks
    return unicodedata.normalize("NFKC", text)


def font_descriptors(pdf: bytes) -> list[dict[str, Any]]:
    """(name, descriptor) of every font resource of every page."""
    found: dict[str, Any] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = page.get("/Resources")
        if resources is None:
            continue
        fonts = resources.get_object().get("/Font")
        if fonts is None:
            continue
        for ref in fonts.get_object().values():
            font = ref.get_object()
            found[str(font.get("/BaseFont"))] = font
    return [{"name": name, "font": font} for name, font in sorted(found.items())]
