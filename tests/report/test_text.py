"""The fast drawing paths of the PDFs read exactly as reportlab's own: `Text` breaks lines and
places them as a `Paragraph` does, `Grid` lays out and draws as a `Table` does, the timeline
`Chart` draws what reportlab's renderer draws — checked on the layouts and on the pixels."""

from __future__ import annotations

import io
import random
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table

from crlmboard.domain.engine.readmodel import EvaluationView
from crlmboard.domain.timeline import build_timeline
from crlmboard.report import timeline as timeline_module
from crlmboard.report.blocks import Grid, cell
from crlmboard.report.case_summary import case_summary_pdf
from crlmboard.report.fonts import fallback, markup, register_fonts
from crlmboard.report.styles import grid_style, styles
from crlmboard.report.text import _ESCAPES, Text, fp
from crlmboard.report.timeline import timeline_drawing
from tests.report.conftest import demo_case, evaluation_of, reviewed_case, tool

pytestmark = pytest.mark.pdf

SAMPLES = [
    "",
    "   ",
    "—",
    "26 %",
    "a  b   c",
    " lead",
    "trail ",
    "<b>PR</b>",
    "Σ targets <b>T</b>",
    "x<br/>y",
    "<b>A</b> B <font color='#b3261e'>C D</font>",
    "<font size=7>tiny</font> <b>big</b>",
    "<font size=7 color='#5f6368'>Sources: a [1]</font>",
    "&lt;b&gt; T2 &lt;N0 &amp; M0&gt;",
    "8 oxaliplatin cycles (≥ 6) carry a risk of sinusoidal "
    "obstruction syndrome: check platelets, spleen size and APRI before hepatectomy.",
    "<font size=13>L</font> s " * 20,
    "word " * 40,
    "Pneumonoultramicroscopicsilicovolcanoconiosis",
    markup("Name: 测试 ≥ 3 سارة المنسقة"),
    markup("דוד כהן and Ελένη Ογκολόγου, Иван"),
    # handed to a Paragraph: other tags and entities, empty lines, no-break spaces
    "<i>italic</i> text",
    "a&nbsp;b",
    "<br/>first line empty",
    "a\u00a0b",
    "<super>2</super>",
]


def corpus() -> list[str]:
    """The samples above and every text of a reviewed case's summary."""
    made: list[str] = []
    original = Text.__init__

    def record(self: Text, text: str, style: Any) -> None:
        original(self, text, style)
        made.append(text)

    Text.__init__ = record  # type: ignore[method-assign]
    try:
        case = reviewed_case()
        review = case.reviews[0]
        assert review.evaluation is not None
        case_summary_pdf(case, review.evaluation, review)
    finally:
        Text.__init__ = original  # type: ignore[method-assign]
    return list(dict.fromkeys([*SAMPLES, *made]))


def paragraph_lines(paragraph: Paragraph) -> list[str]:
    lines = paragraph.blPara.lines
    if paragraph.blPara.kind == 0:
        return [" ".join(words) for _, words in lines]
    return ["".join(frag.text for frag in line.words).rstrip(" ") for line in lines]


def test_text_breaks_lines_as_a_paragraph_does() -> None:
    register_fonts()
    shared = styles()
    rng = random.Random(8)
    laid_out = 0
    for source in corpus():
        for name in ("cell", "cell_bold", "cell_head", "body", "small", "muted", "h2"):
            style = getattr(shared, name)
            text = fallback(source, bold=name in ("cell_bold", "cell_head", "h2"))
            for width in [
                30.0,
                47.0,
                100.0,
                230.0,
                480.0,
                *(rng.uniform(15, 500) for _ in range(4)),
            ]:
                ours = Text(text, style)
                size = ours.wrap(width, 1000)
                paragraph = Paragraph(text, style)
                assert size == paragraph.wrap(width, 1000), (name, width, text)
                if ours.delegated:
                    continue
                laid_out += 1
                lines = ["".join(piece[0] for piece in line[0]) for line in ours._lines]
                assert lines == paragraph_lines(paragraph), (name, width, text)
    assert laid_out > 1000  # most texts take the fast path


@pytest.mark.parametrize(
    "source",
    [
        "<i>italic</i> text",
        "a&nbsp;b",
        "<br/>first line empty",
        "Pneumonoultramicroscopicsilicovolcanoconiosis",
    ],
)
def test_text_hands_what_it_does_not_lay_out_to_a_paragraph(source: str) -> None:
    text = Text(source, styles().cell)
    assert text.wrap(40, 1000) == Paragraph(source, styles().cell).wrap(40, 1000)
    assert text.delegated


