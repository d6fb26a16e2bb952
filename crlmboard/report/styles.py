"""Typography, colours, page sizes and table styles shared by every PDF.

One look for the case summary, the meeting pack and the letter: Noto Sans (see `fonts.py`)
at sizes that stay legible on paper, severity colours that always come with their word,
tables with a shaded header that repeats on each page.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import TableStyle

from crlmboard.report.fonts import SANS, SANS_BOLD, SANS_ITALIC, register_fonts

PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": A4, "letter": letter}
MARGIN_X = 16 * mm
MARGIN_TOP = 16 * mm
MARGIN_BOTTOM = 18 * mm
"""Room for the two-line footer."""

INK = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#5f6368")
RULE = colors.HexColor("#b0b4b8")
HEADER_FILL = colors.HexColor("#e8ecef")
ZEBRA_FILL = colors.HexColor("#f6f7f8")
ACCENT = colors.HexColor("#1f4e79")

SEVERITY_COLOURS = {
    "critical": colors.HexColor("#b3261e"),
    "warning": colors.HexColor("#b45f06"),
    "advice": colors.HexColor("#1f5fa8"),
    "info": colors.HexColor("#5f6368"),
}
SEVERITY_FILLS = {
    "critical": colors.HexColor("#fbe9e7"),
    "warning": colors.HexColor("#fff4e0"),
    "advice": colors.HexColor("#e8f0fb"),
    "info": colors.HexColor("#f1f3f4"),
}
SEVERITY_ORDER = ("critical", "warning", "advice", "info")
SEVERITY_TITLES = {
    "critical": "Critical",
    "warning": "Warning",
    "advice": "Advice",
    "info": "Information",
}

RESPONSE_COLOURS = {
    "CR": colors.HexColor("#1b7f3b"),
    "PR": colors.HexColor("#2e8b57"),
    "SD": colors.HexColor("#8a6d00"),
    "NN": colors.HexColor("#8a6d00"),  # non-CR/non-PD: stationary, like SD
    "PD": colors.HexColor("#b3261e"),
    "NE": colors.HexColor("#5f6368"),
}

REGIMEN_PALETTE = (
    colors.HexColor("#4e79a7"),
    colors.HexColor("#f28e2b"),
    colors.HexColor("#59a14f"),
    colors.HexColor("#b07aa1"),
    colors.HexColor("#9c755f"),
    colors.HexColor("#76b7b2"),
    colors.HexColor("#edc948"),
    colors.HexColor("#e15759"),
)
CEA_COLOUR = colors.HexColor("#8e44ad")
SUM_COLOUR = colors.HexColor("#1f4e79")


@dataclass(frozen=True)
class Styles:
    """The paragraph styles of a document."""

    title: ParagraphStyle
    subtitle: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    muted: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    cell_right: ParagraphStyle
    cell_head: ParagraphStyle
    letter: ParagraphStyle
    letter_cell: ParagraphStyle


@cache
def styles() -> Styles:
    """The shared paragraph styles (fonts registered first)."""
    register_fonts()
    base = ParagraphStyle(
        "body",
        fontName=SANS,
        fontSize=9,
        leading=12,
        textColor=INK,
        alignment=TA_LEFT,
        spaceAfter=3,
    )
    cell = ParagraphStyle("cell", parent=base, fontSize=8, leading=10, spaceAfter=0)
    return Styles(
        title=ParagraphStyle(
            "title",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=15,
            leading=19,
            spaceAfter=2,
            textColor=INK,
        ),
        subtitle=ParagraphStyle(
            "subtitle", parent=base, fontSize=9.5, leading=12.5, textColor=MUTED, spaceAfter=6
        ),
        h2=ParagraphStyle(
            "h2",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=11.5,
            leading=14,
            spaceBefore=9,
            spaceAfter=4,
            textColor=ACCENT,
            keepWithNext=True,
        ),
        h3=ParagraphStyle(
            "h3",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=9.5,
            leading=12,
            spaceBefore=5,
            spaceAfter=2,
            keepWithNext=True,
        ),
        body=base,
        small=ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5, spaceAfter=2),
        muted=ParagraphStyle(
            "muted", parent=base, fontName=SANS_ITALIC, fontSize=8, leading=10, textColor=MUTED
        ),
        cell=cell,
        cell_bold=ParagraphStyle("cell_bold", parent=cell, fontName=SANS_BOLD),
        cell_right=ParagraphStyle("cell_right", parent=cell, alignment=TA_RIGHT),
        cell_head=ParagraphStyle(
            "cell_head", parent=cell, fontName=SANS_BOLD, fontSize=7.5, leading=9.5, textColor=INK
        ),
        letter=ParagraphStyle("letter", parent=base, fontSize=10, leading=14, spaceAfter=6),
        letter_cell=ParagraphStyle("letter_cell", parent=cell, fontSize=9.5, leading=12),
    )


def table_style(commands: list[tuple[object, ...]]) -> TableStyle:
    """A TableStyle in the bundled font (reportlab would set Helvetica for the table)."""
    return TableStyle(
        [("FONTNAME", (0, 0), (-1, -1), SANS), ("FONTSIZE", (0, 0), (-1, -1), 8), *commands]
    )


def grid_style(
    *, header_rows: int = 1, zebra: bool = True, first_column_bold: bool = False, rows: int = 0
) -> TableStyle:
    """A data table: shaded header, hairlines between rows, optional zebra stripes."""
    commands: list[tuple[object, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("BOX", (0, 0), (-1, -1), 0.5, RULE),
    ]
    if header_rows:
        commands += [
            ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEADER_FILL),
            ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.75, MUTED),
        ]
    if zebra:
        for row in range(header_rows + 1, rows, 2):
            commands.append(("BACKGROUND", (0, row), (-1, row), ZEBRA_FILL))
    if first_column_bold:
        commands.append(("FONTNAME", (0, header_rows), (0, -1), SANS_BOLD))
    return table_style(commands)


def key_value_style() -> TableStyle:
    """Label/value pairs: labels muted, no header, light rules."""
    return table_style(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ]
    )
