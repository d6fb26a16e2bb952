"""The bundled fonts, and text made safe and drawable in any script.

Every PDF uses only fonts shipped in `crlmboard/resources/fonts/` (TrueType outlines, embedded
as subsets): Noto Sans for Latin, Greek and Cyrillic, Noto Sans Arabic and Noto Sans Hebrew,
Droid Sans Fallback for Chinese, Japanese and Korean, and DejaVu Sans for symbols the others
lack (≥, →, −, √ …).  `markup(text)` turns a user string into Paragraph markup: escaped, in
visual order for right-to-left scripts (Arabic is shaped into its joined forms first), and
split into runs that each name the font that has their glyphs.  `draw_string` and
`string_width` do the same for text drawn directly on a canvas.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from crlmboard.report.text import fp, show

FONT_DIR = Path(__file__).resolve().parent.parent / "resources" / "fonts"

SANS = "CrlmSans"
SANS_BOLD = "CrlmSans-Bold"
SANS_ITALIC = "CrlmSans-Italic"
SANS_BOLD_ITALIC = "CrlmSans-BoldItalic"
ARABIC = "CrlmArabic"
HEBREW = "CrlmHebrew"
CJK = "CrlmCJK"
SYMBOLS = "CrlmSymbols"


@dataclass(frozen=True)
class FontFamily:
    """A registered family: its regular and bold face (italic falls back to these)."""

    name: str
    regular: str
    bold: str
    italic: str | None = None
    bold_italic: str | None = None


FAMILIES: tuple[FontFamily, ...] = (
    FontFamily(
        SANS,
        "NotoSans-Regular.ttf",
        "NotoSans-Bold.ttf",
        "NotoSans-Italic.ttf",
        "NotoSans-BoldItalic.ttf",
    ),
    FontFamily(ARABIC, "NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
    FontFamily(HEBREW, "NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Bold.ttf"),
    FontFamily(CJK, "DroidSansFallback.ttf", "DroidSansFallback.ttf"),
    FontFamily(SYMBOLS, "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
)

_ARABIC_RANGES = (
    (0x0600, 0x06FF),
    (0x0750, 0x077F),
    (0x08A0, 0x08FF),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFF),
)
_HEBREW_RANGES = ((0x0590, 0x05FF), (0xFB1D, 0xFB4F))
_CJK_RANGES = (
    (0x1100, 0x11FF),
    (0x2E80, 0x2FDF),
    (0x3000, 0x303F),
    (0x3040, 0x30FF),
    (0x3100, 0x31FF),
    (0x3200, 0x9FFF),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7FF),
    (0xF900, 0xFAFF),
    (0xFF00, 0xFFEF),
    (0x20000, 0x2FFFF),
)


def _in(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= code <= high for low, high in ranges)


@cache
def register_fonts() -> None:
    """Register every bundled face and family with reportlab (once per process)."""
    for family in FAMILIES:
        faces = {"": family.regular, "-Bold": family.bold}
        if family.italic:
            faces["-Italic"] = family.italic
        if family.bold_italic:
            faces["-BoldItalic"] = family.bold_italic
        for suffix, file in faces.items():
            pdfmetrics.registerFont(TTFont(family.name + suffix, str(FONT_DIR / file)))
        pdfmetrics.registerFontFamily(
            family.name,
            normal=family.name,
            bold=family.name + "-Bold",
            italic=family.name + ("-Italic" if family.italic else ""),
            boldItalic=family.name + ("-BoldItalic" if family.bold_italic else "-Bold"),
        )


@cache
def _glyphs(font_name: str) -> frozenset[int]:
    register_fonts()
    font = pdfmetrics.getFont(font_name)
    return frozenset(font.face.charToGlyph)


@cache  # a pure function of the character: every character of every string asks it
def family_for(char: str) -> str:
    """The family whose font draws `char` (by script first, then by coverage)."""
    code = ord(char)
    if _in(code, _ARABIC_RANGES):
        return ARABIC
    if _in(code, _HEBREW_RANGES):
        return HEBREW
    if _in(code, _CJK_RANGES):
        return CJK
    for family in (SANS, SYMBOLS, CJK):
        if code in _glyphs(family):
            return family
    return SANS


def _is_neutral(char: str) -> bool:
    """Spaces and punctuation join the run around them when that font has them."""
    return unicodedata.category(char)[0] in "ZP" or char in "+-/=()"


def has_rtl(text: str) -> bool:
    return any(_in(ord(c), _ARABIC_RANGES) or _in(ord(c), _HEBREW_RANGES) for c in text)


def visual(text: str) -> str:
    """`text` in the order it is drawn: Arabic shaped into joined forms and right-to-left
    runs reversed (Unicode bidi algorithm); unchanged when it has no right-to-left letter.

    The text layer then holds the presentation forms, which PDF readers and `pdftotext` map
    back to the letters (NFKC) and reorder for copying and search.
    """
    if not has_rtl(text):
        return text
    import arabic_reshaper
    from bidi import get_display

    shaped: str = arabic_reshaper.reshape(text)
    return str(get_display(shaped))


def runs(text: str) -> list[tuple[str, str]]:
    """(family, text) runs of `text` in drawing order (`visual` applied)."""
    return list(_runs(text))


@lru_cache(maxsize=4096)  # the same labels, names and footers come back on every page
def _runs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(_plain_runs(visual(drawable(text))))


def drawable(text: str) -> str:
    """`text` with each character that no shipped font draws (an emoji, say) written as
    its code point, `[U+1F469]`: a name must never lose a character silently on paper.
    Invisible format characters (joiners, variation selectors) stay as they are."""
    if all(_drawn(c) for c in text):
        return text
    return "".join(c if _drawn(c) else f"[U+{ord(c):04X}]" for c in text)


@cache
def _drawn(char: str) -> bool:
    invisible = unicodedata.category(char) in ("Cc", "Cf", "Mn")
    return invisible or ord(char) in _glyphs(family_for(char))


def _plain_runs(text: str) -> list[tuple[str, str]]:
    """Runs by font; a space or punctuation mark between two characters of the same
    non-body font stays in that font (no font switch inside a name)."""
    families = [family_for(c) for c in text]
    for index, char in enumerate(text):
        if not _is_neutral(char):
            continue
        before = next(
            (families[i] for i in range(index - 1, -1, -1) if not _is_neutral(text[i])), None
        )
        after = next(
            (families[i] for i in range(index + 1, len(text)) if not _is_neutral(text[i])), None
        )
        if before is not None and before == after and ord(char) in _glyphs(before):
            families[index] = before
    result: list[tuple[str, str]] = []
    for char, family in zip(text, families, strict=True):
        if result and result[-1][0] == family:
            result[-1] = (family, result[-1][1] + char)
        else:
            result.append((family, char))
    return result


def markup(text: str | None, *, bold: bool = False, newlines: bool = True) -> str:
    """Paragraph markup for a user string: escaped (`<`, `>`, `&`), each script in its font.

    Text in the body font needs no tag; other runs are wrapped in `<font face=…>`, with `<b>`
    inside when `bold` (a face tag does not inherit the bold of a paragraph style).
    Line breaks become `<br/>` when `newlines`.
    """
    if not text:
        return ""
    lines = text.splitlines() if newlines else [" ".join(text.splitlines())]
    out: list[str] = []
    for line in lines:
        parts: list[str] = []
        for family, chunk in runs(line):
            safe = escape(chunk)
            if family == SANS:
                parts.append(safe)
            elif bold:
                parts.append(f'<font face="{family}"><b>{safe}</b></font>')
            else:
                parts.append(f'<font face="{family}">{safe}</font>')
        out.append("".join(parts))
    return "<br/>".join(out)


_TAG = re.compile(r"(<[^>]*>)")


def fallback(markup_text: str, *, bold: bool = False) -> str:
    """App-written markup with every character the body font lacks put in a font that has
    it (≥, →, − …); tags and entities are left alone."""
    return _fallback(markup_text, bold)


@lru_cache(maxsize=8192)  # every table cell comes through here: dates, numbers, labels
def _fallback(markup_text: str, bold: bool) -> str:
    parts = _TAG.split(markup_text)
    body = _glyphs(SANS)
    for index in range(0, len(parts), 2):  # even items are text between tags
        text = parts[index]
        if not text or body.issuperset(map(ord, text)):
            continue
        pieces: list[str] = []
        for family, chunk in _plain_runs(text):
            if family == SANS:
                pieces.append(chunk)
            elif bold:
                pieces.append(f'<font face="{family}"><b>{chunk}</b></font>')
            else:
                pieces.append(f'<font face="{family}">{chunk}</font>')
        parts[index] = "".join(pieces)
    return "".join(parts)


def face(family: str, bold: bool = False) -> str:
    """The registered font name of a family's regular or bold face."""
    return family + "-Bold" if bold else family


def string_width(text: str, size: float, *, bold: bool = False) -> float:
    """Width in points of `text` drawn with `draw_string`."""
    register_fonts()
    return float(sum(_width(chunk, face(family, bold), size) for family, chunk in runs(text)))


@lru_cache(maxsize=4096)
def _width(text: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))


def draw_string(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    bold: bool = False,
    align: str = "left",
) -> float:
    """Draw `text` on a canvas at baseline `y`, each script in its font, in the current fill
    colour; returns its width.

    `align` is `left` (x is the start), `right` (x is the end) or `centre`.
    """
    register_fonts()
    width = string_width(text, size, bold=bold)
    if align == "right":
        x -= width
    elif align == "centre":
        x -= width / 2
    for family, chunk in runs(text):
        name = face(family, bold)
        shown = show(canvas, chunk, name, size)
        if shown is None:  # not an embedded TrueType face: reportlab's own text object
            canvas.setFont(name, size)
            canvas.drawString(x, y, chunk)
        else:
            canvas.addLiteral(f"BT 1 0 0 1 {fp(x)} {fp(y)} Tm {shown} ET")
        x += _width(chunk, name, size)
    return width