def test_numbers_and_strings_are_written_as_reportlab_writes_them() -> None:
    rng = random.Random(3)
    values = [
        0,
        1,
        -1,
        0.5,
        -0.5,
        1e-8,
        2e-7,
        7.5,
        8,
        123.45,
        595.2755905511812,
        999999.5,
        1e7,
        *(rng.uniform(-1000, 1000) for _ in range(5000)),
        *(rng.uniform(-2, 2) for _ in range(2000)),
    ]
    assert [fp(v) for v in values] == [fp_str(v) for v in values]
    data = bytes(range(256)) * 2
    assert data.decode("latin-1").translate(_ESCAPES) == escapePDF(data)


def render(story: Callable[[], list[Flowable]], tmp_path: Path, name: str) -> tuple[str, list[Any]]:
    """Every word's box on every page (poppler's text layer) and the pages as greyscale
    images, of a document of `story`."""
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, invariant=1).build(story())
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(buffer.getvalue())
    boxes = subprocess.run(
        [tool("pdftotext"), "-bbox", str(source), "-"], check=True, capture_output=True, timeout=120
    ).stdout.decode("utf-8")
    subprocess.run(
        [tool("pdftoppm"), "-r", "100", "-gray", "-png", str(source), str(tmp_path / name)],
        check=True,
        timeout=120,
    )
    pages = []
    for path in sorted(tmp_path.glob(f"{name}-*.png")):
        with Image.open(path) as image:
            pages.append(image.convert("L"))
    return boxes, pages


def assert_same_pages(ours: tuple[str, list[Any]], theirs: tuple[str, list[Any]]) -> None:
    """The same words in the same places, and the same ink: a pixel may differ where the
    rasteriser rounds a glyph's position differently (a translated origin against the same
    position written directly), not more than one in two thousand."""
    assert ours[0] == theirs[0]
    assert len(ours[1]) == len(theirs[1])
    for page, (a, b) in enumerate(zip(ours[1], theirs[1], strict=True), start=1):
        changed = sum(
            ImageChops.difference(a, b).point(lambda v: 255 if v > 24 else 0).histogram()[255:]
        )
        assert changed <= a.width * a.height / 2000, f"page {page}: {changed} pixels differ"


def table_story(table: type[Table], flowable: Callable[[str, Any], Flowable]) -> list[Flowable]:
    """Long tables of cells (they split over pages) and paragraphs between them."""
    shared = styles()
    rows = [
        [flowable(fallback(source), shared.cell) for source in (sample, "—", "12.5 mm")]
        for sample in SAMPLES * 4
    ]
    story: list[Flowable] = []
    for widths in ([60, 140, 60], [150, 250, 80]):
        grid = table(rows, colWidths=widths, repeatRows=1)
        grid.setStyle(grid_style(rows=len(rows)))
        story += [flowable(fallback(markup("Between tables: 测试 ≥ 3 " * 8)), shared.body), grid]
    return story


def test_grid_of_texts_draws_the_same_page_as_a_table_of_paragraphs(tmp_path: Path) -> None:
    register_fonts()
    ours = render(lambda: table_story(Grid, Text), tmp_path, "ours")
    theirs = render(lambda: table_story(Table, Paragraph), tmp_path, "theirs")
    assert len(ours[1]) > 2  # the tables split across pages
    assert_same_pages(ours, theirs)


def test_cells_are_texts() -> None:
    assert isinstance(cell("<b>26</b> %"), Text)
    assert cell(flowable := Paragraph("x", styles().cell)) is flowable


class _Renderer(Drawing):  # type: ignore[misc]
    """A drawing drawn by reportlab's own renderer."""


def test_timeline_chart_draws_what_reportlabs_renderer_draws(tmp_path: Path) -> None:
    case = demo_case("0011")
    chart = timeline_drawing(
        build_timeline(case, EvaluationView.parse(evaluation_of(case), case)), 480
    )
    for node in chart.getContents():  # every shape as reportlab would have validated it
        for attribute, value in node.__dict__.items():
            assert node._attrMap[attribute].validate(value), (node, attribute, value)
    assert timeline_module._operators(Canvas(io.BytesIO()), chart) is not None  # not the renderer
    plain = _Renderer(chart.width, chart.height)
    plain.contents = list(chart.contents)
    assert_same_pages(
        render(lambda: [chart], tmp_path, "chart"), render(lambda: [plain], tmp_path, "renderer")
    )
