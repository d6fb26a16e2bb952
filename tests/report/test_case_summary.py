"""The case summary PDF: complete, searchable, escaped, every script, both page sizes,
footers on every page, metadata, deterministic bytes and pages that are not blank."""

from __future__ import annotations

import copy
import hashlib
import io
import os
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from crlmboard.domain.caseformat import case_from_dict
from crlmboard.domain.labels import value_label
from crlmboard.report.case_summary import SECTIONS, case_summary_pdf
from tests.conftest import GOLDEN, golden_cases
from tests.report.conftest import (
    TODAY,
    demo_case,
    demo_data,
    evaluation_of,
    font_descriptors,
    load,
    pages_text,
    pdftotext,
    reviewed_case,
    tool,
)

pytestmark = pytest.mark.pdf

SNAPSHOTS = Path(__file__).parent / "snapshots"


def squash(text: str) -> str:
    """Text with every run of whitespace as one space (lines wrap anywhere)."""
    return re.sub(r"\s+", " ", text)


def check_snapshot(name: str, pdf: bytes) -> None:
    """Compare with the stored SHA-256; CRLMBOARD_UPDATE_SNAPSHOTS=1 rewrites it."""
    digest = hashlib.sha256(pdf).hexdigest()
    path = SNAPSHOTS / f"{name}.sha256"
    if os.environ.get("CRLMBOARD_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(digest + "\n", "utf-8")
    assert path.read_text("utf-8").strip() == digest, (
        f"{name} changed; if the new layout is intended, rerun with "
        "CRLMBOARD_UPDATE_SNAPSHOTS=1 and look at the PDF"
    )


def test_review_summary_has_every_section_finding_and_identifier() -> None:
    case = reviewed_case()
    review = case.reviews[0]
    evaluation = review.evaluation
    assert evaluation is not None
    pdf = case_summary_pdf(case, evaluation, review, app_version="9.9.9", review_number=0)
    pages = pages_text(pdf)
    text = squash(" ".join(pages))
    for section in SECTIONS:
        assert section in text, section
    for finding in evaluation["findings"]:
        assert finding["rule"] in text
        assert squash(finding["title"]) in text
    for needle in (
        case.mrn,
        "EXAMPLE, Clara",
        "1956-08-30",
        "2025-03-24",
        "Resectable after 8 cycles?",
        value_label("two_stage_hepatectomy"),
        "Book right portal vein embolisation",
        "2025-04-28",
        "A. Surgeon",
        "2025-03-24 17:42 UTC",
        "meaning: approved as the board's decision",  # 21 CFR 11.50
        "guo-2021",
        "Guo M, Jin N",
    ):
        assert needle in text, needle
    # the lesion table, RECIST per timepoint, CEA and FLR values
    for needle in ("L1", "Σ targets", "RECIST", "PR", "48", "9.2", "26 %", "30 %"):
        assert needle in text, needle


def test_footer_on_every_page_names_page_count_and_versions() -> None:
    case = reviewed_case()
    review = case.reviews[0]
    evaluation = review.evaluation
    assert evaluation is not None
    pdf = case_summary_pdf(case, evaluation, review, app_version="9.9.9", audit_head="ab" * 32)
    pages = pages_text(pdf)
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        flat = squash(page)
        assert f"page {number} of {len(pages)}" in flat
        assert f"engine {evaluation['engine_version']}" in flat
        assert f"profile {evaluation['profile']['name']}" in flat
        assert f"input {evaluation['input_sha256'][:12]}" in flat
        assert f"audit head {'ab' * 6}" in flat
        assert "crlmboard 9.9.9" in flat
        assert case.mrn in flat


def test_current_evaluation_summary_without_review() -> None:
    case = demo_case("0009")
    pdf = case_summary_pdf(case, evaluation_of(case), None)
    text = squash(" ".join(pages_text(pdf)))
    assert "No board review attached" in text
    assert "RESPONSE.DISAPPEARING_METASTASIS" in text
    assert "gone" in text  # the disappeared lesion


def test_draft_review_is_marked_as_such() -> None:
    case = reviewed_case()
    draft = case.reviews[1]
    pdf = case_summary_pdf(case, evaluation_of(case, draft.meeting_date), draft, review_number=1)
    text = squash(" ".join(pages_text(pdf)))
    assert "DRAFT — not signed" in text
    assert "(review 2)" in text


def test_user_strings_are_escaped() -> None:
    data = load(GOLDEN / "upfront-resection.json")
    data["patient"]["given_name"] = "Ada <b>&amp;"
    data["patient"]["comorbidities"] = ["T2 <N0 & M0", "</para> broken?"]
    data["patient"]["referring_clinician"] = "Dr <Smith> & Partners"
    data["treatments"] = [
        {
            "kind": "procedure",
            "date": "2025-02-10",
            "procedure": "other",
            "note": "<font name='nope'>x</font> & <br/> <unclosed",
        }
    ]
    data["reviews"] = [
        {
            "meeting_date": "2025-03-04",
            "question": "T2 <N0 & M0>?",
            "decision": "Resect if <3 lesions & CEA > 5",
            "actions": [{"text": "<script>", "owner": "A & B", "due": "2025-03-11"}],
        }
    ]
    case = case_from_dict(data, TODAY)
    pdf = case_summary_pdf(case, evaluation_of(case, date(2025, 3, 4)), case.reviews[0])
    text = squash(" ".join(pages_text(pdf)))
    for needle in (
        "Ada <b>&amp;",
        "T2 <N0 & M0",
        "</para> broken?",
        "Dr <Smith> & Partners",
        "<font name='nope'>x</font> &",
        "<unclosed",
        "T2 <N0 & M0>?",
        "Resect if <3 lesions & CEA > 5",
        "<script>",
        "A & B",
    ):
        assert needle in text, needle


@pytest.mark.parametrize(
    ("number", "family", "given"),
    [
        ("0002", "ΔΟΚΙΜΉ", "Ελένη"),
        ("0003", "ТЕСТОВ", "Иван"),
        ("0006", "测试", "小明"),
        ("0007", "تجريبي", "سارة"),
    ],
)
def test_non_latin_names_come_back_from_the_text_layer(
    number: str, family: str, given: str, tmp_path: Path
) -> None:
    case = demo_case(number)
    assert case.display_name().startswith(family)  # family names print in capitals
    text = pdftotext(case_summary_pdf(case, evaluation_of(case)), tmp_path)
    assert family in text
    assert given in text


def test_hebrew_japanese_and_korean_names(tmp_path: Path) -> None:
    data = load(GOLDEN / "upfront-resection.json")
    data["patient"]["family_name"] = "כהן"
    data["patient"]["given_name"] = "דוד"
    data["patient"]["referring_clinician"] = "山田 太郎 / 김민준 / Müller-Łukasiewicz"
    case = case_from_dict(data, TODAY)
    text = pdftotext(case_summary_pdf(case, evaluation_of(case)), tmp_path)
    for name in ("כהן", "דוד", "山田 太郎", "김민준", "Müller-Łukasiewicz"):
        assert name in text, name


def test_every_font_is_embedded_truetype() -> None:
    case = demo_case("0007")
    pdf = case_summary_pdf(case, evaluation_of(case))
    fonts = font_descriptors(pdf)
    names = " ".join(f["name"] for f in fonts)
    for family in ("NotoSans-Regular", "NotoSans-Bold", "NotoSansArabic"):
        assert family in names
    for entry in fonts:
        font = entry["font"]
        descendants = font.get("/DescendantFonts")
        descriptor_owner = descendants[0].get_object() if descendants else font
        descriptor = descriptor_owner["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, f"{entry['name']} is not an embedded TrueType font"


@pytest.mark.parametrize(
    ("page_size", "expected"), [("A4", (595.3, 841.9)), ("letter", (612.0, 792.0))]
)
def test_page_sizes(page_size: str, expected: tuple[float, float]) -> None:
    case = demo_case("0011")
    pdf = case_summary_pdf(case, evaluation_of(case), page_size=page_size)
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        box = page.mediabox
        assert (round(float(box.width), 1), round(float(box.height), 1)) == expected
    pages = pages_text(pdf)
    assert all(f"page {i} of {len(pages)}" in p for i, p in enumerate(pages, start=1))


def test_unknown_page_size_is_refused() -> None:
    case = demo_case("0001")
    with pytest.raises(ValueError, match="page size"):
        case_summary_pdf(case, evaluation_of(case), page_size="A3")


def test_metadata() -> None:
    case = reviewed_case()
    review = case.reviews[0]
    assert review.evaluation is not None
    pdf = case_summary_pdf(case, review.evaluation, review, app_version="9.9.9")
    info = PdfReader(io.BytesIO(pdf)).metadata
    assert info is not None
    assert case.mrn in (info.title or "")
    assert "case summary" in (info.title or "")
    assert info.author == "crlmboard 9.9.9"
    assert info.creator == "crlmboard 9.9.9"
    assert "2025-03-24" in (info.subject or "")
    assert info.get("/CreationDate")


def test_outline_has_the_case_and_its_sections() -> None:
    case = demo_case("0003")
    pdf = case_summary_pdf(case, evaluation_of(case))
    outline = PdfReader(io.BytesIO(pdf)).outline
    assert outline[0].title.startswith(case.mrn)
    titles = [entry.title for entry in outline[1]]
    assert titles == list(SECTIONS)


def test_output_is_deterministic_and_matches_its_snapshot() -> None:
    case = reviewed_case()
    review = case.reviews[0]
    assert review.evaluation is not None
    first = case_summary_pdf(case, review.evaluation, review, app_version="0.0.0", review_number=0)
    second = case_summary_pdf(case, review.evaluation, review, app_version="0.0.0", review_number=0)
    assert first == second
    check_snapshot("case-summary", first)


def test_changed_record_is_pointed_out() -> None:
    case = reviewed_case()
    review = case.reviews[0]
    assert review.evaluation is not None
    changed = case.model_copy(update={"liver_metastases_diagnosis_date": date(2024, 11, 19)})
    text = squash(" ".join(pages_text(case_summary_pdf(changed, review.evaluation, review))))
    assert "The case record has changed since this evaluation was made" in text
    same = squash(" ".join(pages_text(case_summary_pdf(case, review.evaluation, review))))
    assert "has changed since" not in same


def test_records_after_the_evaluation_date_are_left_out() -> None:
    case = reviewed_case()
    review = case.reviews[0]
    assert review.evaluation is not None
    data = load(Path(__file__).parent / "fixtures" / "reviewed-case.json")
    data["labs"].append({"date": "2025-06-02", "cea_ng_ml": 777.7})
    later = case_from_dict(data, TODAY)
    text = squash(" ".join(pages_text(case_summary_pdf(later, review.evaluation, review))))
    assert "777.7" not in text


@pytest.mark.parametrize("path", golden_cases(), ids=lambda p: p.stem)
def test_golden_cases_render(path: Path) -> None:
    case = case_from_dict(load(path), TODAY)
    pdf = case_summary_pdf(case, evaluation_of(case))
    assert pdf.startswith(b"%PDF-")
    assert case.mrn in pages_text(pdf)[0]


def test_minimal_case_renders() -> None:
    case = case_from_dict({"format": "crlmboard.case/1", "patient": {"mrn": "MIN-1"}}, TODAY)
    text = squash(" ".join(pages_text(case_summary_pdf(case, evaluation_of(case)))))
    assert "MIN-1" in text and "No imaging recorded." in text
    # an empty evaluation document still gives a readable summary
    assert "MIN-1" in " ".join(pages_text(case_summary_pdf(case, {})))


def heavy_case_data() -> dict[str, Any]:
    """12 imaging timepoints × 12 lesions on top of a long treatment course."""
    data = copy.deepcopy(demo_data("0011"))
    data["patient"]["mrn"] = "HEAVY-0001"
    start = date(2025, 1, 6)
    data["imaging"] = []
    for t in range(12):
        lesions = []
        for i in range(12):
            size = max(0.0, 40 - 3 * i - 2.5 * t)
            lesions.append(
                {
                    "id": f"L{i + 1}",
                    "segment": i % 8 + 1,
                    "longest_diameter_mm": size,
                    "target": i < 2,
                    "status": "present" if size else "disappeared",
                }
            )
        data["imaging"].append(
            {
                "date": (start + timedelta(days=42 * t)).isoformat(),
                "modality": "mri" if t % 2 else "ct",
                "lesions": lesions,
            }
        )
    return data


def test_heavy_case_paginates_cleanly(tmp_path: Path) -> None:
    case = case_from_dict(heavy_case_data(), TODAY)
    pdf = case_summary_pdf(case, evaluation_of(case))
    pages = pages_text(pdf)
    assert len(pages) >= 4
    text = squash(" ".join(pages))
    assert "Timepoints 1–6 of 12" in text and "Timepoints 7–12 of 12" in text
    for lesion in range(1, 13):
        assert f"L{lesion}" in text
    for number, page in enumerate(pages, start=1):
        assert f"page {number} of {len(pages)}" in page
    assert_pages_not_blank(pdf, tmp_path)


def assert_pages_not_blank(pdf: bytes, tmp_path: Path) -> list[Path]:
    """Render every page with pdftoppm and check each has ink on it."""
    source = tmp_path / "render.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [tool("pdftoppm"), "-r", "40", "-png", str(source), str(tmp_path / "p")],
        check=True,
        timeout=120,
    )
    images = sorted(tmp_path.glob("p-*.png"))
    assert len(images) == len(PdfReader(io.BytesIO(pdf)).pages)
    for image_path in images:
        with Image.open(image_path) as image:
            grey = image.convert("L")
            dark = sum(grey.histogram()[:200])
            assert dark > grey.width * grey.height * 0.005, f"{image_path.name} looks blank"
    return images


def test_rendered_pages_are_not_blank(tmp_path: Path) -> None:
    case = reviewed_case()
    review = case.reviews[0]
    assert review.evaluation is not None
    pdf = case_summary_pdf(case, review.evaluation, review)
    images = assert_pages_not_blank(pdf, tmp_path)
    with Image.open(images[0]) as first:
        assert first.width < first.height  # portrait


def test_nn_is_shown_with_its_meaning() -> None:
    """Non-target-only disease (DEMO-0022) reads NN, non-CR/non-PD, in the summary."""
    case = demo_case("0022")
    text = squash(" ".join(pages_text(case_summary_pdf(case, evaluation_of(case)))))
    assert "RECIST now NN (non-CR/non-PD (non-target disease only))" in text
    assert "DATA.TARGET_NOT_MEASURABLE" in text or "Marked target lesion followed" in text
